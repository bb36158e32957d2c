/** The configuration interface of the earlier {@code PrometheusBundle}, kept for upgrades. */
package engineering.reliability.gds.metrics.config;
