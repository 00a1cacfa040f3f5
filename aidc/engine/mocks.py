"""Pulumi mocks that stand in for the cloud, and a monitor that records every registration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_project, get_stack

from aidc.plan import stand_in

from .invokes import ACCOUNT_ID, answer

STACK_TYPE = "pulumi:pulumi:Stack"
# Renames aidc records in its plans: its own components'. Provider SDKs alias their own type
# renames (pulumi-aws V2 resources, Kubernetes API versions); those are the providers' to keep.
OWN_TYPES = "aidc:"


def _digest(typ: str, name: str, n: int = 17) -> str:
    return stand_in(typ, name, n)


# Outputs the cloud computes that programs read back (beyond echoing the inputs).
def _computed(typ: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    d = _digest(typ, name)
    if typ == "aws:eks/cluster:Cluster":
        cname = inputs.get("name", name)
        return {"endpoint": f"https://{d[:12].upper()}.gr7.{region}.eks.amazonaws.com",
                "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
                "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{d.upper()}"}]}],
                "clusterSecurityGroupId": f"sg-{d}", "status": "ACTIVE",
                "vpcConfig": {**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{d}"},
                "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{cname}"}
    if typ == "aws:ec2/launchTemplate:LaunchTemplate":
        return {"latestVersion": 1, "defaultVersion": 1}
    if typ == "aws:kms/key:Key":
        return {"keyId": f"{d[:8]}-{d[8:12]}-{d[12:16]}-0000-000000000000",
                "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{d}"}
    if typ == "aws:s3/bucket:Bucket" or typ == "aws:s3/bucketV2:BucketV2":
        bucket = inputs.get("bucket", name)
        return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    if typ == "aws:fsx/lustreFileSystem:LustreFileSystem":
        return {"dnsName": f"fs-{d}.fsx.{region}.amazonaws.com", "mountName": d[:8]}
    if typ == "aws:sqs/queue:Queue":
        return {"url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{inputs.get('name', name)}"}
    return {}


_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc", "aws:ec2/subnet:Subnet": "subnet", "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/internetGateway:InternetGateway": "igw", "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc", "aws:ec2/routeTable:RouteTable": "rtb", "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce", "aws:ec2/placementGroup:PlacementGroup": "pg",
    "aws:fsx/lustreFileSystem:LustreFileSystem": "fs",
}


class OfflineMocks(pulumi.runtime.Mocks):
    """Every resource 'creates' with its inputs echoed back plus what the cloud would compute;
    every invoke is answered from the table in invokes.py."""

    def __init__(self, region: str):
        self.region = region or "us-east-1"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        typ = args.typ
        if typ.startswith("pulumi:providers:"):
            return _digest(typ, args.name, n=8) + "-0000-0000-0000-000000000000", inputs
        prefix = _ID_PREFIX.get(typ)
        rid = f"{prefix}-{_digest(typ, args.name)}" if prefix else f"{args.name}-{_digest(typ, args.name, n=8)}"
        state = {**inputs}
        if typ.startswith("aws:"):
            state.setdefault("name", args.name)
            service = typ.split(":")[1].split("/")[0]
            state.setdefault("arn", f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{args.name}")
        state.update(_computed(typ, args.name, inputs, self.region))
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return answer(args.token, dict(args.args), self.region)


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: list[str] = field(default_factory=list)
    id: str = ""
    alias_types: list[str] = field(default_factory=list)  # former type tokens (`aliases=[Alias(type_=...)]`)
    # input property -> the URNs its value came from (Pulumi's `propertyDependencies`)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps every RegisterResource request, in the engine's terms."""

    def __init__(self, mocks: OfflineMocks):
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the real engine does: the full type chain of the parent, without the Stack's.
        if parent:
            chain = parent.split("::")[2]
            if chain != STACK_TYPE:
                type_ = f"{chain}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        self.registrations[response.urn] = Registration(
            urn=response.urn, type=request.type, name=request.name, custom=bool(request.custom),
            parent=request.parent, provider=request.provider, dependencies=list(request.dependencies),
            inputs=inputs, protect=bool(request.protect), retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace), ignore_changes=list(request.ignoreChanges),
            id=response.id, alias_types=[a.spec.type for a in request.aliases if a.HasField("spec")
                                         and a.spec.type.startswith(OWN_TYPES)],
            property_dependencies={k: sorted(set(v.urns)) for k, v in request.propertyDependencies.items()
                                   if v.urns})
        return response
