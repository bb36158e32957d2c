# frozen_string_literal: true

require "test_helper"
require "rack/test"
require "sinatra/base"

# A Sinatra app: the `path` label is the matched route pattern.
class SinatraRoutesTest < Minitest::Test
  include FreshMetrics
  include Rack::Test::Methods

  class Shop < Sinatra::Base
    set :environment, :production
    set :raise_errors, false
    set :show_exceptions, false
    use GDS::Metrics::Middleware

    get("/orders/:id") { "order #{params[:id]}" }
    post("/orders/:id/items") { status 201 }
    get("/fail") { raise ArgumentError, "broken" }
  end

  def app
    @app ||= Shop.new
  end

  def request_samples(method, path)
    get "/metrics"
    prefix = %(http_server_requests_total{method="#{method}",host="example.org",path="#{path}")
    last_response.body.lines.map(&:chomp).select { |line| line.start_with?(prefix) }
  end

  def test_a_sampled_traceparent_is_the_exemplar_of_the_routed_request
    header "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    get "/orders/17"
    header "traceparent", nil
    header "accept", "application/openmetrics-text;version=1.0.0"
    get "/metrics"

    traced = last_response.body.lines.grep(/path="\/orders\/:id".*# \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"\}/)
    assert_equal %w[http_server_request_duration_seconds_bucket http_server_requests_total],
                 traced.map { |line| line[/^[a-z_]+/] }.sort
  end

  def test_the_label_is_the_route_pattern_not_the_path
    get "/orders/17"
    get "/orders/18"

    assert_equal ['http_server_requests_total{method="GET",host="example.org",path="/orders/:id",code="200"} 2.0'],
                 request_samples("GET", "/orders/:id")
  end

  def test_post_routes_are_resolved_too
    post "/orders/17/items"

    assert_equal ['http_server_requests_total{method="POST",host="example.org",path="/orders/:id/items",code="201"} 1.0'],
                 request_samples("POST", "/orders/:id/items")
  end

  def test_an_unmatched_request_is_no_endpoint
    get "/nowhere/123"

    assert_equal ['http_server_requests_total{method="GET",host="example.org",path="No endpoint",code="404"} 1.0'],
                 request_samples("GET", "No endpoint")
  end

  def test_an_exception_sinatra_renders_as_500_is_still_counted
    get "/fail"

    assert_equal 500, last_response.status
    assert_equal ['http_server_requests_total{method="GET",host="example.org",path="/fail",code="500"} 1.0'],
                 request_samples("GET", "/fail")
    get "/metrics"
    assert_includes last_response.body, %(http_server_exceptions_total{error="ArgumentError"} 1.0\n)
  end
end
