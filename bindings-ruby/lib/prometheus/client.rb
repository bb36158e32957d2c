# frozen_string_literal: true

# `require "prometheus/client"`, as prometheus-client-mmap's README has apps write, gives
# this gem's implementation of that API (lib/gds_metrics/prometheus_client.rb).
require "gds_metrics"
