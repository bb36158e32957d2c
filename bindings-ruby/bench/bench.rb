# frozen_string_literal: true

# The gem against its real peer, Debian's prometheus-client-mmap (the library gds_metrics
# 0.2.0 was built on), measured in the same run; prints the Markdown section of
# BENCHMARKS.md. Each side runs in a process of its own (bench/side.rb): this gem ships a
# `prometheus/client` of its own, so the two cannot be loaded together.
#
# Two measures per update:
# - instructions per call counted by callgrind (valgrind), for both sides: reproducible on
#   a busy machine, so the goals are judged on it;
# - wall-clock nanoseconds, the best of several rounds that alternate between the sides.
# Both have the cost of an empty call of the same loop taken off.

require "open3"
require "rbconfig"
require "tmpdir"

ROUNDS = Integer(ENV.fetch("BENCH_ROUNDS", "5"))
CALLS = Integer(ENV.fetch("BENCH_OPS", "200000"))
# callgrind runs each side twice, with COUNT_CALLS and 3 × COUNT_CALLS calls: the difference
# is the calls alone, without start-up.
COUNT_CALLS = Integer(ENV.fetch("BENCH_COUNT_OPS", "3000"))
SCRAPE_ROUNDS = Integer(ENV.fetch("BENCH_SCRAPE_ROUNDS", "5"))
# callgrind counts a scrape as the difference between runs of 1 + COUNT_SCRAPES and
# 1 + 3 × COUNT_SCRAPES scrapes (the first one of each run reads the files for the first time).
COUNT_SCRAPES = Integer(ENV.fetch("BENCH_COUNT_SCRAPES", "2"))
SIDE = File.expand_path("side.rb", __dir__)
LIB = File.expand_path("../lib", __dir__)
WORKERS = ENV.fetch("BENCH_WORKERS", "4")

UPDATES = [
  ["increment", "counter increment"],
  ["labelled", "labelled increment (2 labels)"],
  ["labelled_positional", "labelled increment (2 labels), both called `increment({...})`"],
  ["labelled_fresh", "labelled increment (2 labels), a new Hash each call"],
  ["observe", "histogram observe (1 label)"],
].freeze
UPDATE_GOAL = 20
SCRAPE_GOAL = 10

# The command line of one side. The peer runs without this gem's lib/ on the load path
# (and from /, so nothing here shadows the installed gem).
def side_command(side, mode, dir, *args)
  load_path = side == "ours" ? ["-I", LIB] : []
  [RbConfig.ruby, *load_path, SIDE, side, mode, dir, *args]
end

SIDE_ENV = { "RUBYLIB" => nil, "BENCH_WORKERS" => WORKERS }.freeze

# A timing server of one side, answering bench/side.rb's `serve` commands.
class Server
  def initialize(side, mode, dir)
    @stdin, @stdout, @wait = Open3.popen2(SIDE_ENV, *side_command(side, mode, dir, "serve"), chdir: "/")
  end

  def ask(line)
    @stdin.puts(line)
    answer = @stdout.gets or raise "the #{line.split.first} command got no answer; see the side's stderr"
    answer.split
  end

  def time(operation, calls)
    Float(ask("time #{operation} #{calls}").first)
  end

  def close
    @stdin.close
    @wait.value
  end
end

# Instructions counted by callgrind for every side, mode and operation (the empty one
# included) and for the scrapes, two runs at a time (the machine has 2 cores; counts do
# not depend on load): { [side, mode, operation, calls] => instructions of the whole run }.
def count_all
  jobs = Queue.new
  %w[ours peer].product(%w[single multi], UPDATES.map(&:first) + ["nil"], [COUNT_CALLS, 3 * COUNT_CALLS])
               .each { |job| jobs << job }
  %w[ours peer].product(%w[single multi], ["scrape"], [COUNT_SCRAPES, 3 * COUNT_SCRAPES]).each { |job| jobs << job }
  jobs.close
  counts = {}
  Array.new(2) do
    Thread.new do
      while (job = jobs.pop)
        counts[job] = collected(*job)
      end
    end
  end.each(&:join)
  counts
