"""GPU pools: the nodes the stack asked for are there, Ready, and advertise every GPU and EFA
interface their instance type has, with the labels and taint that steer work onto them. An
existing (on-prem) pool is checked the same way against its catalog server shape: the site's
labels, nvidia.com/gpu per node, the node count within size.min..max; it has no EFA, and its
GPU taint is recommended, not required."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import names
from .kube import Kube
from .result import Check, Outcome, failed, passed, skipped

if TYPE_CHECKING:
    from components.spec import GpuPoolSpec, Spec
    from components.spec.pools import PoolFacts

AREA = "gpu-pools"


def applies(spec: Any) -> bool:
    return bool(getattr(spec, "gpu_pools", ()))


def pool_nodes(kube: Kube, pool_name: str) -> list[Any]:
    return [n for n in kube.nodes() if (n.metadata.labels or {}).get(names.POOL_LABEL) == pool_name]


def _ready(node: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))


def _allocatable(node: Any, resource: str) -> int:
    value = (node.status.allocatable or {}).get(resource)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _listed(items: list[str], limit: int = 5) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _node_count(kube: Kube, pool: PoolFacts) -> Outcome:
    nodes = pool_nodes(kube, pool.name)
    low, high = pool.min_nodes, pool.max_nodes
    not_ready = [n.metadata.name for n in nodes if not _ready(n)]
    where = f"{len(nodes)} node{'s' * (len(nodes) != 1)} labelled {names.POOL_LABEL}={pool.name}"
    faults = []  # every fault, not the first: a missing node must not hide a NotReady one
    if len(nodes) < low:
        faults.append(f"{low - len(nodes)} missing (the pool allows {low}..{high})")
    elif len(nodes) > high:
        faults.append(f"{len(nodes) - high} too many (the pool allows {low}..{high})")
    if not_ready:
        faults.append(f"{len(not_ready)} not Ready: {_listed(not_ready)}")
    if faults:
        return failed(f"{where}: " + "; ".join(faults))
    return passed(f"{where}, all Ready (bounds {low}..{high})")


def _per_node(kube: Kube, pool: Any, what: str, bad_of) -> Outcome:
    nodes = pool_nodes(kube, pool.name)
    if not nodes:
        return skipped(f"no nodes in pool {pool.name} to inspect")
    bad = [f"{n.metadata.name} {why}" for n in nodes if (why := bad_of(n))]
    if bad:
        return failed(f"{len(bad)} of {len(nodes)} nodes: " + "; ".join(bad[:5]) + (" ..." if len(bad) > 5 else ""))
    return passed(f"{what} on all {len(nodes)} nodes" if len(nodes) > 1 else f"{what} on its 1 node")


def _gpus(kube: Kube, pool: PoolFacts) -> Outcome:
    want, exact = pool.advertised_gpus_per_node

    def bad(n: Any) -> str | None:
        have = _allocatable(n, names.GPU_RESOURCE)
        if have == want or (not exact and have >= want):
            return None
        return f"allocates {have} {names.GPU_RESOURCE}, {pool.instance_type} has {want}"

    return _per_node(kube, pool, f"{want}{'' if exact else '+'} {names.GPU_RESOURCE} allocatable", bad)


def _efa(kube: Kube, pool: PoolFacts) -> Outcome:
    want = pool.efa_devices

    def bad(n: Any) -> str | None:
        have = _allocatable(n, names.EFA_RESOURCE)
        if have == want:
            return None
        if have == 0:
            return f"advertises no {names.EFA_RESOURCE} (EFA device plugin not running there?), expected {want}"
        return f"allocates {have} {names.EFA_RESOURCE}, {pool.instance_type} has {want} EFA interfaces"

    return _per_node(kube, pool, f"{want} {names.EFA_RESOURCE} allocatable", bad)


def _labels(kube: Kube, pool: PoolFacts) -> Outcome:
    want = dict(pool.labels)
    if not pool.instance.server:
        want[names.INSTANCE_TYPE_WELL_KNOWN] = pool.instance_type  # the kubelet's label; a server has its own

    def bad(n: Any) -> str | None:
        have = n.metadata.labels or {}
        wrong = [f"{k}={have.get(k, '<missing>')} (want {v})" for k, v in sorted(want.items()) if have.get(k) != v]
        return ", ".join(wrong) or None

    return _per_node(kube, pool, f"{len(want)} expected labels", bad)


def _taints(kube: Kube, pool: PoolFacts) -> Outcome:
    want = pool.taints

    def bad(n: Any) -> str | None:
        have = {(t.key, t.value or "", t.effect) for t in (n.spec.taints or [])}
        missing = [f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in want
                   if (t["key"], t.get("value", ""), t["effect"]) not in have]
        return f"lacks taint {', '.join(missing)}" if missing else None

    if pool.existing:
        return _site_taint(kube, pool)
    return _per_node(kube, pool, "GPU taint", bad)


def _site_taint(kube: Kube, pool: Any) -> Outcome:
    """The site decides whether its GPU servers are tainted: report it, never fail on it."""
    nodes = pool_nodes(kube, pool.name)
    if not nodes:
        return skipped(f"no nodes in pool {pool.name} to inspect")
    key, effect = names.GPU_TAINT["key"], names.GPU_TAINT["effect"]
    bare = [n.metadata.name for n in nodes
            if not any(t.key == key and t.effect == effect for t in (n.spec.taints or []))]
    if bare:
        return skipped(f"{len(bare)} of {len(nodes)} nodes without the {key}:{effect} taint ({_listed(bare)}): "
                       "recommended, so that only GPU work lands on the site's GPU servers")
    return passed(f"{key}:{effect} on all {len(nodes)} nodes")


def checks(spec: "Spec", cat: Any, kube: Kube, pools: "list[GpuPoolSpec]") -> Iterator[Check]:
    for chosen in pools:
        pool = spec.pools[chosen.name]
        base = f"gpu-pool/{pool.name}"
        yield Check(f"{base}/nodes", AREA, f"{pool.name}: nodes Ready, count within bounds",
                    lambda p=pool: _node_count(kube, p))
        yield Check(f"{base}/gpus", AREA, f"{pool.name}: {names.GPU_RESOURCE} per node",
                    lambda p=pool: _gpus(kube, p))
        if pool.efa_devices:
            yield Check(f"{base}/efa", AREA, f"{pool.name}: {names.EFA_RESOURCE} per node",
                        lambda p=pool: _efa(kube, p))
        yield Check(f"{base}/labels", AREA, f"{pool.name}: node labels", lambda p=pool: _labels(kube, p))
        yield Check(f"{base}/taints", AREA, f"{pool.name}: GPU taint", lambda p=pool: _taints(kube, p))
