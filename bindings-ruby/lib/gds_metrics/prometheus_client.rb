# frozen_string_literal: true

# `Prometheus::Client.registry`, the entry point the gds_metrics 0.2.0 README taught for
# custom metrics, answered by this gem's registry so existing tenant code keeps working.
# Left alone when the prometheus-client gem itself is loaded.
module Prometheus
  module Client
    unless respond_to?(:registry)
      def self.registry
        GDS::Metrics.registry
      end
    end
  end
end
