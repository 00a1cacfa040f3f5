"""The whole datacenter as a Mermaid flowchart, derived from the plan (one subgraph per
component, key resources summarised by type) and the spec (GPU pools with their GPUs and
fabric). New components and resource types show up without changes here; a type without a
summary below is counted, so nothing disappears silently."""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aidc.diff.mermaid import label, node_id, short
from aidc.plan import EXPANDED_BY_PROVIDER, Plan, Resource

if TYPE_CHECKING:
    from components.catalog import Catalog
    from components.spec import Spec


def _tib(gib: float) -> str:
    """7200 GiB -> '7,200 GiB (7.0 TiB)': the figure FSx bills, and its size at a glance."""
    return f"{gib:,.0f} GiB ({gib / 1024:.1f} TiB)"


def _vpc(rs: list[Resource]) -> list[str]:
    return [f"VPC {r.inputs.get('cidrBlock', '?')}" for r in rs]


def _subnets(rs: list[Resource]) -> list[str]:
    zones = {r.inputs.get("availabilityZone") for r in rs} - {None}
    # The EKS load-balancer role tags say which subnets face the internet.
    kinds = collections.Counter("public" if "kubernetes.io/role/elb" in (r.inputs.get("tags") or {}) else "private"
                                for r in rs)
    return [f"{len(rs)} subnets ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}) in {len(zones)} AZs"]


def _count(what: str) -> Callable[[list[Resource]], list[str]]:
    return lambda rs: [f"{len(rs)} {what}"]


def _endpoints(rs: list[Resource]) -> list[str]:
    # com.amazonaws.<region>.ecr.api -> ecr.api
    names = sorted(str(r.inputs.get("serviceName", r.name)).split(".", 3)[-1] for r in rs)
    return [f"VPC endpoints: {', '.join(names)}"]


def _eks(rs: list[Resource]) -> list[str]:
    out = []
    for r in rs:
        vpc = r.inputs.get("vpcConfig") or {}
        access = "public" if vpc.get("endpointPublicAccess") else "private"
        out.append(f"EKS {r.inputs.get('name', r.name)} · Kubernetes {r.inputs.get('version', '?')} · {access} API")
    return out


def _node_groups(rs: list[Resource]) -> list[str]:
    out = []
    for r in rs:
        sc = r.inputs.get("scalingConfig") or {}
        types = ", ".join(r.inputs.get("instanceTypes") or ["?"])
        out.append(f"node group {r.name}: {sc.get('minSize', '?')}–{sc.get('maxSize', '?')} × {types}")
    return out


def _addons(rs: list[Resource]) -> list[str]:
    return ["add-ons: " + ", ".join(sorted(f"{r.inputs.get('addonName', r.name)} {r.inputs.get('addonVersion', '')}".strip()
                                          for r in rs))]


def _lustre(rs: list[Resource]) -> list[str]:
    out = []
    for r in rs:
        gib = float(r.inputs.get("storageCapacity") or 0)
        per = r.inputs.get("perUnitStorageThroughput")
        tput = f" · {gib / 1024 * float(per):,.0f} MB/s" if per else ""
        out.append(f"FSx Lustre {r.name}: {_tib(gib)} {r.inputs.get('deploymentType', '')}{tput}")
    return out


def _buckets(rs: list[Resource]) -> list[str]:
    return [f"S3 {r.inputs.get('bucket') or r.name}" for r in rs]


def _helm(rs: list[Resource]) -> list[str]:
    def chart(r: Resource) -> str:  # oci://public.ecr.aws/karpenter/karpenter -> karpenter
        return str(r.inputs.get("chart", r.name)).rstrip("/").rsplit("/", 1)[-1]
    return [f"{chart(r)} {r.inputs.get('version', '')} ({r.inputs.get('namespace', '')})"
            for r in sorted(rs, key=chart)]


