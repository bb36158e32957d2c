# The endpoint: its property tests with a bounded case count, the upload-exporter example
# (scraped over loopback by its integration test), the example's alerting rules and its
# Alertmanager routing (checked, and each routing case tested, with amtool). Its S3 tests
# run in test-exporter-s3 (mk/s3.mk).

TEST_TARGETS += test-endpoint

# Cases per property in `make test`; raise it for a longer run.
ENDPOINT_PROPTEST_CASES ?= 512

.PHONY: test-endpoint
test-endpoint:
	scripts/apt-install prometheus prometheus-alertmanager
	PROPTEST_CASES=$(ENDPOINT_PROPTEST_CASES) cargo test -p gds-metrics --all-features --test integration parser_properties::
	cargo test -p upload-exporter
	cargo clippy -p upload-exporter --all-targets -- -D warnings
	cd examples/upload-exporter && promtool check rules alerts.yml && promtool test rules alerts_test.yml
	cd examples/upload-exporter && amtool check-config alertmanager.yml alertmanager-mute.yml
	examples/upload-exporter/routes_test.sh

BENCH_TARGETS += bench-endpoint

# Recording a request (untraced, with native buckets and without; traced, amortised and
# each recording its exemplar) and answering a scrape, against prometheus-client in the
# same run; then the same requests in instructions (callgrind, a few seconds), appended
# to the section with the traced ÷ untraced ratios.
.PHONY: bench-endpoint
bench-endpoint:
	scripts/apt-install valgrind
	cargo bench -p gds-metrics --bench endpoint
	scripts/callgrind-record $(CALLGRIND_REQUESTS) .build/bench/endpoint.md

# The instruction counts alone (callgrind), which a busy machine does not disturb: prints
# them and their ratios.
CALLGRIND_REQUESTS ?= 20000
.PHONY: bench-endpoint-instructions
bench-endpoint-instructions:
	scripts/apt-install valgrind
	scripts/callgrind-record $(CALLGRIND_REQUESTS)
