# frozen_string_literal: true

require "test_helper"
require "rack/test"
require "sinatra/base"

# Code from the READMEs 0.2.0 apps followed, copied unchanged: gds_metrics 0.2.0's (a Rack
# app and Sinatra with `use GDS::Metrics::Middleware`) and prometheus-client-mmap's, whose
# API 0.2.0 apps used through the gem. Our metrics and theirs share one scrape.
class OldReadmeRackTest < Minitest::Test
  include FreshMetrics
  include Rack::Test::Methods

  def app
    @app ||= Rack::Builder.new do
      # gds_metrics 0.2.0 README: "add GDS::Metrics::Middleware as Rack middleware".
      use GDS::Metrics::Middleware
      run ->(env) { [200, { "Content-Type" => "text/html" }, ["OK"]] }
    end.to_app
  end

  def test_the_old_readme_rack_app_serves_metrics_and_counts_requests
    get "/"
    get "/metrics"

    assert_equal 200, last_response.status
    assert_includes last_response.body, %(http_server_requests_total{method="GET",host="example.org",path="/",code="200"} 1.0\n)
  end

  def test_the_prometheus_client_mmap_readme_metrics_appear_next_to_ours
    # prometheus-client-mmap README, "Overview" (the helper that registers the same name
    # again is left out: it raises AlreadyRegisteredError there too).
    require 'prometheus/client'

    # returns a default registry
    prometheus = Prometheus::Client.registry

    # create a new counter metric
    http_requests = Prometheus::Client::Counter.new(:http_requests, 'A counter of HTTP requests made')
    # register the metric
    prometheus.register(http_requests)

    # start using the counter
    http_requests.increment

    # "Counter"
    counter = Prometheus::Client::Counter.new(:service_requests_total, '...')
    prometheus.register(counter)

    # increment the counter for a given label set
    counter.increment({ service: 'foo' })

    # increment by a given value
    counter.increment({ service: 'bar' }, 5)

    # get current value for a given label set
    assert_equal 5, counter.get({ service: 'bar' })

    # "Gauge"
    gauge = Prometheus::Client::Gauge.new(:room_temperature_celsius, '...')
    prometheus.register(gauge)

    # set a value
    gauge.set({ room: 'kitchen' }, 21.534)

    # retrieve the current value for a given label set
    assert_equal 21.534, gauge.get({ room: 'kitchen' })

    ours = GDS::Metrics.registry.counter(:emails_sent, docstring: "Emails sent.")
    ours.increment
    get "/metrics"
    ["http_requests_total 1.0", 'service_requests_total{service="bar"} 5.0', 'room_temperature_celsius{room="kitchen"} 21.534',
     "emails_sent_total 1.0"].each { |line| assert_includes last_response.body, "#{line}\n" }
    assert_equal({ { service: "foo" } => 1.0, { service: "bar" } => 5.0 }, counter.values.transform_values(&:get))
    assert_equal({}, counter.base_labels)
  end
end

# prometheus-client-mmap README, "Rack middleware", config.ru copied unchanged.
class OldReadmeCollectorExporterTest < Minitest::Test
  include FreshMetrics
  include Rack::Test::Methods

  def app
    @app ||= Rack::Builder.new do
      require 'rack'
      require 'prometheus/client/rack/collector'
      require 'prometheus/client/rack/exporter'

      use Rack::Deflater, if: ->(env, status, headers, body) { body.any? && body[0].length > 512 }
      use Prometheus::Client::Rack::Collector
      use Prometheus::Client::Rack::Exporter

      run ->(env) { [200, {'Content-Type' => 'text/html'}, ['OK']] }
    end.to_app
  end

  def test_collector_records_and_exporter_serves
    get "/hello"
    get "/metrics"
    get "/metrics"

    assert_equal 200, last_response.status
    assert_includes last_response.body, %(http_server_requests_total{method="GET",host="example.org",path="/hello",code="200"} 1.0\n)
    # The first scrape is counted once, by the endpoint, not again by the collector.
    assert_includes last_response.body, %(http_server_requests_total{method="GET",host="example.org",path="/metrics",code="200"} 1.0\n)
  end

  def test_a_label_builder_is_refused_with_a_reason
    error = assert_raises(ArgumentError) { Prometheus::Client::Rack::Collector.new(->(_) {}) { |env| {} } }
    assert_match(/labels/, error.message)
  end
end

# gds_metrics 0.2.0 README: a Sinatra app adds the middleware as its docs say.
class OldReadmeSinatraTest < Minitest::Test
  include FreshMetrics
  include Rack::Test::Methods

  class OldApp < Sinatra::Base
    use GDS::Metrics::Middleware

    get "/hello/:name" do
      "Hello #{params[:name]}"
    end
  end

  def app
    OldApp
  end

  def test_the_route_pattern_is_the_path_label
    get "/hello/world"
    get "/metrics"

    assert_includes last_response.body, %(http_server_requests_total{method="GET",host="example.org",path="/hello/:name",code="200"} 1.0\n)
  end
end
