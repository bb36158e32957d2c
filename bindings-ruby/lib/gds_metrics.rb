# frozen_string_literal: true

require "gds_metrics/version"
require "gds_metrics/native"
require "gds_metrics/config"
require "gds_metrics/metric"
require "gds_metrics/registry"
require "gds_metrics/middleware"

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

      # The core's reading of the settings and the environment. Raises
      # GDS::Metrics::ConfigurationError naming the variable when a value is unusable.
      def native_config
        @native_config ||= Native::Config.new(Config.instance.to_native).tap do |config|
          config.warnings.each { |warning| Kernel.warn("gds_metrics: #{warning}") }
        end
      end

      # Forgets the registry, endpoint and settings (for tests).
      def reset!
        @mutex.synchronize { @registry = @endpoint = @native_config = nil }
        Config.reset!
      end

      private

      def new_native_registry
        native_config
        Native::Registry.new
      end
    end
  end
end

require "gds_metrics/prometheus_client"
require "gds_metrics/railtie" if defined?(Rails::Railtie)
