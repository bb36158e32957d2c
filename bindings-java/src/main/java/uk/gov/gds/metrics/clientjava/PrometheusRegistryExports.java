package uk.gov.gds.metrics.clientjava;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.List;
import uk.gov.gds.metrics.ScrapeTimeFamilies;

/**
 * {@code client_java} 1.x: the snapshots of {@code PrometheusRegistry.defaultRegistry}.
 * Counters, gauges, unknown-type metrics (as gauges), summaries, classic histograms, info
 * metrics and state sets are exported; histograms with native buckets only are left out.
 */
final class PrometheusRegistryExports {
    private PrometheusRegistryExports() {}

    static void read(ScrapeTimeFamilies.Sink sink) {
        for (MetricSnapshot snapshot : PrometheusRegistry.defaultRegistry.scrape()) {
            String name = snapshot.getMetadata().getPrometheusName();
            String help = snapshot.getMetadata().getHelp() == null ? "" : snapshot.getMetadata().getHelp();
            String[] labelNames = labelNames(snapshot.getDataPoints());
            if (snapshot instanceof CounterSnapshot) {
                ScrapeTimeFamilies.Family out = sink.counter(name, help, labelNames);
                ((CounterSnapshot) snapshot).getDataPoints().forEach(p -> out.value(p.getValue(), values(p.getLabels())));
            } else if (snapshot instanceof GaugeSnapshot) {
                ScrapeTimeFamilies.Family out = sink.gauge(name, help, labelNames);
                ((GaugeSnapshot) snapshot).getDataPoints().forEach(p -> out.value(p.getValue(), values(p.getLabels())));
            } else if (snapshot instanceof UnknownSnapshot) {
                ScrapeTimeFamilies.Family out = sink.gauge(name, help, labelNames);
                ((UnknownSnapshot) snapshot).getDataPoints().forEach(p -> out.value(p.getValue(), values(p.getLabels())));
            } else if (snapshot instanceof InfoSnapshot) {
                ScrapeTimeFamilies.Family out = sink.info(name, help, labelNames);
                ((InfoSnapshot) snapshot).getDataPoints().forEach(p -> out.info(values(p.getLabels())));
            } else if (snapshot instanceof StateSetSnapshot) {
                ScrapeTimeFamilies.Family out = sink.stateSet(name, help, labelNames);
                ((StateSetSnapshot) snapshot).getDataPoints().forEach(p -> stateSet(out, p));
            } else if (snapshot instanceof SummarySnapshot) {
                ScrapeTimeFamilies.Family out = sink.summary(name, help, labelNames);
                ((SummarySnapshot) snapshot).getDataPoints().forEach(p -> summary(out, p));
            } else if (snapshot instanceof HistogramSnapshot && !((HistogramSnapshot) snapshot).isGaugeHistogram()) {
                ScrapeTimeFamilies.Family out = sink.histogram(name, help, labelNames);
                ((HistogramSnapshot) snapshot).getDataPoints().forEach(p -> histogram(out, p));
            }
        }
    }

    private static void summary(ScrapeTimeFamilies.Family out, SummarySnapshot.SummaryDataPointSnapshot point) {
        Quantiles quantiles = point.getQuantiles();
        double[] qs = new double[quantiles.size()];
        double[] values = new double[quantiles.size()];
        for (int i = 0; i < qs.length; i++) {
            qs[i] = quantiles.get(i).getQuantile();
            values[i] = quantiles.get(i).getValue();
        }
        out.summary(qs, values, point.getCount(), point.getSum(), values(point.getLabels()));
    }

    private static void stateSet(ScrapeTimeFamilies.Family out, StateSetSnapshot.StateSetDataPointSnapshot point) {
        String[] states = new String[point.size()];
        boolean[] set = new boolean[point.size()];
        for (int i = 0; i < states.length; i++) {
            states[i] = point.getName(i);
            set[i] = point.isTrue(i);
        }
        out.stateSet(states, set, values(point.getLabels()));
    }

    private static void histogram(ScrapeTimeFamilies.Family out, HistogramSnapshot.HistogramDataPointSnapshot point) {
        ClassicHistogramBuckets buckets = point.getClassicBuckets();
        if (buckets.size() == 0) {
            return;
        }
        double[] bounds = new double[buckets.size() - 1];
        long[] cumulative = new long[buckets.size()];
        long total = 0;
        for (int i = 0; i < buckets.size(); i++) {
            total += buckets.getCount(i);
            cumulative[i] = total;
            if (i < bounds.length) {
                bounds[i] = buckets.getUpperBound(i);
            }
        }
        out.histogram(bounds, cumulative, point.getSum(), values(point.getLabels()));
    }

    private static String[] labelNames(List<? extends DataPointSnapshot> points) {
        if (points.isEmpty()) {
            return new String[0];
        }
        Labels labels = points.get(0).getLabels();
        String[] names = new String[labels.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = labels.getPrometheusName(i);
        }
        return names;
    }

    private static String[] values(Labels labels) {
        String[] values = new String[labels.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = labels.getValue(i);
        }
        return values;
    }
}
