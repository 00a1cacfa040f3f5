import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.formulas.subnets import SubnetLayoutError, plan_subnets
from components.network.resources import nat_gateway_zones


def test_prod_layout_is_the_documented_one():
    subnets = plan_subnets("10.40.0.0/16", 3)
    assert [(s.tier, s.zone, s.cidr) for s in subnets] == [
        ("private", 0, "10.40.0.0/19"), ("private", 1, "10.40.32.0/19"), ("private", 2, "10.40.64.0/19"),
        ("public", 0, "10.40.224.0/24"), ("public", 1, "10.40.225.0/24"), ("public", 2, "10.40.226.0/24"),
    ]


def test_a_small_vpc_cannot_hold_many_zones():
    with pytest.raises(SubnetLayoutError, match="holds 2 blocks of /19"):
        plan_subnets("10.0.0.0/18", 3)


def test_public_subnets_may_not_be_larger_than_private():
    with pytest.raises(SubnetLayoutError, match="must not be larger"):
        plan_subnets("10.0.0.0/16", 2, private_prefix=20, public_prefix=19)


def test_nat_strategy():
    assert nat_gateway_zones("none", 3) == []
    assert nat_gateway_zones("single", 3) == [0]
    assert nat_gateway_zones("onePerAz", 3) == [0, 1, 2]


layouts = st.tuples(st.integers(16, 24), st.integers(1, 6), st.integers(17, 28), st.integers(17, 28))


@given(layouts)
def test_subnets_are_disjoint_inside_the_vpc_and_stable_when_zones_grow(layout):
    vpc_prefix, zones, private, public = layout
    vpc = f"10.0.0.0/{vpc_prefix}"
    try:
        subnets = plan_subnets(vpc, zones, private, public)
    except SubnetLayoutError:
        return
    nets = [ipaddress.IPv4Network(s.cidr) for s in subnets]
    assert all(n.subnet_of(ipaddress.IPv4Network(vpc)) for n in nets)
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            assert not a.overlaps(b)
    assert len(subnets) == 2 * zones
    # Adding a zone never moves an existing subnet (a moved subnet is a replaced one).
    try:
        grown = plan_subnets(vpc, zones + 1, private, public)
    except SubnetLayoutError:
        return
    assert {s.cidr for s in subnets} <= {s.cidr for s in grown}
