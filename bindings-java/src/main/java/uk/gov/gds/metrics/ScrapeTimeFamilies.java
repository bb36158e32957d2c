package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * Families whose values live in another metrics library and are read at each scrape (the
 * Dropwizard bundle exports {@code environment.metrics()} this way, and the
 * {@code client_java} registries are exported so). Before every render of the registry,
 * {@code read} reports the current families to a {@link Sink}; the core writes them in
 * whichever format the scrape negotiated. A family the core refuses (a bad name or label,
 * a state set with a state named twice), one whose name the registry already exposes, or a
 * second family of one name, is left out, so one odd metric never fails a scrape.
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

    /** The families of one scrape. */
    public static final class Sink {
        private final List<Family> families = new ArrayList<>();

        private Sink() {}

        /** A counter, exposed as {@code name_total}; add series with {@link Family#value}. */
        public Family counter(String name, String help, String... labelNames) {
            return add(Native.COUNTER, name, help, labelNames);
        }

        /** A gauge; add series with {@link Family#value}. */
        public Family gauge(String name, String help, String... labelNames) {
            return add(Native.GAUGE, name, help, labelNames);
        }

        /** A summary; add series with {@link Family#summary}. */
        public Family summary(String name, String help, String... labelNames) {
            return add(Native.SUMMARY, name, help, labelNames);
        }

        /** A histogram; add series with {@link Family#histogram}. */
        public Family histogram(String name, String help, String... labelNames) {
            return add(Native.HISTOGRAM, name, help, labelNames);
        }

        /** An info metric, exposed as {@code name_info}; add series with {@link Family#info}. */
        public Family info(String name, String help, String... labelNames) {
            return add(Native.INFO, name, help, labelNames);
        }

        /**
         * A state set: each state of a series is a sample carrying the state in a label named
         * like the family, after the family's own labels, 1 when set and 0 when not
         * ({@code stateset} in OpenMetrics, a gauge in the Prometheus formats); add series with
         * {@link Family#stateSet}. No label of its own may be named like the family.
         */
        public Family stateSet(String name, String help, String... labelNames) {
            return add(Native.STATE_SET, name, help, labelNames);
        }

        private Family add(int kind, String name, String help, String[] labelNames) {
            Family family = new Family(kind, name, help, labelNames);
            families.add(family);
            return family;
        }

        private void handOver(ScrapeTimeFamilies target) {
            List<Integer> ints = new ArrayList<>();
            List<String> strings = new ArrayList<>();
            List<Double> doubles = new ArrayList<>();
            for (Family family : families) {
                family.writeTo(ints, strings, doubles);
            }
            try {
                Native.foreignSet(target.handle, ints.stream().mapToInt(Integer::intValue).toArray(),
                        strings.toArray(new String[0]), doubles.stream().mapToDouble(Double::doubleValue).toArray());
            } finally {
                Reference.reachabilityFence(target);
            }
        }
    }

    /** One family of a scrape: its series, each with one value per label name. */
    public static final class Family {
        private final int kind;
        private final String name;
        private final String help;
        private final String[] labelNames;
        private final List<String[]> labels = new ArrayList<>();
        private final List<Integer> points = new ArrayList<>();
        private final List<double[]> values = new ArrayList<>();
        /** A state set's state names, per series (empty for other kinds). */
        private final List<String[]> stateNames = new ArrayList<>();

        private Family(int kind, String name, String help, String[] labelNames) {
            this.kind = kind;
            this.name = name;
            this.help = help;
            this.labelNames = labelNames.clone();
        }

        /** A counter or gauge series. */
        public Family value(double value, String... labelValues) {
            return series(labelValues, 0, value);
        }

        /** A summary series: {@code quantiles[i]} is {@code values[i]}. */
        public Family summary(double[] quantiles, double[] quantileValues, long count, double sum,
                String... labelValues) {
            double[] all = concat(quantiles, quantileValues, new double[] {count, sum});
            return series(labelValues, quantiles.length, all);
        }

        /** A histogram series: finite {@code bounds}, then cumulative counts with {@code +Inf} last. */
        public Family histogram(double[] bounds, long[] cumulativeCounts, double sum, String... labelValues) {
            double[] counts = Arrays.stream(cumulativeCounts).asDoubleStream().toArray();
            return series(labelValues, bounds.length, concat(bounds, counts, new double[] {sum}));
        }

        /** An info series. */
        public Family info(String... labelValues) {
            return series(labelValues, 0);
        }

        /**
         * A state-set series: {@code states[i]} is set when {@code set[i]} is true. States are
         * written in the order given; a series with a state named twice or an empty one leaves
         * the family out of the scrape.
         */
        public Family stateSet(String[] states, boolean[] set, String... labelValues) {
            if (states.length != set.length) {
                throw new IllegalArgumentException("stateSet needs one flag per state: got " + states.length
                        + " states and " + set.length + " flags");
            }
            double[] flags = new double[set.length];
            for (int i = 0; i < set.length; i++) {
                flags[i] = set[i] ? 1 : 0;
            }
            series(labelValues, states.length, flags);
            stateNames.set(stateNames.size() - 1, states.clone());
            return this;
        }

        private Family series(String[] labelValues, int pointCount, double... seriesValues) {
            labels.add(labelValues.clone());
            points.add(pointCount);
            values.add(seriesValues);
            stateNames.add(new String[0]);
            return this;
        }

        private void writeTo(List<Integer> ints, List<String> strings, List<Double> doubles) {
            ints.addAll(List.of(kind, labelNames.length, labels.size()));
            strings.add(name);
            strings.add(help);
            strings.addAll(Arrays.asList(labelNames));
            for (int i = 0; i < labels.size(); i++) {
                ints.add(points.get(i));
                strings.addAll(Arrays.asList(labels.get(i)));
                strings.addAll(Arrays.asList(stateNames.get(i)));
                for (double v : values.get(i)) {
                    doubles.add(v);
                }
            }
        }

        private static double[] concat(double[]... parts) {
            return Arrays.stream(parts).flatMapToDouble(Arrays::stream).toArray();
        }
    }
}
