"""`aidc job render STACK --pool P --team T --nodes N [--template pytorch|nccl-tests]
[--command 'SCRIPT ARGS'] [--env NAME=VALUE ...]`: a
training or NCCL acceptance job for a stack's pool and team, as YAML for `kubectl apply -f -`."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

import yaml

from aidc.engine import validate_stack
from aidc.errors import Problem, UserError
from components.training.jobs import DEFAULT_MAX_RESTARTS, TEMPLATES, JobError, JobRequest, render_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("job", help="render training and acceptance jobs from the k8s/ templates")
    verbs = p.add_subparsers(dest="verb", required=True, parser_class=type(p))
    r = verbs.add_parser("render", help="print a job for a stack's pool and team as YAML")
    r.add_argument("stack", help="a stack name in stacks/ or a path to Pulumi.<name>.yaml")
    r.add_argument("--pool", required=True, help="GPU pool (aidc:gpuPools[].name)")
    r.add_argument("--team", required=True, help="team (aidc:training.teams[].name): its namespace and queue")
    r.add_argument("--nodes", required=True, type=int, help="nodes of the pool, one pod per node")
    r.add_argument("--template", default="pytorch", choices=sorted(TEMPLATES),
                   help="pytorch: distributed PyTorch JobSet; nccl-tests: all-reduce acceptance MPIJob")
    r.add_argument("--image", help="container image (default: the catalog's pinned pytorch or nccl-tests image)")
    r.add_argument("--name", help="job name (default: <template>-<pool>)")
    r.add_argument("--max-restarts", type=int, default=DEFAULT_MAX_RESTARTS,
                   help="gang restarts (node lost, rank failed) before the job gives up (default %(default)s)")
    r.add_argument("--on-node", action="append", default=[], metavar="NODE",
                   help="nccl-tests: run on this node (repeat, as many as --nodes): a repaired node and its peers")
    r.add_argument("--accepted-only", action="store_true",
                   help="pytorch: only on nodes labelled aidc.io/nccl-accepted=true (passed acceptance)")
    r.add_argument("--command", metavar="'SCRIPT [ARGS]'",
                   help="what torchrun runs on every node instead of the smoke test (pytorch template), "
                        "e.g. '/lustre/code/train.py --epochs 3'")
    r.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment variable for every pod (repeat it); replaces one aidc sets")
    r.add_argument("--json", action="store_true", help="print the objects as a JSON list instead of YAML")
    r.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sf, spec = validate_stack(args.stack)
    env = []
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError("cannot render job", [Problem("--env", f"{item!r}: expected NAME=VALUE", sf.display_path)])
        env.append((key, value))
    try:
        command = tuple(shlex.split(args.command or ""))
    except ValueError as exc:
        raise UserError("cannot render job", [Problem("--command", f"{args.command!r}: {exc}", sf.display_path)]) from None
    req = JobRequest(stack=sf.name, pool=args.pool, team=args.team, nodes=args.nodes, template=args.template,
                     image=args.image, name=args.name, max_restarts=args.max_restarts,
                     on_nodes=tuple(args.on_node), accepted_only=args.accepted_only, command=command, env=tuple(env))
    try:
        text = render_job(spec, req)
    except JobError as err:
        raise UserError(f"cannot render {args.template} job", [Problem(err.field, str(err), sf.display_path)]) from None
    if args.json:
        json.dump([d for d in yaml.safe_load_all(text) if d], sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text)
    return 0
