# frozen_string_literal: true

# Cluster mode: three workers forked from a master that loaded the app.
workers 3
threads 1, 4
preload_app!
quiet
