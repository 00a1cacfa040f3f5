"""Benchmark: seconds of `aidc diff` on the shipped stacks.

compare = two in-memory plans of a stack (a copy with every input changed), the diff and the
Markdown report alone; base-ref = `aidc diff --base-ref HEAD STACK` end to end (temporary
worktree, base planned in a subprocess, head planned in process), as CI runs it.
Prints figures; asserts nothing. Run: `.venv/bin/python benchmarks/diff.py`."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aidc.diff import diff_plans, render  # noqa: E402
from aidc.engine import plan_stack  # noqa: E402
from aidc.plan import Plan  # noqa: E402
from aidc.stackfile import available_stacks  # noqa: E402


def compare(stack: str, runs: int = 5) -> tuple[int, int, float]:
    head = plan_stack(stack, ROOT).plan
    base = Plan(tuple(replace(r, inputs={**r.inputs, "tags": {"changed": "yes"}}) for r in head.resources),
                head.config, {}, "base")
    start = time.perf_counter()
    for _ in range(runs):
        md = render(diff_plans(base, head, estimator=None, evaluator=None), "markdown")
    return len(head.resources), len(md), (time.perf_counter() - start) / runs


def base_ref(stack: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aidc", "diff", "--base-ref", "HEAD", stack, "--format", "json"],
                   cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    print(f"{'stack':<10} {'resources':>9} {'markdown chars':>15} {'compare s':>10} {'--base-ref s':>13}")
    for stack in available_stacks(ROOT):
        n, chars, seconds = compare(stack)
        print(f"{stack:<10} {n:>9} {chars:>15} {seconds:>10.3f} {base_ref(stack):>13.1f}")


if __name__ == "__main__":
    main()
