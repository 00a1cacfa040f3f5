"""The catalog: every fact aidc relies on (instance shapes, prices, pinned charts, add-ons,
AMI releases, compatibility floors), kept as YAML data beside this file and loaded once."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from components.yamlfile import YamlFileError
from components.yamlfile import load as load_yaml

from .energy import EnergyCatalog
from .model import (
    Addon,
    Ami,
    CapacityBlocks,
    Chart,
    Constraint,
    DcgmFields,
    Failures,
    Gpu,
    Instance,
    KubernetesVersion,
    MfuCatalog,
    ModelPreset,
    Prices,
    Pricing,
    ProviderRule,
    PublishedRun,
    Rate,
    Recipe,
    Regions,
    ReplaceOnChange,
    ReplaceRule,
    RuleSource,
    S3Tier,
    Source,
    VpcCni,
)

HERE = Path(__file__).parent

__all__ = [
    "Addon", "Ami", "Catalog", "CatalogError", "Chart", "Constraint", "Gpu", "Instance",
    "KubernetesVersion", "CapacityBlocks", "Prices", "Pricing", "ProviderRule", "Rate", "Recipe", "ReplaceOnChange",
    "ReplaceRule", "RuleSource", "S3Tier", "Source", "catalog", "version_tuple",
    "MfuCatalog", "PublishedRun", "ModelPreset", "DcgmFields", "Regions", "VpcCni", "EnergyCatalog",
]


T = TypeVar("T", bound=BaseModel)


class CatalogError(Exception):
    """The shipped data is inconsistent: a bug in aidc, not in the user's stack."""


def version_tuple(version: str) -> tuple[int, ...]:
    """'v1.2.3-eksbuild.1' -> (1, 2, 3): comparable release numbers."""
    core = version.lstrip("v").split("-", 1)[0].split("+", 1)[0]
    return tuple(int(part) for part in core.split("."))


class Catalog:
    def __init__(self, gpus: dict[str, Gpu], instances: dict[str, Instance], recipe: Recipe,
                 prices: Prices, extra: dict[str, object]):
        self.gpus = gpus
        self.recipe = recipe
        self.prices = prices
        # The reference Region's table: what sizing and storage tiering read.
        self.pricing = prices.regions[prices.reference_region]
        self.instances = _with_capacity_blocks(instances, prices)
        # Further data files (sizing presets, replace-on-change lists, ...) keyed by file stem.
        self.extra = extra
        # Sizing data (models.yaml, mfu.yaml), typed; still listed in extra by file stem.
        self.models, self.mfu = _sizing_data(extra)
        self._check_references()

    def instance(self, name: str) -> Instance:
        return self.instances[name]

    @property
    def ec2_types(self) -> dict[str, Instance]:
        """The EC2 instance types: what aidc can launch, price and size for."""
        return {k: v for k, v in self.instances.items() if not v.server}

    @property
    def servers(self) -> dict[str, Instance]:
        """On-prem server shapes: they only describe nodes of an existing cluster."""
        return {k: v for k, v in self.instances.items() if v.server}

    def gpu_of(self, instance_type: str) -> Gpu:
        return self.gpus[self.instances[instance_type].gpu]

    def chart(self, name: str) -> Chart:
        return self.recipe.charts[name]

    def image(self, name: str) -> str:
        return self.recipe.images[name]

    def _typed(self, stem: str, model: type[T]) -> T:
        """A further data file (`extra[stem]`) validated as `model`; CatalogError names the file."""
        try:
            return model.model_validate(self.extra[stem])
        except (ValidationError, KeyError) as exc:
            raise CatalogError(f"{stem}.yaml: {exc}") from exc

    @functools.cached_property
    def replace_on_change(self) -> ReplaceOnChange:
        """Replace-on-change property lists and data-holding types (replace_on_change.yaml)."""
        return self._typed("replace_on_change", ReplaceOnChange)

    @functools.cached_property
    def dcgm_fields(self) -> DcgmFields:
        """DCGM field names the GPU Operator's default dcgm-exporter accepts (dcgm_fields.yaml)."""
        return self._typed("dcgm_fields", DcgmFields)

    @functools.cached_property
    def failures(self) -> Failures:
        """Interruption rates of observed training runs and the restart time (failures.yaml)."""
        return self._typed("failures", Failures)

    @functools.cached_property
    def regions(self) -> Regions:
        """AWS Regions and their AZ IDs (regions.yaml)."""
        return self._typed("regions", Regions)

    @functools.cached_property
    def vpc_cni(self) -> VpcCni:
        """The VPC CNI's interface limits per instance type and warm-pool defaults (vpc_cni.yaml)."""
        return self._typed("vpc_cni", VpcCni)

    @functools.cached_property
    def energy(self) -> EnergyCatalog:
        """Power factors, grid carbon intensity per Region, embodied emissions (energy.yaml)."""
        return self._typed("energy", EnergyCatalog)

    def _check_references(self) -> None:
        problems: list[str] = []
        recipe = self.recipe
        for name, inst in self.instances.items():
            if inst.gpu not in self.gpus:
                problems.append(f"instances.{name}.gpu: unknown GPU {inst.gpu!r}")
            for fam in inst.ami_families:
                if fam not in recipe.amis:
                    problems.append(f"instances.{name}.amiFamilies: unknown AMI family {fam!r}")
        if recipe.default_kubernetes_version not in recipe.kubernetes_versions:
            problems.append("recipe.defaultKubernetesVersion: not in kubernetesVersions")
        for fam, ami in recipe.amis.items():
            for k8s in recipe.kubernetes_versions:
                if k8s not in ami.release_versions:
                    problems.append(f"recipe.amis.{fam}.releaseVersions: no release for {k8s}")
        for c in recipe.constraints:
            for dep in c.require:
                if dep != "kubernetes" and dep not in recipe.charts:
                    problems.append(f"recipe.constraints.{c.id}.require: unknown chart {dep!r}")
        if self.mfu is not None:
            for kind, runs in (("calibration", self.mfu.calibration), ("heldOut", self.mfu.held_out)):
                for i, run in enumerate(runs):
                    if run.gpu not in self.gpus:
                        problems.append(f"mfu.{kind}[{i}].gpu: unknown GPU {run.gpu!r}")
            for gen, entry in self.mfu.generations.items():
                if entry.derived_from is not None and not self.mfu.generations.get(entry.derived_from, entry).calibrated:
                    problems.append(f"mfu.generations.{gen}.derivedFrom: {entry.derived_from!r} is not a calibrated generation")
        if problems:
            raise CatalogError("; ".join(problems))


