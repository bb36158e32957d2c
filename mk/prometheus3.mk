# Prometheus 3.16 and its promtool, built from source once with `go install` (about nine
# minutes on two cores, then cached in .build/tools/prometheus3) for the system tests of
# the Prometheus 3 formats (core/tests/system/prometheus3_system.rs). `make -j` builds it beside
# the other tools; `make prometheus3` builds it alone, early.

PROMETHEUS3_VERSION := v0.316.0
PROMETHEUS3_DIR := $(BUILD)/tools/prometheus3
export PROMETHEUS3_DIR

.PHONY: prometheus3
prometheus3: $(PROMETHEUS3_DIR)/.$(PROMETHEUS3_VERSION)

$(PROMETHEUS3_DIR)/.$(PROMETHEUS3_VERSION):
	mkdir -p $(PROMETHEUS3_DIR)
	GOBIN=$(PROMETHEUS3_DIR) go install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS3_VERSION)
	GOBIN=$(PROMETHEUS3_DIR) go install github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS3_VERSION)
	touch $@
