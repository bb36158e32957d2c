# frozen_string_literal: true

require "test_helper"
require "open3"
require "rbconfig"

# This gem and the real prometheus-client-mmap (Debian's ruby-prometheus-client-mmap) in
# one process, each loaded first, in a process of its own: refused with LoadError naming
# both gems, before either has changed the other's classes.
class ConflictingGemTest < Minitest::Test
  LIB = File.expand_path("../lib", __dir__)
  REAL = "/usr/lib/ruby/vendor_ruby/prometheus/client"
  NAMES_BOTH = %r{gds_metrics and the prometheus-client-mmap gem \(/usr/lib/ruby/vendor_ruby/prometheus/client[^)]*\.rb\) cannot be loaded in one process}

  def run_ruby(script)
    out, status = Open3.capture2e({ "RUBYLIB" => nil }, RbConfig.ruby, "-e", script, chdir: "/")
    assert status.success?, out
    out
  end

  def test_the_real_gem_loaded_first_makes_requiring_this_gem_raise_naming_both
    out = run_ruby(<<~RUBY)
      require "prometheus/client"
      real_registry = Prometheus::Client.registry
      $LOAD_PATH.unshift #{LIB.inspect}
      begin
        require "gds_metrics"
        puts "loaded"
      rescue LoadError => e
        puts "refused: \#{e.message}"
      end
      puts "registry kept: \#{Prometheus::Client.registry.equal?(real_registry)}"
      puts "real registry: \#{Prometheus::Client::Registry.instance_method(:register).source_location.first}"
    RUBY
    assert_match(/^refused: #{NAMES_BOTH}/, out)
    assert_includes out, "registry kept: true\n"
    assert_includes out, "real registry: #{REAL}/registry.rb\n"
  end

  def test_the_real_gem_loaded_second_raises_naming_both_and_leaves_this_gem_working
    out = run_ruby(<<~RUBY)
      $LOAD_PATH.unshift #{LIB.inspect}
      require "gds_metrics"
      require "prometheus/client"
      ["prometheus/client/formats/text", #{REAL.inspect}].each do |real|
        require real
        puts "loaded \#{real}"
      rescue LoadError => e
        puts "refused: \#{e.message}"
      end
      counter = Prometheus::Client.registry.counter(:jobs, "Jobs.")
      counter.increment
      puts "same registry: \#{Prometheus::Client.registry.equal?(GDS::Metrics.registry)}"
      puts "value: \#{counter.get}"
      puts "real classes: \#{%i[MmapedValue Metric Formats].select { |name| Prometheus::Client.const_defined?(name, false) }}"
    RUBY
    assert_equal 2, out.scan(/^refused: #{NAMES_BOTH}/).size, out
    assert_includes out, "same registry: true\n"
    assert_includes out, "value: 1.0\n"
    assert_includes out, "real classes: []\n"
  end
end
