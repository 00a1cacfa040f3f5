"""A real `pulumi preview --json` of a live stack, with the policy pack of its environment.

Needs the Pulumi CLI, a backend login and cloud credentials; everything else in aidc works
without them. The JSON goes through the same report as `aidc diff --preview FILE`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .errors import Problem, UserError
from .stackfile import read_stack


def preview_command(stack: str, root: Path, environment: str, policy: bool = True) -> list[str]:
    """The CLI call: JSON output, no prompts, and the policy pack with its environment's config."""
    cmd = ["preview", "--json", "--non-interactive", "--diff", "--stack", stack, "--cwd", str(root)]
    if policy:
        cmd += ["--policy-pack", str(root / "policies"),
                "--policy-pack-config", str(root / "policies" / "config" / f"{environment}.json")]
    return cmd


def live_preview(stack: str, root: Path, *, policy: bool = True, timeout: float = 1800) -> dict[str, Any]:
    exe = shutil.which("pulumi")
    if exe is None:
        raise UserError("the pulumi CLI is not on PATH", [Problem(
            "--live", "install the Pulumi CLI and log in (pulumi login) to preview a live stack; "
                      "`aidc diff --base-ref REF STACK` works offline")])
    env = str(read_stack(stack, root).config.get("aidc:environment", "dev"))
    proc = subprocess.run([exe, *preview_command(stack, root, env, policy)], cwd=root, capture_output=True,
                          text=True, timeout=timeout, check=False)
    # A mandatory policy violation makes preview exit non-zero but still print the JSON.
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise UserError(f"pulumi preview failed (exit {proc.returncode})",
                        [Problem("--live", line) for line in tail or ["no output"]]) from None
    if not isinstance(doc, dict) or "steps" not in doc:
        raise UserError("pulumi preview printed no plan", [Problem("--live", "the JSON has no steps")])
    return doc
