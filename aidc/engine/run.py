"""Run the real Pulumi program under mocks: no cloud, no CLI, no credentials."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from aidc.stackfile import StackFile

from .mocks import OfflineMocks, RecordingMonitor, Registration

PROJECT = "aidc"


def run_program(stack: StackFile, root: Path) -> list[Registration]:
    """Execute `root/__main__.py` for `stack` the way `pulumi preview` would, and return
    every resource registration in the order the program made them."""
    mocks = OfflineMocks(str(stack.config.get("aws:region", "")))
    monitor = RecordingMonitor(mocks)
    # The language host hands structured config over as JSON text; do the same.
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in stack.config.items()}
    pulumi.runtime.set_all_config(config, list(stack.secret_keys))
    settings.ROOT.set(None)  # a fresh Stack resource for every run in this process
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack.name, preview=False, monitor=monitor)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    program = str(root / "__main__.py")
    _sync_await(run_pulumi_func(lambda: runpy.run_path(program, run_name="__main__")))
    return list(monitor.registrations.values())
