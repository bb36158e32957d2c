package uk.gov.gds.metrics.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.EnumSet;
import java.util.List;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The filter in a plain servlet container (Jetty, no Dropwizard, no router), set up the way
 * {@code web.xml} would: by class name, configured by the environment (here: not on the PaaS,
 * so auth is off) and serving the default registry.
 */
class PlainServletTest {
    private static Server server;
    private static int port;
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** Answers everything under {@code /orders/}; {@code /orders/fail} divides by zero. */
    public static class OrdersServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            if (req.getRequestURI().endsWith("/fail")) {
                System.out.println(1 / (req.getRequestURI().length() - req.getRequestURI().length()));
            }
            if (req.getRequestURI().endsWith("/anonymous")) {
                throw new IllegalStateException("an anonymous subclass") {
                    private static final long serialVersionUID = 1L;
                };
            }
            resp.getWriter().write("order");
        }
    }

    @BeforeAll
    static void startJetty() throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.addFilter(new FilterHolder(MetricsFilter.class), "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new OrdersServlet()), "/orders/*");
        server.setHandler(context);
        server.start();
        port = connector.getLocalPort();
    }

    @AfterAll
    static void stopJetty() throws Exception {
        server.stop();
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The exposition right now: a request is recorded before its client has the response. */
    private static String scrapeText() throws IOException, InterruptedException {
        return get("/metrics").body();
    }

    @Test
    void idsAndUuidsAreCollapsedWithoutARouter() throws IOException, InterruptedException {
        assertEquals(200, get("/orders/123/items/550e8400-e29b-41d4-a716-446655440000").statusCode());
        String line = "http_server_requests_total{method=\"GET\",host=\"127.0.0.1:" + port
                + "\",path=\"/orders/:id/items/:uuid\",code=\"200\"} 1.0\n";
        String text = scrapeText();
        assertTrue(text.contains(line), text);
    }

    @Test
    void notFoundIsNoEndpoint() throws IOException, InterruptedException {
        assertEquals(404, get("/nowhere/42").statusCode());
        String line = "http_server_requests_total{method=\"GET\",host=\"127.0.0.1:" + port
                + "\",path=\"No endpoint\",code=\"404\"} 1.0\n";
        String text = scrapeText();
        assertTrue(text.contains(line), text);
    }

    @Test
    void thrownExceptionIsCountedByClassNameAndAs500() throws IOException, InterruptedException {
        assertEquals(500, get("/orders/fail").statusCode());
        String request = "http_server_requests_total{method=\"GET\",host=\"127.0.0.1:" + port
                + "\",path=\"/orders/fail\",code=\"500\"} 1.0\n";
        String exception = "http_server_exceptions_total{error=\"ArithmeticException\"} 1.0\n";
        String text = scrapeText();
        assertTrue(text.contains(request) && text.contains(exception), text);
    }

    @Test
    void anAnonymousExceptionIsNamedByItsNearestNamedAncestor() throws IOException, InterruptedException {
        assertEquals(500, get("/orders/anonymous").statusCode());
        String exception = "http_server_exceptions_total{error=\"IllegalStateException\"} 1.0\n";
        String text = scrapeText();
        assertTrue(text.contains(exception), text);
    }

    /** A request's sampled W3C traceparent is the exemplar of its count and duration bucket. */
    @Test
    void aSampledTraceparentIsTheExemplarOfTheRequest() throws IOException, InterruptedException {
        HttpRequest traced = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders/traced"))
                .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .build();
        assertEquals(200, CLIENT.send(traced, HttpResponse.BodyHandlers.ofString()).statusCode());
        HttpRequest scrape = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .header("Accept", "application/openmetrics-text;version=1.0.0")
                .build();
        String text = CLIENT.send(scrape, HttpResponse.BodyHandlers.ofString()).body();
        List<String> families = text.lines()
                .filter(line -> line.contains("path=\"/orders/traced\"") && line.contains(
                        " # {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"}"))
                .map(line -> line.substring(0, line.indexOf('{')))
                .sorted()
                .toList();
        assertEquals(List.of("http_server_request_duration_seconds_bucket", "http_server_requests_total"), families,
                text);
    }

    /** Each request is in a scrape made the moment its response is read, every time. */
    @Test
    void aScrapeRightAfterAResponseSeesIt() throws IOException, InterruptedException {
        for (int i = 1; i <= 300; i++) {
            assertEquals(200, get("/orders/race").statusCode());
            String line = "http_server_requests_total{method=\"GET\",host=\"127.0.0.1:" + port
                    + "\",path=\"/orders/race\",code=\"200\"} " + i + ".0\n";
            assertTrue(scrapeText().contains(line), "request " + i + " missing from the scrape right after it");
        }
    }
}
