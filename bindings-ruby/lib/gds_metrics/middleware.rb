# frozen_string_literal: true

require "gds_metrics/routes"

module GDS
  module Metrics
    # Rack middleware: serves the metrics endpoint at the configured path (and only there)
    # and counts every other request in the default request metrics.
    #
    #   use GDS::Metrics::Middleware
    #
    # Under Rails the Railtie inserts it with a resolver for the app's route templates.
    class Middleware
      # Rack env keys of the request headers the endpoint reads, and their header names.
      SCRAPE_HEADERS = {
        "HTTP_AUTHORIZATION" => "authorization",
        "HTTP_ACCEPT" => "accept",
        "HTTP_ACCEPT_ENCODING" => "accept-encoding",
        "HTTP_HOST" => "host",
      }.freeze

      # `route_resolver` answers a route template (or nil for no route) for a Rack env;
      # without one, Sinatra's matched route is used, else the path with ids collapsed.
      def initialize(app, route_resolver: nil)
        @app = app
        @endpoint = GDS::Metrics.endpoint
        @routes = Routes.new(route_resolver)
      end

      def call(env)
        path = request_path(env)
        return scrape(env, path) if @endpoint.matches?(path)

        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        begin
          status, headers, body = @app.call(env)
        rescue Exception => e # rubocop:disable Lint/RescueException -- counted, then re-raised untouched
          @endpoint.exception(e.class.name)
          record(env, path, 500, started)
          raise
        end
        count_handled_exception(env, status)
        record(env, path, status, started)
        [status, headers, body]
      end

      private

      # SCRIPT_NAME and PATH_INFO as bytes: joining them never raises, whatever bytes a
      # client sent.
      def request_path(env)
        env["SCRIPT_NAME"].to_s.b << env["PATH_INFO"].to_s.b
      end

      # The core answers (and counts) the scrape: auth, negotiation, gzip.
      def scrape(env, path)
        headers = []
        SCRAPE_HEADERS.each do |key, name|
          value = env[key]
          headers << name << value.to_s unless value.nil?
        end
        status, response_headers, body = @endpoint.call(env["REQUEST_METHOD"].to_s, path, headers)
        [status, response_headers, [body]]
      end

      def record(env, path, status, started)
        seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
        route = @routes.template(env, path)
        @endpoint.record(env["REQUEST_METHOD"].to_s, env["HTTP_HOST"].to_s, route, status.to_i, seconds)
      end

      # Frameworks that turn an exception into a 500 page themselves (Sinatra outside
      # development) leave it in the env; it is counted as if it had reached us.
      def count_handled_exception(env, status)
        error = env["sinatra.error"]
        return unless status.to_i >= 500 && error.is_a?(Exception)

        @endpoint.exception(error.class.name)
      end
    end
  end
end
