"""Network: the VPC, its subnets per zone, NAT by strategy, endpoints and flow logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.common import assume_role_policy, child, policy_document, tags_for
from components.formulas.subnets import Subnet, nat_gateway_zones, plan_subnets
from components.logs import encrypted_log_group

if TYPE_CHECKING:
    from components.spec import NetworkSpec

__all__ = ["Network", "Subnet", "plan_subnets", "nat_gateway_zones"]


class Network(pulumi.ComponentResource):
    """A VPC over the configured zones. Private subnets carry nodes and internal load
    balancers; public ones carry NAT gateways and, only if a stack allows it, public ones."""

    def __init__(self, name: str, spec: "NetworkSpec", region: str, tags: Mapping[str, str],
                 opts: pulumi.ResourceOptions | None = None, *, protect: bool = False):
        super().__init__("aidc:network:Network", name, None, opts)
        zones = spec.zone_count
        self._zones_by_count = isinstance(spec.availability_zones, int)
        if self._zones_by_count:
            names = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOptions(parent=self))
            self.zone_names = names.names.apply(lambda n: sorted(n)[:zones])
        else:
            self.zone_names = pulumi.Output.from_input(list(spec.availability_zones))

        self.vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=spec.cidr, enable_dns_hostnames=True,
                               enable_dns_support=True, tags=tags_for(tags, f"{name}-vpc"), opts=child(self))
        vpc_id = self.vpc.id
        # Take over the VPC's default security group and leave it without rules (CIS AWS 5.4):
        # anything launched without a group of its own can then reach nothing. Adopting it
        # removes AWS's default rules (hashicorp/terraform-provider-aws @02910ee,
        # website/docs/r/default_security_group.html.markdown).
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc_id, ingress=[], egress=[],
                                     tags=tags_for(tags, f"{name}-default-sg"), opts=child(self))
        layout = plan_subnets(spec.cidr, zones, spec.private_subnet_prefix, spec.public_subnet_prefix)

        def subnet(s: Subnet) -> aws.ec2.Subnet:
            role = "internal-elb" if s.tier == "private" else "elb"
            sname = f"{name}-{s.tier}-{s.zone}"
            return aws.ec2.Subnet(sname, vpc_id=vpc_id, cidr_block=s.cidr,
                                  availability_zone=self.zone_names.apply(lambda n, i=s.zone: n[i]),
                                  map_public_ip_on_launch=False,
                                  tags={**tags_for(tags, sname), f"kubernetes.io/role/{role}": "1"},
                                  opts=child(self))

        self.private_subnets = [subnet(s) for s in layout if s.tier == "private"]
        self.public_subnets = [subnet(s) for s in layout if s.tier == "public"]

        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc_id, tags=tags_for(tags, f"{name}-igw"),
                                      opts=child(self))
        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc_id,
                                       routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
                                       tags=tags_for(tags, f"{name}-public-rt"), opts=child(self))
        for i, sn in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}-rta", subnet_id=sn.id,
                                          route_table_id=public_rt.id, opts=child(self))

        nats: dict[int, aws.ec2.NatGateway] = {}
        for z in nat_gateway_zones(spec.nat_gateways, zones):
            eip = aws.ec2.Eip(f"{name}-nat-{z}-eip", domain="vpc", tags=tags_for(tags, f"{name}-nat-{z}-eip"),
                              opts=child(self, depends_on=[igw]))
            nats[z] = aws.ec2.NatGateway(f"{name}-nat-{z}", allocation_id=eip.id,
                                         subnet_id=self.public_subnets[z].id,
                                         tags=tags_for(tags, f"{name}-nat-{z}"), opts=child(self))

        self.private_route_tables = []
        for i, sn in enumerate(self.private_subnets):
            nat = nats.get(i) or nats.get(0)
            routes = [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}] if nat else []
            rt = aws.ec2.RouteTable(f"{name}-private-{i}-rt", vpc_id=vpc_id, routes=routes,
                                    tags=tags_for(tags, f"{name}-private-{i}-rt"), opts=child(self))
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}-rta", subnet_id=sn.id, route_table_id=rt.id,
                                          opts=child(self))
            self.private_route_tables.append(rt)

        self.pod_subnets = self._pod_subnets(name, spec, tags) if spec.pods.cidr else []

        # S3 through a gateway endpoint: free, and keeps dataset and checkpoint traffic off NAT.
        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=vpc_id, service_name=f"com.amazonaws.{region}.s3",
                            vpc_endpoint_type="Gateway",
                            route_table_ids=[rt.id for rt in self.private_route_tables],
                            tags=tags_for(tags, f"{name}-s3"), opts=child(self))
        if spec.interface_endpoints:
            sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints", vpc_id=vpc_id, description="HTTPS from the VPC to interface endpoints",
                ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": [spec.cidr],
                          "description": "HTTPS from the VPC"}],
                tags=tags_for(tags, f"{name}-endpoints"), opts=child(self))
            for svc in spec.interface_endpoints:
                ename = f"{name}-{svc.replace('.', '-')}"
                aws.ec2.VpcEndpoint(ename, vpc_id=vpc_id, service_name=f"com.amazonaws.{region}.{svc}",
                                    vpc_endpoint_type="Interface", private_dns_enabled=True,
                                    subnet_ids=[s.id for s in self.private_subnets],
                                    security_group_ids=[sg.id], tags=tags_for(tags, ename), opts=child(self))
        if spec.flow_logs:
            self._flow_logs(name, spec, region, tags, protect)

        self.vpc_id = vpc_id
        self.private_subnet_ids = [s.id for s in self.private_subnets]
        self.pod_subnet_ids = [s.id for s in self.pod_subnets]
        self.register_outputs({"vpcId": vpc_id, "privateSubnetIds": self.private_subnet_ids,
                               "podSubnetIds": self.pod_subnet_ids, "zones": self.zone_names})

    def _pod_subnets(self, name: str, spec: "NetworkSpec", tags: Mapping[str, str]) -> list[aws.ec2.Subnet]:
        """VPC CNI custom networking: a secondary CIDR on the VPC and one pod subnet per zone,
        routed like the zone's node subnet. Pods take their addresses here, not from the nodes'."""
        assoc = aws.ec2.VpcIpv4CidrBlockAssociation(f"{name}-pods-cidr", vpc_id=self.vpc.id, cidr_block=spec.pods.cidr,
                                                    opts=child(self))
        subnets = []
        for z, cidr in enumerate(spec.pod_subnets()):
            sname = f"{name}-pods-{z}"
            sn = aws.ec2.Subnet(sname, vpc_id=self.vpc.id, cidr_block=cidr,
                                availability_zone=self.zone_names.apply(lambda n, i=z: n[i]),
                                map_public_ip_on_launch=False, tags=tags_for(tags, sname),
                                opts=child(self, depends_on=[assoc]))
            aws.ec2.RouteTableAssociation(f"{sname}-rta", subnet_id=sn.id, route_table_id=self.private_route_tables[z].id,
                                          opts=child(self))
            subnets.append(sn)
        return subnets

    def _flow_logs(self, name: str, spec: "NetworkSpec", region: str, tags: Mapping[str, str], protect: bool) -> None:
        group = encrypted_log_group(f"{name}-flow-logs", retention_days=spec.flow_log_retention_days, region=region,
                                    tags=tags, parent=self, protect=protect)
        role = aws.iam.Role(f"{name}-flow-logs", assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
                            tags=tags_for(tags, f"{name}-flow-logs"), opts=child(self))
        aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id, opts=child(self), policy=group.arn.apply(
            lambda arn: policy_document({
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [arn, f"{arn}:*"],
            })))
        aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=self.vpc.id, traffic_type="ALL", log_destination=group.arn,
                        iam_role_arn=role.arn, max_aggregation_interval=60,
                        tags=tags_for(tags, f"{name}-flow-log"), opts=child(self))

    def subnet_in(self, zone: int) -> aws.ec2.Subnet:
        return self.private_subnets[zone]

    def private_subnet_id(self, zone: int, zone_name: str | None = None) -> pulumi.Output[str]:
        """The private subnet of a zone. A zone pinned by name on a network that took the region's
        first N zones is found by name when the zones are known: zone letters are not positions
        (ap-northeast-1 has a, c and d), so `zone` is only where the plan expects it."""
        if zone_name is None or not self._zones_by_count:
            return self.private_subnets[zone].id

        def pick(args: list) -> str:
            names, ids = args[0], args[1:]
            if zone_name not in names:
                raise ValueError(f"{zone_name} is not one of the network's zones ({', '.join(names)}); "
                                 "list zones by name in aidc:network.availabilityZones")
            return ids[names.index(zone_name)]
        return pulumi.Output.all(self.zone_names, *[s.id for s in self.private_subnets]).apply(pick)
