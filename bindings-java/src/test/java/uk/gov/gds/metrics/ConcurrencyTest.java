package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {
    private static final int WRITERS = 4;
    private static final int ROUNDS = 50_000;
    private static final Pattern BUCKET = Pattern.compile("latency_seconds_bucket\\{le=\"([^\"]+)\"} (\\S+)\n");
    private static final Pattern COUNT = Pattern.compile("latency_seconds_count (\\S+)\n");

    private final Registry registry = new Registry();
    private final Counter jobs = Counter.builder().name("jobs").help("h").register(registry);
    private final Counter byQueue = Counter.builder().name("queued").help("h").labelNames("queue").register(registry);
    private final Histogram latency = Histogram.builder().name("latency_seconds").help("h")
            .classicUpperBounds(0.1, 1).register(registry);

    @Test
    void writersLoseNothingAndScrapesSeeConsistentHistograms() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS + 1);
        AtomicBoolean writing = new AtomicBoolean(true);
        Future<Integer> scraper = pool.submit(() -> scrapeUntil(writing));
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            String queue = "q" + (w % 2);
            writers.add(pool.submit(() -> write(queue)));
        }
        for (Future<?> f : writers) {
            f.get();
        }
        writing.set(false);
        assertTrue(scraper.get() > 0, "the scraper ran while writers were writing");
        pool.shutdown();

        assertEquals((double) WRITERS * ROUNDS, jobs.get());
        assertEquals((double) WRITERS / 2 * ROUNDS, byQueue.labelValues("q0").get());
        assertEquals((double) WRITERS / 2 * ROUNDS, byQueue.labelValues("q1").get());
        assertEquals((long) WRITERS * ROUNDS, latency.getCount());
        // Half the observations are 0.0625 and half 0.5: binary fractions, so the sum is exact.
        assertEquals(WRITERS * ROUNDS / 2 * (0.0625 + 0.5), latency.getSum());
        String text = registry.scrape(Format.TEXT);
        assertTrue(text.contains("latency_seconds_bucket{le=\"0.1\"} " + (WRITERS * ROUNDS / 2) + ".0\n"), text);
        assertTrue(text.contains("latency_seconds_bucket{le=\"+Inf\"} " + (WRITERS * ROUNDS) + ".0\n"), text);
    }

    private void write(String queue) {
        CounterDataPoint series = byQueue.labelValues(queue);
        for (int i = 0; i < ROUNDS; i++) {
            jobs.inc();
            series.inc();
            latency.observe(i % 2 == 0 ? 0.0625 : 0.5);
        }
    }

    /** Scrapes until told to stop, checking every histogram it sees; returns how many scrapes ran. */
    private int scrapeUntil(AtomicBoolean writing) {
        int scrapes = 0;
        while (writing.get()) {
            assertConsistent(registry.scrape(Format.TEXT));
            scrapes++;
        }
        return scrapes;
    }

    private static void assertConsistent(String text) {
        Matcher bucket = BUCKET.matcher(text);
        double previous = 0;
        double infinite = -1;
        while (bucket.find()) {
            double cumulative = Double.parseDouble(bucket.group(2));
            assertTrue(cumulative >= previous, "buckets are cumulative: " + text);
            previous = cumulative;
            if (bucket.group(1).equals("+Inf")) {
                infinite = cumulative;
            }
        }
        Matcher count = COUNT.matcher(text);
        assertTrue(count.find(), text);
        assertEquals(infinite, Double.parseDouble(count.group(1)), "+Inf bucket equals _count");
    }
}
