"""`aidc size train|serve ...`: capacity planning from the workload (docs/sizing.md)."""

from __future__ import annotations

import argparse
import json

from aidc.errors import Problem, UserError
from aidc.sizing import AttentionShape, ServeWorkload, TrainWorkload, plan_serve, plan_train, resolve_hardware
from aidc.sizing.energy import FleetEnergy, OnPremRacks, fleet_energy, on_prem_racks, regions_asked
from aidc.sizing.hardware import nodes_carrying
from aidc.sizing.plot import write_plot
from aidc.sizing.resilience import plan_resilience, resilience_json, resilience_lines
from aidc.sizing.serve import DEFAULT_GPU_MEMORY_UTILIZATION, Architecture, ServePlan, plan_serve_cheapest
from aidc.sizing.stack import CAPACITY_TYPES, fragment
from aidc.sizing.train import DEFAULT_CHECKPOINT_WRITE_SECONDS, PRECISIONS, TrainPlan
from components.catalog import catalog
from components.formulas.energy import HOURS_PER_MONTH
from components.suggest import unknown

RESERVED_LABEL = {"capacityBlock": "Capacity Block", "oneYear": "1-year commitment"}


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (70e9, 2e12, 0.4 ...)") from None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--instance-type", help="GPU instance type from the catalog (e.g. p5.48xlarge)")
    p.add_argument("--gpu", help="GPU model from the catalog; sizes on its largest node")
    p.add_argument("--preset", help="model preset from the catalog (models.yaml), e.g. llama-3.1-70b")
    p.add_argument("--params", type=_number, help="parameters (all experts for a mixture of experts)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--emit-stack", action="store_true", help="print a stack fragment: the pool (and Lustre, or the inference service)")
    p.add_argument("--pool-name", help="name of the emitted pool (default train-<gpu> / infer-<gpu>)")
    p.add_argument("--capacity", choices=CAPACITY_TYPES, help="capacity type of the emitted pool")
    p.add_argument("--reservation-id", help="cr-... of a Capacity Block or reservation (emitted pool)")
    p.add_argument("--zone", help="availability zone of the emitted pool (required with a reservation)")
    p.add_argument("--region", action="append", metavar="REGION",
                   help="AWS Region to give energy's carbon for (repeat to compare; default the pricing Region)")
    p.add_argument("--rack-power-kw", type=_number, metavar="KW",
                   help="also plan the GPUs as on-prem servers (the catalog shape carrying the GPU) in racks of KW")
    p.add_argument("--cooling", choices=("air", "liquid"), help="the on-prem site's cooling (with --rack-power-kw)")


