"""`aidc verify` run for real (the CLI, the official kubernetes client, HTTP) against a fake API
server on 127.0.0.1 that serves recorded API JSON: a healthy cluster, and broken ones that
must each fail exactly the right check with a reason a person can act on."""

from __future__ import annotations

import json

import pytest

from aidc.cli import main
from aidc.verify.kube import FIX
from tests.fake_kube import FakeKube, SilentServer, closed_port, forbidden, status, write_kubeconfig
from tests.verify_cluster import (
    EXPECTED_IDS,
    NS,
    P5_NODES,
    STACK,
    by_id,
    failures,
    healthy,
    use_sections,
    verify,
)


@pytest.fixture(autouse=True)
def sections(monkeypatch):
    use_sections(monkeypatch)


def test_healthy_cluster_passes_every_check_and_only_reads(tmp_path, capsys):
    with FakeKube(healthy()) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 0, failures(doc)
    assert [c["id"] for c in doc["checks"]] == EXPECTED_IDS
    assert {c["status"] for c in doc["checks"]} == {"pass"}
    checks = by_id(doc)
    assert "2 nodes labelled aidc.io/pool=train-h100, all Ready (bounds 2..2)" in checks["gpu-pool/train-h100/nodes"]["reason"]
    assert checks["gpu-pool/train-h100/gpus"]["reason"] == "8 nvidia.com/gpu allocatable on all 2 nodes"
    assert checks["gpu-pool/train-h100/efa"]["reason"] == "32 vpc.amazonaws.com/efa allocatable on all 2 nodes"
    # The GPU pool's own label set (pool, purpose, GPU, count, type, capacity, EFA) + the kubelet's instance type.
    assert checks["gpu-pool/train-h100/labels"]["reason"] == "8 expected labels on all 2 nodes"
    assert checks["gpu-pool/infer-l40s/gpus"]["reason"] == "4 nvidia.com/gpu allocatable on its 1 node"
    assert "3/3 available" in checks["nvidia/device-plugin"]["reason"]
    assert "2/2 available (covers 2 EFA nodes)" in checks["nvidia/efa-plugin"]["reason"]
    assert doc["summary"] == {"pass": len(EXPECTED_IDS), "fail": 0, "skipped": 0}
    # Read-only: nothing but GETs, and the node list fetched once for all the node checks.
    assert {m for m, _, _ in fake.requests} == {"GET"}
    assert fake.seen("GET", "/api/v1/nodes") == 1


