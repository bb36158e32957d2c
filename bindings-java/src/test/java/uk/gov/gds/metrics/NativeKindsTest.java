package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import uk.gov.gds.metrics.internal.Native;

/** The metric kind and format numbers of the Java side are the jni crate's. */
class NativeKindsTest {
    @Test
    void javaKindNumbersMatchTheNativeOnes() {
        String[] byJavaNumber = new String[6];
        byJavaNumber[Native.COUNTER] = "COUNTER";
        byJavaNumber[Native.GAUGE] = "GAUGE";
        byJavaNumber[Native.HISTOGRAM] = "HISTOGRAM";
        byJavaNumber[Native.SUMMARY] = "SUMMARY";
        byJavaNumber[Native.INFO] = "INFO";
        byJavaNumber[Native.STATE_SET] = "STATE_SET";
        assertArrayEquals(Native.kindNames(), byJavaNumber);
    }

    @Test
    void javaFormatNumbersMatchTheNativeOnes() {
        String[] byJavaNumber = new String[Format.values().length];
        for (Format f : Format.values()) {
            byJavaNumber[f.ordinal()] = f.name();
        }
        assertArrayEquals(Native.formatNames(), byJavaNumber);
    }
}
