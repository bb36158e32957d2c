# Multi-process aggregation: its forked-worker tests run in test-core (plain `cargo test`).
# The benchmark compares multi-process mode with in-memory mode, and its scrapes with
# prometheus_client's multi-process mode, in the same run.

BENCH_TARGETS += bench-multiprocess

MP_PEER_VENV := $(BUILD)/venv-multiprocess-peer

.PHONY: bench-multiprocess deps-multiprocess-peer
deps-multiprocess-peer:
	scripts/apt-install python3 python3-venv python3-pip
	test -x $(MP_PEER_VENV)/bin/python || python3 -m venv $(MP_PEER_VENV)
	$(MP_PEER_VENV)/bin/pip install --quiet "prometheus_client==0.21.1"

bench-multiprocess: deps-multiprocess-peer
	GDS_MP_PEER_PYTHON=$(MP_PEER_VENV)/bin/python cargo bench -p gds-metrics --bench multiprocess
