package uk.gov.gds.metrics.internal;

import java.lang.ref.Cleaner;

/**
 * Frees native handles once the Java objects owning them are unreachable.
 *
 * <p>Freeing happens only here, never in {@code close()}: a closed object can still be in
 * use by another thread, and freeing under it would crash the JVM. A collected object can
 * no longer be in use by anyone, so this is the one moment that is always safe. The memory
 * behind a handle is small (a pointer-sized share of the core's state); the core's state
 * itself stays alive for as long as the registry exposes it.
 */
public final class Handles {
    private static final Cleaner CLEANER = Cleaner.create();

    private Handles() {}

    /** Frees a family handle when {@code owner} is collected. */
    public static void freeFamilyWith(Object owner, long family) {
        CLEANER.register(owner, new FreeFamily(family));
    }

    /** Frees a series handle of {@code kind} when {@code owner} is collected. */
    public static void freeSeriesWith(Object owner, int kind, long series) {
        CLEANER.register(owner, new FreeSeries(kind, series));
    }

    /** Frees a registry handle when {@code owner} is collected. */
    public static void freeRegistryWith(Object owner, long registry) {
        CLEANER.register(owner, new FreeRegistry(registry));
    }

    /** Frees a handle with {@code free} when {@code owner} is collected. */
    public static void freeWith(Object owner, long handle, java.util.function.LongConsumer free) {
        CLEANER.register(owner, () -> free.accept(handle));
    }

    // Records, not lambdas over the owner: a cleaning action must not reach its owner.
    private record FreeFamily(long family) implements Runnable {
        @Override
        public void run() {
            Native.familyFree(family);
        }
    }

    private record FreeSeries(int kind, long series) implements Runnable {
        @Override
        public void run() {
            Native.seriesFree(kind, series);
        }
    }

    private record FreeRegistry(long registry) implements Runnable {
        @Override
        public void run() {
            Native.registryFree(registry);
        }
    }
}