def register(sub: argparse._SubParsersAction) -> None:
    size = sub.add_parser("size", help="size GPU pools, fabric and storage from a workload")
    kinds = size.add_subparsers(dest="kind", required=True)
    t = kinds.add_parser("train", help="GPUs or days, nodes, checkpoint storage and cost of a training run")
    _common(t)
    t.add_argument("--active-params", type=_number, help="parameters used per token (mixture of experts)")
    t.add_argument("--tokens", type=_number, required=True, help="training tokens")
    t.add_argument("--gpus", type=_number, help="GPUs you have (answer: days)")
    t.add_argument("--days", type=_number, help="days you have (answer: GPUs, whole nodes)")
    t.add_argument("--mfu", type=_number, help="effective model FLOPs utilisation (default: the utilisation "
                                               "model of catalog mfu.yaml)")
    t.add_argument("--seq-len", type=_number, help="training sequence length for attention FLOPs (default: the preset's)")
    t.add_argument("--layers", type=_number, help="transformer layers (without --preset; for attention FLOPs)")
    t.add_argument("--hidden-size", type=_number, help="attention width, heads x head dim (without --preset)")
    t.add_argument("--plot", metavar="FILE.png", help="also write days and cost against GPU count to FILE.png")
    t.add_argument("--precision", default="bf16", choices=PRECISIONS, help="training precision (peak FLOPs)")
    t.add_argument("--checkpoint-write-seconds", type=_number, default=DEFAULT_CHECKPOINT_WRITE_SECONDS,
                   help="longest acceptable checkpoint write (default %(default)g s)")
    t.add_argument("--restart-minutes", type=_number, help="fault to training again, besides reloading the "
                                                           "checkpoint (default: catalog failures.yaml)")
    t.add_argument("--failures-per-gpu-hour", type=_number, help="unexpected interruptions per GPU-hour "
                                                                 "(default: catalog failures.yaml, Llama 3)")
    t.set_defaults(run=run_train)
    s = kinds.add_parser("serve", help="tensor parallelism, replicas, KV cache and cost of an inference deployment")
    _common(s)
    s.add_argument("--precision", help="weight precision: bf16 (default), fp8, int8, int4, mxfp4; "
                                       "a preset published in another (gpt-oss: mxfp4) defaults to it")
    s.add_argument("--kv-precision", default="bf16", help="KV-cache precision: bf16 (default), fp8")
    s.add_argument("--context", type=_number, required=True, help="tokens per sequence (prompt + output)")
    s.add_argument("--concurrency", type=_number, required=True, help="sequences in flight")
    s.add_argument("--output-tokens", type=_number, help="output tokens per sequence, of --context (default "
                                                          "min(512, context / 2)); the prompt is the rest")
    s.add_argument("--layers", type=_number, help="transformer layers (without --preset)")
    s.add_argument("--kv-heads", type=_number, help="key/value heads (without --preset)")
    s.add_argument("--head-dim", type=_number, help="head dimension (without --preset)")
    s.add_argument("--heads", type=_number, help="attention heads (optional; TP must divide it)")
    s.add_argument("--gpu-memory-utilization", type=_number, default=DEFAULT_GPU_MEMORY_UTILIZATION,
                   help="share of each GPU vLLM may take, as in the stack (default %(default)g)")
    s.add_argument("--service-name", help="name of the emitted inference service (default: the preset's)")
    s.add_argument("--model-source", help="where the emitted service loads the model: bucket:PATH, "
                                          "lustre:/PATH or hub:ORG/NAME (default bucket:<service name>)")
    s.set_defaults(run=run_serve)


def _preset(name: str | None):
    if name is None:
        return None
    models = catalog().models
    if name not in models:
        raise UserError("unknown preset", [Problem("--preset", unknown("preset", name, models))])
    return models[name]


def _exclusive(args: argparse.Namespace, flags: tuple[str, ...]) -> None:
    clash = [f for f in flags if getattr(args, f.lstrip("-").replace("-", "_")) is not None]
    if args.preset and clash:
        raise UserError("conflicting options", [Problem(f, "comes from --preset; give one or the other") for f in clash])


def _emit_or_print(args: argparse.Namespace, plan, payload: dict, lines: list[str]) -> int:
    if args.emit_stack and args.json:
        raise UserError("conflicting options", [Problem("--emit-stack", "give --emit-stack or --json, not both")])
    if args.emit_stack:
        print(fragment(plan, args.pool_name, args.capacity, args.reservation_id, args.zone,
                       service=getattr(args, "service_name", None), source=getattr(args, "model_source", None),
                       preset=args.preset), end="")
    elif args.json:
        print(json.dumps(payload, indent=2))
    else:
        print("\n".join(lines))
    return 0


def _moe_lookalike(params: float) -> str | None:
    """The name of a mixture-of-experts preset whose total size `params` is (within 2%)."""
    for key, m in catalog().models.items():
        if m.moe and abs(params / m.params - 1) <= 0.02:
            return f"{m.name} ({m.params / 1e9:,.0f}B total, {m.active_params / 1e9:,.0f}B active; --preset {key})"
    return None


