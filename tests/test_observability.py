"""Observability: the pinned kube-prometheus-stack, the DCGM scrape, an alert for each GPU
and serving condition with PromQL that parses, dashboards that are valid JSON with the
panels expected, and every custom object applied after the chart that defines its CRD."""

import json
import re

import kubernetes_validate
import promql_parser
import pytest

from components.catalog import catalog
from components.observability.resources import gpus_per_instance
from components.observability.rules import CRITICAL_XIDS, gpu_rules, on_pool, prometheus_rules, serving_rules
from components.observability.values import (
    DASHBOARDS,
    chart_values,
    dashboard_config_maps,
    dashboards,
    dcgm_service_monitor,
    prometheus_url,
    storage_class,
)
from components.spec import load_spec
from components.spec.observability import Alerts, ObservabilitySpec
from tests.test_inference_spec import cfg

K8S = f"{catalog().recipe.default_kubernetes_version}.0"
GPUS = {"g6e.12xlarge": 4, "p5.48xlarge": 8}


def by_name(rules):
    return {r["alert"]: r for r in rules}


def parse(expr: str):
    # Grafana variables are not PromQL: give them a value before parsing.
    return promql_parser.parse(expr.replace("$pool", "a").replace("$service", "a"))


def test_every_gpu_health_condition_has_an_alert():
    rules = by_name(gpu_rules(Alerts(), GPUS))
    assert "DCGM_FI_DEV_XID_ERRORS" in rules["GpuXidError"]["expr"]
    for xid in CRITICAL_XIDS:
        assert f"DCGM_FI_DEV_XID_ERRORS == {xid})" in rules["GpuXidCritical"]["expr"]
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in rules["GpuEccDoubleBitErrors"]["expr"]
    assert "DCGM_FI_DEV_ROW_REMAP_FAILURE" in rules["GpuRowRemapFailure"]["expr"]
    assert "DCGM_FI_DEV_CLOCKS_EVENT_REASONS / 64" in rules["GpuThermalThrottling"]["expr"]
    assert rules["GpuTemperatureHigh"]["expr"] == on_pool("DCGM_FI_DEV_GPU_TEMP > 85")
    idle = rules["GpuPoolIdle"]["expr"]
    assert "max_over_time(DCGM_FI_DEV_GPU_UTIL[240m]) < 5" in idle and "count by (label_aidc_io_pool)" in idle


def test_missing_gpu_alert_per_instance_type_uses_the_catalog_count():
    rules = by_name(gpu_rules(Alerts(), gpus_per_instance(load_spec(cfg()))))
    expr = rules["GpuNodeMissingGpusG6e12xlarge"]["expr"]
    assert catalog().instance("g6e.12xlarge").gpu_count == 4
    assert 'label_node_kubernetes_io_instance_type="g6e.12xlarge"} < 4)' in expr
    assert "unless on (node)" in expr  # a node with no nvidia.com/gpu at all


def test_thresholds_come_from_the_spec():
    rules = by_name(gpu_rules(Alerts(idleGpuHours=1.5, gpuTemperatureCelsius=80), {}))
    assert "[90m]" in rules["GpuPoolIdle"]["expr"]
    assert rules["GpuTemperatureHigh"]["expr"] == on_pool("DCGM_FI_DEV_GPU_TEMP > 80")
    serving = by_name(serving_rules(Alerts(errorRate=0.02, latencyP95Seconds=12), "inference"))
    assert "> 0.02" in serving["InferenceErrorRateHigh"]["expr"]
    assert serving["InferenceLatencyHigh"]["expr"].endswith("> 12")


def test_serving_alerts_read_vllm_histograms():
    rules = by_name(serving_rules(Alerts(), "inference"))
    assert set(rules) == {"InferenceErrorRateHigh", "InferenceQueueTimeHigh", "InferenceLatencyHigh",
                          "InferenceServiceDown"}
    assert 'histogram_quantile(0.95, sum by (namespace, service, le) (rate(vllm:request_queue_time_seconds_bucket' \
           '{namespace="inference"}[5m])))' in rules["InferenceQueueTimeHigh"]["expr"]
    assert "vllm:e2e_request_latency_seconds_bucket" in rules["InferenceLatencyHigh"]["expr"]
    assert 'status="5xx"' in rules["InferenceErrorRateHigh"]["expr"]


