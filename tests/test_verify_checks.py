"""`aidc verify`: each broken object fails exactly its own check; existing clusters, KServe
and multi-node (LeaderWorkerSet) services."""

from __future__ import annotations

import pytest

from tests.fake_kube import FakeKube, fixture
from tests.verify_cluster import NS, P5_NODES, by_id, failures, healthy, use_sections, verify


@pytest.fixture(autouse=True)
def sections(monkeypatch):
    use_sections(monkeypatch)


def _nodes(routes):
    return routes[("GET", "/api/v1/nodes")][1]["items"]


def _break_ready(r):
    _nodes(r)[0]["status"]["conditions"][-1].update(status="False", reason="KubeletNotReady")


def _break_taint(r):
    _nodes(r)[2]["spec"]["taints"] = []


def _break_label(r):
    _nodes(r)[1]["metadata"]["labels"]["aidc.io/efa"] = "false"


def _break_policy(r):
    r[("GET", "/apis/nvidia.com/v1/clusterpolicies")][1]["items"][0]["status"]["state"] = "notReady"


def _break_dcgm(r):
    r[("GET", "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-dcgm-exporter")][1]["status"]["numberAvailable"] = 2


def _break_queue(r):
    cq = r[("GET", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues")][1]["items"][0]
    cq["status"]["conditions"][0].update(status="False", reason="FlavorNotFound",
                                         message="Can't admit new workloads: references missing ResourceFlavor(s): train-h100")


def _break_local_queue(r):
    r[("GET", "/apis/kueue.x-k8s.io/v1beta2/namespaces/research/localqueues")][1]["items"] = []


def _break_replicas(r):
    r[("GET", "/apis/apps/v1/namespaces/inference/deployments/llama-8b")][1]["status"]["availableReplicas"] = 1


@pytest.mark.parametrize("breaks, check, reason", [
    (_break_ready, "gpu-pool/train-h100/nodes", f"2 nodes labelled aidc.io/pool=train-h100: 1 not Ready: {P5_NODES[0]}"),
    (_break_taint, "gpu-pool/infer-l40s/taints",
     "1 of 1 nodes: ip-10-40-77-9.ec2.internal lacks taint nvidia.com/gpu=true:NoSchedule"),
    (_break_label, "gpu-pool/train-h100/labels", f"1 of 2 nodes: {P5_NODES[1]} aidc.io/efa=false (want true)"),
    (_break_policy, "nvidia/cluster-policy", "ClusterPolicy cluster-policy is notReady"),
    (_break_dcgm, "nvidia/dcgm-exporter", "gpu-operator/nvidia-dcgm-exporter: 2/3 available; 1 pods not available"),
    (_break_queue, "training/research/cluster-queue", "ClusterQueue research: not active: FlavorNotFound: "
     "Can't admit new workloads: references missing ResourceFlavor(s): train-h100"),
    (_break_local_queue, "training/research/local-queue", "no LocalQueue in research points at ClusterQueue research"),
    (_break_replicas, "inference/llama-8b", "Deployment inference/llama-8b has 1 available replicas, minReplicas is 2"),
])
def test_each_broken_object_fails_exactly_its_check(tmp_path, capsys, breaks, check, reason):
    routes = healthy()
    breaks(routes)
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {check: reason}


KSERVE = NS(kserve=True, namespace="inference", services=(NS(name="llama-8b", min_replicas=2, multi_node=None),))
ISVC = "/apis/serving.kserve.io/v1beta1/namespaces/inference/inferenceservices/llama-8b"
PREDICTOR = "/apis/apps/v1/namespaces/inference/deployments/llama-8b-predictor"


def test_kserve_service_ready_with_its_predictor(tmp_path, capsys, monkeypatch):
    use_sections(monkeypatch, inference=KSERVE)
    routes = healthy()
    routes[("GET", ISVC)] = (200, fixture("inferenceservice.json"))
    routes[("GET", PREDICTOR)] = routes.pop(("GET", "/apis/apps/v1/namespaces/inference/deployments/llama-8b"))
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 0, failures(doc)
    assert by_id(doc)["inference/llama-8b"]["reason"] == ("InferenceService llama-8b Ready; Deployment "
                                                          "inference/llama-8b-predictor: 2 available (min 2)")


def test_kserve_service_not_ready(tmp_path, capsys, monkeypatch):
    use_sections(monkeypatch, inference=KSERVE)
    routes = healthy()
    isvc = fixture("inferenceservice.json")
    isvc["status"]["conditions"][-1] = {"type": "Ready", "status": "False", "reason": "PredictorNotReady"}
    routes[("GET", ISVC)] = (200, isvc)
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {"inference/llama-8b": "InferenceService inference/llama-8b not Ready: PredictorNotReady"}


def test_multi_node_service_counts_ready_groups(tmp_path, capsys, monkeypatch):
    big = NS(name="llama-405b", min_replicas=1, multi_node=NS(nodes=2))
    use_sections(monkeypatch, inference=NS(kserve=False, namespace="inference", services=(big,)))
    lws = {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
           "metadata": {"name": "llama-405b", "namespace": "inference"},
           "spec": {"replicas": 1, "leaderWorkerTemplate": {"size": 2}},
           "status": {"replicas": 1, "readyReplicas": 0, "updatedReplicas": 1,
                      "conditions": [{"type": "Progressing", "status": "True", "reason": "GroupsProgressing"}]}}
    routes = healthy()
    routes[("GET", "/apis/leaderworkerset.x-k8s.io/v1/namespaces/inference/leaderworkersets/llama-405b")] = (200, lws)
    with FakeKube(routes) as fake:
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    assert failures(doc) == {"inference/llama-405b":
                             "LeaderWorkerSet inference/llama-405b has 0 ready groups, minReplicas is 1"}
