"""GPU pools from the catalog: for every GPU instance type, the EFA interfaces (count, network
card and device indexes, type), the placement rule, taints, labels, AMI type and boot data."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.catalog import Instance, catalog
from components.gpu_pool.fabric import placement_strategy
from components.gpu_pool.nodes import (
    MNG_CAPACITY,
    ami_release,
    capacity_settings,
    karpenter_ami_alias,
    user_data,
)
from components.spec import GpuPoolSpec
from components.spec.pools import EfaInterface, efa_layout, resolve_pool
from components.vocabulary import GPU_TAINT

CAT = catalog()
TYPES = sorted(CAT.ec2_types)  # what aidc launches; server shapes are tested in test_onprem_pools
EFA_TYPES = [t for t in TYPES if CAT.instances[t].efa_interfaces]
K8S = CAT.recipe.default_kubernetes_version

# Published EFA interface counts (EC2 user guide, "Network cards" and "EFA supported instance
# types"): the catalog must agree with them for every type it lists.
KNOWN_EFA = {"p5.48xlarge": 32, "p5e.48xlarge": 32, "p5en.48xlarge": 16, "p6-b200.48xlarge": 8,
             "p4d.24xlarge": 4, "p4de.24xlarge": 4, "p6-b300.48xlarge": 16, "g7e.48xlarge": 4, "p5.4xlarge": 1}


def pool(instance_type: str, **kw) -> GpuPoolSpec:
    inst = CAT.instances[instance_type]
    kw.setdefault("efa", inst.efa_interfaces > 0)
    if inst.capacity_block_only:
        kw.setdefault("capacity", {"type": "capacityBlock", "reservationId": "cr-0123456789abcdef0"})
    return GpuPoolSpec.model_validate({"name": "pool", "instanceType": instance_type, **kw})


def test_the_catalog_has_the_issue_s_efa_types():
    assert "p5.48xlarge" in CAT.instances
    assert len(efa_layout(CAT.instance("p5.48xlarge"))) == 32


@pytest.mark.parametrize("instance_type", TYPES)
def test_efa_interfaces_every_type(instance_type):
    inst = CAT.instances[instance_type]
    ifaces = efa_layout(inst)
    assert len(ifaces) == inst.efa_interfaces
    if instance_type in KNOWN_EFA:
        assert len(ifaces) == KNOWN_EFA[instance_type]
    if not ifaces:
        return
    # One interface per EFA card (0..n-1 unless the type lists efaCards), none beyond its cards.
    assert [i.network_card for i in ifaces] == list(inst.efa_network_cards)
    assert inst.efa_cards or inst.efa_network_cards == tuple(range(inst.efa_interfaces))
    assert max(i.network_card for i in ifaces) < inst.network_cards
    if ifaces[0].network_card == 0:
        assert ifaces[0] == EfaInterface(0, 0, "efa")
    else:  # no EFA on the primary card: every EFA interface is a secondary one
        ifaces = (None, *ifaces)
    rest = {"efa-only" if inst.efa_only else "efa"}
    assert {i.interface_type for i in ifaces[1:]} <= rest
    assert all(i.device_index == 1 for i in ifaces[1:])


@given(cards=st.integers(1, 32), efa=st.integers(0, 32), efa_only=st.booleans())
def test_efa_interfaces_properties(cards, efa, efa_only):
    efa = min(efa, cards)
    inst = Instance.model_validate({
        "family": "x", "gpu": "H100", "gpuCount": 8, "vcpu": 8, "memoryGib": 8, "networkGbps": 100,
        "networkCards": cards, "efaInterfaces": efa, "efaOnly": efa_only and efa > 0, "nvmeGb": 0, "nvmeDisks": 0,
        "amiFamilies": ["al2023-nvidia"],
        "price": {"onDemandUsdPerHour": 1, "source": {"url": "x", "date": "2025-01-01"}}})
    ifaces = efa_layout(inst)
    assert len(ifaces) == efa
    keys = {(i.network_card, i.device_index) for i in ifaces}
    assert len(keys) == efa  # no two interfaces on one card/device slot
    kinds = [i.interface_type for i in ifaces]
    assert kinds == (["efa"] + ["efa-only"] * (efa - 1) if inst.efa_only else ["efa"] * efa)
    if efa:
        assert ifaces[0].interface_type == "efa"  # the primary interface carries IP traffic


@pytest.mark.parametrize("instance_type", EFA_TYPES)
@pytest.mark.parametrize("capacity,provisioner,expected", [
    ({"type": "onDemand"}, "managed", "cluster"),
    ({"type": "spot"}, "managed", "cluster"),
    ({"type": "capacityBlock", "reservationId": "cr-0123456789abcdef0"}, "managed", None),
    ({"type": "reservation", "reservationId": "cr-0123456789abcdef0"}, "managed", None),
    ({"type": "onDemand"}, "karpenter", None),
])
def test_placement_group_rule_every_efa_type(instance_type, capacity, provisioner, expected):
    p = GpuPoolSpec.model_validate({"name": "pool", "instanceType": instance_type, "efa": True, "capacity": capacity,
                                    "provisioner": provisioner})
    assert placement_strategy(resolve_pool(p, CAT)) == expected


@pytest.mark.parametrize("instance_type", TYPES)
def test_no_placement_group_without_efa(instance_type):
    assert placement_strategy(resolve_pool(pool(instance_type, efa=False), CAT)) is None


@pytest.mark.parametrize("instance_type", TYPES)
def test_taints_and_labels_every_type(instance_type):
    p = pool(instance_type, labels={"team": "vision"})
    inst = CAT.instances[instance_type]
    facts = resolve_pool(p, CAT)
    assert [dict(t) for t in facts.taints] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}] == [GPU_TAINT]
    labels = facts.labels
    assert labels["aidc.io/pool"] == "pool"
    assert labels["aidc.io/gpu"] == inst.gpu
    assert labels["aidc.io/gpu-count"] == str(inst.gpu_count)
    assert labels["aidc.io/instance-type"] == instance_type
    assert labels["aidc.io/capacity-type"] == p.capacity.type
    assert labels["aidc.io/efa"] == ("true" if inst.efa_interfaces else "false")
    assert labels["team"] == "vision"


@pytest.mark.parametrize("instance_type", TYPES)
def test_ami_every_type_and_family(instance_type):
    inst = CAT.instances[instance_type]
    for family in inst.ami_families:
        if family not in ("al2023-nvidia", "bottlerocket-nvidia"):
            continue
        ami, release = ami_release(CAT, pool(instance_type, amiFamily=family), K8S)
        assert ami.ami_type == {"al2023-nvidia": "AL2023_x86_64_NVIDIA",
                                "bottlerocket-nvidia": "BOTTLEROCKET_x86_64_NVIDIA"}[family]
        assert release == CAT.recipe.amis[family].release_versions[K8S]
        assert "latest" not in release and "latest" not in karpenter_ami_alias(ami, release)
        data = user_data(ami, inst)
        if inst.nvme_disks == 0:
            assert data is None
        elif ami.os == "al2023":
            text = base64.b64decode(data).decode()
            assert "kind: NodeConfig" in text and "strategy: RAID0" in text
            assert "Content-Type: application/node.eks.aws" in text
        else:
            text = base64.b64decode(data).decode()
            assert '["apiclient", "ephemeral-storage", "init"]' in text


def test_karpenter_alias_from_release():
    cat_ami = CAT.recipe.amis["al2023-nvidia"]
    assert karpenter_ami_alias(cat_ami, "1.33.0-20250704") == "al2023@v20250704"
    assert karpenter_ami_alias(CAT.recipe.amis["bottlerocket-nvidia"], "1.41.0-2bb2f5d6") == "bottlerocket@v1.41.0"


@pytest.mark.parametrize("capacity,lt,mng", [
    ({"type": "onDemand"}, {}, "ON_DEMAND"),
    ({"type": "spot"}, {}, "SPOT"),
    ({"type": "capacityBlock", "reservationId": "cr-0123456789abcdef0"},
     {"instance_market_options": {"market_type": "capacity-block"},
      "capacity_reservation_specification": {"capacity_reservation_target": {
          "capacity_reservation_id": "cr-0123456789abcdef0"}}}, "CAPACITY_BLOCK"),
    ({"type": "reservation", "reservationGroupArn": "arn:aws:resource-groups:us-east-1:123456789012:group/g"},
     {"capacity_reservation_specification": {"capacity_reservation_target": {
         "capacity_reservation_resource_group_arn": "arn:aws:resource-groups:us-east-1:123456789012:group/g"}}},
     "ON_DEMAND"),
])
def test_capacity_targeting(capacity, lt, mng):
    p = GpuPoolSpec.model_validate({"name": "pool", "instanceType": "p5.48xlarge", "capacity": capacity})
    assert capacity_settings(p) == lt
    assert MNG_CAPACITY[p.capacity.type] == mng


@pytest.mark.parametrize("instance_type", TYPES)
def test_every_type_validates_as_a_pool(instance_type):
    """A pool of any catalog type (EFA on when it has it, on its only capacity if Capacity Blocks)
    passes validation in a prod stack: the catalog and the checks agree."""
    from components.spec import load_spec
    inst = CAT.instances[instance_type]
    p = {"name": "pool", "instanceType": instance_type, "efa": inst.efa_interfaces > 0, "size": {"max": 2}}
    if inst.capacity_block_only:
        p.update(capacity={"type": "capacityBlock", "reservationId": "cr-0123456789abcdef0"},
                 availabilityZone="us-east-1a")
    spec = load_spec({"aws:region": "us-east-1", "aidc:environment": "prod", "aidc:gpuPools": [p]})
    assert spec.pool("pool").instance_type == instance_type


@given(zones=st.lists(st.sampled_from([f"us-east-1{c}" for c in "abcdef"]), min_size=1, max_size=6, unique=True),
       pick=st.integers(0, 5))
def test_zone_index_is_the_position_among_named_zones(zones, pick):
    from components.spec import NetworkSpec
    from components.spec.gpu_pools import zone_index
    net = NetworkSpec.model_validate({"availabilityZones": zones})
    az = zones[pick % len(zones)]
    p = GpuPoolSpec.model_validate({"name": "pool", "instanceType": "p5.48xlarge", "availabilityZone": az})
    assert zone_index(p, net, "us-east-1") == zones.index(az)
    assert net.zone_count == len(zones)
