package uk.gov.gds.metrics.dropwizard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static uk.gov.gds.metrics.dropwizard.RawHttp.h;

import io.dropwizard.core.Configuration;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import uk.gov.gds.metrics.MetricsConfig;
import uk.gov.gds.metrics.Registry;

/**
 * The binding registers no {@code process_*} metrics of its own: the JVM's come from
 * {@code client_java}'s process collector, exported through the default registry. A real
 * Dropwizard app with the bundle's JVM and Dropwizard metrics on, and {@code client_java}
 * 1.x's {@link JvmMetrics} (which include its process collector) registered as its docs say,
 * has each {@code process_*} family once, and no family twice, in the text and the
 * OpenMetrics scrape.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ProcessMetricsTest {
    /** What client_java 1.x's process collector exports on Linux, sorted. */
    static final List<String> PROCESS_FAMILIES = List.of(
            "process_cpu_seconds_total",
            "process_max_fds",
            "process_open_fds",
            "process_resident_memory_bytes",
            "process_start_time_seconds",
            "process_virtual_memory_bytes");

    /** The app: the default registry, no auth, JVM and Dropwizard metrics on. */
    public static class DefaultRegistryApp extends TestApp {
        public DefaultRegistryApp() {
            super(Registry.defaultRegistry(), MetricsConfig.builder().build());
            bundle().withDropwizardMetrics();
            JvmMetrics.builder().register();
        }
    }

    static final DropwizardAppExtension<Configuration> APP = new DropwizardAppExtension<>(DefaultRegistryApp.class,
            null,
            ConfigOverride.config("server.applicationConnectors[0].port", "0"),
            ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
            ConfigOverride.config("server.adminConnectors[0].port", "0"),
            ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"));

    private static String scrape(String accept) throws IOException {
        RawHttp.Response response = RawHttp.send(APP.getLocalPort(), "GET", "/metrics", h("Accept: " + accept));
        assertEquals(200, response.status(), response.text());
        return response.text();
    }

    /** The names of the {@code # TYPE} lines starting {@code prefix}, in scrape order. */
    private static List<String> typeLines(String text, String prefix) {
        Matcher m = Pattern.compile("(?m)^# TYPE (" + Pattern.quote(prefix) + "\\S*) ").matcher(text);
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void theTextScrapeHasEachProcessFamilyOnce() throws IOException {
        String text = scrape("text/plain;version=0.0.4");
        assertEquals(PROCESS_FAMILIES, typeLines(text, "process_").stream().sorted().toList(), text);
    }

    @Test
    void theOpenMetricsScrapeHasEachProcessFamilyOnce() throws IOException {
        String text = scrape("application/openmetrics-text;version=1.0.0");
        List<String> openMetricsNames = PROCESS_FAMILIES.stream()
                .map(name -> name.replaceFirst("_total$", ""))
                .sorted()
                .toList();
        assertEquals(openMetricsNames, typeLines(text, "process_").stream().sorted().toList(), text);
    }

    @Test
    void noFamilyIsWrittenTwice() throws IOException {
        for (String accept : List.of("text/plain;version=0.0.4", "application/openmetrics-text;version=1.0.0")) {
            String text = scrape(accept);
            List<String> names = typeLines(text, "");
            assertEquals(names.stream().distinct().toList(), names, accept + "\n" + text);
        }
    }
}
