# A tenant Sinatra app instrumented as the gds_metrics README shows.
#
# `use GDS::Metrics::Middleware` serves /metrics (protected by the app GUID from
# VCAP_APPLICATION) and records the default request metrics, with Sinatra's route pattern
# (`/users/:id`) as the `path` label. Custom metrics go into `GDS::Metrics.registry`.

require "sinatra/base"
require "gds_metrics"

USER_LOOKUPS = GDS::Metrics.registry.counter(
  :demo_user_lookups, docstring: "User pages served, by outcome.", labels: [:outcome]
)

# The load benchmark asks for many custom series to measure scrapes of a realistic size.
extra_series = Integer(ENV.fetch("DEMO_EXTRA_SERIES", "0"))
if extra_series.positive?
  queue_depth = GDS::Metrics.registry.gauge(
    :demo_queue_depth, docstring: "Jobs waiting, by queue.", labels: [:queue],
                       store_settings: { aggregation: :max }, series_limit: extra_series
  )
  extra_series.times { |queue| queue_depth.set(queue, labels: { queue: "queue-#{queue}" }) }
end

class ExampleApp < Sinatra::Base
  use GDS::Metrics::Middleware

  # Let an unhandled exception reach the middleware, which counts it by class name.
  set :raise_errors, true
  set :show_exceptions, false

  get "/" do
    "Hello from the Sinatra example app\n"
  end

  get "/users/:id" do
    USER_LOOKUPS.increment(labels: { outcome: "found" })
    "User #{params[:id]}\n"
  end

  get "/boom" do
    (1 / 0).to_s
  end
end
