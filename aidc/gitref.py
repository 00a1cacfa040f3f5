"""Plan a stack as it was at a git ref: a temporary `git worktree` of that ref, planned by a
separate `python -m aidc plan` process whose imports (`components`, `aidc`) come from that
checkout. Planning in this process would reuse the modules already imported from the working
tree (sys.modules), so the base plan would silently run today's code on yesterday's stack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import Problem, UserError
from .plan import Plan, parse_plan


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UserError("--base-ref needs git on PATH") from None


def repo_root(start: Path) -> Path:
    out = _git(["rev-parse", "--show-toplevel"], start)
    if out.returncode != 0:
        raise UserError(f"{start} is not inside a git repository (needed for --base-ref)")
    return Path(out.stdout.strip())


def resolve_ref(ref: str, repo: Path) -> str:
    """The commit a ref names; UserError when it names none."""
    out = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo)
    if out.returncode != 0 or not out.stdout.strip():
        raise UserError(f"git ref {ref!r} does not exist in {repo}",
                        [Problem("--base-ref", f"{ref!r} names no commit (try `git fetch` or a branch such as main)")])
    return out.stdout.strip()


def empty_plan(stack: str, source: str) -> Plan:
    """BASE of a stack that does not exist yet at the ref: nothing, so everything is created."""
    return Plan((), {}, {}, source)


def plan_at_ref(ref: str, stack: str, project: Path, timeout: float = 900) -> Plan:
    """The plan of STACK (a name in stacks/ or a path inside the project) at git ref REF.
    The temporary worktree is always removed, whether planning succeeds or not."""
    repo = repo_root(project)
    commit = resolve_ref(ref, repo)
    sub = project.resolve().relative_to(repo.resolve())  # the project may sit below the repo root
    tmp = Path(tempfile.mkdtemp(prefix="aidc-base-"))
    tree = tmp / "tree"
    try:
        added = _git(["worktree", "add", "--detach", "--quiet", str(tree), commit], repo)
        if added.returncode != 0:
            raise UserError(f"cannot check out {ref} into a worktree: {added.stderr.strip()}")
        root = tree / sub
        target = stack
        if "/" in stack or stack.endswith((".yaml", ".yml")):
            p = Path(stack).resolve()
            try:
                target = str(root / p.relative_to(project.resolve()))
            except ValueError:
                raise UserError(f"stack file {stack} is not inside the project {project}") from None
            if not Path(target).is_file():
                return empty_plan(stack, f"{ref} ({commit[:12]})")
        elif not (root / "stacks" / f"Pulumi.{stack}.yaml").is_file():
            return empty_plan(stack, f"{ref} ({commit[:12]})")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        run = subprocess.run([sys.executable, "-m", "aidc", "plan", target, "--json", "-"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=timeout, check=False)
        if run.returncode != 0:
            tail = "\n".join(run.stderr.strip().splitlines()[-15:])
            raise UserError(f"planning {stack} at {ref} failed (exit {run.returncode})",
                            [Problem(f"{ref}:{stack}", tail or "no output")])
        try:
            doc = json.loads(run.stdout)
        except ValueError as exc:
            raise UserError(f"planning {stack} at {ref} did not print a plan document: {exc}") from None
        return parse_plan(doc, f"{ref} ({commit[:12]})")
    finally:
        _git(["worktree", "remove", "--force", str(tree)], repo)
        shutil.rmtree(tmp, ignore_errors=True)
        _git(["worktree", "prune"], repo)
