"""Alerting rules as data: PrometheusRule objects for GPU health and for model serving,
generated from the stack's thresholds and the catalog's GPU count per instance type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.spec.observability import Alerts

# Label kube-state-metrics puts on kube_node_labels for the pool label (aidc.io/pool) and the
# instance type, once allowed through `metricLabelsAllowlist` (see values.py).
POOL = "label_aidc_io_pool"
INSTANCE_TYPE = "label_node_kubernetes_io_instance_type"
# XIDs that mean the GPU or its memory needs a reset or a replacement, not a code fix:
# 48 double-bit ECC, 63/64 row remap recorded/failed, 74 NVLink, 79 fallen off the bus,
# 92 high single-bit ECC rate, 94/95 contained/uncontained ECC, 119/120 GSP errors.
CRITICAL_XIDS = (48, 63, 64, 74, 79, 92, 94, 95, 119, 120)
# Bits of DCGM_FI_DEV_CLOCKS_EVENT_REASONS that mean the clocks fell for heat:
# 0x20 software thermal slowdown, 0x40 hardware thermal slowdown (DCGM_CLOCKS_EVENT_REASON_SW_THERMAL
# and _HW_THERMAL in dcgm_fields.h, NVIDIA/go-dcgm v1.4601.1). Field names: catalog dcgm_fields.yaml.
THERMAL_BITS = (32, 64)
# The node condition the EKS node monitoring agent sets False on a GPU fault it deems fatal
# (aws/eks-node-monitoring-agent v1.7.0 pkg/conditions/conditions.go); kube-state-metrics
# exports every node condition as kube_node_status_condition.
ACCELERATED_HARDWARE = "AcceleratedHardwareReady"


def pool_label(expr: str) -> str:
    """`expr` with kube-state-metrics' pool label copied to a plain `pool` label."""
    return f'label_replace({expr}, "pool", "$1", "{POOL}", "(.*)")'


def on_pool(expr: str) -> str:
    """The per-GPU (or per-node) series of `expr`, each also labelled `pool` with its node's pool,
    so an alert names the node and the pool it concerns (routing and silences by pool). The
    join multiplies by kube_node_labels (always 1): values are unchanged."""
    return pool_label(f"({expr}) * on (node) group_left ({POOL}) kube_node_labels")


def _rule(alert: str, expr: str, for_: str, severity: str, summary: str, description: str) -> dict[str, Any]:
    return {"alert": alert, "expr": expr, "for": for_, "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": description}}


def _hours(h: float) -> str:
    return f"{int(h * 60)}m"


def _missing_gpus(label: str, value: str, count: int, slug: str) -> dict[str, Any]:
    """A node selected by kube_node_labels{label=value} advertises fewer than `count` GPUs."""
    joined = label if label == POOL else f"{label}, {POOL}"
    allocatable = (f'max by (node) (kube_node_status_allocatable{{resource="nvidia_com_gpu"}}) '
                   f'* on (node) group_left ({joined}) kube_node_labels{{{label}="{value}"}}')
    missing = (f'kube_node_labels{{{label}="{value}"}} * 0 unless on (node) '
               f'kube_node_status_allocatable{{resource="nvidia_com_gpu"}}')
    name = "".join(p.capitalize() for p in slug.split("-"))
    what = value if label == INSTANCE_TYPE else f"pool {value}"
    return _rule(
        f"GpuNodeMissingGpus{name}", pool_label(f"({allocatable} < {count}) or ({missing})"), "15m", "critical",
        f"{{{{ $labels.node }}}} ({what}, pool {{{{ $labels.pool }}}}) advertises {{{{ $value }}}} of its {count} GPUs",
        "A GPU fell off the bus or the device plugin lost it; pods asking for all GPUs cannot land here.")


