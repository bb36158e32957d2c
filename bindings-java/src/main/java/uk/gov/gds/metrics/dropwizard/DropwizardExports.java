package uk.gov.gds.metrics.dropwizard;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.ScrapeTimeFamilies;

/**
 * Dropwizard's own metrics ({@code environment.metrics()}: Jetty, {@code @Timed},
 * {@code @Metered}, {@code @ExceptionMetered}, the app's codahale metrics) in the scrape,
 * read at each scrape, with the names and types {@code client_java}'s Dropwizard bridge
 * ({@code simpleclient_dropwizard}, which the old bundles used) gives them: the name with
 * every character outside {@code [a-zA-Z0-9:_]} replaced by {@code _}; a gauge (numeric or
 * boolean; others are left out) and a counter as gauges; a meter as the counter
 * {@code <name>_total}; a histogram as a summary of its quantiles; a timer as a summary in
 * seconds. Dropwizard keeps no sum, so a summary's {@code _sum} is its mean times its count.
 * {@code jvm.*} metrics are left out: the JVM metrics cover them.
 */
final class DropwizardExports {
    private static final double SECONDS_PER_NANOSECOND = 1.0 / TimeUnit.SECONDS.toNanos(1);
    private static final double[] QUANTILES = {0.5, 0.75, 0.95, 0.98, 0.99, 0.999};

    private DropwizardExports() {}

    /** The Dropwizard registry each of our registries exports: that of the app started last. */
    private static final Map<Registry, AtomicReference<MetricRegistry>> SOURCES =
            Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * Exports {@code metrics} through {@code registry} at every scrape. Once per registry:
     * an app started again in the same JVM (a new {@code environment.metrics()}) replaces
     * the metrics exported, rather than adding a second copy of every family.
     */
    static void register(Registry registry, MetricRegistry metrics) {
        SOURCES.computeIfAbsent(registry, DropwizardExports::exportEachScrape).set(metrics);
    }

    private static AtomicReference<MetricRegistry> exportEachScrape(Registry registry) {
        AtomicReference<MetricRegistry> source = new AtomicReference<>();
        ScrapeTimeFamilies.register(registry, sink -> {
            for (Map.Entry<String, Metric> entry : source.get().getMetrics().entrySet()) {
                if (!entry.getKey().startsWith("jvm.")) {
                    export(sink, entry.getKey(), entry.getValue());
                }
            }
        });
        return source;
    }

    private static void export(ScrapeTimeFamilies.Sink sink, String dropwizardName, Metric metric) {
        String name = dropwizardName.replaceAll("[^a-zA-Z0-9:_]", "_");
        String help = "Generated from Dropwizard metric import (metric=" + dropwizardName + ", type="
                + metric.getClass().getName() + ")";
        if (metric instanceof Gauge<?>) {
            Object value = ((Gauge<?>) metric).getValue();
            if (value instanceof Number) {
                sink.gauge(name, help).value(((Number) value).doubleValue());
            } else if (value instanceof Boolean) {
                sink.gauge(name, help).value((Boolean) value ? 1 : 0);
            }
        } else if (metric instanceof Counter) {
            sink.gauge(name, help).value(((Counter) metric).getCount());
        } else if (metric instanceof Timer) {
            Timer timer = (Timer) metric;
            summary(sink, name, help, timer.getSnapshot(), timer.getCount(), SECONDS_PER_NANOSECOND);
        } else if (metric instanceof Histogram) {
            Histogram histogram = (Histogram) metric;
            summary(sink, name, help, histogram.getSnapshot(), histogram.getCount(), 1.0);
        } else if (metric instanceof Meter) {
            sink.counter(name, help).value(((Meter) metric).getCount());
        }
    }

    private static void summary(ScrapeTimeFamilies.Sink sink, String name, String help, Snapshot snapshot, long count,
            double factor) {
        double[] quantiles = {
            snapshot.getMedian() * factor, snapshot.get75thPercentile() * factor,
            snapshot.get95thPercentile() * factor, snapshot.get98thPercentile() * factor,
            snapshot.get99thPercentile() * factor, snapshot.get999thPercentile() * factor,
        };
        sink.summary(name, help).summary(QUANTILES, quantiles, count, snapshot.getMean() * factor * count);
    }
}
