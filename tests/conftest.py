"""Shared fixtures: plans of the shipped stacks (run once per session through the offline
engine), and a guard that fails any test whose Output.apply assertions never ran."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aidc.engine import PlannedStack, plan_stack
from aidc.plan import Plan, Resource

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("dev", "staging", "prod", "onprem")


@functools.cache
def _planned(stack: str) -> PlannedStack:
    return plan_stack(stack, ROOT)


@pytest.fixture(scope="session")
def planned() -> Callable[[str], PlannedStack]:
    """planned("prod") -> the PlannedStack of a shipped stack (spec, plan document)."""
    return _planned


@pytest.fixture(scope="session")
def plan_of(planned) -> Callable[[str], Plan]:
    return lambda stack: planned(stack).plan


def spec_problems(config: dict) -> dict[str, str]:
    """key path -> message of every problem `load_spec` finds (the config must be invalid)."""
    from components.spec import SpecError, load_spec

    with pytest.raises(SpecError) as exc:
        load_spec(config)
    return {p.path: p.message for p in exc.value.problems}


def only(resources: list[Resource], name_suffix: str | None = None) -> Resource:
    """The single resource of a list (optionally the one whose name ends with a suffix)."""
    found = [r for r in resources if name_suffix is None or r.name.endswith(name_suffix)]
    assert len(found) == 1, f"expected one resource, found {[r.urn for r in found]}"
    return found[0]


class ApplyGuard:
    """Wraps Output.apply callbacks; at teardown every wrapped callback must have run.

    With preview=True (or an output the mock never resolves) Pulumi silently skips apply
    callbacks, and a test full of assertions inside them passes while checking nothing."""

    def __init__(self) -> None:
        self.pending: dict[int, str] = {}

    def __call__(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        key = id(fn)
        self.pending[key] = getattr(fn, "__name__", repr(fn))

        def wrapper(value: Any) -> Any:
            self.pending.pop(key, None)
            return fn(value)

        return wrapper


@pytest.fixture
def applied():
    guard = ApplyGuard()
    yield guard
    assert not guard.pending, f"apply callbacks never ran: {sorted(guard.pending.values())}"
