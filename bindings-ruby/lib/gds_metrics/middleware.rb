# frozen_string_literal: true

require "rack/body_proxy"
require "gds_metrics/routes"

module GDS
  module Metrics
    # Rack middleware: serves the metrics endpoint at the configured path (and only there)
    # and reports every other request to the core, which records it in the request metrics.
    #
    #   use GDS::Metrics::Middleware
    #
    # Under Rails the Railtie inserts it with a resolver for the app's route templates.
    # The middleware reports facts only (the request as sent, how the framework routed it,
    # the status, the time taken, the exception); the core decides every label.
    class Middleware
      # `route_resolver` answers the route template (or nil when no route matched) for a
      # Rack env, for a framework with a router; without one, Sinatra's matched route is
      # used when the request went through a Sinatra app.
      def initialize(app, route_resolver: nil)
        @app = app
        @endpoint = GDS::Metrics.endpoint
        @routes = Routes.new(route_resolver)
        Routes.watch_sinatra
      end

      def call(env)
        target = RequestTarget.of(env)
        mount = env["SCRIPT_NAME"].to_s.b
        return Middleware.scrape(@endpoint, env, target, mount) if @endpoint.matches?(mount, target)

        observe(env, target)
      end

      # Set in the env of a scrape: the endpoint records it itself, so a middleware further
      # out (Prometheus::Client::Rack::Collector before an Exporter) must not record it again.
      SCRAPED = "gds_metrics.scraped"

      # The core answers (and counts) the scrape: auth, negotiation, gzip. It gets every
      # request header, as the client sent it.
      def self.scrape(endpoint, env, target, mount)
        env[SCRAPED] = true
        headers = []
        env.each { |key, value| headers << key << value.to_s if key.start_with?("HTTP_") }
        status, response_headers, body = endpoint.call(env["REQUEST_METHOD"].to_s, target, mount, headers)
        [status, response_headers, [body]]
      end

      private

      # Calls the app and reports the request once its response body is closed.
      def observe(env, target)
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        begin
          status, headers, body = @app.call(env)
        rescue Exception => e # rubocop:disable Lint/RescueException -- reported, then re-raised untouched
          record(env, target, 0, started, Routes.exception_facts(e, escaped: true))
          raise
        end
        finished(env, target, status, headers, body, started)
      end

      # Records an Array body (complete already, and left as it is so that servers can
      # still set its Content-Length) now; any other body when it is closed, so a streamed
      # body is timed to its end.
      def finished(env, target, status, headers, body, started)
        done = -> { record(env, target, status, started, @routes.handled_exception(env)) }
        return [status, headers, Rack::BodyProxy.new(body, &done)] unless body.is_a?(Array)

        done.call
        [status, headers, body]
      end

      # `status` is ignored by the core when the exception escaped.
      def record(env, target, status, started, exception)
        return if env.key?(SCRAPED)

        seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
        @endpoint.record(env["REQUEST_METHOD"].to_s, env["HTTP_HOST"].to_s, target,
                         @routes.router?(env), @routes.template(env), status.to_i, seconds, exception,
                         env["HTTP_TRACEPARENT"])
      end
    end

    # The request target as the client sent it, before any server or framework decoded or
    # normalised it: REQUEST_URI where the server sets it (puma, unicorn, passenger), else
    # SCRIPT_NAME and PATH_INFO as the outermost app was given them.
    module RequestTarget
      # Where the gem keeps the target as a Sinatra app was given it (see Routes.watch_sinatra),
      # because Rack::Protection rewrites PATH_INFO before middleware inside the app runs.
      ORIGINAL = "gds_metrics.original_target"

      # As bytes: joining them never raises, whatever bytes a client sent.
      def self.of(env)
        env["REQUEST_URI"] || env[ORIGINAL] || given(env)
      end

      def self.given(env)
        env["SCRIPT_NAME"].to_s.b << env["PATH_INFO"].to_s.b
      end
    end
  end
end
