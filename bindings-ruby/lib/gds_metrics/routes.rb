# frozen_string_literal: true

module GDS
  module Metrics
    # The `path` label of a request: the framework's route template where it knows one,
    # nil (recorded as "No endpoint") when no route matched, and for apps without a
    # router the path with numeric ids and UUIDs collapsed, so the label stays bounded.
    class Routes
      def initialize(resolver = nil)
        @resolver = resolver
      end

      def template(env, path)
        if (route = env["sinatra.route"])
          route.split(" ", 2).last
        elsif sinatra_not_found?(env)
          nil
        elsif @resolver
          @resolver.call(env)
        else
          Native.collapse_ids(path)
        end
      end

      private

      def sinatra_not_found?(env)
        defined?(::Sinatra::NotFound) && env["sinatra.error"].is_a?(::Sinatra::NotFound)
      end
    end
  end
end
