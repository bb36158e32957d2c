# frozen_string_literal: true

# Just enough of the protobuf wire format to read a native histogram out of a delimited
# `io.prometheus.client.MetricFamily` scrape, written from the encoding spec so the check
# does not share code with the encoder it checks.
module ProtobufWire
  FAMILY_NAME = 1
  FAMILY_METRIC = 4
  METRIC_LABEL = 1
  METRIC_HISTOGRAM = 7
  COUNT = 1
  SUM = 2
  SCHEMA = 5
  ZERO_THRESHOLD = 6
  ZERO_COUNT = 7
  NEGATIVE_SPAN = 9
  NEGATIVE_DELTA = 10
  POSITIVE_SPAN = 12
  POSITIVE_DELTA = 13
  SPAN_OFFSET = 1
  SPAN_LENGTH = 2
  HISTOGRAM_BUCKET = 3
  HISTOGRAM_EXEMPLARS = 16
  BUCKET_UPPER_BOUND = 2
  BUCKET_EXEMPLAR = 3
  EXEMPLAR_LABEL = 1
  EXEMPLAR_VALUE = 2
  EXEMPLAR_TIMESTAMP = 3
  LABEL_NAME = 1
  LABEL_VALUE = 2

  module_function

  # [value, next position] of the varint at `at` of the byte array `bytes`.
  def varint(bytes, at)
    value = 0
    shift = 0
    loop do
      byte = bytes[at]
      at += 1
      value |= (byte & 0x7f) << shift
      return [value, at] if byte < 0x80

      shift += 7
    end
  end

  def zigzag(value)
    (value >> 1) ^ -(value & 1)
  end

  # Field number => values: Integers for varints, byte arrays for the other wire types.
  def fields(bytes)
    out = Hash.new { |hash, key| hash[key] = [] }
    at = 0
    while at < bytes.size
      key, at = varint(bytes, at)
      number = key >> 3
      case key & 7
      when 0 then value, at = varint(bytes, at)
      when 1 then value, at = [bytes[at, 8], at + 8]
      when 2
        length, at = varint(bytes, at)
        value, at = [bytes[at, length], at + length]
      when 5 then value, at = [bytes[at, 4], at + 4]
      else raise ArgumentError, "wire type #{key & 7} of field #{number}"
      end
      out[number] << value
    end
    out
  end

  # The messages (byte arrays) of a varint-length-prefixed body; raises on a torn one.
  def delimited(body)
    bytes = body.bytes
    at = 0
    messages = []
    while at < bytes.size
      length, at = varint(bytes, at)
      raise ArgumentError, "the last message runs past the body" if at + length > bytes.size

      messages << bytes[at, length]
      at += length
    end
    messages
  end

  # A repeated sint64, packed (one byte array) or not (varints).
  def packed_sint(values)
    values.flat_map do |value|
      next [zigzag(value)] if value.is_a?(Integer)

      at = 0
      out = []
      while at < value.size
        raw, at = varint(value, at)
        out << zigzag(raw)
      end
      out
    end
  end

  # { bucket index => count } from spans and deltas (counts, each relative to the previous).
  def sparse(spans, deltas)
    buckets = {}
    index = 0
    count = 0
    deltas = deltas.each
    spans.each_with_index do |span, n|
      span = fields(span)
      index += zigzag(span[SPAN_OFFSET].first || 0) + (n.zero? ? 0 : 1)
      length = span[SPAN_LENGTH].first || 0
      length.times do |step|
        count += deltas.next
        buckets[index + step] = count unless count.zero?
      end
      index += length - 1
    end
    buckets
  end

  def double(bytes)
    bytes.pack("C*").unpack1("E")
  end

  def text(bytes)
    bytes.pack("C*").force_encoding("UTF-8")
  end

  # The fields of the histogram message of the first series of `family_name`, or of its
  # series whose `path` label is `path` when one is given.
  def first_histogram(body, family_name, path: nil)
    delimited(body).each do |message|
      family = fields(message)
      next unless text(family[FAMILY_NAME].first) == family_name

      series = family[FAMILY_METRIC].map { |metric| fields(metric) }
      series = series.select { |metric| labels(metric).include?(["path", path]) } if path
      raise ArgumentError, "no series of #{family_name} with path #{path}" if series.empty?

      return fields(series.first[METRIC_HISTOGRAM].first)
    end
    raise ArgumentError, "no family #{family_name} in the protobuf scrape"
  end

  # The labels in field `number` of a message's fields, as [name, value] pairs.
  def labels(message, number = METRIC_LABEL)
    message[number].map { |pair| fields(pair) }.map { |pair| [text(pair[LABEL_NAME].first), text(pair[LABEL_VALUE].first)] }
  end

  # The native part of a histogram message's fields, as the vectors spell it.
  def native_part(histogram)
    {
      "schema" => zigzag(histogram[SCHEMA].first || 0),
      "zero_threshold" => double(histogram[ZERO_THRESHOLD].first),
      "zero_count" => histogram[ZERO_COUNT].first || 0,
      "count" => histogram[COUNT].first || 0,
      "sum" => double(histogram[SUM].first),
      "positive" => sparse(histogram[POSITIVE_SPAN], packed_sint(histogram[POSITIVE_DELTA])),
      "negative" => sparse(histogram[NEGATIVE_SPAN], packed_sint(histogram[NEGATIVE_DELTA])),
    }
  end

  # The native part of the first series of `family_name`, as the vectors spell it.
  def native_histogram(body, family_name)
    native_part(first_histogram(body, family_name))
  end

  # An exemplar as the vectors spell it: labels as [name, value] pairs, and value. Raises
  # unless it carries a timestamp (Prometheus drops a native one without).
  def exemplar(message)
    exemplar = fields(message)
    raise ArgumentError, "an exemplar without a timestamp" if exemplar[EXEMPLAR_TIMESTAMP].empty?

    { "labels" => labels(exemplar, EXEMPLAR_LABEL), "value" => double(exemplar[EXEMPLAR_VALUE].first) }
  end

  # The first series of the histogram `family_name` (or its series of `path`) as
  # request_native.json spells it: its
  # native part (nil when it is classic only: no schema, zero threshold or spans), the
  # exemplars of the histogram message, and those of its classic buckets.
  def request_histogram(body, family_name, path: nil)
    histogram = first_histogram(body, family_name, path: path)
    native = [SCHEMA, ZERO_THRESHOLD, POSITIVE_SPAN, NEGATIVE_SPAN].any? { |number| !histogram[number].empty? }
    buckets = histogram[HISTOGRAM_BUCKET].map { |bucket| fields(bucket) }.reject { |bucket| bucket[BUCKET_EXEMPLAR].empty? }
    {
      "native" => native ? native_part(histogram) : nil,
      "native_exemplars" => histogram[HISTOGRAM_EXEMPLARS].map { |message| exemplar(message) },
      "bucket_exemplars" => buckets.map do |bucket|
        { "upper_bound" => double(bucket[BUCKET_UPPER_BOUND].first) }.merge(exemplar(bucket[BUCKET_EXEMPLAR].first))
      end,
    }
  end
end
