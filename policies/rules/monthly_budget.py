from aidc.cost import cost_settings, estimate
from policies.rule import Rule


def check(plan, ctx):
    budget = float(ctx.params["monthlyBudgetUsd"])
    own = cost_settings(plan.config).monthly_budget_usd
    whose = "the policy's"
    if own is not None and own < budget:
        # A stack may tighten the budget on its own; loosening takes aidc:policy.overrides and a reason.
        budget, whose = own, "the stack's own (aidc:cost.monthlyBudgetUsd)"
    est = estimate(plan, cat=ctx.catalog)
    if est.monthly_usd_max > budget:
        top = sorted(est.by_component().items(), key=lambda kv: -kv[1])[:3]
        yield None, (f"estimated ${est.monthly_usd_max:,.0f}/month at max size (${est.monthly_usd:,.0f} expected) "
                     f"exceeds {whose} budget of ${budget:,.0f}; largest: "
                     + ", ".join(f"{k} ${v:,.0f}" for k, v in top))


RULE = Rule(
    name="monthly-budget",
    description="The cost model's monthly estimate, with every pool at max size, stays within the budget.",
    severity="high", enforcement="mandatory", kind="stack", category="cost",
    remediation="Shrink or remove GPU pools (size.max, spot for dev), or, once approved, set "
                "aidc:policy.overrides.monthly-budget: {monthlyBudgetUsd: N, reason: ...} in the stack; "
                "run `aidc cost STACK` for the breakdown.",
    check=check, params={"monthlyBudgetUsd": 0.0},
)
