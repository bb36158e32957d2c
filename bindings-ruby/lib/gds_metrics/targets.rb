# frozen_string_literal: true

require "json"

module GDS
  module Metrics
    # Prometheus target files (file-based service discovery) for brokers written in Ruby:
    # the core's schema, strict reader and store, with app facts given as Hashes.
    #
    #   app = { guid: "6f1e3c2a-...", name: "notify-api", instances: 2,
    #           route_host: "notify-api.cloudapps.digital", org: "govuk-notify", space: "production" }
    #   GDS::Metrics::Targets.render(app)                       # the JSON of the app's file
    #   store = GDS::Metrics::Targets::Store.new("/srv/targets")
    #   store.reconcile([app.merge(state: :started)])           # => [["write active/6f1e....json", "written"]]
    #
    # Errors follow the extension's one table: mistakes in the facts or desired state raise
    # ArgumentError, a target file Prometheus would reject GDS::Metrics::InvalidDataError,
    # a failing file operation GDS::Metrics::IOError; both are also
    # GDS::Metrics::Targets::Error.
    module Targets
      # Included in the errors about target files and their store.
      module Error; end
      [InvalidDataError, IOError, ConflictError].each { |error| error.include(Error) }

      # The contents of `app`'s target file: one group per instance.
      def self.render(app)
        Native.targets_render(JSON.generate(app))
      end

      # The target groups of the file at `path`, checked as strictly as Prometheus does:
      # [{ "targets" => [...], "labels" => { ... } }, ...].
      def self.read(path)
        JSON.parse(Native.targets_read(path.to_s))
      end

      # A directory with `active/` (started apps, which Prometheus reads) and `inactive/`.
      class Store
        attr_reader :root

        def initialize(root)
          @root = root.to_s
        end

        # The operations that would bring the store to `bound_apps`, the complete list of
        # bound apps (each an app Hash with `state: :started` or `:stopped`, or
        # `{ guid:, state: :deleted }`), without touching the disk.
        def plan(bound_apps)
          Native.targets_plan(@root, JSON.generate(bound_apps))
        end

        # Carries the plan out: [[operation, outcome], ...], outcomes being "written",
        # "unchanged", "moved", "removed" or "absent". Writes are atomic and skipped when
        # the bytes are unchanged.
        def reconcile(bound_apps)
          Native.targets_reconcile(@root, JSON.generate(bound_apps))
        end
      end
    end
  end
end
