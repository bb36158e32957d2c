/** The configuration interface of the {@code uk.gov.ida} line, kept so its apps compile unchanged. */
package uk.gov.ida.metrics.config;
