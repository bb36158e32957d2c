# frozen_string_literal: true

require "test_helper"
require "json"

GUID_FOR_CONFIG = "6b0b3c4e-5f37-4a6e-9a4c-2a1f0e8d7b11"

# GDS::Metrics::Config.instance as 0.2.0 apps used it: the accessors answer the effective
# value, populate_from_env and is_auth_enabled? exist, and auth switched on in code without
# an application id is off with a warning (as the environment's switch is).
class ConfigAccessorsTest < Minitest::Test
  include FreshMetrics

  def config
    GDS::Metrics::Config.instance
  end

  def test_off_the_paas_the_accessors_answer_the_defaults
    assert_nil config.application_id
    assert_equal "/metrics", config.prometheus_metrics_path
    assert_nil config.mmap_directory
    assert_equal true, config.use_basic_auth
    assert_equal false, config.is_auth_enabled?
  end

  def test_the_accessors_answer_what_the_environment_says
    ENV["VCAP_APPLICATION"] = JSON.generate("application_id" => GUID_FOR_CONFIG)
    ENV["PROMETHEUS_METRICS_PATH"] = "/internal/metrics"
    ENV["MMAP_DIRECTORY"] = Dir.tmpdir

    assert_equal GUID_FOR_CONFIG, config.application_id
    assert_equal "/internal/metrics", config.prometheus_metrics_path
    assert_equal Dir.tmpdir, config.mmap_directory
    assert_equal true, config.is_auth_enabled?
  end

  def test_metrics_basic_auth_false_is_the_switch_and_turns_auth_off
    ENV["VCAP_APPLICATION"] = JSON.generate("application_id" => GUID_FOR_CONFIG)
    ENV["METRICS_BASIC_AUTH"] = "false"

    assert_equal false, config.use_basic_auth
    assert_equal false, config.is_auth_enabled?
  end

  def test_settings_in_code_win_and_are_answered
    ENV["PROMETHEUS_METRICS_PATH"] = "/from-env"
    GDS::Metrics.configure { |c| c.prometheus_metrics_path = "/from-code" }

    assert_equal "/from-code", config.prometheus_metrics_path
  end

  def test_populate_from_env_fixes_the_effective_values
    ENV["VCAP_APPLICATION"] = JSON.generate("application_id" => GUID_FOR_CONFIG)
    config.populate_from_env
    ENV.delete("VCAP_APPLICATION")

    assert_equal GUID_FOR_CONFIG, config.application_id
    assert_equal "/metrics", config.prometheus_metrics_path
    assert_equal true, config.is_auth_enabled?
  end

  def test_use_basic_auth_in_code_without_an_application_id_is_off_with_a_warning
    GDS::Metrics.configure { |c| c.use_basic_auth = true }

    _out, err = capture_io { GDS::Metrics.endpoint }
    assert_match(/auth is switched on but there is no application id/, err)
    assert_equal false, config.is_auth_enabled?
  end

  def test_a_bad_switch_in_the_environment_is_a_configuration_error_naming_it
    ENV["METRICS_BASIC_AUTH"] = "yes"

    error = assert_raises(GDS::Metrics::ConfigurationError) { config.use_basic_auth }
    assert_match(/`METRICS_BASIC_AUTH`/, error.message)
  end
end

# The series limit, set for every metric and per metric.
class SeriesLimitTest < Minitest::Test
  include FreshMetrics

  def test_the_limit_given_in_configure_applies_to_every_metric
    GDS::Metrics.configure { |c| c.series_limit = 2 }
    jobs = registry.counter(:jobs, docstring: "Jobs.", labels: [:queue])
    %w[a b c].each { |queue| jobs.increment(labels: { queue: queue }) }

    assert_equal 2, registry.series_limit
    assert_equal ['jobs_total{queue="__overflow__"} 1.0'], samples('jobs_total{queue="__overflow__"}')
  end

  def test_a_metric_may_set_its_own_limit
    registry.series_limit = 1
    jobs = registry.counter(:jobs, docstring: "Jobs.", labels: [:queue], series_limit: 3)
    %w[a b c].each { |queue| jobs.increment(labels: { queue: queue }) }

    assert_empty samples('jobs_total{queue="__overflow__"}')
  end
end
