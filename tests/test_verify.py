"""`aidc verify` run for real (the CLI, the official kubernetes client, HTTP) against a fake API
server on 127.0.0.1 that serves recorded API JSON: a healthy cluster, and broken ones that
must each fail exactly the right check with a reason a person can act on.

Sections other branches own (storage, training, inference) are given as stand-ins shaped
like their specs (`SpecView`) when this build's Spec does not have them yet."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace as NS

import pytest

import aidc.commands.verify as verify_cmd
from aidc.cli import main
from tests.fake_kube import (
    FakeKube,
    SilentServer,
    closed_port,
    fixture,
    forbidden,
    item_list,
    status,
    write_kubeconfig,
)

STACK = str(Path(__file__).parent / "fixtures" / "verify" / "Pulumi.verifytest.yaml")
P5_NODES = ("ip-10-40-12-34.ec2.internal", "ip-10-40-12-35.ec2.internal")


class SpecView:
    """The stack's real spec with some sections replaced or added."""

    def __init__(self, spec, **sections):
        self._spec = spec
        self.__dict__.update(sections)

    def __getattr__(self, name):
        return getattr(self._spec, name)


# Shaped like StorageSpec, TrainingSpec (Team) and InferenceSpec (ServiceSpec) of the sibling branches.
SECTIONS = {
    "storage": NS(namespaces=("research",), model_namespaces=()),
    "training": NS(teams=(NS(name="research", scheduler="kueue", pod_security="baseline",
                             quotas=(NS(pool="train-h100", gpus=16),)),
                          NS(name="vision", scheduler="volcano", pod_security="restricted", quotas=()))),
    "inference": NS(kserve=False, namespace="inference",
                    services=(NS(name="llama-8b", min_replicas=2, multi_node=None),)),
}
EXPECTED_IDS = [
    "gpu-pool/train-h100/nodes", "gpu-pool/train-h100/gpus", "gpu-pool/train-h100/efa",
    "gpu-pool/train-h100/labels", "gpu-pool/train-h100/taints",
    "gpu-pool/infer-l40s/nodes", "gpu-pool/infer-l40s/gpus", "gpu-pool/infer-l40s/labels",
    "gpu-pool/infer-l40s/taints",
    "nvidia/cluster-policy", "nvidia/device-plugin", "nvidia/dcgm-exporter", "nvidia/efa-plugin",
    "storage/research/shared-lustre",
    "training/research/cluster-queue", "training/research/local-queue",
    "inference/llama-8b",
]


REAL_LOAD = verify_cmd.load_stack_spec


def use_sections(monkeypatch, **overrides):
    """Serve the stack's spec with the stand-in sections (and any overrides)."""
    sections = {**SECTIONS, **overrides}

    def load(stack):
        name, spec = REAL_LOAD(stack)
        return name, SpecView(spec, **sections)

    monkeypatch.setattr(verify_cmd, "load_stack_spec", load)


@pytest.fixture(autouse=True)
def sections(monkeypatch):
    use_sections(monkeypatch)


def _node(name: str, template: str) -> dict:
    node = fixture(template)
    node["metadata"]["name"] = node["metadata"]["labels"]["kubernetes.io/hostname"] = name
    return node


def _daemonset(namespace: str, name: str, scheduled: int, labels: dict | None = None) -> dict:
    ds = fixture("daemonset.json")
    ds["metadata"].update(name=name, namespace=namespace, labels=labels or {"app": name})
    ds["status"].update(currentNumberScheduled=scheduled, desiredNumberScheduled=scheduled, numberReady=scheduled,
                        updatedNumberScheduled=scheduled, numberAvailable=scheduled)
    return ds


