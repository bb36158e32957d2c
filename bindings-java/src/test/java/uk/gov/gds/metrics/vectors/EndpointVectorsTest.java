package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.dropwizard.RawHttp;
import uk.gov.gds.metrics.servlet.MetricsFilter;

/**
 * {@code endpoint.json} through the servlet filter in a real Jetty, over raw sockets so each
 * request target and header reaches the server exactly as the vector writes it. One server
 * per distinct {@code settings}; the app behind the filter answers everything with
 * {@code 200 app}.
 *
 * <p>Two allowances for Jetty, which sits in front of the filter: the connector accepts
 * RFC 3986 paths (Jetty's default refuses {@code //metrics} with {@code 400} before any
 * filter runs, which keeps it from the endpoint all the same), and a {@code Content-Type}
 * is compared as a media type, because Jetty rewrites {@code text/plain; charset=utf-8}
 * as the equivalent {@code text/plain;charset=utf-8}.
 */
class EndpointVectorsTest {
    private static final Map<String, Server> SERVERS = new HashMap<>();
    private static final String APP_BODY = "app";

    /** The app behind the filter. */
    public static class AppServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/plain");
            resp.getWriter().write(APP_BODY);
        }
    }

    @TestFactory
    Stream<DynamicTest> endpointVectors() {
        return Vectors.tests("endpoint.json", EndpointVectorsTest::run);
    }

    @AfterAll
    static void stopServers() throws Exception {
        for (Server server : SERVERS.values()) {
            server.stop();
        }
    }

    private static void run(JsonNode vector) throws Exception {
        JsonNode request = vector.get("request");
        List<byte[]> headers = new java.util.ArrayList<>();
        request.get("headers").forEach(h -> headers.add(
                (h.get(0).asText() + ": " + h.get(1).asText()).getBytes(StandardCharsets.UTF_8)));
        RawHttp.Response response = RawHttp.send(port(vector.get("settings")), request.get("method").asText(),
                request.get("target").asText(), headers.toArray(new byte[0][]));
        JsonNode expect = vector.get("expect");
        assertEquals(expect.get("status").asInt(), response.status(), "status");
        boolean byEndpoint = "no-store".equals(response.header("Cache-Control"));
        assertEquals(expect.get("served_by").asText(), byEndpoint ? "endpoint" : "app", "served by");
        if (!byEndpoint) {
            assertEquals(APP_BODY, new String(response.body(), StandardCharsets.UTF_8), "the app's body");
        }
        if (expect.has("body")) {
            checkBody(expect.get("body").asText(), response);
        }
        if (expect.has("headers")) {
            Iterator<Map.Entry<String, JsonNode>> expected = expect.get("headers").fields();
            while (expected.hasNext()) {
                Map.Entry<String, JsonNode> header = expected.next();
                String name = header.getKey();
                assertEquals(comparable(name, Vectors.textOrNull(header.getValue())),
                        comparable(name, response.header(name)), "header " + name);
            }
        }
    }

    /** A header value as compared: a media type without the optional spaces around {@code ;}. */
    private static String comparable(String name, String value) {
        return value != null && name.equalsIgnoreCase("Content-Type") ? value.replaceAll("\\s*;\\s*", ";") : value;
    }

    private static void checkBody(String kind, RawHttp.Response response) throws IOException {
        switch (kind) {
            case "exposition" -> assertTrue(response.text().contains("# TYPE http_server_requests"), response.text());
            case "refusal" -> {
                String text = response.text();
                assertTrue(!text.isEmpty() && text.indexOf('\n') == text.length() - 1, "one line: " + text);
            }
            case "empty" -> assertEquals(0, response.body().length, "an empty body");
            default -> throw new IllegalArgumentException("unknown body kind " + kind);
        }
    }

    /** The port of a server whose filter has these settings, started on first use. */
    private static int port(JsonNode settings) throws Exception {
        Server server = SERVERS.get(settings.toString());
        if (server == null) {
            server = start(Endpoint.create(new Registry(), Vectors.config(settings)));
            SERVERS.put(settings.toString(), server);
        }
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    private static Server start(Endpoint endpoint) throws Exception {
        Server server = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.setUriCompliance(UriCompliance.RFC3986);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.addFilter(new FilterHolder(new MetricsFilter(endpoint)), "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new AppServlet()), "/*");
        server.setHandler(context);
        server.start();
        return server;
    }
}
