# The initializer a gds_metrics 0.2.0 app had, unchanged: auth switched on in code, which on
# a laptop or in CI (no VCAP_APPLICATION) is off with a warning, never an error at boot.
GDS::Metrics.configure do |config|
  config.use_basic_auth = true
  config.prometheus_metrics_path = "/metrics"
end
