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

# Recording a request and answering a scrape, against prometheus-client in the same run.
.PHONY: bench-endpoint
bench-endpoint:
	cargo bench -p gds-metrics --bench endpoint

# Recording a request with a sampled traceparent against one without, in instructions
# (callgrind), which a busy machine does not disturb: prints both and their ratio.
CALLGRIND_REQUESTS ?= 20000
.PHONY: bench-endpoint-instructions
bench-endpoint-instructions:
	scripts/apt-install valgrind
	scripts/callgrind-record $(CALLGRIND_REQUESTS)
