"""The typed spec: defaults per environment, and every bad input as one clear problem."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from components.spec import SpecError, load_spec


def base(env="prod", **aidc):
    cfg = {"aws:region": "us-east-1", "aidc:environment": env}
    cfg.update({f"aidc:{k}": v for k, v in aidc.items()})
    return cfg


def problems(cfg):
    with pytest.raises(SpecError) as exc:
        load_spec(cfg)
    return {p.path: p.message for p in exc.value.problems}


@pytest.mark.parametrize("env,nat,flow,protect,endpoints", [
    ("dev", "single", False, False, ()),
    ("staging", "single", True, False, ("ecr.api", "ecr.dkr", "sts")),
    ("prod", "onePerAz", True, True, ("ecr.api", "ecr.dkr", "sts")),
])
def test_environment_defaults(env, nat, flow, protect, endpoints):
    spec = load_spec(base(env))
    assert spec.network.nat_gateways == nat
    assert spec.network.flow_logs is flow
    assert spec.protect is protect
    assert spec.network.interface_endpoints == endpoints
    assert spec.cluster.endpoint_access == "private"


def test_stack_value_beats_environment_default():
    spec = load_spec(base("prod", network={"natGateways": "single"}))
    assert spec.network.nat_gateways == "single"
    assert spec.network.flow_logs is True  # the rest of the section keeps prod's defaults


def test_spec_is_immutable():
    spec = load_spec(base())
    with pytest.raises(ValidationError):
        spec.environment = "dev"


def test_every_problem_is_reported_at_once_with_its_key_path():
    found = problems(base(
        "prod",
        network={"cidr": "10.0.0.0/22", "availabilityZones": 3, "natGatways": "single"},
        cluster={"endpointAccess": "sideways"},
        gpuPools=[{"name": "a", "instanceType": "p5.48xlarge", "size": {"min": "many"}}],
    ))
    assert found["aidc:network.natGatways"] == "unknown key"
    assert "not one of" in found["aidc:cluster.endpointAccess"]
    assert "integer" in found["aidc:gpuPools[0].size.min"]
    assert "name" in found["aidc:gpuPools[0].name"] or "pattern" in found["aidc:gpuPools[0].name"]


def test_cidr_that_cannot_hold_the_subnets():
    found = problems(base("prod", network={"cidr": "10.0.0.0/18", "availabilityZones": 3}))
    assert "10.0.0.0/18 holds 2 blocks of /19" in found["aidc:network.cidr"]


def test_unknown_instance_type_suggests_close_ones():
    found = problems(base("prod", gpuPools=[{"name": "x1", "instanceType": "p5.48xlarg"}]))
    assert "unknown GPU instance type 'p5.48xlarg'" in found["aidc:gpuPools[0].instanceType"]
    assert "p5.48xlarge" in found["aidc:gpuPools[0].instanceType"]


def test_missing_required_values():
    assert problems({"aws:region": "us-east-1"}) == {"aidc:environment": "required"}
    assert "not one of" in problems({"aidc:environment": "qa"})["aidc:environment"]
    assert "required" in problems({"aidc:environment": "dev"})["aws:region"]


def test_public_endpoint_needs_an_allowlist():
    found = problems(base("dev", cluster={"endpointAccess": "public"}))
    assert "required when endpointAccess is public" in found["aidc:cluster.publicAccessCidrs"]


def test_unknown_kubernetes_version():
    found = problems(base("dev", cluster={"kubernetesVersion": "1.19"}))
    assert "not pinned in the catalog" in found["aidc:cluster.kubernetesVersion"]


def test_existing_cluster_needs_no_region_and_skips_aws_defaults():
    spec = load_spec({"aidc:environment": "prod", "aidc:cluster": {"existing": {"kubeconfig": "apiVersion: v1"}}})
    assert spec.existing_cluster and spec.region is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(["aidc:environment", "aidc:network", "aidc:cluster", "aidc:gpuPools", "aidc:tags",
                        "aidc:protect", "aws:region", "aidc:bogus"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, json_values, max_size=6), st.sampled_from(["dev", "staging", "prod", None]))
def test_random_config_never_raises_anything_but_spec_error(cfg, env):
    if env is not None:
        cfg = {**cfg, "aidc:environment": env}
    try:
        load_spec(cfg)
    except SpecError as err:
        assert err.problems and all(p.path and p.message for p in err.problems)
