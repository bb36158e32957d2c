package uk.gov.gds.metrics;

import uk.gov.gds.metrics.internal.Native;

/**
 * A gauge family: values that go up and down (queue length, connections, temperature).
 *
 * <pre>{@code
 * Gauge inFlight = Gauge.builder().name("jobs_in_flight").help("Jobs being processed.").register();
 * inFlight.inc();
 * inFlight.dec();
 * }</pre>
 */
public final class Gauge extends MetricFamily<GaugeDataPoint> {
    private Gauge(Builder builder) {
        super(builder, Native.GAUGE, null);
    }

    /** A builder for a gauge. */
    public static Builder builder() {
        return new Builder();
    }

    /** Sets the value (families without labels only). */
    public void set(double value) {
        solo().set(value);
    }

    /** Adds one (families without labels only). */
    public void inc() {
        solo().inc();
    }

    /** Adds {@code delta} (families without labels only). */
    public void inc(double delta) {
        solo().inc(delta);
    }

    /** Subtracts one (families without labels only). */
    public void dec() {
        solo().dec();
    }

    /** Subtracts {@code delta} (families without labels only). */
    public void dec(double delta) {
        solo().dec(delta);
    }

    /** Sets the value to the current Unix time in seconds (families without labels only). */
    public void setToCurrentTime() {
        solo().setToCurrentTime();
    }

    /** The current value (families without labels only). */
    public double get() {
        return solo().get();
    }

    @Override
    GaugeDataPoint newSeries(long handle) {
        return new GaugeDataPoint(handle);
    }

    /** Builds and registers a {@link Gauge}. */
    public static final class Builder extends MetricBuilder<Builder, Gauge> {
        private Builder() {}

        @Override
        Gauge build() {
            return new Gauge(this);
        }
    }
}
