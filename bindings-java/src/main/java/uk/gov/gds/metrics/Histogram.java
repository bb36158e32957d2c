package uk.gov.gds.metrics;

import java.util.concurrent.TimeUnit;
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
 *
 * <p>Native (sparse, exponential) buckets, which Prometheus 3 scrapes in protobuf, come
 * with {@link Builder#nativeOnly()} or any {@code native*} setting, as in client_java 1.x;
 * classic buckets stay beside them only when {@link Builder#classicUpperBounds} gives them:
 *
 * <pre>{@code
 * Histogram latency = Histogram.builder()
 *     .name("job_duration_seconds").help("Time to run a job.")
 *     .nativeOnly()                      // or keep classic buckets beside them
 *     .nativeInitialSchema(5).nativeMaxNumberOfBuckets(100)
 *     .register();
 * latency.observeWithExemplar(0.25, "trace_id", traceId, "span_id", spanId);
 * }</pre>
 */
public final class Histogram extends DistributionFamily {
    private Histogram(Builder builder) {
        super(builder, Native.HISTOGRAM, builder.classicBuckets(), builder.nativeSettings());
    }

    /** A builder for a histogram. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds and registers a {@link Histogram}. */
    public static final class Builder extends MetricBuilder<Builder, Histogram> {
        private double[] buckets;
        private boolean nativeBuckets;
        private boolean nativeOnly;
        // The native settings given; null keeps the core's default (client_java's).
        private Integer nativeSchema;
        private Double nativeZeroThreshold;
        private Integer nativeMaxBuckets;
        private Double nativeResetSeconds;

        private Builder() {}

        /** Native buckets only: the text formats show just {@code +Inf}, count and sum. */
        public Builder nativeOnly() {
            this.nativeBuckets = true;
            this.nativeOnly = true;
            return this;
        }

        /** Classic buckets only (the default unless a {@code native*} setting is given). */
        public Builder classicOnly() {
            this.nativeBuckets = false;
            this.nativeOnly = false;
            return this;
        }

        /** The initial native schema, -4 to 8 (default 5, about 2% relative error); enables native buckets. */
        public Builder nativeInitialSchema(int schema) {
            this.nativeBuckets = true;
            this.nativeSchema = schema;
            return this;
        }

        /**
         * Observations this close to zero go to the zero bucket (default 2^-128); enables
         * native buckets.
         */
        public Builder nativeMaxZeroThreshold(double threshold) {
            this.nativeBuckets = true;
            this.nativeZeroThreshold = threshold;
            return this;
        }

        /**
         * The most populated native buckets (default 160; 0: no limit); past it the
         * resolution halves. Enables native buckets.
         */
        public Builder nativeMaxNumberOfBuckets(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("the native bucket limit must not be negative, got " + max);
            }
            this.nativeBuckets = true;
            this.nativeMaxBuckets = max;
            return this;
        }

        /**
         * Reset the histogram instead of halving its resolution when the bucket limit is hit
         * and this long has passed since the last reset (never unless set); a duration of
         * zero or less is refused by {@code register}. Enables native buckets.
         */
        public Builder nativeResetDuration(long duration, TimeUnit unit) {
            this.nativeBuckets = true;
            this.nativeResetSeconds = unit.toNanos(duration) / 1e9;
            return this;
        }

        /**
         * The classic bounds to register. A native histogram has classic buckets only when
         * {@link #classicUpperBounds} gives them (the same rule in every gds-metrics language).
         */
        private double[] classicBuckets() {
            if (nativeOnly && buckets != null) {
                throw new IllegalArgumentException("a nativeOnly() histogram takes no classic bucket bounds");
            }
            return buckets;
        }

        /**
         * The settings as {@code Native.registerFamily} takes them: a {given, value} pair each,
         * so the core applies its own defaults and checks.
         */
        private double[] nativeSettings() {
            if (!nativeBuckets) {
                return null;
            }
            Number[] settings = {nativeSchema, nativeZeroThreshold, nativeMaxBuckets, nativeResetSeconds};
            double[] pairs = new double[2 * settings.length];
            for (int i = 0; i < settings.length; i++) {
                pairs[2 * i] = settings[i] == null ? 0 : 1;
                pairs[2 * i + 1] = settings[i] == null ? 0 : settings[i].doubleValue();
            }
            return pairs;
        }

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
