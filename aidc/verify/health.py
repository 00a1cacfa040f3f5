"""Node health of the GPU pools: nodes the EKS node monitoring agent (or the kubelet) reports
unhealthy, and nodes someone cordoned, each with what to do next. On EKS, node auto repair acts
on these conditions by itself after their toleration; this check names the nodes it has not
(yet) repaired, and on an existing cluster (no auto repair) it is the signal to cordon, drain
and fix the node (docs/resilience.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.gpu_pool.repair import AGENT_CONDITIONS

from .gpu import pool_nodes
from .kube import Kube
from .result import Check, Outcome, failed, passed, skipped

if TYPE_CHECKING:
    from components.spec import GpuPoolSpec, Spec

AREA = "gpu-pools"


def applies(spec: Any) -> bool:
    return bool(getattr(spec, "gpu_pools", ()))


def unhealthy(node: Any) -> list[str]:
    """What is wrong with a node: each node monitoring agent condition that is False, with its
    reason, and a cordon. (The kubelet's Ready is the nodes check's.)"""
    bad = []
    for c in node.status.conditions or []:
        if c.type in AGENT_CONDITIONS and c.status == "False":
            bad.append(f"{c.type}={c.status}" + (f" ({c.reason})" if c.reason else ""))
    if node.spec.unschedulable:
        bad.append("cordoned")
    return bad


def _health(kube: Kube, pool_name: str, existing: bool) -> Outcome:
    nodes = pool_nodes(kube, pool_name)
    if not nodes:
        return skipped(f"no nodes in pool {pool_name} to inspect")
    bad = [(n.metadata.name, why) for n in nodes if (why := unhealthy(n))]
    reporting = any(c.type in AGENT_CONDITIONS for n in nodes for c in (n.status.conditions or []))
    if bad:
        listed = "; ".join(f"{name}: {', '.join(why)}" for name, why in bad[:5]) + (" ..." if len(bad) > 5 else "")
        todo = ("cordon and drain them (kubectl cordon NODE; kubectl drain NODE --ignore-daemonsets "
                "--delete-emptydir-data), then repair or replace the server" if existing else
                "node auto repair replaces them once the condition outlasts its toleration (10 min for "
                "AcceleratedHardwareReady); a cordoned node is left to you: drain it or uncordon it")
        return failed(f"{len(bad)} of {len(nodes)} nodes unhealthy: {listed}. {todo}")
    if not reporting:
        return skipped(f"all {len(nodes)} nodes schedulable, but none carries a node monitoring agent "
                       f"condition ({', '.join(AGENT_CONDITIONS)}): GPU faults are not being turned into "
                       "conditions" + ("" if existing else "; is the eks-node-monitoring-agent add-on running?"))
    return passed(f"all {len(nodes)} nodes schedulable, no node monitoring agent condition False")


def checks(spec: "Spec", cat: Any, kube: Kube, pools: "list[GpuPoolSpec]") -> Iterator[Check]:
    for chosen in pools:
        pool = spec.pools[chosen.name]
        yield Check(f"gpu-pool/{pool.name}/health", AREA, f"{pool.name}: node health (GPU faults, cordons)",
                    lambda p=pool: _health(kube, p.name, bool(p.existing)))
