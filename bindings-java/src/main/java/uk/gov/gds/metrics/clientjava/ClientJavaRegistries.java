package uk.gov.gds.metrics.clientjava;

import java.lang.System.Logger.Level;
import java.util.function.Consumer;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.ScrapeTimeFamilies;

/**
 * Exports the {@code client_java} default registries that are on the classpath through a
 * registry of ours, read at each scrape: metrics an app wrote with {@code client_java}
 * (0.x {@code io.prometheus.client}, 1.x {@code io.prometheus.metrics}) appear in the same
 * authenticated scrape as ours. The library needs neither; a missing one is skipped.
 */
public final class ClientJavaRegistries {
    private static final System.Logger LOG = System.getLogger(ClientJavaRegistries.class.getName());

    private ClientJavaRegistries() {}

    /** Exports each {@code client_java} default registry on the classpath through {@code registry}. */
    public static void exportWhenPresent(Registry registry) {
        exportWhenPresent(registry, "io.prometheus.client.CollectorRegistry", SimpleclientExports::read);
        exportWhenPresent(registry, "io.prometheus.metrics.model.registry.PrometheusRegistry",
                PrometheusRegistryExports::read);
    }

    private static void exportWhenPresent(Registry registry, String className, Consumer<ScrapeTimeFamilies.Sink> read) {
        if (isPresent(className)) {
            ScrapeTimeFamilies.register(registry, sink -> readSafely(className, read, sink));
        }
    }

    private static boolean isPresent(String className) {
        try {
            Class.forName(className, false, ClientJavaRegistries.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** A version of the library without the methods used here leaves its metrics out, with a warning. */
    private static void readSafely(String className, Consumer<ScrapeTimeFamilies.Sink> read,
            ScrapeTimeFamilies.Sink sink) {
        try {
            read.accept(sink);
        } catch (LinkageError e) {
            LOG.log(Level.WARNING, "the metrics of " + className + " cannot be read by this version; left out", e);
        }
    }
}
