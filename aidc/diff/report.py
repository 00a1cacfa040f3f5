"""The diff report: changes per resource, data-loss warnings, cost and policy deltas."""

from __future__ import annotations

import collections
from dataclasses import dataclass, replace
from typing import Any

from aidc.errors import Problem, UserError
from aidc.plan import Plan, Resource

from .compare import OPS, ResourceChange, RuleLookup, compare_plans, from_preview
from .stacks import ANY_STACK, as_stack, meaning
from .values import MISSING
from .verdicts import (
    CostDelta,
    Estimator,
    Evaluator,
    PolicyDelta,
    cost_delta,
    default_estimator,
    default_evaluator,
    policy_delta,
)

_AUTO: Any = object()  # "use aidc.cost / aidc.policy when installed"


@dataclass(frozen=True)
class DiffReport:
    stack: str
    base: str  # what BASE was (a file, a git ref, "live state")
    head: str
    changes: tuple[ResourceChange, ...]
    cost: CostDelta | None  # None: cost not available
    policy: PolicyDelta | None  # None: policy not available
    # Set when BASE is another stack than HEAD: a comparison of two stacks, not a change.
    base_stack: str = ""

    @property
    def comparison(self) -> bool:
        return bool(self.base_stack) and self.base_stack != self.stack

    @property
    def title(self) -> str:
        if self.comparison:
            return f"stack {self.base_stack} compared with stack {self.stack} (two stacks, not a change)"
        return f"stack {self.stack}"

    def op_words(self, op: str) -> str:
        """What an operation means: a change (`create`), or in a comparison (`only in staging`)."""
        return meaning(op, self.base_stack, self.stack) if self.comparison else op

    @property
    def counts(self) -> dict[str, int]:
        c = collections.Counter(r.op for r in self.changes if r.custom)
        return {op: c.get(op, 0) for op in OPS}

    @property
    def changed(self) -> list[ResourceChange]:
        return [r for r in self.changes if r.op != "same" and r.custom]

    @property
    def data_loss(self) -> list[ResourceChange]:
        """What a change destroys: resources forced by their own properties first, then those
        replaced only because their provider is (the cascade of the first). Comparing two
        stacks destroys nothing: no data-loss warning."""
        if self.comparison:
            return []
        loss = [r for r in self.changes if r.destroys_data]
        return sorted(loss, key=lambda r: bool(r.replace_reasons) and set(r.replace_reasons) == {"provider"})

    @property
    def at_risk(self) -> list[ResourceChange]:
        """Data holders that stay in this diff but depend on a replaced resource."""
        return [] if self.comparison else [r for r in self.changes if r.knock_on and r.holds_data]

    def by_component(self) -> dict[str, list[ResourceChange]]:
        out: dict[str, list[ResourceChange]] = collections.defaultdict(list)
        for r in self.changed:
            out[r.component].append(r)
        return dict(sorted(out.items()))


def _check_same_stack(base: Plan, head: Plan) -> None:
    if base.stack and head.stack and base.stack != head.stack:
        raise UserError("BASE and HEAD are plans of different stacks (compare_stacks compares two stacks)", [
            Problem("steps[0].urn", f"stack {base.stack!r}", base.source),
            Problem("steps[0].urn", f"stack {head.stack!r}", head.source)])


def diff_plans(base: Plan, head: Plan, *, base_label: str = "", head_label: str = "",
               rules: RuleLookup | None = None, estimator: Estimator | None = _AUTO,
               evaluator: Evaluator | None = _AUTO) -> DiffReport:
    """BASE and HEAD plan documents of one stack -> the report."""
    _check_same_stack(base, head)
    estimator = default_estimator() if estimator is _AUTO else estimator
    evaluator = default_evaluator() if evaluator is _AUTO else evaluator
    return DiffReport(stack=head.stack or base.stack, base=base_label or base.source, head=head_label or head.source,
                      changes=tuple(compare_plans(base, head, rules)),
                      cost=cost_delta(base, head, estimator), policy=policy_delta(base, head, evaluator))


