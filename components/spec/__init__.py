"""The typed stack specification: one pydantic model over the `aidc:` stack config."""

from .base import Problem, SpecError, key_path
from .cluster import ClusterSpec, ExistingCluster
from .cost import CostSpec
from .gpu_pools import GpuPoolSpec
from .inference import InferenceSpec, ServiceSpec
from .network import NetworkSpec
from .nvidia import NvidiaSpec
from .observability import ObservabilitySpec
from .policy import PolicyOverride, PolicySpec
from .root import ENVIRONMENTS, NAMESPACE, Spec, load_spec
from .storage import StorageSpec
from .training import TrainingSpec

__all__ = [
    "ENVIRONMENTS", "NAMESPACE", "ClusterSpec", "CostSpec", "ExistingCluster", "GpuPoolSpec", "InferenceSpec",
    "NetworkSpec", "NvidiaSpec", "ObservabilitySpec", "PolicyOverride", "PolicySpec", "Problem", "ServiceSpec", "Spec", "SpecError", "StorageSpec",
    "TrainingSpec", "key_path", "load_spec",
]