def healthy() -> dict:
    """Every object of the test stack, as a healthy cluster serves them."""
    nodes = [_node(n, "node-p5.json") for n in P5_NODES] + [fixture("node-g6e.json"), fixture("node-system.json")]
    efa_ds = _daemonset("aws-efa-device-plugin", "aws-efa-k8s-device-plugin", 2,
                        {"app.kubernetes.io/name": "aws-efa-k8s-device-plugin",
                         "app.kubernetes.io/instance": "aws-efa-k8s-device-plugin"})
    return {
        ("GET", "/api/v1/nodes"): (200, item_list("Node", nodes)),
        ("GET", "/apis/nvidia.com/v1/clusterpolicies"):
            (200, item_list("ClusterPolicy", [fixture("clusterpolicy.json")], "nvidia.com/v1")),
        ("GET", "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-device-plugin-daemonset"):
            (200, _daemonset("gpu-operator", "nvidia-device-plugin-daemonset", 3)),
        ("GET", "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-dcgm-exporter"):
            (200, _daemonset("gpu-operator", "nvidia-dcgm-exporter", 3)),
        ("GET", "/apis/apps/v1/namespaces/aws-efa-device-plugin/daemonsets"):
            (200, item_list("DaemonSet", [efa_ds], "apps/v1")),
        ("GET", "/api/v1/namespaces/research/persistentvolumeclaims/shared-lustre"): (200, fixture("pvc.json")),
        ("GET", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues"):
            (200, item_list("ClusterQueue", [fixture("clusterqueue.json")], "kueue.x-k8s.io/v1beta2")),
        ("GET", "/apis/kueue.x-k8s.io/v1beta2/namespaces/research/localqueues"):
            (200, item_list("LocalQueue", [fixture("localqueue.json")], "kueue.x-k8s.io/v1beta2")),
        ("GET", "/apis/apps/v1/namespaces/inference/deployments/llama-8b"): (200, fixture("deployment.json")),
    }


def verify(tmp_path: Path, server: str, *extra: str, capsys) -> tuple[int, dict]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server)
    code = main(["verify", STACK, "--kubeconfig", str(kubeconfig), "--json", "--request-timeout", "2", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


def by_id(doc: dict) -> dict[str, dict]:
    return {c["id"]: c for c in doc["checks"]}


def failures(doc: dict) -> dict[str, str]:
    return {c["id"]: c["reason"] for c in doc["checks"] if c["status"] == "fail"}


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


def test_expired_credentials_fail_every_check_as_such(tmp_path, capsys):
    with FakeKube(healthy()) as fake:
        fake.default = status(401, "Unauthorized", "Unauthorized")
        code, doc = verify(tmp_path, fake.url, capsys=capsys)
    assert code == 1
    reasons = failures(doc)
    assert list(reasons) == EXPECTED_IDS
    assert all(r.startswith("unauthorized: ") and "401 Unauthorized; token expired" in r for r in reasons.values())


def test_api_server_not_listening(tmp_path, capsys):
    server = f"http://127.0.0.1:{closed_port()}"
    code, doc = verify(tmp_path, server, capsys=capsys)
    assert code == 1
    reasons = failures(doc)
    assert list(reasons) == EXPECTED_IDS
    assert set(reasons.values()) == {f"unreachable: API server {server} unreachable (connection refused)"}


def test_api_server_that_never_answers(tmp_path, capsys):
    with SilentServer() as silent:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", silent.url)
        code = main(["verify", STACK, "--kubeconfig", str(kubeconfig), "--json", "--request-timeout", "0.3"])
        doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(failures(doc).values()) == {f"unreachable: API server {silent.url} unreachable (timed out)"}
    assert len(doc["checks"]) == len(EXPECTED_IDS)


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
    assert "2/2 available, but the stack has 3 GPU nodes" in out.reason



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
    (_break_ready, "gpu-pool/train-h100/nodes", f"2 nodes labelled aidc.io/pool=train-h100, 1 not Ready: {P5_NODES[0]}"),
    (_break_taint, "gpu-pool/infer-l40s/taints",
     "1 of 1 nodes: ip-10-40-77-9.ec2.internal lacks taint nvidia.com/gpu=true:NoSchedule"),
    (_break_label, "gpu-pool/train-h100/labels", f"1 of 2 nodes: {P5_NODES[1]} aidc.io/efa=false (want true)"),
    (_break_policy, "nvidia/cluster-policy", "ClusterPolicy cluster-policy is notReady"),
    (_break_dcgm, "nvidia/dcgm-exporter", "gpu-operator/nvidia-dcgm-exporter: 2/3 available; 1 pods not available"),
    (_break_queue, "training/research/cluster-queue", "ClusterQueue research is not active: FlavorNotFound: "
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


def test_existing_cluster_checks_the_nvidia_stack_on_its_gpu_nodes(tmp_path, capsys):
    """onprem brings its own nodes (no gpuPools): the GPU nodes are those GPU Feature Discovery
    labels nvidia.com/gpu.present=true, and the device plugin must cover all of them."""
    routes = healthy()
    routes[("GET", "/apis/apps/v1/namespaces/gpu-operator/daemonsets/nvidia-device-plugin-daemonset")] = \
        (200, _daemonset("gpu-operator", "nvidia-device-plugin-daemonset", 2))
    with FakeKube(routes) as fake:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake.url)
        code = main(["verify", "onprem", "--kubeconfig", str(kubeconfig), "--json"])
    checks = by_id(json.loads(capsys.readouterr().out))
    assert code == 1
    assert not any(i.startswith("gpu-pool/") for i in checks)
    assert checks["nvidia/device-plugin"]["reason"] == ("gpu-operator/nvidia-device-plugin-daemonset: 2/2 available, "
                                                        "but the stack has 3 GPU nodes (selector or tolerations miss some)")
    assert checks["nvidia/dcgm-exporter"]["status"] == "pass"


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
