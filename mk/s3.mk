# S3 against a real S3 server on loopback (`s3s-fs`, built once with cargo and kept under
# .build/): the core's S3 target store and `gds-metrics-targets sync` (`targets_s3`, run by
# test-core with every feature), the upload exporter watching buckets, and the demo.
#
#   make s3s-fs           install the S3 server the tests and the demo start

TEST_TARGETS += test-exporter-s3

# 0.14.1 builds with this machine's Rust (0.17 needs 1.96).
S3S_FS_VERSION := 0.14.1
S3S_FS_ROOT := $(BUILD)/tools/s3s-fs-$(S3S_FS_VERSION)
export S3S_FS := $(S3S_FS_ROOT)/bin/s3s-fs

.PHONY: s3s-fs test-exporter-s3 test-targets-s3
s3s-fs: $(S3S_FS)

$(S3S_FS):
	CARGO_TARGET_DIR=$(BUILD)/tools/s3s-fs-target cargo install s3s-fs@$(S3S_FS_VERSION) \
		--features binary --locked --root $(S3S_FS_ROOT)
	rm -rf $(BUILD)/tools/s3s-fs-target

test-core: $(S3S_FS)

# The upload exporter against S3 (its other tests run in test-endpoint).
test-exporter-s3: $(S3S_FS)
	cargo test -p upload-exporter --features system-tests --test s3
	cargo clippy -p upload-exporter --all-features --all-targets -- -D warnings

# Only the core's S3 tests, for working on them (test-core runs them too).
test-targets-s3: $(S3S_FS)
	cargo test -p gds-metrics --features cli,s3,system-tests --test system targets_s3::
