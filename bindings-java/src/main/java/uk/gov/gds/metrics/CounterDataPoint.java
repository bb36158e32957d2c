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

    /** Adds {@code amount}, which must not be negative. */
    public void inc(long amount) {
        if (amount < 0) {
            throw rejected(amount);
        }
        Native.counterIncLong(series, amount);
        Reference.reachabilityFence(this);
    }

    /** Adds {@code amount}, which must be finite and not negative. */
    public void inc(double amount) {
        if (!Native.counterIncDouble(series, amount)) {
            throw rejected(amount);
        }
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

    private IllegalArgumentException rejected(double amount) {
        try {
            return new IllegalArgumentException(Native.counterIncError(series, amount));
        } finally {
            Reference.reachabilityFence(this);
        }
    }
}
