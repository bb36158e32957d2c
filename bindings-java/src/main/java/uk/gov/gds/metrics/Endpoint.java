package uk.gov.gds.metrics;

import java.lang.System.Logger.Level;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Map;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * One app's metrics endpoint and its request metrics, as the core implements them: bearer
 * auth with the app GUID, format negotiation, gzip, and the {@code http_server_*} families.
 * Framework adapters ({@code MetricsFilter}, {@code MetricsBundle}) hand requests to it; it
 * makes every decision itself. Thread-safe; create one per app.
 */
public final class Endpoint {
    private static final System.Logger LOG = System.getLogger(Endpoint.class.getName());

    private final long handle;
    private final Registry registry;

    private Endpoint(Registry registry, long handle) {
        this.registry = registry;
        this.handle = handle;
        Handles.freeWith(this, handle, Native::endpointFree);
    }

    /**
     * An endpoint for {@code registry}, configured by {@code config} and the environment.
     * Registers the request metrics in {@code registry}.
     *
     * @throws ConfigurationException if a setting is invalid (the message names it), or an
     *     earlier endpoint of {@code registry} had the request duration's native buckets
     *     the other way
     * @throws IllegalArgumentException if the app registered a family named like one of the
     *     request metrics itself (every endpoint of one registry shares the request metrics)
     */
    public static Endpoint create(Registry registry, MetricsConfig config) {
        long handle = Native.endpointNew(registry.handle(), config.applicationId,
                config.authEnabled == null ? -1 : config.authEnabled ? 1 : 0, config.metricsPath,
                config.instanceIndex == null ? -1 : config.instanceIndex, config.routes,
                tristate(config.traceExemplars), tristate(config.requestNativeHistogram));
        registry.keepAlive();
        Endpoint endpoint = new Endpoint(registry, handle);
        for (String warning : Native.endpointWarnings(handle)) {
            LOG.log(Level.WARNING, warning);
        }
        return endpoint;
    }

    /** A yes/no setting for the native side: -1 when unset (from the environment), else 1 or 0. */
    private static int tristate(Boolean setting) {
        return setting == null ? -1 : setting ? 1 : 0;
    }

    /** An endpoint for the default registry, configured by the environment alone. */
    public static Endpoint fromEnvironment() {
        return create(Registry.defaultRegistry(), MetricsConfig.fromEnvironment());
    }

    /** The registry this endpoint exposes. */
    public Registry registry() {
        return registry;
    }

    /** The configured path, such as {@code /metrics}. */
    public String metricsPath() {
        try {
            return Native.endpointPath(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether a request's sampled W3C {@code traceparent} becomes the exemplar of its metrics. */
    public boolean traceExemplars() {
        try {
            return Native.endpointTraceExemplars(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether the request duration keeps native buckets beside its classic ones. */
    public boolean requestNativeHistogram() {
        try {
            return Native.endpointRequestNativeHistogram(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether scrapes must carry the app GUID as a bearer token. */
    public boolean authEnabled() {
        try {
            return Native.endpointAuthEnabled(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Whether {@code target}, the request URI exactly as the client sent it (a servlet's
     * {@code getRequestURI()}, not decoded), is the endpoint's path below {@code mount} (the
     * context path, empty at the root). {@code /metrics/}, {@code //metrics} or
     * {@code /%6detrics} are not: they belong to the app.
     */
    public boolean matches(String mount, String target) {
        try {
            return Native.endpointMatches(handle, mount, target);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Answers a request for the endpoint's path, and counts it in the request metrics.
     *
     * @param mount the context path the app is mounted at, empty at the root
     * @param target the request URI as the client sent it
     * @param headers every header line as received, name and value, repeated headers repeated
     */
    public EndpointResponse handle(String method, String mount, String target,
            List<Map.Entry<String, String>> headers) {
        registry.refresh();
        String[] flat = new String[headers.size() * 2];
        int i = 0;
        for (Map.Entry<String, String> h : headers) {
            flat[i++] = h.getKey();
            flat[i++] = h.getValue();
        }
        try {
            return (EndpointResponse) Native.endpointHandle(handle, method, mount, target, flat);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Records one request the app served, from what the framework saw; the core decides
     * every label from these facts (the route, {@code No endpoint}, ids collapsed for apps
     * without a router, {@code 500} for an escaped exception, whether the exception counts).
     *
     * @param host the {@code Host} header as sent, or null
     * @param rawPath the request URI as sent
     * @param hasRouter whether the framework routes requests (Jersey does; a plain servlet does not)
     * @param route the template of the route that matched ({@code /users/{id}}), or null
     * @param status the response status
     * @param exception the exception raised while handling the request, or null
     * @param escaped whether {@code exception} escaped the app (no response was made for it)
     */
    public void record(String method, String host, String rawPath, boolean hasRouter, String route, int status,
            double seconds, Throwable exception, boolean escaped) {
        record(method, host, rawPath, hasRouter, route, status, seconds, exception, escaped, null);
    }

    /**
     * {@link #record(String, String, String, boolean, String, int, double, Throwable, boolean)}
     * with the request's {@code traceparent} header as sent (null when absent; several
     * headers joined by commas, which the core treats as invalid): the core decides whether
     * its trace becomes the exemplar of the request's metrics.
     */
    public void record(String method, String host, String rawPath, boolean hasRouter, String route, int status,
            double seconds, Throwable exception, boolean escaped, String traceparent) {
        Native.recordRequest(handle, method, host, rawPath, hasRouter, route, status, seconds,
                exception == null ? null : exception.getClass().getSimpleName(), namedAncestor(exception), escaped,
                traceparent);
        Reference.reachabilityFence(this);
    }

    /** The native handle, for tests that report facts to the core directly; keep {@code this} reachable. */
    long handle() {
        return handle;
    }

    /**
     * The simple name of the nearest superclass that has one: what the core names an
     * exception of an anonymous class by.
     */
    private static String namedAncestor(Throwable exception) {
        if (exception == null) {
            return null;
        }
        Class<?> ancestor = exception.getClass().getSuperclass();
        while (ancestor.getSimpleName().isEmpty()) {
            ancestor = ancestor.getSuperclass();
        }
        return ancestor.getSimpleName();
    }
}
