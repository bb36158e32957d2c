# frozen_string_literal: true

require "gds_metrics/version"
require "gds_metrics/native"
require "gds_metrics/config"
require "gds_metrics/metric"
require "gds_metrics/registry"

# Prometheus metrics for Rack and Rails apps on a Cloud Foundry PaaS: the endpoint (with
# the app-GUID bearer check), request metrics and custom metrics, on the gds-metrics core.
module GDS
  module Metrics
    @mutex = Mutex.new

    # The registry the endpoint serves and custom metrics go into.
    def self.registry
      @registry || @mutex.synchronize { @registry ||= Registry.new(new_native_registry) }
    end

    # Forgets the registry and settings (for tests).
    def self.reset!
      @mutex.synchronize { @registry = nil }
      Config.reset!
    end

    def self.new_native_registry
      Native::Registry.new
    end
    private_class_method :new_native_registry
  end
end

require "gds_metrics/prometheus_client"
