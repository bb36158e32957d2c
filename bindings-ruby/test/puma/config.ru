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

  get "/work/:id" do
    WORK.increment
    LEGACY.increment({ worker: "any" })
    Process.pid.to_s
  end

  # Any other path, as the client sent it, is the app's.
  get(%r{.*}) { "app" }
end

run ClusterApp
