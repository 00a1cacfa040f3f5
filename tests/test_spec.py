"""The typed spec: defaults per environment, and every bad input as one clear problem."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from aidc.stackfile import read_stack
from components.spec import SpecError, load_spec
from tests.conftest import ROOT
from tests.conftest import spec_problems as problems


def base(env="prod", **aidc):
    cfg = {"aws:region": "us-east-1", "aidc:environment": env}
    cfg.update({f"aidc:{k}": v for k, v in aidc.items()})
    return cfg



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
    assert found["aidc:network.natGatways"] == "unknown key; did you mean natGateways?"
    assert found["aidc:cluster.endpointAccess"] == "'sideways' is not one of: private, publicAndPrivate or public"
    assert found["aidc:gpuPools[0].size.min"] == "expected a whole number, got 'many'"
    assert found["aidc:gpuPools[0].name"] == ("expected 2-32 lowercase letters, digits or '-', beginning with a "
                                             "letter and ending with a letter or digit, got 'a'")


def test_cidr_that_cannot_hold_the_subnets():
    found = problems(base("prod", network={"cidr": "10.0.0.0/18", "availabilityZones": 3}))
    assert "10.0.0.0/18 holds 2 blocks of /19" in found["aidc:network.cidr"]


def test_unknown_instance_type_suggests_close_ones():
    found = problems(base("prod", gpuPools=[{"name": "x1", "instanceType": "p5.48xlarg"}]))
    assert "unknown GPU instance type 'p5.48xlarg'" in found["aidc:gpuPools[0].instanceType"]
    assert "p5.48xlarge" in found["aidc:gpuPools[0].instanceType"]


def test_missing_required_values():
    assert problems({"aws:region": "us-east-1"}) == {
        "aidc:environment": "required (the rest is checked with prod's defaults)"}
    assert "not one of" in problems({"aidc:environment": "qa"})["aidc:environment"]
    assert "required" in problems({"aidc:environment": "dev"})["aws:region"]


def test_public_endpoint_needs_an_allowlist():
    found = problems(base("dev", cluster={"endpointAccess": "public"}))
    assert "required when endpointAccess is public" in found["aidc:cluster.publicAccessCidrs"]


def test_unknown_kubernetes_version():
    found = problems(base("dev", cluster={"kubernetesVersion": "1.19"}))
    assert "not pinned in the catalog" in found["aidc:cluster.kubernetesVersion"]


def test_existing_cluster_needs_no_region_and_skips_aws_defaults():
    spec = load_spec({"aidc:environment": "prod", "aidc:cluster": {"existing": {"kubeconfig": "apiVersion: v1"}, "kubernetesVersion": "1.33"}})
    assert spec.existing_cluster and spec.region is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(["aidc:environment", "aidc:network", "aidc:cluster", "aidc:gpuPools", "aidc:tags",
                        "aidc:protect", "aws:region", "aidc:bogus", "aidc:storage", "aidc:training",
                        "aidc:inference", "aidc:observability", "aidc:nvidia", "aidc:cost"])


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, json_values, max_size=6), st.sampled_from(["dev", "staging", "prod", None]))
def test_random_config_never_raises_anything_but_spec_error(cfg, env):
    if env is not None:
        cfg = {**cfg, "aidc:environment": env}
    try:
        load_spec(cfg)
    except SpecError as err:
        assert err.problems and all(p.path and p.message for p in err.problems)


def _paths(value, prefix=()):
    """Every path to a value inside a stack config (dict keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _mutated(config, path, new, delete):
    import copy

    out = copy.deepcopy(config)
    node = out
    for part in path[:-1]:
        node = node[part]
    if delete and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = new
    return out


SHIPPED_CONFIGS = {name: read_stack(name, ROOT).config for name in ("dev", "staging", "prod", "onprem")}


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(sorted(SHIPPED_CONFIGS)), st.data(), json_values, st.booleans())
def test_one_changed_value_in_a_shipped_stack_never_raises_anything_but_spec_error(stack, data, new, delete):
    # Shipped stacks reach every section's semantic checks, which random configs rarely do:
    # change or drop one value anywhere in one and the answer is a spec or SpecError, never a crash.
    config = SHIPPED_CONFIGS[stack]
    paths = [p for p in _paths(config) if p]
    path = data.draw(st.sampled_from(paths))
    try:
        load_spec(_mutated(config, path, new, delete))
    except SpecError as err:
        assert err.problems and all(p.path and p.message for p in err.problems)


def test_a_cidr_must_be_text_not_a_number_read_as_an_address():
    # pydantic's IPv4Network type reads `true` as 0.0.0.1/32; aidc's CIDRs are text only.
    found = problems(base("prod", cluster={"endpointAccess": "publicAndPrivate", "publicAccessCidrs": [True]}))
    assert found["aidc:cluster.publicAccessCidrs[0]"] == "expected text, got true"
    found = problems(base("prod", cluster={"endpointAccess": "publicAndPrivate", "publicAccessCidrs": ["10.1.2.3/8"]}))
    assert "has host bits set" in found["aidc:cluster.publicAccessCidrs[0]"]


def test_an_unquoted_version_is_explained():
    found = problems(base("prod", cluster={"kubernetesVersion": 1.3}))  # what YAML makes of `1.30`
    assert found["aidc:cluster.kubernetesVersion"] == "expected text, got the number 1.3: put the value in quotes"
