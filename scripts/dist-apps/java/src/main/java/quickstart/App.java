package quickstart;

import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import uk.gov.gds.metrics.dropwizard.MetricsBundle;

/** The Java README's Dropwizard quick start: the bundle, and one resource of the app's own. */
public class App extends Application<Configuration> {
    public static void main(String[] args) throws Exception {
        new App().run(args);
    }

    @Override
    public void initialize(Bootstrap<Configuration> bootstrap) {
        bootstrap.addBundle(new MetricsBundle());
    }

    @Override
    public void run(Configuration configuration, Environment environment) {
        environment.jersey().register(new Index());
    }

    /** The app's own route. */
    @Path("/")
    public static class Index {
        @GET
        public String index() {
            return "ok";
        }
    }
}
