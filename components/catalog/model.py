"""Typed shape of the catalog files. Loading validates every entry, so a typo in the data
fails at import of the catalog (and in the data-lint tests), never half-way through a plan."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

# An exact version: digits and dots with an optional leading v and an optional
# pre-release/build suffix. No ranges, wildcards or "latest".
EXACT_VERSION = re.compile(r"^v?\d+(\.\d+){1,3}([-+][0-9A-Za-z.\-]+)?$")


class Entry(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def exact(value: str) -> str:
    if not EXACT_VERSION.match(value):
        raise ValueError(f"{value!r} is not an exact version")
    return value


class Source(Entry):
    """Where a fact comes from and when it was read."""

    url: str
    date: dt.date
    note: str = ""


class Rate(Entry):
    """A price other than on demand, with its own region and source (they move on their own)."""

    usd_per_hour: float = Field(gt=0)  # per instance-hour
    region: str = "us-east-1"
    source: Source


class Price(Entry):
    on_demand_usd_per_hour: float = Field(gt=0)
    region: str = "us-east-1"
    source: Source
    # Capacity Blocks for ML: the up-front reservation fee as an effective rate per
    # instance-hour. AWS re-prices blocks with supply and demand; a block keeps the rate
    # it was bought at. None: no figure found (pools then fall back to on demand).
    capacity_block: Rate | None = None
    # 1-year EC2 Instance Savings Plan / Standard Reserved Instance, no upfront, Linux.
    one_year: Rate | None = None


class Gpu(Entry):
    """One GPU model: the numbers sizing, cost and energy need."""

    name: str
    vendor: Literal["nvidia"] = "nvidia"
    generation: str  # ampere | ada | hopper | blackwell
    memory_gib: float = Field(gt=0)
    memory_bandwidth_gbps: float = Field(gt=0)  # GB/s of HBM/GDDR bandwidth
    board_power_w: float = Field(gt=0)
    dense_tflops: dict[Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4"], float]
    # Multi-Instance GPU: the board can be partitioned (A100, H100, H200, B200; not L4/L40S/A10G).
    mig: bool = False
    source: Source


class NcclFloor(Entry):
    """Minimum nccl-tests all_reduce_perf bus bandwidth (GB/s, out-of-place, >= 1 GiB messages,
    2+ nodes) a server shape must reach on one fabric, with where the figure comes from."""

    busbw_gbps: float = Field(gt=0)
    source: Source


class Instance(Entry):
    """One GPU node shape: an EC2 instance type (`kind: instance`) aidc can launch, or an
    on-prem server (`kind: server`) that only describes nodes a site already runs on an
    existing cluster (no AMI, no EFA, no EC2 price)."""

    kind: Literal["instance", "server"] = "instance"
    family: str
    gpu: str  # key into gpus
    gpu_count: int = Field(gt=0)
    vcpu: int = Field(gt=0)
    memory_gib: float = Field(gt=0)
    network_gbps: float = Field(gt=0)
    network_cards: int = Field(ge=1)
    efa_interfaces: int = Field(ge=0)  # maximum EFA interfaces; 0 = no EFA
    # Secondary EFA interfaces may be `efa-only` (no ENA device, no VPC IP address). When
    # false every interface is `efa` (EFA with ENA), which also works but uses an IP each.
    efa_only: bool = False
    # The network cards that carry an EFA interface, in order. Empty: cards 0 .. efaInterfaces-1
    # (every EFA type up to p6-b200). p6-b300 lists cards 1-16: its primary card 0 is ENA only.
    efa_cards: tuple[int, ...] = ()
    gpudirect_rdma: bool = False  # FI_EFA_USE_DEVICE_RDMA works on this type
    nvme_gb: float = Field(ge=0)  # local instance store, 0 when none
    nvme_disks: int = Field(ge=0)
    capacity_block_only: bool = False
    ami_families: tuple[str, ...] = ()  # keys into recipe.amis this type may boot (EC2 only)
    # Minimum all-reduce bus bandwidth (GB/s, nccl-tests busbw, large messages, 2+ nodes)
    # that an acceptance run must reach on this type.
    nccl_min_busbw_gbps: float | None = Field(default=None, gt=0)
    # Required for EC2 types; a server has no EC2 rate (its cost is the site's, not AWS's).
    price: Price | None = None
    # Servers: the scale-out fabric of the reference system and where its shape comes from.
    fabric: Literal["infiniband", "roce"] | None = None
    source: Source | None = None
    # Servers: the acceptance floor per fabric the site may cable them to (EC2 types use
    # ncclMinBusbwGbps: their fabric is EFA). A fabric without an entry has no floor.
    nccl_floors: dict[Literal["infiniband", "roce"], NcclFloor] = {}
    # Servers: the vendor's maximum system input power and how the shape is cooled (facility
    # planning, aidc:site). None: no vendor figure read (a named gap: no rack plan for the pool).
    max_power_kw: float | None = Field(default=None, gt=0)
    cooling: Literal["air", "liquid"] | None = None
    power_source: Source | None = None

    @property
    def server(self) -> bool:
        return self.kind == "server"

    @property
    def efa_network_cards(self) -> tuple[int, ...]:
        """Indexes of the network cards that carry EFA (see efaCards)."""
        return self.efa_cards or tuple(range(self.efa_interfaces))

    @property
    def nic_gbps(self) -> float:
        """Line rate of one compute-fabric NIC (Gb/s): the shape lists the total and the count."""
        return self.network_gbps / self.network_cards

    def nccl_floor(self, fabric: str | None) -> float | None:
        """The acceptance floor (GB/s) on `fabric` (a server's) or on EFA (an EC2 type's)."""
        if not self.server:
            return self.nccl_min_busbw_gbps
        floor = self.nccl_floors.get(fabric) if fabric else None  # type: ignore[call-overload]
        return floor.busbw_gbps if floor else None

    @model_validator(mode="after")
    def _kind(self) -> "Instance":
        if self.kind == "instance":
            missing = [k for k, v in (("price", self.price is not None),
                                      ("amiFamilies", "ami_families" in self.model_fields_set)) if not v]
            if missing:
                raise ValueError(f"an EC2 instance type needs {' and '.join(missing)}")
            if self.max_power_kw is not None or self.cooling is not None:
                raise ValueError("maxPowerKw and cooling are facility facts of servers (aidc:site); an EC2 type's are AWS's")
            if self.fabric is not None or self.nccl_floors:
                raise ValueError("fabric and ncclFloors are for servers; an EC2 type's fabric is EFA (efaInterfaces) "
                                 "or ENA, its floor ncclMinBusbwGbps")
            return self
        if self.efa_interfaces or self.ami_families or self.capacity_block_only:
            raise ValueError("a server has no EFA interfaces, AMI families or Capacity Blocks (EC2 only)")
        if self.fabric is None or self.source is None:
            raise ValueError("a server needs fabric and source")
        if self.nccl_min_busbw_gbps is not None:
            raise ValueError("a server's floors are per fabric: use ncclFloors, not ncclMinBusbwGbps")
        if (self.max_power_kw is None) != (self.cooling is None) or (self.max_power_kw is None) != (self.power_source is None):
            raise ValueError("maxPowerKw, cooling and powerSource come together, from the vendor's data")
        return self

    @model_validator(mode="after")
    def _fabric(self) -> "Instance":
        if self.efa_interfaces > self.network_cards:
            raise ValueError("efaInterfaces cannot exceed networkCards")
        if self.efa_only and self.efa_interfaces == 0:
            raise ValueError("efaOnly needs efaInterfaces")
        if self.efa_cards:
            cards = self.efa_cards
            if len(cards) != self.efa_interfaces or len(set(cards)) != len(cards) or list(cards) != sorted(cards):
                raise ValueError("efaCards must list efaInterfaces distinct card indexes in order")
            if cards[-1] >= self.network_cards or cards[0] < 0:
                raise ValueError(f"efaCards: a card index is outside 0..{self.network_cards - 1} (networkCards)")
        if (self.nvme_gb == 0) != (self.nvme_disks == 0):
            raise ValueError("nvmeGb and nvmeDisks must both be zero or both positive")
        return self


class Chart(Entry):
    """A Helm chart pinned to one exact version."""

    repository: str
    chart: str
    version: str
    namespace: str
    min_kubernetes: str | None = None
    # The namespace runs privileged pods (device drivers, fabric plugins) and needs the
    # `privileged` Pod Security level; every other namespace stays `restricted`.
    privileged: bool = False
    source: Source

    _v = field_validator("version")(classmethod(lambda cls, v: exact(v)))


class Addon(Entry):
    """An EKS managed add-on pinned to an exact eksbuild version."""

    version: str
    source: Source | None = None  # where the build was read, for pins beyond the recipe's header
    _v = field_validator("version")(classmethod(lambda cls, v: exact(v)))


class Ami(Entry):
    """An EKS-optimized accelerated AMI family, pinned by release version per Kubernetes version."""

    ami_type: str  # the EKS managed node group amiType
    os: Literal["al2023", "bottlerocket"]
    # CPU architecture the image boots (kubernetes.io/arch): arm64 for Grace-based types.
    arch: Literal["amd64", "arm64"] = "amd64"
    ships_driver: bool  # NVIDIA kernel driver preinstalled
    ships_toolkit: bool  # NVIDIA container toolkit preinstalled
    ssm_parameter: str  # template with {k8s} and {release}: where the image id is published
    release_versions: dict[str, str]  # Kubernetes minor -> exact release version
    source: Source

    @field_validator("release_versions")
    @classmethod
    def _exact(cls, v: dict[str, str]) -> dict[str, str]:
        for release in v.values():
            if "latest" in release or "*" in release:
                raise ValueError(f"release version {release!r} is not exact")
        return v


class KubernetesVersion(Entry):
    """An EKS Kubernetes minor version with its support window and pinned add-ons."""

    standard_support_end: dt.date
    extended_support_end: dt.date
    addons: dict[str, Addon]


class Constraint(Entry):
    """A compatibility rule checked at validation: `when` selects stacks, `require` pins a floor."""

    id: str
    description: str
    when: dict[str, str]  # e.g. {capacity: capacityBlock, provisioner: karpenter} or {family: p6-b200}
    require: dict[str, str]  # chart name or "kubernetes" -> minimum exact version
    source: Source


class S3Tier(Entry):
    """One step of S3 Standard's volume ladder: this rate up to `up_to_gb` (None: and above)."""

    up_to_gb: float | None = Field(default=None, gt=0)
    usd_per_gb_month: float = Field(gt=0)


