"""The typed stack specification: one pydantic model over the `aidc:` stack config."""

from .base import Problem, SpecError, key_path
from .cluster import ClusterSpec, ExistingCluster
from .cost import CostSpec
from .gpu_pools import GpuPoolSpec
from .network import NetworkSpec
from .nvidia import NvidiaSpec
from .root import ENVIRONMENTS, NAMESPACE, Spec, load_spec
from .storage import StorageSpec
from .training import TrainingSpec

__all__ = [
    "ENVIRONMENTS", "NAMESPACE", "ClusterSpec", "CostSpec", "ExistingCluster", "GpuPoolSpec", "NetworkSpec",
    "NvidiaSpec", "Problem", "Spec", "SpecError", "StorageSpec", "TrainingSpec", "key_path", "load_spec",
]
