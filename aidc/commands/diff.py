"""`aidc diff`: a pull-request-ready report of what a change does to the infrastructure.

    aidc diff BASE HEAD            each a stack name, a stack file (planned offline) or a plan
                                   document (`aidc plan STACK --json FILE`); two different
                                   stacks are compared as two stacks, not as a change
    aidc diff --preview FILE       the JSON of a real `pulumi preview --json` against a live stack
    aidc diff --base-ref REF STACK STACK at git ref REF (a temporary worktree) vs the working tree
    aidc diff --live STACK         run a real `pulumi preview --json` (with the policy pack) first
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from aidc.diff import FORMATS, DiffReport, compare_stacks, diff_plans, diff_preview, render
from aidc.errors import UserError
from aidc.plan import load_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="report what a change does: resources, data loss, cost, policy",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("plans", nargs="*", metavar="BASE HEAD | STACK",
                   help="two stacks, stack files or plan documents; or one stack with --base-ref")
    p.add_argument("--preview", metavar="FILE", help="the JSON of `pulumi preview --json`")
    p.add_argument("--base-ref", metavar="REF", help="git ref to plan the stack at as BASE (e.g. origin/main)")
    p.add_argument("--live", metavar="STACK", help="preview STACK for real with the Pulumi CLI and report that")
    p.add_argument("--format", choices=FORMATS, default="markdown")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    p.set_defaults(run=run)


def build(args: argparse.Namespace) -> DiffReport:
    if args.live:
        if args.plans or args.base_ref or args.preview:
            raise UserError("--live takes one stack and nothing else")
        from aidc.live import live_preview
        from aidc.plan import parse_plan
        from aidc.stackfile import project_root

        return diff_preview(parse_plan(live_preview(args.live, project_root()), f"pulumi preview {args.live}"))
    if args.preview:
        if args.plans or args.base_ref:
            raise UserError("--preview takes one file and no BASE/HEAD or --base-ref")
        return diff_preview(load_plan(args.preview))
    if args.base_ref:
        if len(args.plans) != 1:
            raise UserError("--base-ref REF takes exactly one STACK")
        return _base_ref(args.base_ref, args.plans[0])
    if len(args.plans) != 2:
        raise UserError("give BASE and HEAD (stacks, stack files or plan documents), --preview FILE, "
                        "or --base-ref REF STACK")
    to_plan = [p for p in args.plans if not _is_plan_document(p)]
    base, head = (_plan_of(p, to_plan) for p in args.plans)
    if base.stack and head.stack and base.stack != head.stack:
        return compare_stacks(base, head)
    return diff_plans(base, head)


def _is_plan_document(arg: str) -> bool:
    """A .json file, or any existing file that is not a stack file (.yaml), is a plan document."""
    p = Path(arg)
    return p.suffix == ".json" or (p.is_file() and p.suffix not in (".yaml", ".yml"))


def _plan_of(arg: str, to_plan: list[str]):
    """A plan document as it is; a stack name or stack file planned offline (progress on stderr)."""
    if _is_plan_document(arg):
        return load_plan(arg)
    from aidc.engine import plan_stack

    started = time.perf_counter()
    print(f"aidc: planning {arg} offline ({to_plan.index(arg) + 1} of {len(to_plan)}) ...", file=sys.stderr)
    planned = plan_stack(arg)
    print(f"aidc: planned {planned.stack.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return planned.plan


def _base_ref(ref: str, stack: str) -> DiffReport:
    from aidc.engine import plan_stack
    from aidc.gitref import plan_at_ref
    from aidc.stackfile import project_root

    root = project_root()
    started = time.perf_counter()
    print(f"aidc: planning {stack} at {ref} (1 of 2) ...", file=sys.stderr)
    base = plan_at_ref(ref, stack, root)
    print(f"aidc: planning {stack} in the working tree (2 of 2) ...", file=sys.stderr)
    head = plan_stack(stack, root)
    report = diff_plans(base, head.plan, base_label=base.source, head_label=f"working tree ({head.stack.display_path})")
    print(f"aidc: planned and compared in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return report


def run(args: argparse.Namespace) -> int:
    report = build(args)
    text = render(report, "json" if args.json else args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