def _manifests(rs: list[Resource]) -> list[str]:
    # .../kubeflow/mpi-operator/v0.8.0/deploy/v2beta1/mpi-operator.yaml -> mpi-operator v0.8.0 (manifest)
    def one(r: Resource) -> str:
        url = str(r.inputs.get("file") or r.inputs.get("chart") or r.name)
        parts = url.split("/")
        version = next((p for p in parts if p[:1] == "v" and p[1:2].isdigit()), "")
        return f"{parts[-1].rsplit('.', 1)[0]} {version} (manifest)".replace("  ", " ")
    return [one(r) for r in sorted(rs, key=lambda r: r.name)]


SUMMARY: dict[str, Callable[[list[Resource]], list[str]]] = {
    "kubernetes:yaml/v2:ConfigFile": _manifests,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnets,
    "aws:ec2/natGateway:NatGateway": _count("NAT gateways"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoints,
    "aws:ec2/flowLog:FlowLog": _count("VPC flow log"),
    "aws:eks/cluster:Cluster": _eks,
    "aws:eks/nodeGroup:NodeGroup": _node_groups,
    "aws:eks/addon:Addon": _addons,
    "aws:fsx/lustreFileSystem:LustreFileSystem": _lustre,
    "aws:s3/bucket:Bucket": _buckets,
    "aws:s3/bucketV2:BucketV2": _buckets,
    "kubernetes:helm.sh/v3:Release": _helm,
}
# Resource types that make a GPU pool; the spec's pool lines replace them in the diagram.
POOL_TYPES = ("aws:eks/nodeGroup:NodeGroup", "kubernetes:karpenter.sh/v1:NodePool")
# Kubernetes kinds worth a line of their own (services a user calls, queues a user submits to).
NAMED_KINDS = ("InferenceService", "LeaderWorkerSet", "ClusterQueue", "LocalQueue", "RayCluster", "ScaledObject")


def _pool_lines(spec: Spec, cat: Catalog) -> list[tuple[str, str]]:
    out = []
    for spec_pool in spec.gpu_pools:
        pool = spec.pools.get(spec_pool.name)
        if pool is None:
            out.append((spec_pool.name, f"{spec_pool.name}: {spec_pool.instance_type}"))
            continue
        inst = pool.instance
        # A server's fabric is what the site declares for the pool, not the shape's reference cabling.
        fabric = (f"{pool.fabric} · {inst.network_cards} × {inst.nic_gbps:g} Gbps"
                  + (f" · {pool.rdma_resource}" if pool.rdma else "") if inst.server
                  else f"EFA {pool.efa_devices} interfaces · {inst.network_gbps:g} Gbps" if pool.efa_devices
                  else f"ENA {inst.network_gbps:g} Gbps")
        text = (f"{pool.name} ({pool.purpose})<br/>{spec_pool.size.min}–{pool.max_nodes} × {pool.instance_type} · "
                f"{pool.provisioner}<br/>up to {pool.max_gpus} × {pool.gpu.name}"
                f"<br/>{fabric}<br/>" + ("the site's servers" if pool.existing else f"capacity: {pool.capacity}"))
        out.append((pool.name, text))
    return out


def _pool_component(by_comp: dict[str, dict[str, list[Resource]]], spec: Spec | None) -> str | None:
    """The component that builds the GPU pools: the one whose resources carry the pool names."""
    if spec is None or not spec.gpu_pools:
        return None
    marks = [f"-{p.name}" for p in spec.gpu_pools]
    score = {comp: sum(any(m in r.name for m in marks) for rs in types.values() for r in rs)
             for comp, types in by_comp.items() if not comp.endswith(":Cluster")}
    best = max(score, key=lambda c: (score[c], c), default=None)
    return best if best and score[best] else None


def _rest(rs: list[Resource]) -> str:
    kinds = collections.Counter(r.type.rsplit(":", 1)[-1] for r in rs)
    top = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in kinds.most_common(3))
    return f"{len(rs)} more: {top}{', …' if len(kinds) > 3 else ''}"


