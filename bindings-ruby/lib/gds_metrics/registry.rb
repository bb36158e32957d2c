# frozen_string_literal: true

module GDS
  module Metrics
    # The set of metrics one endpoint exposes, for custom metrics.
    #
    # Both declaration styles work and give the same metric objects:
    #
    #   registry.counter(:emails_sent, docstring: "Emails sent.", labels: [:template])  # modern
    #   registry.counter(:emails_sent, "Emails sent.")                                  # 0.x, as taught by gds_metrics 0.2.0
    class Registry
      # A second metric of the same name (an ArgumentError, like every registration mistake).
      class AlreadyRegisteredError < ArgumentError; end

      def initialize(native = Native::Registry.new)
        @native = native
        @metrics = {}
        @mutex = Mutex.new
      end

      # The core registry, shared with the endpoint.
      attr_reader :native

      # The most series a metric declared from now on keeps, unless it sets its own
      # (`series_limit:`); 2,000 unless changed.
      def series_limit=(limit)
        @native.series_limit = Integer(limit)
      end

      def series_limit
        @native.series_limit
      end

      # From now on, metrics declared here accept only the legacy names
      # (`[a-zA-Z_:][a-zA-Z0-9_:]*`, label names without `:`), as prometheus-client-mmap
      # did: any other name raises ArgumentError. The default is any UTF-8 name, as in
      # Prometheus 3.
      def use_legacy_names
        @native.use_legacy_names
        nil
      end

      # counter(name, docstring:, labels: [], preset_labels: {}, series_limit: nil) or
      # counter(name, docstring, base_labels = {}). `exemplars_across_processes: true` keeps
      # each series' newest exemplar in the multi-process files, so under a multi-process
      # server the scrape shows the newest exemplar of any worker.
      def counter(name, legacy_docstring = nil, legacy_base_labels = nil, docstring: nil, labels: nil, preset_labels: nil,
                  series_limit: nil, exemplars_across_processes: false)
        declare(Counter, name, legacy_docstring, legacy_base_labels, docstring, labels, preset_labels,
                series_limit: series_limit, exemplars_across_processes: exemplars_across_processes)
      end

      # gauge(name, docstring:, labels: [], store_settings: { aggregation: :max }) or
      # gauge(name, docstring, base_labels = {}, multiprocess_mode = :all). The mode only
      # matters under a multi-process server: all, sum, min, max, mostrecent, and live*.
      def gauge(name, legacy_docstring = nil, legacy_base_labels = nil, legacy_mode = nil,
                docstring: nil, labels: nil, preset_labels: nil, store_settings: {}, series_limit: nil)
        mode = store_settings.fetch(:aggregation, legacy_mode)&.to_s&.delete("_") # :most_recent is "mostrecent"
        declare(Gauge, name, legacy_docstring, legacy_base_labels, docstring, labels, preset_labels,
                mode: mode, series_limit: series_limit)
      end

      # histogram(name, docstring:, labels: [], buckets: [...]) or histogram(name, docstring, base_labels = {}, buckets = [...]).
      # `native: true` or `native: { schema:, zero_threshold:, max_buckets:, reset_after: }`
      # keeps native buckets (scraped in protobuf), with classic ones only when `buckets:` gives them.
      # `exemplars_across_processes: true` as for counters: the newest exemplar per bucket of any worker.
      def histogram(name, legacy_docstring = nil, legacy_base_labels = nil, legacy_buckets = nil,
                    docstring: nil, labels: nil, preset_labels: nil, buckets: nil, series_limit: nil, native: nil,
                    exemplars_across_processes: false)
        declare(Histogram, name, legacy_docstring, legacy_base_labels, docstring, labels, preset_labels,
                buckets: buckets || legacy_buckets, series_limit: series_limit, native: native,
                exemplars_across_processes: exemplars_across_processes)
      end

      # summary(name, docstring:, labels: []) or summary(name, docstring, base_labels = {}).
      def summary(name, legacy_docstring = nil, legacy_base_labels = nil, docstring: nil, labels: nil, preset_labels: nil,
                  series_limit: nil)
        declare(Summary, name, legacy_docstring, legacy_base_labels, docstring, labels, preset_labels,
                series_limit: series_limit)
      end

      # Adds a metric made with `Prometheus::Client::Counter.new` (and the other kinds) to
      # the registry, so it is exposed; returns it.
      def register(metric)
        @mutex.synchronize do
          raise AlreadyRegisteredError, "#{metric.name} has already been registered" if @metrics.key?(metric.name)

          @metrics[metric.name] = metric.register_in(@native)
        end
      end

      # The metric declared as `name`, or nil.
      def get(name)
        @metrics[name.to_sym]
      end

      def exist?(name)
        @metrics.key?(name.to_sym)
      end

      def metrics
        @metrics.values
      end

      # Removes the metric `name` from the registry and from scrapes.
      def unregister(name)
        @mutex.synchronize do
          @native.unregister(name.to_s)
          !@metrics.delete(name.to_sym).nil?
        end
      end

      # The exposition: :text (Prometheus 0.0.4) or :openmetrics.
      def render(format = :text)
        @native.render(format.to_s)
      end

      private

      def declare(kind, name, legacy_docstring, legacy_base_labels, docstring, labels, preset_labels, **options)
        if legacy_docstring && docstring
          raise ArgumentError, "give the docstring once, either as the second argument or as docstring:"
        end
        raise ArgumentError, "metric #{name.inspect} needs a docstring" if legacy_docstring.nil? && docstring.nil?

        legacy = !legacy_docstring.nil?
        @mutex.synchronize do
          raise AlreadyRegisteredError, "metric #{name.inspect} is already registered" if name.respond_to?(:to_sym) && @metrics.key?(name.to_sym)

          metric = kind.new(@native, name,
                            docstring: docstring || legacy_docstring,
                            labels: legacy ? labels : (labels || []),
                            preset_labels: preset_labels || legacy_base_labels || {},
                            **options)
          @metrics[metric.name] = metric
        end
      end
    end
  end
end
