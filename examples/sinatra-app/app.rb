# A tenant Sinatra app instrumented as the gds_metrics README shows.
#
# `use GDS::Metrics::Middleware` serves /metrics (protected by the app GUID from
# VCAP_APPLICATION) and records the default request metrics, with Sinatra's route pattern
# (`/users/:id`) as the `path` label.

require "sinatra/base"
require "gds_metrics"

class ExampleApp < Sinatra::Base
  use GDS::Metrics::Middleware

  # Let an unhandled exception reach the middleware, which counts it by class name.
  set :raise_errors, true
  set :show_exceptions, false

  get "/" do
    "Hello from the Sinatra example app\n"
  end

  get "/users/:id" do
    "User #{params[:id]}\n"
  end

  get "/boom" do
    (1 / 0).to_s
  end
end
