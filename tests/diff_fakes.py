"""Fixtures of the `aidc diff` tests.

Plans are made by the offline engine from the small stack files in tests/fixtures/stacks/
(`base`, `head` which changes several things at once, `new-cidr`, `iops-high`/`iops-low`,
`region-west`, `claims-small`/`claims-grown`), so every resource type,
name and input is one the program really emits. A `pulumi preview --json` document is laid out
from two of those plans the way Pulumi lays out its steps. Cost and policy go through stand-ins
for aidc.cost.estimate and aidc.policy.evaluate, so the diff tests do not move when prices or
rules do: prices per resource type, and two rules whose verdicts change between BASE and HEAD
(one violation appears, one is fixed)."""

from __future__ import annotations

import collections
import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aidc.engine import PlannedStack, plan_stack
from aidc.plan import Plan
from tests.conftest import ROOT

STACKS = Path(__file__).resolve().parent / "fixtures" / "stacks"
BASE_STACK = STACKS / "base" / "Pulumi.lab.yaml"
HEAD_STACK = STACKS / "head" / "Pulumi.lab.yaml"
CIDR_STACK = STACKS / "new-cidr" / "Pulumi.lab.yaml"
IOPS_HIGH_STACK = STACKS / "iops-high" / "Pulumi.lab.yaml"  # BASE with metadata IOPS 3000
IOPS_LOW_STACK = STACKS / "iops-low" / "Pulumi.lab.yaml"  # ... lowered to 1500
REGION_STACK = STACKS / "region-west" / "Pulumi.lab.yaml"  # BASE in us-west-2
CLAIMS_STACK = STACKS / "claims-small" / "Pulumi.lab.yaml"  # BASE with a team's Lustre claim
GROWN_STACK = STACKS / "claims-grown" / "Pulumi.lab.yaml"  # ... and Lustre grown to 4800 GiB

MONTHLY_USD = {  # made-up round figures; the tests check arithmetic, not prices
    "aws:ec2/natGateway:NatGateway": 32.85,
    "aws:eks/cluster:Cluster": 73.0,
    "aws:eks/nodeGroup:NodeGroup": 1000.0,
    "aws:fsx/lustreFileSystem:LustreFileSystem": 2000.0,
}


@functools.cache
def planned(stack: Path) -> PlannedStack:
    """A fixture stack through the offline engine, once per session."""
    return plan_stack(str(stack), ROOT)


def fixture_plans() -> tuple[Plan, Plan]:
    return planned(BASE_STACK).plan, planned(HEAD_STACK).plan


# ---------------------------------------------------------------- a real preview's layout

def preview_document(base: PlannedStack, head: PlannedStack,
                     replaced: dict[tuple[str, str], tuple[str, ...]]) -> dict[str, Any]:
    """What `pulumi preview --json` prints when BASE is deployed and HEAD is previewed: one step
    per resource (same, update, create; deletions last) with oldState and newState; a replacement
    as create-replacement, replace and, at the end, delete-replaced, each with replaceReasons and
    a detailedDiff of `update-replace` kinds. Pulumi learns what forces a replacement from the
    provider; here the test says so (`replaced`: (type, name) -> properties), so the preview does
    not borrow the catalog rules that aidc's own plan comparison uses."""
    old = {s["urn"]: s["newState"] for s in base.document["steps"]}
    new = {s["urn"]: s["newState"] for s in head.document["steps"]}

    own = copy.deepcopy  # each step carries its own copy of the state, as in Pulumi's JSON

    steps, tail, summary = [], [], collections.Counter()
    for urn, state in new.items():
        before = old.get(urn)
        if before is None:
            steps.append({"op": "create", "urn": urn, "newState": own(state)})
            summary["create"] += 1
            continue
        diff = sorted(k for k in set(before.get("inputs", {})) | set(state.get("inputs", {}))
                      if before.get("inputs", {}).get(k) != state.get("inputs", {}).get(k))
        both = {"oldState": own(before), "newState": own(state)}
        forcing = replaced.get((state["type"], urn.rsplit("::", 1)[-1]))
        if forcing:
            detail = {"replaceReasons": list(forcing), "diffReasons": diff,
                      "detailedDiff": {k: {"kind": "update-replace" if k in forcing else "update", "inputDiff": True}
                                       for k in diff}}
            steps.append({"op": "create-replacement", "urn": urn, **both, **detail})
            steps.append({"op": "replace", "urn": urn, **both, **detail})
            tail.append({"op": "delete-replaced", "urn": urn, **both, **detail})
            summary["replace"] += 1
        elif diff:
            steps.append({"op": "update", "urn": urn, **both, "diffReasons": diff,
                          "detailedDiff": {k: {"kind": "update", "inputDiff": True} for k in diff}})
            summary["update"] += 1
        else:
            steps.append({"op": "same", "urn": urn, **both})
            summary["same"] += 1
    for urn in reversed([u for u in old if u not in new]):  # deletions go dependents first
        tail.insert(0, {"op": "delete", "urn": urn, "oldState": own(old[urn])})
        summary["delete"] += 1
    return {"config": head.document["config"], "steps": steps + tail, "diagnostics": [],
            "duration": 41873000000, "changeSummary": dict(sorted(summary.items()))}


# ---------------------------------------------------------------- cost and policy stand-ins


@dataclass
class FakeEstimate:
    parts: dict[str, float]
    pools: dict[str, float]

    @property
    def monthly_usd(self) -> float:
        return sum(self.parts.values())

    def by_component(self) -> dict[str, float]:
        return dict(self.parts)

    def by_pool(self) -> dict[str, float]:
        return dict(self.pools)


def fake_estimate(plan: Plan) -> FakeEstimate:
    parts: dict[str, float] = collections.defaultdict(float)
    pools: dict[str, float] = collections.defaultdict(float)
    for r in plan.resources:
        parts[plan.component_of(r)] += MONTHLY_USD.get(r.type, 0.0)
        if r.type == "aws:eks/nodeGroup:NodeGroup":  # a node group is a pool, named by its resource
            pools[r.name] += MONTHLY_USD[r.type]
    return FakeEstimate(dict(parts), dict(pools))


@dataclass(frozen=True)
class FakeViolation:
    policy: str
    severity: str
    enforcement: str
    urn: str
    message: str


@dataclass(frozen=True)
class FakeOverride:
    text: str

    def describe(self) -> str:
        return self.text


@dataclass
class FakeReport:
    violations: list[FakeViolation]
    overrides: tuple[FakeOverride, ...] = ()

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
        if eks.inputs.get("version") == "1.34":
            out.append(FakeViolation("eks-standard-support", "medium", "advisory", eks.urn,
                                     "Kubernetes 1.34 leaves standard support soon"))
    # HEAD's stack overrides a rule (a reviewer must see it and its reason in the comment).
    over = (FakeOverride("gpu-count-max: maxGpus 64 (environment: 32); reason: approved by the platform team"),) \
        if plan.of_type("aws:eks/nodeGroup:NodeGroup") else ()
    return FakeReport(out, over)
