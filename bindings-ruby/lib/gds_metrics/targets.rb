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
    #   store = GDS::Metrics::Targets::Store.new("/srv/targets")  # or "s3://bucket/prefix"
    #   store.reconcile([app.merge(state: :started)])           # => [["write active/6f1e....json", "written"]]
    #
    # An S3 location is configured from the usual AWS variables (AWS_ACCESS_KEY_ID,
    # AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL, AWS_ALLOW_HTTP) as the core
    # reads them.
    #
    # Errors follow the extension's one table: mistakes in the facts or desired state raise
    # ArgumentError, a target file Prometheus would reject GDS::Metrics::InvalidDataError,
    # a failing file operation or S3 request GDS::Metrics::IOError, an S3 write that lost a
    # race with another writer GDS::Metrics::ConflictError; all three are also
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

      # Target files in `active/` (started apps, which Prometheus reads) and `inactive/`,
      # in a local directory or under `s3://bucket/prefix`. Nothing is created until
      # something is written.
      class Store
        # The directory or S3 location, as given.
        attr_reader :root

        def initialize(root)
          @root = root.to_s
        end

        # The operations that would bring the store to `bound_apps`, the complete list of
        # bound apps (each an app Hash with `state: :started` or `:stopped`, or
        # `{ guid:, state: :deleted }`), without changing it.
        def plan(bound_apps)
          Native.targets_plan(@root, JSON.generate(bound_apps))
        end

        # Carries the plan out: [[operation, outcome], ...], outcomes being "written",
        # "unchanged", "removed" or "absent". Writes are atomic and skipped when the bytes
        # are unchanged. When another writer changes an S3 store meanwhile, lists again and
        # carries over only this call's own changes.
        def reconcile(bound_apps)
          Native.targets_reconcile(@root, JSON.generate(bound_apps))
        end

        # Writes `contents` as `guid`'s file in `folder` ("active" or "inactive"): "written"
        # or "unchanged". `listed:` says whether the file was in the listing the caller
        # decided from (nil: list now); an S3 store raises GDS::Metrics::ConflictError when
        # that is no longer so, instead of undoing another writer's change.
        def write(folder, guid, contents, listed: nil)
          Native.targets_write(@root, folder.to_s, guid, contents, listed)
        end

        # Removes `guid`'s file from `folder`: "removed" or "absent".
        def remove(folder, guid)
          Native.targets_remove(@root, folder.to_s, guid)
        end

        # The GUIDs with a file in each folder: { active: [...], inactive: [...] }.
        def list
          active, inactive = Native.targets_list(@root)
          { active: active, inactive: inactive }
        end
      end
    end
  end
end
