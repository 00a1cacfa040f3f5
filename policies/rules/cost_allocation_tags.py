from functools import cache
from pathlib import Path

from policies.rule import NODE_CLASS, Rule, get

DATA = Path(__file__).resolve().parent.parent / "data" / "aws-taggable-types.txt"


@cache
def taggable_types() -> frozenset[str]:
    """AWS resource types with a `tags` input (checked against pulumi_aws by a test)."""
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


def check(rtype, props, ctx):
    if rtype == NODE_CLASS:
        tags, where = get(props, "spec.tags") or {}, "spec.tags (tags Karpenter puts on instances)"
    elif rtype in taggable_types() or (rtype.startswith("aws:") and "tags" in props):
        tags, where = props.get("tags") or {}, "tags"
    else:
        return
    missing = [k for k in ctx.params["requiredTags"] if not tags.get(k)]
    if missing:
        yield f"{where} lack the cost-allocation tags {', '.join(missing)}"


RULE = Rule(
    name="cost-allocation-tags",
    description="Every taggable AWS resource carries the cost-allocation tags (environment, team, cost centre).",
    severity="medium", enforcement="mandatory", category="cost",
    remediation="Set aidc:tags {team: ..., costCenter: ...} in the stack (environment is added for you); "
                "components pass them through components.common.tags_for().",
    check=check, params={"requiredTags": ["environment", "team", "costCenter"]},
)
