"""Address planning: the VPC CNI arithmetic against the upstream documentation's own tables,
per-subnet demand of the shipped stacks, the error a too-small network gets, and the pod
addressing modes (prefix delegation, custom networking) as planned resources."""

import json
from pathlib import Path

import pytest
import yaml

from aidc.engine import plan_stack
from components.catalog import catalog
from components.formulas.addresses import Demand, SubnetFit, max_pods, node_addresses, usable
from components.spec import load_spec
from components.spec.addresses import address_plan
from components.spec.pools import efa_layout
from tests.conftest import only, spec_problems

ROOT = Path(__file__).resolve().parent.parent
PROD = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]


def addresses(pods, enis, ips, mode="secondaryIp", custom=False):
    return node_addresses(pods, enis, ips, prefix_delegation=mode == "prefixDelegation", custom_networking=custom,
                          warm_enis=1, warm_prefixes=1)


# amazon-vpc-cni-k8s v1.22.3 docs/eni-and-ip-target.md: a t3.small (3 interfaces of 4 addresses)
# holds 1 interface with no pods, 3 with 5 pods, 3 (its limit) with 9.
@pytest.mark.parametrize("pods,enis", [(0, 1), (1, 2), (5, 3), (9, 3)])
def test_secondary_ip_mode_matches_the_cni_table(pods, enis):
    assert addresses(pods, 3, 4).node_subnet == enis * 4


# docs/prefix-and-ip-target.md: 0 pods -> 1 prefix, 5 -> 2, 16 -> 2, 17 -> 3 (plus the interface's address).
@pytest.mark.parametrize("pods,prefixes", [(0, 1), (5, 2), (16, 2), (17, 3)])
def test_prefix_delegation_matches_the_cni_table(pods, prefixes):
    got = addresses(pods, 3, 4, "prefixDelegation")
    assert (got.node_subnet, got.prefixes) == (1 + 16 * prefixes, prefixes)


def test_a_p5_node():
    limits = catalog().vpc_cni.limits["p5.48xlarge"]
    assert tuple(limits) == (2, 50)  # card 0 of 32 carries two interfaces of 50 addresses
    assert addresses(20, *limits).node_subnet == 100
    assert addresses(20, *limits, "prefixDelegation").node_subnet == 49
    custom = addresses(20, *limits, custom=True)  # the primary interface carries no pods
    assert (custom.node_subnet, custom.pod_subnet) == (1, 50)
    assert max_pods(*limits) == 100 and max_pods(*limits, custom_networking=True) == 51


def test_subnet_capacity_and_the_prefix_that_fits():
    assert usable(26) == 59 and usable(19) == 8187  # AWS keeps 5 of every subnet
    fit = SubnetFit("private-0", "10.0.0.0/26", "k", (Demand("pool", 60, ""),))
    assert (fit.fits, fit.shortfall, fit.prefix_that_fits) == (False, 1, 25)
    # /28 prefixes need whole blocks: a /24 has 16 blocks, 2 of them holding AWS's addresses
    assert SubnetFit("p", "10.0.0.0/24", "k", (Demand("pods", 14 * 16, "", 14),)).fits
    assert not SubnetFit("p", "10.0.0.0/24", "k", (Demand("pods", 15 * 16, "", 15),)).fits


def test_efa_interfaces_with_an_address():
    g6e, p5 = catalog().instance("g6e.48xlarge"), catalog().instance("p5.48xlarge")
    assert [i.interface_type for i in efa_layout(g6e)] == ["efa"] * 4  # no efa-only on g6e
    assert sum(i.interface_type == "efa" for i in efa_layout(p5)) == 1
    # Karpenter without networkInterfaces (types without efa-only): `efa` with an address on every card
    assert [i.interface_type for i in efa_layout(g6e, "karpenter")] == ["efa"] * 4
    # aidc's EC2NodeClass for efa-only types: an ENA primary and efa-only everywhere, none with an address
    assert {(i.device_index, i.interface_type) for i in efa_layout(p5, "karpenter")} == {(1, "efa-only")}


def test_prod_as_shipped_fits_and_its_figures_are_pinned(planned):
    plan = address_plan(planned("prod").spec)
    by_name = {s.name.split(" ")[0]: s for s in plan.subnets}
    assert all(s.fits for s in plan.subnets)
    p0 = {d.what: d.addresses for d in by_name["private-0"].demands}
    # 16 p5 (Capacity Block: replaced in place, no surge) x 2 interfaces x 50 addresses
    assert p0["train-h100"] == 1600
    # 6 m7i.2xlarge + 6 surge (2 per zone) over 3 zones: 4 here, each full (4 x 15 addresses)
    assert p0["system nodes"] == 240
    # Karpenter g6e.12xlarge inference pool: max 6 + 20 % replacement budget = 8 nodes over
    # 3 zones (3 here), 12 + 4 pods each -> 2 interfaces of 30
    assert p0["infer-l40s"] == 180
    assert (p0["Lustre"], p0["EKS control plane"], p0["interface endpoints"]) == (24, 16, 3)
    assert by_name["private-0"].needed == 2063
    assert [s.needed for s in plan.subnets if s.name.startswith("public")] == [1, 1, 1]


