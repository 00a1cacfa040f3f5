"""`aidc export STACK | --plan FILE [--kubernetes DIR] [--terraform FILE]`: the plan's Kubernetes
objects as manifests (one YAML file per namespace) and its AWS resources as a Terraform plan
JSON, for peer scanners such as Checkov (docs/policies.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from aidc.errors import UserError
from aidc.export import kubernetes_manifests, terraform_plan

from ._source import add_source, plan_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a plan's Kubernetes manifests and a Terraform-plan JSON for scanners")
    add_source(p)
    p.add_argument("--kubernetes", metavar="DIR", help="directory for <namespace>.yaml manifests (_cluster.yaml: "
                                                       "cluster-scoped objects)")
    p.add_argument("--terraform", metavar="FILE", help="file for the AWS resources as `terraform show -json`")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.kubernetes and not args.terraform:
        raise UserError("give --kubernetes DIR and/or --terraform FILE")
    plan = plan_from(args)
    written: list[str] = []
    if args.kubernetes:
        out = Path(args.kubernetes)
        out.mkdir(parents=True, exist_ok=True)
        for ns, objs in sorted(kubernetes_manifests(plan).items()):
            path = out / f"{ns}.yaml"
            path.write_text(yaml.safe_dump_all(objs, sort_keys=True), encoding="utf-8")
            written.append(str(path))
    if args.terraform:
        region = str(plan.config.get("aws:region") or "us-east-1")
        Path(args.terraform).write_text(json.dumps(terraform_plan(plan, region), indent=1, sort_keys=True),
                                        encoding="utf-8")
        written.append(args.terraform)
    print(json.dumps({"written": written}, indent=2) if args.json else "\n".join(f"wrote {w}" for w in written))
    return 0