def _attention(args: argparse.Namespace, preset) -> AttentionShape | None:
    seq = args.seq_len if args.seq_len is not None else (preset.training_seq_len if preset else None)
    layers = preset.layers if preset else args.layers
    width = preset.attention_width if preset else args.hidden_size
    given = [f for f, v in (("--layers", args.layers), ("--hidden-size", args.hidden_size), ("--seq-len", args.seq_len))
             if v is not None]
    if preset is None and given and len(given) < 3:
        missing = [f for f in ("--layers", "--hidden-size", "--seq-len") if f not in given]
        raise UserError("incomplete attention shape", [Problem(f, f"needed with {', '.join(given)}") for f in missing])
    if seq is None or layers is None or width is None:
        return None
    problems: list[Problem] = []
    for flag, v in (("--seq-len", seq), ("--layers", layers), ("--hidden-size", width)):
        if v <= 0 or v != int(v):
            problems.append(Problem(flag, f"must be a positive whole number, got {v:g}"))
    if problems:
        raise UserError("invalid attention shape", problems)
    return AttentionShape(int(layers), int(width), int(seq))


def run_train(args: argparse.Namespace) -> int:
    cat = catalog()
    preset = _preset(args.preset)
    _exclusive(args, ("--params", "--active-params", "--layers", "--hidden-size"))
    params = preset.params if preset else args.params
    if params is None:
        raise UserError("no model size", [Problem("--params", "give --params (or --preset)")])
    active = preset.active_params if preset else args.active_params
    if preset is None and active is None and (twin := _moe_lookalike(params)):
        raise UserError("mixture of experts without active parameters", [Problem(
            "--active-params", f"--params {params:g} is the size of {twin}: give --active-params (parameters used "
                               "per token) or the preset; sized on all its parameters it would come out many times "
                               "too big")])
    hw = resolve_hardware(cat, args.instance_type, args.gpu)
    gpus = args.gpus
    w = TrainWorkload(params=params, tokens=args.tokens, active_params=active,
                      gpus=int(gpus) if gpus and gpus > 0 and gpus == int(gpus) else gpus, days=args.days,
                      mfu=args.mfu, precision=args.precision, checkpoint_write_seconds=args.checkpoint_write_seconds,
                      attention=_attention(args, preset))
    plan = plan_train(w, hw, cat)
    name = preset.name if preset else None
    if args.plot:
        _plot(args.plot, plan, cat, name)
    # Failures and checkpoint interval (aidc/sizing/resilience.py), beside the plan's own figures.
    res = plan_resilience(cat, plan.gpus, plan.days * 24, plan.lustre.write_seconds or w.checkpoint_write_seconds,
                          args.restart_minutes, args.failures_per_gpu_hour)
    energy = fleet_energy(hw, plan.nodes, plan.days * 24, regions_asked(args.region, cat), cat)
    site = on_prem_racks(hw, plan.gpus, args.rack_power_kw, args.cooling, cat)
    lines = _with_energy(train_lines(plan, name), energy, "for the run", site)
    at = lines.index("assumptions:")
    lines[at:] = [*resilience_lines(res), *lines[at:], *[f"  - {a}" for a in res.assumptions]]
    return _emit_or_print(args, plan, {**train_json(plan), "resilience": resilience_json(res),
                                       "energy": energy.to_json(), "racks": site.to_json() if site else None}, lines)


def _with_energy(lines: list[str], energy: FleetEnergy, what: str, site: OnPremRacks | None) -> list[str]:
    """The energy, carbon (and rack) lines before the assumptions, and their assumption with the rest."""
    at = lines.index("assumptions:")
    return [*lines[:at], *energy.lines(what), *([site.line()] if site else []), *lines[at:],
            f"  - {energy.assumption}"]


def _plot(path: str, plan: TrainPlan, cat, name: str | None) -> None:
    what = name or f"{plan.workload.params / 1e9:,.1f}B params"
    title = (f"{what}, {plan.workload.tokens / 1e12:,.3g}T tokens, {plan.workload.precision} on "
             f"{plan.hardware.gpu.name}: days and cost vs GPUs")
    try:
        write_plot(plan, cat, path, title)
    except OSError as err:
        raise UserError("cannot write the plot", [Problem("--plot", f"{path}: {err.strerror or err}")]) from None


