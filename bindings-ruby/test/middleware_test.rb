# frozen_string_literal: true

require "test_helper"
require "json"
require "open3"
require "protobuf_wire"
require "rack/test"
require "zlib"

GUID = "6b0b3c4e-5f37-4a6e-9a4c-2a1f0e8d7b11"

# The endpoint and request metrics through the Rack middleware, at the HTTP level.
module MiddlewareTests
  include FreshMetrics
  include Rack::Test::Methods

  def app
    @app ||= build_app
  end

  def build_app
    Rack::Builder.new do
      use GDS::Metrics::Middleware
      map("/boom") { run ->(_env) { 1 / 0 } }
      map("/anonymous") { run ->(_env) { raise Class.new(ArgumentError), "no name" } }
      run ->(_env) { [200, { "content-type" => "text/plain" }, ["app"]] }
    end.to_app
  end

  def on_the_paas(guid = GUID)
    ENV["VCAP_APPLICATION"] = JSON.generate("application_id" => guid, "name" => "app",
                                            "application_uris" => ["app.example"])
  end

  # Samples of the scrape whose name starts with `prefix`.
  def scraped(prefix)
    header "Authorization", "Bearer #{GUID}"
    get "/metrics"
    last_response.body.lines.map(&:chomp).select { |line| line.start_with?(prefix) }
  end
end

class AuthMatrixTest < Minitest::Test
  include MiddlewareTests

  def test_off_the_paas_the_endpoint_is_open
    get "/metrics"

    assert_equal 200, last_response.status
    assert_equal "text/plain; version=0.0.4; charset=utf-8", last_response.headers["content-type"]
  end

  def test_on_the_paas_no_authorization_header_is_unauthorized
    on_the_paas
    get "/metrics"

    assert_equal 401, last_response.status
    assert_equal 'Bearer realm="metrics"', last_response.headers["www-authenticate"]
    assert_equal "text/plain; charset=utf-8", last_response.headers["content-type"]
  end

  def test_on_the_paas_a_wrong_token_is_forbidden_and_never_echoed
    on_the_paas
    header "Authorization", "Bearer not-the-guid"
    get "/metrics"

    assert_equal 403, last_response.status
    refute_includes last_response.body, "not-the-guid"
    refute_includes last_response.body, GUID
  end

  def test_on_the_paas_the_app_guid_is_accepted
    on_the_paas
    header "Authorization", "Bearer #{GUID}"
    get "/metrics"

    assert_equal 200, last_response.status
  end

  def test_the_scheme_is_case_insensitive_and_whitespace_trimmed
    on_the_paas
    header "Authorization", "  bearer #{GUID}  "
    get "/metrics"

    assert_equal 200, last_response.status
  end

  def test_basic_credentials_are_forbidden
    on_the_paas
    header "Authorization", "Basic #{["user:#{GUID}"].pack('m0')}"
    get "/metrics"

    assert_equal 403, last_response.status
  end

  def test_non_ascii_header_is_forbidden_not_an_error
    on_the_paas
    header "Authorization", "Bearer \xC3\xA9t\xC3\xA9".b
    get "/metrics"

    assert_equal 403, last_response.status
  end

  def test_metrics_basic_auth_false_switches_auth_off
    on_the_paas
    ENV["METRICS_BASIC_AUTH"] = "FALSE"
    get "/metrics"

    assert_equal 200, last_response.status
  end

  def test_use_basic_auth_false_in_code_switches_auth_off
    on_the_paas
    GDS::Metrics.configure { |config| config.use_basic_auth = false }
    get "/metrics"

    assert_equal 200, last_response.status
  end

  def test_application_id_given_in_code_turns_auth_on
    GDS::Metrics.configure { |config| config.application_id = GUID }
    get "/metrics"

    assert_equal 401, last_response.status
  end

  def test_an_unknown_auth_switch_is_a_configuration_error_naming_the_variable
    on_the_paas
    ENV["METRICS_BASIC_AUTH"] = "1"

    error = assert_raises(GDS::Metrics::ConfigurationError) { app }
    assert_match(/`METRICS_BASIC_AUTH` must be `true` or `false`/, error.message)
  end

  def test_a_vcap_application_without_an_id_is_a_configuration_error
    ENV["VCAP_APPLICATION"] = "{}"

    error = assert_raises(GDS::Metrics::ConfigurationError) { app }
    assert_match(/`VCAP_APPLICATION`/, error.message)
  end
