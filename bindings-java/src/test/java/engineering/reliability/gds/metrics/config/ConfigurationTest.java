package engineering.reliability.gds.metrics.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/** The 0.1.0 README's {@code Configuration.getInstance().getPrometheusMetricsPath()}, unchanged. */
class ConfigurationTest {
    @Test
    void theReadmeCallAnswersTheCoresReadingOfTheEnvironment() {
        // The tests run with the PaaS variables removed: the default path, auth off.
        assertEquals("/metrics", Configuration.getInstance().getPrometheusMetricsPath());
        assertFalse(Configuration.getInstance().isAuthEnable());
    }
}
