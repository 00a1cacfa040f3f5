"""Energy you can see: recording rules that turn each GPU's DCGM energy counter into kWh per
day per namespace (team), per job and per model server, measured at the GPU and at the
facility (x server overhead x PUE), and the same in kgCO2e at the stack's grid intensity.

DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION is a counter of millijoules since the driver loaded
(dcgm-exporter's default-counters.csv: "Total energy consumption since boot (in mJ)"; field
156 in catalog dcgm_fields.yaml); 1 kWh = 3.6e9 mJ. The exporter labels each GPU's series with
the namespace and pod of the workload holding it; kube-state-metrics' owner series map a pod
to its Job, and a model server's pod through its ReplicaSet to its Deployment."""

from __future__ import annotations

from typing import Any

ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
MJ_PER_KWH = 3.6e9
WINDOW = "1d"


def _by_job(expr: str) -> str:
    owner = 'max by (namespace, pod, owner_name) (kube_pod_owner{owner_kind="Job"})'
    return (f'label_replace(sum by (namespace, owner_name) ({expr} * on (namespace, pod) group_left (owner_name) '
            f'{owner}), "job_name", "$1", "owner_name", "(.*)")')


def _by_server(expr: str) -> str:
    """Pod -> ReplicaSet -> Deployment: the model server a GPU's energy went to."""
    rs = 'max by (namespace, pod, owner_name) (kube_pod_owner{owner_kind="ReplicaSet"})'
    deploy = 'max by (namespace, replicaset, owner_name) (kube_replicaset_owner{owner_kind="Deployment"})'
    per_rs = (f'label_replace({expr} * on (namespace, pod) group_left (owner_name) {rs}, '
              f'"replicaset", "$1", "owner_name", "(.*)")')
    return (f'label_replace(sum by (namespace, owner_name) ({per_rs} * on (namespace, replicaset) '
            f'group_left (owner_name) {deploy}), "server", "$1", "owner_name", "(.*)")')


def energy_rules(inference_namespace: str, overhead: float, pue: float,
                 g_per_kwh: float | None) -> list[dict[str, Any]]:
    """kWh per day: measured at the GPUs, then at the facility; kgCO2e when an intensity is known."""
    gpu_kwh = f'(increase({ENERGY}{{pod!=""}}[{WINDOW}]) / {MJ_PER_KWH:g})'
    serving = f'(increase({ENERGY}{{namespace="{inference_namespace}",pod!=""}}[{WINDOW}]) / {MJ_PER_KWH:g})'
    factor = round(overhead * pue, 6)
    rules: list[dict[str, Any]] = [
        {"record": "aidc:gpu_power_kw:rate5m",
         "expr": f"sum by (node, gpu, namespace, pod) (rate({ENERGY}[5m])) / 1e6"},
        {"record": "aidc:namespace_gpu_energy_kwh:increase1d",
         "expr": f"sum by (namespace) {gpu_kwh}"},
        {"record": "aidc:job_gpu_energy_kwh:increase1d", "expr": _by_job(gpu_kwh)},
        {"record": "aidc:model_server_gpu_energy_kwh:increase1d", "expr": _by_server(serving)},
    ]
    for scope in ("namespace", "job", "model_server"):
        rules.append({"record": f"aidc:{scope}_facility_energy_kwh:increase1d",
                      "expr": f"aidc:{scope}_gpu_energy_kwh:increase1d * {factor:g}",
                      "labels": {"server_overhead": f"{overhead:g}", "pue": f"{pue:g}"}})
    if g_per_kwh is not None:
        for scope in ("namespace", "job", "model_server"):
            rules.append({"record": f"aidc:{scope}_carbon_kg:increase1d",
                          "expr": f"aidc:{scope}_facility_energy_kwh:increase1d * {g_per_kwh / 1000:g}",
                          "labels": {"g_co2e_per_kwh": f"{g_per_kwh:g}"}})
    return rules


def energy_rule_object(namespace: str, labels: dict[str, str], inference_namespace: str, overhead: float,
                       pue: float, g_per_kwh: float | None) -> dict[str, Any]:
    """The PrometheusRule: its own object and group, beside the alerting rules."""
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "aidc-energy", "namespace": namespace, "labels": dict(labels)},
            "spec": {"groups": [{"name": "aidc.energy", "interval": "5m",
                                 "rules": energy_rules(inference_namespace, overhead, pue, g_per_kwh)}]}}
