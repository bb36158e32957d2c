# frozen_string_literal: true

require "test_helper"
require "rack/test"
require "protobuf_wire"

# Native histograms and exemplars declared from Ruby, served by the middleware in protobuf
# and OpenMetrics.
class NativeHistogramTest < Minitest::Test
  include FreshMetrics
  include Rack::Test::Methods

  PROTOBUF = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
  OPENMETRICS = "application/openmetrics-text;version=1.0.0"
  TRACE = { trace_id: "4bf92f3577b34da6", span_id: "00f067aa0ba902b7" }.freeze

  def app
    Rack::Builder.new do
      use GDS::Metrics::Middleware
      run ->(_env) { [200, { "content-type" => "text/plain" }, ["app"]] }
    end.to_app
  end

  def scrape(accept)
    header "Accept", accept
    get "/metrics"
    assert_equal 200, last_response.status
    last_response
  end

  def exemplar_pattern(value)
    /# \{trace_id="4bf92f3577b34da6",span_id="00f067aa0ba902b7"\} #{Regexp.escape(value)} \d+(\.\d+)?$/
  end

  def test_a_native_only_histogram_is_scraped_in_protobuf
    registry.histogram(:job_duration_seconds, docstring: "Time per job.", native: true).observe(0.25)
    response = scrape(PROTOBUF)

    assert_match %r{\Aapplication/vnd\.google\.protobuf;.*encoding=delimited}, response.headers["content-type"]
    refute_empty ProtobufWire.delimited(response.body)
    assert_includes response.body.b, "job_duration_seconds".b
  end

  def test_a_native_only_histogram_shows_count_and_sum_in_openmetrics
    registry.histogram(:job_duration_seconds, docstring: "Time per job.", native: true).observe(0.25)
    body = scrape(OPENMETRICS).body

    assert_includes body, "job_duration_seconds_count 1.0\n"
    assert_includes body, "job_duration_seconds_sum 0.25\n"
  end

  def test_classic_buckets_beside_native_ones_show_in_openmetrics
    latency = registry.histogram(:job_duration_seconds, docstring: "Time per job.", labels: [:queue], buckets: [0.1, 1],
                                                        native: { schema: 3, zero_threshold: 0.001, max_buckets: 50, reset_after: 3600 })
    latency.observe(0.5, labels: { queue: "mail" })
    body = scrape(OPENMETRICS).body

    assert_includes body, %(job_duration_seconds_bucket{queue="mail",le="1.0"} 1.0\n)
    assert_equal({ "0.1" => 0, "1" => 1, "+Inf" => 1, "sum" => 0.5 }, latency.get(labels: { queue: "mail" }))
  end

  def test_bad_native_settings_are_argument_errors
    error = assert_raises(ArgumentError) { registry.histogram(:a_seconds, docstring: "A.", native: { schema: 9 }) }
    assert_match(/the schema must be between -4 and 8/, error.message)
    error = assert_raises(ArgumentError) { registry.histogram(:b_seconds, docstring: "B.", native: { scheme: 3 }) }
    assert_match(/native: must be true or a Hash of schema/, error.message)
    error = assert_raises(ArgumentError) { registry.histogram(:c_seconds, docstring: "C.", native: { reset_after: -1 }) }
    assert_match(/the reset interval \(reset_after\) must be a number of seconds above zero, got -1/, error.message)
  end

  def test_a_histogram_exemplar_appears_in_openmetrics
    latency = registry.histogram(:job_duration_seconds, docstring: "Time per job.", buckets: [0.1, 1])
    latency.observe(0.5, exemplar: TRACE)
    bucket = scrape(OPENMETRICS).body.lines.find { |line| line.start_with?('job_duration_seconds_bucket{le="1.0"}') }

    assert_match exemplar_pattern("0.5"), bucket.chomp
  end

  def test_a_counter_exemplar_appears_in_openmetrics
    jobs = registry.counter(:jobs, docstring: "Jobs done.", labels: [:queue])
    jobs.increment(by: 2, labels: { queue: "mail" }, exemplar: TRACE)
    jobs.increment(labels: { queue: "mail" })
    total = scrape(OPENMETRICS).body.lines.find { |line| line.start_with?("jobs_total") }

    assert total.start_with?(%(jobs_total{queue="mail"} 3.0 # )), total
    assert_match exemplar_pattern("2.0"), total.chomp
  end

  def test_an_exemplar_over_128_characters_is_an_argument_error_and_records_nothing
    jobs = registry.counter(:jobs, docstring: "Jobs done.")
    latency = registry.histogram(:job_duration_seconds, docstring: "Time per job.", native: true)
    long = { trace_id: "x" * 121 }

    assert_match(/OpenMetrics allows 128/, assert_raises(ArgumentError) { jobs.increment(exemplar: long) }.message)
    assert_match(/OpenMetrics allows 128/, assert_raises(ArgumentError) { latency.observe(0.1, exemplar: long) }.message)
    assert_equal 0.0, jobs.get
    assert_equal({ "+Inf" => 0, "sum" => 0.0 }, latency.get)
  end

  def test_an_exemplar_that_is_not_a_hash_or_on_a_summary_is_an_argument_error
    jobs = registry.counter(:jobs, docstring: "Jobs done.")
    sizes = registry.summary(:sizes, docstring: "Sizes.")

    assert_match(/must be a Hash/, assert_raises(ArgumentError) { jobs.increment(exemplar: "trace") }.message)
    assert_match(/keeps no exemplars/, assert_raises(ArgumentError) { sizes.observe(1, exemplar: TRACE) }.message)
  end
end
