# frozen_string_literal: true

require_relative "lib/gds_metrics/version"

# A platform gem: `rake gem` compiles the native extension and packs it in, so installing
# needs neither cargo nor network access. Its only runtime dependency, rack, is the Debian
# `ruby-rack` package on the machines this targets.
Gem::Specification.new do |spec|
  spec.name = "gds_metrics"
  spec.version = GDS::Metrics::VERSION
  spec.summary = "Prometheus metrics for Rack and Rails apps on a Cloud Foundry PaaS"
  spec.description = "The /metrics endpoint with app-GUID bearer auth, request metrics, custom metrics " \
                     "and multi-process aggregation for puma, on the gds-metrics Rust core."
  spec.authors = ["Government Digital Service"]
  spec.homepage = "https://github.com/alphagov/gds-metrics"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1"

  native = Dir[File.join(__dir__, "lib/gds_metrics/gds_metrics_native.{so,bundle}")]
  spec.files = Dir.chdir(__dir__) { Dir["lib/**/*.rb"] + ["README.md"] } +
               native.map { |path| path.delete_prefix("#{__dir__}/") }
  spec.platform = Gem::Platform.local unless native.empty?
  spec.require_paths = ["lib"]

  spec.add_runtime_dependency "rack", ">= 2.0", "< 4"
end
