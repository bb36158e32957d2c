# frozen_string_literal: true

module GDS
  module Metrics
    # This gem answers prometheus-client-mmap's API under that gem's own names
    # (`Prometheus::Client`, lib/gds_metrics/prometheus_client.rb), so the real
    # prometheus-client-mmap (or prometheus-client) in the same process would define its
    # classes into ours, or ours into its, depending on the load order: metrics would be
    # lost or half-work. Either order is refused at load time with LoadError naming both
    # gems, so an app finds out when it boots, not from a missing series.
    module ConflictingGem
      # Where this gem's own files are; everything else defining `Prometheus::Client` is
      # another gem.
      OWN_FILES = File.expand_path("..", __dir__)
      # The files of another gem that defines Prometheus::Client.
      FOREIGN_FILE = %r{/prometheus/client(?:/[^/]+)*\.rb\z}

      def self.message(path)
        "gds_metrics and the prometheus-client-mmap gem (#{path}) cannot be loaded in one process: " \
          "gds_metrics provides prometheus-client-mmap's API (Prometheus::Client) itself, on its own " \
          "registry, and the two would mix. Remove prometheus-client-mmap from the Gemfile; a gem that " \
          "depends on it runs on gds_metrics' Prometheus::Client once that dependency is dropped."
      end

      def self.foreign?(path)
        FOREIGN_FILE.match?(path) && !path.start_with?(OWN_FILES)
      end

      # The real gem loaded first: one of its files is already in $LOADED_FEATURES.
      def self.refuse_if_loaded!
        loaded = $LOADED_FEATURES.find { |path| foreign?(path) }
        raise LoadError, message(loaded) if loaded
      end

      # The real gem loaded second: the first class or module body of one of its files
      # under Prometheus::Client raises, before it changes anything of ours.
      WATCH = TracePoint.new(:class) do |event|
        defined = event.self
        next unless defined.is_a?(Module) && defined.name.to_s.start_with?("Prometheus::Client")
        raise LoadError, message(event.path) if foreign?(event.path.to_s)
      end
    end
  end
end

GDS::Metrics::ConflictingGem.refuse_if_loaded!
GDS::Metrics::ConflictingGem::WATCH.enable
