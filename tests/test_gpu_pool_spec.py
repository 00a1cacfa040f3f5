"""Every bad GPU pool input is one problem with its exact key path (and exit code 2 from the CLI)."""

from pathlib import Path

import pytest
import yaml

from aidc.cli import main
from components.catalog import Constraint, catalog
from components.spec import load_spec
from components.spec.gpu_pools import zone_index
from tests.conftest import spec_problems as problems

CR = "cr-0123456789abcdef0"


def cfg(*pools, env="prod", **aidc):
    c = {"aws:region": "us-east-1", "aidc:environment": env, "aidc:gpuPools": list(pools)}
    c.update({f"aidc:{k}": v for k, v in aidc.items()})
    return c


def pool(**kw):
    return {"name": "train", "instanceType": "p5.48xlarge", "efa": True,
            "capacity": {"type": "onDemand"}, "size": {"min": 0, "max": 2}, **kw}



@pytest.fixture
def h100_mig(monkeypatch):
    """H100 boards partition with MIG; until the catalog marks them (Gpu.mig), mark them here."""
    cat = catalog()
    if not cat.gpus["H100"].mig:
        monkeypatch.setitem(cat.gpus, "H100", cat.gpus["H100"].model_copy(update={"mig": True}))


def test_a_good_pool_loads():
    spec = load_spec(cfg(pool()))
    assert spec.pool("train").ami_family == "al2023-nvidia"
    assert spec.charts == ["node-feature-discovery", "gpu-operator", "aws-efa-k8s-device-plugin"]


def test_efa_on_a_type_without_it():
    assert problems(cfg(pool(instanceType="g6.xlarge"))) == {
        "aidc:gpuPools[0].efa": "g6.xlarge has no EFA interfaces"}


def test_capacity_block_without_a_reservation_id():
    found = problems(cfg(pool(capacity={"type": "capacityBlock"}, availabilityZone="us-east-1a")))
    assert found == {"aidc:gpuPools[0].capacity.reservationId": "required for capacityBlock"}


def test_spot_with_a_reservation():
    found = problems(cfg(pool(capacity={"type": "spot", "reservationId": CR})))
    assert found == {"aidc:gpuPools[0].capacity.type": "spot capacity cannot use a reservation"}


def test_on_demand_for_a_capacity_block_only_type():
    only = [t for t, i in catalog().instances.items() if i.capacity_block_only]
    if not only:
        pytest.skip("the catalog lists no Capacity-Block-only type")
    found = problems(cfg(pool(instanceType=only[0])))
    assert found["aidc:gpuPools[0].capacity.type"] == f"{only[0]} is sold only as Capacity Blocks; use capacityBlock"


def test_min_above_max():
    found = problems(cfg(pool(size={"min": 3, "max": 2})))
    assert found == {"aidc:gpuPools[0].size.min": "3 is above max 2"}


def test_unknown_gpu_type():
    found = problems(cfg(pool(instanceType="p9.96xlarge")))
    assert list(found) == ["aidc:gpuPools[0].instanceType"]
    assert found["aidc:gpuPools[0].instanceType"].startswith("unknown GPU instance type 'p9.96xlarge'")


def test_two_pools_with_one_name():
    found = problems(cfg(pool(), pool()))
    assert found == {"aidc:gpuPools[1].name": "'train' is already the name of gpuPools[0]"}


def test_reserved_capacity_needs_a_zone_and_no_group_with_an_id():
    found = problems(cfg(pool(capacity={"type": "reservation", "reservationId": CR,
                                        "reservationGroupArn": "arn:aws:resource-groups:us-east-1:1:group/g"})))
    assert found == {
        "aidc:gpuPools[0].availabilityZone": "required for reservation: the reservation lives in one zone",
        "aidc:gpuPools[0].capacity.reservationGroupArn": "give reservationId or reservationGroupArn, not both"}


