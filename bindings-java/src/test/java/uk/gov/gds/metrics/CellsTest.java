package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import uk.gov.gds.metrics.internal.Cells;

/**
 * Java's updates of the core's cells land where the core reads them: every offset Java
 * computes (stripes, buckets, shards) is checked against the core's own reading of the
 * series, so the layout exported by the core and its use here cannot drift apart.
 */
class CellsTest {
    private final Registry registry = new Registry();

    @Test
    void counterIncrementsInJavaAreTheCoresTotal() {
        Counter jobs = Counter.builder().name("jobs").help("h").register(registry);
        jobs.inc();
        jobs.inc(41L);
        assertEquals(42.0, jobs.get());
        assertTrue(registry.scrape(Format.TEXT).contains("jobs_total 42.0\n"));
    }

    @Test
    void javaIncrementsPickUpWhatTheCoreAddedInBetween() {
        Counter jobs = Counter.builder().name("jobs").help("h").register(registry);
        jobs.inc();
        jobs.inc(2.0); // a whole amount: the core adds it to the same base cell
        jobs.inc();
        jobs.inc(3L);
        assertEquals(7.0, jobs.get());
    }

    @Test
    void everyStripeJavaCanReachIsCountedByTheCore() {
        Counter jobs = Counter.builder().name("jobs").help("h").labelNames("q").register(registry);
        CounterDataPoint series = jobs.labelValues("a");
        series.inc();
        Cells.Stripes stripes = series.stripesForTest();
        assertTrue(stripes.count() > 1, "in-process counters are striped");
        for (int i = 0; i < stripes.count(); i++) {
            stripes.addTo(i, 1L << i);
        }
        series.inc();
        // Each stripe got a distinct power of two: a wrong stride or count loses one.
        assertEquals(2.0 + (1L << stripes.count()) - 1, series.get());
    }

    @Test
    void aNegativeWholeIncrementIsRefusedByTheCore() {
        Counter jobs = Counter.builder().name("jobs").help("h").register(registry);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> jobs.inc(-1L));
        assertTrue(e.getMessage().contains("jobs"), e.getMessage());
        assertEquals(0.0, jobs.get());
    }

    @Test
    void gaugeWritesInJavaAreTheCoresValue() {
        Gauge g = Gauge.builder().name("temperature").help("h").register(registry);
        g.set(2.5);
        g.inc(0.25);
        g.dec();
        assertEquals(1.75, g.get());
        assertTrue(registry.scrape(Format.TEXT).contains("temperature 1.75\n"), registry.scrape(Format.TEXT));
    }

    /** Values at, between and beyond the bounds, infinities and signed zeros. */
    private static double[] probes(double[] bounds) {
        List<Double> values = new ArrayList<>(List.of(
                Double.NEGATIVE_INFINITY, -1e300, -0.0, 0.0, Double.MIN_VALUE, 1e300, Double.POSITIVE_INFINITY));
        for (double b : bounds) {
            values.add(b);
            values.add(Math.nextDown(b));
            values.add(Math.nextUp(b));
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void histogramBucketsChosenInJavaAreTheCoresChoice() {
        double[] few = {0.005, 0.01, 0.1, 1, 10};
        double[] many = IntStream.rangeClosed(1, 40).mapToDouble(i -> i * 0.5).toArray();
        for (double[] bounds : List.of(few, many)) {
            Histogram h = Histogram.builder().name("h" + bounds.length).help("h").labelNames("path")
                    .classicUpperBounds(bounds).register(registry);
            DistributionDataPoint inJava = h.labelValues("java");
            DistributionDataPoint inCore = h.labelValues("core");
            assertTrue(inJava.observesInPlace());
            for (double v : probes(bounds)) {
                inJava.observe(v);
                inCore.observeInCore(v);
                assertArrayEquals(buckets(h, "core"), buckets(h, "java"), "after observing " + v);
            }
            assertEquals(inCore.getCount(), inJava.getCount());
            assertEquals(inCore.getSum(), inJava.getSum());
        }
    }

    @Test
    void nanIsRefusedByTheCoreAndRecordedNowhere() {
        Histogram h = Histogram.builder().name("h").help("h").labelNames("path").classicUpperBounds(1)
                .register(registry);
        DistributionDataPoint inJava = h.labelValues("java");
        assertThrows(IllegalArgumentException.class, () -> inJava.observe(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> h.labelValues("core").observeInCore(Double.NaN));
        assertArrayEquals(buckets(h, "core"), buckets(h, "java"));
        assertEquals(0, inJava.getCount());
    }

    /** The cumulative counts of the series {@code path} as the core renders them. */
    private String[] buckets(Histogram h, String path) {
        return registry.scrape(Format.TEXT).lines()
                .filter(l -> l.startsWith(h.getName() + "_bucket{path=\"" + path + "\""))
                .map(l -> l.substring(l.indexOf("le=")))
                .toArray(String[]::new);
    }

    @Test
    void summaryObservationsInJavaAreTheCoresCountAndSum() {
        Summary s = Summary.builder().name("sizes").help("h").register(registry);
        s.observe(2);
        s.observe(3.5);
        assertEquals(2, s.getCount());
        assertEquals(5.5, s.getSum());
    }

    @Test
    void nativeHistogramsObserveThroughTheCore() {
        Histogram h = Histogram.builder().name("n").help("h").nativeOnly().register(registry);
        assertFalse(h.solo().observesInPlace());
        h.observe(0.5);
        assertEquals(1, h.getCount());
    }

    @Test
    void aRemovedSeriesKeepsItsCellsForTheJavaObjectHoldingThem() {
        Counter c = Counter.builder().name("jobs").help("h").labelNames("q").register(registry);
        Histogram h = Histogram.builder().name("latency").help("h").labelNames("q").register(registry);
        CounterDataPoint counted = c.labelValues("a");
        DistributionDataPoint observed = h.labelValues("a");
        assertTrue(c.remove("a"));
        h.clear();
        System.gc();
        counted.inc();
        observed.observe(0.1);
        assertEquals(1.0, counted.get());
        assertEquals(1, observed.getCount());
        assertFalse(registry.scrape(Format.TEXT).contains("q=\"a\""), "removed series are not exposed");
        assertEquals(0.0, c.labelValues("a").get(), "a new series starts at zero");
    }
}
