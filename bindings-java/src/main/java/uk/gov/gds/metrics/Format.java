package uk.gov.gds.metrics;

/** The exposition formats the core writes. */
public enum Format {
    /** Prometheus text format 0.0.4, what a scrape gets unless it asks for OpenMetrics. */
    TEXT,
    /** OpenMetrics text 1.0.0. */
    OPENMETRICS
}
