package uk.gov.gds.metrics;

import java.util.concurrent.Callable;
import uk.gov.gds.metrics.internal.Native;

/**
 * A summary family: the count and sum of observations, without quantiles (quantiles cannot
 * be aggregated across instances; use a {@link Histogram} when you need them).
 */
public final class Summary extends MetricFamily<DistributionDataPoint> {
    private Summary(Builder builder) {
        super(builder, Native.SUMMARY, null);
    }

    /** A builder for a summary. */
    public static Builder builder() {
        return new Builder();
    }

    /** Records one observation (families without labels only). */
    public void observe(double value) {
        solo().observe(value);
    }

    /** Starts timing; closing the timer observes the elapsed seconds (families without labels only). */
    public Timer startTimer() {
        return solo().startTimer();
    }

    /** Runs {@code task} and observes how long it took in seconds (families without labels only). */
    public void time(Runnable task) {
        solo().time(task);
    }

    /** Runs {@code task}, observes how long it took in seconds and returns its result. */
    public <T> T timeChecked(Callable<T> task) throws Exception {
        return solo().timeChecked(task);
    }

    /** The number of observations (families without labels only). */
    public long getCount() {
        return solo().getCount();
    }

    /** The sum of observations (families without labels only). */
    public double getSum() {
        return solo().getSum();
    }

    @Override
    DistributionDataPoint newSeries(long handle) {
        return new DistributionDataPoint(Native.SUMMARY, handle);
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
