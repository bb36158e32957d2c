# The Python binding (bindings-python): the native module built into a virtual
# environment that is kept between runs, its type stubs checked against it
# (`mypy.stubtest`), then its pytest suite: the shared conformance vectors, a real gunicorn
# with four workers, uvicorn for the ASGI middleware, Django's test client, and
# `promtool check metrics` on a scrape, and the target store on a real S3 server (s3s-fs).

TEST_TARGETS += test-python
BENCH_TARGETS += bench-python

PY_VENV := $(BUILD)/venv-python
PY := $(PY_VENV)/bin/python
# gds-metrics 0.2.4, the library this binding replaces, shares the import name
# `gds_metrics`, so the benchmark runs it from a virtual environment of its own.
PY_PEER_VENV := $(BUILD)/venv-python-peer

.PHONY: test-python bench-python python-develop

# Rebuilt when this file changes, so a package added to the list reaches existing venvs.
$(PY_VENV)/.installed: mk/python.mk
	scripts/apt-install python3 python3-venv python3-pip prometheus
	python3 -m venv $(PY_VENV)
	$(PY) -m pip install -q --upgrade pip maturin flask gunicorn pytest mypy prometheus_client protobuf \
		uvicorn starlette fastapi django
	touch $@

$(PY_PEER_VENV)/.installed:
	scripts/apt-install python3 python3-venv python3-pip
	python3 -m venv $(PY_PEER_VENV)
	$(PY_PEER_VENV)/bin/python -m pip install -q "gds-metrics==0.2.4" flask
	touch $@

python-develop: $(PY_VENV)/.installed
	cd bindings-python && VIRTUAL_ENV=$(PY_VENV) $(PY_VENV)/bin/maturin develop --release --quiet

# s3s-fs (mk/s3.mk, which exports S3S_FS): tests/test_targets_s3.py starts it on loopback.
test-python: python-develop s3s-fs
	cargo clippy -p gds-metrics-python -- -D warnings
	cd bindings-python && $(PY) -m mypy.stubtest gds_metrics._native
	cd bindings-python && $(PY) -m pytest -q -p no:cacheprovider

bench-python: python-develop $(PY_PEER_VENV)/.installed
	scripts/apt-install valgrind
	$(PY) -m pip install -q --upgrade prometheus_client
	mkdir -p $(BUILD)/bench
	$(PY) bindings-python/bench/bench.py --peer-python $(PY_PEER_VENV)/bin/python --out $(BUILD)/bench/python.md
