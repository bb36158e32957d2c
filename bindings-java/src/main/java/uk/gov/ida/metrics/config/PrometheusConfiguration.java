package uk.gov.ida.metrics.config;

/**
 * Implemented by an app's configuration to switch {@link uk.gov.ida.metrics.bundle.PrometheusBundle}
 * on or off, as in {@code uk.gov.ida:gds-metrics-dropwizard} up to 0.7.0.
 */
public interface PrometheusConfiguration {
    boolean isPrometheusEnabled();
}
