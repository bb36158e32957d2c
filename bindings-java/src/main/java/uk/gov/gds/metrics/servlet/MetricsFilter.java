package uk.gov.gds.metrics.servlet;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.EndpointResponse;

/**
 * A Jakarta Servlet filter that serves the metrics endpoint and counts every request.
 *
 * <p>Map it to {@code /*}, first in the chain, so the endpoint answers before the app's own
 * security filters (it has its own auth). A request whose URI, exactly as the client sent
 * it, is the metrics path below the context path is answered by the core; all others go
 * down the chain untouched and their facts are reported to the core, which decides every
 * label:
 * <ul>
 *   <li>the route: the request attribute {@link #ROUTE_ATTRIBUTE} if a framework set it
 *       (the Dropwizard bundle sets the Jersey route template), and whether a router saw
 *       the request at all ({@link #ROUTED_ATTRIBUTE});</li>
 *   <li>the exception: one thrown down the chain (which escaped the app, and is rethrown),
 *       or one a framework turned into a response itself and put in
 *       {@link #EXCEPTION_ATTRIBUTE}.</li>
 * </ul>
 *
 * <p>A request is recorded just before its response can reach the client (see
 * {@link RecordingResponse}), or when the filter chain returns if nothing was sent by then;
 * a request that goes asynchronous and has sent nothing is recorded with the status set by
 * then.
 *
 * <p>Without Dropwizard: {@code new MetricsFilter(Endpoint.fromEnvironment())} in code, or
 * the no-argument constructor (as {@code web.xml} needs), which builds that endpoint in
 * {@link #init}.
 */
public class MetricsFilter implements Filter {
    /** Request attribute holding the route template that served the request. */
    public static final String ROUTE_ATTRIBUTE = "uk.gov.gds.metrics.route";
    /** Request attribute set (to {@code Boolean.TRUE}) by a framework whose router saw the request. */
    public static final String ROUTED_ATTRIBUTE = "uk.gov.gds.metrics.routed";
    /** Request attribute holding the {@link Throwable} a framework turned into a response itself. */
    public static final String EXCEPTION_ATTRIBUTE = "uk.gov.gds.metrics.exception";

    private volatile Endpoint endpoint;

    /** A filter that creates its endpoint from the environment in {@link #init}. */
    public MetricsFilter() {}

    /** A filter serving {@code endpoint}. */
    public MetricsFilter(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public void init(FilterConfig config) {
        if (endpoint == null) {
            endpoint = Endpoint.fromEnvironment();
        }
    }

    /** Nothing to release (Servlet 3.1 containers, such as Dropwizard 1.3's, require the method). */
    @Override
    public void destroy() {}

    /** The endpoint this filter serves. */
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        if (!(req instanceof HttpServletRequest) || !(res instanceof HttpServletResponse)) {
            chain.doFilter(req, res);
            return;
        }
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        if (endpoint.matches(request.getContextPath(), request.getRequestURI())) {
            serveMetrics(request, response);
        } else {
            serveApplication(request, response, chain);
        }
    }

    private void serveMetrics(HttpServletRequest request, HttpServletResponse response) throws IOException {
        EndpointResponse answer = endpoint.handle(request.getMethod(), request.getContextPath(),
                request.getRequestURI(), headers(request));
        response.setStatus(answer.status());
        for (Map.Entry<String, String> header : answer.headers()) {
            response.addHeader(header.getKey(), header.getValue());
        }
        if (answer.body().length > 0) {
            response.setContentLength(answer.body().length);
            response.getOutputStream().write(answer.body());
        }
    }

    private void serveApplication(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        long start = System.nanoTime();
        Throwable[] escaped = new Throwable[1];
        RecordingResponse recording = new RecordingResponse(response,
                () -> record(request, response, start, escaped[0]));
        try {
            chain.doFilter(request, recording);
        } catch (IOException | ServletException | RuntimeException | Error e) {
            escaped[0] = rootCause(e);
            throw e;
        } finally {
            recording.recordOnce();
        }
    }

    private void record(HttpServletRequest request, HttpServletResponse response, long start, Throwable escaped) {
        Object handled = request.getAttribute(EXCEPTION_ATTRIBUTE);
        Object route = request.getAttribute(ROUTE_ATTRIBUTE);
        Throwable exception = escaped != null ? escaped : handled instanceof Throwable ? (Throwable) handled : null;
        endpoint.record(request.getMethod(), request.getHeader("Host"), request.getRequestURI(),
                Boolean.TRUE.equals(request.getAttribute(ROUTED_ATTRIBUTE)),
                route instanceof String ? (String) route : null, response.getStatus(),
                (System.nanoTime() - start) / 1e9, exception, escaped != null, traceparent(request));
    }

    /** Every {@code traceparent} header sent, joined by commas (two are invalid), or null. */
    private static String traceparent(HttpServletRequest request) {
        Enumeration<String> values = request.getHeaders("traceparent");
        if (values == null || !values.hasMoreElements()) {
            return null;
        }
        String first = values.nextElement();
        if (!values.hasMoreElements()) {
            return first;
        }
        StringBuilder joined = new StringBuilder(first);
        while (values.hasMoreElements()) {
            joined.append(',').append(values.nextElement());
        }
        return joined.toString();
    }

    /** A servlet container wraps what the app threw; the app's own exception is the cause. */
    private static Throwable rootCause(Throwable e) {
        Throwable cause = e;
        while (cause instanceof ServletException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static List<Map.Entry<String, String>> headers(HttpServletRequest request) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            for (String value : Collections.list(request.getHeaders(name))) {
                headers.add(new SimpleImmutableEntry<>(name, value));
            }
        }
        return headers;
    }
}
