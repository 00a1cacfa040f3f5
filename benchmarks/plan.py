"""Benchmark: resources and wall seconds of `aidc plan` for each shipped stack.

Cold = a fresh `python -m aidc plan STACK --json -` process (imports included), as a user
runs it; warm = a second plan of the same stack in one process (the engine alone).
Prints figures; asserts nothing. Run: `make bench` or `.venv/bin/python benchmarks/plan.py`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aidc.engine import plan_stack  # noqa: E402
from aidc.stackfile import available_stacks  # noqa: E402


def cold(stack: str) -> tuple[int, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "aidc", "plan", stack, "--json", "-"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return len(json.loads(out.stdout)["steps"]), elapsed


def warm(stack: str, runs: int = 3) -> float:
    plan_stack(stack, ROOT)
    start = time.perf_counter()
    for _ in range(runs):
        plan_stack(stack, ROOT)
    return (time.perf_counter() - start) / runs


def main() -> None:
    print(f"{'stack':<10} {'resources':>9} {'cold s':>8} {'warm s':>8}")
    for stack in available_stacks(ROOT):
        n, c = cold(stack)
        print(f"{stack:<10} {n:>9} {c:>8.2f} {warm(stack):>8.2f}")


if __name__ == "__main__":
    main()
