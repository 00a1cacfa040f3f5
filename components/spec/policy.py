"""`aidc:policy`: per-stack overrides of the environment's policy config, each with the
reason a reviewer reads. The rule names and their parameters are checked by the policy
runner (it knows the rules); this model only holds the shape."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from .base import Model


class PolicyOverride(Model):
    """The rule's config keys (as in policies/config/<env>.json) plus a required reason."""

    model_config = ConfigDict(extra="allow", frozen=True)

    reason: str = Field(min_length=1)

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty: say why, and who approved it")
        return v.strip()

    @property
    def params(self) -> dict[str, Any]:
        """The rule's parameters this override sets (everything but the reason)."""
        return dict(self.model_extra or {})


class PolicySpec(Model):
    # rule name (kebab-case) -> override
    overrides: dict[str, PolicyOverride] = {}
