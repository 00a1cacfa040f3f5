"""Cost and policy for the diff, through two small seams: `aidc.cost.estimate` and
`aidc.policy.evaluate` are imported lazily, so the diff works (and says "not available")
where those modules are absent, and tests inject fakes instead."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aidc.plan import Plan

Estimator = Callable[[Plan], Any]  # -> object with .monthly_usd and .by_component()
Evaluator = Callable[..., Any]  # (plan, environment=None) -> object with .violations


def _lazy(module: str, attr: str) -> Callable[..., Any] | None:
    """module.attr, or None when the module is not part of this installation (yet)."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except ModuleNotFoundError:
        return None
    return getattr(importlib.import_module(module), attr, None)


def default_estimator() -> Estimator | None:
    return _lazy("aidc.cost", "estimate")


def default_evaluator() -> Evaluator | None:
    return _lazy("aidc.policy", "evaluate")


# ---------------------------------------------------------------- cost

@dataclass(frozen=True)
class CostDelta:
    before: float
    after: float
    by_component: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (before, after)

    @property
    def delta(self) -> float:
        return self.after - self.before


def _usd(value: Any) -> float:
    return float(getattr(value, "monthly_usd", value))


def _components(estimate: Any) -> dict[str, float]:
    parts = estimate.by_component() if callable(getattr(estimate, "by_component", None)) else {}
    if isinstance(parts, Mapping):
        return {str(k): _usd(v) for k, v in parts.items()}
    return {str(getattr(p, "component", getattr(p, "name", i))): _usd(p) for i, p in enumerate(parts)}


def cost_delta(base: Plan | None, head: Plan, estimator: Estimator | None) -> CostDelta | None:
    """Monthly cost before and after; None when no estimator is available. An empty BASE
    (a new stack) costs nothing."""
    if estimator is None:
        return None
    after = estimator(head)
    before = estimator(base) if base is not None and base.resources else None
    b_parts = _components(before) if before is not None else {}
    a_parts = _components(after)
    parts = {k: (b_parts.get(k, 0.0), a_parts.get(k, 0.0)) for k in sorted(set(b_parts) | set(a_parts))}
    return CostDelta(_usd(before) if before is not None else 0.0, _usd(after),
                     {k: v for k, v in parts.items() if abs(v[1] - v[0]) >= 0.005})


# ---------------------------------------------------------------- policy

@dataclass(frozen=True)
class Verdict:
    policy: str
    severity: str
    enforcement: str
    urn: str
    message: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.policy, self.urn)

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"


@dataclass(frozen=True)
class PolicyDelta:
    new: tuple[Verdict, ...]  # violations in HEAD that BASE did not have
    fixed: tuple[Verdict, ...]  # violations in BASE that HEAD no longer has
    remaining: int  # violations in both

    @property
    def mandatory_new(self) -> int:
        return sum(v.mandatory for v in self.new)


def _verdicts(report: Any) -> dict[tuple[str, str], Verdict]:
    out = {}
    for v in getattr(report, "violations", ()) or ():
        verdict = Verdict(str(getattr(v, "policy", "")), str(getattr(v, "severity", "")),
                          str(getattr(v, "enforcement", "")), str(getattr(v, "urn", "") or ""),
                          str(getattr(v, "message", "")))
        out.setdefault(verdict.key, verdict)
    return out


def policy_delta(base: Plan | None, head: Plan, evaluator: Evaluator | None) -> PolicyDelta | None:
    """Violations new in HEAD and fixed since BASE (matched by policy and resource URN)."""
    if evaluator is None:
        return None
    env = head.config.get("aidc:environment")
    after = _verdicts(evaluator(head, environment=env))
    before = _verdicts(evaluator(base, environment=base.config.get("aidc:environment", env))) \
        if base is not None and base.resources else {}
    order = lambda v: (not v.mandatory, v.policy, v.urn)  # noqa: E731
    return PolicyDelta(new=tuple(sorted((v for k, v in after.items() if k not in before), key=order)),
                       fixed=tuple(sorted((v for k, v in before.items() if k not in after), key=order)),
                       remaining=len(set(after) & set(before)))
