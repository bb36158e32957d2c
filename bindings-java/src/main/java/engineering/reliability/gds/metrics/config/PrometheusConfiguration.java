package engineering.reliability.gds.metrics.config;

/** Implemented by an app's configuration to switch {@code PrometheusBundle} on or off, as before. */
public interface PrometheusConfiguration {
    boolean isPrometheusEnabled();
}
