"""`aidc verify` reports every fault of every check, explains a kind nobody serves as its
operator not installed, compares ClusterQueues with the stack, and runs on a recorded cluster
(--snapshot, written by --record), including the example shipped for stack prod."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aidc.cli import main
from aidc.engine import validate_stack
from aidc.verify.kube import NOT_INSTALLED, Kube, KubeError, load_client
from tests.conftest import ROOT
from tests.fake_kube import FakeKube, write_kubeconfig
from tests.verify_cluster import P5_NODES, STACK, by_id, failures, healthy, use_sections, verify
from tests.verify_snapshot import NOT_READY_NODE, SHORT_QUEUE_GPUS, build

EXAMPLE = ROOT / "docs" / "examples" / "verify" / "prod-snapshot.json"


@pytest.fixture(autouse=True)
def sections(monkeypatch):
    use_sections(monkeypatch)


def _nodes(routes):
    return routes[("GET", "/api/v1/nodes")][1]["items"]


def test_a_missing_node_does_not_hide_a_not_ready_one(tmp_path, capsys):
    routes = healthy()
    nodes = _nodes(routes)
    nodes.remove(next(n for n in nodes if n["metadata"]["name"] == P5_NODES[0]))
    other = next(n for n in nodes if n["metadata"]["name"] == P5_NODES[1])
    next(c for c in other["status"]["conditions"] if c["type"] == "Ready")["status"] = "False"
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc)["gpu-pool/train-h100/nodes"] == (
        f"1 node labelled aidc.io/pool=train-h100: 1 missing (the pool allows 2..2); 1 not Ready: {P5_NODES[1]}")


def test_cluster_queue_quotas_flavors_and_cohort_are_compared_with_the_stack(tmp_path, capsys):
    routes = healthy()
    cq = routes[("GET", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues")][1]["items"][0]
    flavor = cq["spec"]["resourceGroups"][0]["flavors"][0]
    next(r for r in flavor["resources"] if r["name"] == "nvidia.com/gpu")["nominalQuota"] = 8
    next(r for r in flavor["resources"] if r["name"] == "memory")["nominalQuota"] = "3900Gi"  # same amount
    cq["spec"]["resourceGroups"][0]["flavors"].append({"name": "spare", "resources": []})
    del cq["spec"]["cohortName"]
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {"training/research/cluster-queue": (
        "ClusterQueue research: quota on flavor spare the stack does not give; "
        "train-h100 nvidia.com/gpu nominalQuota 8, the stack says 16; cohort none, the stack says gpu")}


def test_a_kind_nobody_serves_is_its_operator_not_installed(tmp_path, capsys):
    routes = healthy()
    del routes[("GET", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues")]
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
        kube = Kube(load_client(str(write_kubeconfig(tmp_path / "k", fake.url)), 2), 2)
        with pytest.raises(KubeError) as mpi:
            kube.namespaced_objects("kubeflow.org", "v2beta1", "research", "mpijobs")
        missing = kube.deployment("inference", "no-such-server")  # a missing object is still just missing
    assert code == 1
    assert failures(doc)["training/research/cluster-queue"] == (
        "Kueue not installed: the cluster serves no clusterqueues.kueue.x-k8s.io/v1beta2 "
        "(list clusterqueues.kueue.x-k8s.io)")
    assert mpi.value.kind == NOT_INSTALLED and str(mpi.value).startswith("MPI operator not installed")
    assert missing is None


def test_a_kind_served_at_another_version_names_the_versions(tmp_path, capsys):
    routes = healthy()
    del routes[("GET", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues")]
    routes[("GET", "/apis/")] = (200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "kueue.x-k8s.io", "versions": [{"groupVersion": "kueue.x-k8s.io/v1beta1", "version": "v1beta1"}],
         "preferredVersion": {"groupVersion": "kueue.x-k8s.io/v1beta1", "version": "v1beta1"}}]})
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc)["training/research/cluster-queue"] == (
        "Kueue serves kueue.x-k8s.io v1beta1, not v1beta2: it is another release than the one the stack pins in "
        "the catalog (list clusterqueues.kueue.x-k8s.io)")


def test_record_then_replay_gives_the_same_results(tmp_path, capsys):
    snap = tmp_path / "snap.json"
    with FakeKube(healthy()) as fake:
        code, live = verify(tmp_path, fake.url, "--record", str(snap), capsys=capsys)
    assert code == 0
    recorded = json.loads(snap.read_text())
    assert "/api/v1/nodes" in recorded["answers"] and recorded["server"] == fake.url
    code = main(["verify", STACK, "--snapshot", str(snap), "--json"])
    replayed = json.loads(capsys.readouterr().out)
    assert code == 0 and replayed["checks"] == live["checks"]


def test_snapshot_and_kubeconfig_are_exclusive_and_a_bad_snapshot_is_bad_input(tmp_path, capsys):
    assert main(["verify", STACK]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": []}')
    assert main(["verify", STACK, "--snapshot", str(bad)]) == 2
    assert "not a cluster snapshot" in capsys.readouterr().err


def test_the_shipped_example_snapshot_is_the_stack_prod_cluster():
    _, spec = validate_stack("prod", ROOT)
    doc = build(spec)
    text = json.dumps(doc, indent=1) + "\n"
    if os.environ.get("AIDC_UPDATE_GOLDEN") == "1":
        EXAMPLE.write_text(text, encoding="utf-8")
    assert EXAMPLE.read_text(encoding="utf-8") == text, "run with AIDC_UPDATE_GOLDEN=1 to rebuild the example"


def test_the_dry_run_on_the_example_names_every_planted_fault(monkeypatch, capsys):
    monkeypatch.undo()  # the real prod spec, not the stand-in sections
    code = main(["verify", "prod", "--snapshot", str(EXAMPLE), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    fails = failures(doc)
    spec = validate_stack("prod", ROOT)[1]
    node = build(spec)["answers"]["/api/v1/nodes"]["items"][NOT_READY_NODE - 1]
    gpus = spec.training.team("research").quotas[0].gpus
    assert fails.pop("gpu-pool/train-h100/nodes") == (
        f"15 nodes labelled aidc.io/pool=train-h100: 1 missing (the pool allows 16..16); "
        f"1 not Ready: {node['metadata']['name']}")
    assert fails.pop("training/research/cluster-queue") == (
        f"ClusterQueue research: train-h100 nvidia.com/gpu nominalQuota {SHORT_QUEUE_GPUS}, the stack says {gpus}")
    assert fails == {}
    assert by_id(doc)["nvidia/efa-plugin"]["status"] == "pass" and doc["summary"]["pass"] > 15


def test_the_dry_run_is_documented():
    doc = (ROOT / "docs" / "verify.md").read_text()
    assert "aidc verify prod --snapshot docs/examples/verify/prod-snapshot.json" in doc
    assert Path(EXAMPLE).is_file()
