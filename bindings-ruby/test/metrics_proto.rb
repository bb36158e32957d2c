# frozen_string_literal: true

require "google/protobuf"

# io.prometheus.client's metrics.proto messages a summary scrape needs, declared for the
# google-protobuf gem's own decoder (no generated code, no protoc): the check reads the
# scrape with a real protobuf implementation, not with the encoder it checks. Field numbers
# and types are those of metrics.proto (proto2); fields a summary scrape never holds
# (histograms, timestamps) are left out, and the decoder skips them.
module MetricsProto
  Google::Protobuf::DescriptorPool.generated_pool.build do
    add_file("gds_metrics_tests/metrics.proto", syntax: :proto2) do
      add_message "io.prometheus.client.LabelPair" do
        optional :name, :string, 1
        optional :value, :string, 2
      end
      %w[Gauge Counter Untyped].each do |kind|
        add_message("io.prometheus.client.#{kind}") { optional :value, :double, 1 }
      end
      add_message "io.prometheus.client.Quantile" do
        optional :quantile, :double, 1
        optional :value, :double, 2
      end
      add_message "io.prometheus.client.Summary" do
        optional :sample_count, :uint64, 1
        optional :sample_sum, :double, 2
        repeated :quantile, :message, 3, "io.prometheus.client.Quantile"
      end
      add_message "io.prometheus.client.Metric" do
        repeated :label, :message, 1, "io.prometheus.client.LabelPair"
        optional :gauge, :message, 2, "io.prometheus.client.Gauge"
        optional :counter, :message, 3, "io.prometheus.client.Counter"
        optional :summary, :message, 4, "io.prometheus.client.Summary"
        optional :untyped, :message, 5, "io.prometheus.client.Untyped"
      end
      add_enum "io.prometheus.client.MetricType" do
        %i[COUNTER GAUGE SUMMARY UNTYPED HISTOGRAM GAUGE_HISTOGRAM].each_with_index { |name, number| value name, number }
      end
      add_message "io.prometheus.client.MetricFamily" do
        optional :name, :string, 1
        optional :help, :string, 2
        optional :type, :enum, 3, "io.prometheus.client.MetricType"
        repeated :metric, :message, 4, "io.prometheus.client.Metric"
        optional :unit, :string, 5
      end
    end
  end

  # Each message's class, built now: a repeated field's elements need their class.
  CLASSES = %w[LabelPair Gauge Counter Untyped Quantile Summary Metric MetricFamily].to_h do |name|
    [name, Google::Protobuf::DescriptorPool.generated_pool.lookup("io.prometheus.client.#{name}").msgclass]
  end
  MetricFamily = CLASSES.fetch("MetricFamily")

  # The MetricFamily messages of a delimited protobuf scrape, decoded.
  def self.families(body)
    bytes = body.b
    families = []
    at = 0
    while at < bytes.bytesize
      length = 0
      shift = 0
      loop do
        byte = bytes.getbyte(at)
        at += 1
        length |= (byte & 0x7f) << shift
        shift += 7
        break if byte < 0x80
      end
      families << MetricFamily.decode(bytes.byteslice(at, length))
      at += length
    end
    families
  end
end
