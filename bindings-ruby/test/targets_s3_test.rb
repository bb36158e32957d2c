# frozen_string_literal: true

require "test_helper"
require "tmpdir"
require "socket"
require "json"

# GDS::Metrics::Targets::Store on s3://bucket/prefix against a real S3 server: s3s-fs
# (installed by `make s3s-fs`, found through S3S_FS) on a free loopback port with SigV4
# credentials, configured through the AWS variables as an operator sets them.
class TargetsS3Test < Minitest::Test
  GUID = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8"
  OTHER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
  LOCATION = "s3://targets/prod"
  ACCESS_KEY = "gds-metrics-test"
  SECRET_KEY = "gds-metrics-test-secret"
  DEADLINE = 30

  def app(guid: GUID, instances: 2)
    { guid: guid, name: "notify-api", instances: instances, route_host: "notify-api.cloudapps.digital",
      org: "govuk-notify", space: "production" }
  end

  def setup
    @dir = Dir.mktmpdir("gds-metrics-s3")
    FileUtils.mkdir_p(File.join(@dir, "root", "targets"))
    @port = free_port
    @server = spawn(s3s_fs, "--host", "127.0.0.1", "--port", @port.to_s, "--access-key", ACCESS_KEY,
                    "--secret-key", SECRET_KEY, File.join(@dir, "root"), %i[out err] => File.join(@dir, "s3s-fs.log"))
    wait_until_listening
    @saved_aws = aws_env.to_h { |name, _| [name, ENV.fetch(name, nil)] }
    ENV.update(aws_env)
  end

  def teardown
    @saved_aws&.each { |name, value| value.nil? ? ENV.delete(name) : ENV[name] = value }
    Process.kill(:KILL, @server)
    Process.wait(@server)
    FileUtils.rm_rf(@dir)
  end

  def s3s_fs
    ENV.fetch("S3S_FS") { File.expand_path("../../.build/tools/s3s-fs-0.14.1/bin/s3s-fs", __dir__) }
  end

  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  def wait_until_listening
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + DEADLINE
    loop do
      refute Process.wait(@server, Process::WNOHANG), "s3s-fs exited: #{File.read(File.join(@dir, 's3s-fs.log'))}"
      return TCPSocket.new("127.0.0.1", @port).close
    rescue Errno::ECONNREFUSED
      flunk "s3s-fs did not listen on port #{@port} within #{DEADLINE}s" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.02
    end
  end

  def aws_env
    { "AWS_ENDPOINT_URL" => "http://127.0.0.1:#{@port}", "AWS_ACCESS_KEY_ID" => ACCESS_KEY,
      "AWS_SECRET_ACCESS_KEY" => SECRET_KEY, "AWS_REGION" => "us-east-1", "AWS_ALLOW_HTTP" => "true" }
  end

  def object_file(folder, guid)
    File.join(@dir, "root", "targets", "prod", folder, "#{guid}.json")
  end

  def store
    GDS::Metrics::Targets::Store.new(LOCATION)
  end

  def test_write_reads_back_and_an_unchanged_write_is_not_rewritten
    contents = GDS::Metrics::Targets.render(app)

    assert_equal "written", store.write(:active, GUID, contents)
    assert_equal({ active: [GUID], inactive: [] }, store.list)
    assert_equal contents, File.read(object_file("active", GUID))

    modified = File.mtime(object_file("active", GUID))
    assert_equal "unchanged", store.write(:active, GUID, contents)
    assert_equal modified, File.mtime(object_file("active", GUID))
  end

  def test_a_write_from_a_stale_listing_raises_conflict_and_resurrects_nothing
    store.write(:active, GUID, GDS::Metrics::Targets.render(app))
    listed = store.list[:active].include?(GUID)
    store.remove(:active, GUID)

    error = assert_raises(GDS::Metrics::ConflictError) do
      store.write(:active, GUID, GDS::Metrics::Targets.render(app(instances: 3)), listed: listed)
    end
    assert_includes error.message, "#{LOCATION}/active/#{GUID}.json"
    assert_kind_of GDS::Metrics::Targets::Error, error
    assert_equal({ active: [], inactive: [] }, store.list)
  end

  def test_creating_a_file_another_writer_just_created_raises_conflict
    listed = store.list[:active].include?(GUID)
    store.write(:active, GUID, GDS::Metrics::Targets.render(app))

    assert_raises(GDS::Metrics::ConflictError) do
      store.write(:active, GUID, GDS::Metrics::Targets.render(app(instances: 3)), listed: listed)
    end
    assert_equal GDS::Metrics::Targets.render(app), File.read(object_file("active", GUID))
  end

  def test_remove_reports_what_it_did
    store.write(:inactive, GUID, GDS::Metrics::Targets.render(app))

    assert_equal "removed", store.remove(:inactive, GUID)
    assert_equal "absent", store.remove(:inactive, GUID)
    refute File.exist?(object_file("inactive", GUID))
  end

  def test_reconcile_and_plan_work_on_s3_as_on_a_directory
    store.write(:active, OTHER, GDS::Metrics::Targets.render(app(guid: OTHER)))

    assert_equal [["remove active/#{OTHER}.json", "removed"], ["write inactive/#{GUID}.json", "written"]],
                 store.reconcile([app.merge(state: :stopped)])
    assert_equal ["write active/#{GUID}.json", "remove inactive/#{GUID}.json"],
                 store.plan([app.merge(state: :started)])
  end

  def test_missing_credentials_say_which_variables_to_set
    ENV.delete("AWS_ACCESS_KEY_ID")
    error = assert_raises(GDS::Metrics::IOError) { store.list }
    assert_includes error.message, "AWS_ACCESS_KEY_ID"
  end
end
