# puma in cluster mode: several worker processes, one aggregated view of the metrics.
# The gem's plugin runs in the master: it checks the gem's settings before any worker boots
# (a bad one stops puma, naming the variable) and gives the workers the directory they
# share (the configured one, or a private one for this run, removed when puma exits).
workers Integer(ENV.fetch("WEB_CONCURRENCY", "2"))
threads 1, 4
bind "tcp://127.0.0.1:#{ENV.fetch('PORT', '9292')}"
environment "production"
plugin :gds_metrics
