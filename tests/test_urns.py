"""Stable URNs: prod's resources keep the identity a deployed stack knows them by. A rename
must carry Pulumi aliases (the engine then updates in place instead of replacing); this
holds the URN list a `pulumi up` of prod compares against."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWN = [ln for ln in (ROOT / "tests/fixtures/urns/prod.txt").read_text().splitlines() if ln and not ln.startswith("#")]


def test_every_prod_resource_answers_to_a_deployed_urn(plan_of):
    plan = plan_of("prod")
    known = set(KNOWN)
    matched: dict[str, str] = {}
    for res in plan.resources:
        hits = [u for u in (res.urn, *res.aliases) if u in known]
        assert hits, f"{res.urn} is new or renamed without an alias: a deployed prod would replace it"
        matched[hits[0]] = res.urn
    assert sorted(matched) == sorted(known), "a deployed resource has no counterpart: it would be deleted"


def test_the_gpu_pool_rename_carries_its_alias_down_to_every_child(plan_of):
    plan = plan_of("prod")
    pools = [r for r in plan.resources if "aidc:gpu_pool:GpuNodePool" in r.urn]
    assert len(pools) == 7  # 2 components + launch template, EFA group, node group, NodePool, EC2NodeClass
    for res in pools:
        assert res.aliases == (res.urn.replace("aidc:gpu_pool:GpuNodePool", "aidc:compute:GpuNodePool"),)
    assert not [r for r in plan.resources if "aidc:gpu_pool" not in r.urn and r.aliases]


def test_the_spec_layer_loads_no_pulumi_sdk():
    """`import components.spec` (and validating a stack) stays Pulumi-free: the layer contract
    in pyproject checks the imports statically, this checks what Python actually loads."""
    code = ("import sys; import components.spec; from components.spec import load_spec; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pulumi', 'pulumi_aws', 'pulumi_kubernetes', 'aidc', 'policies')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