class CapacityBlocks(Entry):
    """A Region's Capacity Blocks: the types it sells blocks of, and the rates found."""

    source: Source
    valid_until: dt.date | None = None  # the table's own expiry: past it, the rates are stale
    offered: tuple[str, ...] = ()
    usd_per_hour: dict[str, float] = {}  # effective instance-hour rate by instance type

    @model_validator(mode="after")
    def _offered(self) -> "CapacityBlocks":
        extra = sorted(set(self.usd_per_hour) - set(self.offered))
        if extra:
            raise ValueError(f"usdPerHour for types the Region does not offer blocks of: {extra}")
        return self


class Pricing(Entry):
    """One Region's prices that are not a GPU type's reference on-demand rate: control plane,
    NAT, endpoints, storage, load balancers, logs, CPU instance types, Capacity Blocks. A
    missing rate is None: the cost model reports it unpriced."""

    source: Source
    unverified: tuple[str, ...] = ()  # keys whose figure was not read from a source
    eks_cluster_usd_per_hour: float | None = Field(default=None, gt=0)
    # The whole hourly rate in extended support, not the increment.
    eks_extended_support_usd_per_hour: float | None = Field(default=None, gt=0)
    nat_gateway_usd_per_hour: float | None = Field(default=None, gt=0)
    nat_gateway_usd_per_gb: float | None = Field(default=None, gt=0)
    interface_endpoint_usd_per_hour: float | None = Field(default=None, gt=0)
    s3_standard: tuple[S3Tier, ...] = ()
    ebs_gp3_usd_per_gb_month: float | None = Field(default=None, gt=0)
    fsx_lustre_persistent2_usd_per_gb_month: dict[int, float] = {}  # MB/s/TiB tier -> price
    fsx_lustre_backup_usd_per_gb_month: float | None = Field(default=None, gt=0)
    nlb_usd_per_hour: float | None = Field(default=None, gt=0)
    cloudwatch_logs_ingest_usd_per_gb: float | None = Field(default=None, gt=0)
    instances: dict[str, float] = {}  # on-demand $/h of types whose rate is not in instances.yaml
    instances_source: Source | None = None
    capacity_blocks: CapacityBlocks | None = None

    @model_validator(mode="after")
    def _shape(self) -> "Pricing":
        if self.instances and self.instances_source is None:
            raise ValueError("instances needs instancesSource")
        bounds = [t.up_to_gb for t in self.s3_standard]
        if self.s3_standard and (bounds[-1] is not None or None in bounds[:-1] or bounds[:-1] != sorted(bounds[:-1])):
            raise ValueError("s3Standard: ascending upToGb steps, the last one open-ended")
        return self


