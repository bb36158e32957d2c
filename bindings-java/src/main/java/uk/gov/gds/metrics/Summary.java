package uk.gov.gds.metrics;

import uk.gov.gds.metrics.internal.Native;

/**
 * A summary family: the count and sum of observations, without quantiles (quantiles cannot
 * be aggregated across instances; use a {@link Histogram} when you need them).
 */
public final class Summary extends DistributionFamily {
    private Summary(Builder builder) {
        super(builder, Native.SUMMARY, null, null);
    }

    /** A builder for a summary. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds and registers a {@link Summary}. */
    public static final class Builder extends MetricBuilder<Builder, Summary> {
        private Builder() {}

        @Override
        Summary build() {
            return new Summary(this);
        }
    }
}
