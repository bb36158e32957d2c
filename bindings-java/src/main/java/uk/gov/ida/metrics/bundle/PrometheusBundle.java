package uk.gov.ida.metrics.bundle;

import io.dropwizard.core.ConfiguredBundle;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import uk.gov.gds.metrics.dropwizard.MetricsBundle;
import uk.gov.ida.metrics.config.PrometheusConfiguration;

/**
 * The bundle of {@code uk.gov.ida:gds-metrics-dropwizard} (up to 0.7.0), kept so that
 * {@code bootstrap.addBundle(new PrometheusBundle())} keeps compiling after the upgrade.
 *
 * <p>When {@link PrometheusConfiguration#isPrometheusEnabled()} is true it installs
 * {@link MetricsBundle} with the JVM metrics and, as before, Dropwizard's own metrics
 * ({@code environment.metrics()} without {@code jvm.*}). The endpoint moves from
 * {@code /prometheus/metrics} on the admin port to {@code PROMETHEUS_METRICS_PATH} (default
 * {@code /metrics}) on the application port, behind the app GUID bearer token, which is
 * where the PaaS's Prometheus scrapes; see the README's migration section.
 */
public class PrometheusBundle implements ConfiguredBundle<PrometheusConfiguration> {
    /** The old admin-port path; no longer served, kept for code that refers to it. */
    public static final String PROMETHEUS_METRICS_RESOURCE = "/prometheus/metrics";

    private final MetricsBundle bundle = new MetricsBundle().withJvmMetrics().withDropwizardMetrics();

    /** Nothing to set up before the environment exists (Dropwizard 1.3 requires the method). */
    @Override
    public void initialize(Bootstrap<?> bootstrap) {}

    @Override
    public void run(PrometheusConfiguration configuration, Environment environment) {
        bundle.installWhen(configuration.isPrometheusEnabled(), environment);
    }
}
