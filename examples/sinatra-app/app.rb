# A tenant Sinatra app instrumented as the gds_metrics README shows.
#
# `use GDS::Metrics::Middleware` serves /metrics (protected by the app GUID from
# VCAP_APPLICATION) and records the default request metrics, with Sinatra's route pattern
# (`/users/:id`) as the `path` label. Custom metrics go into `GDS::Metrics.registry`.
#
# `/jobs/:queue?seconds=S` runs a job that takes S seconds and records how long it took in
# a native histogram (with classic buckets beside it, for Prometheus 2), with the request's
# W3C `traceparent` as exemplar, and counts it in `app.jobs.done_total`, a UTF-8 name that
# Prometheus 3 stores as it is. Both are declared with `exemplars_across_processes: true`,
# so a scrape answered by any puma worker shows the newest exemplar of all of them.

require "json"
require "sinatra/base"
require "gds_metrics"

USER_LOOKUPS = GDS::Metrics.registry.counter(
  :demo_user_lookups, docstring: "User pages served, by outcome.", labels: [:outcome]
)

JOB_DURATION = GDS::Metrics.registry.histogram(
  :demo_job_duration_seconds, docstring: "Time a job took, by queue.", labels: [:queue],
                              buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], native: { schema: 5 },
                              exemplars_across_processes: true
)
JOBS_DONE = GDS::Metrics.registry.counter(
  :"app.jobs.done", docstring: "Jobs done, by queue.", labels: [:queue], exemplars_across_processes: true
)
# A job may take up to this long, so a request cannot hold a thread for longer.
MAX_JOB_SECONDS = 5.0
TRACEPARENT = /\A00-(?<trace_id>\h{32})-(?<span_id>\h{16})-\h{2}\z/

# The trace and span ids of a W3C `traceparent` header, or no exemplar.
def trace_of(traceparent)
  match = TRACEPARENT.match(traceparent.to_s.strip.downcase)
  match && { trace_id: match[:trace_id], span_id: match[:span_id] }
end

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

  # Runs a job of `seconds` and records the time it took, traced by `traceparent`.
  get "/jobs/:queue" do
    seconds = Float(params.fetch("seconds", "0"), exception: false)
    halt 400 unless seconds&.between?(0, MAX_JOB_SECONDS)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    sleep(seconds)
    took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    exemplar = trace_of(request.env["HTTP_TRACEPARENT"])
    labels = { queue: params[:queue] }
    JOB_DURATION.observe(took, labels: labels, exemplar: exemplar)
    JOBS_DONE.increment(by: 1, labels: labels, exemplar: exemplar)
    content_type :json
    { pid: Process.pid, seconds: took }.to_json
  end
end