def compare_stacks(base: Plan, head: Plan, *, base_label: str = "", head_label: str = "",
                   rules: RuleLookup | None = None, estimator: Estimator | None = _AUTO,
                   evaluator: Evaluator | None = _AUTO) -> DiffReport:
    """Plans of two stacks (or one stack twice) -> the report of how HEAD's stack differs from
    BASE's, resource by resource (by component and logical name, the stack's name set aside)."""
    report = diff_plans(as_stack(base, ANY_STACK), as_stack(head, ANY_STACK), base_label=base_label or base.source,
                        head_label=head_label or head.source, rules=rules, estimator=estimator, evaluator=evaluator)
    return replace(report, stack=head.stack, base_stack=base.stack)


def preview_sides(plan: Plan) -> tuple[Plan, Plan]:
    """A real preview as two plans: the old states (BASE) and the new states (HEAD)."""
    old: dict[str, Resource] = {}
    new: dict[str, Resource] = {}
    for r in plan.resources:
        if r.op in ("create", "import", "create-replacement", "replace", "update", "same", "read"):
            new.setdefault(r.urn, r)
        if r.old_inputs is not None and r.op not in ("create", "import"):
            old.setdefault(r.urn, replace(r, inputs=r.old_inputs))
    return (Plan(tuple(old.values()), plan.config, {}, plan.source),
            Plan(tuple(new.values()), plan.config, {}, plan.source))


def diff_preview(plan: Plan, *, rules: RuleLookup | None = None, estimator: Estimator | None = _AUTO,
                 evaluator: Evaluator | None = _AUTO) -> DiffReport:
    """The report of a real `pulumi preview --json` (its steps carry old and new state)."""
    estimator = default_estimator() if estimator is _AUTO else estimator
    evaluator = default_evaluator() if evaluator is _AUTO else evaluator
    base, head = preview_sides(plan)
    return DiffReport(stack=plan.stack, base="live state", head=plan.source,
                      changes=tuple(from_preview(plan, rules)),
                      cost=cost_delta(base, head, estimator), policy=policy_delta(base, head, evaluator))


# ---------------------------------------------------------------- JSON

def to_json(report: DiffReport) -> dict[str, Any]:
    def change(r: ResourceChange) -> dict[str, Any]:
        d: dict[str, Any] = {"urn": r.urn, "type": r.type, "op": r.op, "component": r.component}
        if r.changes:
            d["changes"] = [{"path": c.path, "old": _plain(c.old), "new": _plain(c.new),
                             **({"forcesReplace": True} if c.forces_replace else {})} for c in r.changes]
        if r.replace_reasons:
            d["replaceReasons"] = list(r.replace_reasons)
        if r.holds_data:
            d["holdsData"] = r.holds_data
        if r.protect:
            d["protect"] = True
        if r.retain_on_delete:
            d["retainOnDelete"] = True
        return d

    doc: dict[str, Any] = {
        "stack": report.stack, "base": report.base, "head": report.head, "counts": report.counts,
        "comparison": {"baseStack": report.base_stack, "headStack": report.stack} if report.comparison else None,
        "dataLoss": [{"urn": r.urn, "type": r.type, "op": r.op, "holdsData": r.holds_data,
                      "protect": r.protect, "retainOnDelete": r.retain_on_delete} for r in report.data_loss],
        "atRisk": [{"urn": r.urn, "type": r.type, "holdsData": r.holds_data, "dependsOnReplaced": list(r.knock_on)}
                   for r in report.at_risk],
        "resources": [change(r) for r in report.changes if r.op != "same"],
        "cost": None, "policy": None,
    }
    if report.cost is not None:
        c = report.cost
        doc["cost"] = {"monthlyUsdBefore": round(c.before, 2), "monthlyUsdAfter": round(c.after, 2),
                       "monthlyUsdDelta": round(c.delta, 2),
                       "kgCo2ePerMonthBefore": c.kg_before, "kgCo2ePerMonthAfter": c.kg_after,
                       "kgCo2ePerMonthDelta": c.kg_delta,
                       "byComponent": {k: {"before": round(b, 2), "after": round(a, 2)}
                                       for k, (b, a) in c.by_component.items()},
                       "byPool": {k: {"before": round(b, 2), "after": round(a, 2)} for k, (b, a) in c.by_pool.items()}}
    if report.policy is not None:
        p = report.policy
        doc["policy"] = {"new": [v.__dict__ for v in p.new], "fixed": [v.__dict__ for v in p.fixed],
                         "remaining": p.remaining, "overrides": list(p.overrides)}
    return doc


def _plain(value: Any) -> Any:
    return None if value is MISSING else value
