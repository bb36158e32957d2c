# frozen_string_literal: true

require "monitor"

# Pure-Ruby peers for the benchmarks, doing what the prometheus-client gem's stores do, so
# the cost of the gem's metrics is compared with what a Ruby app pays today.
module Baselines
  # The prometheus-client default (synchronized) store: a Monitor-guarded Hash per metric,
  # keyed by the label set.
  class MonitorStore
    def initialize
      @monitor = Monitor.new
      @values = Hash.new(0.0)
    end

    def synchronize(&block)
      @monitor.synchronize(&block)
    end

    def increment(labels:, by: 1)
      @monitor.synchronize { @values[labels] += by }
    end

    def all_values
      @monitor.synchronize { @values.dup }
    end
  end

  # prometheus-client's Histogram#observe over that store: the bucket by bsearch, then the
  # bucket and the sum incremented under the store's lock.
  class Histogram
    def initialize(buckets)
      @buckets = buckets
      @store = MonitorStore.new
    end

    def observe(value, labels: {})
      bucket = @buckets.bsearch { |upper| upper >= value } || "+Inf"
      @store.synchronize do
        @store.increment(labels: labels.merge(le: bucket.to_s), by: 1)
        @store.increment(labels: labels.merge(le: "sum"), by: value)
      end
    end
  end

  # prometheus-client's text formatter over a counter's values.
  def self.render(name, store)
    lines = ["# HELP #{name} Series.", "# TYPE #{name} counter"]
    store.all_values.each do |labels, value|
      pairs = labels.map { |key, v| %(#{key}="#{v.to_s.gsub('\\', '\\\\\\\\').gsub("\n", '\\n').gsub('"', '\\"')}") }
      lines << "#{name}{#{pairs.join(',')}} #{value}"
    end
    "#{lines.join("\n")}\n"
  end

  # A multi-process store of the kind older Ruby clients used: one file per metric per
  # process, and a read-modify-write under flock for every increment.
  class FlockFileStore
    def initialize(path)
      @file = File.open(path, File::RDWR | File::CREAT, 0o600)
      @file.write([0.0].pack("E")) if @file.size.zero?
      @file.flush
    end

    def increment(by: 1)
      @file.flock(File::LOCK_EX)
      @file.rewind
      value = @file.read(8).unpack1("E")
      @file.rewind
      @file.write([value + by].pack("E"))
      @file.flush
    ensure
      @file.flock(File::LOCK_UN)
    end

    def close
      @file.close
    end
  end
end