def test_every_rule_expression_parses():
    objs = prometheus_rules(Alerts(), GPUS, "inference", "monitoring")
    exprs = [r["expr"] for o in objs for g in o["spec"]["groups"] for r in g["rules"]]
    assert len(exprs) == 10 + 2 + 4
    for expr in exprs:
        parse(expr)
    with pytest.raises(ValueError):
        parse("sum(rate(DCGM_FI_DEV_GPU_UTIL[5m])")  # the parser does reject broken PromQL


def test_rules_have_durations_severities_and_text():
    for o in prometheus_rules(Alerts(), GPUS, "inference", "monitoring"):
        for rule in o["spec"]["groups"][0]["rules"]:
            assert re.fullmatch(r"\d+[smh]", rule["for"])
            assert rule["labels"]["severity"] in ("info", "warning", "critical")
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]


EXPECTED_PANELS = {
    "gpus": {"GPU utilization by pool (%)", "XID errors (last code)", "GPU temperature (C)",
             "Allocatable GPUs per node"},
    "training": {"GPU utilization per job pod (%)", "EFA transmit (bytes/s)", "Queued and admitted workloads (Kueue)"},
    "energy": {"Facility energy per namespace (kWh/day)", "Facility energy per job (kWh/day)",
               "Facility energy per model server (kWh/day)", "Carbon per namespace (kgCO2e/day)"},
    "inference": {"Requests running / waiting", "p95 end-to-end latency (s)", "p95 queue time (s)",
                  "Error rate (5xx share)"},
}


@pytest.mark.parametrize("stem", sorted(EXPECTED_PANELS))
def test_dashboards_are_valid_json_with_the_expected_panels(stem):
    board = json.loads((DASHBOARDS / f"{stem}.json").read_text())
    titles = {p["title"] for p in board["panels"]}
    assert EXPECTED_PANELS[stem] <= titles
    assert board["uid"] == f"aidc-{stem}" and len({p["id"] for p in board["panels"]}) == len(board["panels"])
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            parse(target["expr"])


def test_dashboard_config_maps_carry_the_sidecar_label():
    cms = dashboard_config_maps("monitoring")
    assert sorted(cm["metadata"]["name"] for cm in cms) == [f"aidc-dashboard-{s}" for s in sorted(dashboards())]
    for cm in cms:
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        kubernetes_validate.validate(cm, K8S, strict=True)
        (body,) = cm["data"].values()
        json.loads(body)


def test_storage_class_validates_and_keeps_data():
    sc = storage_class()
    kubernetes_validate.validate(sc, K8S, strict=True)
    assert sc["reclaimPolicy"] == "Retain" and sc["parameters"]["encrypted"] == "true"


