# The service side (service/broker): the Open Service Broker `gds-prometheus-broker` and
# its target updater. Its tests run real processes on loopback: the broker, the updater,
# the Cloud Controller stand-in (demo/cf_api.py, Python's standard library only) and the
# S3 server (s3s-fs, mk/s3.mk), on a directory store and on S3.

TEST_TARGETS += test-broker

.PHONY: test-broker
test-broker: s3s-fs
	scripts/apt-install python3
	cargo clippy -p gds-prometheus-broker --all-targets -- -D warnings
	cargo test -p gds-prometheus-broker
