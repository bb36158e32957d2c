package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A library the jar has for the platform but the system cannot load (as on musl, or a glibc
 * older than the one it was built for): every use fails with the same message naming the
 * platform, the JVM's reason, what the jar's libraries need and what to do. The probe JVM
 * finds a file that is no shared library where the jar keeps its platform's library.
 */
class UnloadableLibraryTest {
    private static final String MESSAGE = "java.lang.UnsatisfiedLinkError: gds-metrics could not load its native"
            + " library for this platform (plan9-mips), /uk/gov/gds/metrics/native/plan9-mips/libgds_metrics_java.so:"
            + " <reason>. The jar carries " + MissingPlatformTest.carriedPlatforms() + ". A Linux library needs"
            + " glibc at the version named or later (musl systems such as Alpine have none): run on such a system,"
            + " or build the jar on this one with `mvn package` in bindings-java (needs Rust's cargo), as the"
            + " README's Platforms section says";

    @Test
    void everyCallWithALibraryTheSystemCannotLoadThrowsTheSameClearError(@TempDir Path classes)
            throws IOException, InterruptedException {
        Path library = classes.resolve("uk/gov/gds/metrics/native/plan9-mips/libgds_metrics_java.so");
        Files.createDirectories(library.getParent());
        Files.writeString(library, "not a shared library\n".repeat(8));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = classes + File.pathSeparator + System.getProperty("java.class.path");
        Process probe = new ProcessBuilder(java, "-cp", classPath, "-Dgds.metrics.native.platform=plan9-mips",
                UnloadableLibraryProbe.class.getName())
                // The JVM warns on stderr about the stack guard of the file it tried to load.
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        probe.waitFor(60, TimeUnit.SECONDS);

        assertEquals(List.of(MESSAGE, MESSAGE, MESSAGE, "reason: <file>: <file>: invalid ELF header"),
                output.lines().toList(), output);
        assertEquals(0, probe.exitValue());
    }

    /**
     * Uses the library three ways and prints what each threw, the JVM's own reason (which
     * names the unpacked temporary file) shown as {@code <reason>}, then that reason.
     */
    public static final class UnloadableLibraryProbe {
        public static void main(String[] args) {
            List<Runnable> uses = List.of(Registry::new, Registry::new, Registry::defaultRegistry);
            String reason = "none";
            for (Runnable use : uses) {
                try {
                    use.run();
                    System.out.println("no error");
                } catch (Throwable e) {
                    Throwable jvm = e;
                    while (jvm.getCause() != null) {
                        jvm = jvm.getCause();
                    }
                    reason = jvm.getMessage();
                    System.out.println(e.toString().replace(reason, "<reason>"));
                }
            }
            System.out.println("reason: " + reason.replaceAll("/\\S*libgds_metrics_java\\.so", "<file>"));
        }
    }
}
