# frozen_string_literal: true

module GDS
  module Metrics
    # Settings given in code, with the accessors of gds_metrics 0.2.0. A setting left nil is
    # read from the environment by the core (VCAP_APPLICATION, METRICS_BASIC_AUTH,
    # PROMETHEUS_METRICS_PATH, MMAP_DIRECTORY / PROMETHEUS_MULTIPROC_DIR), so the rules for
    # parsing and validating them live in one place; a setting given here wins.
    class Config
      # The app GUID, the bearer token the endpoint expects.
      attr_accessor :application_id
      # The path the endpoint is served at ("/metrics" unless set).
      attr_accessor :prometheus_metrics_path
      # Where the worker processes of a multi-process server share their metrics.
      attr_accessor :mmap_directory
      # false switches auth off even on the PaaS (the bearer check, historically named).
      attr_accessor :use_basic_auth

      def self.instance
        @instance ||= new
      end

      # Forgets every setting given in code (for tests).
      def self.reset!
        @instance = nil
      end

      # The settings as the native endpoint takes them; nil means "from the environment".
      def to_native
        {
          application_id: application_id&.to_s,
          auth_enabled: use_basic_auth.nil? ? nil : (use_basic_auth ? true : false),
          metrics_path: prometheus_metrics_path&.to_s,
          multiprocess_dir: mmap_directory&.to_s,
        }
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
