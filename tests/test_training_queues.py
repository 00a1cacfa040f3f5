"""Kueue objects generated from the pools and teams of every shipped stack, pinned by golden
files, and checked against the required fields of the pinned Kueue CRDs.

Regenerate after an intended change with:
    AIDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_training_queues.py
and review the diff of tests/golden/training/."""

import os
from pathlib import Path

import pytest
import yaml

from components.catalog import catalog
from components.training.queues import kueue_objects, kueue_values, manager_config, volcano_queue
from tests.conftest import SHIPPED

GOLDEN = Path(__file__).parent / "golden" / "training"
QUEUE_KINDS = ("ResourceFlavor", "Topology", "ClusterQueue", "LocalQueue", "Queue")

# Required fields of kueue.x-k8s.io/v1beta2 at Kueue v0.19.2 (config/components/crd/bases):
# path ("[]" = every item) -> keys each object there must have.
KUEUE_REQUIRED = {
    "ClusterQueue": {"spec.resourceGroups[]": ("coveredResources", "flavors"),
                     "spec.resourceGroups[].flavors[]": ("name", "resources"),
                     "spec.resourceGroups[].flavors[].resources[]": ("name", "nominalQuota")},
    "Topology": {"": ("spec",), "spec": ("levels",), "spec.levels[]": ("nodeLabel",)},
    "ResourceFlavor": {"spec.nodeTaints[]": ("effect", "key")},
    "LocalQueue": {},
}


def _at(obj, path):
    """Every value at a dotted path, `[]` fanning out over list items."""
    items = [obj]
    for part in filter(None, path.split(".")):
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        items = [i[key] for i in items if isinstance(i, dict) and key in i]
        if many:
            items = [x for i in items for x in i]
    return items


def missing_required(obj):
    out = [f"{k} at {obj['kind']} top" for k in ("apiVersion", "kind", "metadata") if k not in obj]
    for path, keys in KUEUE_REQUIRED.get(obj["kind"], {}).items():
        for item in _at(obj, path):
            out += [f"{path or '.'}: {k}" for k in keys if k not in item]
    return out


def planned_queue_objects(plan):
    objs = [r.inputs for r in plan.resources
            if r.type.startswith("kubernetes:") and r.type.rsplit(":", 1)[-1] in QUEUE_KINDS]
    return sorted(objs, key=lambda o: (QUEUE_KINDS.index(o["kind"]), o["metadata"].get("namespace", ""),
                                       o["metadata"]["name"]))


@pytest.mark.parametrize("stack", SHIPPED)
def test_queue_objects_of_shipped_stacks_match_golden(stack, plan_of):
    objs = planned_queue_objects(plan_of(stack))
    path = GOLDEN / f"queues-{stack}.yaml"
    text = yaml.safe_dump_all(objs, sort_keys=True, default_flow_style=False)
    if os.environ.get("AIDC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with AIDC_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"queues of {stack} differ from {path}"


@pytest.mark.parametrize("stack", SHIPPED)
def test_plan_applies_exactly_the_generated_objects(stack, planned):
    ps = planned(stack)
    tr = ps.spec.training
    want = kueue_objects(tr, ps.spec.pools) + [volcano_queue(t) for t in tr.teams if t.scheduler == "volcano"]
    got = planned_queue_objects(ps.plan)
    key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, want))
    by_key = {key(o): o for o in got}
    for o in want:
        assert by_key[key(o)]["spec"] == o["spec"], key(o)


@pytest.mark.parametrize("stack", SHIPPED)
def test_custom_resources_have_the_crd_required_fields(stack, plan_of):
    for obj in planned_queue_objects(plan_of(stack)):
        assert not missing_required(obj), (obj["kind"], obj["metadata"]["name"], missing_required(obj))
        if obj["kind"] == "ClusterQueue":
            for group in obj["spec"].get("resourceGroups", []):
                for flavor in group["flavors"]:
                    # Kueue rejects a flavor whose resources are not the covered ones, in order.
                    assert [r["name"] for r in flavor["resources"]] == group["coveredResources"]


def test_the_checker_catches_a_missing_field():
    broken = {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ClusterQueue", "metadata": {"name": "x"},
              "spec": {"resourceGroups": [{"coveredResources": ["cpu"], "flavors": [{"name": "f", "resources": [
                  {"name": "cpu"}]}]}]}}
    assert missing_required(broken) == ["spec.resourceGroups[].flavors[].resources[]: nominalQuota"]


