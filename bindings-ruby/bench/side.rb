# frozen_string_literal: true

# One side of the benchmark in a process of its own: `ours` (this gem) or `peer` (Debian's
# prometheus-client-mmap, the library gds_metrics 0.2.0 was built on). They cannot share a
# process: this gem ships its own `prometheus/client` for apps written against the peer.
#
#   ruby side.rb SIDE MODE DIR serve             timing server for bench.rb (stdin/stdout)
#   ruby side.rb SIDE MODE DIR count OP CALLS    CALLS calls of OP, for callgrind
#   ruby side.rb SIDE MODE DIR count-scrape N    the series written (by the workers in
#                                                multi mode), one scrape, then N more
#
# MODE is `single` (one process) or `multi` (the files of every process in DIR aggregated).
# The operations are the same calls an app makes; each side is written in its own API.

require "tmpdir"

SIDE, MODE, DIR, COMMAND, *ARGS = ARGV
LABELS = { method: "GET", code: "200" }.freeze
ROUTE = { route: "/users/:id" }.freeze
SERIES = 10_000
WORKERS = Integer(ENV.fetch("BENCH_WORKERS", "4"))

# Label sets of the scrape: 1,000 paths × 10 status codes.
def series_labels(index)
  { path: "/items/#{index / 10}", code: (200 + (index % 10)).to_s }
end

# This gem: GDS::Metrics over an in-process or a multi-process native registry.
class Ours
  def initialize(mode, dir)
    require "gds_metrics"
    native = mode == "multi" ? GDS::Metrics::Native::Registry.multiprocess(dir) : GDS::Metrics::Native::Registry.new
    @registry = GDS::Metrics::Registry.new(native)
  end

  def operations
    counter = @registry.counter(:bench_plain, docstring: "Plain.")
    labelled = @registry.counter(:bench_labelled, docstring: "Labelled.", labels: %i[method code])
    histogram = @registry.histogram(:bench_seconds, docstring: "Latency.", labels: [:route])
    {
      "increment" => -> { counter.increment },
      "labelled" => -> { labelled.increment(labels: LABELS) },
      "labelled_positional" => -> { labelled.increment(LABELS) },
      "labelled_fresh" => -> { labelled.increment(labels: { method: "GET", code: "200" }) },
      "observe" => -> { histogram.observe(0.042, labels: ROUTE) },
    }
  end

  # Declared before the workers fork, so the scraping process knows the family.
  def declare_series
    @series_family = @registry.counter(:bench_series, docstring: "Series.", labels: %i[path code],
                                                series_limit: SERIES * 2)
  end

  # Run in each worker (and, in single mode, in this process): every series once.
  def write_series
    SERIES.times { |index| @series_family.increment(labels: series_labels(index)) }
  end

  def scrape
    @registry.render(:text)
  end
end

# prometheus-client-mmap 0.16: every metric is mmap-backed; its exporter always renders
# with marshal_multiprocess over its directory (a private one unless configured).
class Peer
  def initialize(mode, dir)
    require "prometheus/client"
    require "prometheus/client/formats/text"
    require "logger"
    @dir = mode == "multi" ? dir : Dir.mktmpdir("prometheus-mmap-bench")
    Prometheus::Client.configure do |config|
      config.multiprocess_files_dir = @dir
      config.logger = Logger.new(nil)
    end
  end

  def operations
    registry = Prometheus::Client.registry
    counter = registry.counter(:bench_plain, "Plain.")
    labelled = registry.counter(:bench_labelled, "Labelled.")
    histogram = registry.histogram(:bench_seconds, "Latency.")
    {
      "increment" => -> { counter.increment },
      "labelled" => -> { labelled.increment(LABELS) },
      "labelled_positional" => -> { labelled.increment(LABELS) },
      "labelled_fresh" => -> { labelled.increment({ method: "GET", code: "200" }) },
      "observe" => -> { histogram.observe(ROUTE, 0.042) },
    }
  end

  def declare_series
    @series_family = Prometheus::Client.registry.counter(:bench_series, "Series.")
  end

  def write_series
    Prometheus::Client.reinitialize_on_pid_change
    SERIES.times { |index| @series_family.increment(series_labels(index)) }
  end

  def scrape
    Prometheus::Client::Formats::Text.marshal_multiprocess(@dir)
  end
end

# Nanoseconds per call of `operation` over `calls` calls.
def round_ns(calls, operation)
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
  i = 0
  while i < calls
    operation.call
    i += 1
  end
  (Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - started).fdiv(calls)
end

# Workers that each write every series, then wait (alive, so nothing folds their files)
# until this process exits.
def start_workers(side)
  side.declare_series
  reader, writer = IO.pipe
  ready = Array.new(WORKERS) do
    ready_reader, ready_writer = IO.pipe
    fork do
      writer.close
      side.write_series
      ready_writer.write("ready")
      ready_writer.close
      reader.read
      exit!(0)
    end
    ready_writer.close
    ready_reader
  end
  ready.each { |io| io.read(5) }
  reader.close
  at_exit do
    writer.close
    Process.waitall
  end
end

# Writes the scrape's series: in multi mode through the workers, else in this process.
def write_scrape_series(side)
  MODE == "multi" ? start_workers(side) : side.declare_series.then { side.write_series }
end

# The commands bench.rb sends, one a line: `time OP CALLS` (ns per call, the empty
# operation `nil` included), `workers` (start them), `scrape ROUNDS` (best ns, series).
def serve(side)
  operations = side.operations.merge("nil" => -> {})
  $stdout.sync = true
  $stdin.each_line do |line|
    command, *args = line.split
    case command
    when "time" then puts round_ns(Integer(args[1]), operations.fetch(args[0]))
    when "workers"
      write_scrape_series(side)
      puts "ok"
    when "scrape"
      text = side.scrape
      best = Array.new(Integer(args[0])) { round_ns(1, -> { side.scrape }) }.min
      puts "#{best} #{text.each_line.count { |l| l.start_with?('bench_series') }}"
    end
  end
end

side = (SIDE == "ours" ? Ours : Peer).new(MODE, DIR)
case COMMAND
when "serve" then serve(side)
when "count"
  operation = side.operations.merge("nil" => -> {}).fetch(ARGS[0])
  round_ns(Integer(ARGS[1]), operation)
when "count-scrape"
  side.operations
  write_scrape_series(side)
  (1 + Integer(ARGS[0])).times { side.scrape }
end
