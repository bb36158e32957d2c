package uk.gov.gds.metrics;

/**
 * The options every metric builder shares, in the style of {@code client_java} 1.x:
 * {@code Counter.builder().name("jobs_total").help("Jobs done.").labelNames("queue").register()}.
 *
 * <p>Names, label names and units are checked by {@code register()}, which throws
 * {@link IllegalArgumentException} with the reason, so a mistake surfaces at start-up.
 *
 * @param <B> the concrete builder, returned by every setter
 * @param <M> the metric the builder registers
 */
public abstract class MetricBuilder<B extends MetricBuilder<B, M>, M> {
    String name;
    String help;
    String unit;
    String[] labelNames = new String[0];
    /** Null: the registry's limit ({@link Registry#setSeriesLimit}). */
    Long seriesLimit;
    Registry registry;

    MetricBuilder() {}

    /** The metric name ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}). */
    public B name(String name) {
        this.name = name;
        return self();
    }

    /** The help text shown in {@code # HELP}. */
    public B help(String help) {
        this.help = help;
        return self();
    }

    /** The OpenMetrics unit ({@code seconds}, {@code bytes}); the name must end in {@code _<unit>}. */
    public B unit(String unit) {
        this.unit = unit;
        return self();
    }

    /** The label names every series carries, in the order values are given. */
    public B labelNames(String... labelNames) {
        if (labelNames == null) {
            throw new IllegalArgumentException("label names must not be null");
        }
        this.labelNames = labelNames.clone();
        return self();
    }

    /**
     * The most label sets this metric keeps (default: the registry's, 2,000 unless
     * {@link Registry#setSeriesLimit} changed it). Label values beyond it are recorded in
     * one series whose labels are all {@code __overflow__}, and each refused label set is
     * counted in {@code gds_metrics_series_refused_total{family="<name>"}}, so a client
     * sending new values cannot grow the scrape without bound. {@code register()} throws
     * {@link IllegalArgumentException} for a negative limit.
     */
    public B seriesLimit(long limit) {
        this.seriesLimit = limit;
        return self();
    }

    /** Registers the metric in {@link Registry#defaultRegistry()}. */
    public M register() {
        return register(Registry.defaultRegistry());
    }

    /** Registers the metric in {@code registry}. */
    public M register(Registry registry) {
        this.registry = registry;
        if (help == null) {
            help = "";
        }
        return build();
    }

    abstract M build();

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }
}
