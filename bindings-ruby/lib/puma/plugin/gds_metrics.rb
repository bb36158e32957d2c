# frozen_string_literal: true

# `plugin :gds_metrics` in puma.rb: runs in puma's master before it boots any worker (see
# GDS::Metrics::PumaServer.start).
require "puma/plugin"
require "gds_metrics"

Puma::Plugin.create do
  def start(launcher)
    GDS::Metrics::PumaServer.start(launcher.options[:workers].to_i)
  end
end
