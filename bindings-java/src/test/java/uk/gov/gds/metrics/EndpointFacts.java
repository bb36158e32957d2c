package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import uk.gov.gds.metrics.internal.Native;

/**
 * Reports request facts to the core exactly as the vectors write them (an exception by class
 * name, which a Java {@link Throwable} cannot carry), through the native record that
 * {@link Endpoint#record} uses.
 */
public final class EndpointFacts {
    private EndpointFacts() {}

    public static void record(Endpoint endpoint, String method, String host, String rawPath, boolean hasRouter,
            String route, int status, double seconds, String exceptionClass, String exceptionAncestor,
            boolean escaped) {
        Native.recordRequest(endpoint.handle(), method, host, rawPath, hasRouter, route, status, seconds,
                exceptionClass, exceptionAncestor, escaped, null);
        Reference.reachabilityFence(endpoint);
    }
}
