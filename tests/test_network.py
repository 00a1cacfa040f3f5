"""The network as planned for each shipped stack: subnets, NAT strategy, endpoints, flow logs."""

import json

import pytest

from tests.conftest import only

SUBNET = "aws:ec2/subnet:Subnet"


def cidrs(plan, tier):
    return sorted(r.inputs["cidrBlock"] for r in plan.of_type(SUBNET) if f"-{tier}-" in r.name)


def test_prod_subnets_follow_the_layout(plan_of):
    plan = plan_of("prod")
    assert cidrs(plan, "private") == ["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19"]
    assert cidrs(plan, "public") == ["10.40.224.0/24", "10.40.225.0/24", "10.40.226.0/24"]
    zones = sorted(r.inputs["availabilityZone"] for r in plan.of_type(SUBNET) if "-private-" in r.name)
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_no_subnet_gives_public_ips(plan_of):
    for stack in ("dev", "staging", "prod"):
        assert all(r.inputs["mapPublicIpOnLaunch"] is False for r in plan_of(stack).of_type(SUBNET))


@pytest.mark.parametrize("stack,nats", [("dev", 1), ("staging", 1), ("prod", 3)])
def test_nat_gateways_by_strategy(plan_of, stack, nats):
    plan = plan_of(stack)
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == nats
    routes = [r.inputs["routes"] for r in plan.of_type("aws:ec2/routeTable:RouteTable") if "-private-" in r.name]
    # every private route table sends its default route to a NAT gateway
    assert all(rt and rt[0]["cidrBlock"] == "0.0.0.0/0" and rt[0]["natGatewayId"] for rt in routes)
    if stack == "prod":  # one per zone: three distinct gateways
        assert len({rt[0]["natGatewayId"] for rt in routes}) == 3


@pytest.mark.parametrize("stack,endpoints", [
    ("dev", {"s3"}), ("staging", {"s3", "ecr.api", "ecr.dkr", "sts"}), ("prod", {"s3", "ecr.api", "ecr.dkr", "sts"}),
])
def test_endpoints(plan_of, stack, endpoints):
    eps = plan_of(stack).of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert {e.inputs["serviceName"].removeprefix("com.amazonaws.us-east-1.") for e in eps} == endpoints
    s3 = only([e for e in eps if e.inputs["serviceName"].endswith(".s3")])
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    assert all(e.inputs.get("privateDnsEnabled") for e in eps if e.inputs["vpcEndpointType"] == "Interface")


@pytest.mark.parametrize("stack,on", [("dev", False), ("staging", True), ("prod", True)])
def test_flow_logs(plan_of, stack, on):
    logs = plan_of(stack).of_type("aws:ec2/flowLog:FlowLog")
    assert len(logs) == (1 if on else 0)
    if on:
        assert logs[0].inputs["trafficType"] == "ALL"


def test_every_network_resource_is_tagged(plan_of):
    plan = plan_of("prod")
    for r in plan.resources:
        if r.type.startswith("aws:ec2/") and "tags" in r.inputs:
            assert r.inputs["tags"]["environment"] == "prod"
            assert r.inputs["tags"]["costCenter"] == "4711"


@pytest.mark.parametrize("stack,retention", [("staging", 90), ("prod", 365)])
def test_flow_logs_keep_by_environment_under_their_own_key(plan_of, stack, retention):
    plan = plan_of(stack)
    group = only(plan.of_type("aws:cloudwatch/logGroup:LogGroup"), "-flow-logs")
    assert group.inputs["retentionInDays"] == retention
    key = only(plan.of_type("aws:kms/key:Key"), "-flow-logs-logs")
    assert key.inputs["enableKeyRotation"] is True
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:") and key.urn in group.dependencies
    stmt = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}["CloudWatchLogsOfThisAccount"]
    assert stmt["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert stmt["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == \
        "arn:aws:logs:us-east-1:123456789012:log-group:*"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_default_security_group_is_emptied(plan_of, stack):
    plan = plan_of(stack)
    sg = only(plan.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"))
    assert sg.inputs["ingress"] == [] and sg.inputs["egress"] == []
    vpc = only(plan.of_type("aws:ec2/vpc:Vpc"))
    assert vpc.urn in sg.dependencies


def test_a_pinned_zone_on_a_counted_network_is_found_by_name(tmp_path, monkeypatch):
    """Zone letters are not positions: in a Region whose zones are a, c and d, a pool pinned to
    `c` on `availabilityZones: 3` must land in the subnet of zone c (the network's second)."""
    import yaml

    from aidc.engine import invokes, plan_stack
    from aidc.plan import stand_in
    from tests.conftest import ROOT

    def gapped(args, region):
        names = [f"{region}{c}" for c in "acd"]
        return {"names": names, "zoneIds": [f"apne1-az{i}" for i in (1, 2, 4)], "groupNames": [region] * 3,
                "id": region, "state": args.get("state")}

    monkeypatch.setitem(invokes.INVOKES, "aws:index/getAvailabilityZones:getAvailabilityZones", gapped)
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.staging.yaml").read_text())
    doc["config"]["aws:region"] = "ap-northeast-1"
    (pool,) = doc["config"]["aidc:gpuPools"]
    pool["availabilityZone"] = "ap-northeast-1c"
    path = tmp_path / "Pulumi.gapped.yaml"
    path.write_text(yaml.safe_dump(doc))
    plan = plan_stack(str(path), ROOT).plan
    subnets = {r.inputs["availabilityZone"]: r for r in plan.of_type(SUBNET) if "-private-" in r.name}
    assert sorted(subnets) == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    zone_c = f"subnet-{stand_in(SUBNET, subnets['ap-northeast-1c'].name)}"  # the offline engine's id
    group = only([r for r in plan.of_type("aws:eks/nodeGroup:NodeGroup") if not r.name.endswith("-system")])
    lustre = only(plan.of_type("aws:fsx/lustreFileSystem:LustreFileSystem"))
    assert group.inputs["subnetIds"] == [zone_c] and lustre.inputs["subnetIds"] == zone_c