def train_json(p: TrainPlan) -> dict:
    hw, w, lu = p.hardware, p.workload, p.lustre
    return {
        "gpus": p.gpus, "nodes": p.nodes, "days": round(p.days, 2), "gpuHours": round(p.gpu_hours),
        "instanceType": hw.instance_type, "checkpointGiB": round(p.checkpoint_gib, 1), "costUsd": round(p.cost_usd),
        "costUsdReserved": None if p.cost_usd_reserved is None else round(p.cost_usd_reserved),
        "costReservedBasis": p.reserved_basis,
        "gpu": hw.gpu.name, "gpusPerNode": hw.gpus_per_node, "params": w.params,
        "activeParams": w.active_params or w.params, "tokens": w.tokens, "precision": w.precision,
        "trainingFlops": p.flops, "attentionShare": round(p.attention_share, 4),
        "seqLen": w.attention.seq_len if w.attention else None,
        "peakTflopsPerGpu": p.peak_flops_per_gpu / 1e12, "mfu": round(p.mfu, 4),
        "mfuRange": sorted(round(m, 4) for m in p.mfu_range), "mfuSource": p.mfu_source,
        "dataParallelWidth": round(p.dp_width, 1),
        "gpuHoursRange": sorted(round(h) for h in p.gpu_hours_range),
        "daysRange": sorted(round(d, 2) for d in p.days_range),
        "costUsdRange": sorted(round(c) for c in p.cost_usd_range), "stateGiB": round(p.state_gib, 1), "minGpusForState": p.min_gpus_for_state,
        "usdPerHour": round(p.nodes * hw.usd_per_node_hour, 2),
        "fabric": {"efaInterfacesPerNode": hw.instance.efa_interfaces, "networkGbpsPerNode": hw.instance.network_gbps,
                   "gpudirectRdma": hw.instance.gpudirect_rdma},
        "lustre": {"deploymentType": "PERSISTENT_2", "capacityGiB": lu.capacity_gib,
                   "tierMBpsPerTiB": lu.tier_mbps_per_tib, "throughputMBps": round(lu.throughput_mbps, 1),
                   "writeSeconds": round(lu.write_seconds, 1), "maxWriteSeconds": w.checkpoint_write_seconds,
                   "usdPerMonth": None if lu.usd_per_month is None else round(lu.usd_per_month, 2)},
        "assumptions": p.assumptions,
    }


def train_lines(p: TrainPlan, model: str | None) -> list[str]:
    hw, w, lu = p.hardware, p.workload, p.lustre
    active = w.active_params or w.params
    what = model or f"{w.params / 1e9:,.1f}B-parameter model" + (
        f" ({active / 1e9:,.1f}B active)" if active != w.params else "")
    asked = f"{w.gpus:g} GPUs given" if w.days is None else f"to finish within {w.days:g} days"
    return [
        f"Training {what} on {w.tokens / 1e12:,.3g}T tokens, {hw.instance_type} "
        f"({hw.gpus_per_node} x {hw.gpu.name}), {asked}",
        f"  compute     {p.flops:.3g} FLOPs  ({active / 1e9:,.1f}B active params x {w.tokens / 1e12:,.3g}T tokens"
        + (f", attention {p.attention_share:.0%} at {w.attention.seq_len:,} tokens)" if w.attention else
           ", attention not counted)"),
        f"  GPU-hours   {p.gpu_hours:,.0f}  (range {min(p.gpu_hours_range):,.0f}-{max(p.gpu_hours_range):,.0f})  at "
        f"{p.peak_flops_per_gpu / 1e12:,.0f} TFLOPS {w.precision} peak x MFU {p.mfu:.3f}"
        + (f" ({min(p.mfu_range):.3f}-{max(p.mfu_range):.3f})" if w.mfu is None else " (given)"),
        f"  GPUs        {p.gpus:,} on {p.nodes:,} nodes -> {p.days:,.1f} days (range {min(p.days_range):,.1f}-"
        f"{max(p.days_range):,.1f}), data-parallel width {p.dp_width:,.0f}",
        f"  memory      at least {p.min_gpus_for_state:,} GPUs to hold {p.state_gib:,.0f} GiB of sharded "
        "weights, gradients and optimizer state",
        f"  checkpoint  {p.checkpoint_gib:,.0f} GiB -> FSx for Lustre PERSISTENT_2 {lu.capacity_gib:,} GiB at "
        f"{lu.tier_mbps_per_tib} MB/s/TiB ({lu.throughput_mbps / 1000:,.1f} GB/s): written in "
        f"{lu.write_seconds:,.0f} s (limit {w.checkpoint_write_seconds:g} s)"
        + (f", ${lu.usd_per_month:,.0f}/month" if lu.usd_per_month is not None else ""),
        f"  fabric      {hw.instance.efa_interfaces} EFA interface{'s' * (hw.instance.efa_interfaces != 1)} and "
        f"{hw.instance.network_gbps:,g} Gb/s per node"
        + (", GPUDirect RDMA" if hw.instance.gpudirect_rdma else ""),
        f"  cost        ${p.cost_usd:,.0f} on demand ({p.nodes:,} x ${hw.usd_per_node_hour:,.2f}/h x "
        f"{p.days * 24:,.0f} h; range ${min(p.cost_usd_range):,.0f}-${max(p.cost_usd_range):,.0f})"
        + (f", ${p.cost_usd_reserved:,.0f} reserved ({RESERVED_LABEL[p.reserved_basis]})"
           if p.cost_usd_reserved is not None else ""),
        "assumptions:",
        *[f"  - {a}" for a in p.assumptions],
    ]


