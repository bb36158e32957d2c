# The whole scrape path on loopback (demo/): tenant apps in every language, the router and
# forward proxy (nginx), target files in S3 (s3s-fs, mk/s3.mk) synced into four Prometheus
# servers (two replicas of Debian's 2.42, and two 3.16 from mk/prometheus3.mk: protobuf with
# native histograms, OpenMetrics with UTF-8 names), and three meshed Alertmanagers with the
# service's rules and routing (service/monitoring/, mk/monitoring.mk) notifying webhook
# receivers and a dead man's switch stand-in.
#
#   make demo       start it, print what Prometheus sees, stay up until Ctrl-C
#   make test-e2e   the end-to-end test (part of `make test`)
#   make bench-e2e  wrk against every app's endpoint (part of `make bench`)

TEST_TARGETS += test-e2e
BENCH_TARGETS += bench-e2e

DEMO_PYTHON := $(BUILD)/demo/venv/bin/python

.PHONY: demo test-e2e bench-e2e
demo: s3s-fs prometheus3
	python3 demo/run.py

test-e2e: s3s-fs prometheus3
	python3 demo/run.py --prepare
	$(DEMO_PYTHON) -m pytest -q -p no:cacheprovider demo/tests

bench-e2e: s3s-fs prometheus3
	python3 demo/load.py
