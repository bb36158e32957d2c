package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import uk.gov.gds.metrics.internal.Cells;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * One gauge series, from {@link Gauge#labelValues}. Thread-safe; keep it to skip the lookup.
 *
 * <p>{@code set}, {@code inc}, {@code dec} and {@code get} make no native call: they work on
 * the core's own cell for the value (see {@link Cells}).
 */
public final class GaugeDataPoint {
    private final long series;
    /** The value's cell; null when the core must see every write itself. */
    private final ByteBuffer value;

    GaugeDataPoint(long series) {
        this.series = series;
        Handles.freeSeriesWith(this, Native.GAUGE, series);
        this.value = Native.gaugeCell(series);
    }

    /** Sets the value. */
    public void set(double v) {
        if (value != null) {
            Cells.setDouble(value, 0, v);
        } else {
            Native.gaugeSet(series, v);
        }
        Reference.reachabilityFence(this);
    }

    /** Adds one. */
    public void inc() {
        inc(1.0);
    }

    /** Adds {@code delta}. */
    public void inc(double delta) {
        if (value != null) {
            Cells.addDouble(value, 0, delta);
        } else {
            Native.gaugeAdd(series, delta);
        }
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
            return value != null ? Cells.getDouble(value, 0) : Native.gaugeGet(series);
        } finally {
            Reference.reachabilityFence(this);
        }
    }
}
