package uk.gov.gds.metrics.example;

import uk.gov.gds.metrics.Gauge;

/**
 * Many custom series for the load benchmark ({@code DEMO_EXTRA_SERIES}, default none), to
 * measure scrapes of a realistic size.
 */
final class ExtraSeries {

    private ExtraSeries() {}

    static void registerFromEnvironment() {
        int count = Integer.parseInt(System.getenv().getOrDefault("DEMO_EXTRA_SERIES", "0"));
        if (count == 0) {
            return;
        }
        Gauge depth = Gauge.builder()
                .name("demo_queue_depth")
                .help("Jobs waiting, by queue.")
                .labelNames("queue")
                .seriesLimit(count)
                .register();
        for (int queue = 0; queue < count; queue++) {
            depth.labelValues("queue-" + queue).set(queue);
        }
    }
}
