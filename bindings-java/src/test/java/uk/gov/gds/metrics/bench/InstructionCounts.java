package uk.gov.gds.metrics.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Instructions per operation of gds-metrics and {@code client_java}, counted by callgrind:
 * on a busy machine, where JMH's times swing with other people's load, the count is what
 * does not. Runs inside {@code valgrind --tool=callgrind --callgrind-out-file=<dir>/cg.%p}
 * (see {@code make bench-java}); every operation is first run until the JIT has compiled
 * it, then its counted run sits between two callgrind dumps (asked for with
 * {@code callgrind_control}), and the instructions of an empty run between two dumps are
 * taken off. Single-threaded rows only: valgrind runs one thread at a time, so contention
 * cannot be counted. Usage: {@code InstructionCounts <callgrind out dir> <output.md>}.
 */
public final class InstructionCounts {
    /** Calls of each loop, at a hundredth of its counted length, before counting: enough for C2. */
    private static final int WARM_UP_CALLS = 40;
    private static final long COUNTED = 2_000_000;
    private static final long SCRAPES = 20;

    private InstructionCounts() {}

    /** An operation run {@code n} times, and how often to run it. */
    private static final class Row {
        final String operation;
        final LongConsumer ours;
        final LongConsumer peer;
        final long times;

        Row(String operation, long times, LongConsumer ours, LongConsumer peer) {
            this.operation = operation;
            this.times = times;
            this.ours = ours;
            this.peer = peer;
        }
    }

