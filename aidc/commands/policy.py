"""`aidc policy STACK | --plan FILE [--json]`: every rule over the plan; exit 1 on a mandatory violation."""

from __future__ import annotations

import argparse
import json

from aidc.policy import SEVERITY_ORDER, PolicyReport, evaluate

from ._source import add_source, plan_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("policy", help="evaluate the security and cost policies over a plan")
    add_source(p)
    p.add_argument("--environment", help="policy tier (default: the plan's aidc:environment)")
    p.add_argument("--config", metavar="FILE", help="a policy config in CrossGuard's format "
                   "(default: policies/config/<environment>.json)")
    p.set_defaults(run=run)


def verdict(report: PolicyReport) -> str:
    mandatory = sum(v.enforcement == "mandatory" for v in report.violations)
    advisory = len(report.violations) - mandatory
    state = "FAIL" if report.mandatory_failed else "pass"
    over = f", {len(report.overrides)} stack override{'s' * (len(report.overrides) != 1)}" if report.overrides else ""
    return (f"policy {state}: {mandatory} mandatory, {advisory} advisory violations "
            f"({report.rules_run} rules, {report.environment}{over})")


def override_lines(report: PolicyReport) -> list[str]:
    """Every stack override with its reason: what a reviewer must see next to the verdict."""
    return [f"  override {o.describe()}" for o in report.overrides]


def render(report: PolicyReport) -> list[str]:
    lines = [verdict(report), f"  config: {report.config_source}", *override_lines(report)]
    for sev in SEVERITY_ORDER:
        found = [v for v in report.violations if v.severity == sev]
        if not found:
            continue
        lines.append(f"{sev.upper()} ({len(found)})")
        for v in found:
            lines += [f"  [{v.enforcement}] {v.policy}: {v.message}", f"    resource: {v.urn}",
                      f"    fix: {v.remediation}"]
    if report.unknown:
        lines.append(f"not evaluated ({len(report.unknown)}): values known only after apply")
        lines += [f"  {v.policy}: {v.urn}: {v.message}" for v in report.unknown]
    return lines


def run(args: argparse.Namespace) -> int:
    report = evaluate(plan_from(args), args.environment, args.config)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print("\n".join(render(report)))
    return 1 if report.mandatory_failed else 0
