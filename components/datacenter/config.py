"""Read the spec from the running Pulumi program's config (real engine or offline mocks)."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components.spec import Spec, SpecError, load_spec
from components.spec.engine_config import decode_config


def runtime_config_values() -> dict[str, Any]:
    """Every config key the engine handed the program."""
    return decode_config({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def spec_from_pulumi() -> Spec:
    try:
        return load_spec(runtime_config_values())
    except SpecError as err:
        stack = pulumi.get_stack()
        # RunError prints without a traceback: the user sees only the problems.
        raise pulumi.RunError(f"invalid stack configuration:\n{err.in_file(f'stacks/Pulumi.{stack}.yaml')}") from None
