"""`aidc verify` on a site: the declared Kubernetes version against the live API server, the
RDMA devices of InfiniBand/RoCE pools and the NicClusterPolicy, the site's Prometheus selecting
aidc's objects, and the site's GPU Operator in a namespace of its own."""

from __future__ import annotations

import json
from pathlib import Path

from aidc.cli import main
from tests.fake_kube import FakeKube, item_list, write_kubeconfig
from tests.test_onprem_fabric import onprem_stack
from tests.test_onprem_pools import _site_nodes
from tests.verify_cluster import _daemonset, by_id, healthy


def version_info(minor: str, patch: int = 4) -> dict:
    """The API server's /version answer (every field the client's model requires)."""
    return {"major": "1", "minor": minor, "gitVersion": f"v1.{minor.rstrip('+')}.{patch}",
            "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-10-01T00:00:00Z",
            "goVersion": "go1.25.1", "compiler": "gc", "platform": "linux/amd64"}


def _rdma_nodes(have: list[int]) -> list[dict]:
    nodes = _site_nodes(len(have))
    for node, n in zip(nodes, have, strict=True):
        if n:
            node["status"]["allocatable"]["rdma/dc1-h100"] = str(n)
    return nodes


def _verify_site(tmp_path, capsys, path: Path, *, nodes: list[dict], minor: str = "33",
                 policy_state: str = "ready", prometheuses: list[dict] | None = None) -> dict[str, dict]:
    routes = healthy()
    routes[("GET", "/api/v1/nodes")] = (200, item_list("Node", nodes))
    routes[("GET", "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-device-plugin-daemonset")] = \
        (200, _daemonset("gpu-operator", "nvidia-device-plugin-daemonset", len(nodes)))
    routes[("GET", "/version/")] = (200, version_info(minor + "+"))
    routes[("GET", "/apis/mellanox.com/v1alpha1/nicclusterpolicies")] = (200, item_list(
        "NicClusterPolicy", [{"metadata": {"name": "nic-cluster-policy"}, "status": {"state": policy_state}}],
        "mellanox.com/v1alpha1"))
    routes[("GET", "/apis/monitoring.coreos.com/v1/prometheuses")] = (200, item_list(
        "Prometheus", prometheuses or [], "monitoring.coreos.com/v1"))
    with FakeKube(routes) as fake:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
        main(["verify", str(path), "--kubeconfig", str(kubeconfig), "--json", "--request-timeout", "2"])
    return by_id(json.loads(capsys.readouterr().out))


def test_verify_checks_rdma_devices_the_policy_and_the_version(tmp_path, capsys):
    path = onprem_stack(tmp_path, pool={"fabric": "infiniband"})
    checks = _verify_site(tmp_path, capsys, path, nodes=_rdma_nodes([64, 64, 64, 64]))
    assert checks["gpu-pool/dc1-h100/rdma"]["status"] == "pass"
    assert checks["gpu-pool/dc1-h100/rdma"]["reason"] == ">= 1 rdma/dc1-h100 allocatable on all 4 nodes"
    assert checks["site/nic-cluster-policy"]["status"] == "pass"
    assert checks["site/kubernetes-version"]["reason"] == "the API server runs 1.33 (v1.33.4), as declared"

    checks = _verify_site(tmp_path, capsys, path, nodes=_rdma_nodes([64, 0, 64, 64]), minor="31",
                          policy_state="notReady")
    rdma = checks["gpu-pool/dc1-h100/rdma"]
    assert rdma["status"] == "fail" and rdma["reason"].startswith("1 of 4 nodes lack rdma/dc1-h100 (a pod needs 1): "
                                                                 "dgx02 allocates 0")
    assert checks["site/nic-cluster-policy"]["reason"] == "NicClusterPolicy nic-cluster-policy is notReady"
    version = checks["site/kubernetes-version"]
    assert version["status"] == "fail" and "runs 1.31 (v1.31.4), the stack declares 1.33" in version["reason"]


def test_verify_checks_the_sites_prometheus_selects_aidcs_objects(tmp_path, capsys):
    obs = {"prometheus": "existing", "namespace": "monitoring", "selectorLabels": {"release": "site-prom"}}
    path = onprem_stack(tmp_path, observability=obs,
                        inference={"services": []})
    prom = {"metadata": {"name": "k8s", "namespace": "monitoring"},
            "spec": {"ruleSelector": {"matchLabels": {"release": "site-prom"}},
                     "serviceMonitorSelector": {"matchExpressions": [
                         {"key": "release", "operator": "In", "values": ["site-prom", "other"]}]}}}
    checks = _verify_site(tmp_path, capsys, path, nodes=_site_nodes(), prometheuses=[prom])
    assert checks["site/prometheus"]["status"] == "pass", checks["site/prometheus"]
    other = {**prom, "spec": {**prom["spec"], "ruleSelector": {"matchLabels": {"release": "kube-prometheus"}}}}
    checks = _verify_site(tmp_path, capsys, path, nodes=_site_nodes(), prometheuses=[other])
    assert checks["site/prometheus"]["status"] == "fail"
    assert "monitoring/k8s does not select them (ruleSelector)" in checks["site/prometheus"]["reason"]
    checks = _verify_site(tmp_path, capsys, path, nodes=_site_nodes(), prometheuses=[])
    assert checks["site/prometheus"]["reason"].startswith("no Prometheus")


def test_verify_finds_the_sites_gpu_operator_in_its_own_namespace(tmp_path, capsys):
    path = onprem_stack(tmp_path, nvidia={"gpuOperator": "existing"})
    routes_nodes = _site_nodes()
    routes = healthy()
    routes[("GET", "/api/v1/nodes")] = (200, item_list("Node", routes_nodes))
    routes[("GET", "/version/")] = (200, version_info("33", 1))
    routes[("GET", "/apis/apps/v1/daemonsets")] = (200, item_list("DaemonSet", [
        _daemonset("nvidia-gpu-operator", "nvidia-device-plugin-daemonset", 4),
        _daemonset("nvidia-gpu-operator", "nvidia-dcgm-exporter", 4)], "apps/v1"))
    with FakeKube(routes) as fake:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
        main(["verify", str(path), "--kubeconfig", str(kubeconfig), "--json", "--request-timeout", "2"])
    checks = by_id(json.loads(capsys.readouterr().out))
    assert checks["nvidia/device-plugin"]["status"] == "pass"
    assert checks["nvidia/device-plugin"]["reason"].startswith("nvidia-gpu-operator/nvidia-device-plugin-daemonset")
    assert checks["nvidia/cluster-policy"]["status"] == "pass"
