# frozen_string_literal: true

# A plain Rack app under puma (no router), for raw_path_test.rb.
require "gds_metrics"

use GDS::Metrics::Middleware
run ->(_env) { [200, { "content-type" => "text/plain" }, ["app"]] }
