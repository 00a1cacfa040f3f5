"""GpuNodePool: one pool of GPU nodes of one instance type, on the capacity the team holds.

`managed`: an EKS managed node group with its own launch template (every EFA interface, EFA
security group, placement group unless reserved, capacity targeting, pinned AMI release).
`karpenter`: a Karpenter NodePool and EC2NodeClass; the controller is `components.karpenter`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components.catalog import catalog
from components.common import ClusterHandle, child, tags_for
from components.kube import apply_objects
from components.spec.pools import MAX_UNAVAILABLE
from components.vocabulary import POOL_LABEL

from .fabric import network_interfaces, placement_strategy
from .karpenter import ec2_node_class, node_pool
from .nodes import (
    METADATA_OPTIONS,
    MNG_CAPACITY,
    ami_release,
    block_devices,
    capacity_settings,
    mng_taints,
    user_data,
)
from .repair import mng_repair_config

if TYPE_CHECKING:
    from components.spec.pools import PoolFacts

# The type token before it followed `aidc:<room>:<Class>`; the alias keeps existing stacks'
# pools (and everything under them) at their URNs, so the rename replaces nothing.
TYPE = "aidc:gpu_pool:GpuNodePool"
FORMER_TYPES = ("aidc:compute:GpuNodePool",)



class GpuNodePool(pulumi.ComponentResource):
    """`opts` carries the AWS provider, and the Kubernetes provider for karpenter pools.

    `cluster` is what the pool joins; the placement is the network's: vpc_id (for the EFA
    security group), subnet_ids (the private subnets of the pool's zone, one for a single-zone
    pool) and zone_name (pins Karpenter to that zone). karpenter_release orders the CRs after
    the CRDs."""

    def __init__(self, name: str, pool: "PoolFacts", cluster: ClusterHandle, *, vpc_id: pulumi.Input[str],
                 subnet_ids: Sequence[pulumi.Input[str]], zone_name: pulumi.Input[str] | None,
                 tags: Mapping[str, str], karpenter_release: pulumi.Resource | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        if pool.existing or pool.instance.server:
            # The spec rejects this; a caller that skips it would otherwise launch the wrong thing.
            raise ValueError(f"pool {pool.name} describes existing nodes: aidc creates no node group for it")
        aliases = [pulumi.Alias(type_=t) for t in FORMER_TYPES]
        super().__init__(TYPE, name, None, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases)))
        cat = catalog()
        self.pool = pool
        tags = {**tags, POOL_LABEL: pool.name}
        self.labels = dict(pool.labels)
        self.efa_security_group = self._efa_security_group(name, vpc_id, tags) if pool.spec.efa else None
        groups: list[Any] = [cluster.security_group_id]
        if self.efa_security_group is not None:
            groups.append(self.efa_security_group.id)
        if pool.provisioner == "managed":
            self.node_group = self._managed(name, cluster, subnet_ids, groups, tags)
        else:
            k8s_opts = child(self, depends_on=[karpenter_release] if karpenter_release is not None else [])
            self.node_class = ec2_node_class(pool, cat, cluster.kubernetes_version, role=cluster.node_role_name,
                                             subnet_ids=subnet_ids, security_group_ids=groups, tags=tags)
            self.node_pool = node_pool(pool, zone_name)
            self.objects = apply_objects([self.node_class, self.node_pool], k8s_opts, prefix=f"{name}-")
        self.register_outputs({"labels": self.labels})

    def _efa_security_group(self, name: str, vpc_id: pulumi.Input[str], tags: Mapping[str, str]) -> aws.ec2.SecurityGroup:
        """EFA's OS-bypass traffic must be allowed, all protocols, to and from the group itself."""
        return aws.ec2.SecurityGroup(
            f"{name}-efa", vpc_id=vpc_id, description="EFA: all traffic between the pool's interfaces",
            ingress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "self": True, "description": "EFA from itself"}],
            egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "self": True, "description": "EFA to itself"}],
            tags=tags_for(tags, f"{name}-efa"), opts=child(self))

    def _managed(self, name: str, cluster: ClusterHandle, subnet_ids: Sequence[pulumi.Input[str]],
                 groups: list[Any], tags: Mapping[str, str]) -> aws.eks.NodeGroup:
        pool, spec = self.pool, self.pool.spec
        ami, release = ami_release(catalog(), spec, cluster.kubernetes_version)
        lt_args: dict[str, Any] = {
            "metadata_options": dict(METADATA_OPTIONS),
            "block_device_mappings": block_devices(ami, spec.disk_gib),
            **capacity_settings(spec),
        }
        if pool.efa_interfaces:
            lt_args["network_interfaces"] = network_interfaces(pool, groups)
        self.placement_group = None
        if placement_strategy(pool) is not None:
            self.placement_group = aws.ec2.PlacementGroup(f"{name}-pg", strategy=placement_strategy(pool),
                                                          tags=tags_for(tags, f"{name}-pg"), opts=child(self))
            lt_args["placement"] = {"group_name": self.placement_group.name}
        data = user_data(ami, pool.instance)
        if data is not None:
            lt_args["user_data"] = data
        tag_specs = [{"resource_type": r, "tags": tags_for(tags, f"{name}")}
                     for r in ("instance", "volume", "network-interface")]
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt", update_default_version=True, tag_specifications=tag_specs,
            tags=tags_for(tags, f"{name}-lt"), opts=child(self), **lt_args)
        size = spec.size
        update = {"max_unavailable": MAX_UNAVAILABLE, "update_strategy": pool.update_strategy}
        return aws.eks.NodeGroup(
            f"{name}-ng", cluster_name=cluster.name, node_group_name=name, node_role_arn=cluster.node_role_arn,
            subnet_ids=list(subnet_ids), instance_types=[pool.instance_type], ami_type=ami.ami_type,
            release_version=release, capacity_type=MNG_CAPACITY[pool.capacity],
            scaling_config={"min_size": size.min, "max_size": size.max,
                            "desired_size": size.desired if size.desired is not None else size.min},
            update_config=update, labels=self.labels, taints=mng_taints(pool),
            node_repair_config=mng_repair_config(pool),
            launch_template={"id": self.launch_template.id, "version": self.launch_template.latest_version.apply(str)},
            tags=tags_for(tags, name), opts=child(self, depends_on=list(cluster.ready)))
