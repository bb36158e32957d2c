package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import uk.gov.gds.metrics.internal.Native;

/**
 * A counter family: values that only go up (requests served, bytes sent, errors).
 *
 * <pre>{@code
 * Counter jobs = Counter.builder().name("jobs_total").help("Jobs done.").labelNames("queue").register();
 * CounterDataPoint email = jobs.labelValues("email"); // keep it for hot loops
 * email.inc();
 * }</pre>
 *
 * <p>Without labels, {@link #inc()} goes straight to the one series. Exposed as
 * {@code <name>_total}; a {@code _total} given in the name is dropped first.
 */
public final class Counter extends MetricFamily<CounterDataPoint> {
    private Counter(Builder builder) {
        super(builder, Native.COUNTER, null);
    }

    /** A builder for a counter. */
    public static Builder builder() {
        return new Builder();
    }

    /** Adds one (families without labels only). */
    public void inc() {
        solo().inc();
    }

    /** Adds {@code amount}, which must not be negative (families without labels only). */
    public void inc(long amount) {
        solo().inc(amount);
    }

    /** Adds {@code amount}, which must be finite and not negative (families without labels only). */
    public void inc(double amount) {
        solo().inc(amount);
    }

    /** Adds {@code amount} and keeps the exemplar (families without labels only; see {@link CounterDataPoint#incWithExemplar}). */
    public void incWithExemplar(double amount, String... exemplarLabels) {
        solo().incWithExemplar(amount, exemplarLabels);
    }

    /**
     * Adds {@code amount} to the series for {@code labelValues}, checking everything first:
     * a wrong number of values, or an amount that is negative or not finite, throws
     * {@link IllegalArgumentException} and creates no series (whereas
     * {@code labelValues(..).inc(-1)} has created the series at zero before the increment
     * is refused).
     */
    public void incLabelled(double amount, String... labelValues) {
        checkOpen();
        try {
            Native.familyCounterInc(family(), labelValues, amount);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The current total (families without labels only). */
    public double get() {
        return solo().get();
    }

    @Override
    CounterDataPoint newSeries(long handle) {
        return new CounterDataPoint(handle);
    }

    /** Builds and registers a {@link Counter}. */
    public static final class Builder extends MetricBuilder<Builder, Counter> {
        private Builder() {}

        @Override
        Counter build() {
            return new Counter(this);
        }
    }
}
