package uk.gov.gds.metrics;

import java.lang.System.Logger.Level;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import uk.gov.gds.metrics.internal.Handles;
import uk.gov.gds.metrics.internal.Native;

/**
 * A set of metric families that one endpoint exposes together.
 *
 * <p>Most applications use {@link #defaultRegistry()}, which the metric builders'
 * {@code register()} and the {@code MetricsBundle} use unless told otherwise. Separate
 * registries are for tests and for libraries that expose their own endpoint.
 */
public final class Registry {

    private static final System.Logger LOG = System.getLogger(Registry.class.getName());

    private final long handle;
    private final List<Runnable> beforeScrape = new CopyOnWriteArrayList<>();
    /** The sets of families installed in this registry once, however many apps install them. */
    private final Set<String> installed = ConcurrentHashMap.newKeySet();

    /** A new, empty registry. */
    public Registry() {
        Native.ensureLoaded();
        handle = Native.registryNew();
        Handles.freeRegistryWith(this, handle);
    }

    /**
     * The registry shared by the whole application. It also exports the {@code client_java}
     * default registries that are on the classpath (0.x {@code CollectorRegistry}, 1.x
     * {@code PrometheusRegistry}), read at each scrape.
     */
    public static Registry defaultRegistry() {
        Native.ensureLoaded(); // before Default, whose initialisation must not fail
        return Default.REGISTRY;
    }

    /** Created on first use, so the native library loads only when a registry is needed. */
    private static final class Default {
        static final Registry REGISTRY = create();

        private static Registry create() {
            Registry registry = new Registry();
            uk.gov.gds.metrics.clientjava.ClientJavaRegistries.exportWhenPresent(registry);
            return registry;
        }
    }

    /**
     * Runs {@code refresh} before every scrape, to set metrics whose values are read when
     * Prometheus asks (JVM memory, pool sizes) rather than updated as things happen. An
     * exception it throws is logged and the scrape goes on.
     */
    public void beforeScrape(Runnable refresh) {
        beforeScrape.add(refresh);
    }

    /** Runs the {@link #beforeScrape} actions; the endpoint calls it before rendering. */
    void refresh() {
        for (Runnable r : beforeScrape) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a before-scrape action failed; its metrics keep their last values", e);
            }
        }
    }

    /**
     * The series limit of every metric registered in this registry from now on that sets
     * none itself ({@link MetricBuilder#seriesLimit}); 2,000 unless changed. A negative
     * limit throws {@link IllegalArgumentException}.
     */
    public void setSeriesLimit(long limit) {
        try {
            Native.registrySetSeriesLimit(handle, limit);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * From now on, metrics registered in this registry accept only the legacy names
     * ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}, label names without {@code :}), as simpleclient
     * did: any other name throws {@link IllegalArgumentException}. The default is any
     * UTF-8 name, as in Prometheus 3 and client_java 1.x.
     */
    public void useLegacyNames() {
        try {
            Native.registryUseLegacyNames(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Whether {@code what} is installed here for the first time: the JVM metrics, like the
     * core's request metrics, are registered once per registry, so an app started twice in
     * one JVM (one test class after another) shares them.
     */
    boolean installFirstTime(String what) {
        return installed.add(what);
    }

    /**
     * The whole exposition as the bytes a scrape in {@code format} is served (UTF-8 text,
     * or protobuf), copied once out of the core.
     */
    public byte[] scrapeBytes(Format format) {
        refresh();
        try {
            return Native.registryEncode(handle, format.ordinal());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The whole exposition as text, as a scrape with the given text format would return it
     * ({@link Format#PROTOBUF} is binary: take {@link #scrapeBytes} for it).
     */
    public String scrape(Format format) {
        return new String(scrapeBytes(format), StandardCharsets.UTF_8);
    }

    /**
     * Removes the family called {@code name} (a counter's name without {@code _total});
     * returns whether there was one. Java objects for it keep working but are no longer
     * exposed. {@link MetricFamily#close()} does the same for a family you hold.
     */
    public boolean unregister(String name) {
        try {
            return Native.registryUnregister(handle, name);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The native handle, for the classes of this library that share the registry with the core. */
    long handle() {
        return handle;
    }

    /** Keeps this registry reachable until a native call using {@link #handle()} has returned. */
    void keepAlive() {
        Reference.reachabilityFence(this);
    }
}