def run_serve(args: argparse.Namespace) -> int:
    cat = catalog()
    preset = _preset(args.preset)
    _exclusive(args, ("--params", "--layers", "--kv-heads", "--head-dim", "--heads"))
    if preset:
        arch = Architecture.of_preset(preset)
    else:
        missing = [f for f in ("--params", "--layers", "--kv-heads", "--head-dim")
                   if getattr(args, f.lstrip("-").replace("-", "_")) is None]
        if missing:
            raise UserError("no model architecture",
                            [Problem(f, "required without --preset") for f in missing])
        arch = Architecture(args.params, _whole(args.layers), _whole(args.kv_heads), _whole(args.head_dim),
                            _whole(args.heads) if args.heads else None)
    hw = resolve_hardware(cat, args.instance_type, args.gpu)
    precision = args.precision or (preset.native_precision if preset else None) or "bf16"
    w = ServeWorkload(arch, precision, _whole(args.context), _whole(args.concurrency),
                      args.kv_precision, args.gpu_memory_utilization,
                      _whole(args.output_tokens) if args.output_tokens is not None else None)
    # --gpu: every node type carrying it is a candidate; the cheapest per month wins.
    plan = plan_serve_cheapest(w, nodes_carrying(cat, hw.gpu_key), cat) if args.gpu else plan_serve(w, hw, cat)
    energy = fleet_energy(plan.hardware, plan.nodes, HOURS_PER_MONTH, regions_asked(args.region, cat), cat)
    site = on_prem_racks(plan.hardware, plan.gpus, args.rack_power_kw, args.cooling, cat)
    return _emit_or_print(args, plan, {**serve_json(plan), "energy": energy.to_json(),
                                       "racks": site.to_json() if site else None},
                          _with_energy(serve_lines(plan), energy, "per month", site))


def _whole(x: float) -> int | float:
    return int(x) if x == int(x) else x


