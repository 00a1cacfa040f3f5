"""Stand-ins for aidc.cost.estimate and aidc.policy.evaluate, so the diff tests do not depend
on those modules: prices per resource type, and two rules whose verdicts change between the
BASE and HEAD fixtures (one violation appears, one is fixed)."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path

from aidc.plan import Plan, load_plan

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "diff"

MONTHLY_USD = {  # made-up round figures; the tests check arithmetic, not prices
    "aws:ec2/natGateway:NatGateway": 32.85,
    "aws:eks/cluster:Cluster": 73.0,
    "aws:eks/nodeGroup:NodeGroup": 1000.0,
    "aws:fsx/lustreFileSystem:LustreFileSystem": 2000.0,
}


@dataclass
class FakeEstimate:
    parts: dict[str, float]

    @property
    def monthly_usd(self) -> float:
        return sum(self.parts.values())

    def by_component(self) -> dict[str, float]:
        return dict(self.parts)


def fake_estimate(plan: Plan) -> FakeEstimate:
    parts: dict[str, float] = collections.defaultdict(float)
    for r in plan.resources:
        parts[plan.component_of(r)] += MONTHLY_USD.get(r.type, 0.0)
    return FakeEstimate(dict(parts))


@dataclass(frozen=True)
class FakeViolation:
    policy: str
    severity: str
    enforcement: str
    urn: str
    message: str


@dataclass
class FakeReport:
    violations: list[FakeViolation]

    @property
    def mandatory_failed(self) -> bool:
        return any(v.enforcement == "mandatory" for v in self.violations)


def fake_evaluate(plan: Plan, environment: str | None = None) -> FakeReport:
    out = []
    nats = plan.of_type("aws:ec2/natGateway:NatGateway")
    if environment == "prod" and len(nats) == 1:
        out.append(FakeViolation("nat-gateway-per-az", "high", "mandatory", nats[0].urn,
                                 "prod needs a NAT gateway in every availability zone"))
    for eks in plan.of_type("aws:eks/cluster:Cluster"):
        if eks.inputs.get("version") == "1.32":
            out.append(FakeViolation("eks-standard-support", "medium", "advisory", eks.urn,
                                     "Kubernetes 1.32 leaves standard support soon"))
    return FakeReport(out)


def fixture_plans() -> tuple[Plan, Plan]:
    return load_plan(FIXTURES / "plan-base.json"), load_plan(FIXTURES / "plan-head.json")
