# frozen_string_literal: true

# Per-operation cost of the gem's metrics against pure-Ruby peers, measured in the same
# run, printed as the Markdown section of BENCHMARKS.md. Times are the best of several
# rounds, so a busy machine moves both sides alike; the ratio is what to read.

require "gds_metrics"
require "tmpdir"
require_relative "baselines"

ROUNDS = Integer(ENV.fetch("BENCH_ROUNDS", "5"))
OPS = Integer(ENV.fetch("BENCH_OPS", "200000"))

# Nanoseconds per call of `block` in one round of `ops` calls.
def round_ns(ops)
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
  i = 0
  while i < ops
    yield
    i += 1
  end
  (Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - started).fdiv(ops)
end

# [ours, peer] nanoseconds per call: rounds alternate between the two so a change in the
# machine's load hits both, the best round of each is kept, and the cost of the loop
# itself (measured the same way) is taken off both.
def paired_ns(ours, peer, ops = OPS)
  best = [Float::INFINITY, Float::INFINITY]
  ROUNDS.times do
    best[0] = [best[0], round_ns(ops, &ours)].min
    best[1] = [best[1], round_ns(ops, &peer)].min
  end
  best.map { |ns| [ns - (ops >= 1000 ? LOOP_NS : 0), 1.0].max }
end

LOOP_NS = Array.new(ROUNDS) { round_ns(OPS) { nil } }.min

Row = Struct.new(:operation, :ours, :peer, :goal)

def in_process_rows
  registry = GDS::Metrics::Registry.new
  counter = registry.counter(:bench_plain, docstring: "Plain.")
  labelled = registry.counter(:bench_labelled, docstring: "Labelled.", labels: %i[method code])
  histogram = registry.histogram(:bench_seconds, docstring: "Latency.", labels: [:route])
  labels = { method: "GET", code: "200" }
  route = { route: "/users/:id" }
  plain_store = Baselines::MonitorStore.new
  labelled_store = Baselines::MonitorStore.new
  peer_histogram = Baselines::Histogram.new(GDS::Metrics::Histogram::DEFAULT_BUCKETS)
  empty = {}.freeze

  [
    Row.new("counter increment",
            *paired_ns(-> { counter.increment }, -> { plain_store.increment(labels: empty) }), 5),
    Row.new("labelled increment (2 labels)",
            *paired_ns(-> { labelled.increment(labels: labels) }, -> { labelled_store.increment(labels: labels) }), 5),
    Row.new("histogram observe (1 label)",
            *paired_ns(-> { histogram.observe(0.042, labels: route) }, -> { peer_histogram.observe(0.042, labels: route) }), 5),
    render_row,
  ]
end

def render_row
  registry = GDS::Metrics::Registry.new
  series = registry.counter(:bench_series, docstring: "Series.", labels: %i[path code])
  store = Baselines::MonitorStore.new
  10_000.times do |i|
    labels = { path: "/items/#{i / 10}", code: (200 + (i % 10)).to_s }
    series.increment(labels: labels)
    store.increment(labels: labels)
  end
  Row.new("render 10,000 series (text 0.0.4)",
          *paired_ns(-> { registry.render(:text) }, -> { Baselines.render("bench_series_total", store) }, 20), 5)
end

def multiprocess_rows
  Dir.mktmpdir("gds-metrics-bench") do |dir|
    registry = GDS::Metrics::Registry.new(GDS::Metrics::Native::Registry.multiprocess(File.join(dir, "mp")))
    counter = registry.counter(:bench_mp, docstring: "Multi-process.")
    labelled = registry.counter(:bench_mp_labelled, docstring: "Labelled.", labels: %i[method code])
    labels = { method: "GET", code: "200" }
    file_store = Baselines::FlockFileStore.new(File.join(dir, "bench_mp-#{Process.pid}.bin"))
    labelled_file_store = Baselines::FlockFileStore.new(File.join(dir, "bench_mp_labelled-#{Process.pid}.bin"))
    ops = OPS / 4
    rows = [
      Row.new("counter increment", *paired_ns(-> { counter.increment }, -> { file_store.increment }, ops), 20),
      Row.new("labelled increment (2 labels)",
              *paired_ns(-> { labelled.increment(labels: labels) }, -> { labelled_file_store.increment }, ops), 20),
    ]
    file_store.close
    labelled_file_store.close
    rows
  end
end

def format_ns(ns)
  ns >= 100_000 ? format("%.2f ms", ns / 1e6) : format("%.0f ns", ns)
end

def table(rows, peer_name)
  out = ["| operation | gds_metrics | #{peer_name} | ratio (ours ÷ peer) | speed-up | goal |",
         "|---|---:|---:|---:|---:|---|"]
  rows.each do |row|
    speedup = row.peer / row.ours
    verdict = speedup >= row.goal ? "≥ #{row.goal}x: met" : "≥ #{row.goal}x: **not met**"
    out << "| #{row.operation} | #{format_ns(row.ours)} | #{format_ns(row.peer)} | " \
           "#{format('%.3f', row.ours / row.peer)} | #{format('%.1fx', speedup)} | #{verdict} |"
  end
  out.join("\n")
end

puts "## Ruby binding (`gds_metrics` gem)"
puts
puts "Ruby #{RUBY_VERSION}, #{ROUNDS} rounds, best round reported, an empty loop's cost " \
     "(#{format('%.0f', LOOP_NS)} ns) taken off both sides; `bindings-ruby/bench/bench.rb`."
puts
puts "### In-process metrics vs a Monitor-guarded Hash (the prometheus-client default store)"
puts
puts table(in_process_rows, "Monitor + Hash")
puts
puts "### Multi-process metrics vs a file per metric per process, flock'ed read-modify-write per increment"
puts
puts table(multiprocess_rows, "flock + file")
