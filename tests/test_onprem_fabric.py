"""On-prem fabrics and brownfield clusters: InfiniBand/RoCE pools end to end (catalog floors,
the Network Operator's RDMA device plugin, job templates, Kueue, verify), the site's own GPU
Operator and Prometheus, and the Kubernetes version an existing cluster declares."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from aidc.cli import main
from aidc.engine import plan_stack
from components.catalog import catalog
from components.nvidia.network import nic_cluster_policy
from components.spec import load_spec
from components.spec.pools import resolve_pool
from components.training.jobs import JobRequest, rdma_env, render_job
from components.training.queues import manager_config, resource_flavor
from tests.conftest import ROOT
from tests.conftest import spec_problems as problems

CAT = catalog()
ONPREM_FILE = ROOT / "stacks" / "Pulumi.onprem.yaml"


def onprem_stack(tmp_path: Path, name: str = "site", *, pool: dict | None = None, **sections: dict) -> Path:
    """A copy of the shipped onprem stack with pool keys and whole `aidc:` sections replaced."""
    doc = yaml.safe_load(ONPREM_FILE.read_text())
    cfg = doc["config"]
    cfg["aidc:gpuPools"][0].update(pool or {})
    team = cfg["aidc:training"]["teams"][0]
    team["podSecurity"] = "baseline"  # nccl-tests workers run sshd as root
    cfg["aidc:training"]["operators"]["mpi"] = True
    for key, value in sections.items():
        if value is None:
            cfg.pop(f"aidc:{key}", None)
        else:
            cfg[f"aidc:{key}"] = value
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def config(pool: dict | None = None, **aidc) -> dict:
    """A stack config (not a file): the onprem stack's config, pool keys replaced."""
    cfg = yaml.safe_load(ONPREM_FILE.read_text())["config"]
    cfg["aidc:cluster"]["existing"]["kubeconfig"] = "apiVersion: v1"  # the file holds a Pulumi secret
    cfg["aidc:gpuPools"][0].update(pool or {})
    cfg.update({f"aidc:{k}": v for k, v in aidc.items()})
    return cfg


def releases(plan) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in plan.of_type("kubernetes:helm.sh/v3:Release")}


# ---------------------------------------------------------------- catalog floors

def test_server_floors_are_per_fabric_with_sources():
    h100 = CAT.instances["dgx-h100"]
    assert h100.nic_gbps == 400 and h100.network_cards == 8 and h100.gpudirect_rdma
    # Hundreds of GB/s: ~80% of NVIDIA's 46 GB/s per NDR NIC x 8 NICs (368 GB/s).
    assert h100.nccl_floor("infiniband") == 294 == int(0.8 * 46 * h100.network_cards)
    assert h100.nccl_floor("roce") == 294 and h100.nccl_floor("tcp") is None
    assert "46-48GB/s per NIC" in h100.nccl_floors["infiniband"].source.note
    # ~80% of NVIDIA's measured 192 GB/s on a DGX A100.
    assert CAT.instances["dgx-a100-640gb"].nccl_floor("infiniband") == 153 == int(0.8 * 192)
    for name, server in CAT.servers.items():
        for fabric, floor in server.nccl_floors.items():
            assert floor.source.url.startswith("https://") and floor.source.note, (name, fabric)
            # A floor above the fabric's line rate could never pass; one far below it proves nothing.
            line_rate = server.network_gbps / 8
            assert 0.5 * line_rate <= floor.busbw_gbps <= line_rate, (name, fabric)
    # An EC2 type's floor is its EFA figure whatever the fabric argument says.
    assert CAT.instances["p5.48xlarge"].nccl_floor("infiniband") == CAT.instances["p5.48xlarge"].nccl_min_busbw_gbps


# ---------------------------------------------------------------- the pool's fabric

def test_fabric_resolves_the_rdma_resource_floor_and_gpudirect():
    spec = load_spec(config({"fabric": "infiniband"}))
    pool = spec.pools["dc1-h100"]
    assert (pool.fabric, pool.rdma, pool.rdma_resource, pool.rdma_devices) == \
        ("infiniband", True, "rdma/dc1-h100", 1)
    assert pool.gpudirect_rdma and pool.nccl_floor_gbps == 294
    sriov = load_spec(config({"fabric": "roce", "nics": {"rdma": "sriov"}})).pools["dc1-h100"]
    assert (sriov.rdma_devices, sriov.nccl_floor_gbps) == (8, 294)  # one virtual function per NIC
    tcp = load_spec(config()).pools["dc1-h100"]
    assert (tcp.fabric, tcp.rdma, tcp.rdma_resource, tcp.rdma_devices, tcp.nccl_floor_gbps) == \
        ("tcp", False, None, 0, None)


