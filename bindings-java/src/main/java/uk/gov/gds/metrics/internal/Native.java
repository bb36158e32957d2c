package uk.gov.gds.metrics.internal;

/**
 * The native methods of the gds-metrics core, implemented by the jni crate in
 * {@code bindings-java/native}. Not for application code: use the classes of
 * {@code uk.gov.gds.metrics}, which own every handle passed here.
 *
 * <p>Handles are opaque pointers. Callers pass only live handles of the right kind; the
 * hot-path methods ({@code counterInc}, {@code gaugeSet}, {@code histogramObserve}, ...)
 * take primitives only and do no checking at all, which is what makes them cheap.
 */
public final class Native {
    /** Metric kinds, numbered as in {@code metrics.rs}; {@link #kindNames()} gives the native numbering. */
    public static final int COUNTER = 0;
    public static final int GAUGE = 1;
    public static final int HISTOGRAM = 2;
    public static final int SUMMARY = 3;
    public static final int INFO = 4;
    /** Only for families handed over at scrape time ({@code ScrapeTimeFamilies}). */
    public static final int STATE_SET = 5;

    /** Why the library did not load; null once it has. */
    private static final UnsatisfiedLinkError LOAD_FAILURE = NativeLibrary.tryLoad();

    private Native() {}

    /**
     * Throws, on every call, why the native library could not be loaded (no library for
     * this platform in the jar, say), so each use fails with the same message that says what
     * to do. Every entry point calls it before its first native method.
     */
    public static void ensureLoaded() {
        if (LOAD_FAILURE != null) {
            UnsatisfiedLinkError failure = new UnsatisfiedLinkError(LOAD_FAILURE.getMessage());
            failure.initCause(LOAD_FAILURE);
            throw failure;
        }
    }

    public static native long liveHandles();
    /** Each metric kind's name ({@code "COUNTER"}, ...) at its native number. */
    public static native String[] kindNames();
    /** The Java exception class the core's error kind ({@code "InvalidArgument"}, ...) is thrown as. */
    public static native String exceptionClassOf(String errorKind);

    // Registry
    public static native long registryNew();
    public static native void registryFree(long registry);
    /** The exposition's bytes in the format numbered as {@link #formatNames()} says. */
    public static native byte[] registryEncode(long registry, int format);
    /** Each format's name ({@code "TEXT"}, ...) at its native number. */
    public static native String[] formatNames();
    public static native boolean registryUnregister(long registry, String name);
    public static native void registrySetSeriesLimit(long registry, long limit);

    public static native void registryUseLegacyNames(long registry);

    // Families
    /**
     * {@code nativeSettings}: null for classic buckets only, else a {given (1 or 0), value}
     * pair each for the schema, zero threshold, bucket limit and reset seconds; the core
     * applies its defaults to the settings not given and checks the rest.
     */
    public static native long registerFamily(
            long registry, int kind, String name, String help, String unit, String[] labelNames, double[] buckets,
            boolean hasSeriesLimit, long seriesLimit, double[] nativeSettings);
    public static native void familyFree(long family);
    public static native boolean familyUnregister(long registry, long family);
    /** The series handle for {@code values}; {@code kept[0]} is set to whether the series is
     * theirs (false: the full family refused them into its overflow series). */
    public static native long familyLabels(long family, String[] values, boolean[] kept);
    public static native boolean familyRemove(long family, String[] values);
    public static native void familyClear(long family);
    public static native void seriesFree(int kind, long series);
    public static native void familyCounterInc(long family, String[] values, double amount);

    // Series: hot paths
    public static native void counterInc(long series);
    public static native void counterIncLong(long series, long amount);
    public static native void counterIncDouble(long series, double amount);
    public static native double counterGet(long series);
    public static native void gaugeSet(long series, double value);
    public static native void gaugeAdd(long series, double delta);
    public static native void gaugeSetToCurrentTime(long series);
    public static native double gaugeGet(long series);
    public static native void histogramObserve(long series, double value);
    public static native void histogramObserveWithExemplar(long series, double value, String[] exemplarLabels);
    public static native void counterIncWithExemplar(long series, double amount, String[] exemplarLabels);
    public static native void summaryObserve(long series, double value);

    // Series: direct buffers over the core's value cells (see Cells); null where the series exports none
    public static native java.nio.ByteBuffer counterBase(long series);
    public static native java.nio.ByteBuffer counterStripes(long series, int[] countAndStride);
    public static native java.nio.ByteBuffer gaugeCell(long series);
    public static native java.nio.ByteBuffer[] distributionCells(int kind, long series);
    public static native double[] histogramBounds(long series);

    // Endpoint and request metrics
    public static native long endpointNew(
            long registry, String applicationId, int authEnabled, String metricsPath, long instanceIndex,
            String[] routes, int traceExemplars, int requestNativeHistogram);
    public static native void endpointFree(long endpoint);
    public static native String endpointPath(long endpoint);
    public static native boolean endpointAuthEnabled(long endpoint);
    public static native boolean endpointTraceExemplars(long endpoint);
    public static native boolean endpointRequestNativeHistogram(long endpoint);
    public static native String[] endpointWarnings(long endpoint);
    public static native boolean endpointMatches(long endpoint, String mount, String target);
    public static native Object endpointHandle(
            long endpoint, String method, String mount, String target, String[] headers);
    public static native void recordRequest(long endpoint, String method, String host, String rawPath,
            boolean hasRouter, String route, int status, double seconds,
            String exceptionClass, String exceptionAncestor, boolean escaped, String traceparent);

    // Families computed at scrape time outside the core (Dropwizard's metrics)
    public static native long foreignNew(long registry);
    public static native void foreignFree(long foreign);
    public static native void foreignSet(long foreign, int[] ints, String[] strings, double[] doubles);

    public static native long distributionCount(int kind, long series);
    public static native double distributionSum(int kind, long series);
}