def test_prod_queues_match_pools_and_teams(planned):
    ps = planned("prod")
    objs = {(o["kind"], o["metadata"]["name"]): o for o in planned_queue_objects(ps.plan)}
    # One flavor per GPU pool, selecting its nodes and tolerating the GPU taint.
    assert {n for k, n in objs if k == "ResourceFlavor"} == {p.name for p in ps.spec.gpu_pools}
    h100 = objs[("ResourceFlavor", "train-h100")]["spec"]
    assert h100["nodeLabels"] == {"aidc.io/pool": "train-h100"}
    assert h100["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    # p5 reports 3 EC2 network layers; the non-EFA inference pool gets no topology.
    assert h100["topologyName"] == "ec2-network-3-layer"
    assert "topologyName" not in objs[("ResourceFlavor", "infer-l40s")]["spec"]
    levels = [lv["nodeLabel"] for lv in objs[("Topology", "ec2-network-3-layer")]["spec"]["levels"]]
    assert levels == ["topology.k8s.aws/network-node-layer-1", "topology.k8s.aws/network-node-layer-2",
                      "topology.k8s.aws/network-node-layer-3", "kubernetes.io/hostname"]
    # One ClusterQueue and one LocalQueue per team, the cohort shared.
    research = objs[("ClusterQueue", "research")]["spec"]
    assert research["cohortName"] == "h100"
    gpu = research["resourceGroups"][0]["flavors"][0]["resources"][2]
    assert gpu == {"name": "nvidia.com/gpu", "nominalQuota": "80", "borrowingLimit": "40"}
    assert research["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "research"}}
    assert objs[("LocalQueue", "research")]["metadata"]["namespace"] == "research"
    assert objs[("LocalQueue", "research")]["spec"] == {"clusterQueue": "research"}
    nominal = sum(int(f["resources"][2]["nominalQuota"]) for k, n in objs if k == "ClusterQueue"
                  for f in objs[(k, n)]["spec"]["resourceGroups"][0]["flavors"] if f["name"] == "train-h100")
    assert nominal == 128 == 16 * catalog().instances["p5.48xlarge"].gpu_count


def test_kueue_configuration(planned):
    tr = planned("prod").spec.training
    cfg = manager_config(tr)
    assert cfg["waitForPodsReady"]["timeout"] == "600s" and cfg["waitForPodsReady"]["blockAdmission"] is True
    assert cfg["manageJobsWithoutQueueName"] is True
    assert cfg["managedJobsNamespaceSelector"] == {"matchExpressions": [{"key": "aidc.io/team", "operator": "Exists"}]}
    assert {"jobset.x-k8s.io/jobset", "trainer.kubeflow.org/trainjob", "kubeflow.org/mpijob",
            "ray.io/rayjob"} <= set(cfg["integrations"]["frameworks"])
    assert cfg["resources"]["excludeResourcePrefixes"] == ["vpc.amazonaws.com/", "rdma/"]
    values = kueue_values(tr)
    assert values["controllerManager"]["manager"]["image"]["tag"] == f"v{catalog().chart('kueue').version}"
    assert yaml.safe_load(values["managerConfig"]["controllerManagerConfigYaml"]) == cfg
    dev = manager_config(planned("dev").spec.training)
    assert "kubeflow.org/mpijob" not in dev["integrations"]["frameworks"]  # mpi is off in dev


# The kueue chart's default manager configuration at the pinned chart version, stored with its
# source. aidc's configuration replaces the chart's string whole, so each default key is either
# kept or overridden on purpose, with the reason here.
CHART_CONFIG = Path(__file__).parent / "fixtures" / "upstream" / "kueue-manager-config.yaml"
KUEUE_OVERRIDES = {
    "integrations.frameworks": "only the operators the stack installs; Deployments, StatefulSets and "
                               "LeaderWorkerSets are model servers, which run outside Kueue's training quotas",
}


def leaves(tree, prefix=""):
    """Dotted key path -> value for every leaf of a mapping (a list is one leaf)."""
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out.update(leaves(value, f"{path}.") if isinstance(value, dict) and value else {path: value})
    return out


def test_kueue_configuration_keeps_the_chart_defaults_it_does_not_override(planned):
    chart = yaml.safe_load(CHART_CONFIG.read_text(encoding="utf-8"))
    assert chart["source"]["tag"] == f"v{catalog().chart('kueue').version.lstrip('v')}"
    defaults = leaves(chart["config"])
    for stack in ("dev", "prod"):
        ours = leaves(manager_config(planned(stack).spec.training))
        dropped = {k: v for k, v in defaults.items() if k not in KUEUE_OVERRIDES and ours.get(k) != v}
        assert not dropped, f"{stack}: chart defaults lost or changed without a listed reason: {dropped}"
    # Every listed override really differs (a stale entry would hide a later loss).
    prod = leaves(manager_config(planned("prod").spec.training))
    assert all(prod[k] != defaults[k] for k in KUEUE_OVERRIDES)
    # The point of keeping them: per-controller workers, not controller-runtime's one each.
    assert prod["controller.groupKindConcurrency.Workload.kueue.x-k8s.io"] == 10
    assert prod["controller.groupKindConcurrency.Job.batch"] == 5


def test_plan_summary_lists_each_team_queue(plan_of):
    from aidc.queues import queue_lines
    assert queue_lines(plan_of("prod")) == [
        "queues (flavors: infer-l40s, train-h100):",
        "  applied -> train-h100: 40 GPUs (+40 borrowable), cohort h100",
        "  platform -> train-h100: 8 GPUs (+idle cohort GPUs), cohort h100",
        "  research -> train-h100: 80 GPUs (+40 borrowable), cohort h100",
    ]
    assert queue_lines(plan_of("onprem")) == ["queues (flavors: dc1-h100):", "  research -> dc1-h100: 24 GPUs"]