def test_a_small_network_is_refused_with_the_shortfall_and_a_size_that_fits():
    config = {**PROD, "aidc:network": {**PROD["aidc:network"], "cidr": "10.40.0.0/22", "privateSubnetPrefix": 26,
                                       "publicSubnetPrefix": 28}}
    msg = spec_problems(config)["aidc:network.privateSubnetPrefix"]
    assert "holds 59 addresses" in msg and "short by 2,004" in msg
    assert "use /20 or larger" in msg and "/18 or larger aidc:network.cidr" in msg
    assert "prefixDelegation it needs" in msg


def test_prefix_delegation_makes_the_same_pools_fit():
    small = {**PROD["aidc:network"], "cidr": "10.40.0.0/19", "privateSubnetPrefix": 21}  # 2,043 each
    assert "aidc:network.privateSubnetPrefix" in spec_problems({**PROD, "aidc:network": small})
    spec = load_spec({**PROD, "aidc:network": {**small, "pods": {"ipMode": "prefixDelegation"}}})
    assert all(s.fits for s in address_plan(spec).subnets)


def test_pod_cidr_rules():
    net = PROD["aidc:network"]
    assert "overlaps" in spec_problems({**PROD, "aidc:network": {**net, "pods": {"cidr": "10.40.0.0/16"}}})[
        "aidc:network.pods.cidr"]
    assert "aidc:network.pods.cidr" in spec_problems({**PROD, "aidc:network": {**net, "pods": {"cidr": "8.8.0.0/16"}}})
    assert "aidc:network.pods.subnetPrefix" in spec_problems(
        {**PROD, "aidc:network": {**net, "pods": {"subnetPrefix": 18}}})


def _plan(tmp_path, name, pods):
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    doc["config"]["aidc:network"]["pods"] = pods
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return plan_stack(str(path), ROOT)


def _cni_config(plan):
    addon = only([r for r in plan.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "vpc-cni"])
    return addon, json.loads(addon.inputs["configurationValues"])


def test_shipped_stacks_keep_the_cni_defaults(plan_of):
    _, config = _cni_config(plan_of("prod"))
    assert config == {"enableNetworkPolicy": "true"}


def test_prefix_delegation_is_set_on_the_addon_before_nodes_join(tmp_path):
    plan = _plan(tmp_path, "pd", {"ipMode": "prefixDelegation"}).plan
    addon, config = _cni_config(plan)
    assert config["env"] == {"ENABLE_PREFIX_DELEGATION": "true"}
    system = only(plan.of_type("aws:eks/nodeGroup:NodeGroup"), "-system")
    assert addon.urn in system.dependencies


