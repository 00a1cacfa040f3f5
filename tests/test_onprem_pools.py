"""On-prem GPU pools: catalog server shapes, `provisioner: existing` on an existing cluster,
and what every layer does with them (no node resource, Kueue, model servers, GPU Operator,
alerts, cost and power, sizing, verify)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from aidc.cli import main
from aidc.cost import estimate
from components.catalog import Instance, catalog
from components.nvidia.values import gpu_operator_values
from components.spec import GpuPoolSpec, load_spec
from components.spec.pools import resolve_pool
from components.vocabulary import POOL_LABEL
from tests.conftest import spec_problems as problems
from tests.fake_kube import FakeKube, write_kubeconfig
from tests.verify_cluster import _daemonset, _node, by_id, healthy

CAT = catalog()
ONPREM = {"aidc:environment": "staging",
          "aidc:cluster": {"existing": {"kubeconfig": "apiVersion: v1", "platform": "onPrem"}, "kubernetesVersion": "1.33"}}
SERVER = {"name": "dc1-h100", "instanceType": "dgx-h100", "provisioner": "existing", "size": {"min": 4, "max": 4}}



def onprem(*pools: dict, platform: str = "onPrem", **aidc) -> dict:
    c = {**ONPREM, "aidc:cluster": {"existing": {"kubeconfig": "apiVersion: v1", "platform": platform}, "kubernetesVersion": "1.33"},
         "aidc:gpuPools": list(pools)}
    c.update({f"aidc:{k}": v for k, v in aidc.items()})
    return c


# ---------------------------------------------------------------- catalog data-lint

def test_server_shapes_are_complete_and_sourced():
    servers = CAT.servers
    assert {"dgx-h100", "dgx-h200", "dgx-a100-640gb", "l40s-pcie-8gpu"} <= set(servers)
    assert not set(servers) & set(CAT.ec2_types)
    for name, s in servers.items():
        assert s.kind == "server" and s.gpu in CAT.gpus and s.gpu_count == 8, name
        assert s.efa_interfaces == 0 and s.ami_families == () and not s.capacity_block_only, name
        assert s.fabric in ("infiniband", "roce") and s.network_gbps > 0, name
        assert s.source is not None and s.source.url.startswith("https://") and s.source.date <= dt.date.today()
        assert "." not in name, f"{name}: EC2 type names have a dot; a server name must not look like one"
    h100 = servers["dgx-h100"]
    assert (h100.gpu, h100.vcpu, h100.memory_gib, h100.network_gbps, h100.fabric) == \
        ("H100", 224, 2048, 3200, "infiniband")
    assert servers["dgx-h200"].gpu == "H200" and servers["dgx-a100-640gb"].gpu == "A100-80GB"
    assert servers["l40s-pcie-8gpu"].fabric == "roce"


def test_instance_kinds_are_checked():
    base = {"family": "x", "gpu": "H100", "gpuCount": 8, "vcpu": 224, "memoryGib": 2048, "networkGbps": 3200,
            "networkCards": 8, "efaInterfaces": 0, "nvmeGb": 0, "nvmeDisks": 0}
    src = {"url": "https://example.invalid", "date": "2026-01-01"}
    assert Instance.model_validate({**base, "kind": "server", "fabric": "infiniband", "source": src}).price is None
    with pytest.raises(ValidationError, match="needs price"):
        Instance.model_validate({**base, "amiFamilies": ["al2023-nvidia"]})
    with pytest.raises(ValidationError, match="no EFA interfaces"):
        Instance.model_validate({**base, "kind": "server", "fabric": "roce", "source": src, "efaInterfaces": 1})
    with pytest.raises(ValidationError, match="needs fabric and source"):
        Instance.model_validate({**base, "kind": "server"})


# ---------------------------------------------------------------- spec

def test_an_onprem_pool_parses_and_describes_the_sites_nodes():
    spec = load_spec(onprem(SERVER))
    pool = spec.pool("dc1-h100")
    assert pool.existing and CAT.instance(pool.instance_type).server
    assert dict(resolve_pool(pool, CAT).labels) == {POOL_LABEL: "dc1-h100"}
    assert resolve_pool(pool, CAT).taints == ()  # the site's choice; aidc's toleration is harmless without it


def test_ec2_only_keys_on_a_server_pool_each_name_their_key():
    bad = {**SERVER, "capacity": {"type": "spot"}, "efa": True, "amiFamily": "al2023-nvidia",
           "availabilityZone": "us-east-1a", "diskGib": 500}
    found = problems(onprem(bad))
    assert set(found) == {f"aidc:gpuPools[0].{k}" for k in ("capacity", "efa", "amiFamily", "availabilityZone",
                                                             "diskGib")}
    assert all(m.startswith("EC2 only") for m in found.values())


def test_provisioner_must_be_existing_on_an_existing_cluster_and_nowhere_else():
    found = problems(onprem({**SERVER, "provisioner": "managed"}))
    assert list(found) == ["aidc:gpuPools[0].provisioner"]
    assert "use provisioner: existing" in found["aidc:gpuPools[0].provisioner"]
    found = problems({"aws:region": "us-east-1", "aidc:environment": "prod",
                      "aidc:gpuPools": [{"name": "pp", "instanceType": "p5.48xlarge", "provisioner": "existing"}]})
    assert list(found) == ["aidc:gpuPools[0].provisioner"]


def test_a_server_shape_on_an_aidc_built_cluster_is_refused():
    found = problems({"aws:region": "us-east-1", "aidc:environment": "prod",
                      "aidc:gpuPools": [{"name": "pp", "instanceType": "dgx-h100"}]})
    assert found == {"aidc:gpuPools[0].instanceType": "dgx-h100 is an on-prem server shape, not an EC2 instance type: "
                                                      "aidc cannot launch it (it describes nodes of an existing cluster)"}


def test_ec2_types_only_on_an_existing_eks_cluster():
    ec2 = {**SERVER, "instanceType": "p5.48xlarge"}
    found = problems(onprem(ec2))
    assert list(found) == ["aidc:gpuPools[0].instanceType"]
    assert "dgx-h100" in found["aidc:gpuPools[0].instanceType"]  # lists the server shapes to use
    assert load_spec(onprem(ec2, platform="eks")).pool("dc1-h100").instance_type == "p5.48xlarge"
    assert "did you mean dgx-h100" in problems(onprem({**SERVER, "instanceType": "dgx-h10"}))[
        "aidc:gpuPools[0].instanceType"]


def test_sizes_and_quotas_on_a_server_pool():
    found = problems(onprem({**SERVER, "size": {"min": 5, "max": 4, "desired": 4}}))
    assert set(found) == {"aidc:gpuPools[0].size.min", "aidc:gpuPools[0].size.desired"}
    # 4 DGX H100 = 32 GPUs, 896 vCPU, 8192 GiB: a quota beyond that names its key.
    found = problems(onprem(SERVER, training={"teams": [{"name": "research", "quotas": [
        {"pool": "dc1-h100", "gpus": 40, "cpu": 896, "memoryGiB": 8192}]}]}))
    assert list(found) == ["aidc:training.teams[0].quotas[0].gpus"]
    assert "32 (size.max 4 x dgx-h100)" in found["aidc:training.teams[0].quotas[0].gpus"]


def test_mig_on_a_server_pool_reaches_the_gpu_operator():
    spec = load_spec(onprem({**SERVER, "mig": {"strategy": "single", "config": "all-1g.10gb"}}))
    pool = spec.pool("dc1-h100")
    assert resolve_pool(pool, CAT).labels["nvidia.com/mig.config"] == "all-1g.10gb"
    values = gpu_operator_values([], spec.gpu_pools, True)
    assert values["mig"] == {"strategy": "single"} and values["migManager"] == {"enabled": True}
    assert values["driver"]["enabled"] is True and values["toolkit"]["enabled"] is True
    assert problems(onprem({**SERVER, "instanceType": "l40s-pcie-8gpu", "mig": {}})) == {
        "aidc:gpuPools[0].mig": "L40S GPUs (l40s-pcie-8gpu) cannot be partitioned with MIG"}


def test_a_bad_onprem_stack_file_exits_2_with_every_key(tmp_path, capsys):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(json.dumps({"config": {**onprem({**SERVER, "efa": True, "provisioner": "karpenter"})}}))
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert "aidc:gpuPools[0].efa" in err and "aidc:gpuPools[0].provisioner" in err and "Traceback" not in err


def test_the_node_pool_component_refuses_an_existing_pool():
    from components.common import ClusterHandle
    from components.gpu_pool.resources import GpuNodePool
    pool = GpuPoolSpec.model_validate(SERVER)
    with pytest.raises(ValueError, match="creates no node group"):
        GpuNodePool("x", pool, ClusterHandle("c", "1.33", "a", "n", "sg"), vpc_id="v", subnet_ids=[],
                    zone_name=None, tags={})


# ---------------------------------------------------------------- the onprem stack's plan

def test_onprem_plan_creates_no_aws_and_no_node_resources(plan_of):
    plan = plan_of("onprem")
    types = {r.type for r in plan.resources}
    assert not [t for t in types if t.startswith("aws:") or t.startswith("eks:")]
    assert not [t for t in types if "karpenter" in t or "NodeGroup" in t or "GpuNodePool" in t]


def _objects(plan, kind):
    return [r.inputs for r in plan.resources if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}")]


def test_onprem_plan_queues_on_the_pool(plan_of):
    plan = plan_of("onprem")
    (flavor,) = _objects(plan, "ResourceFlavor")
    assert flavor["metadata"]["name"] == "dc1-h100"
    assert flavor["spec"]["nodeLabels"] == {"aidc.io/pool": "dc1-h100"}
    assert "topologyName" not in flavor["spec"]  # no EC2 topology labels on the site's servers
    (cq,) = _objects(plan, "ClusterQueue")
    (group,) = cq["spec"]["resourceGroups"]
    (fl,) = group["flavors"]
    quota = {r["name"]: r["nominalQuota"] for r in fl["resources"]}
    assert fl["name"] == "dc1-h100" and quota == {"cpu": "672", "memory": "6144Gi", "nvidia.com/gpu": "24"}


def test_onprem_plan_installs_the_driver_and_serves_on_the_pool(plan_of):
    plan = plan_of("onprem")
    rel = {r.inputs["chart"]: r.inputs["values"] for r in plan.resources if r.type == "kubernetes:helm.sh/v3:Release"}
    op = rel["gpu-operator"]
    assert op["driver"]["enabled"] is True and op["toolkit"]["enabled"] is True
    assert op["devicePlugin"]["enabled"] is True and "aws-efa-k8s-device-plugin" not in rel
    (deploy,) = [o for o in _objects(plan, "Deployment") if o["metadata"]["name"] == "llama-8b"]
    pod = deploy["spec"]["template"]["spec"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "aidc.io/pool", "operator": "In", "values": ["dc1-h100"]}]}]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] in (1, "1")


def test_onprem_alert_finds_the_servers_by_pool_label(plan_of):
    rules = [rule for o in _objects(plan_of("onprem"), "PrometheusRule") for g in o["spec"]["groups"]
             for rule in g["rules"] if "alert" in rule]
    (missing,) = [r for r in rules if r["alert"].startswith("GpuNodeMissingGpus")]
    assert missing["alert"] == "GpuNodeMissingGpusPoolDc1H100"
    assert 'label_aidc_io_pool="dc1-h100"' in missing["expr"] and "< 8)" in missing["expr"]


def test_onprem_cost_counts_gpus_and_power_but_no_price(plan_of):
    est = estimate(plan_of("onprem"))
    assert est.gpu_count == est.gpu_count_max == est.unpriced_gpu_count == 32
    assert est.monthly_usd == 0 and est.usd_per_gpu_hour is None
    # 32 x 700 W x server overhead 1.5 (the catalog's) x PUE 1.4 (the site's, aidc:site.pue)
    assert est.power_kw == pytest.approx(32 * 700 * 1.5 * 1.4 / 1000) == pytest.approx(47.04)
    assert est.energy_mwh_per_month == pytest.approx(47.04 * 730 / 1000, abs=0.001)
    (line,) = [ln for ln in est.lines if ln.type == "gpu-pool"]
    assert "not priced (on-prem)" in line.detail and line.monthly_usd == 0


def test_onprem_policy_passes(capsys):
    assert main(["policy", "onprem"]) == 0


def test_sizing_refuses_a_server_shape(capsys):
    code = main(["size", "train", "--params", "70e9", "--tokens", "2e12", "--days", "30", "--instance-type", "dgx-h100"])
    assert code == 2
    assert "dgx-h100 is an on-prem server shape" in capsys.readouterr().err
    # --gpu picks among EC2 types only (the server has more memory per node, never chosen).
    assert main(["size", "train", "--params", "70e9", "--tokens", "2e12", "--days", "30", "--gpu", "H100",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instanceType"] == "p5.48xlarge"


# ---------------------------------------------------------------- verify

def _site_nodes(count: int = 4) -> list[dict]:
    """The site's DGX H100 nodes: the pool label and GFD's labels, no EC2 labels, no EFA."""
    nodes = []
    for i in range(count):
        n = _node(f"dgx{i + 1:02d}", "node-p5.json")
        labels = n["metadata"]["labels"]
        for k in [k for k in labels if k.startswith(("aidc.io/", "eks.amazonaws.com/", "topology.k8s.aws/"))
                  or "instance-type" in k]:
            del labels[k]
        labels[POOL_LABEL] = "dc1-h100"
        n["spec"].pop("providerID")
        n["status"]["allocatable"].pop("vpc.amazonaws.com/efa")
        nodes.append(n)
    return nodes


def _verify_onprem(tmp_path, capsys, nodes: list[dict]) -> dict[str, dict]:
    routes = healthy()
    routes[("GET", "/api/v1/nodes")] = (200, {"kind": "NodeList", "apiVersion": "v1", "items": nodes})
    routes[("GET", "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-device-plugin-daemonset")] = \
        (200, _daemonset("gpu-operator", "nvidia-device-plugin-daemonset", 4))
    with FakeKube(routes) as fake:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
        main(["verify", "onprem", "--kubeconfig", str(kubeconfig), "--json"])
    return by_id(json.loads(capsys.readouterr().out))


def test_verify_checks_the_sites_pool(tmp_path, capsys):
    checks = _verify_onprem(tmp_path, capsys, _site_nodes())
    pool = {k: v for k, v in checks.items() if k.startswith("gpu-pool/")}
    assert set(pool) == {f"gpu-pool/dc1-h100/{c}" for c in ("nodes", "gpus", "labels", "taints", "health")}  # no EFA
    # The site runs no node monitoring agent: node health cannot see GPU faults, and says so.
    health = pool.pop("gpu-pool/dc1-h100/health")
    assert health["status"] == "skipped" and "none carries a node monitoring agent condition" in health["reason"]
    assert "eks-node-monitoring-agent" not in health["reason"]
    assert all(c["status"] == "pass" for c in pool.values()), pool
    assert pool["gpu-pool/dc1-h100/gpus"]["reason"] == "8 nvidia.com/gpu allocatable on all 4 nodes"
    assert checks["nvidia/device-plugin"]["status"] == "pass"


def test_verify_fails_a_missing_server_and_a_lost_gpu_and_reports_an_untainted_node(tmp_path, capsys):
    nodes = _site_nodes(3)
    nodes[0]["status"]["allocatable"]["nvidia.com/gpu"] = "7"
    nodes[1]["spec"]["taints"] = []
    checks = _verify_onprem(tmp_path, capsys, nodes)
    assert checks["gpu-pool/dc1-h100/nodes"]["status"] == "fail"
    assert "3 nodes labelled aidc.io/pool=dc1-h100: 1 missing (the pool allows 4..4)" in checks["gpu-pool/dc1-h100/nodes"]["reason"]
    assert checks["gpu-pool/dc1-h100/gpus"]["reason"] == "1 of 3 nodes: dgx01 allocates 7 nvidia.com/gpu, dgx-h100 has 8"
    assert checks["gpu-pool/dc1-h100/taints"]["status"] == "skipped"
    assert "dgx02" in checks["gpu-pool/dc1-h100/taints"]["reason"]
