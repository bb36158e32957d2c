# frozen_string_literal: true

# Loads the compiled core (`gds_metrics_native.so`, built by `rake compile` or shipped in
# the platform gem) that defines GDS::Metrics::Native.
begin
  require_relative "gds_metrics_native"
rescue LoadError => e
  raise LoadError, "gds_metrics: the native extension is missing (#{e.message}); " \
                   "run `rake compile` in the gem's directory, or install the platform gem"
end
