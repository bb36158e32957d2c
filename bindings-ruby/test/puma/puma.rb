# frozen_string_literal: true

# Cluster mode: workers forked from a master. The tests choose whether the master preloads
# the app and whether it runs the gem's plugin.
workers Integer(ENV.fetch("TEST_WORKERS", "3"))
threads 1, 4
preload_app! if ENV["TEST_PRELOAD"] == "1"
plugin :gds_metrics if ENV["TEST_PLUGIN"] == "1"
quiet