def _with_capacity_blocks(instances: dict[str, Instance], prices: Prices) -> dict[str, Instance]:
    """Each type's Capacity Block rate for sizing (region-free): the reference Region's, else
    the first Region in pricing.yaml that has one. The figure lives once, in pricing.yaml."""
    order = [prices.reference_region] + [r for r in prices.regions if r != prices.reference_region]
    out = {}
    for name, inst in instances.items():
        found = [(r, cb) for r in order if (cb := prices.regions[r].capacity_blocks) is not None
                 and name in cb.usd_per_hour]
        if inst.price is None or inst.price.capacity_block is not None or not found or inst.capacity_block_only:
            out[name] = inst
            continue
        region, cb = found[0]
        rate = Rate(usd_per_hour=cb.usd_per_hour[name], region=region, source=cb.source)
        out[name] = inst.model_copy(update={"price": inst.price.model_copy(update={"capacity_block": rate})})
    return out


def _sizing_data(extra: dict[str, object]) -> tuple[dict[str, ModelPreset], MfuCatalog | None]:
    try:
        models = {k: ModelPreset.model_validate(v) for k, v in (extra.get("models") or {}).items()}
        mfu = MfuCatalog.model_validate(extra["mfu"]) if extra.get("mfu") else None
    except ValidationError as exc:
        raise CatalogError(str(exc)) from exc
    return models, mfu


def _read(name: str) -> dict:
    try:
        return load_yaml(HERE / name)
    except YamlFileError as exc:
        raise CatalogError(str(exc)) from None


@functools.cache
def catalog() -> Catalog:
    """The shipped catalog, parsed and cross-checked once per process."""
    try:
        shapes = _read("instances.yaml")
        gpus = {k: Gpu.model_validate(v) for k, v in shapes["gpus"].items()}
        instances = {k: Instance.model_validate(v) for k, v in shapes["instances"].items()}
        recipe = Recipe.model_validate(_read("recipe.yaml"))
        prices = Prices.model_validate(_read("pricing.yaml"))
    except (ValidationError, KeyError, OSError) as exc:
        raise CatalogError(str(exc)) from exc
    core = {"instances.yaml", "recipe.yaml", "pricing.yaml"}
    extra = {p.stem: _read(p.name) for p in sorted(HERE.glob("*.yaml")) if p.name not in core}
    return Catalog(gpus, instances, recipe, prices, extra)
