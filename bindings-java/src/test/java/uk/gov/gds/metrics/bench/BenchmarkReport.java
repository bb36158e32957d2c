package uk.gov.gds.metrics.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link MetricsBenchmarks} and writes the Markdown section of {@code BENCHMARKS.md}
 * for the Java binding: each operation with gds-metrics and {@code client_java} side by
 * side, and their ratio. Usage: {@code BenchmarkReport <output.md>}.
 */
public final class BenchmarkReport {
    private BenchmarkReport() {}

    public static void main(String[] args) throws RunnerException, IOException {
        Path output = Path.of(args.length > 0 ? args[0] : "java.md");
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(MetricsBenchmarks.class.getName())
                .forks(1)
                .warmupIterations(3)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(5)
                .measurementTime(TimeValue.seconds(1))
                .build()).run();
        Files.writeString(output, markdown(scores(results)));
        System.out.println("wrote " + output);
    }

    /** Score and unit by benchmark method name. */
    private static Map<String, double[]> scores(Collection<RunResult> results) {
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark().replaceAll(".*\\.", "");
            scores.put(method, new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
            UNITS.put(method, r.getPrimaryResult().getScoreUnit());
        }
        return scores;
    }

    private static final Map<String, String> UNITS = new LinkedHashMap<>();

    private static String markdown(Map<String, double[]> scores) {
        StringBuilder md = new StringBuilder();
        md.append("## Java binding (JMH, gds-metrics vs client_java ").append(peerVersion()).append(")\n\n");
        md.append("Average time per operation, one JVM fork, ± the 99.9% confidence interval; ")
                .append("ratio = gds-metrics ÷ client_java (below 1 is faster). ")
                .append("Multi-thread rows are the time per operation seen by each thread.\n\n");
        md.append("| operation | gds-metrics | client_java | ratio |\n|---|---|---|---|\n");
        for (Map.Entry<String, double[]> e : scores.entrySet()) {
            if (!e.getKey().endsWith("Ours")) {
                continue;
            }
            String operation = e.getKey().substring(0, e.getKey().length() - "Ours".length());
            double[] peer = scores.get(operation + "Peer");
            if (peer == null) {
                continue;
            }
            String unit = UNITS.get(e.getKey());
            md.append(String.format(Locale.ROOT, "| %s | %.1f ± %.1f %s | %.1f ± %.1f %s | %.2f |%n",
                    label(operation), e.getValue()[0], e.getValue()[1], unit, peer[0], peer[1], unit,
                    e.getValue()[0] / peer[0]));
        }
        return md.toString();
    }

    /** The client_java version on the class path, from its jar's file name. */
    private static String peerVersion() {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("prometheus-metrics-core-([^/:;]+)\\.jar")
                .matcher(System.getProperty("java.class.path"));
        return m.find() ? m.group(1) : "1.x";
    }

    /** "counterInc1Thread" as "counter inc 1 thread". */
    private static String label(String operation) {
        return operation.replaceAll("([a-z])([A-Z0-9])", "$1 $2").replaceAll("([0-9])([A-Z])", "$1 $2")
                .toLowerCase(Locale.ROOT);
    }
}