def test_table_output(tmp_path, capsys):
    with FakeKube(healthy()) as fake:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
        code = main(["verify", STACK, "--kubeconfig", str(kubeconfig)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split() == ["STATUS", "CHECK", "REASON"]
    assert out[1].startswith("PASS    gpu-pool/train-h100/nodes")
    assert out[-1].startswith(f"{len(EXPECTED_IDS)} passed, 0 failed, 0 skipped in ")


def test_node_with_seven_of_eight_gpus(tmp_path, capsys):
    routes = healthy()
    nodes = routes[("GET", "/api/v1/nodes")][1]["items"]
    nodes[1]["status"]["allocatable"]["nvidia.com/gpu"] = "7"
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {"gpu-pool/train-h100/gpus":
                             f"1 of 2 nodes: {P5_NODES[1]} allocates 7 nvidia.com/gpu, p5.48xlarge has 8"}


def test_pending_pvc(tmp_path, capsys):
    routes = healthy()
    pvc = routes[("GET", "/api/v1/namespaces/research/persistentvolumeclaims/shared-lustre")][1]
    pvc["status"] = {"phase": "Pending"}
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {"storage/research/shared-lustre":
                             "PersistentVolumeClaim research/shared-lustre is Pending (waiting for volume lustre-research)"}


def test_missing_efa_resource(tmp_path, capsys):
    routes = healthy()
    node = routes[("GET", "/api/v1/nodes")][1]["items"][0]
    del node["status"]["allocatable"]["vpc.amazonaws.com/efa"]
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {"gpu-pool/train-h100/efa":
                             f"1 of 2 nodes: {P5_NODES[0]} advertises no vpc.amazonaws.com/efa "
                             "(EFA device plugin not running there?), expected 32"}


def test_rbac_denial_on_one_list(tmp_path, capsys):
    routes = healthy()
    routes[("GET", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues")] = forbidden("list", "clusterqueues", "kueue.x-k8s.io")
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    found = failures(doc)
    assert list(found) == ["training/research/cluster-queue"]
    reason = found["training/research/cluster-queue"]
    assert reason.startswith("forbidden: list clusterqueues.kueue.x-k8s.io: RBAC denies it (403 Forbidden)")
    assert 'User "verifier" cannot list resource "clusterqueues"' in reason


def test_expired_credentials_are_one_line_with_the_fix(tmp_path, capsys):
    with FakeKube(healthy()) as fake:
        fake.default = status(401, "Unauthorized", "Unauthorized")
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
        asked = len(fake.requests)
    assert code == 1 and doc["ok"] is False and doc["checks"] == []
    assert doc["error"]["kind"] == "unauthorized"
    assert "401 Unauthorized; token expired" in doc["error"]["message"]
    assert "aws eks get-token" in doc["error"]["fix"] and "AWS CLI must be on PATH" in doc["error"]["fix"]
    assert asked == 1  # one call found it; no check asked again


def test_api_server_not_listening_is_one_line(tmp_path, capsys):
    server = f"http://127.0.0.1:{closed_port()}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server)
    code = main(["verify", STACK, "--kubeconfig", str(kubeconfig), "--request-timeout", "2"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines() == [f"FAIL  unreachable: API server {server} unreachable (connection refused); nothing "
                                f"checked. Fix: {FIX['unreachable']}"]


def test_api_server_that_never_answers(tmp_path, capsys):
    with SilentServer() as silent:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", silent.url)
        code = main(["verify", STACK, "--kubeconfig", str(kubeconfig), "--json", "--request-timeout", "0.3"])
        doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["error"]["message"] == f"API server {silent.url} unreachable (timed out)"
    assert doc["checks"] == []


def test_scaled_down_pool_and_missing_objects(tmp_path, capsys):
    routes = healthy()
    nodes = routes[("GET", "/api/v1/nodes")][1]["items"]
    routes[("GET", "/api/v1/nodes")][1]["items"] = [n for n in nodes if "g6e" not in n["metadata"]["name"]
                                                    and n["metadata"]["labels"].get("aidc.io/pool") != "infer-l40s"]
    del routes[("GET", "/apis/apps/v1/namespaces/inference/deployments/llama-8b")]
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    checks = by_id(doc)
    # A Karpenter pool with no pending pods has no nodes: fine, and its per-node checks are skipped.
    assert checks["gpu-pool/infer-l40s/nodes"]["status"] == "pass"
    assert checks["gpu-pool/infer-l40s/gpus"] == {**checks["gpu-pool/infer-l40s/gpus"], "status": "skipped",
                                                   "reason": "no nodes in pool infer-l40s to inspect"}
    assert failures(doc) == {"inference/llama-8b": "Deployment inference/llama-8b not found"}
    assert code == 1


def test_pool_filter(tmp_path, capsys):
    with FakeKube(healthy()) as fake:
        code, doc = verify(tmp_path, fake.url, "--pool", "infer-l40s", capsys=capsys)
    assert code == 0
    ids = [c["id"] for c in doc["checks"]]
    assert not any(i.startswith("gpu-pool/train-h100") for i in ids)
    assert "gpu-pool/infer-l40s/gpus" in ids


@pytest.mark.parametrize("content", [None, "{not yaml: [", "apiVersion: v1\nkind: Config\nclusters: []\n"])
def test_unusable_kubeconfig_is_bad_input(tmp_path, capsys, content):
    path = tmp_path / "kubeconfig"
    if content is not None:
        path.write_text(content)
    code = main(["verify", STACK, "--kubeconfig", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "kubeconfig" in err and "Traceback" not in err


def test_unknown_stack_and_pool_are_bad_input(tmp_path, capsys):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:9")
    assert main(["verify", "no-such-stack", "--kubeconfig", str(kubeconfig)]) == 2
    assert "unknown stack 'no-such-stack'" in capsys.readouterr().err
    assert main(["verify", STACK, "--kubeconfig", str(kubeconfig), "--pool", "nope"]) == 2
    assert "--pool: not a GPU pool" in capsys.readouterr().err


def test_daemonset_missing_gpu_nodes():
    from aidc.verify.nvidia import daemonset_outcome

    ds = NS(status=NS(desired_number_scheduled=2, number_available=2, updated_number_scheduled=2))
    out = daemonset_outcome(ds, "gpu-operator/nvidia-device-plugin-daemonset", 3, "GPU nodes")
    assert out.status == "fail"
    assert "2/2 available; scheduled on 2, but the stack has 3 GPU nodes" in out.reason
