# frozen_string_literal: true

require "json"

# The shared conformance vectors (core/tests/vectors/*.json), read once; every language runs
# the same files through its own public API.
module Vectors
  DIR = File.expand_path("../../core/tests/vectors", __dir__)

  # The cases of `name`.json.
  def self.cases(name)
    JSON.parse(File.read(File.join(DIR, "#{name}.json")))["cases"]
  end

  # The Ruby exception each error kind raises (the extension's error.rs table).
  KIND_EXCEPTIONS = {
    "InvalidArgument" => ArgumentError,
    "Duplicate" => ArgumentError,
    "Configuration" => GDS::Metrics::ConfigurationError,
    "InvalidData" => GDS::Metrics::InvalidDataError,
    "Io" => GDS::Metrics::IOError,
    "Conflict" => GDS::Metrics::ConflictError,
  }.freeze

  # A vector's settings given in code, the way an app gives them.
  def self.configure(settings)
    GDS::Metrics.configure do |config|
      config.application_id = settings["application_id"]
      config.use_basic_auth = settings["auth_enabled"]
      config.prometheus_metrics_path = settings["metrics_path"]
    end
  end

  # Checks an answer (status, headers by lower-case name, body) against a case's `expect`.
  module Assertions
    def assert_answer(expect, status, headers, body, name)
      assert_equal expect["status"], status, name
      served_by_endpoint = headers["cache-control"] == "no-store"
      assert_equal expect["served_by"] == "endpoint", served_by_endpoint, "#{name}: served by #{expect["served_by"]}"
      assert_equal "app", body, name if expect["served_by"] == "app"
      (expect["headers"] || {}).each do |header, value|
        value.nil? ? assert_nil(headers[header], "#{name}: #{header}") : assert_equal(value, headers[header], "#{name}: #{header}")
      end
      assert_body(expect["body"], headers, body, name) if expect["body"]
    end

    def assert_body(kind, headers, body, name)
      body = Zlib.gunzip(body) if headers["content-encoding"] == "gzip"
      case kind
      when "exposition" then assert_includes body, "# TYPE http_server_requests", name
      when "refusal" then assert_equal 1, body.lines.size, "#{name}: one line: #{body.inspect}"
      when "empty" then assert_equal "", body, name
      else flunk "#{name}: unknown body kind #{kind}"
      end
    end
  end
end
