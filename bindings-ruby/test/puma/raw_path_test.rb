# frozen_string_literal: true

# endpoint.json's cases under a real puma, requests written byte for byte on a raw socket so
# no client library normalises the target: a plain Rack app and a Sinatra app (whose
# Rack::Protection normalises PATH_INFO). Settings go through the environment, so the cases
# whose settings are an application id, or none, run here. Runs in its own process.

require "minitest/autorun"
require "socket"
require "tmpdir"
require "fileutils"
require "rbconfig"
require "zlib"
require "gds_metrics"
require "vectors"

class PumaRawPathTest < Minitest::Test
  include Vectors::Assertions

  HERE = __dir__
  LIB = File.expand_path("../../lib", HERE)
  BOOT_SECONDS = 60
  CASES = Vectors.cases("endpoint").select { |c| (c["settings"].keys - ["application_id"]).empty? }

  def teardown
    stop_puma
  end

  %w[rack.ru config.ru].each do |rackup|
    CASES.group_by { |c| c["settings"]["application_id"] }.each do |guid, cases|
      define_method("test_#{rackup.tr(".", "_")}_#{guid ? "on" : "off"}_the_paas") do
        start_puma(rackup, guid)
        cases.each do |test_case|
          status, headers, body = raw_request(test_case["request"])
          assert_answer(test_case["expect"], status, headers, body, "#{rackup}: #{test_case["name"]}")
        end
      end
    end
  end

  private

  # The request as bytes, its target exactly as the vector gives it.
  def raw_request(request)
    socket = TCPSocket.new("127.0.0.1", @port)
    lines = ["#{request["method"]} #{request["target"]} HTTP/1.1", "Host: 127.0.0.1:#{@port}", "Connection: close"]
    lines += request["headers"].map { |name, value| "#{name}: #{value}" }
    socket.write("#{lines.join("\r\n")}\r\n\r\n".b)
    parse(socket.read.b)
  ensure
    socket&.close
  end

  def parse(response)
    head, body = response.split("\r\n\r\n", 2)
    status_line, *header_lines = head.split("\r\n")
    headers = header_lines.to_h { |line| line.split(": ", 2).then { |name, value| [name.downcase, value] } }
    [Integer(status_line.split[1]), headers, body.to_s]
  end

  def start_puma(rackup, guid)
    @work_dir = Dir.mktmpdir("gds-metrics-raw")
    @port = TCPServer.new("127.0.0.1", 0).then { |server| server.addr[1].tap { server.close } }
    env = { "RUBYLIB" => LIB, "TEST_WORKERS" => "0", "TEST_PLUGIN" => "1" }
    env["VCAP_APPLICATION"] = JSON.generate("application_id" => guid) if guid
    @puma = Process.spawn(env, RbConfig.ruby, Gem.bin_path("puma", "puma"), "-C", File.join(HERE, "puma.rb"),
                          "-b", "tcp://127.0.0.1:#{@port}", File.join(HERE, rackup),
                          chdir: @work_dir, out: File::NULL, err: File.join(@work_dir, "puma.log"))
    wait_for_puma
  end

  def wait_for_puma
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + BOOT_SECONDS
    loop do
      TCPSocket.new("127.0.0.1", @port).close
      return
    rescue SystemCallError
      flunk "puma did not boot: #{File.read(File.join(@work_dir, "puma.log"))}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.05
    end
  end

  def stop_puma
    return unless @puma

    Process.kill("TERM", @puma)
    Process.wait(@puma)
    FileUtils.rm_rf(@work_dir)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    @puma = nil
  end
end
