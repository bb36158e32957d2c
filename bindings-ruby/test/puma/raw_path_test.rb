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
require_relative "puma_process"

class PumaRawPathTest < Minitest::Test
  include Vectors::Assertions
  include PumaProcess

  CASES = Vectors.cases("endpoint").select { |c| (c["settings"].keys - ["application_id"]).empty? }

  def teardown
    stop_puma
    FileUtils.rm_rf(@work_dir) if @work_dir
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
    @port = free_port
    env = { "TEST_WORKERS" => "0", "TEST_PLUGIN" => "1" }
    env["VCAP_APPLICATION"] = JSON.generate("application_id" => guid) if guid
    @puma = spawn_puma(env, rackup)
    wait_until("puma to listen") { listening? }
  end

  def listening?
    TCPSocket.new("127.0.0.1", @port).close
    true
  rescue SystemCallError
    false
  end
end
