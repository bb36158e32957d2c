package uk.gov.gds.metrics.dropwizard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static uk.gov.gds.metrics.dropwizard.RawHttp.h;

import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.DropwizardTestSupport;
import org.junit.jupiter.api.Test;

/**
 * An app written as the README says ({@code new MetricsBundle().withJvmMetrics()}, the
 * default registry) started, stopped and started again in one JVM, as several test classes
 * with {@code DropwizardAppExtension} do: the second start shares the request and JVM
 * metrics of the first, and exports its own Dropwizard metrics in place of the first's.
 */
class StartTwiceTest {
    /** The README's app. */
    public static class ReadmeApp extends Application<Configuration> {
        @Override
        public void initialize(Bootstrap<Configuration> bootstrap) {
            bootstrap.addBundle(new MetricsBundle().withJvmMetrics().withDropwizardMetrics());
        }

        @Override
        public void run(Configuration configuration, Environment environment) {
            environment.jersey().register(new TestApp.Users());
        }
    }

    @Test
    void aSecondStartInTheSameJvmWorksAndKeepsCounting() throws Exception {
        for (int start = 1; start <= 2; start++) {
            DropwizardTestSupport<Configuration> app = new DropwizardTestSupport<>(ReadmeApp.class, (String) null,
                    ConfigOverride.config("server.applicationConnectors[0].port", "0"),
                    ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
                    ConfigOverride.config("server.adminConnectors[0].port", "0"),
                    ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"));
            app.before();
            try {
                assertEquals(200, RawHttp.send(app.getLocalPort(), "GET", "/users/7", h("Host: twice.test")).status());
                String text = RawHttp.send(app.getLocalPort(), "GET", "/metrics").text();
                String line = "http_server_requests_total{method=\"GET\",host=\"twice.test\",path=\"/users/{id}\","
                        + "code=\"200\"} " + start + ".0\n";
                assertTrue(text.contains(line), "start " + start + ": expected " + line + " in\n" + text);
                assertTrue(text.contains("jvm_threads_current "), text);
                String family = "# TYPE io_dropwizard_jetty_MutableServletContextHandler_requests summary\n";
                assertEquals(text.indexOf(family), text.lastIndexOf(family), "one copy of each Dropwizard family");
                assertTrue(text.contains(family), text);
            } finally {
                app.after();
            }
        }
    }
}
