"""`aidc cost STACK | --plan FILE [--json | --format text|json|csv]`: monthly cost per component, $/GPU-hour, power and energy."""

from __future__ import annotations

import argparse
import json

from aidc.carbon import footprint
from aidc.cost import CostEstimate, estimate

from ._source import add_source, plan_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cost", help="estimate monthly cost, $/GPU-hour, power and energy of a plan")
    add_source(p)
    p.add_argument("--format", choices=("text", "json", "csv"), default=None,
                   help="output: text (default), json (same as --json) or csv (one row per resource, for finance)")
    p.set_defaults(run=run)


def total_line(est: CostEstimate) -> str:
    gpu = f", ${est.usd_per_gpu_hour:.2f}/GPU-hour" if est.usd_per_gpu_hour else ""
    gaps = f"; {len(est.unpriced)} not priced in {est.region} (see aidc cost)" if est.unpriced else ""
    return (f"cost ${est.monthly_usd:,.2f}/month (${est.monthly_usd_max:,.2f} at max size), "
            f"{est.gpu_count} GPUs{gpu}{gaps}")


def render(est: CostEstimate, carbon_lines: list[str] = ()) -> list[str]:
    lines = [total_line(est), f"region: {est.region}", "by component:"]
    lines += [f"  {comp:<44} ${usd:>14,.2f}" for comp, usd in est.by_component().items()]
    lines.append("by pool:")
    lines += [f"  {pool:<44} ${usd:>14,.2f}" for pool, usd in est.by_pool().items()]
    lines.append("by resource:")
    for ln in sorted(est.lines, key=lambda x: -x.monthly_usd):
        mx = "" if ln.monthly_usd_max in (None, ln.monthly_usd) else f" (max ${ln.monthly_usd_max:,.2f})"
        lines.append(f"  ${ln.monthly_usd:>14,.2f}{mx}  {ln.urn.rsplit('::', 1)[-1]}: {ln.detail}")
    per = f"${est.usd_per_gpu_hour:.4f}" if est.usd_per_gpu_hour else \
        "n/a (on-prem GPUs are not priced)" if est.unpriced_gpu_count else \
        f"n/a (the GPU pools are not priced in {est.region})" if any(
            not ln.priced for ln in est.lines if ln.type == "gpu-pool") else "n/a (no GPU-hours at the expected size)"
    if est.unpriced_gpu_count:
        per += f"; {est.unpriced_gpu_count} on-prem GPUs not priced (power and energy counted)"
    lines += [f"GPUs: {est.gpu_count} expected, {est.gpu_count_max if est.gpu_count_max is not None else 'unbounded'} at max",
              f"cost per GPU-hour: {per}",
              f"power: {est.power_kw:,.1f} kW (max {est.power_kw_max if est.power_kw_max is not None else '?'} kW); "
              f"energy: {est.energy_mwh_per_month:,.1f} MWh/month",
              *carbon_lines,
              "assumptions:"]
    lines += [f"  - {a}" for a in est.assumptions]
    return lines


def run(args: argparse.Namespace) -> int:
    plan = plan_from(args)
    est = estimate(plan)
    fmt = args.format or ("json" if args.json else "text")
    if fmt == "csv":
        print(est.to_csv(), end="")
        return 0
    carbon = footprint(est, plan.config)
    print(json.dumps({**est.to_json(), "carbon": carbon.to_json()}, indent=2) if fmt == "json"
          else "\n".join(render(est, carbon.lines())))
    return 0
