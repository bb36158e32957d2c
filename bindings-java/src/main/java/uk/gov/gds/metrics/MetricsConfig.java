package uk.gov.gds.metrics;

/**
 * Settings given in code. Every setting left unset is read from the environment when the
 * {@link Endpoint} is created, as on Cloud Foundry: {@code VCAP_APPLICATION} (the app GUID
 * is the bearer token), {@code METRICS_BASIC_AUTH} (auth on unless {@code false}),
 * {@code PROMETHEUS_METRICS_PATH} (default {@code /metrics}), {@code CF_INSTANCE_INDEX},
 * {@code METRICS_TRACE_EXEMPLARS} (trace exemplars on unless {@code false}) and
 * {@code METRICS_REQUEST_NATIVE_HISTOGRAM} (native buckets on the request duration unless
 * {@code false}).
 * A setting given here wins over the environment.
 */
public final class MetricsConfig {
    final String applicationId;
    final Boolean authEnabled;
    final String metricsPath;
    final Integer instanceIndex;
    final String[] routes;
    final Boolean traceExemplars;
    final Boolean requestNativeHistogram;

    private MetricsConfig(Builder b) {
        traceExemplars = b.traceExemplars;
        requestNativeHistogram = b.requestNativeHistogram;
        routes = b.routes;
        applicationId = b.applicationId;
        authEnabled = b.authEnabled;
        metricsPath = b.metricsPath;
        instanceIndex = b.instanceIndex;
    }

    /** Everything from the environment. */
    public static MetricsConfig fromEnvironment() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link MetricsConfig}; checking happens when the endpoint is created. */
    public static final class Builder {
        private String applicationId;
        private Boolean authEnabled;
        private String metricsPath;
        private Integer instanceIndex;
        private String[] routes;
        private Boolean traceExemplars;
        private Boolean requestNativeHistogram;

        private Builder() {}

        /**
         * The app's own routes ({@code my-app.cloudapps.digital}, {@code host/path}), as
         * {@code VCAP_APPLICATION.application_uris} lists them: the {@code host} label keeps
         * these hosts and records every other as {@code other}.
         */
        public Builder routes(String... routes) {
            this.routes = routes.clone();
            return this;
        }

        /** The app GUID that scrapes must send as {@code Authorization: Bearer <GUID>}. */
        public Builder applicationId(String guid) {
            this.applicationId = guid;
            return this;
        }

        /** Switches bearer-token auth on or off. */
        public Builder authEnabled(boolean on) {
            this.authEnabled = on;
            return this;
        }

        /**
         * Switches trace exemplars on or off (on by default): a request whose W3C
         * {@code traceparent} header is valid and sampled gets its {@code trace_id} and
         * {@code span_id} as the exemplar of its request count and duration.
         */
        public Builder traceExemplars(boolean on) {
            this.traceExemplars = on;
            return this;
        }

        /**
         * Switches the native buckets of {@code http_server_request_duration_seconds} on or
         * off (on by default). With them, a Prometheus that scrapes protobuf with native
         * histograms on stores a native histogram carrying the trace exemplars instead of
         * the {@code _bucket} series (unless it sets
         * {@code always_scrape_classic_histograms}); text and OpenMetrics are the same
         * either way. Every endpoint of one registry must agree on it.
         */
        public Builder requestNativeHistogram(boolean on) {
            this.requestNativeHistogram = on;
            return this;
        }

        /** The endpoint's path; starts with {@code /}. */
        public Builder metricsPath(String path) {
            this.metricsPath = path;
            return this;
        }

        /** The instance index of this app instance. */
        public Builder instanceIndex(int index) {
            if (index < 0) {
                throw new IllegalArgumentException("instance index must not be negative, got " + index);
            }
            this.instanceIndex = index;
            return this;
        }

        public MetricsConfig build() {
            return new MetricsConfig(this);
        }
    }
}
