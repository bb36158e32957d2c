package engineering.reliability.gds.metrics.config;

import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.MetricsConfig;
import uk.gov.gds.metrics.Registry;

/**
 * The settings object of {@code gds-metrics-dropwizard} 0.1.0, kept so that its README's
 * {@code Configuration.getInstance().getPrometheusMetricsPath()} (the path an app's own
 * security must leave alone) keeps compiling. The values are the core's reading of the
 * environment, exactly as the endpoint uses them.
 */
public final class Configuration {
    private static final Configuration INSTANCE = new Configuration();

    private final String metricsPath;
    private final boolean authEnabled;

    private Configuration() {
        Endpoint endpoint = Endpoint.create(new Registry(), MetricsConfig.fromEnvironment());
        metricsPath = endpoint.metricsPath();
        authEnabled = endpoint.authEnabled();
    }

    /** The settings read from the environment when this class was first used. */
    public static Configuration getInstance() {
        return INSTANCE;
    }

    /** {@code PROMETHEUS_METRICS_PATH}, default {@code /metrics}. */
    public String getPrometheusMetricsPath() {
        return metricsPath;
    }

    /** Whether scrapes must carry the app GUID as a bearer token. */
    public boolean isAuthEnable() {
        return authEnabled;
    }
}
