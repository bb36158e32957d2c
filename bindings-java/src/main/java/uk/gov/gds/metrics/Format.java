package uk.gov.gds.metrics;

/** The exposition formats the core writes; numbered as the natives number them ({@code Native.formatNames()}). */
public enum Format {
    /** Prometheus text format 0.0.4, what a scrape gets unless it asks for OpenMetrics. */
    TEXT,
    /** OpenMetrics text 1.0.0. */
    OPENMETRICS,
    /** Prometheus protobuf, delimited {@code io.prometheus.client.MetricFamily} messages (native histograms). */
    PROTOBUF
}
