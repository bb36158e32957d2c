# The Prometheus service's own monitoring (service/monitoring/): rules with their
# `promtool test rules` cases on Prometheus 2.42 (Debian) and 3.16 (mk/prometheus3.mk), the
# Alertmanager routing with `amtool` cases, a check that every alert has promtool cases that
# fire it and keep it quiet and a runbook section its runbook_url leads to (check-coverage),
# and the Grafana dashboards regenerated from their generator and compared with the
# committed JSON. The cluster, routing, dead man's switch and dashboard-query tests against
# real servers run in test-e2e (mk/demo.mk).
#
#   make test-monitoring   the checks above (part of `make test`)
#   make dashboards        regenerate service/monitoring/dashboards/*.json

TEST_TARGETS += test-monitoring

MONITORING := service/monitoring
MONITORING_VENV := $(BUILD)/monitoring/venv
# Grafana's own builder library for dashboards as code; the epoch picks the 11.6 line.
GRAFANA_SDK := grafana-foundation-sdk==1769699379!11.6.0

.PHONY: test-monitoring dashboards deps-monitoring
deps-monitoring: $(MONITORING_VENV)/.installed
	scripts/apt-install prometheus prometheus-alertmanager

$(MONITORING_VENV)/.installed:
	python3 -m venv $(MONITORING_VENV)
	$(MONITORING_VENV)/bin/pip install -q '$(GRAFANA_SDK)' 'pyyaml>=6'
	touch $@

test-monitoring: deps-monitoring prometheus3
	promtool check rules $(MONITORING)/rules/service.yml $(MONITORING)/rules/tenant.yml
	cd $(MONITORING)/rules && promtool test rules service_test.yml tenant_test.yml
	$(PROMETHEUS3_DIR)/promtool check rules $(MONITORING)/rules/service.yml $(MONITORING)/rules/tenant.yml
	cd $(MONITORING)/rules && $(PROMETHEUS3_DIR)/promtool test rules service_test.yml tenant_test.yml tenant_native_test.yml
	$(MONITORING_VENV)/bin/python $(MONITORING)/check-coverage
	$(MONITORING)/test-routes
	$(MONITORING_VENV)/bin/python $(MONITORING)/dashboards.py --check

dashboards: deps-monitoring
	$(MONITORING_VENV)/bin/python $(MONITORING)/dashboards.py
