package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class JvmMetricsTest {
    private final Registry registry = new Registry();

    JvmMetricsTest() {
        JvmMetrics.register(registry);
    }

    private static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), series + " in\n" + text);
        return Double.parseDouble(m.group(1));
    }

    /** The sum of every {@code jvm_gc_collections_total} series. */
    private static double collections(String text) {
        Matcher m = Pattern.compile("(?m)^jvm_gc_collections_total\\{gc=\"[^\"]+\"} (\\S+)$").matcher(text);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }

    @Test
    void memoryAndThreadsAreReadAtScrapeTime() {
        String text = registry.scrape(Format.TEXT);
        assertTrue(value(text, "jvm_memory_used_bytes{area=\"heap\"}") > 0);
        assertTrue(value(text, "jvm_memory_committed_bytes{area=\"heap\"}")
                >= value(text, "jvm_memory_used_bytes{area=\"heap\"}"));
        assertTrue(value(text, "jvm_threads_current") >= 1);
        assertTrue(value(text, "jvm_threads_peak") >= value(text, "jvm_threads_current"));
    }

    @Test
    void garbageCollectionsAreCountedAsTheyHappen() {
        double before = collections(registry.scrape(Format.TEXT));
        System.gc();
        double after = collections(registry.scrape(Format.TEXT));
        assertTrue(after >= before + 1, before + " then " + after);
    }
}
