"""STACK | --plan FILE: where policy and cost get their plan document."""

from __future__ import annotations

import argparse

from aidc.errors import UserError
from aidc.plan import Plan, load_plan


def add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack", nargs="?", help="a stack name in stacks/ or a path to Pulumi.<name>.yaml (planned offline)")
    p.add_argument("--plan", metavar="FILE", help="a plan document (aidc plan --json, or pulumi preview --json)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def plan_from(args: argparse.Namespace) -> Plan:
    if bool(args.stack) == bool(args.plan):
        raise UserError("give a STACK or --plan FILE (one of them)")
    if args.plan:
        return load_plan(args.plan)
    from aidc.engine import plan_stack

    return plan_stack(args.stack).plan
