# frozen_string_literal: true

# The gem under a real puma in cluster mode (3 workers) on loopback: every scrape, whichever
# worker answers it, shows the exact totals of all workers, before and after a worker is
# killed with SIGKILL and after a restart, and the files of dead workers do not linger.
# Runs in its own process.

require "minitest/autorun"
require "net/http"
require "socket"
require "tmpdir"
require "digest"
require "fileutils"
require "rbconfig"
require "open3"

class PumaClusterTest < Minitest::Test
  HERE = __dir__
  LIB = File.expand_path("../../lib", HERE)
  WORKERS = 3
  BOOT_SECONDS = 90

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
    start_puma("MMAP_DIRECTORY" => dir)

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

  def test_without_a_directory_puma_cluster_mode_gets_a_private_default
    start_puma({})

    30.times { |i| get("/work/#{i}") }
    assert_totals(30)
    default_dir = File.join(Dir.tmpdir, "gds_metrics-#{Process.uid}-#{Digest::SHA256.hexdigest(File.realpath(@work_dir))[0, 12]}")
    assert File.directory?(default_dir), "the default directory #{default_dir} is used"
  ensure
    FileUtils.rm_rf(default_dir) if default_dir
  end

  private

  # Every scrape (several, so different workers answer) shows `count` for both the custom
  # counter and the request counter of the route.
  def assert_totals(count)
    6.times do
      body = get("/metrics").body
      assert_includes body, "work_done_total #{count}.0\n"
      assert_includes body,
                      %(http_server_requests_total{method="GET",host="127.0.0.1:#{@port}",path="/work/:id",code="200"} #{count}.0\n)
    end
  end

  def start_puma(env)
    puma = Gem.bin_path("puma", "puma")
    @puma = Process.spawn({ "RUBYLIB" => LIB }.merge(env), RbConfig.ruby, puma, "-C", File.join(HERE, "puma.rb"),
                          "-b", "tcp://127.0.0.1:#{@port}", File.join(HERE, "config.ru"),
                          chdir: @work_dir, out: File::NULL, err: File.join(@work_dir, "puma.log"))
    wait_until("puma to boot #{WORKERS} workers") do
      worker_pids.size == WORKERS && get("/metrics").code == "200"
    end
  end

  def stop_puma
    return unless @puma

    Process.kill("TERM", @puma)
    Process.wait(@puma)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    @puma = nil
  end

  def worker_pids
    File.read("/proc/#{@puma}/task/#{@puma}/children").split.map(&:to_i)
  rescue Errno::ENOENT
    []
  end

  def process_files(dir)
    Dir.children(dir).select { |name| name.start_with?("proc-") }
  end

  def get(path)
    Net::HTTP.start("127.0.0.1", @port, open_timeout: 2, read_timeout: 10) { |http| http.get(path) }
  rescue SystemCallError, Net::OpenTimeout, Net::ReadTimeout, EOFError
    Struct.new(:code, :body).new("error", "")
  end

  def wait_until(what)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + BOOT_SECONDS
    until yield
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        log = File.exist?(File.join(@work_dir, "puma.log")) ? File.read(File.join(@work_dir, "puma.log")) : ""
        flunk "timed out waiting for #{what}; puma log:\n#{log}"
      end
      sleep 0.05
    end
  end

  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end
end
