package uk.gov.gds.metrics.dropwizard;

import jakarta.ws.rs.WebApplicationException;
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
 * Tells the {@link MetricsFilter} what Jersey knows and the servlet layer does not: the route
 * template that matched, and the exceptions Jersey turned into error responses itself.
 * Jersey keeps request properties in the servlet request's attributes, where the filter
 * reads them once the request is done.
 */
final class JerseyRouteListener implements ApplicationEventListener {
    @Override
    public void onEvent(ApplicationEvent event) {}

    @Override
    public RequestEventListener onRequest(RequestEvent requestEvent) {
        return JerseyRouteListener::onRequestEvent;
    }

    private static void onRequestEvent(RequestEvent event) {
        switch (event.getType()) {
            case RESOURCE_METHOD_START -> event.getContainerRequest()
                    .setProperty(MetricsFilter.ROUTE_ATTRIBUTE, routeTemplate(event.getContainerRequest(), event));
            case ON_EXCEPTION -> {
                Throwable thrown = unwrap(event.getException());
                if (isServerError(thrown)) {
                    event.getContainerRequest().setProperty(MetricsFilter.EXCEPTION_ATTRIBUTE,
                            thrown.getClass().getSimpleName());
                }
            }
            default -> {}
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

    /** Exceptions that end as a 5xx: anything but a deliberate 4xx {@link WebApplicationException}. */
    private static boolean isServerError(Throwable e) {
        return !(e instanceof WebApplicationException wae) || wae.getResponse().getStatus() >= 500;
    }
}