def test_chart_values_follow_the_spec():
    obs = ObservabilitySpec(retention="30d", storageGiB=200)
    values = chart_values(obs, "aidc-gp3-encrypted")
    prom = values["prometheus"]["prometheusSpec"]
    assert prom["retention"] == "30d" and prom["retentionSize"] == "180GB"
    assert prom["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "200Gi"
    assert prom["ruleSelectorNilUsesHelmValues"] is False
    assert values["crds"]["enabled"] is True
    assert values["grafana"]["adminPassword"] == ""  # never the chart's well-known default
    assert "storageClassName" not in chart_values(obs, None)["prometheus"]["prometheusSpec"]["storageSpec"][
        "volumeClaimTemplate"]["spec"]


def test_dcgm_service_monitor_targets_the_gpu_operator_exporter():
    sm = dcgm_service_monitor("monitoring", "gpu-operator")["spec"]
    assert sm["selector"] == {"matchLabels": {"app": "nvidia-dcgm-exporter"}}
    assert sm["namespaceSelector"] == {"matchNames": ["gpu-operator"]}
    assert sm["endpoints"][0]["port"] == "gpu-metrics" and sm["endpoints"][0]["honorLabels"] is True


def test_prometheus_url_matches_the_release_name():
    assert prometheus_url("monitoring") == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"


# --- in the planned stacks ---------------------------------------------------------------

def test_prod_installs_the_pinned_chart_and_orders_crds_first(plan_of):
    plan = plan_of("prod")
    releases = [r for r in plan.resources if r.type == "kubernetes:helm.sh/v3:Release"
                and r.inputs.get("chart") == "kube-prometheus-stack"]
    assert len(releases) == 1
    release = releases[0]
    assert release.inputs["version"] == catalog().chart("kube-prometheus-stack").version
    assert release.inputs["namespace"] == "monitoring"
    custom = [r for r in plan.resources if r.type.startswith("kubernetes:monitoring.coreos.com/")]
    kinds = sorted(r.type.rsplit(":", 1)[-1] for r in custom)
    assert kinds.count("PrometheusRule") == 3  # GPU health, serving, energy (recording rules)
    assert kinds.count("ServiceMonitor") == 1 + 2  # DCGM + one per prod model server
    for r in custom:
        if "aidc:observability" in r.urn:
            assert release.urn in r.dependencies, r.urn
        else:
            assert any(release.urn == d for d in r.dependencies), r.urn


def test_prod_alerts_cover_its_pools(plan_of):
    rules = [r for r in plan_of("prod").resources if r.type.endswith("PrometheusRule")]
    alerts = {a["alert"] for r in rules for g in r.inputs["spec"]["groups"] for a in g["rules"] if "alert" in a}
    assert {"GpuNodeMissingGpusP548xlarge", "GpuNodeMissingGpusG6e12xlarge", "GpuXidCritical", "GpuPoolIdle",
            "InferenceLatencyHigh"} <= alerts


def test_every_dcgm_field_the_rules_and_dashboards_read_is_collected():
    from components.observability.values import dcgm_fields

    used = set()
    texts = [r["expr"] for o in prometheus_rules(Alerts(), GPUS, "inference", "monitoring")
             for r in o["spec"]["groups"][0]["rules"]]
    texts += [t["expr"] for board in dashboards().values() for p in board["panels"] for t in p["targets"]]
    for text in texts:
        used |= set(DCGM_NAME.findall(text))
    assert {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_CLOCKS_EVENT_REASONS"} <= used
    assert used <= set(dcgm_fields())


# A DCGM field or dcgm-exporter counter name as it appears in PromQL, CSV or JSON text.
DCGM_NAME = re.compile(r"\bDCGM_(?:FI|EXP)_[A-Z0-9_]+\b")
# Prometheus types dcgm-exporter accepts in the collectors file (internal/pkg/counters/variables.go
# promMetricType, NVIDIA/dcgm-exporter 4.5.3-4.8.2).
EXPORTER_TYPES = {"gauge", "counter", "histogram", "summary", "label"}


def collectors_rows():
    """dcgm-metrics.csv read the way dcgm-exporter reads it: encoding/csv with '#' comments,
    each field trimmed of spaces, exactly three fields a row (counter_config.go ExtractCounters)."""
    import csv
    import io
    from pathlib import Path

    from components.observability.values import DCGM_METRICS_FILE
    text = (Path(__file__).resolve().parents[1] / "components" / "observability" / DCGM_METRICS_FILE).read_text()
    rows = [[f.strip(" ") for f in row] for row in csv.reader(
        io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#"))))]
    return [row for row in rows if row]


def test_every_dcgm_name_aidc_uses_is_one_the_pinned_exporter_knows(plan_of):
    fields = catalog().dcgm_fields
    rows = collectors_rows()
    for row in rows:
        assert len(row) == 3, f"dcgm-metrics.csv: {row} has {len(row)} fields, the exporter needs 3"
        assert row[1] in EXPORTER_TYPES, row
    names = {"dcgm-metrics.csv": {row[0] for row in rows}}
    rules = [r.inputs for r in plan_of("prod").resources if r.type.endswith("PrometheusRule")]
    rules += prometheus_rules(Alerts(), GPUS, "inference", "monitoring", gpus_per_pool={"dc1-h100": 8})
    names["components/observability/rules.py"] = set(DCGM_NAME.findall(json.dumps(rules)))
    for stem, board in dashboards().items():
        names[f"dashboards/{stem}.json"] = set(DCGM_NAME.findall(json.dumps(board)))
    unknown = {where: sorted(n for n in found if not fields.known(n)) for where, found in names.items()}
    assert not any(unknown.values()), f"not fields of dcgm-exporter {fields.exporter}: {unknown}"
    # Not vacuous: the thermal alert reads the clock-event bitmask, the GPU board several fields.
    assert "DCGM_FI_DEV_CLOCKS_EVENT_REASONS" in names["components/observability/rules.py"]
    assert len(names["dashboards/gpus.json"]) >= 8
    assert len(names["dcgm-metrics.csv"]) == len(rows)


def test_dcgm_field_list_is_for_the_pinned_gpu_operator():
    fields = catalog().dcgm_fields
    # The list is the default exporter of this chart version: a chart bump means re-reading it.
    assert fields.gpu_operator_chart == catalog().chart("gpu-operator").version
    assert fields.exporter.startswith(f"{fields.dcgm}-")
    # Field ids from go-dcgm v1.4601.1 const_fields.go: the renamed clock-event field, and the
    # old spelling aidc used, which is no name at all.
    assert fields.fields["DCGM_FI_DEV_CLOCKS_EVENT_REASONS"] == 112
    assert not fields.known("DCGM_FI_DEV_CLOCK_EVENT_REASONS")
    assert fields.legacy_fields["DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"] == 112
    assert fields.fields["DCGM_FI_DEV_THERMAL_VIOLATION"] == 241
    assert fields.legacy_fields["DCGM_FI_DEV_GPU_UTIL"] == 203
    assert not set(fields.fields) & set(fields.legacy_fields)


def test_violation_counters_are_documented_in_nanoseconds():
    # DCGM_FI_DEV_{POWER,THERMAL}_VIOLATION count nanoseconds (dcgm_fields.h, go-dcgm v1.4601.1).
    help_text = {row[0]: row[2] for row in collectors_rows()}
    for name in ("DCGM_FI_DEV_POWER_VIOLATION", "DCGM_FI_DEV_THERMAL_VIOLATION"):
        assert help_text[name].endswith("(ns).")


def test_gpu_operator_exporter_reads_the_shipped_field_list(plan_of):
    plan = plan_of("prod")
    op = [r for r in plan.resources if r.type == "kubernetes:helm.sh/v3:Release"
          and r.inputs.get("chart") == "gpu-operator"][0]
    dcgm = op.inputs["values"]["dcgmExporter"]
    assert dcgm["config"] == {"name": "aidc-dcgm-metrics"}
    assert dcgm["env"] == [{"name": "DCGM_EXPORTER_COLLECTORS", "value": "/etc/dcgm-exporter/dcgm-metrics.csv"}]
    cms = [r for r in plan.resources if r.type == "kubernetes:core/v1:ConfigMap"
           and r.inputs["metadata"]["name"] == "aidc-dcgm-metrics"]
    assert cms[0].inputs["metadata"]["namespace"] == "gpu-operator"
    assert op.urn in cms[0].dependencies


def test_gpu_alerts_name_the_node_and_the_pool():
    """Every per-GPU and per-node alert carries `node` (DCGM's relabelled series, kube-state-metrics)
    and `pool` (copied from the node's aidc.io/pool label), and says both in its summary."""
    rules = by_name(gpu_rules(Alerts(), GPUS))
    for name, rule in rules.items():
        if name == "GpuPoolIdle":  # one alert per pool, labelled by it
            continue
        expr = rule["expr"]
        assert expr.startswith("label_replace(") and expr.endswith(
            ', "pool", "$1", "label_aidc_io_pool", "(.*)")'), name
        assert "group_left (" in expr and "label_aidc_io_pool" in expr, name
        assert "{{ $labels.node }}" in rule["annotations"]["summary"], name
        assert "{{ $labels.pool }}" in rule["annotations"]["summary"], name
        parse(expr)
    hw = rules["GpuNodeHardwareUnhealthy"]
    assert 'kube_node_status_condition{condition="AcceleratedHardwareReady",status="false"} == 1' in hw["expr"]
    assert hw["labels"]["severity"] == "critical"
