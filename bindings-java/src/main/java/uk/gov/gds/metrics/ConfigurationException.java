package uk.gov.gds.metrics;

/**
 * A bad setting, in the environment ({@code VCAP_APPLICATION}, {@code METRICS_BASIC_AUTH},
 * {@code PROMETHEUS_METRICS_PATH}, ...) or in code. Thrown at start-up, when the endpoint is
 * created; the message names the setting, says what is wrong and how to fix it, and never
 * contains the app's token.
 */
public class ConfigurationException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ConfigurationException(String message) {
        super(message);
    }
}