def datacenter(plan: Plan, spec: Spec | None = None, cat: Catalog | None = None) -> str:
    """Mermaid source (without the ``` fence) of the whole environment."""
    by_comp: dict[str, dict[str, list[Resource]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in plan.resources:
        if (r.custom or r.type in EXPANDED_BY_PROVIDER) and not r.type.startswith("pulumi:"):
            by_comp[plan.component_of(r)][r.type].append(r)
    pools = _pool_lines(spec, cat) if spec is not None and cat is not None else []
    pool_comp = _pool_component(by_comp, spec) if pools else None
    lines = ["flowchart TB"]
    if spec is not None and spec.existing_cluster:
        lines.append(f'  n_existing["{label(f"existing Kubernetes cluster · {spec.kubernetes_version}")}"]')
        lines += [f"  n_existing --> {node_id(c)}" for c in sorted(by_comp)]
    for comp in sorted(by_comp):
        cid = node_id(comp)
        lines.append(f'  subgraph {cid}["{label(short(comp))}"]')
        rest: list[Resource] = []
        for i, (typ, rs) in enumerate(sorted(by_comp[comp].items())):
            if comp == pool_comp and typ in POOL_TYPES:
                continue  # the spec's pools below say more (GPU count, fabric)
            texts = SUMMARY[typ](rs) if typ in SUMMARY else _kinds(typ, rs)
            if texts is None:
                rest += rs
                continue
            for j, text in enumerate(texts):
                lines.append(f'    {cid}_{i}_{j}["{label(text)}"]')
        if comp == pool_comp:
            lines += _pool_nodes(pools, "    ")
        if rest:
            lines.append(f'    {cid}_rest["{label(_rest(rest))}"]')
        lines.append("  end")
    if pools and pool_comp is None:
        lines.append('  subgraph n_gpu_pools["GPU pools"]')
        lines += _pool_nodes(pools, "    ")
        lines.append("  end")
        cluster = next((c for c in by_comp if c.endswith(":Cluster")), None)
        if cluster:
            lines.append(f"  {node_id(cluster)} --> n_gpu_pools")
    lines += [f"  {node_id(a)} --> {node_id(b)}" for a, b in _edges(plan, set(by_comp))]
    return "\n".join(lines)


def _pool_nodes(pools: list[tuple[str, str]], indent: str) -> list[str]:
    # Labels were built with <br/> line breaks on purpose; everything else is escaped.
    return [f'{indent}{node_id("pool_" + name)}["{label(text).replace("#lt;br/#gt;", "<br/>")}"]'
            for name, text in pools]


def _kinds(typ: str, rs: list[Resource]) -> list[str] | None:
    kind = typ.rsplit(":", 1)[-1]
    if typ.startswith("kubernetes:") and kind in NAMED_KINDS:
        names = sorted(str((r.inputs.get("metadata") or {}).get("name", r.name)) for r in rs)
        return [f"{kind}: {', '.join(names)}"]
    return None


def _edges(plan: Plan, comps: set[str]) -> list[tuple[str, str]]:
    comp_of = {r.urn: plan.component_of(r) for r in plan.resources}
    edges = set()
    for r in plan.resources:
        mine = comp_of[r.urn]
        for dep in r.dependencies:
            other = comp_of.get(dep)
            if other and other != mine and other in comps and mine in comps:
                edges.add((other, mine))
    return sorted(edges)


def document(plan: Plan, spec: Any = None, cat: Any = None, title: str = "") -> str:
    """A Markdown page holding the diagram (what `aidc plan --diagram FILE` writes)."""
    head = [f"# {title}", ""] if title else []
    note = ["Generated by `aidc plan STACK --diagram FILE` from the plan and the stack spec: one box per",
            "component with its key resources, the GPU pools with their GPU count and fabric. Regenerate",
            "it after a change; do not edit it by hand.", ""]
    return "\n".join([*head, *note, "```mermaid", datacenter(plan, spec, cat), "```", ""])
