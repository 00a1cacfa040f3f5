"""The typed stack specification: one pydantic model over the `aidc:` stack config."""

from .base import Problem, SpecError, key_path
from .cluster import ClusterSpec, ExistingCluster
from .cost import CostSpec
from .gpu_pools import GpuPoolSpec
from .network import NetworkSpec
from .nvidia import NvidiaSpec
from .root import ENVIRONMENTS, NAMESPACE, Spec, load_spec

__all__ = [
    "ENVIRONMENTS", "NAMESPACE", "ClusterSpec", "ExistingCluster", "GpuPoolSpec", "NetworkSpec",
    "NvidiaSpec",
    "ENVIRONMENTS", "NAMESPACE", "ClusterSpec", "CostSpec", "ExistingCluster", "GpuPoolSpec", "NetworkSpec",
    "Problem", "Spec", "SpecError", "key_path", "load_spec",
]
