# frozen_string_literal: true

require "net/http"
require "rbconfig"
require "socket"

# A puma started for a test on loopback, with the gem's lib on its load path and its log in
# the test's work directory (`@work_dir`, `@port` set by the test).
module PumaProcess
  HERE = __dir__
  LIB = File.expand_path("../../lib", HERE)
  BOOT_SECONDS = 90
  # What a client sees when the worker holding its request is killed or gone.
  CUT_OFF = [SystemCallError, IOError, Net::OpenTimeout, Net::ReadTimeout, EOFError].freeze

  # Starts puma with test/puma/puma.rb, `args` (which win over it) and `rackup`; returns
  # its pid.
  def spawn_puma(env, rackup = "config.ru", args: [])
    Process.spawn({ "RUBYLIB" => LIB }.merge(env), RbConfig.ruby, Gem.bin_path("puma", "puma"),
                  "-C", File.join(HERE, "puma.rb"), *args, "-b", "tcp://127.0.0.1:#{@port}", File.join(HERE, rackup),
                  chdir: @work_dir, out: File::NULL, err: puma_log)
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

  def puma_log
    File.join(@work_dir, "puma.log")
  end

  def wait_until(what)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + BOOT_SECONDS
    until yield
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        flunk "timed out waiting for #{what}; puma log:\n#{File.exist?(puma_log) ? File.read(puma_log) : ""}"
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

  # The master's children, read from /proc.
  def worker_pids
    File.read("/proc/#{@puma}/task/#{@puma}/children").split.map(&:to_i)
  rescue Errno::ENOENT
    []
  end

  # Without retries: Net::HTTP resends an idempotent request whose connection broke, so a
  # request cut off by a kill would be counted twice and answered once.
  def get(path)
    http = Net::HTTP.new("127.0.0.1", @port)
    http.open_timeout = 2
    http.read_timeout = 10
    http.max_retries = 0
    http.start { |connection| connection.get(path) }
  end

  # The block's value, or false when a kill cut its request off.
  def answered
    yield
  rescue *CUT_OFF
    false
  end
end
