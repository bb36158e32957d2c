# frozen_string_literal: true

require_relative "lib/gds_metrics/version"

# Two kinds of gem, and nothing else (a gem that installs but cannot be required is never
# built):
# - a platform gem (`rake gem`, `rake dist`): the compiled extension in lib/, for this
#   machine's platform and exactly this Ruby's minor version, whose ABI it was built against;
#   installing it needs neither cargo nor network access;
# - the source gem (`rake dist`, from a tree it stages with the crate and the core):
#   ext/gds_metrics/extconf.rb builds the extension with cargo at install time.
# Its only runtime dependency, rack, is the Debian `ruby-rack` package on the machines this
# targets.
Gem::Specification.new do |spec|
  spec.name = "gds_metrics"
  spec.version = GDS::Metrics::VERSION
  spec.summary = "Prometheus metrics for Rack and Rails apps on a Cloud Foundry PaaS"
  spec.description = "The /metrics endpoint with app-GUID bearer auth, request metrics, custom metrics " \
                     "and multi-process aggregation for puma, on the gds-metrics Rust core."
  spec.authors = ["Government Digital Service"]
  spec.homepage = "https://github.com/alphagov/gds-metrics"
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1"
  spec.metadata = { "source_code_uri" => spec.homepage, "changelog_uri" => "#{spec.homepage}/blob/main/CHANGELOG.md" }

  files = Dir.chdir(__dir__) { Dir["lib/**/*.rb"] + %w[README.md LICENSE] }
  native = Dir.chdir(__dir__) { Dir["lib/gds_metrics/gds_metrics_native.{so,bundle}"] }
  crate = Dir.chdir(__dir__) { Dir["ext/gds_metrics/**/*"].reject { |path| path.include?("/target/") } }
  if !native.empty?
    spec.platform = Gem::Platform.local
    spec.required_ruby_version = "~> #{RUBY_VERSION[/\A\d+\.\d+/]}.0"
    files += native
  elsif File.exist?(File.join(__dir__, "ext/gds_metrics/vendor/gds-metrics/Cargo.toml"))
    spec.extensions = ["ext/gds_metrics/extconf.rb"]
    files += crate.select { |path| File.file?(File.join(__dir__, path)) }
  else
    raise "gds_metrics: nothing to build a working gem from: run `rake gem` (compiles the extension into " \
          "a platform gem) or `rake dist` (the release's platform and source gems), not `gem build`"
  end
  spec.files = files
  spec.require_paths = ["lib"]

  spec.add_runtime_dependency "rack", ">= 2.0", "< 4"
end
