# frozen_string_literal: true

module GDS
  module Metrics
    # The route template of a Rails request (`/users/:id(.:format)`), recognised for the
    # request's own HTTP method, or nil when no route matches.
    class RailsRoutes
      def initialize(app)
        @app = app
      end

      def call(env)
        # A copy: recognising a mounted engine's route rewrites SCRIPT_NAME and PATH_INFO.
        request = ::ActionDispatch::Request.new(env.dup)
        @app.routes.router.recognize(request) { |route, _params| return route.path.spec.to_s }
        nil
      rescue StandardError
        nil
      end
    end

    # Inserts the middleware into every Rails app that loads the gem. It goes inside the
    # exception-rendering middleware, so unhandled exceptions pass through it and are
    # counted before Rails turns them into a 500 page.
    class Railtie < ::Rails::Railtie
      initializer "gds_metrics.middleware" do |app|
        app.middleware.use GDS::Metrics::Middleware, route_resolver: RailsRoutes.new(app)
      end
    end
  end
end
