package compat.dropwizard3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
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
import uk.gov.ida.metrics.bundle.PrometheusBundle;
import uk.gov.ida.metrics.config.PrometheusConfiguration;

/**
 * A Dropwizard 3 app (javax.servlet, Jetty 10) written as the {@code uk.gov.ida} line's
 * README says, on the {@code javax} jar: request metrics, Dropwizard's own metrics and a
 * {@code client_java} 0.x counter through the one endpoint on the application port, and
 * Dropwizard's gzip handler leaving the metrics response to the core.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class Dropwizard3AppTest {
    /** As the old line's test configuration. */
    public static class AppConfiguration extends Configuration implements PrometheusConfiguration {
        @JsonProperty
        private boolean prometheusEnabled = true;

        @Override
        public boolean isPrometheusEnabled() {
            return prometheusEnabled;
        }
    }

    /** {@code /users/{id}}. */
    @Path("/users")
    public static class Users {
        @GET
        @Path("/{id}")
        public String user(@PathParam("id") String id) {
            return "user " + id;
        }
    }

    /** As the old line's README. */
    public static class App extends Application<AppConfiguration> {
        @Override
        public void initialize(Bootstrap<AppConfiguration> bootstrap) {
            bootstrap.addBundle(new PrometheusBundle());
        }

        @Override
        public void run(AppConfiguration configuration, Environment environment) {
            environment.jersey().register(new Users());
            io.prometheus.client.Counter.build().name("legacy_jobs_total").help("Jobs.").register().inc(4);
        }
    }

    static final DropwizardAppExtension<AppConfiguration> APP = new DropwizardAppExtension<>(App.class, null,
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
    void requestDropwizardAndClientJavaMetricsAreInOneScrape() throws Exception {
        assertEquals(200, get("/users/42").statusCode());
        String text = scrape("/metrics").body();
        // On the PaaS with no routes in VCAP_APPLICATION, every host is `other`.
        assertTrue(text.contains("http_server_requests_total{method=\"GET\",host=\"other\",path=\"/users/{id}\","
                + "code=\"200\"} 1.0\n"), text);
        assertTrue(text.contains("# TYPE io_dropwizard_jetty_MutableServletContextHandler_requests summary\n"), text);
        assertTrue(text.contains("# TYPE legacy_jobs_total counter\nlegacy_jobs_total 4.0\n"), text);
        assertTrue(text.contains("jvm_threads_current "), text);
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
