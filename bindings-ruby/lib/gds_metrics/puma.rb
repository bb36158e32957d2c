# frozen_string_literal: true

module GDS
  module Metrics
    # Facts about the puma server the app runs under, and the master's part of the process
    # model. The core's ServerDirectory decides the directory and its lifecycle.
    #
    # In puma.rb, for cluster mode:
    #
    #   plugin :gds_metrics
    module PumaServer
      class << self
        # The core's directory for this puma server when it runs workers, else nil.
        def directory
          master = master_pid
          master && (@directory ||= Native::ServerDirectory.for_server(master).tap { |dir| finish_at_exit(dir) })
        end

        # Runs in the master when puma starts (the plugin): checks the settings, so a bad
        # one stops puma with the variable named instead of failing in every worker it
        # boots, and in cluster mode prepares the directory, exports it to the workers and
        # (the core) opens the master's file there, so every worker knows its master from
        # the first scrape (the whole server's process metrics, even with one worker).
        def start(workers)
          Native::Config.new(Config.instance.to_native)
          return unless workers.positive?

          dir = Native::ServerDirectory.for_server(Process.pid)
          ENV[Native::ServerDirectory::EXPORTED_VARIABLE] = dir.dir
          finish_at_exit(dir)
        end

        # Called in every child forked from this process.
        def forked!
          @forked = true
          @directory = nil
        end

        private

        # The pid of puma's master in cluster mode: this process while it loads a
        # preloaded app, else (a worker) the parent.
        def master_pid
          options = cluster_options
          return nil unless options

          options[:preload_app] && !@forked ? Process.pid : Process.ppid
        end

        def cluster_options
          return nil unless defined?(::Puma) && ::Puma.respond_to?(:cli_config) && ::Puma.cli_config

          options = ::Puma.cli_config.options
          options if options[:workers].to_i.positive?
        end

        # The core removes a private directory only when called in its master.
        def finish_at_exit(dir)
          at_exit { dir.finish }
        end
      end
    end
  end
end
