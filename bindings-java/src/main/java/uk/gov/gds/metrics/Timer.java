package uk.gov.gds.metrics;

/**
 * A running timer from {@code startTimer()}. Closing it (or {@link #observeDuration()})
 * records the elapsed seconds once; later calls do nothing.
 */
public final class Timer implements AutoCloseable {
    private final DistributionDataPoint target;
    private final long start = System.nanoTime();
    private boolean observed;

    Timer(DistributionDataPoint target) {
        this.target = target;
    }

    /** Records the seconds since the timer started and returns them; only the first call records. */
    public double observeDuration() {
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!observed) {
            observed = true;
            target.observe(seconds);
        }
        return seconds;
    }

    @Override
    public void close() {
        observeDuration();
    }
}
