/**
 * The Dropwizard integration: {@link uk.gov.gds.metrics.dropwizard.MetricsBundle}.
 */
package uk.gov.gds.metrics.dropwizard;
