"""Cost and policy for the diff, through two seams: `aidc.cost.estimate` and
`aidc.policy.evaluate` by default (imported when first needed: the policy pack loads every
rule), fakes in tests, or None to leave them out of the report ("not available")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aidc.plan import Plan

Estimator = Callable[[Plan], Any]  # -> object with .monthly_usd and .by_component()
Evaluator = Callable[..., Any]  # (plan, environment=None) -> object with .violations


def default_estimator() -> Estimator:
    from aidc.cost import estimate

    return estimate


def default_evaluator() -> Evaluator:
    from aidc.policy import evaluate

    return evaluate


# ---------------------------------------------------------------- cost

@dataclass(frozen=True)
class CostDelta:
    before: float
    after: float
    by_component: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (before, after)
    by_pool: dict[str, tuple[float, float]] = field(default_factory=dict)  # node pool -> (before, after)
    # Operational kgCO2e per month (aidc.carbon); None: no carbon figure (no intensity, or a fake estimator).
    kg_before: float | None = None
    kg_after: float | None = None

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def kg_delta(self) -> float | None:
        return None if self.kg_after is None or self.kg_before is None else round(self.kg_after - self.kg_before, 1)

    def carbon_text(self, arrow: str = "->", stacks: tuple[str, str] | None = None) -> str:
        """`carbon B -> A kgCO2e/month (+D)`, or with two stacks' names when they are compared."""
        if self.kg_delta is None:
            return ""
        pair = (f"{stacks[0]} {self.kg_before:,.0f}, {stacks[1]} {self.kg_after:,.0f}" if stacks
                else f"{self.kg_before:,.0f} {arrow} {self.kg_after:,.0f}")
        return f"carbon {pair} kgCO2e/month ({self.kg_delta:+,.0f})"


def _kg(estimate: Any, plan: Plan | None) -> float | None:
    """The estimate's operational kgCO2e per month; 0 for an empty BASE (nothing runs)."""
    if plan is None or not plan.resources:
        return 0.0
    if not hasattr(estimate, "power_kw"):
        return None  # a fake estimator: no power model
    from aidc.carbon import footprint

    return footprint(estimate, plan.config).kg_per_month


def _components(estimate: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in estimate.by_component().items()}


def _pools(estimate: Any) -> dict[str, float]:
    by_pool = getattr(estimate, "by_pool", None)  # an estimator without pools leaves the table out
    return {str(k): float(v) for k, v in by_pool().items()} if by_pool is not None else {}


def _changed(before: dict[str, float], after: dict[str, float]) -> dict[str, tuple[float, float]]:
    parts = {k: (before.get(k, 0.0), after.get(k, 0.0)) for k in sorted(set(before) | set(after))}
    return {k: v for k, v in parts.items() if abs(v[1] - v[0]) >= 0.005}


def cost_delta(base: Plan | None, head: Plan, estimator: Estimator | None) -> CostDelta | None:
    """Monthly cost before and after; None when no estimator is available. An empty BASE
    (a new stack) costs nothing."""
    if estimator is None:
        return None
    after = estimator(head)
    before = estimator(base) if base is not None and base.resources else None
    return CostDelta(float(before.monthly_usd) if before is not None else 0.0, float(after.monthly_usd),
                     _changed(_components(before) if before is not None else {}, _components(after)),
                     _changed(_pools(before) if before is not None else {}, _pools(after)),
                     _kg(before, base), _kg(after, head))


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
    overrides: tuple[str, ...] = ()  # HEAD's stack overrides, each with its reason

    @property
    def mandatory_new(self) -> int:
        return sum(v.mandatory for v in self.new)


def _verdicts(report: Any) -> dict[tuple[str, str], Verdict]:
    out = {}
    for v in report.violations:
        verdict = Verdict(v.policy, v.severity, v.enforcement, v.urn or "", v.message)
        out.setdefault(verdict.key, verdict)
    return out


def policy_delta(base: Plan | None, head: Plan, evaluator: Evaluator | None) -> PolicyDelta | None:
    """Violations new in HEAD and fixed since BASE (matched by policy and resource URN)."""
    if evaluator is None:
        return None
    env = head.config.get("aidc:environment")
    head_report = evaluator(head, environment=env)
    after = _verdicts(head_report)
    before = _verdicts(evaluator(base, environment=base.config.get("aidc:environment", env))) \
        if base is not None and base.resources else {}
    order = lambda v: (not v.mandatory, v.policy, v.urn)  # noqa: E731
    return PolicyDelta(new=tuple(sorted((v for k, v in after.items() if k not in before), key=order)),
                       fixed=tuple(sorted((v for k, v in before.items() if k not in after), key=order)),
                       remaining=len(set(after) & set(before)),
                       overrides=tuple(o.describe() for o in getattr(head_report, "overrides", ())))
