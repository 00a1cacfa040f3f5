"""The aidc Pulumi program: read the stack's config into a typed spec, build the datacenter."""

import pulumi

from components.datacenter.config import spec_from_pulumi
from components.datacenter.resources import AiDatacenter

spec = spec_from_pulumi()
dc = AiDatacenter(f"aidc-{pulumi.get_stack()}", spec)
pulumi.export("kubeconfig", dc.cluster.kubeconfig)
pulumi.export("clusterName", dc.cluster.name)
