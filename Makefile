# gds-metrics: one Rust core, bindings for Python, Ruby and Java.
#
#   make test    every test of every language (CI runs exactly this)
#   make bench   the benchmarks; regenerates BENCHMARKS.md
#   make dist    every release artifact into dist/, each checked (mk/dist.mk)
#
# Each part of the project adds its own targets in mk/<part>.mk, appending to
# TEST_TARGETS and BENCH_TARGETS, so parts never edit each other's rules.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
# Build caches shared by every target and kept between runs.
export CARGO_TARGET_DIR ?= $(ROOT)/target
BUILD := $(ROOT)/.build

TEST_TARGETS :=
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help test bench lint deps
help:
	@sed -n 's/^#   //p' Makefile

test: lint $(TEST_TARGETS)
	@echo "make test: all passed"

bench: $(BENCH_TARGETS)
	scripts/benchmarks-md
	@echo "BENCHMARKS.md regenerated"

# The core on every feature; the bindings' crates are linted by their own targets.
lint:
	cargo fmt --all -- --check
	cargo clippy -p gds-metrics --all-targets --all-features -- -D warnings
