"""AiDatacenter: the whole environment composed from the spec, one component per concept."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cluster.resources import Cluster
from components.gpu_pool.resources import GpuNodePool
from components.inference.resources import Inference
from components.karpenter.resources import Karpenter
from components.network.resources import Network
from components.nvidia.resources import NvidiaStack
from components.observability.resources import Observability
from components.spec import Spec
from components.spec.gpu_pools import zone_index
from components.spec.storage import lustre_zone_index, lustre_zone_name
from components.storage.resources import SharedStorage
from components.training.resources import TrainingPlatform


class AiDatacenter(pulumi.ComponentResource):
    """Order matters where one concept consumes another: the cluster before everything on
    it, training before storage (storage puts its claims in the team namespaces), storage
    before the model servers (which wait for their claims), observability before the model
    servers (its CRDs back their ServiceMonitors)."""

    def __init__(self, name: str, spec: Spec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:datacenter:AiDatacenter", name, None, opts)
        self.spec = spec
        tags = spec.resource_tags()
        self.aws: aws.Provider | None = None
        self.network: Network | None = None
        self.gpu_pools: dict[str, GpuNodePool] = {}
        self.karpenter: Karpenter | None = None
        self.nvidia: NvidiaStack | None = None
        self.training: TrainingPlatform | None = None
        self.storage: SharedStorage | None = None
        self.observability: Observability | None = None
        self.inference: Inference | None = None

        if spec.existing_cluster:
            self.cluster = Cluster(name, spec, opts=self._opts())
        else:
            # One explicit AWS provider: the region comes from the spec, never from ambient config.
            self.aws = aws.Provider(f"{name}-aws", region=spec.region, opts=self._opts())
            self.network = Network(name, spec.network, spec.region or "", tags, opts=self._opts("aws"),
                                   protect=spec.protect)
            self.cluster = Cluster(name, spec, subnet_ids=self.network.private_subnet_ids,
                                   pod_subnet_ids=self.network.pod_subnet_ids, zone_names=self.network.zone_names, tags=tags,
                                   opts=self._opts("aws"))
        self.k8s_opts = self._opts("kubernetes")

        if spec.training is not None:
            # On EKS it also makes the teams' storage roles, hence the AWS provider.
            self.training = TrainingPlatform(f"{name}-training", spec, self._opts("kubernetes", "aws"))
        if self.network is not None:
            self._gpu_pools(name, spec, tags)
        if spec.charts:
            self.nvidia = NvidiaStack(f"{name}-nvidia", spec, opts=self.k8s_opts)
        if spec.storage is not None:
            self._storage(name, spec, tags)
        if spec.observability.enabled:
            gpu_operator = self.nvidia.releases.get("gpu-operator") if self.nvidia is not None else None
            # AWS too: sns receivers give Alertmanager a role (EKS only).
            self.observability = Observability(name, spec, gpu_operator=gpu_operator,
                                               opts=self._opts("kubernetes", "aws"))
        if spec.inference.services:
            self._inference(name, spec, tags)
        if self.observability is not None and spec.observability.alerting.receivers:
            eso = self.inference.releases.get("external-secrets") if self.inference is not None else None
            self.observability.bind_receivers(
                external_secrets=eso, tags=tags,
                cluster_name=None if spec.existing_cluster else self.cluster.eks.name)
        self.register_outputs({"kubeconfig": self.cluster.kubeconfig})

    def _opts(self, *providers: str) -> pulumi.ResourceOptions:
        """Options for a child component with the named providers ("aws" only where aidc builds
        the AWS side; "kubernetes" is the cluster's, the one every Kubernetes object uses)."""
        have = {"aws": self.aws, "kubernetes": self.cluster.provider if hasattr(self, "cluster") else None}
        chosen = {p: have[p] for p in providers if have[p] is not None}
        return pulumi.ResourceOptions(parent=self, providers=chosen or None)

    def _gpu_pools(self, name: str, spec: Spec, tags: dict) -> None:
        """Each pool in the private subnet of its zone, joined with the cluster's node role."""
        network, cluster = self.network, self.cluster
        assert network is not None
        both = self._opts("aws", "kubernetes")
        elastic = [p for p in spec.gpu_pools if p.provisioner == "karpenter"]
        if elastic:
            self.karpenter = Karpenter(f"{name}-karpenter", cluster, region=spec.region or "", tags=tags,
                                       reserved_capacity=any(p.capacity.reserved for p in elastic),
                                       reserved_enis=1 if spec.network.pods.custom_networking else 0, opts=both)
        joins = cluster.handle()
        for pool in spec.gpu_pools:
            zone = zone_index(pool, spec.network, spec.region)
            subnet_ids = [s.id for s in network.private_subnets] if zone is None else [
                network.private_subnet_id(zone, pool.availability_zone)]
            zone_name = None if zone is None else (
                pool.availability_zone or network.zone_names.apply(lambda n, z=zone: n[z]))
            self.gpu_pools[pool.name] = GpuNodePool(
                f"{name}-{pool.name}", spec.pools[pool.name], joins, vpc_id=network.vpc_id, subnet_ids=subnet_ids,
                zone_name=zone_name, tags=tags,
                karpenter_release=self.karpenter.release if self.karpenter and pool.provisioner == "karpenter" else None,
                opts=both)

    def _storage(self, name: str, spec: Spec, tags: dict) -> None:
        """Lustre shares the first training pool's zone and subnet (zone 0 without one); the
        claims go into the team namespaces training made, and the teams get the buckets."""
        net = self.network
        self.storage = SharedStorage(
            name, spec, self.cluster, tags=tags,
            vpc_id=net.vpc_id if net else None, vpc_cidr=spec.network.cidr if net else None,
            subnet_id=net.private_subnet_id(lustre_zone_index(spec), lustre_zone_name(spec)) if net else None,
            namespaces=self.training.namespaces if self.training else None,
            opts=self._opts("aws"))
        if self.training is not None and self.storage.buckets:
            # The teams' `training` service accounts get the buckets (Pod Identity).
            self.training.bind_storage(self.cluster.eks.name, self.storage.buckets, self.storage.bucket_key.arn)

    def _inference(self, name: str, spec: Spec, tags: dict) -> None:
        """The model servers. Where shared storage already made their namespace (it puts claims
        there), they use it and wait for their claims rather than creating it a second time."""
        st, storage, obs = spec.storage, self.storage, self.observability
        shared = st is not None and storage is not None and \
            spec.inference.namespace in (*st.namespaces, *st.model_namespaces)
        self.inference = Inference(name, spec, cluster=self.cluster, prometheus_url=obs.url if obs else None,
                                   monitoring=[obs.release] if obs and obs.release else [],
                                   monitoring_namespace=obs.namespace_name if obs else None,
                                   # Alertmanager's receiver keys come through the same operator.
                                   secret_refs=spec.observability.alerting.secret_refs if obs else (), tags=tags,
                                   namespace=storage if shared else None,
                                   opts=self._opts("kubernetes", "aws"))
