package uk.gov.gds.metrics.dropwizard;

import io.dropwizard.core.Configuration;
import io.dropwizard.core.ConfiguredBundle;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.lifecycle.Managed;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.gzip.GzipHandler;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.JvmMetrics;
import uk.gov.gds.metrics.MetricsConfig;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.servlet.MetricsFilter;

/**
 * Prometheus metrics for a Dropwizard app: {@code bootstrap.addBundle(new MetricsBundle())}.
 *
 * <p>Serves the endpoint on the application port at the configured path (default
 * {@code /metrics}, auth with the app GUID from {@code VCAP_APPLICATION}), ahead of the
 * app's own filters, and records {@code http_server_requests_total},
 * {@code http_server_request_duration_seconds} (with the Jersey route template, such as
 * {@code /users/{id}}, as {@code path}) and {@code http_server_exceptions_total} (by class
 * name). A bad setting in the environment stops the app at start-up with a
 * {@link uk.gov.gds.metrics.ConfigurationException} naming it.
 */
public class MetricsBundle implements ConfiguredBundle<Configuration> {
    private final Registry registry;
    private final MetricsConfig config;
    private boolean jvmMetrics;
    private boolean dropwizardMetrics;
    private Endpoint endpoint;

    /** The default registry, configured by the environment. */
    public MetricsBundle() {
        this(Registry.defaultRegistry(), MetricsConfig.fromEnvironment());
    }

    /** The given registry and settings; settings left unset come from the environment. */
    public MetricsBundle(Registry registry, MetricsConfig config) {
        this.registry = registry;
        this.config = config;
    }

    /** Also exposes JVM memory, garbage collection and thread metrics ({@link JvmMetrics}). */
    public MetricsBundle withJvmMetrics() {
        this.jvmMetrics = true;
        return this;
    }

    /**
     * Also exports Dropwizard's own metrics ({@code environment.metrics()} without
     * {@code jvm.*}) at each scrape, named as {@code client_java}'s Dropwizard bridge names
     * them ({@link DropwizardExports}).
     */
    public MetricsBundle withDropwizardMetrics() {
        this.dropwizardMetrics = true;
        return this;
    }

    @Override
    public void initialize(Bootstrap<?> bootstrap) {
        // Everything happens in run(), once the environment exists.
    }

    @Override
    public void run(Configuration configuration, Environment environment) {
        install(environment);
    }

    /** Creates the endpoint and installs the filter and the Jersey listener in {@code environment}. */
    public void install(Environment environment) {
        endpoint = Endpoint.create(registry, config);
        if (jvmMetrics) {
            JvmMetrics.register(registry);
        }
        if (dropwizardMetrics) {
            DropwizardExports.register(registry, environment.metrics());
        }
        environment.servlets()
                .addFilter("gds-metrics", new MetricsFilter(endpoint))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        environment.jersey().register(new JerseyRouteListener());
        // Managed objects start with the server, after its handlers and before its connectors
        // accept a request: the same hook in every Dropwizard line.
        environment.lifecycle().manage(new Managed() {
            @Override
            public void start() {
                leaveTheEndpointToTheCore(environment);
            }

            @Override
            public void stop() {}
        });
    }

    /**
     * Dropwizard's gzip handler (on by default) would compress the metrics response by its
     * own reading of {@code Accept-Encoding}, on top of the core's decision (it gzips for
     * {@code gzip;q=-1}, which the core refuses): exclude the endpoint's path from it.
     */
    private void leaveTheEndpointToTheCore(Environment environment) {
        Server server = environment.getApplicationContext().getServer();
        String context = environment.getApplicationContext().getContextPath();
        String path = (context.equals("/") ? "" : context) + endpoint.metricsPath();
        for (Handler gzip : server.getChildHandlersByClass(GzipHandler.class)) {
            ((GzipHandler) gzip).addExcludedPaths(path);
        }
    }

    /**
     * {@link #install} when {@code enabled}, else nothing: the switch of the old
     * {@code PrometheusBundle}s ({@code PrometheusConfiguration.isPrometheusEnabled()}).
     */
    public void installWhen(boolean enabled, Environment environment) {
        if (enabled) {
            install(environment);
        }
    }

    /** The endpoint, once {@link #run} has created it. */
    public Endpoint endpoint() {
        return endpoint;
    }
}