class Prices(Entry):
    """`pricing.yaml`: a price table per Region."""

    reference_region: str
    regions: dict[str, Pricing]

    @model_validator(mode="after")
    def _reference(self) -> "Prices":
        if self.reference_region not in self.regions:
            raise ValueError(f"referenceRegion {self.reference_region} has no table")
        return self


class Recipe(Entry):
    """Everything pinned together: Kubernetes versions, add-ons, AMIs, charts, constraints."""

    default_kubernetes_version: str
    kubernetes_versions: dict[str, KubernetesVersion]
    amis: dict[str, Ami]
    charts: dict[str, Chart]
    images: dict[str, str]  # name -> image reference with an exact tag
    constraints: tuple[Constraint, ...] = ()

    @field_validator("images")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        for name, ref in v.items():
            tag = ref.rsplit(":", 1)[-1] if ":" in ref.rsplit("/", 1)[-1] else ""
            if not tag or tag == "latest":
                raise ValueError(f"image {name} ({ref}) needs an exact tag")
        return v


class ModelPreset(Entry):
    """A published model's architecture: what sizing needs for FLOPs, memory and KV cache."""

    name: str
    params: int = Field(gt=0)  # all weights (every expert of a mixture of experts)
    active_params: int = Field(gt=0)  # weights used per token (= params for a dense model)
    layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)  # < attention_heads with grouped-query attention
    head_dim: int = Field(gt=0)
    vocab: int = Field(gt=0)
    max_context: int = Field(gt=0)
    experts: int = Field(default=1, ge=1)
    experts_per_token: int = Field(default=1, ge=1)
    # Sequence length of pre-training: the default --seq-len of `aidc size train`.
    training_seq_len: int = Field(gt=0)
    # Multi-head latent attention (DeepSeek-V2/V3): per-head query-key and value dims, and the
    # cached latent per layer and token (kv_lora_rank + rope dim) that replaces K and V.
    qk_head_dim: int | None = Field(default=None, gt=0)
    v_head_dim: int | None = Field(default=None, gt=0)
    kv_latent_dim: int | None = Field(default=None, gt=0)
    # The precision the weights are published in, when it is not 16-bit: gpt-oss ships its
    # experts as MXFP4 (`mxfp4` in the sizer's weight precisions). `aidc size serve` uses it
    # when --precision is not given.
    native_precision: Literal["fp8", "mxfp4"] | None = None
    source: Source

    @property
    def moe(self) -> bool:
        return self.experts > 1

    @property
    def attention_width(self) -> int:
        """Heads x head dim as attention FLOPs see it: (qk + v) / 2 per head with MLA."""
        if self.qk_head_dim and self.v_head_dim:
            return self.attention_heads * (self.qk_head_dim + self.v_head_dim) // 2
        return self.attention_heads * self.head_dim

    @model_validator(mode="after")
    def _shape(self) -> "ModelPreset":
        if self.active_params > self.params:
            raise ValueError("activeParams cannot exceed params")
        if self.experts > 1 and self.active_params >= self.params:
            # Sized on all its parameters, a mixture of experts comes out experts/k times too big.
            raise ValueError("a mixture of experts (experts > 1) needs activeParams below params")
        if self.attention_heads % self.kv_heads:
            raise ValueError("attentionHeads must be a multiple of kvHeads")
        if self.experts_per_token > self.experts:
            raise ValueError("expertsPerToken cannot exceed experts")
        return self


