package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The packaged jar carries the native library and loads it with no set-up at all. */
class JarLoadingIT {
    @Test
    void nativeLibraryLoadsFromTheJar() {
        String location = Registry.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        assertTrue(location.endsWith(".jar"), "classes come from the jar, not target/classes: " + location);
        assertNull(System.getProperty("gds.metrics.native.library"));

        Registry registry = new Registry();
        Counter.builder().name("loaded").help("From the jar.").register(registry).inc();
        assertEquals("# HELP loaded_total From the jar.\n# TYPE loaded_total counter\nloaded_total 1.0\n",
                registry.scrape(Format.TEXT));
    }
}
