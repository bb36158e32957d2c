# The Rust core: unit, integration, property and doc tests, and the exposition conformance
# checks against the real `promtool` (Debian `prometheus`) and the Python `prometheus_client`
# parsers. `make bench-core` runs the peer benchmarks and writes .build/bench/core.md.

TEST_TARGETS += test-core
BENCH_TARGETS += bench-core

CORE_TOOLS_VENV := $(BUILD)/venv-tools
CORE_BENCH_DATA := $(BUILD)/bench-data

.PHONY: test-core bench-core core-tools bench-observe-instructions

# promtool, and a venv whose Python has prometheus_client, for the conformance tests.
core-tools: $(CORE_TOOLS_VENV)/.installed
	scripts/apt-install prometheus

$(CORE_TOOLS_VENV)/.installed:
	scripts/apt-install python3 python3-venv
	rm -rf $(CORE_TOOLS_VENV)
	python3 -m venv $(CORE_TOOLS_VENV)
	$(CORE_TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check 'prometheus_client>=0.20'
	touch $@

# Every feature: `axum` (the layer and its vectors), `cli` and the system tests.
test-core: core-tools prometheus3
	PROMTOOL=promtool GDS_METRICS_TOOLS_PYTHON=$(CORE_TOOLS_VENV)/bin/python \
		cargo test -p gds-metrics --all-features

bench-core:
	mkdir -p $(BUILD)/bench $(CORE_BENCH_DATA)
	cargo bench -p gds-metrics --bench peers
	cargo bench -p gds-metrics --bench memory > $(CORE_BENCH_DATA)/core-memory.json
	scripts/bench-core-md $(CARGO_TARGET_DIR)/criterion $(CORE_BENCH_DATA)/core-memory.json > $(BUILD)/bench/core.md

# Instructions per histogram observation, ours and the two fastest peers (callgrind), which
# a busy machine does not disturb: writes .build/bench/observe-instructions.md.
CALLGRIND_OBSERVATIONS ?= 100000
bench-observe-instructions:
	scripts/apt-install valgrind
	scripts/callgrind-observe $(CALLGRIND_OBSERVATIONS)
