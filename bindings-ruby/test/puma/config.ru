# frozen_string_literal: true

# A Sinatra app under puma in cluster mode, for cluster_test.rb.
require "sinatra/base"
require "gds_metrics"

class ClusterApp < Sinatra::Base
  set :environment, :production
  use GDS::Metrics::Middleware

  WORK = GDS::Metrics.registry.counter(:work_done, docstring: "Work done.")

  get "/work/:id" do
    WORK.increment
    Process.pid.to_s
  end
end

run ClusterApp
