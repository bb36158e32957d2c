package engineering.reliability.gds.metrics.bundle;

import engineering.reliability.gds.metrics.config.PrometheusConfiguration;
import io.dropwizard.core.ConfiguredBundle;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;

/**
 * The configured bundle of earlier {@code gds-metrics-dropwizard} releases, kept so that
 * {@code bootstrap.addBundle(new PrometheusBundle())} keeps compiling after the upgrade.
 *
 * <p>It now installs {@link uk.gov.gds.metrics.dropwizard.MetricsBundle} when
 * {@link PrometheusConfiguration#isPrometheusEnabled()} is true. The endpoint moves from
 * {@code /prometheus/metrics} on the admin port to {@code PROMETHEUS_METRICS_PATH} (default
 * {@code /metrics}) on the application port, behind the app GUID bearer token, which is
 * where the PaaS's Prometheus scrapes; see the README's migration section.
 */
public class PrometheusBundle implements ConfiguredBundle<PrometheusConfiguration> {
    /** The old admin-port path; no longer served, kept for code that refers to it. */
    public static final String PROMETHEUS_METRICS_RESOURCE = "/prometheus/metrics";

    private final uk.gov.gds.metrics.dropwizard.MetricsBundle bundle = new uk.gov.gds.metrics.dropwizard.MetricsBundle()
            .withJvmMetrics().withDropwizardMetrics();

    /** Nothing to set up before the environment exists (Dropwizard 1.3 requires the method). */
    @Override
    public void initialize(Bootstrap<?> bootstrap) {}

    @Override
    public void run(PrometheusConfiguration configuration, Environment environment) {
        bundle.installWhen(configuration.isPrometheusEnabled(), environment);
    }
}
