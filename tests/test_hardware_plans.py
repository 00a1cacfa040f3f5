"""Pools of the Blackwell-era and small H100 types planned end to end from a stack derived from
prod: p6-b300.48xlarge with its 16 EFA interfaces on cards 1-16 behind an ENA primary,
g7e.48xlarge with 4, p5.4xlarge with 1."""

from pathlib import Path

import pytest
import yaml

from aidc.engine import plan_stack
from components.catalog import catalog
from tests.conftest import only

ROOT = Path(__file__).resolve().parent.parent
CAT = catalog()
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
NEW_POOLS = [
    {"name": "train-b300", "instanceType": "p6-b300.48xlarge", "provisioner": "managed",
     "capacity": {"type": "onDemand"}, "size": {"min": 2, "max": 2}, "efa": True,
     "availabilityZone": "us-east-1a", "purpose": "training"},
    {"name": "infer-g7e", "instanceType": "g7e.48xlarge", "provisioner": "managed",
     "capacity": {"type": "onDemand"}, "size": {"min": 1, "max": 2}, "efa": True,
     "availabilityZone": "us-east-1b", "purpose": "inference"},
    {"name": "dev-h100", "instanceType": "p5.4xlarge", "provisioner": "managed",
     "capacity": {"type": "onDemand"}, "size": {"min": 0, "max": 2}, "efa": True,
     "availabilityZone": "us-east-1a", "purpose": "training"},
]


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    doc["config"]["aidc:gpuPools"] += NEW_POOLS
    path = tmp_path_factory.mktemp("hardware") / "Pulumi.hardware.yaml"
    path.write_text(yaml.safe_dump(doc))
    return plan_stack(str(path), ROOT)


def nics(plan, pool):
    return only(plan.of_type(LT), f"{pool}-lt").inputs["networkInterfaces"]


def test_p6_b300_pool_has_16_efa_interfaces_on_cards_1_to_16(planned):
    n = nics(planned.plan, "train-b300")
    assert len(n) == 17  # the ENA primary and 16 EFA
    primary, efa = n[0], n[1:]
    assert (primary["networkCardIndex"], primary["deviceIndex"]) == (0, 0) and "interfaceType" not in primary
    assert [i["networkCardIndex"] for i in efa] == list(range(1, 17))
    assert {(i["deviceIndex"], i["interfaceType"]) for i in efa} == {(1, "efa-only")}
    assert all(len(i["securityGroups"]) == 2 for i in n)
    facts = planned.spec.pools["train-b300"]
    assert facts.efa_devices == 16 and facts.topology_levels[-2] == "topology.k8s.aws/network-node-layer-4"
    ng = only(planned.plan.of_type(NG), "train-b300-ng")
    assert ng.inputs["instanceTypes"] == ["p6-b300.48xlarge"]
    assert ng.inputs["amiType"] == CAT.recipe.amis["al2023-nvidia"].ami_type


def test_g7e_pool_has_4_efa_interfaces_from_card_0(planned):
    n = nics(planned.plan, "infer-g7e")
    assert [(i["networkCardIndex"], i["deviceIndex"], i["interfaceType"]) for i in n] == [
        (0, 0, "efa"), (1, 1, "efa"), (2, 1, "efa"), (3, 1, "efa")]
    assert planned.spec.pools["infer-g7e"].efa_devices == 4


def test_p5_4xlarge_pool_has_one_efa_interface(planned):
    n = nics(planned.plan, "dev-h100")
    assert [(i["networkCardIndex"], i["deviceIndex"], i["interfaceType"]) for i in n] == [(0, 0, "efa")]
    assert planned.spec.pools["dev-h100"].gpus_per_node == 1


def test_efa_plugin_selects_every_efa_type(planned):
    rel = {r.inputs["name"]: r for r in planned.plan.of_type("kubernetes:helm.sh/v3:Release")}
    values = rel["aws-efa-k8s-device-plugin"].inputs["values"]["supportedInstanceLabels"]["values"]
    assert values == ["g7e.48xlarge", "p5.48xlarge", "p5.4xlarge", "p6-b300.48xlarge"]