def serve_json(p: ServePlan) -> dict:
    hw, w = p.hardware, p.workload
    return {
        "tensorParallel": p.tensor_parallel, "replicas": p.replicas, "gpus": p.gpus,
        "kvCacheGiB": round(p.kv_cache_gib, 1), "costUsd": round(p.usd_per_month), "costPeriod": "month",
        "costUsdReserved": None if p.usd_per_month_reserved is None else round(p.usd_per_month_reserved),
        "costReservedBasis": p.reserved_basis,
        "nodes": p.nodes, "instanceType": hw.instance_type, "gpu": hw.gpu.name, "gpusPerNode": hw.gpus_per_node,
        "model": w.arch.name, "params": w.arch.params, "precision": w.precision, "kvPrecision": w.kv_precision,
        "context": w.context, "concurrency": w.concurrency, "weightsGiB": round(p.weights_gib, 1),
        "kvBytesPerToken": p.kv_bytes_per_token, "kvGiBPerSequence": round(p.kv_gib_per_sequence, 3),
        "gpuMemoryUtilization": w.gpu_memory_utilization, "usableGiBPerGpu": round(p.usable_gib_per_gpu, 1),
        "minTensorParallel": p.min_tensor_parallel, "sequencesPerReplica": p.seqs_per_replica,
        "decodeTokensPerSecond": round(p.decode_tokens_per_s), "decodeTokensPerSecondPerSequence":
            round(p.decode_tokens_per_s_per_seq, 1),
        "promptTokens": w.prompt, "outputTokens": w.output,
        "timeToFirstTokenSeconds": round(p.prefill_seconds, 3),
        "prefillTokensPerSecondPerReplica": round(p.prefill_tokens_per_s),
        "throughputTokensPerSecond": round(p.throughput_tokens_per_s),
        "stepWeightsGiB": round(p.step_weights_gib, 1), "activeParams": w.arch.active,
        "usdPerHour": round(p.nodes * hw.usd_per_node_hour, 2),
        "usdPerMillionTokens": round(p.usd_per_million_tokens, 3),
        "options": [{"tensorParallel": o.tp, "sequencesPerReplica": o.seqs_per_replica, "replicas": o.replicas,
                     "nodes": o.nodes} for o in p.options],
        "assumptions": p.assumptions,
    }


def serve_lines(p: ServePlan) -> list[str]:
    hw, w = p.hardware, p.workload
    spare = p.nodes * hw.gpus_per_node - p.gpus
    opts = ", ".join(f"TP{o.tp}: {o.replicas} x {o.seqs_per_replica} seqs on {o.nodes} node{'s' * (o.nodes > 1)}"
                     for o in p.options)
    return [
        f"Serving {w.arch.name} ({w.arch.params / 1e9:,.1f}B) at {w.precision}, {w.concurrency:,} sequences x "
        f"{w.context:,} tokens, {hw.instance_type} ({hw.gpus_per_node} x {hw.gpu.name} {hw.gpu.memory_gib:g} GiB)",
        f"  weights          {p.weights_gib:,.1f} GiB",
        f"  KV cache         {p.kv_bytes_per_token / 1024:,.0f} KiB/token, {p.kv_gib_per_sequence:,.2f} GiB/sequence, "
        f"{p.kv_cache_gib:,.1f} GiB for all {w.concurrency:,}",
        f"  parallelism      tensor-parallel {p.tensor_parallel} (smallest that fits: {p.min_tensor_parallel}), "
        f"{p.replicas} replica{'s' * (p.replicas > 1)} of up to {p.seqs_per_replica} sequences",
        f"  GPUs             {p.gpus} on {p.nodes} node{'s' * (p.nodes > 1)}"
        + (f" ({spare} GPU{'s' * (spare > 1)} free for more replicas)" if spare else ""),
        f"  decode bound     {p.decode_tokens_per_s:,.0f} tokens/s in all, {p.decode_tokens_per_s_per_seq:,.1f} "
        "tokens/s per sequence (HBM bandwidth, full context)"
        + (f"; a step reads {p.step_weights_gib:,.0f} of {p.weights_gib:,.0f} GiB of experts and weights"
           if w.arch.experts > 1 else ""),
        f"  prefill          {w.prompt:,}-token prompt in {p.prefill_seconds:,.2f} s (time to first token), "
        f"{p.prefill_tokens_per_s:,.0f} prompt tokens/s per replica",
        f"  throughput       {p.throughput_tokens_per_s:,.0f} output tokens/s in all ({w.output:,} output tokens per "
        "sequence, prefills interleaved)",
        f"  cost             ${p.usd_per_month:,.0f}/month on demand"
        + (f", ${p.usd_per_month_reserved:,.0f}/month reserved ({RESERVED_LABEL[p.reserved_basis]})"
           if p.usd_per_month_reserved is not None else "")
        + f", ${p.usd_per_million_tokens:,.2f} per 1M output tokens at that throughput",
        f"  options          {opts}",
        "assumptions:",
        *[f"  - {a}" for a in p.assumptions],
    ]
