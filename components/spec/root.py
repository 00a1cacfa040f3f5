"""The whole stack: `aidc:` config (plus `aws:region`) parsed into one immutable Spec."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from components.catalog import Catalog, CatalogError, catalog, version_tuple
from components.suggest import close_names
from components.yamlfile import YamlFileError
from components.yamlfile import load as load_yaml

from . import addresses as addresses_section
from . import cluster as cluster_section
from . import gpu_pools as gpu_pools_section
from . import inference as inference_section
from . import network as network_section
from . import nvidia as nvidia_section
from . import observability as observability_section
from . import partial
from . import regions as regions_section
from . import site as site_section
from . import storage as storage_section
from . import training as training_section
from .base import NOTHING_UNPARSED, Model, Problem, SpecError, Unparsed, rule
from .cluster import ClusterSpec
from .cost import CostSpec
from .gpu_pools import GpuPoolSpec
from .inference import InferenceSpec
from .messages import shown, translate
from .network import NetworkSpec
from .nvidia import NvidiaSpec, charts_in_use
from .observability import ObservabilitySpec
from .policy import PolicySpec
from .pools import PoolFacts, resolve_pools
from .site import SiteSpec
from .storage import StorageSpec
from .training import TrainingSpec

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
NAMESPACE = "aidc"

_TAG_KEY = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")


class Spec(Model):
    environment: Environment
    # Where AWS resources go; not needed for an existing cluster.
    region: str | None = Field(default=None, pattern=rule(r"^[a-z]{2}(-[a-z]+)+-\d$", "a region name such as us-east-1"))
    tags: dict[str, str] = {}
    # Protect what holds data (Pulumi `protect` + retain on delete); on by default in prod.
    protect: bool = False
    network: NetworkSpec = NetworkSpec()
    cluster: ClusterSpec = ClusterSpec()
    gpu_pools: tuple[GpuPoolSpec, ...] = ()
    training: TrainingSpec | None = None
    nvidia: NvidiaSpec = NvidiaSpec()
    cost: CostSpec = CostSpec()
    storage: StorageSpec | None = None
    inference: InferenceSpec = InferenceSpec()
    observability: ObservabilitySpec = ObservabilitySpec()
    site: SiteSpec | None = None
    policy: PolicySpec = PolicySpec()

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if not _TAG_KEY.match(key) or key.lower().startswith("aws:"):
                raise ValueError(f"{key!r} is not a valid AWS tag key")
            if len(value) > 256:
                raise ValueError(f"tag {key!r} is longer than 256 characters")
        return v

    @property
    def existing_cluster(self) -> bool:
        return self.cluster.existing is not None

    @property
    def kubernetes_version(self) -> str:
        return self.cluster.kubernetes_version or catalog().recipe.default_kubernetes_version

    @property
    def charts(self) -> list[str]:
        """Catalog charts the GPU layer installs (NVIDIA stack, EFA plugin, Karpenter)."""
        return charts_in_use(self.gpu_pools, self.nvidia, existing_cluster=self.existing_cluster)

    def pool(self, name: str) -> GpuPoolSpec:
        for p in self.gpu_pools:
            if p.name == name:
                return p
        raise KeyError(name)

    @functools.cached_property
    def pools(self) -> dict[str, PoolFacts]:
        """The resolved pool model, by pool name: computed once, read by every consumer."""
        return resolve_pools(self.gpu_pools, catalog())

    def resource_tags(self) -> dict[str, str]:
        """Tags on every taggable resource: the stack's, plus who and where."""
        return {"environment": self.environment, "managed-by": "aidc", **self.tags}


