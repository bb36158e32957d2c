package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A jar without a library for the machine's platform: every use fails with the same
 * message naming the platform and what to do, never a {@code NoClassDefFoundError} after
 * the first. The library loads once per JVM, so the probe runs in a JVM of its own, told
 * by {@code gds.metrics.native.platform} to look for a platform the jar does not carry.
 */
class MissingPlatformTest {
    private static final String MESSAGE = "java.lang.UnsatisfiedLinkError: gds-metrics has no native library"
            + " for this platform (plan9-mips): /uk/gov/gds/metrics/native/plan9-mips/libgds_metrics_java.so"
            + " is not in the jar. The jar carries " + carriedPlatforms() + "; on another"
            + " platform build the jar there with `mvn package` in bindings-java (needs Rust's cargo),"
            + " as the README's Platforms section says";

    /**
     * What the errors say the jar carries: the platforms a released jar lists (`make dist`
     * writes the list from what it built, and scripts/dist-check holds it to the jar's
     * directories), or the words for a jar built from source.
     */
    static String carriedPlatforms() {
        String resource = "/uk/gov/gds/metrics/native/platforms.txt";
        try (InputStream in = MissingPlatformTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                return "only the library of the machine it was built on";
            }
            String listed = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            return String.join(", ", listed.split("\\s*\n\\s*"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyCallOnAPlatformTheJarLacksThrowsTheSameClearError() throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process probe = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dgds.metrics.native.platform=plan9-mips", MissingPlatformProbe.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        probe.waitFor(60, TimeUnit.SECONDS);

        assertEquals(List.of(MESSAGE, MESSAGE, MESSAGE, MESSAGE), output.lines().toList(), output);
        assertEquals(0, probe.exitValue());
    }

    /** Uses the library four ways and prints what each use threw. */
    public static final class MissingPlatformProbe {
        public static void main(String[] args) {
            List<Runnable> uses = List.of(
                    Registry::new,
                    Registry::new,
                    Registry::defaultRegistry,
                    () -> Counter.builder().name("jobs").help("Jobs.").register());
            for (Runnable use : uses) {
                try {
                    use.run();
                    System.out.println("no error");
                } catch (Throwable e) {
                    System.out.println(e);
                }
            }
        }
    }
}
