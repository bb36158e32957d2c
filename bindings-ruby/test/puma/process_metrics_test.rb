# frozen_string_literal: true

# The process metrics under a real puma cluster with the gem's plugin: the whole server's
# (the master and every live worker, whichever worker answers), with one worker and with
# several, through a worker killed (reaped at once by puma, or left unreaped by a stopped
# master). The CPU counter never goes backwards; the start time is the master's. Runs in
# its own process.

require "minitest/autorun"
require "etc"
require "net/http"
require "tmpdir"
require "fileutils"
require_relative "puma_process"

class PumaProcessMetricsTest < Minitest::Test
  include PumaProcess

  def setup
    @work_dir = Dir.mktmpdir("gds-metrics-puma-process")
    @port = free_port
  end

  def teardown
    resume(@puma) if @puma
    stop_puma
    FileUtils.rm_rf(@work_dir)
  end

  # The master holds its file in the directory from the start, so its only worker knows
  # it from the first scrape on.
  def test_one_worker_is_seen_as_one_with_the_masters_start_time_through_a_kill
    start_puma(1)
    metrics = process_metrics
    assert_equal 1, metrics["process_live_workers"]
    start = metrics["process_start_time_seconds"]
    assert_in_delta started_at(@puma), start, 0.05, "the master's start time"
    cpu = metrics["process_cpu_seconds_total"]

    kill_a_worker_and_wait_for_its_replacement(1)
    8.times do
      now = process_metrics
      assert_equal 1, now["process_live_workers"]
      assert_equal start, now["process_start_time_seconds"]
      assert_operator now["process_cpu_seconds_total"], :>=, cpu, "the server's CPU went back after a kill"
      cpu = now["process_cpu_seconds_total"]
    end
  end

  def test_process_metrics_are_the_whole_servers_through_a_kill
    start_puma(4)
    # A worker's file is made in the worker just after the fork, which the master's list
    # of children may show first.
    wait_until("4 live workers in the scrape") { answered { process_metrics["process_live_workers"] == 4 } }
    body = get("/metrics").body
    assert_equal 1, body.scan(/^# TYPE process_cpu_seconds_total counter$/).size
    refute_match(/^process_virtual_memory_bytes /, body, "address spaces overlap after fork: no sum")
    metrics = process_metrics
    assert_equal 4, metrics["process_live_workers"]
    start = metrics["process_start_time_seconds"]
    assert_in_delta started_at(@puma), start, 0.05, "the master's start time"
    cpu = metrics["process_cpu_seconds_total"]

    kill_a_worker_and_wait_for_its_replacement(4)
    8.times do
      now = process_metrics
      assert_equal start, now["process_start_time_seconds"]
      assert_operator now["process_cpu_seconds_total"], :>=, cpu, "the server's CPU went back after a kill"
      cpu = now["process_cpu_seconds_total"]
    end
  end

  # A stopped master cannot reap: the killed worker stays a zombie, its CPU in neither the
  # live workers' sum nor the master's children time, and the counter holds.
  def test_a_worker_dead_but_not_yet_reaped_takes_no_cpu_back
    start_puma(2)
    cpu = process_metrics["process_cpu_seconds_total"]
    victim = worker_pids.first
    Process.kill("STOP", @puma)
    Process.kill("KILL", victim)
    wait_until("worker #{victim} dead and unreaped") { state(victim) == "Z" }
    8.times do
      now = process_metrics
      assert_equal 1, now["process_live_workers"]
      assert_operator now["process_cpu_seconds_total"], :>=, cpu, "the server's CPU went back while a worker was unreaped"
      cpu = now["process_cpu_seconds_total"]
    end
    resume(@puma)
    wait_until("a replacement for worker #{victim}") do
      answered { (worker_pids - [victim]).size == 2 && process_metrics["process_live_workers"] == 2 }
    end
    assert_operator process_metrics["process_cpu_seconds_total"], :>=, cpu
  end

  private

  def start_puma(workers)
    @puma = spawn_puma({ "TEST_PLUGIN" => "1" }, args: ["-w", workers.to_s])
    wait_until("puma to boot #{workers} workers") do
      answered { worker_pids.size == workers && get("/metrics").code == "200" }
    end
  end

  # Kills a worker with SIGKILL and waits until puma has replaced it and the scrape shows
  # `workers` live workers again.
  def kill_a_worker_and_wait_for_its_replacement(workers)
    victim = worker_pids.first
    Process.kill("KILL", victim)
    wait_until("a replacement for worker #{victim}") do
      answered { (worker_pids - [victim]).size == workers && process_metrics["process_live_workers"] == workers }
    end
  end

  # Lets a stopped master run again (a test that failed while it was stopped included).
  def resume(pid)
    Process.kill("CONT", pid)
  rescue Errno::ESRCH
    nil
  end

  def process_metrics
    response = get("/metrics")
    raise IOError, "scrape answered #{response.code}" unless response.code == "200"

    response.body.scan(/^(process_[a-z_]+) (\S+)$/).to_h { |name, value| [name, Float(value)] }
  end

  # The fields of /proc/<pid>/stat after the command name.
  def stat_fields(pid)
    File.read("/proc/#{pid}/stat").rpartition(")").last.split
  end

  def state(pid)
    stat_fields(pid).first
  end

  # A process's start time, from /proc/<pid>/stat and the boot time in /proc/stat.
  def started_at(pid)
    boot = File.foreach("/proc/stat").find { |line| line.start_with?("btime ") }.split[1].to_f
    boot + (Integer(stat_fields(pid)[19]) / Etc.sysconf(Etc::SC_CLK_TCK).to_f)
  end
end
