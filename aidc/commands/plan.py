"""`aidc plan STACK [--json FILE]`: run the program offline and summarise what it would create;
exit 1 when a mandatory policy fails (the plan is still written)."""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from aidc.carbon import facility_lines
from aidc.commands.cost import total_line
from aidc.commands.policy import override_lines, verdict
from aidc.cost import estimate
from aidc.engine import PlannedStack, plan_stack
from aidc.plan import EXPANDED_BY_PROVIDER, Plan, dumps
from aidc.policy import evaluate
from aidc.queues import queue_lines
from aidc.serving import serving_summary
from components.spec.addresses import address_plan
from components.storage.figures import storage_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="run the program offline and write the plan document")
    p.add_argument("stack", help="a stack name in stacks/ or a path to Pulumi.<name>.yaml")
    p.add_argument("--json", metavar="FILE", help="write the plan document (pulumi preview --json shape); - for stdout")
    p.add_argument("--diagram", metavar="FILE", help="write the datacenter as a Mermaid diagram (Markdown page)")
    p.set_defaults(run=run)


def summary_lines(plan: Plan) -> list[str]:
    by_component: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in plan.resources:
        if r.custom or r.type in EXPANDED_BY_PROVIDER:  # a manifest (the MPI operator's) counts as itself
            by_component[plan.component_of(r)][r.type] += 1
    total = sum(sum(c.values()) for c in by_component.values())
    lines = [f"{total} resources to create"]
    for comp in sorted(by_component):
        counts = by_component[comp]
        lines.append(f"  {comp:<44} {sum(counts.values()):>4}")
        for typ, n in sorted(counts.items()):
            lines.append(f"    {typ:<42} {n:>4}")
    return lines


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if sys.stderr.isatty():
        print(f"planning {args.stack} offline ...", file=sys.stderr, end="\r")
    planned: PlannedStack = plan_stack(args.stack)
    if args.json == "-":
        sys.stdout.write(dumps(planned.document))
        return 0
    spec = planned.spec
    # Files first: a reader that stops early (`| head`) must not cost the plan document.
    written = []
    if args.json:
        Path(args.json).write_text(dumps(planned.document), encoding="utf-8")
        written.append(f"plan written to {args.json}")
    if args.diagram:
        from aidc.diagram import document
        from components.catalog import catalog
        Path(args.diagram).write_text(document(planned.plan, spec, catalog(), f"Datacenter: stack {planned.stack.name}"),
                                      encoding="utf-8")
        written.append(f"diagram written to {args.diagram}")
    print(f"stack {planned.stack.name} ({planned.stack.display_path}): environment {spec.environment}, "
          f"{'existing cluster' if spec.existing_cluster else spec.region}")
    for line in summary_lines(planned.plan) + queue_lines(planned.plan) + serving_summary(planned.plan):
        print(line)
    report = evaluate(planned.plan)
    print(verdict(report))
    for line in override_lines(report):
        print(line)
    print(total_line(estimate(planned.plan)))
    if (storage := storage_line(spec)) is not None:
        print(storage)
    if (addresses := address_plan(spec)) is not None:
        print("\n".join(addresses.lines()))
    for line in facility_lines(spec):
        print(line)
    for line in written:
        print(line)
    print(f"planned in {time.perf_counter() - started:.1f} s")
    # Like `pulumi preview --policy-pack`: a mandatory violation fails the command (plan still written).
    return 1 if report.mandatory_failed else 0
