package uk.gov.gds.metrics;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;

/**
 * JVM metrics read at scrape time from the platform MX beans:
 * <ul>
 *   <li>{@code jvm_memory_used_bytes}, {@code jvm_memory_committed_bytes},
 *       {@code jvm_memory_max_bytes} by {@code area} ({@code heap}, {@code nonheap});</li>
 *   <li>{@code jvm_gc_collections_total} and {@code jvm_gc_collection_seconds_total} by
 *       {@code gc} (the collector's name);</li>
 *   <li>{@code jvm_threads_current}, {@code jvm_threads_daemon}, {@code jvm_threads_peak}.</li>
 * </ul>
 */
public final class JvmMetrics {
    private final Gauge used;
    private final Gauge committed;
    private final Gauge max;
    private final Counter collections;
    private final Counter collectionSeconds;
    private final Gauge threads;
    private final Gauge daemonThreads;
    private final Gauge peakThreads;
    /** The collector totals already added to the counters, by collector name. */
    private final Map<String, long[]> seen = new HashMap<>();

    private JvmMetrics(Registry registry) {
        used = gauge(registry, "jvm_memory_used_bytes", "Memory in use, by area.");
        committed = gauge(registry, "jvm_memory_committed_bytes", "Memory committed by the JVM, by area.");
        max = gauge(registry, "jvm_memory_max_bytes", "The most memory the JVM may use, by area (-1: no limit).");
        collections = Counter.builder().name("jvm_gc_collections_total").help("Garbage collections, by collector.")
                .labelNames("gc").register(registry);
        collectionSeconds = Counter.builder().name("jvm_gc_collection_seconds_total")
                .help("Time spent in garbage collection, by collector.").labelNames("gc").register(registry);
        threads = Gauge.builder().name("jvm_threads_current").help("Live threads.").register(registry);
        daemonThreads = Gauge.builder().name("jvm_threads_daemon").help("Live daemon threads.").register(registry);
        peakThreads = Gauge.builder().name("jvm_threads_peak").help("The most live threads since start.")
                .register(registry);
    }

    /**
     * Registers the JVM metrics in {@code registry}, refreshed before each of its scrapes;
     * once per registry: registering them again (a second app start) does nothing.
     */
    public static void register(Registry registry) {
        if (registry.installFirstTime(JvmMetrics.class.getName())) {
            JvmMetrics metrics = new JvmMetrics(registry);
            registry.beforeScrape(metrics::refresh);
        }
    }

    private static Gauge gauge(Registry registry, String name, String help) {
        return Gauge.builder().name(name).help(help).labelNames("area").register(registry);
    }

    private synchronized void refresh() {
        var memory = ManagementFactory.getMemoryMXBean();
        setMemory("heap", memory.getHeapMemoryUsage());
        setMemory("nonheap", memory.getNonHeapMemoryUsage());
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            addCollections(gc);
        }
        ThreadMXBean t = ManagementFactory.getThreadMXBean();
        threads.set(t.getThreadCount());
        daemonThreads.set(t.getDaemonThreadCount());
        peakThreads.set(t.getPeakThreadCount());
    }

    private void setMemory(String area, MemoryUsage usage) {
        used.labelValues(area).set(usage.getUsed());
        committed.labelValues(area).set(usage.getCommitted());
        max.labelValues(area).set(usage.getMax());
    }

    /** The MX beans report totals; the counters get what is new since the last scrape. */
    private void addCollections(GarbageCollectorMXBean gc) {
        long count = Math.max(0, gc.getCollectionCount());
        long millis = Math.max(0, gc.getCollectionTime());
        long[] before = seen.computeIfAbsent(gc.getName(), k -> new long[2]);
        collections.labelValues(gc.getName()).inc(Math.max(0, count - before[0]));
        collectionSeconds.labelValues(gc.getName()).inc(Math.max(0, millis - before[1]) / 1000.0);
        before[0] = Math.max(before[0], count);
        before[1] = Math.max(before[1], millis);
    }
}
