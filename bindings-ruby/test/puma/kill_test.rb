# frozen_string_literal: true

# Multi-process mode under a real puma cluster with four workers, workers killed with
# SIGKILL while a bounded load runs (CONTRACT section 6): the scraped total is every
# request answered (plus at most the ones a kill cut off), counters never go backwards,
# and the directory keeps one file per live process. Runs in its own process.

require "minitest/autorun"
require "net/http"
require "socket"
require "tmpdir"
require "fileutils"
require "rbconfig"
require_relative "puma_process"

class PumaKillTest < Minitest::Test
  include PumaProcess

  WORKERS = 4
  KILLS = 4
  KILL_EVERY_SECONDS = 1.5
  CLIENTS = 4
  LOAD_SECONDS = 8.0

  def setup
    @work_dir = Dir.mktmpdir("gds-metrics-puma-kill")
    @dir = File.join(@work_dir, "mmap")
    @port = free_port
    start_puma
  end

  def teardown
    stop_puma
    FileUtils.rm_rf(@work_dir)
  end

  def test_workers_killed_under_load_lose_no_answered_request
    before = work_done
    answered = 0
    cut_off = 0
    lock = Mutex.new
    stop = false
    clients = Array.new(CLIENTS) do
      Thread.new do
        until stop
          ok = begin
            get("/work/1").code == "200"
          rescue *CUT_OFF
            false
          end
          lock.synchronize { ok ? answered += 1 : cut_off += 1 }
        end
      end
    end

    scraped = []
    file_counts = []
    kills = 0
    start = monotonic
    while monotonic < start + LOAD_SECONDS
      victim = worker_pids.sample
      if victim && kills < KILLS && monotonic > start + ((kills + 1) * KILL_EVERY_SECONDS)
        Process.kill("KILL", victim)
        kills += 1
      end
      begin
        scraped << work_done
      rescue *CUT_OFF
        nil # this scrape went to the worker just killed
      end
      file_counts << process_files.size
    end
    stop = true
    clients.each(&:join)
    wait_until("#{WORKERS} workers again") do
      answered { worker_pids.size == WORKERS && get("/metrics").code == "200" }
    end

    assert_equal KILLS, kills
    assert_operator answered, :>, 100, "the load was too small to mean anything"
    assert_equal scraped.sort, scraped, "a counter went backwards"
    total = work_done
    expected = before + answered
    assert_operator total, :>=, expected, "answered requests are counted"
    assert_operator total, :<=, expected + cut_off, "at most the cut-off requests on top"
    8.times { assert_equal total, work_done, "every worker shows the same total" }
    assert_operator file_counts.max, :<=, WORKERS + 2, "one file per live process, and a killed one's until folded"
    assert_operator process_files.size, :<=, WORKERS + 1
  end

  private

  def work_done
    response = get("/metrics")
    raise IOError, "scrape answered #{response.code}" unless response.code == "200"

    response.body[/^work_done_total (\S+)$/, 1].to_f
  end

  def start_puma
    # `-w` on the command line wins over the `workers` of puma.rb.
    @puma = spawn_puma({ "MMAP_DIRECTORY" => @dir }, args: ["-w", WORKERS.to_s])
    wait_until("puma to boot #{WORKERS} workers") do
      answered { worker_pids.size == WORKERS && get("/metrics").code == "200" }
    end
  end

  def process_files
    Dir.children(@dir).select { |name| name.start_with?("proc-") }
  end

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end
