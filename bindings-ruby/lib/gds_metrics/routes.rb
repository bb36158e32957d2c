# frozen_string_literal: true

module GDS
  module Metrics
    # What the framework knows about a request, as facts for the core: whether it routes
    # requests at all, the route template that matched, and an exception it turned into a
    # response itself.
    class Routes
      # Set in the env of every request a Sinatra app receives.
      SINATRA = "gds_metrics.sinatra"

      def initialize(resolver = nil)
        @resolver = resolver
      end

      # Whether a router saw the request: the app's resolver (Rails) or a Sinatra app.
      def router?(env)
        !@resolver.nil? || env.key?(SINATRA)
      end

      # The template of the route that matched, or nil.
      def template(env)
        @resolver ? @resolver.call(env) : env["sinatra.route"]&.split(" ", 2)&.last
      end

      # The exception a framework rendered as a response (Sinatra's error pages), or nil.
      def handled_exception(env)
        error = env["sinatra.error"]
        Routes.exception_facts(error, escaped: false) if error.is_a?(Exception)
      end

      # `[class name, nearest named ancestor's name, escaped]` for the core; the name is nil
      # for an anonymous class.
      def self.exception_facts(error, escaped:)
        [error.class.name, error.class.ancestors.find(&:name)&.name, escaped]
      end

      # Marks every request that reaches a Sinatra app and keeps its target as given, from
      # the outermost point of the app (before Rack::Protection normalises PATH_INFO).
      def self.watch_sinatra
        return unless defined?(::Sinatra::Wrapper) && !(::Sinatra::Wrapper < SinatraWatch)

        ::Sinatra::Wrapper.prepend(SinatraWatch)
      end

      # Prepended to Sinatra::Wrapper, the object every Sinatra app is called through.
      module SinatraWatch
        def call(env)
          env[SINATRA] = true
          env[RequestTarget::ORIGINAL] ||= RequestTarget.given(env)
          super
        end
      end
    end
  end
end
