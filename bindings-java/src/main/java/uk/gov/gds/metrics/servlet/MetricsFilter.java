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
import java.util.List;
import java.util.Map;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.EndpointResponse;

/**
 * A Jakarta Servlet filter that serves the metrics endpoint and counts every request.
 *
 * <p>Map it to {@code /*}, first in the chain, so the endpoint answers before the app's own
 * security filters (it has its own auth). Requests for the metrics path are answered by the
 * core; all others go down the chain untouched and are recorded in the request metrics:
 * <ul>
 *   <li>{@code path}: the request attribute {@link #ROUTE_ATTRIBUTE} if a framework set it
 *       (the Dropwizard bundle sets the Jersey route template); otherwise the request path
 *       with ids and UUIDs collapsed, as for any app without a router; {@code No endpoint}
 *       for a {@code 404} that no route claimed;</li>
 *   <li>exceptions: one thrown down the chain is counted by class name and the request as
 *       {@code 500}, then rethrown; one a framework turned into a response itself is counted
 *       if it put the class name in {@link #EXCEPTION_ATTRIBUTE}.</li>
 * </ul>
 *
 * <p>A request that goes asynchronous is recorded when the filter chain returns, with the
 * status set by then.
 *
 * <p>Without Dropwizard: {@code new MetricsFilter(Endpoint.fromEnvironment())} in code, or
 * the no-argument constructor (as {@code web.xml} needs), which builds that endpoint in
 * {@link #init}.
 */
public class MetricsFilter implements Filter {
    /** Request attribute holding the route template that served the request. */
    public static final String ROUTE_ATTRIBUTE = "uk.gov.gds.metrics.route";
    /** Request attribute holding the class name of an exception a framework handled itself. */
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

    /** The endpoint this filter serves. */
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        if (!(req instanceof HttpServletRequest request) || !(res instanceof HttpServletResponse response)) {
            chain.doFilter(req, res);
            return;
        }
        String path = pathWithinApplication(request);
        if (endpoint.matches(path)) {
            serveMetrics(request, response, path);
        } else {
            serveApplication(request, response, chain, path);
        }
    }

    private void serveMetrics(HttpServletRequest request, HttpServletResponse response, String path)
            throws IOException {
        EndpointResponse answer = endpoint.handle(request.getMethod(), path, headers(request));
        response.setStatus(answer.status());
        for (Map.Entry<String, String> header : answer.headers()) {
            response.addHeader(header.getKey(), header.getValue());
        }
        if (answer.body().length > 0) {
            response.setContentLength(answer.body().length);
            response.getOutputStream().write(answer.body());
        }
    }

    private void serveApplication(HttpServletRequest request, HttpServletResponse response, FilterChain chain,
            String path) throws IOException, ServletException {
        long start = System.nanoTime();
        int status = HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
        String exception = null;
        try {
            chain.doFilter(request, response);
            status = response.getStatus();
        } catch (IOException | ServletException | RuntimeException | Error e) {
            exception = rootCause(e).getClass().getSimpleName();
            throw e;
        } finally {
            if (exception == null && request.getAttribute(EXCEPTION_ATTRIBUTE) instanceof String handled) {
                exception = handled;
            }
            if (exception != null) {
                endpoint.recordException(exception);
            }
            endpoint.recordRequest(request.getMethod(), request.getHeader("Host"), route(request, path, status),
                    status, (System.nanoTime() - start) / 1e9);
        }
    }

    /** The framework's route if it told us; else no route for a 404; else the path with ids collapsed. */
    private static String route(HttpServletRequest request, String path, int status) {
        Object route = request.getAttribute(ROUTE_ATTRIBUTE);
        if (route instanceof String template) {
            return template;
        }
        return status == HttpServletResponse.SC_NOT_FOUND ? null : Endpoint.collapseIds(path);
    }

    /** A servlet container wraps what the app threw; the app's own exception is the cause. */
    private static Throwable rootCause(Throwable e) {
        Throwable cause = e;
        while (cause instanceof ServletException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** The request path below the context path, still percent-encoded, without the query. */
    private static String pathWithinApplication(HttpServletRequest request) {
        String uri = request.getRequestURI();
        String context = request.getContextPath();
        return context.isEmpty() || !uri.startsWith(context) ? uri : uri.substring(context.length());
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
