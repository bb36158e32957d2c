package uk.gov.gds.metrics.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Finds the native library inside the jar and loads it, so applications need no
 * {@code java.library.path} set-up.
 *
 * <p>The build puts the library at {@code uk/gov/gds/metrics/native/<platform>/<file>}; the
 * JVM can only load a library from a file, so it is copied to a temporary file first. The
 * system property {@code gds.metrics.native.library} names a library file to load instead
 * (for working on the Rust side without rebuilding the jar).
 */
final class NativeLibrary {
    static final String OVERRIDE_PROPERTY = "gds.metrics.native.library";

    private NativeLibrary() {}

    static synchronized void load() {
        String override = System.getProperty(OVERRIDE_PROPERTY);
        if (override != null && !override.isEmpty()) {
            System.load(Path.of(override).toAbsolutePath().toString());
            return;
        }
        String resource = resourcePath(platform(), fileName());
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("gds-metrics has no native library for this platform ("
                        + platform() + "): " + resource + " is not in the jar; build the jar on this platform");
            }
            Path file = Files.createTempFile("gds_metrics_java", fileName());
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } catch (IOException e) {
            throw new UncheckedIOException("gds-metrics could not unpack its native library " + resource, e);
        }
    }

    static String resourcePath(String platform, String fileName) {
        return "/uk/gov/gds/metrics/native/" + platform + "/" + fileName;
    }

    /** The platform directory, named as the Maven profiles of {@code pom.xml} name it. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (os.startsWith("mac")) {
            return "macos-" + arch;
        }
        return os.replace(' ', '_') + "-" + cpu(arch);
    }

    /** The CPU as the platform directories name it. */
    private static String cpu(String arch) {
        switch (arch) {
            case "amd64":
            case "x86_64":
                return "x86_64";
            case "aarch64":
            case "arm64":
                return "aarch64";
            default:
                return arch;
        }
    }

    static String fileName() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("mac")
                ? "libgds_metrics_java.dylib"
                : "libgds_metrics_java.so";
    }
}
