package uk.gov.gds.metrics.clientjava;

import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.Collector.MetricFamilySamples.Sample;
import io.prometheus.client.CollectorRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import uk.gov.gds.metrics.ScrapeTimeFamilies;

/**
 * {@code client_java} 0.x ({@code simpleclient}): the samples of
 * {@code CollectorRegistry.defaultRegistry}, grouped back into series. Counters, gauges,
 * summaries, histograms, info metrics and state sets ({@code Enumeration}) are exported;
 * gauge histograms are left out.
 */
final class SimpleclientExports {
    private SimpleclientExports() {}

    static void read(ScrapeTimeFamilies.Sink sink) {
        for (MetricFamilySamples family : Collections.list(CollectorRegistry.defaultRegistry.metricFamilySamples())) {
            String help = family.help == null ? "" : family.help;
            switch (family.type) {
                case COUNTER:
                    values(sink.counter(family.name, help, labelNames(family, "_total")), family, "_total");
                    break;
                case GAUGE:
                case UNKNOWN:
                    values(sink.gauge(family.name, help, labelNames(family, "")), family, "");
                    break;
                case INFO:
                    info(sink.info(family.name, help, labelNames(family, "_info")), family);
                    break;
                case SUMMARY:
                    summary(sink.summary(family.name, help, labelNames(family, "_count")), family);
                    break;
                case HISTOGRAM:
                    histogram(sink.histogram(family.name, help, labelNames(family, "_count")), family);
                    break;
                case STATE_SET:
                    stateSet(sink.stateSet(family.name, help, stateSetLabelNames(family)), family);
                    break;
                default:
                    break;
            }
        }
    }

    private static String[] labelNames(MetricFamilySamples family, String suffix) {
        for (Sample s : family.samples) {
            if (s.name.equals(family.name + suffix)) {
                return s.labelNames.toArray(new String[0]);
            }
        }
        return new String[0];
    }

    private static void values(ScrapeTimeFamilies.Family out, MetricFamilySamples family, String suffix) {
        for (Sample s : family.samples) {
            if (s.name.equals(family.name + suffix)) {
                out.value(s.value, s.labelValues.toArray(new String[0]));
            }
        }
    }

    private static void info(ScrapeTimeFamilies.Family out, MetricFamilySamples family) {
        for (Sample s : family.samples) {
            if (s.name.equals(family.name + "_info")) {
                out.info(s.labelValues.toArray(new String[0]));
            }
        }
    }

    /** A state set's own label names: those of its samples without the state label, named like it. */
    private static String[] stateSetLabelNames(MetricFamilySamples family) {
        if (family.samples.isEmpty()) {
            return new String[0];
        }
        return family.samples.get(0).labelNames.stream().filter(n -> !n.equals(family.name)).toArray(String[]::new);
    }

    private static void stateSet(ScrapeTimeFamilies.Family out, MetricFamilySamples family) {
        for (Map.Entry<List<String>, List<Sample>> series : bySeries(family, family.name).entrySet()) {
            List<Sample> samples = series.getValue();
            String[] states = new String[samples.size()];
            boolean[] set = new boolean[samples.size()];
            for (int i = 0; i < states.length; i++) {
                Sample s = samples.get(i);
                int state = s.labelNames.indexOf(family.name);
                states[i] = state < 0 ? "" : s.labelValues.get(state);
                set[i] = s.value != 0;
            }
            out.stateSet(states, set, series.getKey().toArray(new String[0]));
        }
    }

    private static void summary(ScrapeTimeFamilies.Family out, MetricFamilySamples family) {
        for (Map.Entry<List<String>, List<Sample>> series : bySeries(family, "quantile").entrySet()) {
            List<Double> quantiles = new ArrayList<>();
            List<Double> values = new ArrayList<>();
            double count = 0;
            double sum = Double.NaN;
            for (Sample s : series.getValue()) {
                if (s.name.equals(family.name)) {
                    quantiles.add(Double.parseDouble(s.labelValues.get(s.labelNames.indexOf("quantile"))));
                    values.add(s.value);
                } else if (s.name.equals(family.name + "_count")) {
                    count = s.value;
                } else if (s.name.equals(family.name + "_sum")) {
                    sum = s.value;
                }
            }
            out.summary(doubles(quantiles), doubles(values), (long) count, sum, series.getKey().toArray(new String[0]));
        }
    }

    private static void histogram(ScrapeTimeFamilies.Family out, MetricFamilySamples family) {
        for (Map.Entry<List<String>, List<Sample>> series : bySeries(family, "le").entrySet()) {
            List<Double> bounds = new ArrayList<>();
            List<Long> counts = new ArrayList<>();
            double sum = Double.NaN;
            for (Sample s : series.getValue()) {
                if (s.name.equals(family.name + "_bucket")) {
                    double le = Double.parseDouble(s.labelValues.get(s.labelNames.indexOf("le")).replace("Inf", "Infinity"));
                    if (le != Double.POSITIVE_INFINITY) {
                        bounds.add(le);
                    }
                    counts.add((long) s.value);
                } else if (s.name.equals(family.name + "_sum")) {
                    sum = s.value;
                }
            }
            out.histogram(doubles(bounds), counts.stream().mapToLong(Long::longValue).toArray(), sum,
                    series.getKey().toArray(new String[0]));
        }
    }

    /** The samples of each series, by its label values without {@code extraLabel}. */
    private static Map<List<String>, List<Sample>> bySeries(MetricFamilySamples family, String extraLabel) {
        Map<List<String>, List<Sample>> series = new LinkedHashMap<>();
        for (Sample s : family.samples) {
            List<String> values = new ArrayList<>();
            for (int i = 0; i < s.labelNames.size(); i++) {
                if (!s.labelNames.get(i).equals(extraLabel)) {
                    values.add(s.labelValues.get(i));
                }
            }
            series.computeIfAbsent(values, k -> new ArrayList<>()).add(s);
        }
        return series;
    }

    private static double[] doubles(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
