/**
 * The bundle names of the earlier {@code gds-metrics-dropwizard}, kept so apps upgrade by
 * changing the dependency version; new code uses {@code uk.gov.gds.metrics.dropwizard}.
 */
package engineering.reliability.gds.metrics.bundle;
