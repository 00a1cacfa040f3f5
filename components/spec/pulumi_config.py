"""Read the spec from the running Pulumi program's config (real engine or offline mocks)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from .base import SpecError
from .root import Spec, load_spec


def runtime_config_values() -> dict[str, Any]:
    """Every config key the engine handed the program."""
    return decode_config({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def decode_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Engine config to values: structured values arrive as JSON text."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[key] = value
    return out


def spec_from_pulumi() -> Spec:
    try:
        return load_spec(runtime_config_values())
    except SpecError as err:
        stack = pulumi.get_stack()
        # RunError prints without a traceback: the user sees only the problems.
        raise pulumi.RunError(f"invalid stack configuration:\n{err.in_file(f'stacks/Pulumi.{stack}.yaml')}") from None