class MfuModelShape(Entry):
    """The fixed shape of the utilisation model (mfu.yaml `model`)."""

    dp_slope: float = Field(ge=0, le=1)  # MFU ~ (data-parallel width / reference) ^ -slope
    dp_reference: float = Field(gt=0)
    slope_source: Source
    range_percentiles: tuple[float, float]

    @model_validator(mode="after")
    def _range(self) -> "MfuModelShape":
        low, high = self.range_percentiles
        if not 0 <= low < high <= 100:
            raise ValueError("rangePercentiles must be two percentiles, low < high, within 0-100")
        return self


class MfuGeneration(Entry):
    """A GPU generation's base: fitted on calibration runs, or a stated share of another's."""

    calibrated: bool = False
    derived_from: str | None = None
    factor: float | None = Field(default=None, gt=0, le=2)
    reasoning: str = ""

    @model_validator(mode="after")
    def _one(self) -> "MfuGeneration":
        if self.calibrated == (self.derived_from is not None) or (self.derived_from is None) != (self.factor is None):
            raise ValueError("give calibrated: true, or derivedFrom with factor (and reasoning)")
        return self


class PublishedRun(Entry):
    """A published training run: what it trained, on what, and how long it took."""

    name: str
    gpu: str  # catalog GPU key whose peak the run ran at
    precision: Literal["bf16", "fp8"] = "bf16"
    active_params: float = Field(gt=0)
    total_params: float | None = Field(default=None, gt=0)  # MoE: every expert; default active
    layers: int = Field(gt=0)
    attention_width: int = Field(gt=0)
    seq_len: int = Field(gt=0)
    tokens: float = Field(gt=0)
    gpus: int | None = Field(default=None, gt=0)  # None: not published
    gpu_hours: float | None = Field(default=None, gt=0)
    days: float | None = Field(default=None, gt=0)
    source: Source

    @model_validator(mode="after")
    def _time(self) -> "PublishedRun":
        if (self.gpu_hours is None) == (self.days is None):
            raise ValueError(f"{self.name}: give gpuHours or days")
        if self.days is not None and self.gpus is None:
            raise ValueError(f"{self.name}: days needs gpus")
        if self.total_params is not None and self.total_params < self.active_params:
            raise ValueError(f"{self.name}: totalParams below activeParams")
        return self

    @property
    def params(self) -> float:
        return self.total_params or self.active_params

    @property
    def moe(self) -> bool:
        return self.params > self.active_params

    @property
    def published_gpu_hours(self) -> float:
        return self.gpu_hours if self.gpu_hours is not None else self.days * 24 * self.gpus


