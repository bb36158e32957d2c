package uk.gov.gds.metrics;

import java.lang.ref.Reference;
import uk.gov.gds.metrics.internal.Native;

/**
 * An info family: a constant 1 whose labels carry facts about the app (its version, its
 * build). Exposed as {@code <name>_info}; an {@code _info} given in the name is dropped first.
 *
 * <pre>{@code
 * Info.builder().name("app").help("About the app.").labelNames("version").register()
 *     .setLabelValues("1.4.2");
 * }</pre>
 */
public final class Info extends MetricFamily<Void> {
    private Info(Builder builder) {
        super(builder, Native.INFO, null);
    }

    /** A builder for an info metric. */
    public static Builder builder() {
        return new Builder();
    }

    /** Replaces the facts with these label values. */
    public void setLabelValues(String... values) {
        clear();
        addLabelValues(values);
    }

    /** Adds a series with these label values, keeping the others. */
    public void addLabelValues(String... values) {
        labelValues(values);
    }

    /** Info series hold no state, so none is kept on the Java side. */
    @Override
    Void newSeries(long handle) {
        Native.seriesFree(Native.INFO, handle);
        Reference.reachabilityFence(this);
        return null;
    }

    /** Builds and registers an {@link Info}. */
    public static final class Builder extends MetricBuilder<Builder, Info> {
        private Builder() {}

        @Override
        Info build() {
            return new Info(this);
        }
    }
}
