# frozen_string_literal: true

module GDS
  module Metrics
    # A metric family, backed by a core family in the native registry.
    #
    # Each update method takes both call styles, so code written for either Ruby
    # Prometheus client keeps working:
    #
    #   counter.increment(by: 2, labels: { queue: "email" })   # prometheus-client 2.x and later
    #   counter.increment({ queue: "email" }, 2)               # prometheus-client 0.x (gds_metrics 0.2.0)
    #
    # Label names are Symbols, fixed when the metric is declared (`labels: [...]`). A metric
    # declared in the 0.x style has no declared labels: the keys of its first update fix
    # them, as the 0.x client did, and a later update with other keys is an ArgumentError.
    class Metric
      # Metric objects are allocated by the extension, with room for the family the native
      # fast entries update (bound by `declare`).
      Native.define_metric_cell(self)

      attr_reader :name, :docstring, :preset_labels

      def initialize(native_registry, name, docstring:, labels: nil, preset_labels: {}, **options)
        @native_registry = native_registry
        @name = metric_name(name)
        @docstring = docstring.to_s
        @preset_labels = preset_hash(preset_labels)
        @options = options
        @family = nil
        @label_keys = nil
        @origin = nil
        @mutex = Mutex.new
        declared = labels&.map { |key| label_key(key) }
        Native::Registry.validate(self.class.type, @name.to_s, (declared || @preset_labels.keys).map(&:to_s))
        declare(declared) if declared
      end

      # The label names, in order (empty until a 0.x-style metric is first updated).
      def labels
        @label_keys ? @label_keys.dup : []
      end

      # A view of this metric with some label values already given (prometheus-client style).
      # A clone is allocated afresh, its fast entries unbound, so every update of the view
      # merges the preset labels in.
      def with_labels(labels)
        view = clone
        view.instance_variable_set(:@preset_labels, @preset_labels.merge(preset_hash(labels)))
        view.instance_variable_set(:@origin, @origin || self)
        view
      end

      # Starts the series for `labels` at zero, so it is exposed before its first update.
      def init_label_set(labels)
        get(labels: labels)
        self
      end

      # Forgets the series for `labels`.
      def remove(labels: {})
        labels = label_set(labels) || {}
        @family.remove(@label_keys.map { |key| labels[key] })
      end

      def inspect
        "#<#{self.class.name} #{@name} labels=#{labels.inspect}>"
      end

      # The current value: get(labels: {}) or, 0.x style, get(labels).
      def get(positional_labels = nil, labels: nil)
        native_get(positional_labels, labels)
      end

      private

      # What the native family holds for these labels, given either way.
      def native_get(positional_labels, labels)
        labels = pick_labels(positional_labels, labels) unless positional_labels.nil?
        @family.get(@label_keys, label_set(labels))
      end

      # The labels Hash the native family reads: the caller's, with preset labels merged in.
      # Declares a 0.x-style metric's labels on its first update.
      def label_set(labels)
        family_for(labels) unless @family
        return labels if @preset_labels.empty?

        labels.nil? || labels.empty? ? @preset_labels : @preset_labels.merge(labels)
      end

      def family_for(labels)
        return view_family(labels) if @origin

        @mutex.synchronize { @family || declare(labels ? labels.keys.map { |key| label_key(key) } : []) }
      end

      # A view declares a 0.x-style metric's labels on the metric it was made from, so both
      # share one family.
      def view_family(labels)
        labels = labels.nil? || labels.empty? ? @preset_labels : @preset_labels.merge(labels)
        family = @origin.send(:family_for, labels)
        @label_keys = @origin.labels.freeze
        @family = family
      end

      def declare(keys)
        @label_keys = (@preset_labels.keys | keys).freeze
        @family = create_family(@label_keys.map(&:to_s))
        # The native fast entries (Native.define_fast_*) update the family straight from the
        # caller's labels, unless preset labels must be merged in first.
        bind_fast_entries(@family, @label_keys) if @preset_labels.empty?
        @family
      end

      # The labels of a call in either style: a positional Hash (0.x) or `labels:`.
      def pick_labels(positional, keyword)
        raise ArgumentError, "labels must be a Hash, got #{positional.inspect}" unless positional.is_a?(Hash)
        raise ArgumentError, "give labels either as a Hash argument or as labels:, not both" if keyword

        positional
      end

      def metric_name(name)
        unless name.is_a?(Symbol) || name.is_a?(String)
          raise ArgumentError, "metric name must be a Symbol, got #{name.inspect}"
        end

        name.to_sym
      end

      def label_key(key)
        return key if key.is_a?(Symbol)
        return key.to_sym if key.is_a?(String)

        raise ArgumentError, "label names must be Symbols, got #{key.inspect} for metric :#{@name}"
      end

      # An exemplar Hash ({ trace_id: "...", span_id: "..." }) as the core takes it.
      def exemplar_pairs(exemplar)
        unless exemplar.is_a?(Hash)
          raise ArgumentError, "exemplar of :#{@name} must be a Hash such as { trace_id: \"...\" }, got #{exemplar.inspect}"
        end

        exemplar.map { |key, value| [key.to_s, value.to_s] }
      end

      def preset_hash(labels)
        raise ArgumentError, "preset labels must be a Hash, got #{labels.inspect}" unless labels.is_a?(Hash)

        labels.to_h { |key, value| [label_key(key), value] }
      end
    end

    # A value that only goes up: requests served, emails sent.
    class Counter < Metric
      def self.type
        "counter"
      end

      # increment(by: 1, labels: {}) or, 0.x style, increment(labels = {}, by = 1). The 0.x
      # labels Hash needs its braces: without them Ruby 3 passes keywords. `exemplar:`
      # ({ trace_id: "..." }) becomes the series' exemplar in OpenMetrics and protobuf.
      #
      # `increment` itself is a native entry (Native.define_fast_increment, below) that
      # takes the common calls without entering Ruby and hands every other call here.
      def increment_in_ruby(positional_labels = nil, positional_by = nil, by: nil, labels: nil, exemplar: nil)
        unless positional_labels.nil?
          labels = pick_labels(positional_labels, labels)
          by = positional_by unless positional_by.nil?
        end
        labels = label_set(labels)
        return @family.increment(@label_keys, labels, by || 1) if exemplar.nil?

        @family.increment_with_exemplar(@label_keys, labels, by || 1, exemplar_pairs(exemplar))
      end
      private :increment_in_ruby
      Native.define_fast_increment(self)

      private

      def create_family(label_names)
        @native_registry.counter(@name.to_s, @docstring, label_names, @options[:series_limit],
                                 @options[:exemplars_across_processes] ? true : false)
      end
    end

    # A value that goes up and down: queue length, temperature.
    class Gauge < Metric
      def self.type
        "gauge"
      end

      # set(value, labels: {}) or, 0.x style, set(labels, value).
      def set(first, second = nil, labels: nil)
        labels, value = first.is_a?(Hash) ? [pick_labels(first, labels), second] : [labels, first]
        labels = label_set(labels)
        @family.set(@label_keys, labels, value)
      end

      # increment(by: 1, labels: {}) or increment(labels, by).
      def increment(positional_labels = nil, positional_by = nil, by: 1, labels: nil)
        unless positional_labels.nil?
          labels = pick_labels(positional_labels, labels)
          by = positional_by unless positional_by.nil?
        end
        labels = label_set(labels)
        @family.add(@label_keys, labels, by)
      end

      # decrement(by: 1, labels: {}) or decrement(labels, by).
      def decrement(positional_labels = nil, positional_by = nil, by: 1, labels: nil)
        unless positional_labels.nil?
          labels = pick_labels(positional_labels, labels)
          by = positional_by unless positional_by.nil?
        end
        labels = label_set(labels)
        @family.add(@label_keys, labels, -by)
      end

      def set_to_current_time(labels: {})
        labels = label_set(labels)
        @family.set_to_current_time(@label_keys, labels)
      end

      private

      def create_family(label_names)
        @native_registry.gauge(@name.to_s, @docstring, label_names, @options[:series_limit], @options[:mode]&.to_s)
      end
    end

    # The observe call shared by histograms and summaries.
    module Observing
      # observe(value, labels: {}) or, 0.x style, observe(labels, value).
      #
      # `observe` itself is a native entry (Native.define_fast_observe, in each class) that
      # takes the common calls without entering Ruby and hands every other call here.
      def observe_in_ruby(first, second = nil, labels: nil, exemplar: nil)
        labels, first = pick_labels(first, labels), second if first.is_a?(Hash)
        labels = label_set(labels)
        return @family.observe(@label_keys, labels, first) if exemplar.nil?

        observe_with_exemplar(labels, first, exemplar)
      end
      private :observe_in_ruby
    end

    # Observations counted into buckets: request durations, payload sizes.
    class Histogram < Metric
      include Observing
      Native.define_fast_observe(self)

      # The core's default bucket bounds (the request-duration buckets too).
      DEFAULT_BUCKETS = Native::DEFAULT_BUCKETS.freeze

      def self.type
        "histogram"
      end

      # Cumulative counts by upper bound ("0.005" ... "+Inf") and "sum".
      def get(positional_labels = nil, labels: nil)
        counts, sum = native_get(positional_labels, labels)
        bounds = @family.bounds.map { |bound| format_bound(bound) } << "+Inf"
        bounds.zip(counts).to_h.merge("sum" => sum)
      end

      private

      def format_bound(bound)
        bound == bound.floor && bound.abs < 1e15 ? bound.to_i.to_s : bound.to_s
      end

      # `exemplar:` ({ trace_id: "..." }) becomes the exemplar of the value's bucket.
      def observe_with_exemplar(labels, value, exemplar)
        @family.observe_with_exemplar(@label_keys, labels, value, exemplar_pairs(exemplar))
      end

      def create_family(label_names)
        buckets = @options[:buckets]&.map { |bound| Float(bound) }
        native = native_settings&.values_at(*NATIVE_SETTINGS)
        across = @options[:exemplars_across_processes] ? true : false
        @native_registry.histogram(@name.to_s, @docstring, label_names, @options[:series_limit], buckets, across, native)
      end

      # The settings of `native:` (true or a Hash of them); nil for a classic histogram.
      NATIVE_SETTINGS = %i[schema zero_threshold max_buckets reset_after].freeze

      def native_settings
        native = @options[:native]
        return nil if native.nil? || native == false
        return {} if native == true
        unless native.is_a?(Hash) && (native.keys - NATIVE_SETTINGS).empty?
          raise ArgumentError, "histogram :#{@name}: native: must be true or a Hash of #{NATIVE_SETTINGS.join(', ')}, " \
                               "got #{native.inspect}"
        end

        native
      end
    end

    # Count and sum of observations (no quantiles, as in prometheus-client).
    class Summary < Metric
      include Observing
      Native.define_fast_observe(self)

      def self.type
        "summary"
      end

      # { "count" => n, "sum" => s }.
      def get(positional_labels = nil, labels: nil)
        count, sum = native_get(positional_labels, labels)
        { "count" => count, "sum" => sum }
      end

      private

      def observe_with_exemplar(_labels, _value, _exemplar)
        raise ArgumentError, "summary :#{@name} keeps no exemplars; attach them to a histogram or a counter"
      end

      def create_family(label_names)
        @native_registry.summary(@name.to_s, @docstring, label_names, @options[:series_limit])
      end
    end
  end
end
