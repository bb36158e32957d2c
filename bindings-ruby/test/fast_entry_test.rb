# frozen_string_literal: true

require "test_helper"

# Counter#increment and Histogram/Summary#observe are native entries that take the common
# calls themselves and hand every other call to the Ruby implementation. Each call shape
# here must give what the Ruby implementation gives: the same series, the same errors.
class FastEntryTest < Minitest::Test
  include FreshMetrics

  def counter
    @counter ||= registry.counter(:fast_jobs, docstring: "Jobs.", labels: %i[queue kind])
  end

  def test_each_call_shape_counts_once_per_call
    counter.increment(labels: { queue: "a", kind: "x" })
    counter.increment(by: 2, labels: { queue: "a", kind: "x" })
    counter.increment(labels: { queue: "a", kind: "x" }, by: 0.5)
    counter.increment({ queue: "a", kind: "x" }, 3)
    counter.increment({ kind: "x", queue: "a" })

    assert_equal ['fast_jobs_total{queue="a",kind="x"} 7.5'], samples("fast_jobs_total")
  end

  def test_values_that_need_a_conversion_take_the_ruby_path
    counter.increment(labels: { queue: :a, kind: 1 })
    counter.increment(by: 2r, labels: { queue: "a".encode("US-ASCII"), kind: "1".b })
    counter.increment(by: 2**70, labels: { queue: "é", kind: "1" })

    assert_equal ['fast_jobs_total{queue="a",kind="1"} 3.0', 'fast_jobs_total{queue="é",kind="1"} 1.1805916207174113e21'],
                 samples("fast_jobs_total").sort
  end

  def test_a_mutated_labels_hash_names_its_new_series
    labels = { queue: "a", kind: "x" }
    counter.increment(labels: labels)
    labels[:queue] = +"b"
    counter.increment(labels: labels)
    labels[:queue] << "c"
    counter.increment(labels: labels)

    assert_equal %w[a b bc], samples("fast_jobs_total").map { |line| line[/queue="(\w+)"/, 1] }.sort
  end

  def test_rejections_raise_as_the_ruby_implementation_does
    assert_raises(ArgumentError) { counter.increment(labels: { queue: "a" }) }
    assert_raises(ArgumentError) { counter.increment(labels: { queue: "a", kind: "x", extra: "y" }) }
    assert_raises(ArgumentError) { counter.increment(labels: { queue: "a", kind: "x" }, by: -1) }
    assert_raises(ArgumentError) { counter.increment(labels: { queue: "a", kind: "x" }, by: Float::NAN) }
    assert_raises(ArgumentError) { counter.increment(lables: { queue: "a", kind: "x" }) }
    assert_raises(ArgumentError) { counter.increment({ queue: "a", kind: "x" }, labels: { queue: "a", kind: "x" }) }
    assert_raises(TypeError) { counter.increment(by: "2", labels: { queue: "a", kind: "x" }) }
    assert_raises(EncodingError) { counter.increment(labels: { queue: "\xff", kind: "x" }) }
    assert_raises(EncodingError) { counter.increment(labels: { queue: "a".encode("UTF-16LE"), kind: "x" }) }

    assert_empty samples("fast_jobs_total"), "a rejected call leaves no series behind"
  end

  def test_views_with_preset_labels_and_undeclared_labels_take_the_ruby_path
    counter.with_labels(queue: "a").increment(labels: { kind: "x" })
    legacy = registry.counter(:fast_legacy, "Legacy.")
    legacy.increment({ queue: "a" }, 2)
    legacy.increment({ queue: "a" })

    assert_equal ['fast_jobs_total{queue="a",kind="x"} 1.0'], samples("fast_jobs_total")
    assert_equal ['fast_legacy_total{queue="a"} 3.0'], samples("fast_legacy_total")
  end

  def test_observe_in_each_call_shape
    histogram = registry.histogram(:fast_seconds, docstring: "Latency.", labels: [:route], buckets: [0.1])
    summary = registry.summary(:fast_size, docstring: "Size.")
    histogram.observe(0.05, labels: { route: "/a" })
    histogram.observe({ route: "/a" }, 1)
    histogram.observe(3r, labels: { route: "/a" })
    summary.observe(2)
    summary.observe(0.5)

    assert_equal({ "0.1" => 1, "+Inf" => 3, "sum" => 4.05 }, histogram.get(labels: { route: "/a" }))
    assert_equal({ "count" => 2, "sum" => 2.5 }, summary.get)
    assert_raises(ArgumentError) { histogram.observe(1, labels: {}) }
    assert_raises(ArgumentError) { histogram.observe(1, labels: { route: "/a" }, extra: 1) }
  end

  # A frozen labels Hash of frozen values finds its series by identity (a cache in the
  # family object); everything it could get wrong is checked here.
  def test_a_frozen_labels_hash_counts_into_its_own_series
    labels = { queue: "a", kind: "x" }.freeze
    3.times { counter.increment(labels: labels) }
    counter.increment(labels: labels, by: 0.5)
    counter.increment(labels, 2)

    assert_equal ['fast_jobs_total{queue="a",kind="x"} 5.5'], samples("fast_jobs_total")
    assert_raises(ArgumentError) { counter.increment(labels: labels, by: -1) }
  end

  def test_a_frozen_hash_of_a_mutable_string_follows_the_string
    value = +"a"
    labels = { queue: value, kind: "x" }.freeze
    counter.increment(labels: labels)
    value << "b"
    counter.increment(labels: labels)

    assert_equal %w[a ab], samples("fast_jobs_total").map { |line| line[/queue="(\w+)"/, 1] }.sort
  end

  def test_a_removed_series_comes_back_at_zero_for_a_cached_hash
    labels = { queue: "a", kind: "x" }.freeze
    2.times { counter.increment(labels: labels) }
    counter.remove(labels: labels)
    counter.increment(labels: labels)

    assert_equal ['fast_jobs_total{queue="a",kind="x"} 1.0'], samples("fast_jobs_total")
  end

  def test_many_frozen_hashes_through_garbage_collection_and_compaction_keep_exact_counts
    expected = Hash.new(0)
    2000.times do |index|
      queue = "q#{index % 37}".freeze
      counter.increment(labels: { queue: queue, kind: "x" }.freeze)
      expected[queue] += 1
      GC.start if (index % 500).zero?
      GC.compact if index == 1000 && GC.respond_to?(:compact)
    end
    counts = samples("fast_jobs_total").to_h { |line| [line[/queue="(\w+)"/, 1], Float(line.split.last).to_i] }

    assert_equal expected, counts
  end

  def test_every_refusal_of_a_full_family_is_counted
    limited = registry.counter(:fast_limited, docstring: "Limited.", labels: [:key], series_limit: 1)
    limited.increment(labels: { key: "kept" }.freeze)
    refused = { key: "refused" }.freeze
    3.times { limited.increment(labels: refused) }

    assert_equal ['fast_limited_total{key="__overflow__"} 3.0', 'fast_limited_total{key="kept"} 1.0'],
                 samples("fast_limited_total").sort
    assert_includes samples("gds_metrics_series_refused_total"), 'gds_metrics_series_refused_total{family="fast_limited"} 3.0'
  end

  def test_a_view_of_a_bound_metric_merges_its_preset_labels
    labels = { kind: "x" }.freeze
    view = counter.with_labels(queue: "v")
    2.times { view.increment(labels: labels) }
    counter.increment(labels: { queue: "a", kind: "x" }.freeze)

    assert_equal ['fast_jobs_total{queue="a",kind="x"} 1.0', 'fast_jobs_total{queue="v",kind="x"} 2.0'],
                 samples("fast_jobs_total").sort
  end

  def test_a_frozen_labels_hash_observes_into_its_own_series
    histogram = registry.histogram(:fast_cached_seconds, docstring: "Latency.", labels: [:route], buckets: [0.1])
    route = { route: "/a" }.freeze
    histogram.observe(0.05, labels: route)
    histogram.observe(1, labels: route)

    assert_equal({ "0.1" => 1, "+Inf" => 2, "sum" => 1.05 }, histogram.get(labels: route))
  end

  # Every bad amount given with a cached frozen Hash (or to a family without labels, whose
  # series the entry holds) must fall back and raise exactly what the Ruby path raises for a
  # fresh Hash, and count nothing.
  def test_a_cached_series_rejects_each_bad_amount_with_the_ruby_paths_error
    frozen = { queue: "a", kind: "x" }.freeze
    counter.increment(labels: frozen)
    solo = registry.counter(:fast_solo, docstring: "Solo.")
    solo.increment
    [-1, -0.5, Float::NAN, Float::INFINITY, "2", nil.to_a, 2**70 * -1].each do |by|
      expected = raised { counter.increment(labels: { queue: "a", kind: "x" }, by: by) }

      assert_equal expected, raised { counter.increment(labels: frozen, by: by) }, "by: #{by.inspect}"
      # The same error, naming the other family.
      assert_equal [expected[0], expected[1].sub("fast_jobs", "fast_solo")], raised { solo.increment(by: by) },
                   "solo, by: #{by.inspect}"
    end

    assert_equal ['fast_jobs_total{queue="a",kind="x"} 1.0'], samples("fast_jobs_total")
    assert_equal ["fast_solo_total 1.0"], samples("fast_solo_total")
  end

  def test_a_cached_series_rejects_each_bad_observation_with_the_ruby_paths_error
    histogram = registry.histogram(:fast_bad_seconds, docstring: "Latency.", labels: [:route], buckets: [0.1])
    route = { route: "/a" }.freeze
    histogram.observe(0.05, labels: route)
    ["1", nil, [], Object.new].each do |value|
      expected = raised { histogram.observe(value, labels: { route: "/a" }) }

      assert_equal expected, raised { histogram.observe(value, labels: route) }, "value: #{value.inspect}"
    end

    assert_equal({ "0.1" => 1, "+Inf" => 1, "sum" => 0.05 }, histogram.get(labels: route))
  end

  # The class and message of what `block` raises; fails if it raises nothing.
  def raised
    yield
    flunk "nothing raised"
  rescue StandardError => e
    [e.class, e.message.sub(/#<Object:0x\h+>/, "#<Object>")]
  end
end
