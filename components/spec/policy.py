"""`aidc:policy`: per-stack overrides of the environment's policy config, each with the
reason a reviewer reads. The rule names and their parameters are checked by the policy
runner (it knows the rules); this model only holds the shape."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from .base import Model


class PolicyOverride(Model):
    """The rule's config keys (as in policies/config/<env>.json) plus a required reason."""

    model_config = ConfigDict(extra="allow", frozen=True)

    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _reason(self) -> "PolicyOverride":
        if not self.reason.strip():
            raise ValueError("reason: say why, and who approved it")
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The rule's parameters this override sets (everything but the reason)."""
        return dict(self.model_extra or {})


class PolicySpec(Model):
    # rule name (kebab-case) -> override
    overrides: dict[str, PolicyOverride] = {}
