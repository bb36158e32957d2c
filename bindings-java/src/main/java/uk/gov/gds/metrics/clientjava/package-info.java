/**
 * The {@code client_java} registries (0.x {@code CollectorRegistry.defaultRegistry}, 1.x
 * {@code PrometheusRegistry.defaultRegistry}) exported through the default registry at
 * each scrape, when those libraries are on the classpath.
 */
package uk.gov.gds.metrics.clientjava;