end

# Instructions of one run of side.rb under callgrind: `calls` calls of `operation`, or
# for "scrape" the series written and 1 + `calls` scrapes. In multi mode the workers are
# forked under callgrind too; only the first process's count (the scraping one) is taken.
def collected(side, mode, operation, calls)
  Dir.mktmpdir("gds-metrics-count") do |dir|
    args = operation == "scrape" ? ["count-scrape", calls.to_s] : ["count", operation, calls.to_s]
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               *side_command(side, mode, dir, *args)]
    _, err, status = Open3.capture3(SIDE_ENV, *command, chdir: "/")
    pid = err[/^==(\d+)==/, 1]
    count = err[/^==#{pid}== Collected : (\d+)/, 1]
    raise "callgrind failed for #{side} #{operation}:\n#{err}" unless status.success? && count

    Integer(count)
  end
end

# Instructions per scrape: the difference between the runs of 3 × COUNT_SCRAPES and
# COUNT_SCRAPES scrapes after the first.
def scrape_instructions(counts, side, mode)
  (counts[[side, mode, "scrape", 3 * COUNT_SCRAPES]] - counts[[side, mode, "scrape", COUNT_SCRAPES]]).fdiv(2 * COUNT_SCRAPES)
end

# Instructions per call of `operation` (an empty call's taken off): the difference between
# the runs of 3 × COUNT_CALLS and COUNT_CALLS calls.
def instructions(counts, side, mode, operation)
  per_call = ->(op) { (counts[[side, mode, op, 3 * COUNT_CALLS]] - counts[[side, mode, op, COUNT_CALLS]]).fdiv(2 * COUNT_CALLS) }
  per_call.call(operation) - per_call.call("nil")
end

# [ours, peer] wall-clock ns per call: rounds alternate between the sides, the best of each
# is kept, an empty call's cost (measured alike) is taken off.
def paired_ns(servers, operation)
  best = servers.map { Float::INFINITY }
  empty = servers.map { Float::INFINITY }
  ROUNDS.times do
    servers.each_with_index do |server, index|
      best[index] = [best[index], server.time(operation, CALLS)].min
      empty[index] = [empty[index], server.time("nil", CALLS)].min
    end
  end
  best.zip(empty).map { |ns, loop_ns| [ns - loop_ns, 1.0].max }
end

Row = Struct.new(:operation, :ours, :peer, :unit, :goal)

def with_servers(mode)
  Dir.mktmpdir("gds-metrics-bench") do |dir|
    ours_dir = File.join(dir, "ours").tap { |path| Dir.mkdir(path) }
    peer_dir = File.join(dir, "peer").tap { |path| Dir.mkdir(path) }
    servers = [Server.new("ours", mode, ours_dir), Server.new("peer", mode, peer_dir)]
    begin
      yield servers, ours_dir, peer_dir
    ensure
      servers.each(&:close)
    end
  end
end

def update_rows(counts, mode)
  counted = UPDATES.map do |operation, name|
    Row.new(name, instructions(counts, "ours", mode, operation), instructions(counts, "peer", mode, operation),
            "instructions", UPDATE_GOAL)
  end
  counted << Row.new(scrape_name(mode), scrape_instructions(counts, "ours", mode),
                     scrape_instructions(counts, "peer", mode), "instructions", scrape_goal(mode))
  timed = with_servers(mode) do |servers|
    UPDATES.map { |operation, name| Row.new(name, *paired_ns(servers, operation), "ns", UPDATE_GOAL) }
  end
  [counted, timed]
end

# [row, ours series, peer series]: both sides' scrape of 10,000 series (in multi mode
# written by each of the workers, whose files the scrape reads).
def scrape_row(mode)
  with_servers(mode) do |servers|
    servers.each { |server| server.ask("workers") }
    ours, peer = servers.map { |server| server.ask("scrape #{SCRAPE_ROUNDS}").map { |field| Float(field) } }
    [Row.new(scrape_name(mode), ours[0], peer[0], "ns", scrape_goal(mode)), ours[1].to_i, peer[1].to_i]
  end
end

def scrape_name(mode)
  mode == "multi" ? "scrape of 10,000 series × #{WORKERS} worker processes' files" : "scrape of 10,000 series"
end

def scrape_goal(mode)
  mode == "multi" ? SCRAPE_GOAL : nil
end

def format_value(row, value)
  return format("%.0f", value) if row.unit == "instructions"

  value >= 100_000 ? format("%.2f ms", value / 1e6) : format("%.0f ns", value)
end

def table(rows, unit_header)
  out = ["| operation | gds_metrics #{unit_header} | prometheus-client-mmap #{unit_header} | ratio (ours ÷ peer) | speed-up | goal |",
         "|---|---:|---:|---:|---:|---|"]
  rows.each do |row|
    speedup = row.peer / row.ours
    verdict = if row.goal.nil? then "—"
              elsif speedup >= row.goal then "≥ #{row.goal}x: met"
              else "≥ #{row.goal}x: **not met**"
              end
    out << "| #{row.operation} | #{format_value(row, row.ours)} | #{format_value(row, row.peer)} | " \
           "#{format('%.3f', row.ours / row.peer)} | #{format('%.1fx', speedup)} | #{verdict} |"
  end
  out.join("\n")
end

def mode_title(mode)
  mode == "multi" ? "multi-process mode (both sides over a shared directory)" : "single process"
end

puts "## Ruby binding (`gds_metrics` gem) against prometheus-client-mmap"
puts
peer_version = `dpkg-query -W -f='${Version}' ruby-prometheus-client-mmap 2>/dev/null`
puts "Ruby #{RUBY_VERSION}; the peer is Debian's `ruby-prometheus-client-mmap` #{peer_version}, " \
     "the library gds_metrics 0.2.0 was built on; `bindings-ruby/bench/bench.rb`, each side in a process " \
     "of its own. Each side is called as its users call it: ours `increment(labels: {...})`, " \
     "`observe(v, labels: {...})`; the peer `increment({...})`, `observe({...}, v)`; one more row calls " \
     "both sides alike, with the 0.x positional Hash that this gem also takes. The label Hashes are " \
     "frozen constants (this gem finds a frozen Hash's series by identity), except in the row whose " \
     "Hash literal is built anew by each call."
puts
puts "Instruction rows are counted with `valgrind --tool=callgrind` for both sides (the difference " \
     "between #{COUNT_CALLS} and #{3 * COUNT_CALLS} calls, an empty call's count taken off; for a scrape " \
     "between #{COUNT_SCRAPES} and #{3 * COUNT_SCRAPES} scrapes after a first one, in the scraping process): " \
     "reproducible on this shared 2-core machine, so the goals are judged on them. Time rows are the " \
     "best of #{ROUNDS} rounds of #{CALLS} calls alternating between the sides, an empty call's time " \
     "taken off; they move with the machine's load. Where the instructions of the rows that miss " \
     "their goal go, and what would remove them: `bindings-ruby/bench/PROFILE.md`."
counts = count_all
%w[single multi].each do |mode|
  counted, timed = update_rows(counts, mode)
  scrape, ours_series, peer_series = scrape_row(mode)
  puts
  puts "### Updates and scrape, #{mode_title(mode)}: instructions per call (callgrind)"
  puts
  puts table(counted, "(instr.)")
  puts
  puts "### Updates and scrape, #{mode_title(mode)}: wall-clock time"
  puts
  puts table(timed + [scrape], "(time)")
  puts
  puts "Series in the scrape: gds_metrics #{ours_series}, prometheus-client-mmap #{peer_series}."
end
