"""The offline engine: validate a stack file, run the program under mocks, return the plan."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from aidc.plan import Plan, parse_plan, plan_document
from aidc.stackfile import StackFile, project_root, read_stack
from components.spec import Spec, SpecError, load_spec

from .run import PROJECT, run_program

__all__ = ["PlannedStack", "plan_stack", "validate_stack"]


@dataclass(frozen=True)
class PlannedStack:
    stack: StackFile
    spec: Spec
    document: dict[str, Any]

    @cached_property  # parsed once: summaries, policy and cost all read it
    def plan(self) -> Plan:
        return parse_plan(self.document, str(self.stack.path))


def validate_stack(stack: str | StackFile, root: Path | None = None) -> tuple[StackFile, Spec]:
    """The stack file and its spec; SpecError names the file on every problem."""
    sf = stack if isinstance(stack, StackFile) else read_stack(stack, root)
    try:
        return sf, load_spec(sf.config)
    except SpecError as err:
        raise err.in_file(sf.display_path) from None


def plan_stack(stack: str | StackFile, root: Path | None = None) -> PlannedStack:
    root = root or project_root()
    sf, spec = validate_stack(stack, root)
    registrations = run_program(sf, root)
    doc = plan_document(registrations, stack=sf.name, project=PROJECT, config=sf.config)
    return PlannedStack(sf, spec, doc)
