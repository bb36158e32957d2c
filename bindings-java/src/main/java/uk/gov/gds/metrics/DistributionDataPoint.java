package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import uk.gov.gds.metrics.internal.Cells;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * One histogram or summary series, from {@link Histogram#labelValues} or
 * {@link Summary#labelValues}. Thread-safe; keep it to skip the lookup.
 */
public final class DistributionDataPoint {
    /** Up to this many bounds a linear scan finds the bucket faster than a binary search. */
    private static final int LINEAR_SCAN_BOUNDS = 16;

    private final int kind;
    private final long series;
    /** The core's cells for the series; null when it exports none (native buckets). */
    private final Cells.Distribution cells;
    /** The finite classic bounds, ascending, as the core counts by (none for a summary). */
    private final double[] bounds;

    DistributionDataPoint(int kind, long series) {
        this.kind = kind;
        this.series = series;
        Handles.freeSeriesWith(this, kind, series);
        ByteBuffer[] buffers = Native.distributionCells(kind, series);
        this.cells = buffers == null ? null : new Cells.Distribution(buffers);
        this.bounds = kind == Native.HISTOGRAM ? Native.histogramBounds(series) : new double[0];
    }

    /**
     * Records one observation. A classic histogram or a summary makes no native call: the
     * observation goes into the core's own cells (see {@link Cells.Distribution}). NaN,
     * whose bucket is the core's to say, and native histograms call the core.
     */
    public void observe(double value) {
        Cells.Distribution c = cells;
        if (c != null && value == value) {
            c.observe(bucket(value), value);
        } else {
            observeInCore(value);
        }
        Reference.reachabilityFence(this);
    }

    /** The classic bucket of {@code value} (not NaN): the first bound not below it, {@code +Inf} last. */
    int bucket(double value) {
        double[] b = bounds;
        if (b.length <= LINEAR_SCAN_BOUNDS) {
            int i = 0;
            while (i < b.length && value > b[i]) {
                i++;
            }
            return i;
        }
        int low = 0;
        int high = b.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (b[mid] < value) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** Records one observation through the core's own observe, and for what it does not observe in place. */
    void observeInCore(double value) {
        if (kind == Native.HISTOGRAM) {
            Native.histogramObserve(series, value);
        } else {
            Native.summaryObserve(series, value);
        }
        Reference.reachabilityFence(this);
    }

    /** Whether observations go straight into the core's cells. */
    boolean observesInPlace() {
        return cells != null;
    }

    /**
     * Records one observation and keeps {@code exemplarLabels} ({@code "trace_id", id,
     * "span_id", id}: names and values in turn) as the exemplar of its bucket, shown in
     * OpenMetrics and protobuf. Labels over 128 characters in all, or a summary, throw
     * {@link IllegalArgumentException} and nothing is recorded.
     */
    public void observeWithExemplar(double value, String... exemplarLabels) {
        if (kind != Native.HISTOGRAM) {
            throw new IllegalArgumentException("summaries keep no exemplars; attach them to a histogram or a counter");
        }
        Native.histogramObserveWithExemplar(series, value, exemplarLabels);
        Reference.reachabilityFence(this);
    }

    /** Starts timing; closing the timer observes the elapsed seconds. */
    public Timer startTimer() {
        return new Timer(this);
    }

    /** Runs {@code task} and observes how long it took in seconds, even if it throws. */
    public void time(Runnable task) {
        try (Timer ignored = startTimer()) {
            task.run();
        }
    }

    /** Runs {@code task}, observes how long it took in seconds (even if it throws) and returns its result. */
    public <T> T timeChecked(Callable<T> task) throws Exception {
        try (Timer ignored = startTimer()) {
            return task.call();
        }
    }

    /** The number of observations. */
    public long getCount() {
        try {
            return Native.distributionCount(kind, series);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The sum of observations. */
    public double getSum() {
        try {
            return Native.distributionSum(kind, series);
        } finally {
            Reference.reachabilityFence(this);
        }
    }
}
