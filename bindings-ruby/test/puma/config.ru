# frozen_string_literal: true

# A Sinatra app under puma, for cluster_test.rb: a custom metric of ours and one declared
# with the prometheus-client-mmap API 0.2.0 apps used, next to each other in one scrape.
require "sinatra/base"
require "gds_metrics"

class ClusterApp < Sinatra::Base
  set :environment, :production
  use GDS::Metrics::Middleware

  WORK = GDS::Metrics.registry.counter(:work_done, docstring: "Work done.")
  LEGACY = Prometheus::Client::Counter.new(:legacy_work, "Work counted the 0.2.0 way.")
  Prometheus::Client.registry.register(LEGACY)
  # Exemplars kept in the workers' files, so the scrape shows the newest of any worker.
  TRACED = GDS::Metrics.registry.counter(:traced_work, docstring: "Traced work.", exemplars_across_processes: true)
  TRACED_SECONDS = GDS::Metrics.registry.histogram(:traced_work_seconds, docstring: "Traced work time.",
                                                                        buckets: [0.1, 1], exemplars_across_processes: true)

  get "/work/:id" do
    WORK.increment
    LEGACY.increment({ worker: "any" })
    Process.pid.to_s
  end

  get "/traced/:trace" do
    TRACED.increment(exemplar: { trace_id: params[:trace] })
    TRACED_SECONDS.observe(0.05, exemplar: { trace_id: params[:trace] })
    Process.pid.to_s
  end

  # Any other path, as the client sent it, is the app's.
  get(%r{.*}) { "app" }
end

run ClusterApp
