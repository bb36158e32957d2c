package uk.gov.gds.metrics.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Finds the native library inside the jar and loads it, so applications need no
 * {@code java.library.path} set-up.
 *
 * <p>The build puts the library at {@code uk/gov/gds/metrics/native/<platform>/<file>}, one
 * directory per platform a release was built on ({@code linux-x86_64}, ...); the JVM can only
 * load a library from a file, so it is copied to a temporary file first. The system property
 * {@code gds.metrics.native.library} names a library file to load instead (for working on the
 * Rust side without rebuilding the jar); {@code gds.metrics.native.platform} names the
 * platform directory to look in instead of this machine's.
 *
 * <p>A released jar lists its platforms in {@code uk/gov/gds/metrics/native/platforms.txt},
 * one a line with what each library needs ({@code linux-x86_64 (glibc 2.17 or later)}),
 * written by the build from what it built; the errors quote it, so they stay true when a
 * platform is added.
 */
final class NativeLibrary {
    static final String OVERRIDE_PROPERTY = "gds.metrics.native.library";
    static final String PLATFORM_PROPERTY = "gds.metrics.native.platform";
    static final String PLATFORMS_RESOURCE = "/uk/gov/gds/metrics/native/platforms.txt";
    private static final String WITH_MVN_PACKAGE = "with `mvn package` in bindings-java (needs Rust's cargo),"
            + " as the README's Platforms section says";

    private NativeLibrary() {}

    /**
     * Loads the library, or returns why it could not be loaded (never throws): the caller
     * keeps the failure and reports it on every use, rather than failing its own class
     * initialisation once and leaving a {@code NoClassDefFoundError} for every later call.
     */
    static synchronized UnsatisfiedLinkError tryLoad() {
        try {
            load();
            return null;
        } catch (UnsatisfiedLinkError e) {
            return e;
        } catch (RuntimeException e) {
            UnsatisfiedLinkError failure = new UnsatisfiedLinkError(
                    "gds-metrics could not load its native library: " + e.getMessage());
            failure.initCause(e);
            return failure;
        }
    }

    private static void load() {
        String override = System.getProperty(OVERRIDE_PROPERTY);
        if (override != null && !override.isEmpty()) {
            loadFile(Path.of(override), platform(), override);
            return;
        }
        String platform = platform();
        String resource = resourcePath(platform, fileName());
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError(missingPlatformMessage(platform, resource));
            }
            Path file = Files.createTempFile("gds_metrics_java", fileName());
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            loadFile(file, platform, resource);
        } catch (IOException e) {
            throw new UncheckedIOException("gds-metrics could not unpack its native library " + resource, e);
        }
    }

    /**
     * Loads a library file, turning the JVM's bare linker error (a musl or too old glibc
     * on Linux) into one that says what the library needs and what to do.
     */
    private static void loadFile(Path file, String platform, String source) {
        try {
            System.load(file.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            String message = unloadableMessage(platform, source, e.getMessage());
            UnsatisfiedLinkError failure = new UnsatisfiedLinkError(message);
            failure.initCause(e);
            throw failure;
        }
    }

    static String missingPlatformMessage(String platform, String resource) {
        return "gds-metrics has no native library for this platform (" + platform + "): " + resource
                + " is not in the jar. The jar carries " + carriedPlatforms() + "; on another platform build the jar"
                + " there " + WITH_MVN_PACKAGE;
    }

    static String unloadableMessage(String platform, String source, String reason) {
        return "gds-metrics could not load its native library for this platform (" + platform + "), " + source
                + ": " + reason + ". The jar carries " + carriedPlatforms() + ". A Linux library needs glibc at"
                + " the version named or later (musl systems such as Alpine have none): run on such a system,"
                + " or build the jar on this one " + WITH_MVN_PACKAGE;
    }

    /** The platforms the jar lists, or what a jar built from source carries. */
    static String carriedPlatforms() {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(PLATFORMS_RESOURCE)) {
            if (in == null) {
                return "only the library of the machine it was built on";
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::strip).filter(line -> !line.isEmpty()).collect(Collectors.joining(", "));
        } catch (IOException e) {
            return "platforms it could not list (" + e.getMessage() + ")";
        }
    }

    static String resourcePath(String platform, String fileName) {
        return "/uk/gov/gds/metrics/native/" + platform + "/" + fileName;
    }

    /**
     * The platform directory, named as the Maven profiles of {@code pom.xml} name it, or the
     * {@code gds.metrics.native.platform} property when it is set.
     */
    static String platform() {
        String override = System.getProperty(PLATFORM_PROPERTY);
        if (override != null && !override.isEmpty()) {
            return override;
        }
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
