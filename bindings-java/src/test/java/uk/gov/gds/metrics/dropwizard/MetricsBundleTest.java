package uk.gov.gds.metrics.dropwizard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static uk.gov.gds.metrics.dropwizard.RawHttp.h;

import io.dropwizard.core.Configuration;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import uk.gov.gds.metrics.MetricsConfig;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.dropwizard.RawHttp.Response;

/**
 * The endpoint and request metrics of a real Dropwizard app on a free loopback port, with
 * auth on. Each test sends its own {@code Host}, so its request counts are its own.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class MetricsBundleTest {
    static final String GUID = "6b0b3c4e-1f2a-4c5d-8e9f-0a1b2c3d4e5f";
    static final Registry REGISTRY = new Registry();

    /** The app under test: auth on with {@link #GUID}, default path. */
    public static class AuthApp extends TestApp {
        public AuthApp() {
            super(REGISTRY, MetricsConfig.builder().applicationId(GUID).build());
        }
    }

    static final DropwizardAppExtension<Configuration> APP = new DropwizardAppExtension<>(AuthApp.class, null,
            ConfigOverride.config("server.applicationConnectors[0].port", "0"),
            ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
            ConfigOverride.config("server.adminConnectors[0].port", "0"),
            ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"));

    private static Response get(String path, byte[]... headers) throws IOException {
        return RawHttp.send(APP.getLocalPort(), "GET", path, headers);
    }

    private static Response scrape(byte[]... extra) throws IOException {
        byte[][] headers = new byte[extra.length + 1][];
        headers[0] = h("Authorization: Bearer " + GUID);
        System.arraycopy(extra, 0, headers, 1, extra.length);
        return get("/metrics", headers);
    }

    /** The exposition right now: a request is recorded before its client has the response. */
    private static String scrapeText() throws IOException {
        return scrape().text();
    }

    private static boolean containsAll(String text, String... lines) {
        return java.util.Arrays.stream(lines).allMatch(text::contains);
    }

    @Test
    void missingAuthorizationIsUnauthorizedWithBearerChallenge() throws IOException {
        Response r = get("/metrics");
        assertEquals(401, r.status());
        assertEquals("Bearer realm=\"metrics\"", r.header("WWW-Authenticate"));
        assertTrue(r.header("Content-Type").startsWith("text/plain"), r.header("Content-Type"));
        assertTrue(!r.text().contains(GUID));
    }

    @Test
    void wrongTokenIsForbidden() throws IOException {
        Response r = get("/metrics", h("Authorization: Bearer not-the-guid"));
        assertEquals(403, r.status());
        assertTrue(!r.text().contains(GUID));
    }

    @Test
    void basicSchemeWithTheGuidIsForbidden() throws IOException {
        assertEquals(403, get("/metrics", h("Authorization: Basic " + GUID)).status());
    }

    @Test
    void schemeIsCaseInsensitiveAndWhitespaceTrimmed() throws IOException {
        assertEquals(200, get("/metrics", h("Authorization:   bEaReR " + GUID + "  ")).status());
    }

    @Test
    void twoAuthorizationHeadersAreForbidden() throws IOException {
        Response r = get("/metrics", h("Authorization: Bearer " + GUID), h("Authorization: Bearer " + GUID));
        assertEquals(403, r.status());
    }

    @Test
    void nonAsciiTokenIsForbiddenNotAnError() throws IOException {
        byte[] line = "Authorization: Bearer \u00e9\u00e9".getBytes(StandardCharsets.UTF_8);
        assertEquals(403, get("/metrics", line).status());
        byte[] latin1 = "Authorization: Bearer \u00ff".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(403, get("/metrics", latin1).status());
    }

    @Test
    void hugeTokenIsForbiddenNotAnError() throws IOException {
        assertEquals(403, get("/metrics", h("Authorization: Bearer " + "a".repeat(6000))).status());
    }

    @Test
    void rightTokenGetsPrometheusTextByDefault() throws IOException {
        Response r = scrape();
        assertEquals(200, r.status());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.header("Content-Type"));
        assertEquals("Accept, Accept-Encoding", r.header("Vary"));
        assertEquals("no-store", r.header("Cache-Control"));
        assertNull(r.header("Content-Encoding"));
        assertTrue(r.text().contains("# TYPE http_server_requests_total counter\n"), r.text());
    }

    @Test
    void openMetricsWhenItRanksHighest() throws IOException {
        Response r = scrape(h("Accept: application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5"));
        assertEquals(200, r.status());
        assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8", r.header("Content-Type"));
        assertTrue(r.text().endsWith("# EOF\n"), r.text());
    }

    @Test
    void gzipWhenAccepted() throws IOException {
        Response r = scrape(h("Accept-Encoding: gzip"));
        assertEquals("gzip", r.header("Content-Encoding"));
        assertTrue(r.text().contains("# TYPE http_server_requests_total counter\n"));
    }

    @Test
    void gzipRefusedWithQZero() throws IOException {
        Response r = scrape(h("Accept-Encoding: gzip;q=0, identity"));
        assertEquals(200, r.status());
        assertNull(r.header("Content-Encoding"));
    }

    /**
     * Dropwizard's gzip handler (on by default) leaves the metrics response alone: the core
     * refuses gzip for these, and nothing compresses on top.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"gzip;q=-1", "gzip;q=NaN", "gzip;;q==", "identity"})
    void gzipTheCoreRefusesIsNotAddedByDropwizard(String acceptEncoding) throws IOException {
        Response r = scrape(h("Accept-Encoding: " + acceptEncoding));
        assertEquals(200, r.status());
        assertNull(r.header("Content-Encoding"), acceptEncoding);
        assertTrue(r.text().contains("# TYPE http_server_requests"), r.text());
    }

    @Test
    void headAnswersWithoutBody() throws IOException {
        Response r = RawHttp.send(APP.getLocalPort(), "HEAD", "/metrics", h("Authorization: Bearer " + GUID));
        assertEquals(200, r.status());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.header("Content-Type"));
        assertArrayEquals(new byte[0], r.body());
    }

    @Test
    void otherMethodsAreNotAllowed() throws IOException {
        Response r = RawHttp.send(APP.getLocalPort(), "POST", "/metrics", h("Authorization: Bearer " + GUID),
                h("Content-Length: 0"));
        assertEquals(405, r.status());
        assertEquals("GET, HEAD", r.header("Allow"));
    }

    @Test
    void otherPathsPassThroughWithoutAuth() throws IOException {
        Response app = get("/users/7");
        assertEquals(200, app.status());
        assertEquals("user 7", app.text());
        assertNull(app.header("Cache-Control"));
        assertNull(app.header("WWW-Authenticate"));
        assertEquals(404, get("/metrics/").status());
    }

    @Test
    void requestsAreCountedByRouteTemplate() throws IOException {
        get("/users/1", h("Host: routes.test"));
        get("/users/2", h("Host: routes.test"));
        String count = "http_server_requests_total{method=\"GET\",host=\"routes.test\",path=\"/users/{id}\","
                + "code=\"200\"} 2.0\n";
        String durations = "http_server_request_duration_seconds_count{method=\"GET\",host=\"routes.test\","
                + "path=\"/users/{id}\",code=\"200\"} 2.0\n";
        String text = scrapeText();
        assertTrue(containsAll(text, count, durations), text);
    }

    /** A sampled W3C traceparent is the exemplar of the request's count and duration bucket. */
    @Test
    void aSampledTraceparentIsTheExemplarOfTheRequest() throws IOException {
        get("/users/3", h("Host: traced.test"),
                h("traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        get("/users/4", h("Host: traced.test"), h("traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
        String text = scrape(h("Accept: application/openmetrics-text;version=1.0.0")).text();
        List<String> traced = text.lines()
                .filter(line -> line.contains("host=\"traced.test\"") && line.contains(
                        " # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"00f067aa0ba902b7\"}"))
                .map(line -> line.substring(0, line.indexOf('{')))
                .sorted()
                .toList();
        assertEquals(List.of("http_server_request_duration_seconds_bucket", "http_server_requests_total"), traced, text);
        assertTrue(text.lines().filter(line -> line.contains("host=\"traced.test\"") && line.contains(" # {"))
                .count() == 2, text);
    }

    @Test
    void unmatchedRequestsAreCountedAsNoEndpoint() throws IOException {
        assertEquals(404, get("/no/such/page/123", h("Host: unmatched.test")).status());
        String line = "http_server_requests_total{method=\"GET\",host=\"unmatched.test\","
                + "path=\"No endpoint\",code=\"404\"} 1.0\n";
        String text = scrapeText();
        assertTrue(text.contains(line), text);
    }

    @Test
    void exceptionsAreCountedByClassNameAndAs500() throws IOException {
        assertEquals(500, get("/boom", h("Host: boom.test")).status());
        String request = "http_server_requests_total{method=\"GET\",host=\"boom.test\",path=\"/boom\","
                + "code=\"500\"} 1.0\n";
        String exception = "http_server_exceptions_total{error=\"IllegalStateException\"} 1.0\n";
        String text = scrapeText();
        assertTrue(containsAll(text, request, exception), text);
    }

    /** Each request is in a scrape made the moment its response is read, every time. */
    @Test
    void aScrapeRightAfterAResponseSeesIt() throws IOException {
        for (int i = 1; i <= 300; i++) {
            assertEquals(200, get("/users/" + i, h("Host: race.test")).status());
            String line = "http_server_requests_total{method=\"GET\",host=\"race.test\",path=\"/users/{id}\","
                    + "code=\"200\"} " + i + ".0\n";
            String text = scrapeText();
            assertTrue(text.contains(line), "request " + i + " missing from the scrape right after it");
        }
    }

    @Test
    void scrapesAreCountedIncludingRejectedOnes() throws IOException {
        get("/metrics", h("Host: scraper.test"));
        get("/metrics", h("Host: scraper.test"), h("Authorization: Bearer " + GUID));
        String rejected = "http_server_requests_total{method=\"GET\",host=\"scraper.test\","
                + "path=\"/metrics\",code=\"401\"} 1.0\n";
        String accepted = "http_server_requests_total{method=\"GET\",host=\"scraper.test\","
                + "path=\"/metrics\",code=\"200\"} 1.0\n";
        String text = scrapeText();
        assertTrue(containsAll(text, rejected, accepted), text);
    }

    @Test
    void jvmMetricsAreExposedWhenAskedFor() throws IOException {
        String text = scrape().text();
        assertTrue(text.contains("# TYPE jvm_threads_current gauge\n"), text);
        assertTrue(text.contains("jvm_memory_used_bytes{area=\"heap\"} "), text);
    }

    @Test
    void bundleExposesItsEndpoint() {
        AuthApp app = APP.getApplication();
        assertEquals(List.of("/metrics", true), List.of(app.bundle().endpoint().metricsPath(),
                app.bundle().endpoint().authEnabled()));
    }
}
