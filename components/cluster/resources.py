"""Cluster: the EKS control plane (or an existing cluster) and the one Kubernetes provider
that every Kubernetes resource of the stack uses."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.catalog import catalog
from components.common import ClusterHandle, assume_role_policy, child, key_policy, managed_policy, stateful, tags_for
from components.identity import service_account_role
from components.logs import encrypted_log_group
from components.spec.pools import MAX_UNAVAILABLE
from components.vocabulary import ZONE_LABEL

from .kubeconfig import eks_kubeconfig

if TYPE_CHECKING:
    from components.spec import Spec
    from components.spec.network import PodAddressing

__all__ = ["Cluster", "CORE_ADDONS", "NODE_POLICIES", "eks_kubeconfig", "service_account_role"]

# Add-ons every cluster gets; their versions come from the catalog per Kubernetes version.
# Storage drivers (FSx, Mountpoint for S3) are installed by the storage component.
# The node monitoring agent sets the node conditions (AcceleratedHardwareReady, ...) that managed
# node group repair and Karpenter's node repair act on; it needs no AWS identity.
CORE_ADDONS = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver",
               "eks-node-monitoring-agent")
# Add-ons that need running nodes before they report healthy.
NEEDS_NODES = ("coredns", "aws-ebs-csi-driver")
# Add-ons whose controllers call AWS: (namespace, service account, managed policy).
ADDON_IDENTITIES = {
    "vpc-cni": ("kube-system", "aws-node", "AmazonEKS_CNI_Policy"),
    "aws-ebs-csi-driver": ("kube-system", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy"),
}


def vpc_cni_values(pods: "PodAddressing", region: str, eni_subnets: Mapping[str, str] | None = None,
                   security_group: str | None = None) -> dict:
    """The VPC CNI add-on's configuration values (keys of charts/aws-vpc-cni/values.yaml in
    aws/amazon-vpc-cni-k8s at the add-on's tag, which the add-on's schema follows).

    NetworkPolicy is always enforced (the namespaces' default-deny policies are inert without it).
    Prefix delegation and custom networking are the stack's `aidc:network.pods`; with custom
    networking each zone gets an ENIConfig named after it, selected by the node's zone label,
    putting pod interfaces into that zone's pod subnet with the cluster security group."""
    values: dict = {"enableNetworkPolicy": "true"}
    env = {}
    if pods.prefix_delegation:
        env["ENABLE_PREFIX_DELEGATION"] = "true"
    if pods.custom_networking:
        env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] = "true"
        env["ENI_CONFIG_LABEL_DEF"] = ZONE_LABEL
        values["eniConfig"] = {"create": True, "region": region, "subnets": {
            zone: {"id": subnet, "securityGroups": [security_group]} for zone, subnet in (eni_subnets or {}).items()}}
    if env:
        values["env"] = env
    return values
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore")


def launch_template_basics(disk_gib: int, hop_limit: int = 1) -> dict:
    """Launch-template settings every node gets: IMDSv2 only (hop limit 1 keeps pods off the
    node's credentials; they use Pod Identity) and an encrypted gp3 root volume."""
    return {
        "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required",
                             "http_put_response_hop_limit": hop_limit},
        "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": {
            "volume_size": disk_gib, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"}}],
    }


