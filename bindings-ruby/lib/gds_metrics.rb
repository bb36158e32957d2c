# frozen_string_literal: true

require "gds_metrics/conflicting_gem" # first: refuses before anything is defined
require "gds_metrics/version"
require "gds_metrics/native"
require "gds_metrics/config"
require "gds_metrics/metric"
require "gds_metrics/registry"
require "gds_metrics/middleware"
require "gds_metrics/targets"
require "gds_metrics/puma"

# Prometheus metrics for Rack and Rails apps on a Cloud Foundry PaaS: the endpoint (with
# the app-GUID bearer check), request metrics and custom metrics, on the gds-metrics core.
module GDS
  module Metrics
    @mutex = Mutex.new

    class << self
      # The registry the endpoint serves and custom metrics go into. Created on first use
      # from the configuration, so call `configure` before declaring metrics.
      def registry
        @registry || @mutex.synchronize { @registry ||= Registry.new(new_native_registry) }
      end

      # The app's one endpoint (the request metrics live in the registry once).
      def endpoint
        native = registry.native
        @endpoint || @mutex.synchronize { @endpoint ||= Native::Endpoint.new(native_config, native) }
      end

      # Another endpoint on the registry, at `path` (nil: the configured path), with the
      # other settings as configured (Prometheus::Client::Rack::Exporter).
      def endpoint_at(path)
        return endpoint if path.nil?

        native = registry.native
        Native::Endpoint.new(Native::Config.new(Config.instance.to_native.merge(metrics_path: path.to_s)), native)
      end

      # The core's reading of the settings and the environment. Raises
      # GDS::Metrics::ConfigurationError naming the variable when a value is unusable.
      def native_config
        @native_config ||= Native::Config.new(Config.instance.to_native).tap do |config|
          config.warnings.each { |warning| Kernel.warn("gds_metrics: #{warning}") }
        end
      end

      # In a newly forked worker: folds the files of workers that have exited, so the
      # directory stays small between scrapes (scrapes fold too).
      def after_fork
        PumaServer.forked!
        registry = @registry
        registry.native.fold_dead if registry&.native&.multiprocess_dir
      rescue ConfigurationError, IOError => e
        Kernel.warn("gds_metrics: #{e.message}")
      end

      # Forgets the registry, endpoint and settings (for tests).
      def reset!
        @mutex.synchronize { @registry = @endpoint = @native_config = nil }
        Config.reset!
      end

      private

      # Multi-process when a directory is configured (in code or the environment) or when
      # puma runs workers, which then share the core's directory for this server. The
      # process metrics are the core's: of this process, or of the whole puma server.
      def new_native_registry
        dir = native_config.multiprocess_dir || PumaServer.directory&.dir
        native = dir ? Native::Registry.multiprocess(dir) : Native::Registry.new
        native.register_process_metrics
        native.series_limit = Config.instance.series_limit if Config.instance.series_limit
        native
      end
    end
  end
end

# Runs GDS::Metrics.after_fork in every child forked from Ruby (puma and unicorn workers).
module GDS
  module Metrics
    module ForkHook
      def _fork
        pid = super
        GDS::Metrics.after_fork if pid.zero?
        pid
      end
    end
  end
end
Process.singleton_class.prepend(GDS::Metrics::ForkHook) if Process.respond_to?(:_fork)

require "gds_metrics/prometheus_client"
require "gds_metrics/railtie" if defined?(Rails::Railtie)
