"""`aidc verify` node health: a GPU fault the node monitoring agent reported, or a cordon,
fails exactly the pool's health check, with what to do next; without the agent's conditions
the check says it cannot see GPU faults."""

from __future__ import annotations

import pytest

from tests.fake_kube import FakeKube
from tests.verify_cluster import P5_NODES, by_id, failures, healthy, use_sections, verify


@pytest.fixture(autouse=True)
def sections(monkeypatch):
    use_sections(monkeypatch)


def _nodes(routes):
    return routes[("GET", "/api/v1/nodes")][1]["items"]


def test_a_gpu_fault_fails_the_pool_health_check_only(tmp_path, capsys):
    routes = healthy()
    cond = next(c for c in _nodes(routes)[1]["status"]["conditions"] if c["type"] == "AcceleratedHardwareReady")
    cond.update(status="False", reason="NvidiaXID79Error")
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {"gpu-pool/train-h100/health": (
        f"1 of 2 nodes unhealthy: {P5_NODES[1]}: AcceleratedHardwareReady=False (NvidiaXID79Error). "
        "node auto repair replaces them once the condition outlasts its toleration (10 min for "
        "AcceleratedHardwareReady); a cordoned node is left to you: drain it or uncordon it")}


def test_a_cordoned_node_is_reported(tmp_path, capsys):
    routes = healthy()
    _nodes(routes)[2]["spec"]["unschedulable"] = True
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert list(failures(doc)) == ["gpu-pool/infer-l40s/health"]
    assert ": cordoned." in failures(doc)["gpu-pool/infer-l40s/health"]


def test_without_the_agent_the_check_is_skipped_with_the_reason(tmp_path, capsys):
    routes = healthy()
    for node in _nodes(routes):
        node["status"]["conditions"] = [c for c in node["status"]["conditions"]
                                        if c["type"] not in ("AcceleratedHardwareReady", "ContainerRuntimeReady",
                                                             "KernelReady", "NetworkingReady", "StorageReady")]
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    check = by_id(doc)["gpu-pool/train-h100/health"]
    assert code == 0 and check["status"] == "skipped"
    assert "eks-node-monitoring-agent add-on running?" in check["reason"]
