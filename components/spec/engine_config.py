"""Config as the Pulumi engine hands it to a program or a policy pack: structured values
arrive as JSON text. Pure, so the policy pack and the program decode it the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


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
