/**
 * The metrics endpoint and request metrics for any Jakarta Servlet container:
 * {@link uk.gov.gds.metrics.servlet.MetricsFilter}.
 */
package uk.gov.gds.metrics.servlet;