def test_zone_outside_the_network():
    found = problems(cfg(pool(availabilityZone="us-east-1e")))
    assert "first 3 zones" in found["aidc:gpuPools[0].availabilityZone"]
    found = problems(cfg(pool(availabilityZone="us-east-1c"), network={"availabilityZones": ["us-east-1a", "us-east-1b"]}))
    assert found == {"aidc:gpuPools[0].availabilityZone":
                     "us-east-1c is not one of the network's zones (us-east-1a, us-east-1b)"}
    found = problems(cfg(pool(availabilityZone="us-west-2a")))
    assert found == {"aidc:gpuPools[0].availabilityZone": "us-west-2a is not a zone of us-east-1"}


def test_zone_index_mapping():
    spec = load_spec(cfg(pool(name="aa", availabilityZone="us-east-1b"), pool(name="bb", efa=False),
                         pool(name="cc")))
    assert [zone_index(p, spec.network, spec.region) for p in spec.gpu_pools] == [1, None, 0]
    named = load_spec(cfg(pool(availabilityZone="us-east-1d"),
                          network={"availabilityZones": ["us-east-1d", "us-east-1f"]}))
    assert zone_index(named.gpu_pools[0], named.network, named.region) == 0


def test_karpenter_pool_has_no_floor_and_selects_reservations_by_id():
    found = problems(cfg(pool(provisioner="karpenter", size={"min": 1, "max": 2, "desired": 1},
                              capacity={"type": "reservation",
                                        "reservationGroupArn": "arn:aws:resource-groups:us-east-1:1:group/g"},
                              availabilityZone="us-east-1a")))
    assert set(found) == {"aidc:gpuPools[0].size.min", "aidc:gpuPools[0].size.desired",
                          "aidc:gpuPools[0].capacity.reservationGroupArn"}


def test_time_slicing_is_dev_only_and_not_with_mig(h100_mig):
    sliced = pool(instanceType="g6.xlarge", efa=False, timeSlicing={"replicas": 4})
    assert problems(cfg(sliced, env="staging")) == {"aidc:gpuPools[0].timeSlicing":
                                                    "time-slicing shares GPU memory without isolation; "
                                                    "dev only (this is staging)"}
    load_spec(cfg(sliced, env="dev"))
    found = problems(cfg(pool(timeSlicing={"replicas": 2}, mig={"strategy": "single"}), env="dev"))
    assert found == {"aidc:gpuPools[0].timeSlicing": "choose MIG or time-slicing, not both"}


def test_mig_only_on_mig_gpus_and_one_strategy(h100_mig):
    found = problems(cfg(pool(instanceType="g6.xlarge", efa=False, mig={"strategy": "single"})))
    assert found == {"aidc:gpuPools[0].mig": "L4 GPUs (g6.xlarge) cannot be partitioned with MIG"}
    found = problems(cfg(pool(name="aa", mig={"strategy": "single"}), pool(name="bb", mig={"strategy": "mixed"})))
    assert list(found) == ["aidc:gpuPools[1].mig.strategy"]


def test_ami_family_the_type_cannot_boot_and_reserved_labels():
    no_br = [t for t, i in catalog().ec2_types.items() if "bottlerocket-nvidia" not in i.ami_families]
    if no_br:
        inst = catalog().instances[no_br[0]]
        found = problems(cfg(pool(instanceType=no_br[0], efa=inst.efa_interfaces > 0,
                                  amiFamily="bottlerocket-nvidia",
                                  capacity={"type": "capacityBlock", "reservationId": CR}
                                  if inst.capacity_block_only else {"type": "onDemand"},
                                  availabilityZone="us-east-1a")))
        assert list(found) == ["aidc:gpuPools[0].amiFamily"]
    found = problems(cfg(pool(labels={"nvidia.com/gpu.present": "false", "team": "a"})))
    assert list(found) == ["aidc:gpuPools[0].labels.nvidia.com/gpu.present"]
    assert "not one of" in problems(cfg(pool(amiFamily="ubuntu")))["aidc:gpuPools[0].amiFamily"]


