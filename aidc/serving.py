"""What a plan serves, read from the plan document alone (ours or `pulumi preview --json`):
each model server with its GPUs, autoscaler and disruption budget, and the alert rules."""

from __future__ import annotations

from typing import Any

from aidc.plan import Plan, Resource

SERVICE_TYPE = "aidc:inference:InferenceService"
WORKLOADS = ("Deployment", "LeaderWorkerSet", "InferenceService")


def _kind(res: Resource) -> str:
    return res.type.rsplit(":", 1)[-1]


def _gpus(workload: dict[str, Any]) -> str:
    """GPUs of one replica: of its pod, or of every pod of a LeaderWorkerSet group."""
    spec = workload.get("spec", {})
    nodes = 1
    if "predictor" in spec:
        pod = spec["predictor"]
    elif "leaderWorkerTemplate" in spec:
        pod = spec["leaderWorkerTemplate"]["workerTemplate"]["spec"]
        nodes = int(spec["leaderWorkerTemplate"].get("size", 1))
    else:
        pod = spec.get("template", {}).get("spec", {})
    limits = (pod.get("containers") or [{}])[0].get("resources", {}).get("limits", {})
    per_pod = limits.get("nvidia.com/gpu")
    if per_pod is None:
        return "?"
    return f"{int(per_pod) * nodes} ({nodes} nodes)" if nodes > 1 else str(per_pod)


def server_lines(plan: Plan) -> list[str]:
    """One line per model server: name, engine, pool, GPUs per replica, replicas, scaler, budget."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for res in plan.resources:
        if SERVICE_TYPE in res.type_chain[:-1] and res.custom:
            groups.setdefault(res.parent, {})[_kind(res)] = res.inputs
    lines = []
    for parent in sorted(groups):
        objs = groups[parent]
        workload = next((objs[k] for k in WORKLOADS if k in objs), {})
        meta = workload.get("metadata", {})
        labels = meta.get("labels", {})
        so = objs.get("ScaledObject", {}).get("spec")
        if so:
            trig = so["triggers"][0]["metadata"]
            scale = (f"KEDA {so['minReplicaCount']:g}..{so['maxReplicaCount']:g} on "
                     f"{trig['query'].split('{')[0].removeprefix('sum(')} > {trig['threshold']}/replica")
        else:
            spec = workload.get("spec", {})
            scale = f"fixed {spec.get('replicas', spec.get('predictor', {}).get('minReplicas', '?'))} replicas"
        pdb = objs.get("PodDisruptionBudget", {}).get("spec", {})
        budget = next((f"{k} {pdb[k]}" for k in ("minAvailable", "maxUnavailable") if k in pdb), "no PDB")
        lines.append(f"  {meta.get('name', parent.rsplit('::', 1)[-1]):<16} {labels.get('aidc.io/engine', '?'):<7}"
                     f"pool {labels.get('aidc.io/pool', '?'):<12} {_gpus(workload)} GPU/replica  {scale}  "
                     f"PDB {budget}")
    return lines


def alert_names(plan: Plan) -> list[str]:
    return sorted(rule["alert"] for res in plan.resources if _kind(res) == "PrometheusRule"
                  for group in res.inputs.get("spec", {}).get("groups", []) for rule in group.get("rules", [])
                  if "alert" in rule)  # recording rules (aidc-energy) name a series, not an alert


def serving_summary(plan: Plan) -> list[str]:
    lines = []
    servers = server_lines(plan)
    if servers:
        lines += [f"model servers ({len(servers)}):", *servers]
    alerts = alert_names(plan)
    if alerts:
        lines.append(f"alerts ({len(alerts)}): {', '.join(alerts)}")
    return lines
