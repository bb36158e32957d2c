package uk.gov.gds.metrics;

import uk.gov.gds.metrics.internal.Native;

/**
 * A histogram family: observations counted into buckets (request durations, sizes).
 *
 * <pre>{@code
 * Histogram latency = Histogram.builder()
 *     .name("job_duration_seconds").help("Time to run a job.")
 *     .classicUpperBounds(0.1, 0.5, 1, 5)
 *     .register();
 * try (Timer t = latency.startTimer()) {
 *     runJob();
 * }
 * }</pre>
 *
 * <p>Without bucket bounds the buckets are .005 .01 .025 .05 .075 .1 .25 .5 .75 1 2.5 5 7.5 10.
 * A scrape always sees a consistent histogram: {@code +Inf} equals {@code _count}.
 */
public final class Histogram extends DistributionFamily {
    private Histogram(Builder builder) {
        super(builder, Native.HISTOGRAM, builder.buckets);
    }

    /** A builder for a histogram. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds and registers a {@link Histogram}. */
    public static final class Builder extends MetricBuilder<Builder, Histogram> {
        private double[] buckets;

        private Builder() {}

        /** The finite bucket upper bounds, strictly increasing ({@code +Inf} is added for you). */
        public Builder classicUpperBounds(double... bounds) {
            if (bounds == null) {
                throw new IllegalArgumentException("bucket bounds must not be null");
            }
            this.buckets = bounds.clone();
            return this;
        }

        /** Same as {@link #classicUpperBounds}. */
        public Builder buckets(double... bounds) {
            return classicUpperBounds(bounds);
        }

        @Override
        Histogram build() {
            return new Histogram(this);
        }
    }
}
