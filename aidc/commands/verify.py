"""`aidc verify STACK --kubeconfig FILE | --snapshot FILE`: post-deploy checks of a live cluster
(or a recorded one) against its stack.

Read-only, except `--run-acceptance`, which creates the NCCL acceptance job and deletes it.
Exit 0 when every check passes (skipped checks do not fail), 1 when any fails, 2 on bad
input (unknown stack, invalid stack, unreadable kubeconfig or snapshot, unknown pool). A server
that cannot be reached or rejects the credentials is one line with the fix, not one per check."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from aidc.engine import validate_stack
from aidc.errors import Problem, UserError
from aidc.verify import Kube, KubeError, acceptance, build_checks, names, run_checks, snapshot
from aidc.verify.kube import FIX, load_client
from aidc.verify.result import CheckResult
from components.catalog import catalog
from components.suggest import did_you_mean

MARK = {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a live cluster against its stack (post-deploy)")
    p.add_argument("stack", help="a stack name in stacks/ or a path to Pulumi.<name>.yaml")
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig of the cluster (current context)")
    p.add_argument("--snapshot", metavar="FILE", help="verify a recorded cluster instead of a live one (a dry run; "
                                                      "docs/examples/verify/prod-snapshot.json is one for stack prod)")
    p.add_argument("--record", metavar="FILE", help="also write what the checks read to FILE, a snapshot for --snapshot")
    p.add_argument("--json", action="store_true", help="print the results as JSON (for CI)")
    p.add_argument("--pool", metavar="P", help="check only this GPU pool (and run acceptance on it)")
    p.add_argument("--run-acceptance", action="store_true",
                   help="also run the NCCL all-reduce acceptance job on the pool (creates and deletes it)")
    p.add_argument("--nodes", type=int, default=2, metavar="N", help="nodes for the acceptance job (default 2)")
    p.add_argument("--team", metavar="T", help="team whose namespace and queue run the acceptance job "
                                               "(default: a team with a quota on the pool)")
    p.add_argument("--timeout", type=float, default=1800.0, metavar="S",
                   help="seconds to wait for the acceptance job (default 1800)")
    p.add_argument("--request-timeout", type=float, default=10.0, metavar="S",
                   help="seconds per API request (default 10)")
    p.set_defaults(run=run)


def load_stack_spec(stack: str) -> tuple[str, Any]:
    """The stack's name and validated spec (SpecError/UserError -> exit 2)."""
    sf, spec = validate_stack(stack)
    return sf.name, spec


def _pools(spec: Any, args: argparse.Namespace) -> list[Any] | None:
    pools = list(getattr(spec, "gpu_pools", ()))
    if args.pool is None:
        return None
    chosen = [p for p in pools if p.name == args.pool]
    if not chosen:
        hint = did_you_mean(args.pool, [p.name for p in pools], empty="it has none")
        raise UserError(f"unknown pool {args.pool!r}", [Problem("--pool", f"not a GPU pool of {args.stack}; {hint}")])
    return chosen


def _acceptance(spec: Any, stack: str, args: argparse.Namespace, pools: list[Any] | None) -> tuple[Any, list[dict]]:
    """The pool and the rendered manifests of the acceptance run; every reason it could never
    run is bad input, found before anything touches the cluster."""
    if pools:
        pool = pools[0]
    else:
        # A pool on a high-bandwidth fabric (EFA, InfiniBand, RoCE) first: that is what acceptance judges.
        candidates = [p for p in getattr(spec, "gpu_pools", ()) if p.efa or getattr(p, "rdma", False)] \
            or list(getattr(spec, "gpu_pools", ()))
        if not candidates:
            raise UserError("--run-acceptance needs a GPU pool; the stack has none")
        pool = candidates[0]
    team = args.team
    training = getattr(spec, "training", None)
    if team is None and training is not None:
        found = names.acceptance_team(training, pool.name)
        if found is None:
            raise UserError("--run-acceptance needs a team (aidc:training.teams) whose queue admits the job")
        team = found.name
    return pool, acceptance.render_acceptance_job(spec, stack, pool, team or "", args.nodes)


def _api(args: argparse.Namespace) -> Any:
    if bool(args.kubeconfig) == bool(args.snapshot):
        raise UserError("give --kubeconfig FILE (a live cluster) or --snapshot FILE (a recorded one)")
    if args.snapshot:
        if args.run_acceptance or args.record:
            raise UserError("--snapshot is a dry run: it cannot run the acceptance job or record")
        return snapshot.replay_client(args.snapshot)
    return load_client(args.kubeconfig, args.request_timeout)


def _no_cluster(args: argparse.Namespace, kube: Kube, err: KubeError, tty: bool) -> int:
    """No check can read the cluster: one line with the cause and the fix, not one per check."""
    if tty:
        print("\r\033[K", file=sys.stderr, end="")
    if args.json:
        print(json.dumps({"stack": args.stack, "server": kube.server, "ok": False,
                          "error": {"kind": err.kind, "message": str(err), "fix": FIX[err.kind]},
                          "summary": {"pass": 0, "fail": 0, "skipped": 0}, "checks": []}, indent=2))
    else:
        print(f"FAIL  {err.kind}: {err}; nothing checked. Fix: {FIX[err.kind]}")
    return 1


def table(results: list[CheckResult]) -> list[str]:
    width = max((len(r.id) for r in results), default=10)
    lines = [f"{'STATUS':<6}  {'CHECK':<{width}}  REASON"]
    lines += [f"{MARK[r.status]:<6}  {r.id:<{width}}  {r.reason}" for r in results]
    return lines


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    stack, spec = load_stack_spec(args.stack)
    if args.nodes < 1:
        raise UserError("--nodes must be at least 1")
    pools = _pools(spec, args)
    run_on = _acceptance(spec, stack, args, pools) if args.run_acceptance else None
    kube = Kube(_api(args), args.request_timeout)
    recorder = snapshot.record(kube.api) if args.record else None
    cat = catalog()
    tty = sys.stderr.isatty()
    if tty:
        print(f"verifying {args.stack} against {kube.server} ...", file=sys.stderr, end="\r")
    if (down := kube.preflight()) is not None:
        return _no_cluster(args, kube, down, tty)
    results = run_checks(build_checks(spec, cat, kube, pools))
    if run_on is not None:
        pool, manifests = run_on
        results.append(acceptance.run_acceptance(cat, kube, pool, manifests, args.nodes, args.timeout,
                                                 progress=sys.stderr if tty else None))
    if tty:
        print("\r\033[K", file=sys.stderr, end="")
    if recorder is not None:
        snapshot.write(recorder, kube.server, args.record)
        print(f"snapshot written to {args.record}", file=sys.stderr)
    failed = sum(r.status == "fail" for r in results)
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "skipped")}
    if args.json:
        print(json.dumps({"stack": args.stack, "server": kube.server, "ok": failed == 0, "summary": counts,
                          "checks": [r.as_dict() for r in results]}, indent=2))
    else:
        for line in table(results) if results else ["no checks apply: the stack has no GPU pools, storage, "
                                                     "training or inference to verify"]:
            print(line)
        print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skipped']} skipped "
              f"in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0
