/**
 * Prometheus metrics for Java apps on a Cloud Foundry PaaS, backed by the gds-metrics Rust
 * core (loaded from the jar; no set-up needed).
 *
 * <ul>
 *   <li>Custom metrics in the style of {@code client_java} 1.x: {@link uk.gov.gds.metrics.Counter},
 *       {@link uk.gov.gds.metrics.Gauge}, {@link uk.gov.gds.metrics.Histogram},
 *       {@link uk.gov.gds.metrics.Summary} and {@link uk.gov.gds.metrics.Info}, registered in
 *       {@link uk.gov.gds.metrics.Registry#defaultRegistry()}.</li>
 *   <li>The endpoint and request metrics: {@link uk.gov.gds.metrics.Endpoint}, served by
 *       {@code uk.gov.gds.metrics.servlet.MetricsFilter} in any servlet container and by
 *       {@code uk.gov.gds.metrics.dropwizard.MetricsBundle} in Dropwizard.</li>
 * </ul>
 *
 * <p>Mistakes in defining or using a metric throw {@link java.lang.IllegalArgumentException}
 * where they are made; using a closed metric throws {@link java.lang.IllegalStateException};
 * a bad setting throws {@link uk.gov.gds.metrics.ConfigurationException} at start-up.
 */
package uk.gov.gds.metrics;
