# Target files: the `gds-metrics-targets` CLI (including `apply` runs killed mid-write) and
# a real Prometheus reading what the store writes. The plain unit and crash tests of the
# target module run in test-core.

TEST_TARGETS += test-targets

.PHONY: test-targets deps-targets
deps-targets:
	scripts/apt-install prometheus

test-targets: deps-targets
	cargo test -p gds-metrics --features cli,system-tests --test targets_prometheus --test targets_cli \
		--test targets_leftovers

# test-core runs `cargo test --all-features`, which includes the system tests above.
test-core: deps-targets
