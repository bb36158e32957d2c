# frozen_string_literal: true

require "minitest/autorun"
require "gds_metrics"

# Every test starts from an empty registry, no settings given in code, and an environment
# without the PaaS variables, so tests never depend on each other or on the machine.
module FreshMetrics
  PAAS_VARIABLES = %w[VCAP_APPLICATION METRICS_BASIC_AUTH PROMETHEUS_METRICS_PATH MMAP_DIRECTORY
                      PROMETHEUS_MULTIPROC_DIR prometheus_multiproc_dir CF_INSTANCE_INDEX
                      METRICS_TRACE_EXEMPLARS METRICS_REQUEST_NATIVE_HISTOGRAM].freeze

  def setup
    super
    @saved_env = PAAS_VARIABLES.to_h { |name| [name, ENV.delete(name)] }
    GDS::Metrics.reset!
  end

  def teardown
    @saved_env.each { |name, value| value.nil? ? ENV.delete(name) : ENV[name] = value }
    GDS::Metrics.reset!
    super
  end

  def registry
    GDS::Metrics.registry
  end

  # The exposition lines that start with `prefix` (samples of one family).
  def samples(prefix, format: :text)
    registry.render(format).lines.map(&:chomp).select { |line| line.start_with?(prefix) }
  end
end