def semantic_problems(spec: Spec, cat: Catalog, unparsed: Unparsed = NOTHING_UNPARSED) -> Iterator[Problem]:
    """Cross-field and catalog checks, each naming its key path; `unparsed`: what failed to
    parse (references to it are not reported again)."""
    yield from regions_section.problems(spec.region, None if spec.existing_cluster else spec.network, cat)
    if not spec.existing_cluster:
        if spec.region is None:
            yield Problem("aws:region", "required unless aidc:cluster.existing is set")
        yield from network_section.problems(spec.network)
    yield from cluster_section.problems(spec.cluster, cat)
    yield from _kubernetes_floor_problems(spec, cat, k8s := _checked_version(spec, cat))
    yield from gpu_pools_section.problems(
        spec.gpu_pools, cat, environment=spec.environment, kubernetes_version=k8s, existing_cluster=spec.existing_cluster,
        network=None if spec.existing_cluster else spec.network, region=spec.region,
        platform=spec.cluster.existing.platform if spec.cluster.existing else None)
    yield from nvidia_section.problems(spec.nvidia, cat, spec.charts, existing_cluster=spec.existing_cluster,
                                       kubernetes_version=k8s, pools=spec.gpu_pools)
    if spec.training is not None:
        yield from training_section.problems(spec.training, spec.gpu_pools, spec.pools, unparsed=unparsed)
    if spec.storage is not None:
        yield from storage_section.problems(spec.storage, spec, cat.pricing.fsx_lustre_persistent2_usd_per_gb_month)
    yield from inference_section.problems(spec.inference, spec, cat, unparsed=unparsed)
    yield from observability_section.problems(spec.observability, existing_cluster=spec.existing_cluster)
    yield from _shared_pool_problems(spec)
    yield from site_section.problems(spec.site, spec.pools, {p.name: i for i, p in enumerate(spec.gpu_pools)})
    yield from addresses_section.problems(spec)
    for name in spec.cost.pool_node_hours:
        facts = spec.pools.get(name)
        if facts is None or facts.provisioner != "karpenter":
            yield Problem(f"{NAMESPACE}:cost.poolNodeHours.{name}", "not a Karpenter pool of aidc:gpuPools "
                          "(node groups run their desired size; only Karpenter pools have expected node-hours)")


def _checked_version(spec: Spec, cat: Catalog) -> str | None:
    """The Kubernetes version floors are checked against: a pinned EKS version (an unknown one is
    reported by the cluster section), or the minor version an existing cluster declares."""
    if spec.existing_cluster:
        v = spec.cluster.kubernetes_version
        return v if v is not None and re.fullmatch(r"1\.\d{1,3}", v) else None
    return spec.kubernetes_version if spec.kubernetes_version in cat.recipe.kubernetes_versions else None


# Charts outside the GPU layer with a Kubernetes floor, and when the stack installs them (the
# conditions of components/observability and components/inference/resources.py); the GPU
# layer's floors and catalog constraints are checked by the nvidia section.
_OTHER_CHARTS = {
    "kube-prometheus-stack": lambda s: s.observability.enabled and s.observability.prometheus == "install",
    "keda": lambda s: s.observability.enabled and any(v.min_replicas != v.max_replicas for v in s.inference.services),
    "external-secrets": lambda s: any(v.model.hub and v.model.hub.token_secret for v in s.inference.services),
    "cert-manager": lambda s: bool(s.inference.services) and s.inference.kserve,
}


def _kubernetes_floor_problems(spec: Spec, cat: Catalog, k8s: str | None) -> Iterator[Problem]:
    if k8s is None:
        return
    for key, used in _OTHER_CHARTS.items():
        floor = cat.chart(key).min_kubernetes
        if used(spec) and floor and version_tuple(k8s) < version_tuple(floor):
            yield Problem(f"{NAMESPACE}:cluster.kubernetesVersion",
                          f"{key} {cat.chart(key).version} needs Kubernetes >= {floor}, the stack has {k8s}")


