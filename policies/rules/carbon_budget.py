from aidc.carbon import footprint
from aidc.cost import estimate
from policies.rule import Rule


def check(plan, ctx):
    budget = float(ctx.params["maxKgCo2ePerMonth"])
    est = estimate(plan, cat=ctx.catalog)
    carbon = footprint(est, plan.config, ctx.catalog)
    if carbon.intensity is None:
        yield None, (f"no grid carbon intensity for this stack ({carbon.kwh_per_month:,.0f} kWh/month): "
                     f"the carbon budget of {budget:,.0f} kgCO2e/month cannot be checked")
    elif carbon.kg_per_month > budget:
        yield None, (f"estimated {carbon.kg_per_month:,.0f} kgCO2e/month ({carbon.kwh_per_month:,.0f} kWh at "
                     f"{carbon.intensity.g_per_kwh:g} gCO2e/kWh, {carbon.intensity.source}) exceeds the budget of "
                     f"{budget:,.0f} kgCO2e/month")


RULE = Rule(
    name="carbon-budget",
    description="The stack's operational emissions per month (energy x grid intensity) stay within the budget.",
    severity="medium", enforcement="advisory", kind="stack", category="cost",
    remediation="Shrink GPU pools, move to a lower-carbon Region (`aidc size ... --region` compares them), or "
                "raise maxKgCo2ePerMonth for this rule in policies/config/<env>.json after review; "
                "`aidc cost STACK` prints the figure and its source.",
    check=check, params={"maxKgCo2ePerMonth": 0.0},
)
