package uk.gov.gds.metrics.dropwizard;

import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import uk.gov.gds.metrics.MetricsConfig;
import uk.gov.gds.metrics.Registry;

/** A small Dropwizard app with the bundle, a parameterised route and a route that fails. */
public abstract class TestApp extends Application<Configuration> {
    private final MetricsBundle bundle;

    TestApp(Registry registry, MetricsConfig config) {
        this.bundle = new MetricsBundle(registry, config).withJvmMetrics();
    }

    /** The bundle under test. */
    MetricsBundle bundle() {
        return bundle;
    }

    @Override
    public void initialize(Bootstrap<Configuration> bootstrap) {
        bootstrap.addBundle(bundle);
    }

    @Override
    public void run(Configuration configuration, Environment environment) {
        environment.jersey().register(new Users());
        environment.jersey().register(new Boom());
    }

    /** {@code /users/{id}}: a route with a template. */
    @Path("/users")
    @Produces(MediaType.TEXT_PLAIN)
    public static class Users {
        @GET
        @Path("/{id}")
        public String user(@PathParam("id") String id) {
            return "user " + id;
        }
    }

    /** {@code /boom}: a route whose code throws. */
    @Path("/boom")
    public static class Boom {
        @GET
        public String boom() {
            throw new IllegalStateException("the app failed");
        }
    }
}
