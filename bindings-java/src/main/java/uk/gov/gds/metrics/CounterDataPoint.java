package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import uk.gov.gds.metrics.internal.Cells;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * One counter series, from {@link Counter#labelValues}. Thread-safe; keep it to skip the lookup.
 *
 * <p>Whole increments make no native call: they add to the core's own cells for the series
 * (see {@link Cells}), first by compare-and-swap on one word and, once two threads collide
 * on it, each on a stripe of its own, as the core's own increments do.
 */
public final class CounterDataPoint {
    private final long series;
    private final ByteBuffer base;
    /**
     * What the base held after this object's last increment: the expected value of the next
     * compare-and-swap, so an uncontended increment is one access. A racy hint only; the
     * compare-and-swap checks it.
     */
    private long guess;
    /** Set on the first contended increment; from then on every increment goes to a stripe. */
    private volatile Cells.Stripes stripes;

    CounterDataPoint(long series) {
        this.series = series;
        Handles.freeSeriesWith(this, Native.COUNTER, series);
        this.base = Native.counterBase(series);
    }

    /** Adds one. */
    public void inc() {
        add(1L);
    }

    /** Adds {@code amount}; a negative one throws {@link IllegalArgumentException} and adds nothing. */
    public void inc(long amount) {
        if (amount < 0) {
            // The core refuses it with its own message.
            Native.counterIncLong(series, amount);
            Reference.reachabilityFence(this);
            return;
        }
        add(amount);
    }

    private void add(long n) {
        Cells.Stripes s = stripes;
        if (s != null) {
            s.add(n);
        } else {
            addToBase(n);
        }
        Reference.reachabilityFence(this);
    }

    /** The core's rule: one compare-and-swap from the base's current value, the stripes if that fails. */
    private void addToBase(long n) {
        long expected = guess;
        long seen = Cells.compareAndExchange(base, 0, expected, expected + n);
        if (seen != expected) {
            // Someone else wrote since (another thread, the core): now try from what is there.
            expected = seen;
            seen = Cells.compareAndExchange(base, 0, expected, expected + n);
            if (seen != expected) {
                contended().add(n);
                return;
            }
        }
        guess = expected + n;
    }

    private Cells.Stripes contended() {
        Cells.Stripes s = new Cells.Stripes(series);
        stripes = s;
        return s;
    }

    /** The stripes, made now if need be, for tests that reach each one. */
    Cells.Stripes stripesForTest() {
        Cells.Stripes s = stripes;
        return s != null ? s : contended();
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
