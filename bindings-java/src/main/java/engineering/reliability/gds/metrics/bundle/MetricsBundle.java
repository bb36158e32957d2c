package engineering.reliability.gds.metrics.bundle;

/**
 * The name of the bundle in {@code gds-metrics-dropwizard} 0.1.0 and later, kept so that
 * {@code bootstrap.addBundle(new MetricsBundle())} keeps compiling after the upgrade. It is
 * {@link uk.gov.gds.metrics.dropwizard.MetricsBundle}: the endpoint on the application port
 * at {@code PROMETHEUS_METRICS_PATH}, with the app GUID as bearer token.
 *
 * <p>As before, JVM metrics are exposed too, and Dropwizard's own metrics when
 * {@code ENABLE_DROPWIZARD_METRICS} is {@code true} (any case). New code should use
 * {@link uk.gov.gds.metrics.dropwizard.MetricsBundle} and say
 * {@link #withDropwizardMetrics()} in code.
 */
public class MetricsBundle extends uk.gov.gds.metrics.dropwizard.MetricsBundle {
    public MetricsBundle() {
        super();
        withJvmMetrics();
        if (Boolean.parseBoolean(System.getenv("ENABLE_DROPWIZARD_METRICS"))) {
            withDropwizardMetrics();
        }
    }
}
