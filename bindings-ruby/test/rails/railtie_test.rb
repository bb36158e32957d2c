# frozen_string_literal: true

# A minimal Rails app that loads the gem the way Bundler.require does, after Rails: the
# Railtie must insert the middleware and the `path` label must be the route template for
# the request's own HTTP method. Runs in its own process (one Rails app per process).

ENV["RAILS_ENV"] = "production"
%w[VCAP_APPLICATION METRICS_BASIC_AUTH PROMETHEUS_METRICS_PATH MMAP_DIRECTORY PROMETHEUS_MULTIPROC_DIR
   prometheus_multiproc_dir].each { |name| ENV.delete(name) }

require "logger"
require "action_controller/railtie"
require "gds_metrics"
require "minitest/autorun"
require "rack/test"

class DummyApp < Rails::Application
  # config/initializers/gds_metrics.rb is the 0.2.0 app's initializer, copied unchanged.
  config.root = __dir__
  config.eager_load = false
  config.logger = Logger.new(nil)
  config.secret_key_base = "x" * 64
  config.hosts.clear if config.respond_to?(:hosts)
  config.consider_all_requests_local = false
  config.action_dispatch.show_exceptions = true

  routes.append do
    get "/users/:id", to: "users#show"
    post "/users/:id", to: "users#update"
    patch "/users/:id/avatar", to: "users#avatar"
    get "/crash", to: "users#crash"
  end
end

class UsersController < ActionController::Base
  def show
    render plain: "user #{params[:id]}"
  end

  def update
    head :no_content
  end

  def avatar
    head :accepted
  end

  def crash
    raise NotImplementedError, "not yet"
  end
end

BOOT_WARNINGS = StringIO.new
$stderr = BOOT_WARNINGS
begin
  DummyApp.initialize!
  Rails.application.call(Rack::MockRequest.env_for("/metrics")) # the endpoint reads its settings
ensure
  $stderr = STDERR
end

class RailtieTest < Minitest::Test
  include Rack::Test::Methods

  def app
    Rails.application
  end

  def request_count(method, path, code)
    get "/metrics"
    line = %(http_server_requests_total{method="#{method}",host="example.org",path="#{path}",code="#{code}"} )
    sample = last_response.body.lines.find { |l| l.start_with?(line) }
    sample ? Float(sample.split.last) : 0.0
  end

  # Counts accumulate in the one app of this process: each test looks at the change.
  def assert_counted(method, path, code)
    before = request_count(method, path, code)
    yield
    assert_equal before + 1, request_count(method, path, code)
  end

  def test_the_old_initializer_boots_with_auth_off_and_a_warning
    config = GDS::Metrics::Config.instance
    assert_equal true, config.use_basic_auth
    assert_equal "/metrics", config.prometheus_metrics_path
    assert_equal false, config.is_auth_enabled?
    assert_match(/auth is switched on but there is no application id/, BOOT_WARNINGS.string)
    get "/metrics"
    assert_equal 200, last_response.status
  end

  def test_a_sampled_traceparent_is_the_exemplar_of_the_routed_request
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    header "traceparent", "00-#{trace_id}-b7ad6b7169203331-01"
    get "/users/42"
    header "traceparent", nil
    header "accept", "application/openmetrics-text;version=1.0.0"
    get "/metrics"
    header "accept", nil

    exemplar = %(# {trace_id="#{trace_id}",span_id="b7ad6b7169203331"})
    traced = last_response.body.lines.select { |line| line.include?(exemplar) }
    assert_equal %w[http_server_request_duration_seconds_bucket http_server_requests_total],
                 traced.map { |line| line[/^[a-z_]+/] }.sort
    assert(traced.all? { |line| line.include?('path="/users/:id(.:format)"') }, traced.join)
  end

  def test_the_railtie_inserts_the_middleware
    assert_includes Rails.application.middleware.map(&:klass), GDS::Metrics::Middleware
  end

  def test_get_routes_are_labelled_with_the_route_template
    assert_counted("GET", "/users/:id(.:format)", "200") { get "/users/42" }
  end

  def test_post_routes_on_the_same_path_resolve_to_their_own_route
    assert_counted("POST", "/users/:id(.:format)", "204") { post "/users/42" }
  end

  def test_patch_routes_resolve
    assert_counted("PATCH", "/users/:id/avatar(.:format)", "202") { patch "/users/7/avatar" }
  end

  def test_a_method_without_a_route_is_no_endpoint
    assert_counted("DELETE", "No endpoint", "404") { delete "/users/42" }
  end

  def test_an_unknown_path_is_no_endpoint
    assert_counted("GET", "No endpoint", "404") { get "/nothing/here" }
  end

  def test_a_controller_exception_is_counted_and_the_request_is_a_500
    get "/metrics"
    before = last_response.body[/^http_server_exceptions_total\{error="NotImplementedError"\} (\S+)$/, 1].to_f
    status = nil
    assert_counted("GET", "/crash(.:format)", "500") do
      get "/crash"
      status = last_response.status
    end
    assert_equal 500, status
    get "/metrics"
    after = last_response.body[/^http_server_exceptions_total\{error="NotImplementedError"\} (\S+)$/, 1].to_f
    assert_equal before + 1, after
  end
end
