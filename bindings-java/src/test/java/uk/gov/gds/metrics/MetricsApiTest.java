package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class MetricsApiTest {
    private final Registry registry = new Registry();

    @Test
    void counterWithoutLabelsIsExposedWithTotalSuffix() {
        Counter jobs = Counter.builder().name("jobs_total").help("Jobs done.").register(registry);
        jobs.inc();
        jobs.inc(2);
        jobs.inc(0.5);
        assertEquals(3.5, jobs.get());
        assertEquals("# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3.5\n",
                registry.scrape(Format.TEXT));
    }

    @Test
    void labelledSeriesAreCachedAndRenderedSeparately() {
        Counter jobs = Counter.builder().name("jobs").help("Jobs done.").labelNames("queue").register(registry);
        CounterDataPoint email = jobs.labelValues("email");
        assertSame(email, jobs.labelValues("email"));
        email.inc();
        jobs.labelValues("sms").inc(3);
        String text = registry.scrape(Format.TEXT);
        assertEquals(true, text.contains("jobs_total{queue=\"email\"} 1.0\n"), text);
        assertEquals(true, text.contains("jobs_total{queue=\"sms\"} 3.0\n"), text);
    }

    @Test
    void openMetricsEndsWithEof() {
        Gauge.builder().name("temperature").help("Degrees.").register(registry).set(21.5);
        assertEquals("# HELP temperature Degrees.\n# TYPE temperature gauge\ntemperature 21.5\n# EOF\n",
                registry.scrape(Format.OPENMETRICS));
    }

    @Test
    void gaugeGoesUpAndDown() {
        Gauge g = Gauge.builder().name("in_flight").help("h").register(registry);
        g.inc();
        g.inc(2.5);
        g.dec();
        g.dec(0.5);
        assertEquals(2.0, g.get());
        g.set(-4);
        assertEquals(-4.0, g.get());
    }

    @Test
    void histogramCountsIntoCumulativeBuckets() {
        Histogram h = Histogram.builder().name("size_bytes").help("Sizes.").classicUpperBounds(10, 100)
                .register(registry);
        h.observe(5);
        h.observe(50);
        h.observe(500);
        assertEquals(3, h.getCount());
        assertEquals(555.0, h.getSum());
        assertEquals("# HELP size_bytes Sizes.\n# TYPE size_bytes histogram\n"
                + "size_bytes_bucket{le=\"10.0\"} 1.0\n"
                + "size_bytes_bucket{le=\"100.0\"} 2.0\n"
                + "size_bytes_bucket{le=\"+Inf\"} 3.0\n"
                + "size_bytes_count 3.0\n"
                + "size_bytes_sum 555.0\n", registry.scrape(Format.TEXT));
    }

    @Test
    void timerObservesElapsedSecondsOnce() {
        Summary s = Summary.builder().name("job_seconds").help("h").register(registry);
        Timer t = s.startTimer();
        double seconds = t.observeDuration();
        t.close();
        assertEquals(1, s.getCount());
        assertEquals(seconds, s.getSum());
        s.time(() -> {});
        assertEquals(2, s.getCount());
    }

    @Test
    void infoCarriesFactsAsLabels() {
        Info app = Info.builder().name("app").help("About the app.").labelNames("version").register(registry);
        app.setLabelValues("1.0");
        app.setLabelValues("1.1");
        assertEquals("# HELP app_info About the app.\n# TYPE app_info gauge\napp_info{version=\"1.1\"} 1.0\n",
                registry.scrape(Format.TEXT));
    }

    @Test
    void invalidNameIsRejectedAtRegistration() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Counter.builder().name("").help("h").register(registry));
        assertEquals(true, e.getMessage().startsWith("invalid metric name ``: it is empty"), e.getMessage());
    }

    @Test
    void utf8NamesAreAcceptedAndLegacyNamesRefuseThemWhenAskedFor() {
        Counter.builder().name("bad name").help("Refused by simpleclient.").register(registry).inc();
        Registry legacy = new Registry();
        legacy.useLegacyNames();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Counter.builder().name("bad name").help("h").register(legacy));
        assertEquals(true, e.getMessage().startsWith("invalid metric name `bad name`: ")
                && e.getMessage().contains("legacy names were asked for"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Counter.builder().name("jobs").help("h").labelNames("a:b").register(legacy));
        assertEquals(true, e.getMessage().startsWith("invalid label name `a:b` for metric `jobs`: "), e.getMessage());
    }

    @Test
    void duplicateRegistrationIsRejected() {
        Counter.builder().name("jobs").help("h").register(registry);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gauge.builder().name("jobs_total").help("h").register(registry));
        assertEquals("a metric named `jobs_total` is already registered; unregister it first or pick another name",
                e.getMessage());
    }

    @Test
    void wrongNumberOfLabelValuesNamesTheLabels() {
        Counter c = Counter.builder().name("jobs").help("h").labelNames("queue", "kind").register(registry);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.labelValues("email"));
        assertEquals("metric `jobs` has 2 label(s) (queue, kind) but 1 value(s) were given", e.getMessage());
        IllegalArgumentException unlabelled = assertThrows(IllegalArgumentException.class, c::inc);
        assertEquals("metric `jobs` has 2 label(s) (queue, kind) but 0 value(s) were given",
                unlabelled.getMessage());
    }

    @Test
    void nullLabelValueIsRejected() {
        Counter c = Counter.builder().name("jobs").help("h").labelNames("queue").register(registry);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.labelValues((String) null));
        assertEquals("label values must not be null", e.getMessage());
    }

    @Test
    void negativeCounterIncrementIsRejected() {
        Counter c = Counter.builder().name("jobs").help("h").register(registry);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.inc(-1.5));
        assertEquals("counter `jobs` can only increase; got an increment of -1.5", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.inc(-2L));
        assertEquals(0.0, c.get());
    }

    @Test
    void unsortedBucketsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Histogram.builder().name("h").help("h").classicUpperBounds(2, 1).register(registry));
        assertEquals("invalid buckets for histogram `h`: bounds must be in strictly increasing order",
                e.getMessage());
    }

    @Test
    void removedSeriesIsNoLongerExposed() {
        Gauge g = Gauge.builder().name("queue_length").help("h").labelNames("queue").register(registry);
        g.labelValues("a").set(1);
        g.labelValues("b").set(2);
        assertEquals(true, g.remove("a"));
        assertEquals(false, g.remove("a"));
        assertEquals("# HELP queue_length h\n# TYPE queue_length gauge\nqueue_length{queue=\"b\"} 2.0\n",
                registry.scrape(Format.TEXT));
    }
}