def test_existing_cluster_pools_describe_servers_and_network_operator_is_on_prem_only():
    # An EC2 pool on an on-prem cluster: wrong provisioner, EC2 type, EC2 launch keys; each named.
    found = problems({"aidc:environment": "staging", "aidc:cluster": {"existing": {"kubeconfig": "x"}, "kubernetesVersion": "1.33"},
                      "aidc:gpuPools": [pool()]})
    assert set(found) == {"aidc:gpuPools[0].provisioner", "aidc:gpuPools[0].instanceType",
                          "aidc:gpuPools[0].efa", "aidc:gpuPools[0].capacity"}
    found = problems(cfg(pool(), nvidia={"networkOperator": True}))
    assert list(found) == ["aidc:nvidia.networkOperator"]


def test_catalog_constraints_are_checked_with_the_pool_key(monkeypatch):
    cat = catalog()
    rule = Constraint.model_validate({
        "id": "test-floor", "description": "Capacity Blocks with Karpenter", "when":
        {"capacity": "capacityBlock", "provisioner": "karpenter"}, "require": {"karpenter": "999.0.0"},
        "source": {"url": "x", "date": "2025-01-01"}})
    k8s_rule = rule.model_copy(update={"id": "k8s-floor", "when": {"family": cat.instance("p5.48xlarge").family},
                                       "require": {"kubernetes": "9.99"}})
    recipe = cat.recipe.model_copy(update={"constraints": (rule, k8s_rule)})
    monkeypatch.setattr(cat, "recipe", recipe)
    found = problems(cfg(pool(provisioner="karpenter", capacity={"type": "capacityBlock", "reservationId": CR},
                              availabilityZone="us-east-1a")))
    assert found["aidc:gpuPools[0].capacity.type"].endswith(
        f"(constraint test-floor): needs karpenter >= 999.0.0, the stack has {cat.chart('karpenter').version}")
    assert "needs kubernetes >= 9.99" in found["aidc:gpuPools[0].instanceType"]


def test_chart_kubernetes_floor(monkeypatch):
    cat = catalog()
    charts = dict(cat.recipe.charts)
    charts["gpu-operator"] = charts["gpu-operator"].model_copy(update={"min_kubernetes": "9.0"})
    monkeypatch.setattr(cat, "recipe", cat.recipe.model_copy(update={"charts": charts}))
    found = problems(cfg(pool()))
    assert "gpu-operator" in found["aidc:cluster.kubernetesVersion"] and "9.0" in found["aidc:cluster.kubernetesVersion"]


def test_cli_reports_every_problem_with_exit_2(tmp_path: Path, capsys):
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(yaml.safe_dump({"config": cfg(pool(), pool(instanceType="g6.xlarge",
                                                                 capacity={"type": "spot", "reservationId": CR}))}))
    assert main(["plan", str(stack)]) == 2
    err = capsys.readouterr().err
    assert "aidc:gpuPools[1].name" in err and "aidc:gpuPools[1].efa" in err and "aidc:gpuPools[1].capacity.type" in err
    assert "Traceback" not in err


def test_chart_scoped_constraint(monkeypatch):
    cat = catalog()
    rule = Constraint.model_validate({
        "id": "op-k8s", "description": "GPU Operator platform support", "when": {"chart": "gpu-operator"},
        "require": {"kubernetes": "9.1"}, "source": {"url": "x", "date": "2025-01-01"}})
    monkeypatch.setattr(cat, "recipe", cat.recipe.model_copy(update={"constraints": (rule,)}))
    found = problems(cfg(pool()))
    assert found == {"aidc:cluster.kubernetesVersion": "GPU Operator platform support (constraint op-k8s): "
                     f"needs kubernetes >= 9.1, the stack has {cat.recipe.default_kubernetes_version}"}
    load_spec(cfg())  # no GPU pool: no GPU Operator, the rule does not apply