class ServingUtilisation(Entry):
    """Share of the dense peak a server's prefill (compute-bound) reaches."""

    prefill_mfu: float = Field(gt=0, le=1)
    reasoning: str


class MfuCatalog(Entry):
    """`mfu.yaml`: the utilisation model's shape, generations and the published runs."""

    model: MfuModelShape
    serving: ServingUtilisation
    generations: dict[str, MfuGeneration]
    calibration: tuple[PublishedRun, ...] = Field(min_length=1)
    held_out: tuple[PublishedRun, ...] = ()


class RuleSource(Entry):
    """Where a replacement rule was read: a file of a public repository at a ref, and where in it."""

    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    ref: str = Field(min_length=1)  # a tag, or the version read when the tag could not be had
    path: str = Field(min_length=1)
    at: str = Field(min_length=1)  # line numbers or the function


class ReplaceRule(Entry):
    """What forces one resource type to be replaced, and what a delete of it destroys."""

    source: tuple[RuleSource, ...] = ()  # required in the file (the catalog data test checks it)
    holds_data: str = ""  # what is lost on delete or replace, e.g. "objects in the bucket"; "" = no data
    replace_on_changes: tuple[str, ...] = ()  # property paths, `[*]` for any list element
    replace_on_decrease: tuple[str, ...] = ()  # grow in place, replace when the value shrinks
    replace_on_remove: tuple[str, ...] = ()  # change in place, replace when the whole block goes


class ProviderRule(Entry):
    """What a change of a provider's own configuration does to the resources under it."""

    source: tuple[RuleSource, ...] = Field(min_length=1)
    resource_input: str = ""  # a provider key copied into every resource's inputs (aws: region)
    global_types: tuple[str, ...] = ()  # types without that input (`*` suffix: a prefix)
    identity: str = ""  # a key whose change replaces, and whose unchanged value cancels the rest
    cluster_keys: tuple[str, ...] = ()  # replace when unknown, or when the active cluster changes
    replace_on_changes: tuple[str, ...] = ()  # keys whose change replaces the provider

    def is_global(self, type_token: str) -> bool:
        return any(type_token == g or (g.endswith("*") and type_token.startswith(g[:-1]))
                   for g in self.global_types)


