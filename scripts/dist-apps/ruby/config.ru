# frozen_string_literal: true

# The Ruby README's Rack quick start.
require "gds_metrics"
use GDS::Metrics::Middleware
run ->(_env) { [200, { "content-type" => "text/plain" }, ["ok"]] }