def _shared_pool_problems(spec: Spec) -> Iterator[Problem]:
    """Model servers run outside Kueue, so the GPUs their minimum replicas hold are gone from
    a pool before any training quota is admitted: both together must fit what the pool holds,
    or Kueue admits jobs that can never schedule."""
    pools = spec.pools
    quota: dict[str, int] = {}
    for team in spec.training.teams if spec.training is not None else ():
        for q in team.quotas:
            quota[q.pool] = quota.get(q.pool, 0) + q.gpus
    serving: dict[str, int] = {}
    for i, svc in enumerate(spec.inference.services):
        pool = pools.get(svc.pool)
        if pool is None or not quota.get(svc.pool):
            continue
        before = serving.get(svc.pool, 0)
        serving[svc.pool] = before + svc.min_replicas * svc.gpus_per_replica
        cap = pool.max_gpus
        if quota[svc.pool] + before <= cap < quota[svc.pool] + serving[svc.pool]:
            yield Problem(f"{NAMESPACE}:inference.services[{i}].minReplicas",
                          f"model servers keep {serving[svc.pool]} GPUs of pool {svc.pool} and training quotas "
                          f"promise {quota[svc.pool]}: {quota[svc.pool] + serving[svc.pool]} in all, more than its "
                          f"{cap} (lower the quotas or the replicas, or raise size.max)")


DEFAULTS = Path(__file__).with_name("defaults.yaml")


@cache
def _env_defaults(path: Path = DEFAULTS) -> dict[str, Any]:
    """environment -> default config (defaults.yaml). Shipped data, so a broken file is a bug
    of aidc's, reported like a broken catalog."""
    try:
        return load_yaml(path)
    except YamlFileError as exc:
        raise CatalogError(str(exc)) from None


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


def _head(key: Any) -> str:
    """The stack key a spec field comes from: region -> aws:region, network -> aidc:network."""
    return NAMESPACE if key is None else "aws:region" if key == "region" else f"{NAMESPACE}:{key}"


def _environment(value: Any) -> tuple[str, Problem | None]:
    """The environment whose defaults the stack is checked with, and the problem with the
    value given, if any. An invalid one does not stop the other checks: the rest is checked
    under the nearest environment's defaults (prod's, the strictest, when none is near)."""
    if value in ENVIRONMENTS:
        return value, None
    text = str(value).lower() if isinstance(value, str) else ""
    near = close_names(text, ENVIRONMENTS) or [e for e in ENVIRONMENTS if text and text.startswith(e)]
    env = near[0] if near else "prod"
    said = "required" if value is None else f"{shown(value)} is not one of: {', '.join(ENVIRONMENTS)}"
    hint = f"; did you mean {env}?" if near else ""
    return env, Problem(f"{NAMESPACE}:environment", f"{said}{hint} (the rest is checked with {env}'s defaults)")


def load_spec(config: Mapping[str, Any]) -> Spec:
    """Parse Pulumi stack config (keys `namespace:key`) into a Spec, or raise SpecError
    listing every problem at once."""
    data: dict[str, Any] = {}
    for key, value in config.items():
        ns, _, name = key.partition(":")
        if ns == NAMESPACE:
            data[name] = value
        elif key == "aws:region":
            data["region"] = value
        # Other namespaces (aws:, kubernetes:, ...) configure providers, not aidc.
    env, env_problem = _environment(data.get("environment"))
    data["environment"] = env
    found = [env_problem] if env_problem else []
    defaults = copy.deepcopy(_env_defaults()[env])
    if isinstance(data.get("cluster"), dict) and "existing" in data["cluster"]:
        # An existing cluster has no AWS network or control plane to default.
        defaults.pop("cluster", None)
        defaults.pop("network", None)
    storage_section.prune_defaults(defaults, data)
    merged = _merge(defaults, data)
    try:
        spec = Spec.model_validate(merged)
    except ValidationError as err:
        # Report the cross-field problems of what did parse too: the user gets every problem
        # in one round, not one layer at a time, and none that only follows from another.
        found += translate(err, Spec, _head)
        rest = partial.parse(Spec, merged, _head)
        if rest.spec is not None:
            found += rest.follow_ons(semantic_problems(rest.spec, catalog(), rest.unparsed))
        raise SpecError(found) from None
    found += semantic_problems(spec, catalog())
    if found:
        raise SpecError(found)
    return spec
