"""Names that other systems read: node labels and taints, extended resources, claim and
ConfigMap names, Kubernetes API group/versions and Pulumi type tokens.

A leaf module (it imports nothing of aidc): a rename or an API version bump is one line here,
and no room imports another room for a name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Api:
    """One Kubernetes API group at one version."""

    group: str
    version: str

    @property
    def api_version(self) -> str:
        """The object's `apiVersion` (`v1` for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def token(self, kind: str) -> str:
        """The Pulumi type token of a kind of this API: `kubernetes:<group>/<version>:<Kind>`."""
        group = self.group or "core"
        return f"kubernetes:{group}/{self.version}:{kind}"


# ---- node labels aidc sets on every GPU node (schedulers, queues, policies and cost read them)
POOL_LABEL = "aidc.io/pool"
# Tag on each S3 bucket naming its kind (datasets, checkpoints, models): how cost finds its expectedGiB.
BUCKET_TAG = "aidc.io/bucket"
PURPOSE_LABEL = "aidc.io/purpose"
GPU_LABEL = "aidc.io/gpu"
GPU_COUNT_LABEL = "aidc.io/gpu-count"
INSTANCE_TYPE_LABEL = "aidc.io/instance-type"
CAPACITY_TYPE_LABEL = "aidc.io/capacity-type"
EFA_LABEL = "aidc.io/efa"
FABRIC_LABEL = "aidc.io/fabric"  # on Kueue flavors: infiniband | roce | tcp | efa
TEAM_LABEL = "aidc.io/team"
# Set by a person on a node after the NCCL acceptance run passed on it (docs/resilience.md):
# jobs rendered with --accepted-only run only there, so a repaired node takes no work untested.
ACCEPTED_LABEL = "aidc.io/nccl-accepted"
# The nodes of the system node group (controllers, not GPU work).
SYSTEM_POOL = "system"
# Kubernetes' own well-known labels aidc selects on.
HOSTNAME_LABEL = "kubernetes.io/hostname"
INSTANCE_TYPE_WELL_KNOWN = "node.kubernetes.io/instance-type"
ZONE_LABEL = "topology.kubernetes.io/zone"
ARCH_LABEL = "kubernetes.io/arch"

# ---- extended resources the device plugins advertise, and the GPU taint
GPU_RESOURCE = "nvidia.com/gpu"
EFA_RESOURCE = "vpc.amazonaws.com/efa"
# RDMA devices of on-prem InfiniBand/RoCE pools, `rdma/<pool>`: the prefix is the RDMA shared
# device plugin's default (k8s-rdma-shared-dev-plugin), and aidc sets it for SR-IOV VFs too, so
# Kueue can leave one prefix unmetered (the GPUs' nvidia.com/ prefix must stay metered).
RDMA_RESOURCE_PREFIX = "rdma"
GPU_TAINT = {"key": GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}
# Pods that run on every GPU node (device plugins, DCGM, NFD workers) carry this toleration.
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}

# ---- the GPU Operator's per-node switches (labels it reads)
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
DEVICE_PLUGIN_DEPLOY_LABEL = "nvidia.com/gpu.deploy.device-plugin"

# ---- who aidc's pods run as
# UID/GID of every pod aidc renders (model servers, training jobs). Above the host's user
# range (login.defs UID_MAX 60000 on Amazon Linux 2023 and most distributions), so a
# container escape never lands on a real host account; 65532 is the "nonroot" user of the
# distroless images.
WORKLOAD_UID = 65532

# ---- shared object names
LUSTRE_CLAIM = "shared-lustre"  # the claim every namespace that needs Lustre gets
MODELS_CLAIM = "models"  # the read-only models bucket claim
DCGM_METRICS_CONFIGMAP = "aidc-dcgm-metrics"  # the DCGM exporter's field list

# ---- Kubernetes APIs of the operators aidc pins (the versions their CRDs serve)
KARPENTER = Api("karpenter.sh", "v1")
KARPENTER_AWS = Api("karpenter.k8s.aws", "v1")
KUEUE = Api("kueue.x-k8s.io", "v1beta2")
KUEUE_CONFIG = Api("config.kueue.x-k8s.io", "v1beta2")
VOLCANO = Api("scheduling.volcano.sh", "v1beta1")
LEADER_WORKER_SET = Api("leaderworkerset.x-k8s.io", "v1")
NETWORK_OPERATOR = Api("mellanox.com", "v1alpha1")  # NicClusterPolicy

# ---- Pulumi type tokens of the AWS resources that make GPU pools
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_POOL = KARPENTER.token("NodePool")
NODE_CLASS = KARPENTER_AWS.token("EC2NodeClass")
