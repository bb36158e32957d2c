# frozen_string_literal: true

# The Ruby README's puma cluster config, on loopback at $PORT.
bind "tcp://127.0.0.1:#{ENV.fetch("PORT")}"
workers 2
plugin :gds_metrics
