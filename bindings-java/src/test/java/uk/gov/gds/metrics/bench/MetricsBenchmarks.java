package uk.gov.gds.metrics.bench;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusProtobufWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import uk.gov.gds.metrics.CounterDataPoint;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Registry;

/**
 * The hot paths of gds-metrics ({@code *Ours}) next to the same operation in
 * {@code client_java} 1.x ({@code *Peer}), as applications use each by default. JMH runs
 * benchmarks in name order, so each pair runs back to back and sees the same machine load;
 * {@link BenchmarkReport} divides one by the other.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MetricsBenchmarks {
    static final double[] BUCKETS = {.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10};

    /** One counter, one labelled counter and one histogram in each library, shared by all threads. */
    @State(Scope.Benchmark)
    public static class Metrics {
        uk.gov.gds.metrics.Counter ours;
        uk.gov.gds.metrics.Counter oursLabelled;
        uk.gov.gds.metrics.Histogram oursHistogram;
        uk.gov.gds.metrics.Histogram oursNativeHistogram;
        Counter peer;
        Counter peerLabelled;
        Histogram peerHistogram;
        Histogram peerNativeHistogram;

        @Setup
        public void setUp() {
            Registry registry = new Registry();
            ours = uk.gov.gds.metrics.Counter.builder().name("jobs").help("h").register(registry);
            oursLabelled = uk.gov.gds.metrics.Counter.builder().name("requests").help("h")
                    .labelNames("method", "code").register(registry);
            oursHistogram = uk.gov.gds.metrics.Histogram.builder().name("latency_seconds").help("h")
                    .classicUpperBounds(BUCKETS).register(registry);
            oursNativeHistogram = uk.gov.gds.metrics.Histogram.builder().name("native_latency_seconds").help("h")
                    .nativeOnly().register(registry);
            PrometheusRegistry peerRegistry = new PrometheusRegistry();
            peer = Counter.builder().name("jobs").help("h").register(peerRegistry);
            peerLabelled = Counter.builder().name("requests").help("h").labelNames("method", "code")
                    .register(peerRegistry);
            peerHistogram = Histogram.builder().name("latency_seconds").help("h").classicOnly()
                    .classicUpperBounds(BUCKETS).register(peerRegistry);
            peerNativeHistogram = Histogram.builder().name("native_latency_seconds").help("h").nativeOnly()
                    .register(peerRegistry);
        }
    }

    /** A cached series, as the docs tell callers on hot paths to keep one. */
    @State(Scope.Thread)
    public static class Cached {
        CounterDataPoint ours;
        io.prometheus.metrics.core.datapoints.CounterDataPoint peer;

        @Setup
        public void setUp(Metrics m) {
            ours = m.oursLabelled.labelValues("GET", "200");
            peer = m.peerLabelled.labelValues("GET", "200");
        }
    }

    @Benchmark
    @Threads(1)
    public void counterInc1ThreadOurs(Metrics m) {
        m.ours.inc();
    }

    @Benchmark
    @Threads(1)
    public void counterInc1ThreadPeer(Metrics m) {
        m.peer.inc();
    }

    @Benchmark
    @Threads(2)
    public void counterInc2ThreadsOurs(Metrics m) {
        m.ours.inc();
    }

    @Benchmark
    @Threads(2)
    public void counterInc2ThreadsPeer(Metrics m) {
        m.peer.inc();
    }

    @Benchmark
    @Threads(1)
    public void labelledIncOurs(Metrics m) {
        m.oursLabelled.labelValues("GET", "200").inc();
    }

    @Benchmark
    @Threads(1)
    public void labelledIncPeer(Metrics m) {
        m.peerLabelled.labelValues("GET", "200").inc();
    }

    @Benchmark
    @Threads(1)
    public void cachedSeriesIncOurs(Cached c) {
        c.ours.inc();
    }

    @Benchmark
    @Threads(1)
    public void cachedSeriesIncPeer(Cached c) {
        c.peer.inc();
    }

    @Benchmark
    @Threads(1)
    public void histogramObserveOurs(Metrics m) {
        m.oursHistogram.observe(0.3);
    }

    @Benchmark
    @Threads(1)
    public void histogramObservePeer(Metrics m) {
        m.peerHistogram.observe(0.3);
    }

    /** Native (sparse, exponential) buckets at each library's defaults; values spread over many buckets. */
    @State(Scope.Thread)
    public static class Values {
        private static final double[] SPREAD = new double[1024];

        static {
            java.util.Random random = new java.util.Random(42);
            for (int i = 0; i < SPREAD.length; i++) {
                SPREAD[i] = Math.exp(random.nextGaussian() - 2);
            }
        }

        int next;

        double next() {
            return SPREAD[next++ & (SPREAD.length - 1)];
        }
    }

    @Benchmark
    @Threads(1)
    public void nativeHistogramObserveOurs(Metrics m, Values v) {
        m.oursNativeHistogram.observe(v.next());
    }

    @Benchmark
    @Threads(1)
    public void nativeHistogramObservePeer(Metrics m, Values v) {
        m.peerNativeHistogram.observe(v.next());
    }

    /** Labelled counter series in each library, as a large app would expose. */
    public abstract static class ManySeries {
        Registry ours;
        PrometheusRegistry peer;
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);

        abstract int series();

        @Setup(Level.Trial)
        public void setUp() {
            ours = new Registry();
            peer = new PrometheusRegistry();
            uk.gov.gds.metrics.Counter oursCounter = uk.gov.gds.metrics.Counter.builder().name("requests")
                    .help("Requests.").labelNames("path", "code").seriesLimit(series()).register(ours);
            Counter peerCounter = Counter.builder().name("requests").help("Requests.").labelNames("path", "code")
                    .register(peer);
            for (int i = 0; i < series(); i++) {
                String path = "/page/" + (i / 10);
                String code = Integer.toString(200 + i % 10);
                oursCounter.labelValues(path, code).inc(i);
                peerCounter.labelValues(path, code).inc(i);
            }
        }
    }

    /** 10,000 series. */
    @State(Scope.Benchmark)
    public static class TenThousandSeries extends ManySeries {
        @Override
        int series() {
            return 10_000;
        }
    }

    /** 100,000 series. */
    @State(Scope.Benchmark)
    public static class HundredThousandSeries extends ManySeries {
        @Override
        int series() {
            return 100_000;
        }
    }

    private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();
    private static final PrometheusProtobufWriter PROTOBUF = new PrometheusProtobufWriter();

    /** The bytes a scrape serves: gds-metrics copies them out of the core, client_java writes them to a stream. */
    private static int peerScrape(ManySeries s, ExpositionFormatWriter writer) throws IOException {
        s.out.reset();
        writer.write(s.out, s.peer.scrape());
        return s.out.size();
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int scrape10kSeriesOurs(TenThousandSeries s) {
        return s.ours.scrapeBytes(Format.TEXT).length;
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int scrape10kSeriesPeer(TenThousandSeries s) throws IOException {
        return peerScrape(s, TEXT);
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int protobuf10kSeriesOurs(TenThousandSeries s) {
        return s.ours.scrapeBytes(Format.PROTOBUF).length;
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int protobuf10kSeriesPeer(TenThousandSeries s) throws IOException {
        return peerScrape(s, PROTOBUF);
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int protobuf100kSeriesOurs(HundredThousandSeries s) {
        return s.ours.scrapeBytes(Format.PROTOBUF).length;
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int protobuf100kSeriesPeer(HundredThousandSeries s) throws IOException {
        return peerScrape(s, PROTOBUF);
    }
}
