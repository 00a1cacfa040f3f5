"""The fake cluster of the `aidc verify` tests: the test stack, small stand-ins for its
storage, training and inference sections (so each test can vary one without a stack file),
the healthy cluster's API answers built from recorded JSON, and a runner of the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace as NS

import aidc.commands.verify as verify_cmd
from aidc.cli import main
from tests.fake_kube import (
    fixture,
    item_list,
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


# The attributes of StorageSpec, TrainingSpec (Team) and InferenceSpec (ServiceSpec) that verify reads.
SECTIONS = {
    "storage": NS(namespaces=("research",), model_namespaces=()),
    "training": NS(teams=(NS(name="research", scheduler="kueue", pod_security="baseline", cohort="gpu",
                             preemption=NS(reclaim_within_cohort="Any", within_cluster_queue="LowerPriority"),
                             quotas=(NS(pool="train-h100", gpus=16, cpu=380, memory_gib=3900, borrowing_limit=None),)),
                          NS(name="vision", scheduler="volcano", pod_security="restricted", quotas=()))),
    "inference": NS(kserve=False, namespace="inference",
                    services=(NS(name="llama-8b", min_replicas=2, multi_node=None),)),
}
EXPECTED_IDS = [
    "gpu-pool/train-h100/nodes", "gpu-pool/train-h100/gpus", "gpu-pool/train-h100/efa",
    "gpu-pool/train-h100/labels", "gpu-pool/train-h100/taints",
    "gpu-pool/infer-l40s/nodes", "gpu-pool/infer-l40s/gpus", "gpu-pool/infer-l40s/labels",
    "gpu-pool/infer-l40s/taints",
    "gpu-pool/train-h100/health", "gpu-pool/infer-l40s/health",
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


# The conditions the EKS node monitoring agent keeps on every node, all healthy (type names:
# aws/eks-node-monitoring-agent v1.7.0 pkg/conditions/conditions.go).
AGENT_CONDITIONS = ("AcceleratedHardwareReady", "ContainerRuntimeReady", "KernelReady", "NetworkingReady",
                    "StorageReady")


def with_agent(node: dict) -> dict:
    """The node as the agent leaves it: its conditions, True, inserted before the kubelet's Ready
    (which stays last)."""
    conds = node["status"]["conditions"]
    conds[-1:-1] = [{"type": t, "status": "True", "lastTransitionTime": "2026-11-20T09:16:02Z"}
                    for t in AGENT_CONDITIONS]
    return node


def healthy() -> dict:
    """Every object of the test stack, as a healthy cluster serves them."""
    nodes = [with_agent(_node(n, "node-p5.json")) for n in P5_NODES] + [
        with_agent(fixture("node-g6e.json")), fixture("node-system.json")]
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


