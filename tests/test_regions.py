"""`aws:region` and zone names against the catalog's AWS Regions (regions.yaml): an unknown
region is one problem at `aws:region` with the nearest names, zones must be zones of the region,
and `aidc plan` refuses such a stack with exit code 2."""

import yaml

from aidc.cli import main
from components.catalog import catalog
from components.spec import load_spec
from components.spec.gpu_pools import zone_index
from components.spec.regions import unknown_region, zone_error
from tests.conftest import ROOT
from tests.conftest import spec_problems as problems

REGIONS = catalog().regions.regions


def cfg(region="us-east-1", **aidc):
    out = {"aws:region": region, "aidc:environment": "dev"}
    out.update({f"aidc:{k}": v for k, v in aidc.items()})
    return out


def test_the_catalog_lists_the_commercial_regions_with_their_zones():
    aws = {name for name, r in REGIONS.items() if r.partition == "aws"}
    assert len(aws) == 34 and {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-7", "mx-central-1"} <= aws
    assert not any(name.endswith("-global") for name in REGIONS)
    # Every commercial Region has its AZ IDs; GovCloud and China are listed without (no public table).
    assert all(REGIONS[name].az_ids for name in aws)
    assert REGIONS["us-east-1"].az_ids == tuple(f"use1-az{i}" for i in range(1, 7))
    assert REGIONS["us-gov-west-1"].partition == "aws-us-gov" and REGIONS["us-gov-west-1"].az_ids == ()
    # Zone letters run to the highest AZ ID: ca-central-1 has az1, az2 and az4 (zones a, b, d).
    assert REGIONS["ca-central-1"].zone_letters == "abcd"
    assert REGIONS["us-east-2"].zone_letters == "abc"


def test_every_region_in_the_shipped_stacks_is_known():
    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        region = (yaml.safe_load(path.read_text())["config"] or {}).get("aws:region")
        assert region is None or region in REGIONS, path.name


def test_unknown_region_is_one_problem_with_the_nearest_names():
    assert problems(cfg("us-west-9")) == {
        "aws:region": "us-west-9 is not an AWS Region; did you mean us-west-1, us-west-2, eu-west-1?"}
    # Zones named in an unknown region are not judged on top: one error says what to fix.
    found = problems(cfg("eu-wset-1", network={"availabilityZones": ["eu-wset-1a", "eu-wset-1b"]}))
    assert list(found) == ["aws:region"] and "did you mean eu-west-1" in found["aws:region"]
    assert unknown_region("us-east-1") is None


def test_named_zones_must_be_zones_of_the_region():
    found = problems(cfg("us-east-2", network={"availabilityZones": ["us-east-2a", "us-east-2d", "us-east-1a"]}))
    assert found == {
        "aidc:network.availabilityZones[1]":
            "us-east-2d is not a zone of us-east-2: its 3 Availability Zones are named us-east-2a..us-east-2c",
        "aidc:network.availabilityZones[2]": "us-east-1a is not a zone of us-east-2"}
    load_spec(cfg("ca-central-1", network={"availabilityZones": ["ca-central-1a", "ca-central-1d"]}))


def test_zone_count_must_fit_the_region():
    found = problems(cfg("us-east-2", network={"availabilityZones": 4}))
    assert found == {"aidc:network.availabilityZones": "us-east-2 has 3 Availability Zones, not 4"}
    assert load_spec(cfg("us-east-1", network={"availabilityZones": 6})).network.zone_count == 6


def test_a_pool_zone_beyond_the_region_is_named_as_such():
    pool = {"name": "train", "instanceType": "p5.48xlarge", "provisioner": "managed", "size": {"min": 0, "max": 2},
            "efa": True, "availabilityZone": "us-east-2z"}
    found = problems(cfg("us-east-2", gpuPools=[pool]))
    assert found == {"aidc:gpuPools[0].availabilityZone":
                     "us-east-2z is not a zone of us-east-2: its 3 Availability Zones are named us-east-2a..us-east-2c"}
    spec = load_spec(cfg("us-east-2", gpuPools=[dict(pool, availabilityZone="us-east-2c")]))
    assert zone_index(spec.gpu_pools[0], spec.network, spec.region) == 2


def test_zone_error_without_catalog_zones_checks_the_form_only():
    assert zone_error("us-gov-west-1q", "us-gov-west-1") is None  # no public AZ list for GovCloud
    assert zone_error("us-gov-east-1a", "us-gov-west-1") == "us-gov-east-1a is not a zone of us-gov-west-1"


def test_plan_refuses_an_unknown_region_with_exit_2(tmp_path, capsys):
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace("aws:region: us-east-1", "aws:region: us-west-9")
    assert "us-west-9" in text
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(text)
    assert main(["plan", str(stack)]) == 2
    err = capsys.readouterr().err
    assert "aws:region: us-west-9 is not an AWS Region; did you mean us-west-1, us-west-2" in err
