# frozen_string_literal: true

module GDS
  module Metrics
    # Settings given in code, with the accessors of gds_metrics 0.2.0. A setting left nil is
    # read from the environment by the core (VCAP_APPLICATION, METRICS_BASIC_AUTH,
    # PROMETHEUS_METRICS_PATH, PROMETHEUS_MULTIPROC_DIR / prometheus_multiproc_dir /
    # MMAP_DIRECTORY, METRICS_TRACE_EXEMPLARS, METRICS_REQUEST_NATIVE_HISTOGRAM), so the rules for parsing and validating them live in one place; a
    # setting given here wins. Each reader answers the effective value, as in 0.2.0.
    class Config
      attr_writer :application_id, :prometheus_metrics_path, :mmap_directory, :use_basic_auth

      # The most series any one metric keeps (2,000 unless set); label sets beyond it are
      # recorded in one series whose labels are all `__overflow__`. Applies to metrics
      # declared after the registry is created; set it in `configure`.
      attr_accessor :series_limit

      # Whether a request's sampled W3C `traceparent` becomes the exemplar (trace_id,
      # span_id) of its request metrics: given in code, else METRICS_TRACE_EXEMPLARS, on
      # when neither says.
      attr_writer :trace_exemplars

      def trace_exemplars
        @trace_exemplars.nil? ? effective.trace_exemplars? : @trace_exemplars
      end

      # Whether http_server_request_duration_seconds keeps native buckets beside its
      # classic ones (read by a Prometheus scraping protobuf with native histograms on):
      # given in code, else METRICS_REQUEST_NATIVE_HISTOGRAM, on when neither says.
      attr_writer :request_native_histogram

      def request_native_histogram
        @request_native_histogram.nil? ? effective.request_native_histogram? : @request_native_histogram
      end

      def self.instance
        @instance ||= new
      end

      # Forgets every setting given in code (for tests).
      def self.reset!
        @instance = nil
      end

      # The app GUID, the bearer token the endpoint expects: given in code, else
      # VCAP_APPLICATION's `application_id`, else nil.
      def application_id
        @application_id || Native::Config.env_application_id
      end

      # The path the endpoint is served at.
      def prometheus_metrics_path
        @prometheus_metrics_path || effective.metrics_path
      end

      # Where the worker processes of a multi-process server share their metrics, or nil
      # when none is configured (puma cluster mode then gets a private one per run).
      def mmap_directory
        @mmap_directory || effective.multiprocess_dir
      end

      # The auth switch (historically named: the check is a bearer token): given in code,
      # else METRICS_BASIC_AUTH, on when neither says.
      def use_basic_auth
        return @use_basic_auth unless @use_basic_auth.nil?

        env = Native::Config.env_auth_switch
        env.nil? || env
      end

      # Whether the endpoint requires the token: the switch is on and there is an
      # application id (auth switched on off the PaaS is off, with a warning).
      def is_auth_enabled? # rubocop:disable Naming/PredicateName -- 0.2.0's name
        effective.auth_enabled?
      end

      # Fixes every setting to its effective value now, as 0.2.0's populate_from_env did.
      def populate_from_env
        self.use_basic_auth = use_basic_auth
        self.application_id = application_id
        self.prometheus_metrics_path = prometheus_metrics_path
        self.mmap_directory = mmap_directory
        self
      end

      # The settings as the native config takes them; nil means "from the environment".
      def to_native
        {
          application_id: @application_id&.to_s,
          auth_enabled: @use_basic_auth.nil? ? nil : (@use_basic_auth ? true : false),
          metrics_path: @prometheus_metrics_path&.to_s,
          multiprocess_dir: @mmap_directory&.to_s,
          trace_exemplars: @trace_exemplars.nil? ? nil : (@trace_exemplars ? true : false),
          request_native_histogram: @request_native_histogram.nil? ? nil : (@request_native_histogram ? true : false),
        }
      end

      private

      # The core's reading of these settings and the environment.
      def effective
        Native::Config.new(to_native)
      end
    end

    # Sets up the library in code:
    #
    #   GDS::Metrics.configure do |config|
    #     config.prometheus_metrics_path = "/internal/metrics"
    #   end
    def self.configure
      yield Config.instance
    end
  end
end
