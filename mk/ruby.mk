# The Ruby binding (bindings-ruby/): the gds_metrics gem, a magnus extension on the core.
# Ruby, its gems and promtool come from Debian only; there is no RubyGems access.
# ruby-prometheus-client-mmap is the real gem whose API 0.2.0 apps used: the tests check
# our shapes against it.

TEST_TARGETS += test-ruby
BENCH_TARGETS += bench-ruby

RUBY_DIR := bindings-ruby
RUBY_DEBS := ruby ruby-dev rake ruby-rack ruby-minitest ruby-rack-test puma ruby-sinatra \
	ruby-railties ruby-actionpack ruby-prometheus-client-mmap ruby-google-protobuf libclang-dev prometheus

.PHONY: ruby-deps test-ruby bench-ruby
ruby-deps:
	scripts/apt-install $(RUBY_DEBS)

# Builds the extension, runs the minitest suite (the shared vectors, rack-test, Rails, puma
# cluster and raw sockets, promtool), then builds the gem and installs it offline into a
# scratch directory.
# s3s-fs (mk/s3.mk, which exports S3S_FS): test/targets_s3_test.rb starts it on loopback.
test-ruby: ruby-deps s3s-fs
	cd $(RUBY_DIR) && rake test gem_check

# The gem against the real prometheus-client-mmap, each in its own process; updates counted
# in instructions by callgrind for both sides (valgrind), updates and scrapes timed.
bench-ruby: ruby-deps
	scripts/apt-install valgrind
	mkdir -p $(BUILD)/bench
	cd $(RUBY_DIR) && rake compile && ruby -Ilib bench/bench.rb > $(BUILD)/bench/ruby.md.tmp
	mv $(BUILD)/bench/ruby.md.tmp $(BUILD)/bench/ruby.md
