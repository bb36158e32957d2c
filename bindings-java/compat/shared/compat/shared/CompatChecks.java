package compat.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.testing.ConfigOverride;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;

/**
 * What every old Dropwizard line's app must show, whichever jar it runs on: the request,
 * JVM, Dropwizard and {@code client_java} 0.x metrics in one scrape on the application port,
 * the app GUID required, and no gzip added by Dropwizard. The compat projects add this
 * folder to their test sources; the APIs used here are the same in Dropwizard 1.3 to 3.
 */
public final class CompatChecks {
    /** The app GUID each compat pom puts in {@code VCAP_APPLICATION}. */
    public static final String GUID = "0f3c7a2e-9b41-4d6a-8e25-7c1d0b9a4f63";

    /** Both connectors on free loopback ports. */
    public static final ConfigOverride[] LOOPBACK = {
        ConfigOverride.config("server.applicationConnectors[0].port", "0"),
        ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
        ConfigOverride.config("server.adminConnectors[0].port", "0"),
        ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"),
    };

    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private CompatChecks() {}

    /** {@code /users/{id}}. */
    @Path("/users")
    public static class Users {
        @GET
        @Path("/{id}")
        public String user(@PathParam("id") String id) {
            return "user " + id;
        }
    }

    /** A counter written with {@code client_java} 0.x, as the old apps did. */
    public static void registerLegacyCounter() {
        io.prometheus.client.Counter.build().name("legacy_jobs_total").help("Jobs.").register().inc(4);
    }

    /** A request, then every kind of metric in one authenticated scrape of {@code metricsPath}. */
    public static void assertOneScrapeHasEveryMetric(int port, String metricsPath) throws Exception {
        assertEquals(200, get(port, "/users/42").statusCode());
        String text = get(port, metricsPath, "Authorization", "Bearer " + GUID).body();
        // On the PaaS with no routes in VCAP_APPLICATION, every host is `other`.
        assertTrue(text.contains("http_server_requests_total{method=\"GET\",host=\"other\",path=\"/users/{id}\","
                + "code=\"200\"} 1.0\n"), text);
        assertTrue(text.contains("# TYPE io_dropwizard_jetty_MutableServletContextHandler_requests summary\n"), text);
        assertTrue(text.contains("# TYPE legacy_jobs_total counter\nlegacy_jobs_total 4.0\n"), text);
        assertTrue(text.contains("jvm_threads_current "), text);
    }

    /** No token is {@code 401}, a wrong one {@code 403}. */
    public static void assertTheEndpointWantsTheAppGuid(int port) throws Exception {
        assertEquals(401, get(port, "/metrics").statusCode());
        assertEquals(403, get(port, "/metrics", "Authorization", "Bearer not-the-guid").statusCode());
    }

    /** Dropwizard's gzip handler adds nothing to a scrape the core answers uncompressed. */
    public static void assertNoGzipOnTop(int port) throws Exception {
        HttpResponse<String> response = get(port, "/metrics", "Authorization", "Bearer " + GUID,
                "Accept-Encoding", "gzip;q=-1");
        assertEquals(200, response.statusCode());
        assertNull(response.headers().firstValue("Content-Encoding").orElse(null));
    }

    private static HttpResponse<String> get(int port, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