end

class EndpointBehaviourTest < Minitest::Test
  include MiddlewareTests

  def test_a_changed_path_is_served_and_metrics_then_belongs_to_the_app
    on_the_paas
    GDS::Metrics.configure { |config| config.prometheus_metrics_path = "/internal/metrics" }
    get "/internal/metrics"
    assert_equal 401, last_response.status

    get "/metrics"
    assert_equal 200, last_response.status
    assert_equal "app", last_response.body
  end

  def test_the_path_can_come_from_the_environment
    ENV["PROMETHEUS_METRICS_PATH"] = "/prometheus"
    get "/prometheus"
    assert_match(/^# TYPE http_server_requests_total counter$/, last_response.body)

    get "/metrics"
    assert_equal "app", last_response.body
  end

  def test_a_trailing_slash_is_not_the_endpoint
    get "/metrics/"

    assert_equal "app", last_response.body
  end

  def test_a_bad_path_setting_is_a_configuration_error
    GDS::Metrics.configure { |config| config.prometheus_metrics_path = "metrics" }

    error = assert_raises(GDS::Metrics::ConfigurationError) { app }
    assert_match(/must start with `\/`/, error.message)
  end

  def test_gzip_when_the_scraper_accepts_it
    registry.counter(:zipped, docstring: "Zipped.").increment
    header "Accept-Encoding", "gzip"
    get "/metrics"

    assert_equal "gzip", last_response.headers["content-encoding"]
    assert_equal "Accept, Accept-Encoding", last_response.headers["vary"]
    assert_includes Zlib.gunzip(last_response.body), "zipped_total 1.0\n"
  end

  def test_no_gzip_when_refused_with_q_zero
    header "Accept-Encoding", "gzip;q=0"
    get "/metrics"

    assert_nil last_response.headers["content-encoding"]
  end

  def test_openmetrics_when_the_scraper_prefers_it
    header "Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    get "/metrics"

    assert_equal "application/openmetrics-text; version=1.0.0; charset=utf-8", last_response.headers["content-type"]
    assert last_response.body.end_with?("# EOF\n")
  end

  def test_head_answers_without_a_body
    head "/metrics"

    assert_equal 200, last_response.status
    assert_equal "", last_response.body
    assert_equal "no-store", last_response.headers["cache-control"]
  end

  def test_other_methods_are_not_allowed
    post "/metrics"

    assert_equal 405, last_response.status
    assert_equal "GET, HEAD", last_response.headers["allow"]
  end
end

class RequestMetricsTest < Minitest::Test
  include MiddlewareTests

  def test_requests_are_counted_with_ids_collapsed_when_there_is_no_router
    header "Host", "app.example"
    get "/users/42/orders/7"
    get "/users/43/orders/8"

    assert_equal ['http_server_requests_total{method="GET",host="app.example",path="/users/:id/orders/:id",code="200"} 2.0'],
                 scraped('http_server_requests_total{method="GET",host="app.example",path="/users')
  end

  def test_durations_are_observed_with_the_same_labels
    header "Host", "app.example"
    post "/jobs"

    assert_equal ['http_server_request_duration_seconds_count{method="POST",host="app.example",path="/jobs",code="200"} 1.0'],
                 scraped("http_server_request_duration_seconds_count{method=\"POST\"")
  end

  def test_an_exception_is_counted_by_class_reraised_and_counted_as_a_500
    header "Host", "app.example"
    assert_raises(ZeroDivisionError) { get "/boom" }

    assert_equal ['http_server_exceptions_total{error="ZeroDivisionError"} 1.0'], scraped("http_server_exceptions_total{")
    assert_equal ['http_server_requests_total{method="GET",host="app.example",path="/boom",code="500"} 1.0'],
                 scraped('http_server_requests_total{method="GET",host="app.example",path="/boom"')
  end

  def test_an_anonymous_exception_class_is_counted_by_its_nearest_named_ancestor
    assert_raises(ArgumentError) { get "/anonymous" }

    assert_equal ['http_server_exceptions_total{error="ArgumentError"} 1.0'], scraped("http_server_exceptions_total{")
  end

  def test_a_path_and_host_that_are_not_utf8_pass_through_and_are_counted
    env = Rack::MockRequest.env_for("/x").merge("PATH_INFO" => "/caf\xE9/7".b, "HTTP_HOST" => "h\xFF".b)
    status, _headers, body = app.call(env)

    assert_equal [200, ["app"]], [status, body]
    assert_equal ["http_server_requests_total{method=\"GET\",host=\"h\uFFFD\",path=\"/caf\uFFFD/:id\",code=\"200\"} 1.0".b],
                 scraped("http_server_requests_total{method=\"GET\",host=\"h")
  end

  def test_scrapes_are_counted_rejected_ones_included
    on_the_paas
    header "Host", "app.example"
    get "/metrics"

    assert_equal ['http_server_requests_total{method="GET",host="app.example",path="/metrics",code="401"} 1.0'],
                 scraped('http_server_requests_total{method="GET",host="app.example",path="/metrics",code="401"')
  end

  def test_both_custom_metric_styles_appear_in_the_scrape
    registry.counter(:modern_jobs, docstring: "Jobs.", labels: [:queue]).increment(labels: { queue: "a" })
    Prometheus::Client.registry.counter(:legacy_jobs, "Jobs.").increment({ queue: "b" }, 2)

    assert_equal ['modern_jobs_total{queue="a"} 1.0'], scraped("modern_jobs_total")
    assert_equal ['legacy_jobs_total{queue="b"} 2.0'], scraped("legacy_jobs_total")
  end
end

# A sampled W3C traceparent as the exemplar of the request's count and duration.
class TraceExemplarsTest < Minitest::Test
  include MiddlewareTests

  TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
  TRACEPARENT = "00-#{TRACE_ID}-00f067aa0ba902b7-01".freeze

  def traced_families
    header "traceparent", nil
    header "accept", "application/openmetrics-text;version=1.0.0"
    get "/metrics"
    exemplar = %(# {trace_id="#{TRACE_ID}",span_id="00f067aa0ba902b7"})
    last_response.body.lines.select { |line| line.include?(exemplar) }.map { |line| line[/^[a-z_]+/] }.sort
  end

  def test_a_sampled_traceparent_is_the_exemplar_of_the_request
    header "traceparent", TRACEPARENT
    get "/orders/7"

    assert_equal %w[http_server_request_duration_seconds_bucket http_server_requests_total], traced_families
  end

  def test_an_unsampled_or_malformed_traceparent_gives_no_exemplar_and_no_error
    ["00-#{TRACE_ID}-00f067aa0ba902b7-00", "garbage", "\xff".b * 5000].each do |value|
      header "traceparent", value
      get "/orders/7"
      assert_equal 200, last_response.status
    end

    assert_empty traced_families
  end

  def test_trace_exemplars_switched_off_in_configure
    ENV["METRICS_TRACE_EXEMPLARS"] = "true"
    GDS::Metrics.configure { |config| config.trace_exemplars = false }
    assert_equal false, GDS::Metrics::Config.instance.trace_exemplars
    header "traceparent", TRACEPARENT
    get "/orders/7"

    assert_empty traced_families
  end

  def test_trace_exemplars_switched_off_by_the_environment
    ENV["METRICS_TRACE_EXEMPLARS"] = "False"
    assert_equal false, GDS::Metrics::Config.instance.trace_exemplars
    header "traceparent", TRACEPARENT
    get "/orders/7"

    assert_empty traced_families
  end

  def test_a_bad_trace_exemplars_switch_is_a_configuration_error_naming_it
    ENV["METRICS_TRACE_EXEMPLARS"] = "yes"
    error = assert_raises(GDS::Metrics::ConfigurationError) { GDS::Metrics::Config.instance.trace_exemplars }
    assert_match(/METRICS_TRACE_EXEMPLARS/, error.message)
  end
end

# The request duration's native buckets, which a protobuf scrape carries with the trace.
class RequestNativeHistogramTest < Minitest::Test
  include MiddlewareTests

  PROTOBUF = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"

  def request_histogram
    header "accept", PROTOBUF
    get "/metrics"
    ProtobufWire.request_histogram(last_response.body, "http_server_request_duration_seconds")
  end

  def test_the_request_duration_is_a_native_histogram_carrying_the_trace_by_default
    header "traceparent", TraceExemplarsTest::TRACEPARENT
    get "/orders/7"

    found = request_histogram
    assert_equal 1, found["native"]["count"]
    assert_equal [[["trace_id", TraceExemplarsTest::TRACE_ID], %w[span_id 00f067aa0ba902b7]]],
                 found["native_exemplars"].map { |exemplar| exemplar["labels"] }
  end

  def test_native_buckets_switched_off_in_configure
    ENV["METRICS_REQUEST_NATIVE_HISTOGRAM"] = "true"
    GDS::Metrics.configure { |config| config.request_native_histogram = false }
    assert_equal false, GDS::Metrics::Config.instance.request_native_histogram
    get "/orders/7"

    assert_nil request_histogram["native"]
  end

  def test_native_buckets_switched_off_by_the_environment
    ENV["METRICS_REQUEST_NATIVE_HISTOGRAM"] = "FALSE"
    assert_equal false, GDS::Metrics::Config.instance.request_native_histogram
    get "/orders/7"

    assert_nil request_histogram["native"]
  end

  def test_a_bad_native_buckets_switch_is_a_configuration_error_naming_it
    ENV["METRICS_REQUEST_NATIVE_HISTOGRAM"] = "no"
    error = assert_raises(GDS::Metrics::ConfigurationError) do
      GDS::Metrics::Config.instance.request_native_histogram
    end
    assert_match(/METRICS_REQUEST_NATIVE_HISTOGRAM/, error.message)
  end
end

# The core's process metrics of this process, with prometheus_client's names.
class ProcessMetricsTest < Minitest::Test
  include MiddlewareTests

  def test_the_scrape_has_the_process_metrics_of_this_process
    samples = scraped("process_").to_h { |line| [line.split.first, Float(line.split.last)] }

    assert_equal %w[process_cpu_seconds_total process_max_fds process_open_fds process_resident_memory_bytes
                    process_start_time_seconds process_virtual_memory_bytes], samples.keys.sort
    assert_equal Process.getrlimit(:NOFILE).first.to_f, samples["process_max_fds"]
    assert_operator samples["process_resident_memory_bytes"], :>, 0
  end
end

class PromtoolTest < Minitest::Test
  include MiddlewareTests

  def test_a_scrape_with_every_metric_kind_passes_promtool
    registry.counter(:jobs, docstring: "Jobs \\ done\nhere.", labels: [:queue]).increment(labels: { queue: "a\"b\\c\nd" })
    registry.gauge(:depth, docstring: "Depth.").set(-1.5)
    registry.histogram(:latency_seconds, docstring: "Latency.").observe(0.3)
    registry.summary(:payload_bytes, docstring: "Size.").observe(512)
    get "/users/1"

    output, status = Open3.capture2e("promtool", "check", "metrics", stdin_data: scraped("").join("\n") + "\n")
    assert status.success?, output
    assert_equal "", output
  end
end

class StreamedBodyTest < Minitest::Test
  include MiddlewareTests

  # A body that is not an Array is recorded when the server closes it, so a streamed
  # response is timed to its end.
  class Streamed
    def each
      yield "chunk"
    end

    def close; end
  end

  def build_app
    Rack::Builder.new do
      use GDS::Metrics::Middleware
      run ->(_env) { [200, {}, Streamed.new] }
    end.to_app
  end

  def test_a_streamed_body_is_recorded_when_closed
    env = Rack::MockRequest.env_for("/stream", "HTTP_HOST" => "app.example")
    _status, _headers, body = app.call(env)
    prefix = 'http_server_requests_total{method="GET",host="app.example",path="/stream"'
    assert_empty samples(prefix)

    body.close
    assert_equal ["#{prefix},code=\"200\"} 1.0"], samples(prefix)
  end
end
