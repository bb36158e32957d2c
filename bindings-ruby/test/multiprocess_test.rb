# frozen_string_literal: true

require "test_helper"
require "tmpdir"

# Multi-process mode without a server: forked children write, the parent scrapes.
class MultiProcessTest < Minitest::Test
  include FreshMetrics

  def setup
    super
    @dir = Dir.mktmpdir("gds-metrics-mp")
  end

  def teardown
    super
    FileUtils.rm_rf(@dir)
  end

  def fork_and_wait(count)
    pids = Array.new(count) { |index| fork { yield index; exit!(0) } }
    pids.each { |pid| assert Process.wait2(pid).last.success? }
  end

  def test_mmap_directory_turns_on_aggregation_across_forked_processes
    ENV["MMAP_DIRECTORY"] = @dir
    jobs = registry.counter(:mp_jobs, docstring: "Jobs.", labels: [:queue])
    jobs.increment(labels: { queue: "a" })

    fork_and_wait(3) { |index| jobs.increment(by: index + 1, labels: { queue: "a" }) }

    assert_equal File.realpath(@dir), registry.native.multiprocess_dir
    assert_equal ['mp_jobs_total{queue="a"} 7.0'], samples("mp_jobs_total")
  end

  # Children record exemplars one after another; the parent's scrape shows the last one,
  # for the counter and for the histogram bucket, only when the metric keeps exemplars in
  # the shared files.
  def test_exemplars_across_processes_show_the_newest_of_any_process
    ENV["MMAP_DIRECTORY"] = @dir
    jobs = registry.counter(:mp_traced, docstring: "Jobs.", labels: [:queue], exemplars_across_processes: true)
    seconds = registry.histogram(:mp_traced_seconds, docstring: "Time.", buckets: [1], exemplars_across_processes: true)
    local = registry.counter(:mp_untraced, docstring: "Jobs.")
    jobs.increment(labels: { queue: "a" }, exemplar: { trace_id: "parent" })

    %w[first second third].each do |trace|
      fork_and_wait(1) do
        jobs.increment(labels: { queue: "a" }, exemplar: { trace_id: trace })
        seconds.observe(0.5, exemplar: { trace_id: trace })
        local.increment(exemplar: { trace_id: trace })
      end
    end

    assert_match(/\Amp_traced_total\{queue="a"\} 4\.0 # \{trace_id="third"\} 1\.0 \d/, samples("mp_traced_total", format: :openmetrics).first)
    assert_match(/# \{trace_id="third"\} 0\.5 \d/, samples('mp_traced_seconds_bucket{le="1.0"}', format: :openmetrics).first)
    assert_equal ["mp_untraced_total 3.0"], samples("mp_untraced_total", format: :openmetrics),
                 "without the option a worker's exemplars stay in that worker"
  end

  def test_the_directory_given_in_code_wins
    GDS::Metrics.configure { |config| config.mmap_directory = @dir }

    assert_equal File.realpath(@dir), registry.native.multiprocess_dir
  end

  def test_gauge_modes_combine_processes
    GDS::Metrics.configure { |config| config.mmap_directory = @dir }
    biggest = registry.gauge(:mp_biggest, docstring: "Max.", store_settings: { aggregation: :max })
    total = Prometheus::Client.registry.gauge(:mp_total, "Sum.", {}, :livesum)

    fork_and_wait(2) do |index|
      biggest.set(10 * (index + 1))
      total.set({}, 5)
    end
    biggest.set(1)

    assert_equal ["mp_biggest 20.0"], samples("mp_biggest")
    assert_equal [], samples("mp_total "), "live modes drop exited processes"
  end

  def test_a_forked_worker_folds_the_files_of_exited_workers_at_boot
    ENV["MMAP_DIRECTORY"] = @dir
    jobs = registry.counter(:mp_fold, docstring: "Jobs.")
    exited = fork { jobs.increment; exit!(0) }
    Process.wait(exited)
    assert(Dir.children(@dir).any? { |name| name.start_with?("proc-#{exited}-") })

    checker = fork { exit!(Dir.children(@dir).none? { |name| name.start_with?("proc-#{exited}-") } ? 0 : 1) }

    assert Process.wait2(checker).last.success?, "the new worker folded the exited worker's file"
    assert_equal ["mp_fold_total 1.0"], samples("mp_fold_total")
  end

  def test_an_unknown_gauge_mode_is_an_argument_error
    error = assert_raises(ArgumentError) do
      registry.gauge(:mp_bad_mode, docstring: "Bad.", store_settings: { aggregation: :median })
    end
    assert_match(/unknown multi-process gauge mode `median`/, error.message)
  end

  def test_an_unusable_directory_is_a_configuration_error
    file = File.join(@dir, "a-file")
    File.write(file, "")
    ENV["MMAP_DIRECTORY"] = File.join(file, "below")

    error = assert_raises(GDS::Metrics::ConfigurationError) { registry }
    assert_match(/MMAP_DIRECTORY/, error.message)
  end
end
