# frozen_string_literal: true

# The gem under a real puma in cluster mode (3 workers) on loopback: every scrape, whichever
# worker answers it, shows the exact totals of all workers (our metrics and ones declared
# with the prometheus-client-mmap API, in one scrape), before and after a worker is killed
# with SIGKILL and after a restart, and the files of dead workers do not linger; the
# directory comes from the core's one rule, with or without preload_app! and the plugin; a
# bad setting stops puma at start with the variable named. Runs in its own process.

require "minitest/autorun"
require "net/http"
require "socket"
require "tmpdir"
require "fileutils"
require "rbconfig"
require "open3"
require_relative "puma_process"
require_relative "../protobuf_wire"

class PumaClusterTest < Minitest::Test
  include PumaProcess

  WORKERS = 3

  def setup
    @work_dir = Dir.mktmpdir("gds-metrics-puma")
    @port = free_port
  end

  def teardown
    stop_puma
    FileUtils.rm_rf(@work_dir)
  end

  def test_exact_totals_across_workers_through_kill_and_restart
    dir = File.join(@work_dir, "mmap")
    start_puma("MMAP_DIRECTORY" => dir, "TEST_PRELOAD" => "1", "TEST_PLUGIN" => "1")

    40.times { |i| assert_equal "200", get("/work/#{i}").code }
    assert_totals(40)
    output, status = Open3.capture2e("promtool", "check", "metrics", stdin_data: get("/metrics").body)
    assert status.success?, "the aggregated scrape passes promtool:\n#{output}"

    victim = worker_pids.first
    Process.kill("KILL", victim)
    wait_until("a replacement for worker #{victim}") { (worker_pids - [victim]).size == WORKERS }
    assert_totals(40)

    25.times { |i| get("/work/#{i}") }
    assert_totals(65)
    refute(process_files(dir).any? { |name| name.start_with?("proc-#{victim}-") },
           "the killed worker's file was folded away")

    old_workers = worker_pids
    Process.kill("USR2", @puma)
    wait_until("workers replaced by the restart") { (worker_pids & old_workers).empty? && worker_pids.size == WORKERS }
    wait_until("the app answering again") { get("/work/0").code == "200" }
    assert_totals(66)
    live = [@puma, *worker_pids]
    stale = process_files(dir).reject { |name| live.any? { |pid| name.start_with?("proc-#{pid}-") } }
    assert_empty stale, "only live processes have files after the restart"
  end

  # Traced requests answered by several workers, then one more: whichever worker answers the
  # scrape, the counter and the bucket show the exemplar of that last request.
  def test_the_scrape_shows_the_newest_exemplar_of_any_worker
    start_puma("MMAP_DIRECTORY" => File.join(@work_dir, "mmap"), "TEST_PLUGIN" => "1")
    answered = []
    60.times do |i|
      answered << get("/traced/t#{i}").body
      break if answered.uniq.size >= 2 && i >= 5
    end
    assert_operator answered.uniq.size, :>=, 2, "traced requests reached more than one worker"
    last_worker = get("/traced/newest").body

    6.times do
      body = get_openmetrics("/metrics").body
      assert_match(/^traced_work_total #{answered.size + 1}\.0 # \{trace_id="newest"\} 1\.0 \d/, body)
      assert_match(/^traced_work_seconds_bucket\{le="0\.1"\} #{answered.size + 1}\.0 # \{trace_id="newest"\} 0\.05 \d/, body)
    end
    assert_includes worker_pids.map(&:to_s), last_worker
  end

  # Requests with a sampled traceparent answered by several workers, then one more: whichever
  # worker answers the scrape, the request count and duration bucket carry that last trace.
  def test_the_request_metrics_show_the_newest_trace_of_any_worker
    start_puma("MMAP_DIRECTORY" => File.join(@work_dir, "mmap"), "TEST_PLUGIN" => "1")
    answered = []
    60.times do |i|
      answered << get("/work/#{i}", "traceparent" => traceparent(format("%032x", i + 1))).body
      break if answered.uniq.size >= 2 && i >= 5
    end
    assert_operator answered.uniq.size, :>=, 2, "traced requests reached more than one worker"
    newest = "feedface" * 4
    exemplar = /# \{trace_id="#{newest}",span_id="00f067aa0ba902b7"\}/
    # A series keeps at most one trace per clock tick, so the newest request is sent again
    # until a tick of its own keeps it.
    wait_until("the newest trace in a scrape") do
      get("/work/newest", "traceparent" => traceparent(newest))
      get_openmetrics("/metrics").body.match?(exemplar)
    end

    6.times do
      traced = get_openmetrics("/metrics").body.lines.grep(exemplar).map { |line| line[/^[a-z_]+/] }
      assert_equal %w[http_server_request_duration_seconds_bucket http_server_requests_total], traced.sort
    end
    # In protobuf the request duration is a native histogram, from the workers' files,
    # carrying the trace as its exemplar.
    protobuf = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
    found = ProtobufWire.request_histogram(get("/metrics", "Accept" => protobuf).body,
                                           "http_server_request_duration_seconds", path: "/work/:id")
    assert_operator found["native"]["count"], :>=, 1
    assert_includes found["native_exemplars"].map { |native| native["labels"] },
                    [["trace_id", newest], %w[span_id 00f067aa0ba902b7]]
  end

  def test_without_a_directory_the_plugin_gives_a_private_directory_removed_at_exit
    start_puma("TEST_PLUGIN" => "1")

    30.times { |i| get("/work/#{i}") }
    assert_totals(30)
    private_dir = File.join(Dir.tmpdir, "gds-metrics-#{Process.uid}", @puma.to_s)
    assert File.directory?(private_dir), "the master's private directory #{private_dir} is used"
    refute_empty process_files(private_dir)

    stop_puma
    refute File.exist?(private_dir), "the master removed its private directory when it exited"
  end

  def test_a_preloaded_app_without_the_plugin_shares_the_masters_private_directory
    start_puma("TEST_PRELOAD" => "1")

    30.times { |i| get("/work/#{i}") }
    assert_totals(30)
    assert File.directory?(File.join(Dir.tmpdir, "gds-metrics-#{Process.uid}", @puma.to_s))
  end

  def test_workers_loading_the_app_without_the_plugin_find_the_masters_directory
    start_puma({})

    30.times { |i| get("/work/#{i}") }
    assert_totals(30)
    assert File.directory?(File.join(Dir.tmpdir, "gds-metrics-#{Process.uid}", @puma.to_s))
  end

  def test_a_bad_setting_stops_puma_at_start_with_the_variable_named
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    pid = spawn_puma({ "TEST_PLUGIN" => "1", "METRICS_BASIC_AUTH" => "1" })
    _, status = Process.wait2(pid)
    log = File.read(puma_log)

    refute status.success?, "puma refused to start"
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, BOOT_SECONDS
    assert_includes log, "`METRICS_BASIC_AUTH` must be `true` or `false`"
    refute_includes log, "Unable to start worker"
  end

  private

  # Every scrape (several, so different workers answer) shows `count` for both custom
  # counters and the request counter of the route. A request is recorded when puma closes
  # its body, just after the client has the response, so the first scrape may wait for it.
  def assert_totals(count)
    expected = ["work_done_total #{count}.0\n", %(legacy_work_total{worker="any"} #{count}.0\n),
                %(http_server_requests_total{method="GET",host="127.0.0.1:#{@port}",path="/work/:id",code="200"} #{count}.0\n)]
    wait_until("the last request recorded") { expected.all? { |line| get("/metrics").body.include?(line) } }
    6.times do
      body = get("/metrics").body
      expected.each { |line| assert_includes body, line }
    end
  end

  def start_puma(env)
    @puma = spawn_puma(env)
    wait_until("puma to boot #{WORKERS} workers") do
      worker_pids.size == WORKERS && get("/metrics").code == "200"
    end
  end

  def process_files(dir)
    Dir.children(dir).select { |name| name.start_with?("proc-") }
  end

  def traceparent(trace_id)
    "00-#{trace_id}-00f067aa0ba902b7-01"
  end

  def get_openmetrics(path)
    get(path, "Accept" => "application/openmetrics-text;version=1.0.0")
  end

  def get(path, headers = {})
    Net::HTTP.start("127.0.0.1", @port, open_timeout: 2, read_timeout: 10) { |http| http.get(path, headers) }
  rescue SystemCallError, Net::OpenTimeout, Net::ReadTimeout, EOFError
    Struct.new(:code, :body).new("error", "")
  end
end
