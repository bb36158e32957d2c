package uk.gov.gds.metrics.dropwizard;

import java.util.List;
import org.glassfish.jersey.server.ContainerRequest;
import org.glassfish.jersey.server.internal.process.MappableException;
import org.glassfish.jersey.server.monitoring.ApplicationEvent;
import org.glassfish.jersey.server.monitoring.ApplicationEventListener;
import org.glassfish.jersey.server.monitoring.RequestEvent;
import org.glassfish.jersey.server.monitoring.RequestEventListener;
import org.glassfish.jersey.uri.UriTemplate;
import uk.gov.gds.metrics.servlet.MetricsFilter;

/**
 * Tells the {@link MetricsFilter} what Jersey knows and the servlet layer does not: that its
 * router saw the request, the route template that matched, and the exception Jersey turned
 * into a response itself (the core decides whether it counts, from the final status).
 * Jersey keeps request properties in the servlet request's attributes, where the filter
 * reads them when it records the request.
 */
final class JerseyRouteListener implements ApplicationEventListener {
    @Override
    public void onEvent(ApplicationEvent event) {}

    @Override
    public RequestEventListener onRequest(RequestEvent requestEvent) {
        return JerseyRouteListener::onRequestEvent;
    }

    private static void onRequestEvent(RequestEvent event) {
        ContainerRequest request = event.getContainerRequest();
        switch (event.getType()) {
            case MATCHING_START:
                request.setProperty(MetricsFilter.ROUTED_ATTRIBUTE, Boolean.TRUE);
                break;
            case RESOURCE_METHOD_START:
                request.setProperty(MetricsFilter.ROUTE_ATTRIBUTE, routeTemplate(request, event));
                break;
            case ON_EXCEPTION:
                request.setProperty(MetricsFilter.EXCEPTION_ATTRIBUTE, unwrap(event.getException()));
                break;
            default:
                break;
        }
    }

    /**
     * The full template of the matched resource method: Jersey's base path (the servlet's
     * mapping, such as {@code /api}) followed by the matched templates from the root resource
     * down ({@code /users} then {@code /{id}}).
     */
    private static String routeTemplate(ContainerRequest request, RequestEvent event) {
        StringBuilder route = new StringBuilder(trimSlashes(request.getBaseUri().getRawPath()));
        List<UriTemplate> matched = event.getUriInfo().getMatchedTemplates();
        for (int i = matched.size() - 1; i >= 0; i--) {
            String part = trimSlashes(matched.get(i).getTemplate());
            if (!part.isEmpty()) {
                route.append('/').append(part);
            }
        }
        return route.length() == 0 ? "/" : route.insert(0, route.charAt(0) == '/' ? "" : "/").toString();
    }

    private static String trimSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }

    /** Jersey reports the app's exception again wrapped in its own {@link MappableException}. */
    private static Throwable unwrap(Throwable e) {
        Throwable thrown = e;
        while (thrown instanceof MappableException && thrown.getCause() != null) {
            thrown = thrown.getCause();
        }
        return thrown;
    }
}
