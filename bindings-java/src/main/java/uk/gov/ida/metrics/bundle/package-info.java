/** The bundle of the {@code uk.gov.ida} line, kept so its apps compile unchanged. */
package uk.gov.ida.metrics.bundle;
