"""The example cluster snapshot shipped for `aidc verify prod --snapshot` (a dry run): what a
cluster built from a stack serves, made from the recorded API objects in tests/fixtures/verify
and the stack's own pools, queues, claims and servers, with faults planted so the dry run shows
what a failure looks like. tests/test_verify_faults.py keeps the shipped file equal to this."""

from __future__ import annotations

import copy
from typing import Any

from aidc.verify import names
from components.catalog import catalog
from components.training.queues import cluster_queue, local_queue
from tests.fake_kube import fixture, item_list

SERVER = "https://EXAMPLE0123456789.gr7.us-east-1.eks.amazonaws.com"
# The planted faults (also named in docs/verify.md): the first pool is one node short and one
# of its nodes is NotReady; one team's ClusterQueue holds fewer GPUs than the stack gives it.
SHORT_POOL_MISSING = 1
NOT_READY_NODE = 3
SHORT_QUEUE_GPUS = 8


def _node(pool: Any, i: int) -> dict:
    node = copy.deepcopy(fixture("node-p5.json"))
    name = f"ip-10-40-{i // 200}-{i % 200 + 10}.ec2.internal"
    labels = {k: v for k, v in node["metadata"]["labels"].items() if not k.startswith(("aidc.io/", "nvidia.com/"))}
    labels.update(pool.labels)
    labels.update({"kubernetes.io/hostname": name, names.INSTANCE_TYPE_WELL_KNOWN: pool.instance_type,
                   "beta.kubernetes.io/instance-type": pool.instance_type, "nvidia.com/gpu.present": "true"})
    node["metadata"].update(name=name, labels=labels, uid=f"00000000-0000-4000-8000-{i:012d}")
    node["spec"]["taints"] = [dict(t) for t in pool.taints]
    gpus, _ = pool.advertised_gpus_per_node
    for key in ("capacity", "allocatable"):
        node["status"][key][names.GPU_RESOURCE] = str(gpus)
        node["status"][key].pop(names.EFA_RESOURCE, None)
        if pool.efa_devices:
            node["status"][key][names.EFA_RESOURCE] = str(pool.efa_devices)
    return node


def _daemonset(namespace: str, name: str, scheduled: int, labels: dict | None = None) -> dict:
    ds = copy.deepcopy(fixture("daemonset.json"))
    ds["metadata"].update(name=name, namespace=namespace, labels=labels or {"app": name})
    ds["status"].update(currentNumberScheduled=scheduled, desiredNumberScheduled=scheduled, numberReady=scheduled,
                        updatedNumberScheduled=scheduled, numberAvailable=scheduled)
    return ds


def _active(obj: dict) -> dict:
    obj["status"] = {"conditions": [{"type": "Active", "status": "True", "reason": "Ready",
                                     "message": "Can admit new workloads",
                                     "lastTransitionTime": "2026-11-20T09:30:02Z"}]}
    return obj


def build(spec: Any) -> dict[str, Any]:
    """API path -> the JSON a healthy cluster of `spec` serves there, with the faults planted."""
    cat = catalog()
    answers: dict[str, Any] = {"/version": {
        "major": "1", "minor": "33", "gitVersion": "v1.33.5-eks-3025e55", "gitCommit": "0" * 40,
        "gitTreeState": "clean", "buildDate": "2026-10-01T00:00:00Z", "goVersion": "go1.24.6",
        "compiler": "gc", "platform": "linux/amd64"}}
    nodes, gpu_nodes, efa_nodes, i = [], 0, 0, 0
    for n, pool in enumerate(spec.pools.values()):
        count = max(pool.min_nodes, 1)
        for j in range(count):
            node = _node(pool, i)
            i += 1
            if n == 0 and j < SHORT_POOL_MISSING:
                continue  # a node that never joined
            if n == 0 and j == NOT_READY_NODE:
                ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
                ready.update(status="False", reason="KubeletNotReady",
                             message="container runtime network not ready: NetworkReady=false")
            nodes.append(node)
            gpu_nodes += 1
            efa_nodes += bool(pool.efa_devices)
    system = copy.deepcopy(fixture("node-system.json"))
    answers["/api/v1/nodes"] = item_list("Node", [*nodes, system])
    answers["/apis/nvidia.com/v1/clusterpolicies"] = item_list("ClusterPolicy", [fixture("clusterpolicy.json")],
                                                               "nvidia.com/v1")
    operator_ns = cat.chart(names.GPU_OPERATOR_CHART).namespace
    for ds in (names.DEVICE_PLUGIN_DAEMONSET, names.DCGM_EXPORTER_DAEMONSET):
        answers[f"/apis/apps/v1/namespaces/{operator_ns}/daemonsets/{ds}"] = _daemonset(operator_ns, ds, gpu_nodes)
    if efa_nodes:
        efa_ns = cat.chart(names.EFA_PLUGIN_CHART).namespace
        key, value = names.EFA_PLUGIN_SELECTOR
        answers[f"/apis/apps/v1/namespaces/{efa_ns}/daemonsets"] = item_list("DaemonSet", [
            _daemonset(efa_ns, names.EFA_PLUGIN_CHART, efa_nodes, {key: value})], "apps/v1")
    for namespace, claim in names.storage_claims(spec.storage):
        pvc = copy.deepcopy(fixture("pvc.json"))
        pvc["metadata"].update(name=claim, namespace=namespace)
        pvc["spec"]["volumeName"] = f"{claim}-{namespace}"
        answers[f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}"] = pvc
    group, version = names.KUEUE_GROUP, names.KUEUE_VERSION
    queues = []
    for t, team in enumerate(names.teams(spec.training)):
        cq = _active(cluster_queue(team))
        if t == 0:
            gpu = next(r for f in cq["spec"]["resourceGroups"][0]["flavors"] for r in f["resources"]
                       if r["name"] == names.GPU_RESOURCE)
            gpu["nominalQuota"] = str(SHORT_QUEUE_GPUS)
        queues.append(cq)
        answers[f"/apis/{group}/{version}/namespaces/{names.team_namespace(team)}/localqueues"] = item_list(
            "LocalQueue", [local_queue(team)], f"{group}/{version}")
    answers[f"/apis/{group}/{version}/clusterqueues"] = item_list("ClusterQueue", queues, f"{group}/{version}")
    for svc in names.services(spec.inference):
        ns = names.service_namespace(spec.inference, svc)
        dep = copy.deepcopy(fixture("deployment.json"))
        name = names.workload_name(svc, False)
        dep["metadata"].update(name=name, namespace=ns)
        dep["status"].update(replicas=svc.min_replicas, readyReplicas=svc.min_replicas,
                             availableReplicas=svc.min_replicas, updatedReplicas=svc.min_replicas)
        answers[f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"] = dep
    return {"server": SERVER, "recorded": "example: built from stack prod and recorded API objects, faults planted",
            "answers": dict(sorted(answers.items()))}