class Cluster(pulumi.ComponentResource):
    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, spec: "Spec", *, subnet_ids: Sequence[pulumi.Input[str]] = (),
                 pod_subnet_ids: Sequence[pulumi.Input[str]] = (), zone_names: pulumi.Input[list] | None = None,
                 tags: Mapping[str, str] | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:cluster:Cluster", name, None, opts)
        tags = dict(tags or {})
        self.existing = spec.cluster.existing is not None
        if spec.cluster.existing is not None:
            ex = spec.cluster.existing
            self.name = pulumi.Output.from_input(ex.context or name)
            self.kubeconfig = pulumi.Output.secret(ex.kubeconfig)
            self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, context=ex.context,
                                         opts=child(self))
            self.register_outputs({"kubeconfig": self.kubeconfig})
            return
        self._pod_subnet_ids, self._zone_names = list(pod_subnet_ids), zone_names
        self._build_eks(name, spec, list(subnet_ids), tags)

    def _build_eks(self, name: str, spec: "Spec", subnet_ids: list, tags: dict) -> None:
        cs = spec.cluster
        version = spec.kubernetes_version
        self.kubernetes_version = version
        partition = aws.get_partition_output(opts=pulumi.InvokeOptions(parent=self)).partition
        cluster_name = name  # physical name: stable, and known before the cluster exists (for log group)

        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        self.secrets_key = aws.kms.Key(
            f"{name}-secrets", description=f"Envelope encryption of Kubernetes secrets in {cluster_name}",
            enable_key_rotation=True, deletion_window_in_days=30, policy=key_policy(partition, account),
            tags=tags_for(tags, f"{name}-secrets"),
            opts=stateful(self, spec.protect))
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{cluster_name}-secrets", target_key_id=self.secrets_key.key_id,
                      opts=child(self))

        role = aws.iam.Role(f"{name}-control-plane", assume_role_policy=assume_role_policy("eks.amazonaws.com", tag_session=True),
                            tags=tags_for(tags, f"{name}-control-plane"), opts=child(self))
        attach = aws.iam.RolePolicyAttachment(f"{name}-control-plane", role=role.name,
                                              policy_arn=managed_policy(partition, "AmazonEKSClusterPolicy"),
                                              opts=child(self))
        logs = encrypted_log_group(f"{name}-control-plane", log_group_name=f"/aws/eks/{cluster_name}/cluster",
                                   retention_days=cs.log_retention_days, region=spec.region or "", tags=tags,
                                   parent=self, protect=spec.protect)
        self.eks = aws.eks.Cluster(
            f"{name}-eks", name=cluster_name, version=version, role_arn=role.arn,
            vpc_config={"subnet_ids": subnet_ids, "endpoint_private_access": True,
                        "endpoint_public_access": cs.public,
                        "public_access_cidrs": list(cs.public_access_cidrs) if cs.public else None},
            encryption_config={"provider": {"key_arn": self.secrets_key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(cs.log_types),
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            upgrade_policy={"support_type": cs.support_type.upper()},
            tags=tags_for(tags, cluster_name),
            opts=stateful(self, spec.protect, depends_on=[attach, logs]))
        self.name = self.eks.name

        self.node_role = aws.iam.Role(f"{name}-node", assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                                      tags=tags_for(tags, f"{name}-node"), opts=child(self))
        node_attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-node-{i}", role=self.node_role.name,
                                         policy_arn=managed_policy(partition, p), opts=child(self))
            for i, p in enumerate(NODE_POLICIES)]
        # Managed node groups register themselves; Karpenter nodes need an access entry of type EC2_LINUX.
        self.node_access = aws.eks.AccessEntry(f"{name}-node", cluster_name=self.eks.name,
                                               principal_arn=self.node_role.arn, type="EC2_LINUX",
                                               tags=tags_for(tags, f"{name}-node"), opts=child(self))
        for i, arn in enumerate(cs.admin_role_arns):
            entry = aws.eks.AccessEntry(f"{name}-admin-{i}", cluster_name=self.eks.name, principal_arn=arn,
                                        tags=tags_for(tags, f"{name}-admin-{i}"), opts=child(self))
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{i}", cluster_name=self.eks.name, principal_arn=arn,
                policy_arn=pulumi.Output.concat("arn:", partition, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"),
                access_scope={"type": "cluster"}, opts=child(self, depends_on=[entry]))

        # Pods' addressing is settled before any node joins (custom networking cannot be fixed
        # on a node that already gave pods addresses of its own subnet).
        self.network_addon = self._vpc_cni(name, spec, partition, tags)
        self.system_nodes = self._system_nodes(name, spec, subnet_ids, tags, [*node_attachments, self.network_addon])
        self._addons(name, spec, partition, tags)
        if cs.authentication == "irsa":
            issuer = self.eks.identities.apply(lambda ids: ids[0]["oidcs"][0]["issuer"])
            self.oidc_provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                tags=tags_for(tags, f"{name}-oidc"), opts=child(self))

        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
            self.eks.name, self.eks.endpoint, self.eks.certificate_authority.data).apply(
            lambda a: eks_kubeconfig(a[0], a[1], a[2], spec.region or "")))
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True,
                                     opts=child(self, depends_on=[self.system_nodes]))
        self.register_outputs({"clusterName": self.eks.name, "endpoint": self.eks.endpoint,
                               "kubeconfig": self.kubeconfig})

    def handle(self) -> ClusterHandle:
        """The bundle node pools join with (an EKS cluster aidc builds only)."""
        return ClusterHandle(name=self.eks.name, kubernetes_version=self.kubernetes_version,
                             node_role_arn=self.node_role.arn, node_role_name=self.node_role.name,
                             security_group_id=self.eks.vpc_config.cluster_security_group_id,
                             ready=(self.node_access, self.network_addon))

    def _system_nodes(self, name: str, spec: "Spec", subnet_ids: list, tags: dict, deps: list) -> aws.eks.NodeGroup:
        sn = spec.cluster.system_nodes
        ami = catalog().recipe.amis["al2023-standard"]
        lt = aws.ec2.LaunchTemplate(f"{name}-system", update_default_version=True,
                                    tag_specifications=[{"resource_type": "instance", "tags": tags_for(tags, f"{name}-system")}],
                                    tags=tags_for(tags, f"{name}-system"), opts=child(self),
                                    **launch_template_basics(sn.disk_gib))
        return aws.eks.NodeGroup(
            f"{name}-system", cluster_name=self.eks.name, node_role_arn=self.node_role.arn, subnet_ids=subnet_ids,
            instance_types=[sn.instance_type], ami_type=ami.ami_type,
            release_version=ami.release_versions[spec.kubernetes_version], capacity_type="ON_DEMAND",
            scaling_config={"min_size": sn.min, "max_size": sn.max, "desired_size": sn.min},
            update_config={"max_unavailable": MAX_UNAVAILABLE},
            launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
            labels={"aidc.io/pool": "system"}, tags=tags_for(tags, f"{name}-system"),
            opts=child(self, depends_on=deps))

    def _vpc_cni(self, name: str, spec: "Spec", partition: pulumi.Output[str], tags: dict) -> aws.eks.Addon:
        pods, region = spec.network.pods, spec.region or ""
        if pods.custom_networking:
            config = pulumi.Output.all(self._zone_names, self.eks.vpc_config.cluster_security_group_id,
                                       *self._pod_subnet_ids).apply(
                lambda a: json.dumps(vpc_cni_values(pods, region, dict(zip(a[0], a[2:], strict=True)), a[1]), sort_keys=True))
        else:
            config = pulumi.Output.from_input(json.dumps(vpc_cni_values(pods, region), sort_keys=True))
        return self._core_addon(name, "vpc-cni", partition, tags, config)

    def _addons(self, name: str, spec: "Spec", partition: pulumi.Output[str], tags: dict) -> None:
        for addon in CORE_ADDONS:
            if addon != "vpc-cni":
                self._core_addon(name, addon, partition, tags)

    def _core_addon(self, name: str, addon: str, partition: pulumi.Output[str], tags: dict,
                    config: pulumi.Input[str] | None = None) -> aws.eks.Addon:
        role_arn = sa = None
        if addon in ADDON_IDENTITIES:
            ns, sa, policy = ADDON_IDENTITIES[addon]
            role_arn = service_account_role(f"{name}-{addon}", cluster_name=self.eks.name, namespace=ns,
                                            service_account=sa, tags=tags, parent=self, associate=False,
                                            managed_policy_arns=[managed_policy(partition, policy)]).arn
        return self.addon(f"{name}-{addon}", addon, tags, self, role_arn=role_arn, service_account=sa,
                          needs_nodes=addon in NEEDS_NODES, config=config)

    def addon(self, name: str, addon: str, tags: Mapping[str, str], parent: pulumi.Resource,
              role_arn: pulumi.Input[str] | None = None, service_account: str | None = None,
              needs_nodes: bool = True, config: pulumi.Input[str] | None = None) -> aws.eks.Addon:
        """One EKS add-on at the catalog's version for this cluster's Kubernetes version
        (also for other components, e.g. storage drivers)."""
        version = catalog().recipe.kubernetes_versions[self.kubernetes_version].addons[addon].version
        identity = [{"role_arn": role_arn, "service_account": service_account}] if role_arn is not None else None
        return aws.eks.Addon(name, cluster_name=self.eks.name, addon_name=addon, addon_version=version,
                             resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="PRESERVE",
                             configuration_values=config, pod_identity_associations=identity,
                             tags=tags_for(tags, name),
                             opts=child(parent, depends_on=[self.system_nodes] if needs_nodes else []))
