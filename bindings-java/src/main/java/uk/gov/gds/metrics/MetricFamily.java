package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * What every metric family shares: registration, the series for each set of label values,
 * and closing.
 *
 * <p>Series objects are cached here, keyed by their label values (except label sets a full
 * family refuses), so {@code labelValues(..)} makes one native call for a new series and
 * none after (a map lookup on a view of the caller's array, no copy); callers on hot paths
 * keep the returned series to skip even that.
 * A series object keeps its native handle, and so the core's cells it updates, alive for
 * as long as it is reachable, also after {@code remove} or {@code clear}.
 *
 * @param <S> the series type ({@link CounterDataPoint}, {@link GaugeDataPoint}, ...)
 */
public abstract class MetricFamily<S> implements AutoCloseable {
    private final Registry registry;
    private final String name;
    private final long family;
    private final int kind;
    private final ConcurrentHashMap<List<String>, S> series = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The one series of a family without labels; null for labelled families. */
    private final S solo;

    MetricFamily(MetricBuilder<?, ?> builder, int kind, double[] buckets) {
        this(builder, kind, buckets, null);
    }

    /** {@code nativeSettings}: see {@code Native.registerFamily}; null for classic buckets only. */
    MetricFamily(MetricBuilder<?, ?> builder, int kind, double[] buckets, double[] nativeSettings) {
        if (builder.registry == null) {
            throw new IllegalArgumentException("registry must not be null");
        }
        this.registry = builder.registry;
        this.name = builder.name;
        this.kind = kind;
        this.family = Native.registerFamily(registry.handle(), kind, builder.name, builder.help, builder.unit,
                builder.labelNames, buckets, builder.seriesLimit != null,
                builder.seriesLimit == null ? 0 : builder.seriesLimit, nativeSettings);
        registry.keepAlive();
        Handles.freeFamilyWith(this, family);
        this.solo = builder.labelNames.length == 0 ? newSeries(nativeSeries(new String[0], new boolean[1])) : null;
    }

    /** Wraps a new series handle; the series object owns it. */
    abstract S newSeries(long handle);

    /** The name given to the builder. */
    public String getName() {
        return name;
    }

    /**
     * The series for these label values (in label-name order), created at zero if new. A
     * wrong number of values, or a null value, throws {@link IllegalArgumentException}.
     */
    public S labelValues(String... values) {
        checkOpen();
        if (values != null) {
            // A view of the caller's array is enough to look up; only a new entry needs a copy.
            S existing = series.get(Arrays.asList(values));
            if (existing != null) {
                return existing;
            }
        }
        List<String> key = key(values);
        boolean[] kept = new boolean[1];
        S created = newSeries(nativeSeries(key.toArray(new String[0]), kept));
        if (!kept[0] || created == null) {
            // Refused by the full family: never cached, so the cache stays within the series
            // limit and the core counts each later use of these values as a refusal too.
            // (A family whose series have no object of their own, as an info's, caches none.)
            return created;
        }
        S raced = series.putIfAbsent(key, created);
        return raced != null ? raced : created;
    }

    /** Stops exposing the series for these label values; returns whether it existed. */
    public boolean remove(String... values) {
        checkOpen();
        List<String> key = key(values);
        series.remove(key);
        try {
            return Native.familyRemove(family, key.toArray(new String[0]));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Stops exposing every labelled series. */
    public void clear() {
        checkOpen();
        series.clear();
        try {
            Native.familyClear(family);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Removes the family from its registry; afterwards every method of this object throws
     * {@link IllegalStateException}. Closing again does nothing. Series objects obtained
     * earlier keep working but are no longer exposed.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                Native.familyUnregister(registry.handle(), family);
            } finally {
                registry.keepAlive();
                Reference.reachabilityFence(this);
            }
        }
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed.get();
    }

    /** The series of a family without labels (the fast path of {@code inc()}, {@code observe()}, ...). */
    final S solo() {
        S s = solo;
        if (s == null || closed.getPlain()) {
            return soloFailure();
        }
        return s;
    }

    private S soloFailure() {
        checkOpen();
        // A labelled family: let the core say which labels are missing.
        return newSeries(nativeSeries(new String[0], new boolean[1]));
    }

    final void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("metric `" + name + "` is closed; register it again to use it");
        }
    }

    /** The native family handle, for the subclasses' family-level calls; keep {@code this} reachable. */
    final long family() {
        return family;
    }

    private long nativeSeries(String[] values, boolean[] kept) {
        try {
            return Native.familyLabels(family, values, kept);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private static List<String> key(String[] values) {
        if (values == null) {
            throw new IllegalArgumentException("label values must not be null");
        }
        for (String v : values) {
            if (v == null) {
                throw new IllegalArgumentException("label values must not be null");
            }
        }
        return List.copyOf(Arrays.asList(values));
    }

    final int kind() {
        return kind;
    }
}