def gpu_rules(alerts: "Alerts", gpus_per_instance: Mapping[str, int],
              gpus_per_pool: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """GPU health from DCGM and kube-state-metrics. `gpus_per_instance` holds the EC2 instance
    types of the stack's pools with the GPU count the catalog gives them; `gpus_per_pool` the
    existing (on-prem) pools with the GPU count of their server shape."""
    xid = "DCGM_FI_DEV_XID_ERRORS"
    critical = " or ".join(f"({xid} == {x})" for x in CRITICAL_XIDS)
    thermal = " or ".join(f"(floor(DCGM_FI_DEV_CLOCKS_EVENT_REASONS / {b}) % 2 == 1)" for b in THERMAL_BITS)
    rules = [
        _rule("GpuXidError", on_pool(f"max_over_time({xid}[10m]) > 0"), "0m", "warning",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} (pool {{ $labels.pool }}) reported XID {{ $value }}",
              "DCGM saw an XID error. Application XIDs (13, 31, 43) point at the workload; others at the GPU."),
        _rule("GpuXidCritical", on_pool(critical), "0m", "critical",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} (pool {{ $labels.pool }}): hardware XID {{ $value }}",
              "This XID means the GPU needs a reset or the node a replacement; cordon and drain it."),
        _rule("GpuEccDoubleBitErrors", on_pool("increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[15m]) > 0"), "0m", "critical",
              "Uncorrectable ECC errors on GPU {{ $labels.gpu }} of {{ $labels.node }} (pool {{ $labels.pool }})",
              "Double-bit ECC errors corrupt results; drain the node and reset the GPU."),
        _rule("GpuRowRemapFailure", on_pool("DCGM_FI_DEV_ROW_REMAP_FAILURE > 0"), "0m", "critical",
              "Row remapping failed on GPU {{ $labels.gpu }} of {{ $labels.node }} (pool {{ $labels.pool }})",
              "The GPU ran out of spare memory rows; it must be replaced (RMA)."),
        _rule("GpuRowRemapPending", on_pool("increase(DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS[1h]) > 0"), "0m", "warning",
              "GPU {{ $labels.gpu }} of {{ $labels.node }} (pool {{ $labels.pool }}) remapped rows after uncorrectable errors",
              "A remap takes effect after a GPU reset; schedule one when the node is drained."),
        _rule("GpuThermalThrottling", on_pool(thermal), "10m", "warning",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} (pool {{ $labels.pool }}) is slowing its clocks for heat",
              "Thermal slowdown for 10 minutes: check cooling; throughput of every job on the node drops."),
        _rule("GpuTemperatureHigh", on_pool(f"DCGM_FI_DEV_GPU_TEMP > {alerts.gpu_temperature_celsius}"), "15m", "warning",
              "GPU {{ $labels.gpu }} on {{ $labels.node }} (pool {{ $labels.pool }}) is at {{ $value }} C",
              f"Above {alerts.gpu_temperature_celsius} C for 15 minutes."),
        _rule("GpuNodeHardwareUnhealthy", on_pool(
            f'kube_node_status_condition{{condition="{ACCELERATED_HARDWARE}",status="false"}} == 1'), "0m", "critical",
              "{{ $labels.node }} (pool {{ $labels.pool }}): the node monitoring agent reports its GPUs unhealthy",
              f"{ACCELERATED_HARDWARE} is False (a fatal XID, double-bit ECC, NVLink or fabric error, a lost GPU). "
              "Node auto repair replaces or reboots the node after 10 minutes; on an existing cluster cordon and "
              "drain it (docs/resilience.md)."),
        _rule("GpuExporterDown", on_pool('up{job=~".*dcgm-exporter.*"} == 0'), "10m", "warning",
              "DCGM exporter on {{ $labels.node }} (pool {{ $labels.pool }}) is down", "GPU health of this node is not being watched."),
    ]
    for itype, count in sorted(gpus_per_instance.items()):
        rules.append(_missing_gpus(INSTANCE_TYPE, itype, count, itype.replace(".", "-")))
    # The site's servers carry no instance type aidc knows: they are found by their pool label.
    for pool, count in sorted((gpus_per_pool or {}).items()):
        rules.append(_missing_gpus(POOL, pool, count, f"pool-{pool}"))
    idle = (f"count by ({POOL}) ((max_over_time(DCGM_FI_DEV_GPU_UTIL[{_hours(alerts.idle_gpu_hours)}]) "
            f"< {alerts.idle_utilization_percent:g}) * on (node) group_left ({POOL}) kube_node_labels{{{POOL}!=\"\"}}) "
            f"> 0")
    rules.append(_rule(
        "GpuPoolIdle", idle, "0m", "info",
        f"{{{{ $value }}}} GPUs of pool {{{{ $labels.{POOL} }}}} idle for {alerts.idle_gpu_hours:g}h",
        f"No work above {alerts.idle_utilization_percent:g}% utilization for {alerts.idle_gpu_hours:g} hours: "
        "these GPUs are paid for and unused; shrink the pool or give it work."))
    return rules


