package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/** One gauge series, from {@link Gauge#labelValues}. Thread-safe; keep it to skip the lookup. */
public final class GaugeDataPoint {
    private final long series;

    GaugeDataPoint(long series) {
        this.series = series;
        Handles.freeSeriesWith(this, Native.GAUGE, series);
    }

    /** Sets the value. */
    public void set(double value) {
        Native.gaugeSet(series, value);
        Reference.reachabilityFence(this);
    }

    /** Adds one. */
    public void inc() {
        inc(1.0);
    }

    /** Adds {@code delta}. */
    public void inc(double delta) {
        Native.gaugeAdd(series, delta);
        Reference.reachabilityFence(this);
    }

    /** Subtracts one. */
    public void dec() {
        inc(-1.0);
    }

    /** Subtracts {@code delta}. */
    public void dec(double delta) {
        inc(-delta);
    }

    /** Sets the value to the current Unix time in seconds. */
    public void setToCurrentTime() {
        Native.gaugeSetToCurrentTime(series);
        Reference.reachabilityFence(this);
    }

    /** The current value. */
    public double get() {
        try {
            return Native.gaugeGet(series);
        } finally {
            Reference.reachabilityFence(this);
        }
    }
}
