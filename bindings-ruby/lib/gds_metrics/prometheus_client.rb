# frozen_string_literal: true

# The `prometheus-client-mmap` API that gds_metrics 0.2.0 apps used through the gem (0.2.0
# depended on it): `Prometheus::Client.registry`, `Counter/Gauge/Histogram/Summary.new`
# with `registry.register`, `metric.values`, `base_labels`, `Prometheus::Client.configuration`
# and the `Rack::Collector` and `Rack::Exporter` middleware, all on this gem's registry, so
# such metrics appear in the same scrape as everything else. The shapes follow
# prometheus-client-mmap 0.16. That gem itself cannot share the process: loading it
# before or after this gem raises LoadError naming both (gds_metrics/conflicting_gem.rb).
module Prometheus
  module Client
    class << self
      # The registry the endpoint serves (GDS::Metrics.registry).
      def registry
        GDS::Metrics.registry
      end

      def configuration
        @configuration ||= Configuration.new
      end

      def configure
        yield configuration
      end
    end

    # Registry is this gem's registry: `register`, `counter(name, docstring, base_labels)`
    # and the rest, `get`, `exist?`, `metrics`.
    Registry = GDS::Metrics::Registry

    # The settings of prometheus-client-mmap that this gem honours.
    class Configuration
      # The directory worker processes share: GDS::Metrics' `mmap_directory`.
      def multiprocess_files_dir
        GDS::Metrics::Config.instance.mmap_directory
      end

      def multiprocess_files_dir=(dir)
        GDS::Metrics::Config.instance.mmap_directory = dir
      end
    end

    # What `values` gives for each label set: an object whose `get` reads the value,
    # like prometheus-client-mmap's value objects.
    Value = Struct.new(:get)

    # Construction and reading in prometheus-client-mmap's shape. A metric made with
    # `new` is exposed once registered (`registry.register(metric)`); register it before
    # its first update.
    module LegacyMetric
      def initialize(name, docstring, base_labels = {}, **options)
        super(GDS::Metrics::Native::Registry.new, name, docstring: docstring, labels: nil,
                                                        preset_labels: base_labels, **options)
      end

      def base_labels
        preset_labels
      end

      # Every label set and its value: `{ { queue: "email" } => value }`, `value.get`
      # being what `get` answers for those labels. Label values are Strings.
      def values
        return {} unless @family

        @family.series.to_h { |label_values, value| [@label_keys.zip(label_values).to_h, value_object(value)] }
      end

      # Called by Registry#register: the metric's series live in `native` from now on.
      def register_in(native)
        raise ArgumentError, "metric :#{name} was updated before it was registered; register it first" if @family

        @native_registry = native
        self
      end

      private

      def value_object(value)
        Value.new(value)
      end
    end

    class Counter < GDS::Metrics::Counter
      include LegacyMetric
    end

    class Gauge < GDS::Metrics::Gauge
      include LegacyMetric

      # new(name, docstring, base_labels = {}, multiprocess_mode = :all)
      def initialize(name, docstring, base_labels = {}, multiprocess_mode = :all)
        super(name, docstring, base_labels, mode: multiprocess_mode.to_s)
      end
    end

    class Histogram < GDS::Metrics::Histogram
      include LegacyMetric

      DEFAULT_BUCKETS = GDS::Metrics::Histogram::DEFAULT_BUCKETS

      # new(name, docstring, base_labels = {}, buckets = DEFAULT_BUCKETS)
      def initialize(name, docstring, base_labels = {}, buckets = DEFAULT_BUCKETS)
        super(name, docstring, base_labels, buckets: buckets)
      end

      # Cumulative counts by bucket bound, `{ 0.005 => 1.0, ... }`.
      def get(labels = {})
        counts, = native_get(labels, nil)
        @family.bounds.zip(counts.map(&:to_f)).to_h
      end

      private

      # A Hash of bucket bound to value object, as prometheus-client-mmap's Histogram::Value.
      def value_object((counts, _sum))
        @family.bounds.zip(counts.map { |count| Value.new(count.to_f) }).to_h
      end
    end

    class Summary < GDS::Metrics::Summary
      include LegacyMetric

      # The sum of the observations.
      def get(labels = {})
        native_get(labels, nil).last
      end

      private

      # The sum, as prometheus-client-mmap's Summary#values gives it.
      def value_object((_count, sum))
        Value.new(sum)
      end
    end

    module Rack
      # Records every request in the request metrics (the core decides the labels), as
      # GDS::Metrics::Middleware does, without serving the endpoint: use it with Exporter.
      class Collector < GDS::Metrics::Middleware
        attr_reader :app, :registry

        def initialize(app, options = {}, &label_builder)
          if label_builder || options.fetch(:registry, Client.registry) != Client.registry
            raise ArgumentError, "the request metrics' labels and registry are the core's; " \
                                 "use Collector without a block or :registry (see the gds_metrics README)"
          end
          super(app)
          @registry = Client.registry
        end

        def call(env)
          observe(env, GDS::Metrics::RequestTarget.of(env))
        end
      end

      # Serves the registry at `path` (default the configured metrics path), with the
      # endpoint's auth, negotiation and compression; other requests pass through.
      class Exporter
        attr_reader :app, :registry, :path

        def initialize(app, options = {})
          if options.fetch(:registry, Client.registry) != Client.registry
            raise ArgumentError, "Exporter serves Prometheus::Client.registry only"
          end
          @app = app
          @registry = Client.registry
          @endpoint = GDS::Metrics.endpoint_at(options[:path])
          @path = @endpoint.metrics_path
        end

        def call(env)
          target = GDS::Metrics::RequestTarget.of(env)
          mount = env["SCRIPT_NAME"].to_s.b
          return @app.call(env) unless @endpoint.matches?(mount, target)

          GDS::Metrics::Middleware.scrape(@endpoint, env, target, mount)
        end
      end
    end
  end
end
