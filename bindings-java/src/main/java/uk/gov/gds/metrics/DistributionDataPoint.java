package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import java.util.concurrent.Callable;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * One histogram or summary series, from {@link Histogram#labelValues} or
 * {@link Summary#labelValues}. Thread-safe; keep it to skip the lookup.
 */
public final class DistributionDataPoint {
    private final int kind;
    private final long series;

    DistributionDataPoint(int kind, long series) {
        this.kind = kind;
        this.series = series;
        Handles.freeSeriesWith(this, kind, series);
    }

    /** Records one observation. */
    public void observe(double value) {
        if (kind == Native.HISTOGRAM) {
            Native.histogramObserve(series, value);
        } else {
            Native.summaryObserve(series, value);
        }
        Reference.reachabilityFence(this);
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