def test_custom_networking_plans_pod_subnets_and_eniconfigs(tmp_path):
    planned = _plan(tmp_path, "cn", {"cidr": "100.64.0.0/16"})
    plan = planned.plan
    assoc = only(plan.of_type("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"))
    assert assoc.inputs["cidrBlock"] == "100.64.0.0/16"
    pods = [r.inputs["cidrBlock"] for r in sorted(plan.of_type("aws:ec2/subnet:Subnet"), key=lambda r: r.name)
            if "-pods-" in r.name]
    assert pods == ["100.64.0.0/18", "100.64.64.0/18", "100.64.128.0/18"]
    _, config = _cni_config(plan)
    assert config["env"] == {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
                             "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"}
    assert sorted(config["eniConfig"]["subnets"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert config["eniConfig"]["region"] == "us-east-1" and config["eniConfig"]["create"] is True
    # node subnets now hold one address per node; the pods' interfaces are in the pod subnets
    fits = {s.name.split(" ")[0]: s for s in address_plan(planned.spec).subnets}
    node = {d.what: d.addresses for d in fits["private-0"].demands}
    assert node["train-h100"] == 16 and {d.what: d.addresses for d in fits["pods-0"].demands}["train-h100"] == 800
    # Karpenter leaves the primary interface out of its max-pods arithmetic
    karpenter = only([r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"].endswith("/karpenter")])
    assert karpenter.inputs["values"]["settings"]["reservedENIs"] == "1"


def test_unknown_system_node_type_is_named():
    cluster = {**PROD["aidc:cluster"], "systemNodes": {"instanceType": "m7i.huge", "min": 2, "max": 3}}
    assert "m7i" in spec_problems({**PROD, "aidc:cluster": cluster})["aidc:cluster.systemNodes.instanceType"]


def test_the_cni_table_is_the_pinned_addon_version():
    cni = catalog().vpc_cni
    versions = {v.addons["vpc-cni"].version for v in catalog().recipe.kubernetes_versions.values()}
    assert versions == {cni.addon_version}
    assert cni.source[0].tag == cni.addon_version.split("-")[0]
    ec2 = set(catalog().ec2_types)
    assert ec2 <= set(cni.limits), f"GPU types without VPC CNI limits: {sorted(ec2 - set(cni.limits))}"


def _pool_facts(environment="prod", **pool):
    base = {"name": "extra", "instanceType": "g6e.48xlarge", "capacity": {"type": "onDemand"},
            "size": {"min": 0, "max": 6}}
    spec = load_spec({**PROD, "aidc:environment": environment,
                      "aidc:gpuPools": [*PROD["aidc:gpuPools"], {**base, **pool}]})
    return spec, spec.pools["extra"]


@pytest.mark.parametrize("pool,zones,surge", [
    ({"provisioner": "managed"}, 1, 2),                      # EKS: up to two new nodes per zone
    ({"provisioner": "managed"}, 3, 6),
    ({"provisioner": "karpenter", "purpose": "inference"}, 3, 2),  # 20 % of 6, rounded up
    ({"provisioner": "karpenter", "purpose": "training"}, 1, 0),   # never replaced while in use
    ({"provisioner": "managed", "availabilityZone": "us-east-1a",
      "capacity": {"type": "reservation", "reservationId": "cr-0abc1234def567890"}}, 1, 0),  # MINIMAL
])
def test_replacement_surge(pool, zones, surge):
    assert _pool_facts(**pool)[1].replacement_surge(zones) == surge


def test_efa_interfaces_with_an_address_are_counted_per_node():
    spec, _ = _pool_facts(provisioner="managed", efa=True, availabilityZone="us-east-1b", size={"min": 0, "max": 4})
    (pool,) = [d for s in address_plan(spec).subnets if s.name.startswith("private-1") for d in s.demands
               if d.what == "extra"]
    # 4 + 2 surge nodes; 12 daemon pods + 8 GPU pods -> 2 interfaces of 50, plus 3 `efa` interfaces
    assert pool.addresses == 6 * (2 * 50 + 3)


def test_shared_gpus_bring_their_pods_addresses():
    spec, _ = _pool_facts("dev", provisioner="managed", availabilityZone="us-east-1b", size={"min": 0, "max": 1},
                          timeSlicing={"replicas": 8}, purpose="inference")
    (pool,) = [d for s in address_plan(spec).subnets if s.name.startswith("private-1") for d in s.demands
               if d.what == "extra"]
    # 1 + 2 surge nodes; 12 daemon pods + 8 GPUs x 8 replicas = 76 pods -> 3 interfaces of 50
    assert pool.addresses == 3 * 3 * 50


def test_mig_slices_count_at_their_most():
    spec, _ = _pool_facts(provisioner="managed", availabilityZone="us-east-1b", size={"min": 0, "max": 1},
                          instanceType="p4d.24xlarge", mig={"config": "all-1g.5gb"}, purpose="inference")
    (pool,) = [d for s in address_plan(spec).subnets if s.name.startswith("private-1") for d in s.demands
               if d.what == "extra"]
    # 1 + 2 surge nodes; up to 7 slices per GPU: 12 + 56 pods -> 3 interfaces of 50 (8 GPUs alone: 2)
    assert pool.addresses == 3 * 3 * 50


def test_aidc_plan_exits_2_on_a_small_network_and_prints_prods_figures(tmp_path, capsys):
    from aidc.cli import main
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    doc["config"]["aidc:network"].update(cidr="10.40.0.0/22", privateSubnetPrefix=26, publicSubnetPrefix=28)
    path = tmp_path / "Pulumi.small.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert "aidc:network.privateSubnetPrefix" in err and "short by 2,004" in err and "Traceback" not in err
    assert main(["plan", "prod"]) == 0
    out = capsys.readouterr().out
    assert "addresses (VPC CNI secondary IPs):" in out
    assert "10.40.0.0/19       needs  2,063 of  8,187" in out


def test_a_karpenter_efa_pool_leaves_card_0_one_interface_for_pods():
    spec, _ = _pool_facts(provisioner="karpenter", efa=True, instanceType="p5.48xlarge",
                          availabilityZone="us-east-1b", size={"min": 0, "max": 2}, purpose="training")
    (pool,) = [d for s in address_plan(spec).subnets if s.name.startswith("private-1") for d in s.demands
               if d.what == "extra"]
    # 2 nodes, no surge (training); card 0 holds the ENA primary and an efa-only interface:
    # the VPC CNI has only the primary's 50 addresses, and no EFA interface takes one
    assert pool.addresses == 2 * 50
    problems = spec_problems({**PROD, "aidc:network": {**PROD["aidc:network"], "pods": {"cidr": "100.64.0.0/16"}},
                              "aidc:gpuPools": [*PROD["aidc:gpuPools"], {
                                  "name": "extra", "instanceType": "p5.48xlarge", "provisioner": "karpenter",
                                  "efa": True, "availabilityZone": "us-east-1b", "capacity": {"type": "onDemand"},
                                  "size": {"min": 0, "max": 2}, "purpose": "training"}]})
    assert "none left for pods" in problems["aidc:network.pods.cidr"]