    private static final MetricsBenchmarks B = new MetricsBenchmarks();
    private static final MetricsBenchmarks.Metrics M = new MetricsBenchmarks.Metrics();
    private static final MetricsBenchmarks.Cached CACHED = new MetricsBenchmarks.Cached();
    private static final MetricsBenchmarks.Values VALUES = new MetricsBenchmarks.Values();
    private static final MetricsBenchmarks.TenThousandSeries MANY = new MetricsBenchmarks.TenThousandSeries();

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Path output = Path.of(args[1]);
        M.setUp();
        CACHED.setUp(M);
        MANY.setUp();
        List<Row> rows = List.of(
                new Row("counter inc", COUNTED, InstructionCounts::counterInc1ThreadOurs, InstructionCounts::counterInc1ThreadPeer),
                new Row("cached series inc", COUNTED, InstructionCounts::cachedSeriesIncOurs, InstructionCounts::cachedSeriesIncPeer),
                new Row("labelled inc", COUNTED, InstructionCounts::labelledIncOurs, InstructionCounts::labelledIncPeer),
                new Row("histogram observe", COUNTED, InstructionCounts::histogramObserveOurs, InstructionCounts::histogramObservePeer),
                new Row("native histogram observe", COUNTED, InstructionCounts::nativeHistogramObserveOurs, InstructionCounts::nativeHistogramObservePeer),
                new Row("scrape 10k series", SCRAPES, InstructionCounts::scrape10kSeriesOurs, InstructionCounts::scrape10kSeriesPeer),
                new Row("protobuf 10k series", SCRAPES, InstructionCounts::protobuf10kSeriesOurs, InstructionCounts::protobuf10kSeriesPeer));
        for (Row row : rows) {
            for (int i = 0; i < WARM_UP_CALLS; i++) {
                row.ours.accept(Math.max(1, row.times / 100));
                row.peer.accept(Math.max(1, row.times / 100));
            }
        }
        Dumps dumps = new Dumps(dir);
        long empty = dumps.count(() -> {});
        StringBuilder md = new StringBuilder();
        md.append("### Instructions per operation (callgrind)\n\n");
        md.append("The single-threaded rows again, counted by callgrind in one JVM after JIT warm-up ")
                .append("(the instructions of an empty interval taken off), which the machine's load cannot move; ratio = gds-metrics ÷ client_java. An atomic read-modify-write is one instruction here but costs tens of cycles, so these ratios overstate plain instructions around it.\n\n")
                .append("| operation | gds-metrics | client_java | ratio |\n|---|---|---|---|\n");
        for (Row row : rows) {
            double ours = (dumps.count(() -> row.ours.accept(row.times)) - empty) / (double) row.times;
            double peer = (dumps.count(() -> row.peer.accept(row.times)) - empty) / (double) row.times;
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f | %.2f |%n", row.operation, ours, peer,
                    ours / peer));
        }
        Files.writeString(output, md.toString());
        System.out.print(md);
    }

    // One loop per operation, so the JIT compiles each with its one call inlined.

    private static void counterInc1ThreadOurs(long n) {
        for (long i = 0; i < n; i++) {
            B.counterInc1ThreadOurs(M);
        }
    }

    private static void counterInc1ThreadPeer(long n) {
        for (long i = 0; i < n; i++) {
            B.counterInc1ThreadPeer(M);
        }
    }

    private static void cachedSeriesIncOurs(long n) {
        for (long i = 0; i < n; i++) {
            B.cachedSeriesIncOurs(CACHED);
        }
    }

    private static void cachedSeriesIncPeer(long n) {
        for (long i = 0; i < n; i++) {
            B.cachedSeriesIncPeer(CACHED);
        }
    }

    private static void labelledIncOurs(long n) {
        for (long i = 0; i < n; i++) {
            B.labelledIncOurs(M);
        }
    }

    private static void labelledIncPeer(long n) {
        for (long i = 0; i < n; i++) {
            B.labelledIncPeer(M);
        }
    }

    private static void histogramObserveOurs(long n) {
        for (long i = 0; i < n; i++) {
            B.histogramObserveOurs(M);
        }
    }

    private static void histogramObservePeer(long n) {
        for (long i = 0; i < n; i++) {
            B.histogramObservePeer(M);
        }
    }

    private static void nativeHistogramObserveOurs(long n) {
        for (long i = 0; i < n; i++) {
            B.nativeHistogramObserveOurs(M, VALUES);
        }
    }

    private static void nativeHistogramObservePeer(long n) {
        for (long i = 0; i < n; i++) {
            B.nativeHistogramObservePeer(M, VALUES);
        }
    }

    private static void scrape10kSeriesOurs(long n) {
        for (long i = 0; i < n; i++) {
            B.scrape10kSeriesOurs(MANY);
        }
    }

    private static void scrape10kSeriesPeer(long n) {
        for (long i = 0; i < n; i++) {
            unchecked(() -> B.scrape10kSeriesPeer(MANY));
        }
    }

    private static void protobuf10kSeriesOurs(long n) {
        for (long i = 0; i < n; i++) {
            B.protobuf10kSeriesOurs(MANY);
        }
    }

    private static void protobuf10kSeriesPeer(long n) {
        for (long i = 0; i < n; i++) {
            unchecked(() -> B.protobuf10kSeriesPeer(MANY));
        }
    }

    private interface Io {
        void run() throws IOException;
    }

    private static void unchecked(Io io) {
        try {
            io.run();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Callgrind's dumps of this process, asked for one after another. */
    private static final class Dumps {
        private static final Pattern TOTALS = Pattern.compile("^(?:totals|summary): (\\d+)", Pattern.MULTILINE);
        private final Path dir;
        private int taken;

        Dumps(Path dir) throws Exception {
            this.dir = dir;
            dump();
        }

        /** The instructions run by {@code work} and the dump requests around it. */
        long count(Runnable work) throws Exception {
            work.run();
            return dump();
        }

        /** Asks for a dump, waits for it, returns its instruction count. */
        private long dump() throws Exception {
            long pid = ProcessHandle.current().pid();
            Process p = new ProcessBuilder("callgrind_control", "-d", Long.toString(pid)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("callgrind_control failed: is this running under callgrind?");
            }
            taken++;
            Path file = dir.resolve("cg." + pid + "." + taken);
            Matcher totals = TOTALS.matcher(Files.readString(file));
            if (!totals.find()) {
                throw new IllegalStateException("no totals in " + file);
            }
            return Long.parseLong(totals.group(1));
        }
    }
}
