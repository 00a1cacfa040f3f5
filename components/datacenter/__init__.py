"""AiDatacenter: the whole environment composed from the spec, one component per concept."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cluster import Cluster
from components.network import Network
from components.spec import Spec
from components.training import TrainingPlatform


class AiDatacenter(pulumi.ComponentResource):
    def __init__(self, name: str, spec: Spec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aidc:datacenter:AiDatacenter", name, None, opts)
        self.spec = spec
        tags = spec.resource_tags()
        self.network: Network | None = None
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
        self.training: TrainingPlatform | None = None
        if spec.training is not None:
            self.training = TrainingPlatform(f"{name}-training", spec, self.k8s_opts)
        self.register_outputs({"kubeconfig": self.cluster.kubeconfig})