def test_fabric_keys_are_checked_where_they_belong():
    assert "'ethernet' is not one of" in problems(config({"fabric": "ethernet"}))["aidc:gpuPools[0].fabric"]
    found = problems(config({"nics": {"hcas": ["mlx5_0"]}}))
    assert list(found) == ["aidc:gpuPools[0].nics"] and "fabric is tcp" in found["aidc:gpuPools[0].nics"]
    found = problems(config({"fabric": "infiniband", "nics": {"gidIndex": 3}}))
    assert list(found) == ["aidc:gpuPools[0].nics.gidIndex"]
    assert "not a device or interface name" in \
        problems(config({"fabric": "roce", "nics": {"hcas": ["mlx5 0"]}}))["aidc:gpuPools[0].nics.hcas"]
    # EC2 pools: their fabric is EFA.
    prod = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    prod["aidc:gpuPools"][0]["fabric"] = "infiniband"
    assert "existing pools only" in problems(prod)["aidc:gpuPools[0].fabric"]


# ---------------------------------------------------------------- the plan

def test_infiniband_pool_plans_the_network_operator_with_rdma_devices(tmp_path):
    plan = plan_stack(onprem_stack(tmp_path, pool={"fabric": "infiniband"})).plan
    rel = releases(plan)
    assert rel["network-operator"]["version"] == CAT.chart("network-operator").version
    (ncp,) = plan.of_type("kubernetes:mellanox.com/v1alpha1:NicClusterPolicy")
    spec = ncp.inputs["spec"]
    assert "sriovDevicePlugin" not in spec and "ofedDriver" not in spec
    plugin = spec["rdmaSharedDevicePlugin"]
    assert (plugin["repository"], plugin["image"], plugin["version"]) == \
        ("nvcr.io/nvidia/mellanox", "k8s-rdma-shared-dev-plugin", "network-operator-v26.4.1")
    (entry,) = json.loads(plugin["config"])["configList"]
    assert entry == {"resourceName": "dc1-h100", "resourcePrefix": "rdma", "rdmaHcaMax": 64,
                     "selectors": {"vendors": ["15b3"], "linkTypes": ["infiniband"]}}
    terms = spec["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "aidc.io/pool", "operator": "In", "values": ["dc1-h100"]}]}]
    # GPUDirect RDMA: the operator's driver loads nvidia-peermem against the host's NIC driver.
    assert rel["gpu-operator"]["values"]["driver"]["rdma"] == {"enabled": True, "useHostMofed": True}


def test_tcp_pool_plans_no_network_operator(plan_of):
    plan = plan_of("onprem")
    assert "network-operator" not in releases(plan)
    assert not plan.of_type("kubernetes:mellanox.com/v1alpha1:NicClusterPolicy")
    assert "rdma" not in releases(plan)["gpu-operator"]["values"]["driver"]


# mellanox.com/v1alpha1 NicClusterPolicy at network-operator v26.4.1
# (deployment/network-operator/crds/mellanox.com_nicclusterpolicies.yaml): the spec fields the
# CRD knows (anything else is pruned silently), and each device plugin's fields and required ones.
NCP_SPEC_FIELDS = {"deploymentNodeAffinity", "deploymentTolerations", "docaTelemetryService", "global",
                   "ibKubernetes", "nicConfigurationOperator", "nicFeatureDiscovery", "nodeAffinity", "nvIpam",
                   "ofedDriver", "rdmaSharedDevicePlugin", "secondaryNetwork", "spectrumXOperator",
                   "sriovDevicePlugin", "tolerations"}
NCP_PLUGIN_FIELDS = {"config", "containerResources", "image", "imagePullSecrets", "repository", "useCdi", "version"}


def _check_policy_fields(policy: dict) -> None:
    spec = policy["spec"]
    assert set(spec) <= NCP_SPEC_FIELDS
    for plugin in ("rdmaSharedDevicePlugin", "sriovDevicePlugin"):
        if plugin in spec:
            assert set(spec[plugin]) <= NCP_PLUGIN_FIELDS and "image" in spec[plugin]
            assert isinstance(spec[plugin]["config"], str)  # the CRD types config as a string


def test_policies_use_only_fields_of_the_pinned_crd():
    for nics in ({"rdma": "shared"}, {"rdma": "sriov"}):
        spec = load_spec(config({"fabric": "roce", "nics": nics}))
        _check_policy_fields(nic_cluster_policy(spec.pools.values(), CAT.recipe.images))
    with pytest.raises(AssertionError):
        _check_policy_fields({"spec": {"rdmaSharedDevicePlugin": {"image": "x", "config": "{}", "resourceName": "x"}}})


def test_sriov_roce_pool_names_its_interfaces():
    spec = load_spec(config({"fabric": "roce", "nics": {"rdma": "sriov", "interfaces": ["ens1f0", "ens2f0"]}}))
    policy = nic_cluster_policy(spec.pools.values(), CAT.recipe.images)
    assert "rdmaSharedDevicePlugin" not in policy["spec"]
    plugin = policy["spec"]["sriovDevicePlugin"]
    assert plugin["image"] == "sriov-network-device-plugin"
    (entry,) = json.loads(plugin["config"])["resourceList"]
    assert entry == {"resourceName": "dc1-h100", "resourcePrefix": "rdma",
                     "selectors": {"vendors": ["15b3"], "linkTypes": ["ether"], "pfNames": ["ens1f0", "ens2f0"],
                                   "isRdma": True}}
    assert nic_cluster_policy(load_spec(config()).pools.values(), CAT.recipe.images) is None


def test_kueue_flavor_knows_the_fabric_and_leaves_rdma_unmetered():
    spec = load_spec(config({"fabric": "infiniband"}))
    flavor = resource_flavor(spec.pools["dc1-h100"])
    assert flavor["metadata"]["labels"]["aidc.io/fabric"] == "infiniband"
    assert "rdma/" in manager_config(spec.training)["resources"]["excludeResourcePrefixes"]


# ---------------------------------------------------------------- job templates

def _job(spec, template: str, team: str = "research") -> list[dict]:
    text = render_job(spec, JobRequest(stack="site", pool="dc1-h100", team=team, nodes=2, template=template))
    return [d for d in yaml.safe_load_all(text) if d]


def _container(doc: dict) -> dict:
    if doc["kind"] == "MPIJob":
        return doc["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]
    return doc["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["containers"][0]


def test_job_render_requests_rdma_and_sets_ncclib_env(tmp_path, capsys):
    path = onprem_stack(tmp_path, pool={"fabric": "infiniband"})
    assert main(["job", "render", str(path), "--pool", "dc1-h100", "--team", "research", "--nodes", "2",
                 "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    (jobset,) = [d for d in docs if d["kind"] == "JobSet"]
    c = _container(jobset)
    assert c["resources"]["requests"]["rdma/dc1-h100"] == c["resources"]["limits"]["rdma/dc1-h100"] == "1"
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["NCCL_NET"] == "IB" and env["NCCL_IB_HCA"] == "mlx5"
    assert env["NCCL_SOCKET_IFNAME"] == "^lo,docker,veth"
    assert "NCCL_IB_GID_INDEX" not in env and "NCCL_NET_GDR_LEVEL" not in env  # IB; GPUDirect supported
    assert not any(k.startswith("FI_") for k in env)  # no EFA settings on InfiniBand


def test_nccl_tests_floor_comes_from_the_catalog_for_shape_and_fabric():
    cfg = config({"fabric": "infiniband"})  # research is restricted in the stack: MPI workers need baseline
    cfg["aidc:training"]["teams"][0]["podSecurity"] = "baseline"
    cfg["aidc:training"]["operators"]["mpi"] = True
    spec = load_spec(cfg)
    (mpijob,) = [d for d in _job(spec, "nccl-tests") if d["kind"] == "MPIJob"]
    launcher = mpijob["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in launcher["env"]}
    assert float(env["MIN_BUSBW"]) == CAT.instances["dgx-h100"].nccl_floor("infiniband") == 294
    assert mpijob["metadata"]["annotations"]["aidc.io/fabric"] == "infiniband"
    assert "-x NCCL_IB_HCA" in launcher["args"][0]
    assert _container(mpijob)["resources"]["limits"]["rdma/dc1-h100"] == "1"


def test_roce_env_with_site_names_and_sriov_devices():
    cfg = config({"fabric": "roce", "nics": {"rdma": "sriov", "hcas": ["mlx5_0", "mlx5_1"],
                                             "socketInterface": "bond0", "gidIndex": 5}})
    spec = load_spec(cfg)
    c = _container(next(d for d in _job(spec, "pytorch") if d["kind"] == "JobSet"))
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert (env["NCCL_IB_HCA"], env["NCCL_SOCKET_IFNAME"], env["NCCL_IB_GID_INDEX"]) == \
        ("=mlx5_0,mlx5_1", "bond0", "5")
    assert c["resources"]["requests"]["rdma/dc1-h100"] == "8"  # one VF per NIC
    default_gid = load_spec(config({"fabric": "roce"}))
    env = {e["name"]: e.get("value") for e in _container(next(
        d for d in _job(default_gid, "pytorch") if d["kind"] == "JobSet"))["env"]}
    assert env["NCCL_IB_GID_INDEX"] == "3"


def test_gpudirect_off_where_the_server_lacks_it():
    spec = load_spec(config({"fabric": "infiniband"}))
    pool = resolve_pool(spec.pool("dc1-h100"), CAT)
    assert {"name": "NCCL_NET_GDR_LEVEL", "value": "LOC"} not in rdma_env(pool)
    no_gdr = dataclasses.replace(pool, instance=pool.instance.model_copy(update={"gpudirect_rdma": False}))
    assert not no_gdr.gpudirect_rdma
    assert {"name": "NCCL_NET_GDR_LEVEL", "value": "LOC"} in rdma_env(no_gdr)


# ---------------------------------------------------------------- brownfield switches

def test_existing_gpu_operator_plans_no_release_and_refuses_operator_settings(tmp_path):
    plan = plan_stack(onprem_stack(tmp_path, pool={"fabric": "infiniband"},
                                   nvidia={"gpuOperator": "existing"})).plan
    rel = releases(plan)
    assert "gpu-operator" not in rel and "node-feature-discovery" not in rel
    assert "network-operator" in rel  # the fabric is still aidc's
    (sm,) = [r for r in plan.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
             if r.inputs["metadata"]["name"] == "nvidia-dcgm-exporter"]
    assert sm.inputs["spec"]["namespaceSelector"] == {"any": True}  # the site's operator namespace
    found = problems(config({"mig": {"strategy": "single"}}, nvidia={"gpuOperator": "existing"}))
    assert list(found) == ["aidc:gpuPools[0].mig"] and "the site's operator" in found["aidc:gpuPools[0].mig"]
    prod = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    prod["aidc:nvidia"] = {"gpuOperator": "existing"}
    assert "aidc:nvidia.gpuOperator" in problems(prod)


def test_existing_prometheus_gets_only_aidcs_objects(tmp_path):
    obs = {"prometheus": "existing", "namespace": "site-monitoring", "selectorLabels": {"release": "site-prom"},
           "prometheusUrl": "http://prometheus-operated.site-monitoring.svc:9090"}
    plan = plan_stack(onprem_stack(tmp_path, observability=obs)).plan
    assert "kube-prometheus-stack" not in {r.get("chart") for r in releases(plan).values()}
    assert not [r for r in plan.of_type("kubernetes:core/v1:Namespace")
                if r.inputs["metadata"]["name"] in ("monitoring", "site-monitoring")]
    rules = plan.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    monitors = plan.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    assert len(rules) == 3 and len(monitors) == 2  # GPU, serving and energy rules; DCGM and the model server
    for r in rules + monitors:
        assert r.inputs["metadata"]["labels"]["release"] == "site-prom", r.name
    assert {r.inputs["metadata"]["namespace"] for r in rules} == {"site-monitoring"}
    dashboards = [r for r in plan.of_type("kubernetes:core/v1:ConfigMap")
                  if r.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert dashboards and {d.inputs["metadata"]["namespace"] for d in dashboards} == {"site-monitoring"}
    found = problems(config(observability={"prometheus": "existing"}))
    assert "aidc:observability.namespace" in found
    found = problems(config(observability={"namespace": "x"}))
    assert "only with prometheus: existing" in found["aidc:observability.namespace"]


# ---------------------------------------------------------------- the declared Kubernetes version

def test_existing_cluster_at_1_29_exits_2_naming_kubernetes_version(tmp_path, capsys):
    path = onprem_stack(tmp_path, cluster={**yaml.safe_load(ONPREM_FILE.read_text())["config"]["aidc:cluster"],
                                           "kubernetesVersion": "1.29"})
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert "aidc:cluster.kubernetesVersion: gpu-operator v26.7.0 needs Kubernetes >= 1.33, the stack has 1.29" in err
    # With the site's GPU Operator, the floors of what aidc still installs apply: 1.29 passes them.
    path = onprem_stack(tmp_path, "brown", cluster={**yaml.safe_load(ONPREM_FILE.read_text())["config"]
                                                    ["aidc:cluster"], "kubernetesVersion": "1.29"},
                        nvidia={"gpuOperator": "existing"})
    assert main(["plan", str(path)]) == 0
    capsys.readouterr()


def test_existing_cluster_must_declare_its_version():
    cfg = config()
    del cfg["aidc:cluster"]["kubernetesVersion"]
    assert "required on an existing cluster" in problems(cfg)["aidc:cluster.kubernetesVersion"]
    cfg["aidc:cluster"]["kubernetesVersion"] = "v1.33.2"
    assert "not a Kubernetes minor version" in problems(cfg)["aidc:cluster.kubernetesVersion"]


@pytest.mark.parametrize("fabric", ["infiniband", "roce"])
def test_acceptance_floor_for_the_pools_fabric(fabric):
    spec = load_spec(config({"fabric": fabric}))
    pool = spec.pool("dc1-h100")
    assert CAT.instances[pool.instance_type].nccl_floor(pool.fabric) == 294


# ---------------------------------------------------------------- existing Lustre over o2ib

def test_existing_lustre_over_o2ib_is_the_nodes_mount(tmp_path):
    lustre = {"dnsName": "10.20.0.5", "mountName": "scratch", "lnet": "o2ib", "hostPath": "/lustre/scratch"}
    storage = {"existing": {"lustre": lustre, "requestGiB": 1024}, "namespaces": ["research"]}
    plan = plan_stack(onprem_stack(tmp_path, storage=storage, inference={"services": []})).plan
    (pv,) = plan.of_type("kubernetes:core/v1:PersistentVolume")
    assert pv.inputs["spec"]["hostPath"] == {"path": "/lustre/scratch", "type": "Directory"}
    assert "csi" not in pv.inputs["spec"] and "mountOptions" not in pv.inputs["spec"]
    found = problems(config(storage={"existing": {"lustre": {**lustre, "hostPath": None}},
                                     "namespaces": ["research"]}, inference={"services": []}))
    assert list(found) == ["aidc:storage.existing.lustre.hostPath"]
    assert "10.20.0.5@o2ib:/scratch" in found["aidc:storage.existing.lustre.hostPath"]
    # Over tcp without a host path: the FSx CSI driver mounts it, as before.
    tcp = {"existing": {"lustre": {"dnsName": "10.20.0.5", "mountName": "scratch"}}, "namespaces": ["research"]}
    plan = plan_stack(onprem_stack(tmp_path, "tcp", storage=tcp, inference={"services": []})).plan
    (pv,) = plan.of_type("kubernetes:core/v1:PersistentVolume")
    assert pv.inputs["spec"]["csi"]["volumeHandle"] == "10.20.0.5@tcp:/scratch"


def test_network_operator_without_an_rdma_pool_is_refused():
    found = problems(config(nvidia={"networkOperator": True}))
    assert list(found) == ["aidc:nvidia.networkOperator"] and "no pool has fabric" in found["aidc:nvidia.networkOperator"]
    assert "network-operator" in load_spec(config({"fabric": "roce"}, nvidia={"networkOperator": True})).charts


def test_an_ec2_type_on_an_existing_eks_cluster_has_no_rdma_fabric():
    cfg = config({"instanceType": "p5.48xlarge", "fabric": "infiniband"})
    cfg["aidc:cluster"]["existing"]["platform"] = "eks"
    cfg["aidc:inference"] = {"services": []}
    found = problems(cfg)
    assert "its fabric is EFA" in found["aidc:gpuPools[0].fabric"]


def test_every_installed_charts_floor_meets_the_declared_version(monkeypatch):
    """Floors of charts outside the GPU layer apply too: kube-prometheus-stack's (1.25 in the
    catalog) against a site at 1.24 whose GPU Operator is its own."""
    cfg = config(nvidia={"gpuOperator": "existing"})
    cfg["aidc:cluster"]["kubernetesVersion"] = "1.24"
    found = problems(cfg)
    assert list(found) == ["aidc:cluster.kubernetesVersion"]
    assert found["aidc:cluster.kubernetesVersion"].startswith("kube-prometheus-stack 88.5.3 needs Kubernetes >= 1.25")
    cfg["aidc:observability"] = {"prometheus": "existing", "namespace": "monitoring",
                                 "prometheusUrl": "http://prometheus.monitoring.svc:9090"}
    assert load_spec(cfg).cluster.kubernetes_version == "1.24"  # the site's Prometheus: its floor is the site's
