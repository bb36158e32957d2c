package uk.gov.gds.metrics;

import java.util.concurrent.Callable;

/**
 * What histograms and summaries share: observing values, timing code, and reading the count
 * and sum of a family without labels.
 */
public abstract class DistributionFamily extends MetricFamily<DistributionDataPoint> {
    DistributionFamily(MetricBuilder<?, ?> builder, int kind, double[] buckets, double[] nativeSettings) {
        super(builder, kind, buckets, nativeSettings);
    }

    /** Records one observation (families without labels only). */
    public void observe(double value) {
        solo().observe(value);
    }

    /**
     * Records one observation and keeps {@code exemplarLabels} ({@code "trace_id", id, ...},
     * names and values in turn) as its bucket's exemplar (histograms without labels only).
     */
    public void observeWithExemplar(double value, String... exemplarLabels) {
        solo().observeWithExemplar(value, exemplarLabels);
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
    final DistributionDataPoint newSeries(long handle) {
        return new DistributionDataPoint(kind(), handle);
    }
}
