# The Rust core: unit, integration and doc tests, and the exposition conformance checks.

TEST_TARGETS += test-core

.PHONY: test-core
test-core:
	cargo test -p gds-metrics --all-features
