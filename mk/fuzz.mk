# Fuzzing (core/fuzz): libFuzzer through cargo-fuzz, every target for a bounded time, from
# the seed corpora committed in core/fuzz/corpus/<target>/.
#
#   make test-fuzz                 every target for FUZZ_SECONDS each (part of `make test`)
#   make fuzz FUZZ_SECONDS=600     the same, longer
#
# cargo-fuzz passes unstable flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the
# machine's stable toolchain accept them, so no nightly toolchain is needed. New inputs
# found go to .build/fuzz/corpus/<target>/ (kept between runs, never into the repository),
# crashes to .build/fuzz/artifacts/<target>/.

TEST_TARGETS += test-fuzz

FUZZ_TOOLS := $(BUILD)/tools
CARGO_FUZZ := $(FUZZ_TOOLS)/bin/cargo-fuzz
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_TARGETS := accept accept_encoding authorization vcap_application endpoint target_file multiprocess_file
FUZZ_SECONDS ?= 12
FUZZ_WORK := $(BUILD)/fuzz
FUZZ_ENV := RUSTC_BOOTSTRAP=1

.PHONY: test-fuzz fuzz fuzz-build
$(CARGO_FUZZ):
	cargo install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION) --root $(FUZZ_TOOLS)

fuzz-build: $(CARGO_FUZZ)
	cd core && $(FUZZ_ENV) $(CARGO_FUZZ) fuzz build

test-fuzz fuzz: fuzz-build
	for target in $(FUZZ_TARGETS); do \
		scripts/fuzz-run "$(CARGO_FUZZ)" "$$target" "$(FUZZ_SECONDS)" "$(FUZZ_WORK)"; \
	done
	@echo "fuzz: $(words $(FUZZ_TARGETS)) targets, $(FUZZ_SECONDS) s each, no crash"