class ReplaceOnChange(Entry):
    """`replace_on_change.yaml`: replacement rules per resource type token (a key ending in
    `*` applies to every type with that prefix, on top of the exact entry), and per provider
    package (`aws`, `kubernetes`)."""

    source: Source
    providers: dict[str, ProviderRule] = {}
    types: dict[str, ReplaceRule]

    def rule(self, type_token: str) -> ReplaceRule:
        """Every entry matching `type_token`, merged (prefix entries first)."""
        found = [r for key, r in sorted(self.types.items())
                 if key.endswith("*") and type_token.startswith(key[:-1])]
        if type_token in self.types:
            found.append(self.types[type_token])

        def merged(attr: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(p for r in found for p in getattr(r, attr)))

        return ReplaceRule(
            source=tuple(s for r in found for s in r.source),
            holds_data=next((r.holds_data for r in reversed(found) if r.holds_data), ""),
            replace_on_changes=merged("replace_on_changes"), replace_on_decrease=merged("replace_on_decrease"),
            replace_on_remove=merged("replace_on_remove"))

    def provider(self, package: str) -> ProviderRule | None:
        return self.providers.get(package)


class RepoSource(Entry):
    """A fact read from a file of a public repository at a tag."""

    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    tag: str
    commit: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    path: str
    date: dt.date
    note: str = ""


class DcgmFields(Entry):
    """`dcgm_fields.yaml`: the field names the deployed dcgm-exporter resolves, with their ids."""

    gpu_operator_chart: str  # the chart version whose default exporter image this list is for
    exporter: str
    dcgm: str
    source: tuple[RepoSource, ...] = Field(min_length=1)
    exporter_counters: tuple[str, ...]
    fields: dict[str, int]
    legacy_fields: dict[str, int]

    def known(self, name: str) -> bool:
        """The exporter accepts `name` in its collectors file."""
        return name in self.fields or name in self.legacy_fields or name in self.exporter_counters


class Region(Entry):
    partition: Literal["aws", "aws-us-gov", "aws-cn"]
    name: str
    az_ids: tuple[str, ...] = ()  # empty: the source documents none, zone letters go unchecked
    note: str = ""

    @property
    def zone_letters(self) -> str:
        """Letters a zone name of this Region can end in: a up to the N-th letter for its highest
        AZ ID azN (see regions.yaml); "" when no AZ IDs are known."""
        highest = max((int(a.rsplit("-az", 1)[1]) for a in self.az_ids), default=0)
        return "abcdefghijklmnopqrstuvwxyz"[:highest]


class Regions(Entry):
    """`regions.yaml`: the AWS Regions aidc accepts for `aws:region`, with their AZ IDs."""

    source: tuple[RepoSource | Source, ...] = Field(min_length=1)
    regions: dict[str, Region]

    @field_validator("regions")
    @classmethod
    def _az_ids(cls, v: dict[str, Region]) -> dict[str, Region]:
        for name, region in v.items():
            for az in region.az_ids:
                if not re.fullmatch(r"[a-z]+\d+-az\d+", az):
                    raise ValueError(f"regions.{name}.azIds: {az!r} is not an AZ ID")
        return v


class EniLimits(NamedTuple):
    enis: int         # network interfaces on network card 0 (the VPC CNI's card)
    ipv4_per_eni: int  # private IPv4 addresses per interface, its primary address included


class VpcCniDefaults(Entry):
    warm_eni_target: int = Field(ge=0)
    warm_prefix_target: int = Field(ge=0)


class VpcCni(Entry):
    """`vpc_cni.yaml`: the VPC CNI's per-type interface limits and warm-pool defaults."""

    source: tuple[RepoSource, ...] = Field(min_length=1)
    addon_version: str
    defaults: VpcCniDefaults
    limits: dict[str, EniLimits]


class FailureRate(Entry):
    """Unexpected interruptions observed on one training run: a per-GPU-hour rate."""

    interruptions: int = Field(gt=0)
    gpus: int = Field(gt=0)
    days: float = Field(gt=0)
    source: Source

    @property
    def per_gpu_hour(self) -> float:
        return self.interruptions / (self.gpus * self.days * 24.0)


class RestartTime(Entry):
    """Minutes from a fault to the job training again, besides reloading the checkpoint."""

    detect_minutes: float = Field(ge=0)
    detect_source: Source
    replace_minutes: float = Field(ge=0)
    replace_source: Source


class Failures(Entry):
    """failures.yaml: interruption rates of observed runs and the restart time."""

    default: str
    rates: dict[str, FailureRate]
    restart: RestartTime

    @model_validator(mode="after")
    def _default_known(self) -> "Failures":
        if self.default not in self.rates:
            raise ValueError(f"default {self.default!r} is not one of rates: {sorted(self.rates)}")
        return self
