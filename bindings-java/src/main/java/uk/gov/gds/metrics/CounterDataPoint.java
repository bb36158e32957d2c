package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/** One counter series, from {@link Counter#labelValues}. Thread-safe; keep it to skip the lookup. */
public final class CounterDataPoint {
    private final long series;

    CounterDataPoint(long series) {
        this.series = series;
        Handles.freeSeriesWith(this, Native.COUNTER, series);
    }

    /** Adds one. */
    public void inc() {
        Native.counterInc(series);
        Reference.reachabilityFence(this);
    }

    /** Adds {@code amount}; a negative one throws {@link IllegalArgumentException} and adds nothing. */
    public void inc(long amount) {
        Native.counterIncLong(series, amount);
        Reference.reachabilityFence(this);
    }

    /**
     * Adds {@code amount}; one negative or not finite throws {@link IllegalArgumentException}
     * and adds nothing.
     */
    public void inc(double amount) {
        Native.counterIncDouble(series, amount);
        Reference.reachabilityFence(this);
    }

    /**
     * Adds {@code amount} and keeps {@code exemplarLabels} ({@code "trace_id", id, ...}:
     * names and values in turn) as the series' exemplar, shown in OpenMetrics and protobuf.
     * A bad amount, or labels over 128 characters in all, throw
     * {@link IllegalArgumentException} and nothing is added.
     */
    public void incWithExemplar(double amount, String... exemplarLabels) {
        Native.counterIncWithExemplar(series, amount, exemplarLabels);
        Reference.reachabilityFence(this);
    }

    /** The current total. */
    public double get() {
        try {
            return Native.counterGet(series);
        } finally {
            Reference.reachabilityFence(this);
        }
    }
}
