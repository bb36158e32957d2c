# puma in cluster mode: several worker processes, one aggregated view of the metrics
# (the gem's multi-process store, in MMAP_DIRECTORY or its default).
workers Integer(ENV.fetch("WEB_CONCURRENCY", "2"))
threads 1, 4
bind "tcp://127.0.0.1:#{ENV.fetch('PORT', '9292')}"
environment "production"
