# Target files: the `gds-metrics-targets` CLI and a real Prometheus reading what the store
# writes. Their tests (`targets_prometheus`, `targets_cli`, `targets_crash`) run in
# test-core, which builds every feature; this fragment installs the Prometheus they need.

.PHONY: deps-targets
deps-targets:
	scripts/apt-install prometheus

test-core: deps-targets
