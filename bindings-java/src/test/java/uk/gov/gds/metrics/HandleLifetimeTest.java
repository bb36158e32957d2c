package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import uk.gov.gds.metrics.internal.Native;

class HandleLifetimeTest {
    private final Registry registry = new Registry();

    @Test
    void closingUnregistersTheFamily() {
        Counter c = Counter.builder().name("jobs").help("h").register(registry);
        c.close();
        assertTrue(c.isClosed());
        assertEquals("", registry.scrape(Format.TEXT));
        // The name is free again.
        Counter.builder().name("jobs").help("h").register(registry).inc();
        assertEquals("# HELP jobs_total h\n# TYPE jobs_total counter\njobs_total 1.0\n", registry.scrape(Format.TEXT));
    }

    @Test
    void closingTwiceIsHarmless() {
        Gauge g = Gauge.builder().name("g").help("h").register(registry);
        Gauge other = Gauge.builder().name("other").help("h").register(registry);
        g.close();
        g.close();
        other.set(1);
        assertEquals("# HELP other h\n# TYPE other gauge\nother 1.0\n", registry.scrape(Format.TEXT));
    }

    @Test
    void useAfterCloseThrowsAClearException() {
        Histogram h = Histogram.builder().name("latency_seconds").help("h").register(registry);
        h.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.observe(1));
        assertEquals("metric `latency_seconds` is closed; register it again to use it", e.getMessage());
        assertThrows(IllegalStateException.class, () -> h.labelValues());
        assertThrows(IllegalStateException.class, h::clear);
    }

    @Test
    void seriesObtainedBeforeCloseKeepWorkingUnexposed() {
        Counter c = Counter.builder().name("jobs").help("h").labelNames("q").register(registry);
        CounterDataPoint a = c.labelValues("a");
        c.close();
        a.inc();
        assertEquals(1.0, a.get());
        assertEquals("", registry.scrape(Format.TEXT));
    }

    @Test
    void forgottenObjectsAreFreedByTheCleanerButStayRegistered() throws InterruptedException {
        Native.ensureLoaded();
        long before = settledLiveHandles();
        createAndForget(200);
        assertTrue(Native.liveHandles() >= before + 200 * 2, "each family and series holds a handle");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (Native.liveHandles() > before && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(Native.liveHandles() <= before, "live handles: " + Native.liveHandles() + ", before: " + before);
        // The registry still exposes what the collected Java objects registered.
        assertTrue(registry.scrape(Format.TEXT).contains("forgotten_199_total{q=\"x\"} 1.0\n"));
    }

    /** The live handle count once garbage left by earlier tests has been collected. */
    private static long settledLiveHandles() throws InterruptedException {
        long previous = -1;
        long current = Native.liveHandles();
        while (current != previous) {
            System.gc();
            Thread.sleep(50);
            previous = current;
            current = Native.liveHandles();
        }
        return current;
    }

    private void createAndForget(int n) {
        for (int i = 0; i < n; i++) {
            Counter.builder().name("forgotten_" + i).help("h").labelNames("q").register(registry)
                    .labelValues("x").inc();
        }
    }
}
