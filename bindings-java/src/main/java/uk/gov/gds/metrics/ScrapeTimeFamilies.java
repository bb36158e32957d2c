package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * Families whose values live in another metrics library and are read at each scrape (the
 * Dropwizard bundle exports {@code environment.metrics()} this way). Before every render of
 * the registry, {@code read} reports the current families to a {@link Sink}; the core
 * writes them in whichever format the scrape negotiated. A family whose name Prometheus
 * would refuse is left out, so one odd name never fails a scrape.
 */
public final class ScrapeTimeFamilies {
    private final long handle;

    private ScrapeTimeFamilies(Registry registry, Consumer<Sink> read) {
        handle = Native.foreignNew(registry.handle());
        registry.keepAlive();
        Handles.freeWith(this, handle, Native::foreignFree);
        registry.beforeScrape(() -> {
            Sink sink = new Sink();
            read.accept(sink);
            sink.handOver(this);
        });
    }

    /** Reads families with {@code read} before every scrape of {@code registry}. */
    public static ScrapeTimeFamilies register(Registry registry, Consumer<Sink> read) {
        return new ScrapeTimeFamilies(registry, read);
    }

    /** The families of one scrape, without labels. */
    public static final class Sink {
        /** How many values a summary takes: its quantiles, then count and sum. */
        private static final int SUMMARY_VALUES = 8;

        private final List<String> names = new ArrayList<>();
        private final List<String> helps = new ArrayList<>();
        private final List<Integer> kinds = new ArrayList<>();
        private final List<Double> values = new ArrayList<>();

        private Sink() {}

        /** A gauge {@code name}. */
        public void gauge(String name, String help, double value) {
            add(name, help, Native.GAUGE, value);
        }

        /** A counter, exposed as {@code name_total}. */
        public void counter(String name, String help, double value) {
            add(name, help, Native.COUNTER, value);
        }

        /**
         * A summary with the quantiles 0.5, 0.75, 0.95, 0.98, 0.99 and 0.999 (six values, in
         * that order), its count and its sum.
         */
        public void summary(String name, String help, double[] quantiles, long count, double sum) {
            if (quantiles.length != SUMMARY_VALUES - 2) {
                throw new IllegalArgumentException("a summary takes 6 quantile values, got " + quantiles.length);
            }
            names.add(name);
            helps.add(help);
            kinds.add(Native.SUMMARY);
            for (double q : quantiles) {
                values.add(q);
            }
            values.add((double) count);
            values.add(sum);
        }

        private void add(String name, String help, int kind, double value) {
            names.add(name);
            helps.add(help);
            kinds.add(kind);
            values.add(value);
        }

        private void handOver(ScrapeTimeFamilies families) {
            try {
                Native.foreignSet(families.handle, names.toArray(new String[0]), helps.toArray(new String[0]),
                        kinds.stream().mapToInt(Integer::intValue).toArray(),
                        values.stream().mapToDouble(Double::doubleValue).toArray());
            } finally {
                Reference.reachabilityFence(families);
            }
        }
    }
}
