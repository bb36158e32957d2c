# frozen_string_literal: true

require "test_helper"
require "tmpdir"

class TargetsTest < Minitest::Test
  GUID = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8"
  APP = { guid: GUID, name: "notify-api-venerable", instances: 2, route_host: "notify-api.cloudapps.digital",
          org: "govuk-notify", space: "production" }.freeze

  def setup
    @root = Dir.mktmpdir("gds-metrics-targets")
  end

  def teardown
    FileUtils.rm_rf(@root)
  end

  def test_render_gives_one_group_per_instance_with_the_contract_labels
    groups = JSON.parse(GDS::Metrics::Targets.render(APP))

    assert_equal 2, groups.size
    assert_equal({ "targets" => ["notify-api.cloudapps.digital"],
                   "labels" => { "__param_cf_app_guid" => GUID, "__param_cf_app_instance" => "#{GUID}:1",
                                 "__param_cf_app_instance_index" => "1", "instance" => "#{GUID}:1",
                                 "job" => "notify-api", "org" => "govuk-notify", "space" => "production" } },
                 groups[1])
  end

  def test_reconcile_writes_moves_and_removes
    store = GDS::Metrics::Targets::Store.new(@root)

    assert_equal [["write active/#{GUID}.json", "written"]], store.reconcile([APP.merge(state: :started)])
    assert_equal [["write active/#{GUID}.json", "unchanged"]], store.reconcile([APP.merge(state: :started)])
    assert_equal 2, GDS::Metrics::Targets.read(File.join(@root, "active", "#{GUID}.json")).size

    store.reconcile([APP.merge(state: :stopped)])
    assert_equal ["#{GUID}.json"], Dir.children(File.join(@root, "inactive"))
    assert_empty Dir.children(File.join(@root, "active"))

    store.reconcile([{ guid: GUID, state: :deleted }])
    assert_empty Dir.children(File.join(@root, "inactive"))
  end

  def test_plan_does_not_touch_the_disk
    store = GDS::Metrics::Targets::Store.new(File.join(@root, "not-yet"))

    assert_equal ["write active/#{GUID}.json"], store.plan([APP.merge(state: :started)])
    refute File.exist?(File.join(@root, "not-yet"))
  end

  def test_a_bad_guid_is_an_argument_error
    error = assert_raises(ArgumentError) { GDS::Metrics::Targets.render(APP.merge(guid: "NOT-A-GUID")) }
    assert_match(/invalid app GUID/, error.message)
  end

  def test_a_file_prometheus_would_reject_is_a_targets_error_naming_the_file
    path = File.join(@root, "bad.json")
    File.write(path, '[{"targets": ["a"], "labels": {"bad-name": "x"}}]')

    error = assert_raises(GDS::Metrics::Targets::Error) { GDS::Metrics::Targets.read(path) }
    assert_includes error.message, path
  end
end
