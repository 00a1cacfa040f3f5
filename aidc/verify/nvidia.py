"""The NVIDIA stack: the GPU Operator's ClusterPolicy is ready, its device plugin and DCGM
exporter run on every GPU node, and the EFA device plugin on every EFA node."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import names
from .gpu import pool_nodes
from .kube import Kube
from .result import Check, Outcome, failed, passed

AREA = "nvidia"
GPU_PRESENT_LABEL = ("nvidia.com/gpu.present", "true")  # GPU Feature Discovery, on clusters aidc did not build


def applies(spec: Any) -> bool:
    return bool(getattr(spec, "gpu_pools", ())) or bool(getattr(spec, "existing_cluster", False))


def _gpu_nodes(spec: Any, kube: Kube, pools: list[Any]) -> list[Any]:
    if pools:
        return [n for p in pools for n in pool_nodes(kube, p.name)]
    key, value = GPU_PRESENT_LABEL
    return [n for n in kube.nodes() if (n.metadata.labels or {}).get(key) == value]


def _cluster_policy(kube: Kube) -> Outcome:
    group, version, plural = names.CLUSTER_POLICY
    policies = kube.cluster_objects(group, version, plural)
    if not policies:
        return failed("no ClusterPolicy (nvidia.com/v1): the GPU Operator is not installed or has no policy")
    states = {p["metadata"]["name"]: (p.get("status") or {}).get("state", "<none>") for p in policies}
    bad = {n: s for n, s in states.items() if s != "ready"}
    if bad:
        return failed(", ".join(f"ClusterPolicy {n} is {s}" for n, s in sorted(bad.items())))
    return passed(", ".join(f"ClusterPolicy {n} ready" for n in sorted(states)))


def daemonset_outcome(ds: Any, label: str, expected_nodes: int, node_kind: str) -> Outcome:
    """Fully available and scheduled on at least every node that needs it."""
    st = ds.status
    desired, available = st.desired_number_scheduled or 0, st.number_available or 0
    where = f"{label}: {available}/{desired} available"
    faults = []
    if desired < expected_nodes:
        faults.append(f"scheduled on {desired}, but the stack has {expected_nodes} {node_kind} "
                      "(selector or tolerations miss some)")
    if available < desired:
        faults.append(f"{desired - available} pods not available")
    if (st.updated_number_scheduled or 0) < desired:
        faults.append(f"rollout unfinished ({st.updated_number_scheduled or 0} updated)")
    if faults:
        return failed(f"{where}; " + "; ".join(faults))
    return passed(f"{where} (covers {expected_nodes} {node_kind})")


def _operator_daemonset(spec: Any, cat: Any, kube: Kube, pools: list[Any], name: str, skip_off: bool) -> Outcome:
    ns = cat.chart(names.GPU_OPERATOR_CHART).namespace
    if names.site_gpu_operator(spec):
        # The site's operator: its namespace is the site's choice; the DaemonSet names are the operator's.
        ds = next((d for d in kube.all_daemonsets() if d.metadata.name == name), None)
        ns = ds.metadata.namespace if ds is not None else "<any namespace>"
    else:
        ds = kube.daemonset(ns, name)
    nodes = _gpu_nodes(spec, kube, pools)
    if skip_off:  # Bottlerocket nodes run their own device plugin
        key, value = names.OPERATOR_DEVICE_PLUGIN_OFF
        nodes = [n for n in nodes if (n.metadata.labels or {}).get(key) != value]
    if ds is None:
        return failed(f"DaemonSet {ns}/{name} not found (GPU Operator not reconciled?)")
    return daemonset_outcome(ds, f"{ns}/{name}", len(nodes), "GPU nodes")


def _efa_plugin(cat: Any, kube: Kube, efa_pools: list[Any]) -> Outcome:
    ns = cat.chart(names.EFA_PLUGIN_CHART).namespace
    key, value = names.EFA_PLUGIN_SELECTOR
    found = [d for d in kube.daemonsets(ns) if (d.metadata.labels or {}).get(key) == value]
    expected = sum(len(pool_nodes(kube, p.name)) for p in efa_pools)
    if not found:
        return failed(f"no DaemonSet labelled {key}={value} in {ns}: the EFA device plugin is not installed")
    outcomes = [daemonset_outcome(d, f"{ns}/{d.metadata.name}", expected, "EFA nodes") for d in found]
    bad = [o for o in outcomes if o.status == "fail"]
    return failed("; ".join(o.reason for o in bad)) if bad else outcomes[0]


def checks(spec: Any, cat: Any, kube: Kube, pools: list[Any]) -> Iterator[Check]:
    yield Check("nvidia/cluster-policy", AREA, "GPU Operator ClusterPolicy ready", lambda: _cluster_policy(kube))
    yield Check("nvidia/device-plugin", AREA, "NVIDIA device plugin on every GPU node",
                lambda: _operator_daemonset(spec, cat, kube, pools, names.DEVICE_PLUGIN_DAEMONSET, True))
    if names.dcgm_exporter_enabled(spec):
        yield Check("nvidia/dcgm-exporter", AREA, "DCGM exporter on every GPU node",
                    lambda: _operator_daemonset(spec, cat, kube, pools, names.DCGM_EXPORTER_DAEMONSET, False))
    efa_pools = [p for p in pools if p.efa]
    if efa_pools:
        yield Check("nvidia/efa-plugin", AREA, "EFA device plugin on every EFA node",
                    lambda: _efa_plugin(cat, kube, efa_pools))
