# frozen_string_literal: true

require "test_helper"
require "json"
require "open3"
require "rbconfig"

# The prometheus-client-mmap API this gem answers, checked against the real gem (Debian's
# ruby-prometheus-client-mmap 0.16, loaded in a process of its own): every positional call
# the real method accepts, ours accepts too.
class PrometheusClientShapeTest < Minitest::Test
  METHODS = {
    "Counter" => %w[initialize increment get values base_labels name docstring],
    "Gauge" => %w[initialize set increment decrement get values base_labels],
    "Histogram" => %w[initialize observe get values base_labels],
    "Summary" => %w[initialize observe get values base_labels],
    "Registry" => %w[register counter gauge histogram summary get exist? metrics],
  }.freeze

  # { "Counter#increment" => [required, optional] } for the real gem.
  def real_shapes
    script = <<~RUBY
      require "json"
      require "prometheus/client"
      shapes = #{METHODS.to_a.inspect}.to_h.flat_map do |klass, names|
        names.map do |name|
          params = Prometheus::Client.const_get(klass).instance_method(name).parameters
          ["\#{klass}#\#{name}", [params.count { |t, _| t == :req }, params.count { |t, _| t == :opt }]]
        end
      end
      puts JSON.generate(shapes.to_h)
    RUBY
    out, status = Open3.capture2e({ "RUBYLIB" => nil }, RbConfig.ruby, "-e", script, chdir: "/")
    flunk "the real prometheus-client-mmap did not load (apt package ruby-prometheus-client-mmap):\n#{out}" unless status.success?
    JSON.parse(out.lines.last)
  end

  def test_every_positional_call_of_the_real_gem_is_accepted
    real_shapes.each do |method, (required, optional)|
      klass, name = method.split("#")
      params = Prometheus::Client.const_get(klass).instance_method(name).parameters
      ours_required = params.count { |t, _| t == :req }
      ours_max = params.any? { |t, _| t == :rest } ? Float::INFINITY : ours_required + params.count { |t, _| t == :opt }
      assert_operator ours_required, :<=, required, "#{method}: we require at most what the real gem requires"
      assert_operator ours_max, :>=, required + optional, "#{method}: we accept every argument the real gem accepts"
    end
  end

  def test_the_middleware_takes_the_real_gems_arguments
    [Prometheus::Client::Rack::Collector, Prometheus::Client::Rack::Exporter].each do |middleware|
      params = middleware.instance_method(:initialize).parameters
      assert_equal %i[req opt], params.map(&:first).first(2), "#{middleware}.new(app, options = {})"
    end
  end
end
