package uk.gov.gds.metrics.bench;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
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
        Counter peer;
        Counter peerLabelled;
        Histogram peerHistogram;

        @Setup
        public void setUp() {
            Registry registry = new Registry();
            ours = uk.gov.gds.metrics.Counter.builder().name("jobs").help("h").register(registry);
            oursLabelled = uk.gov.gds.metrics.Counter.builder().name("requests").help("h")
                    .labelNames("method", "code").register(registry);
            oursHistogram = uk.gov.gds.metrics.Histogram.builder().name("latency_seconds").help("h")
                    .classicUpperBounds(BUCKETS).register(registry);
            PrometheusRegistry peerRegistry = new PrometheusRegistry();
            peer = Counter.builder().name("jobs").help("h").register(peerRegistry);
            peerLabelled = Counter.builder().name("requests").help("h").labelNames("method", "code")
                    .register(peerRegistry);
            peerHistogram = Histogram.builder().name("latency_seconds").help("h").classicOnly()
                    .classicUpperBounds(BUCKETS).register(peerRegistry);
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

    /** 10,000 labelled series in each library, as a large app would expose. */
    @State(Scope.Benchmark)
    public static class TenThousandSeries {
        Registry ours;
        PrometheusRegistry peer;
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);

        @Setup(Level.Trial)
        public void setUp() {
            ours = new Registry();
            peer = new PrometheusRegistry();
            uk.gov.gds.metrics.Counter oursCounter = uk.gov.gds.metrics.Counter.builder().name("requests")
                    .help("Requests.").labelNames("path", "code").seriesLimit(10_000).register(ours);
            Counter peerCounter = Counter.builder().name("requests").help("Requests.").labelNames("path", "code")
                    .register(peer);
            for (int i = 0; i < 10_000; i++) {
                String path = "/page/" + (i / 10);
                String code = Integer.toString(200 + i % 10);
                oursCounter.labelValues(path, code).inc(i);
                peerCounter.labelValues(path, code).inc(i);
            }
        }
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int scrape10kSeriesOurs(TenThousandSeries s) {
        return s.ours.scrape(Format.TEXT).length();
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int scrape10kSeriesPeer(TenThousandSeries s) throws IOException {
        s.out.reset();
        s.writer.write(s.out, s.peer.scrape());
        return s.out.size();
    }
}
