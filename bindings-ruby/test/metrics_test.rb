# frozen_string_literal: true

require "test_helper"

class ModernStyleTest < Minitest::Test
  include FreshMetrics

  def test_counter_increments_by_one_and_by_an_amount_per_label_set
    jobs = registry.counter(:jobs, docstring: "Jobs done.", labels: [:queue])
    jobs.increment(labels: { queue: "email" })
    jobs.increment(by: 2.5, labels: { queue: "sms" })
    jobs.increment(by: 3, labels: { queue: "email" })

    assert_equal ['jobs_total{queue="email"} 4.0', 'jobs_total{queue="sms"} 2.5'], samples("jobs_total").sort
    assert_equal 4.0, jobs.get(labels: { queue: "email" })
  end

  def test_unlabelled_metrics_are_exposed_at_zero_once_declared
    registry.counter(:started, docstring: "Started.")
    registry.gauge(:depth, docstring: "Depth.")

    assert_equal ["started_total 0.0"], samples("started_total")
    assert_equal ["depth 0.0"], samples("depth")
  end

  def test_gauge_sets_increments_and_decrements
    depth = registry.gauge(:queue_depth, docstring: "Depth.", labels: [:queue])
    depth.set(10, labels: { queue: "a" })
    depth.increment(by: 5, labels: { queue: "a" })
    depth.decrement(labels: { queue: "a" })

    assert_equal 14.0, depth.get(labels: { queue: "a" })
    assert_equal ['queue_depth{queue="a"} 14.0'], samples("queue_depth")
  end

  def test_histogram_counts_observations_into_cumulative_buckets
    latency = registry.histogram(:latency_seconds, docstring: "Latency.", buckets: [0.1, 1])
    [0.05, 0.5, 0.7, 3].each { |value| latency.observe(value) }

    assert_equal({ "0.1" => 1, "1" => 3, "+Inf" => 4, "sum" => 4.25 }, latency.get)
    assert_equal ['latency_seconds_bucket{le="0.1"} 1.0', 'latency_seconds_bucket{le="1.0"} 3.0',
                  'latency_seconds_bucket{le="+Inf"} 4.0'], samples("latency_seconds_bucket")
  end

  def test_summary_keeps_count_and_sum
    size = registry.summary(:payload_bytes, docstring: "Payload size.", labels: [:kind])
    size.observe(100, labels: { kind: "json" })
    size.observe(50, labels: { kind: "json" })

    assert_equal({ "count" => 2, "sum" => 150.0 }, size.get(labels: { kind: "json" }))
  end

  def test_label_values_may_be_symbols_or_numbers
    codes = registry.counter(:codes, docstring: "Codes.", labels: %i[code kind])
    codes.increment(labels: { code: 200, kind: :ok })

    assert_equal ['codes_total{code="200",kind="ok"} 1.0'], samples("codes_total")
  end

  def test_with_labels_presets_some_label_values
    jobs = registry.counter(:preset_jobs, docstring: "Jobs.", labels: %i[queue worker])
    jobs.with_labels(worker: "w1").increment(labels: { queue: "q" })

    assert_equal ['preset_jobs_total{queue="q",worker="w1"} 1.0'], samples("preset_jobs_total")
  end

  def test_openmetrics_rendering_ends_with_eof
    registry.counter(:om, docstring: "OM.").increment

    assert_equal "# EOF\n", registry.render(:openmetrics).lines.last
  end
end

class OldStyleTest < Minitest::Test
  include FreshMetrics

  def test_prometheus_client_registry_is_the_gds_registry
    assert_same GDS::Metrics.registry, Prometheus::Client.registry
  end

  def test_counter_takes_a_labels_hash_then_an_amount
    sent = Prometheus::Client.registry.counter(:emails_sent, "Emails sent.")
    sent.increment({ template: "welcome" })
    sent.increment({ template: "welcome" }, 2)
    sent.increment({ template: "reset" })

    assert_equal 3.0, sent.get({ template: "welcome" })
    assert_equal ['emails_sent_total{template="reset"} 1.0', 'emails_sent_total{template="welcome"} 3.0'],
                 samples("emails_sent_total").sort
  end

  def test_a_labels_hash_without_braces_is_an_unknown_keyword
    sent = Prometheus::Client.registry.counter(:braceless, "Sent.")

    error = assert_raises(ArgumentError) { sent.increment(template: "welcome") }
    assert_equal "unknown keyword: :template", error.message
  end

  def test_counter_without_labels
    signups = Prometheus::Client.registry.counter(:signups, "Signups.")
    signups.increment
    signups.increment({}, 4)

    assert_equal ["signups_total 5.0"], samples("signups_total")
  end

  def test_base_labels_are_added_to_every_series
    hits = Prometheus::Client.registry.counter(:hits, "Hits.", { service: "api" })
    hits.increment({ page: "home" })

    assert_equal ['hits_total{service="api",page="home"} 1.0'], samples("hits_total")
  end

  def test_gauge_set_takes_labels_then_value
    temperature = Prometheus::Client.registry.gauge(:room_temperature_celsius, "Temperature.")
    temperature.set({ room: "kitchen" }, 21.5)

    assert_equal 21.5, temperature.get({ room: "kitchen" })
  end

  def test_histogram_and_summary_observe_take_labels_then_value
    durations = Prometheus::Client.registry.histogram(:job_seconds, "Job time.", {}, [1, 10])
    durations.observe({ job: "a" }, 5)
    sizes = Prometheus::Client.registry.summary(:job_bytes, "Job size.")
    sizes.observe({ job: "a" }, 7)

    assert_equal({ "1" => 0, "10" => 1, "+Inf" => 1, "sum" => 5.0 }, durations.get({ job: "a" }))
    assert_equal({ "count" => 1, "sum" => 7.0 }, sizes.get({ job: "a" }))
  end

  def test_a_view_of_an_old_style_metric_shares_its_family
    sent = Prometheus::Client.registry.counter(:viewed, "Sent.")
    sent.with_labels(template: "a").increment
    sent.increment({ template: "b" })

    assert_equal ['viewed_total{template="a"} 1.0', 'viewed_total{template="b"} 1.0'], samples("viewed_total").sort
  end

  def test_first_update_fixes_the_label_names
    sent = Prometheus::Client.registry.counter(:fixed_labels, "Sent.")
    sent.increment({ template: "a" })

    error = assert_raises(ArgumentError) { sent.increment({ queue: "b" }) }
    assert_equal "metric :fixed_labels has labels [:template] but was given [:queue]; give exactly these labels",
                 error.message
  end
