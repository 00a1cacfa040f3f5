"""AiDatacenter: the whole environment composed from the spec, one component per concept."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cluster import Cluster
from components.gpu_pool import GpuNodePool
from components.inference import Inference
from components.karpenter import Karpenter
from components.network import Network
from components.nvidia import NvidiaStack
from components.observability import Observability
from components.spec import Spec
from components.spec.gpu_pools import zone_index
from components.spec.storage import lustre_zone_index
from components.storage import SharedStorage
from components.training import TrainingPlatform


class AiDatacenter(pulumi.ComponentResource):
    def __init__(self, name: str, spec: Spec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:datacenter:AiDatacenter", name, None, opts)
        self.spec = spec
        tags = spec.resource_tags()
        self.network: Network | None = None
        self.gpu_pools: dict[str, GpuNodePool] = {}
        self.karpenter: Karpenter | None = None
        aws_provider: aws.Provider | None = None
        if spec.existing_cluster:
            self.cluster = Cluster(f"{name}", spec, opts=pulumi.ResourceOptions(parent=self))
        else:
            # One explicit AWS provider: the region comes from the spec, never from ambient config.
            aws_provider = aws.Provider(f"{name}-aws", region=spec.region, opts=pulumi.ResourceOptions(parent=self))
            aws_opts = pulumi.ResourceOptions(parent=self, providers={"aws": aws_provider})
            self.network = Network(f"{name}", spec.network, spec.region or "", tags, opts=aws_opts)
            self.cluster = Cluster(f"{name}", spec, subnet_ids=self.network.private_subnet_ids, tags=tags,
                                   opts=aws_opts)
        self.k8s_opts = pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.cluster.provider})
        # Before storage: the team namespaces it creates are where storage puts its claims.
        self.training: TrainingPlatform | None = None
        if spec.training is not None:
            # On EKS it also makes the teams' storage roles, so it gets the AWS provider too.
            providers = {"kubernetes": self.cluster.provider, **({"aws": aws_provider} if self.network else {})}
            self.training = TrainingPlatform(f"{name}-training", spec,
                                             pulumi.ResourceOptions(parent=self, providers=providers))
        if self.network is not None:
            self._gpu_pools(name, spec, tags, aws_provider)
        if spec.charts:
            self.nvidia = NvidiaStack(f"{name}-nvidia", spec, opts=self.k8s_opts)
        self.storage: SharedStorage | None = None
        if spec.storage is not None:
            net = self.network
            # Lustre shares the first training pool's zone and subnet (zone 0 without one).
            self.storage = SharedStorage(
                f"{name}", spec, self.cluster, tags=tags,
                vpc_id=net.vpc_id if net else None, vpc_cidr=spec.network.cidr if net else None,
                subnet_id=net.subnet_in(lustre_zone_index(spec)).id if net else None,
                namespaces=self.training.namespaces if self.training else None,
                opts=aws_opts if net else pulumi.ResourceOptions(parent=self))
        if self.training is not None and self.storage is not None and self.storage.buckets:
            # The teams' `training` service accounts get the buckets (Pod Identity).
            self.training.bind_storage(self.cluster.eks.name, self.storage.buckets, self.storage.bucket_key.arn)
        self._serving(name, spec, tags, aws_provider)
        self.register_outputs({"kubeconfig": self.cluster.kubeconfig})

    def _serving(self, name: str, spec: Spec, tags: dict, aws_provider: aws.Provider | None) -> None:
        """Observability first (its CRDs back every ServiceMonitor and rule), then the model servers."""
        nvidia = getattr(self, "nvidia", None)
        gpu_operator = nvidia.releases.get("gpu-operator") if nvidia is not None else None
        self.observability = Observability(name, spec, gpu_operator=gpu_operator, opts=self.k8s_opts) \
            if spec.observability.enabled else None
        self.inference: Inference | None = None
        if not spec.inference.services:
            return
        providers = {"kubernetes": self.cluster.provider, **({"aws": aws_provider} if aws_provider else {})}
        obs = self.observability
        # Shared storage creates the namespaces it puts claims in; then the model servers use
        # that namespace and wait for their claims rather than creating it a second time.
        st, storage = spec.storage, self.storage
        shared = st is not None and storage is not None and \
            spec.inference.namespace in (*st.namespaces, *st.model_namespaces)
        self.inference = Inference(name, spec, cluster=self.cluster, prometheus_url=obs.url if obs else None,
                                   monitoring=[obs.release] if obs else [], tags=tags,
                                   namespace=storage if shared else None,
                                   opts=pulumi.ResourceOptions(parent=self, providers=providers))

    def _gpu_pools(self, name: str, spec: Spec, tags: dict, aws_provider: aws.Provider) -> None:
        """Each pool in the private subnet of its zone, joined with the cluster's node role."""
        network, cluster = self.network, self.cluster
        assert network is not None
        both = pulumi.ResourceOptions(parent=self, providers={"aws": aws_provider, "kubernetes": cluster.provider})
        elastic = [p for p in spec.gpu_pools if p.provisioner == "karpenter"]
        if elastic:
            self.karpenter = Karpenter(f"{name}-karpenter", cluster, region=spec.region or "", tags=tags,
                                       reserved_capacity=any(p.capacity.reserved for p in elastic), opts=both)
        for pool in spec.gpu_pools:
            zone = zone_index(pool, spec.network, spec.region)
            subnets = network.private_subnets if zone is None else [network.subnet_in(zone)]
            zone_name = None if zone is None else network.zone_names.apply(lambda n, z=zone: n[z])
            self.gpu_pools[pool.name] = GpuNodePool(
                f"{name}-{pool.name}", pool, kubernetes_version=spec.kubernetes_version,
                cluster_name=cluster.eks.name, node_role_arn=cluster.node_role.arn,
                node_role_name=cluster.node_role.name,
                cluster_security_group_id=cluster.eks.vpc_config.cluster_security_group_id,
                vpc_id=network.vpc_id, subnet_ids=[s.id for s in subnets], zone_name=zone_name, tags=tags,
                karpenter_release=self.karpenter.release if self.karpenter and pool.provisioner == "karpenter" else None,
                depends_on=[cluster.node_access], opts=both)
