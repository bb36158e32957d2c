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
        freeWith(owner, family, Native::familyFree);
    }

    /** Frees a series handle of {@code kind} when {@code owner} is collected. */
    public static void freeSeriesWith(Object owner, int kind, long series) {
        freeWith(owner, series, handle -> Native.seriesFree(kind, handle));
    }

    /** Frees a registry handle when {@code owner} is collected. */
    public static void freeRegistryWith(Object owner, long registry) {
        freeWith(owner, registry, Native::registryFree);
    }

    /**
     * Frees a handle with {@code free} when {@code owner} is collected. The cleaning action
     * captures only the handle and {@code free}, never the owner, which would keep it
     * reachable for ever.
     */
    public static void freeWith(Object owner, long handle, java.util.function.LongConsumer free) {
        CLEANER.register(owner, () -> free.accept(handle));
    }
}