end

class MistakesTest < Minitest::Test
  include FreshMetrics

  def test_a_bad_metric_name_is_an_argument_error_at_declaration
    error = assert_raises(ArgumentError) { registry.counter(:"", docstring: "Bad.") }
    assert_match(/invalid metric name ``: it is empty/, error.message)
  end

  def test_a_utf8_name_is_accepted_and_legacy_names_refuse_it_when_asked_for
    registry.counter(:"bad name", docstring: "Refused by prometheus-client-mmap.").increment
    legacy = GDS::Metrics::Registry.new
    legacy.use_legacy_names
    error = assert_raises(ArgumentError) { legacy.counter(:"bad name", docstring: "Bad.") }
    assert_match(/invalid metric name `bad name`: .*legacy names were asked for/, error.message)
    error = assert_raises(ArgumentError) { legacy.counter(:jobs, docstring: "Jobs.", labels: [:"a:b"]) }
    assert_match(/invalid label name `a:b` for metric `jobs`: .*legacy names were asked for/, error.message)
  end

  def test_a_bad_name_in_the_old_style_is_raised_at_declaration_too
    assert_raises(ArgumentError) { Prometheus::Client.registry.counter(:"", "Bad.") }
  end

  def test_a_reserved_label_name_is_an_argument_error
    error = assert_raises(ArgumentError) { registry.histogram(:h, docstring: "H.", labels: [:le]) }
    assert_match(/invalid label name `le`/, error.message)
  end

  def test_registering_a_name_twice_is_an_argument_error
    registry.counter(:twice, docstring: "Once.")

    error = assert_raises(ArgumentError) { registry.counter(:twice, docstring: "Twice.") }
    assert_equal "metric :twice is already registered", error.message
  end

  def test_clashing_sample_names_are_an_argument_error
    registry.counter(:requests, docstring: "Requests.")

    error = assert_raises(ArgumentError) { registry.gauge(:requests_total, docstring: "Clash.") }
    assert_match(/already registered/, error.message)
  end

  def test_missing_labels_are_an_argument_error
    jobs = registry.counter(:missing, docstring: "Jobs.", labels: %i[queue worker])

    error = assert_raises(ArgumentError) { jobs.increment(labels: { queue: "a" }) }
    assert_equal "metric :missing has labels [:queue, :worker] but was given [:queue]; give exactly these labels",
                 error.message
  end

  def test_a_negative_increment_is_an_argument_error_and_leaves_no_series
    jobs = registry.counter(:negative, docstring: "Jobs.", labels: [:queue])

    error = assert_raises(ArgumentError) { jobs.increment(by: -1, labels: { queue: "a" }) }
    assert_equal "counter `negative` can only increase; got an increment of -1", error.message
    assert_empty samples("negative_total")
  end

  def test_a_missing_docstring_is_an_argument_error
    error = assert_raises(ArgumentError) { registry.counter(:undocumented) }
    assert_equal "metric :undocumented needs a docstring", error.message
  end

  def test_an_unknown_keyword_next_to_by_is_an_argument_error
    jobs = registry.counter(:keywords, docstring: "Jobs.")

    error = assert_raises(ArgumentError) { jobs.increment(by: 2, queue: "a") }
    assert_equal "unknown keyword: :queue", error.message
  end

  def test_too_many_arguments_is_an_argument_error
    jobs = registry.counter(:arguments, docstring: "Jobs.")

    error = assert_raises(ArgumentError) { jobs.increment({}, 1, 2) }
    assert_equal "wrong number of arguments (given 3, expected 0..2)", error.message
  end

  def test_a_non_hash_labels_argument_is_an_argument_error
    jobs = registry.counter(:not_a_hash, docstring: "Jobs.")

    error = assert_raises(ArgumentError) { jobs.increment(5) }
    assert_equal "labels must be a Hash, got 5", error.message
  end

  def test_unsorted_buckets_are_an_argument_error
    assert_raises(ArgumentError) { registry.histogram(:unsorted, docstring: "U.", buckets: [1, 0.5]) }
  end
end

class ThreadSafetyTest < Minitest::Test
  include FreshMetrics

  def test_increments_from_many_threads_are_all_counted
    hits = registry.counter(:threaded, docstring: "Hits.", labels: [:worker])
    threads = 8.times.map do |worker|
      Thread.new { 1000.times { hits.increment(labels: { worker: worker % 2 }) } }
    end
    threads.each(&:join)

    assert_equal 4000.0, hits.get(labels: { worker: 0 })
    assert_equal 4000.0, hits.get(labels: { worker: 1 })
  end
end
