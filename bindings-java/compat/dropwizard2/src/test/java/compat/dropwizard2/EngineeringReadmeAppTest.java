package compat.dropwizard2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import engineering.reliability.gds.metrics.bundle.MetricsBundle;
import io.dropwizard.Application;
import io.dropwizard.Configuration;
import io.dropwizard.setup.Bootstrap;
import io.dropwizard.setup.Environment;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Dropwizard 2.x (or 1.3) app written as the {@code engineering.gds-reliability} 0.1.0
 * README says, on the {@code dropwizard2} jar: {@code bootstrap.addBundle(new MetricsBundle())}
 * and {@code Configuration.getInstance().getPrometheusMetricsPath()} for the path its own
 * security leaves alone. Request metrics, the JVM metrics, Dropwizard's own metrics
 * ({@code ENABLE_DROPWIZARD_METRICS=true}, set by the pom) and a {@code client_java} 0.x
 * counter come through the one endpoint on the application port.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class EngineeringReadmeAppTest {
    /** {@code /users/{id}}. */
    @Path("/users")
    public static class Users {
        @GET
        @Path("/{id}")
        public String user(@PathParam("id") String id) {
            return "user " + id;
        }
    }

    /** As the 0.1.0 README. */
    public static class App extends Application<Configuration> {
        static String metricsPath;

        @Override
        public void initialize(Bootstrap<Configuration> bootstrap) {
            bootstrap.addBundle(new MetricsBundle());
        }

        @Override
        public void run(Configuration configuration, Environment environment) {
            metricsPath = engineering.reliability.gds.metrics.config.Configuration.getInstance()
                    .getPrometheusMetricsPath();
            environment.jersey().register(new Users());
            io.prometheus.client.Counter.build().name("legacy_jobs_total").help("Jobs.").register().inc(4);
        }
    }

    static final DropwizardAppExtension<Configuration> APP = new DropwizardAppExtension<>(App.class, null,
            ConfigOverride.config("server.applicationConnectors[0].port", "0"),
            ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
            ConfigOverride.config("server.adminConnectors[0].port", "0"),
            ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"));

    /** The app GUID the pom puts in {@code VCAP_APPLICATION}. */
    private static final String GUID = "0f3c7a2e-9b41-4d6a-8e25-7c1d0b9a4f63";
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private static HttpResponse<String> scrape(String path, String... headers) throws Exception {
        String[] all = java.util.Arrays.copyOf(headers, headers.length + 2);
        all[headers.length] = "Authorization";
        all[headers.length + 1] = "Bearer " + GUID;
        return get(path, all);
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + APP.getLocalPort() + path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void requestJvmAndClientJavaMetricsAreInOneScrape() throws Exception {
        assertEquals("/metrics", App.metricsPath);
        assertEquals(200, get("/users/42").statusCode());
        String text = scrape(App.metricsPath).body();
        // On the PaaS with no routes in VCAP_APPLICATION, every host is `other`.
        assertTrue(text.contains("http_server_requests_total{method=\"GET\",host=\"other\",path=\"/users/{id}\","
                + "code=\"200\"} 1.0\n"), text);
        assertTrue(text.contains("# TYPE legacy_jobs_total counter\nlegacy_jobs_total 4.0\n"), text);
        assertTrue(text.contains("jvm_threads_current "), text);
        assertTrue(text.contains("# TYPE io_dropwizard_jetty_MutableServletContextHandler_requests summary\n"), text);
    }

    @Test
    void theEndpointWantsTheAppGuid() throws Exception {
        assertEquals(401, get("/metrics").statusCode());
        assertEquals(403, get("/metrics", "Authorization", "Bearer not-the-guid").statusCode());
    }

    @Test
    void dropwizardDoesNotCompressWhatTheCoreRefuses() throws Exception {
        HttpResponse<String> response = scrape("/metrics", "Accept-Encoding", "gzip;q=-1");
        assertEquals(200, response.statusCode());
        assertNull(response.headers().firstValue("Content-Encoding").orElse(null));
    }
}