def serving_rules(alerts: "Alerts", namespace: str) -> list[dict[str, Any]]:
    """Serving health from the vLLM (and FastAPI) metrics every model server exposes."""
    ns = f'namespace="{namespace}"'
    by = "namespace, service"

    def p95(metric: str) -> str:
        return (f"histogram_quantile(0.95, sum by ({by}, le) "
                f"(rate({metric}_bucket{{{ns}}}[5m])))")

    errors = (f'sum by ({by}) (rate(http_requests_total{{{ns},status="5xx"}}[5m])) '
              f"/ sum by ({by}) (rate(http_requests_total{{{ns}}}[5m]))")
    triton_errors = (f"sum by ({by}) (rate(nv_inference_request_failure{{{ns}}}[5m])) / "
                     f"(sum by ({by}) (rate(nv_inference_request_success{{{ns}}}[5m])) "
                     f"+ sum by ({by}) (rate(nv_inference_request_failure{{{ns}}}[5m])))")
    return [
        _rule("InferenceErrorRateHigh", f"({errors}) > {alerts.error_rate:g} or ({triton_errors}) > {alerts.error_rate:g}",
              "10m", "critical",
              "{{ $labels.service }} answers {{ $value | humanizePercentage }} of requests with errors",
              f"More than {alerts.error_rate:.0%} of requests failed over 10 minutes."),
        _rule("InferenceQueueTimeHigh",
              f"{p95('vllm:request_queue_time_seconds')} > {alerts.queue_time_p95_seconds:g}", "10m", "warning",
              "{{ $labels.service }}: p95 queue time {{ $value | humanizeDuration }}",
              "Requests wait for a slot: the autoscaler is at its maximum or replicas are still loading."),
        _rule("InferenceLatencyHigh",
              f"{p95('vllm:e2e_request_latency_seconds')} > {alerts.latency_p95_seconds:g}", "10m", "warning",
              "{{ $labels.service }}: p95 latency {{ $value | humanizeDuration }}",
              f"p95 end-to-end latency above {alerts.latency_p95_seconds:g} s for 10 minutes."),
        _rule("InferenceServiceDown", f"sum by ({by}) (up{{{ns}}}) == 0", "5m", "critical",
              "No replica of {{ $labels.service }} is being scraped",
              "Every replica is down or still loading; clients get errors."),
    ]


def prometheus_rules(alerts: "Alerts", gpus_per_instance: Mapping[str, int], inference_namespace: str | None,
                     namespace: str, gpus_per_pool: Mapping[str, int] | None = None,
                     labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Rules for what the stack runs: GPU health when it has GPU pools, serving health when
    it has model servers (`inference_namespace` None: none)."""
    meta_labels = dict(labels or {"app.kubernetes.io/managed-by": "aidc", "release": "kube-prometheus-stack"})

    def rule(name: str, group: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
        return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                "metadata": {"name": name, "namespace": namespace, "labels": dict(meta_labels)},
                "spec": {"groups": [{"name": group, "interval": "1m", "rules": rules}]}}

    out = []
    if gpus_per_instance or gpus_per_pool:
        out.append(rule("aidc-gpu-health", "aidc.gpu", gpu_rules(alerts, gpus_per_instance, gpus_per_pool)))
    if inference_namespace is not None:
        out.append(rule("aidc-serving", "aidc.serving", serving_rules(alerts, inference_namespace)))
    return out
