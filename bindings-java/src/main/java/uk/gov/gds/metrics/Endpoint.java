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
     * @throws ConfigurationException if a setting is invalid (the message names it)
     * @throws IllegalArgumentException if {@code registry} already holds request metrics
     */
    public static Endpoint create(Registry registry, MetricsConfig config) {
        long handle = Native.endpointNew(registry.handle(), config.applicationId,
                config.authEnabled == null ? -1 : config.authEnabled ? 1 : 0, config.metricsPath,
                config.instanceIndex == null ? -1 : config.instanceIndex);
        registry.keepAlive();
        Endpoint endpoint = new Endpoint(registry, handle);
        for (String warning : Native.endpointWarnings(handle)) {
            LOG.log(Level.WARNING, warning);
        }
        return endpoint;
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

    /** Whether scrapes must carry the app GUID as a bearer token. */
    public boolean authEnabled() {
        try {
            return Native.endpointAuthEnabled(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether {@code path} (without query string) is exactly the endpoint's path. */
    public boolean matches(String path) {
        try {
            return Native.endpointMatches(handle, path);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Answers a request for the endpoint's path, and counts it in the request metrics.
     *
     * @param headers every header line as received, name and value, repeated headers repeated
     */
    public EndpointResponse handle(String method, String path, List<Map.Entry<String, String>> headers) {
        registry.refresh();
        String[] flat = new String[headers.size() * 2];
        int i = 0;
        for (Map.Entry<String, String> h : headers) {
            flat[i++] = h.getKey();
            flat[i++] = h.getValue();
        }
        try {
            return (EndpointResponse) Native.endpointHandle(handle, method, path, flat);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Counts one request the app served.
     *
     * @param route the framework's route template ({@code /users/{id}}), or null when no route matched
     */
    public void recordRequest(String method, String host, String route, int status, double seconds) {
        Native.recordRequest(handle, method, host, route, status, seconds);
        Reference.reachabilityFence(this);
    }

    /** Counts one unhandled exception by its class name ({@code IllegalStateException}). */
    public void recordException(String className) {
        Native.recordException(handle, className);
        Reference.reachabilityFence(this);
    }

    /** {@code path} with numeric ids and UUIDs collapsed, for apps that have no router. */
    public static String collapseIds(String path) {
        return Native.collapseIds(path);
    }
}
