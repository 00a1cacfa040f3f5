import json

from policies.rule import Rule, get, items

TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy",
         "aws:iam/groupPolicy:GroupPolicy", "aws:iam/role:Role")


def _wildcards(doc) -> list[str]:
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return []
    statements = get(doc, "Statement")
    found = []
    for st in items(statements) or ([statements] if statements else []):
        if get(st, "Effect") != "Allow":
            continue
        actions = get(st, "Action")
        for a in items(actions) or [actions]:
            if isinstance(a, str) and (a == "*" or a.endswith(":*")):
                found.append(a)
        if get(st, "NotAction") is not None:
            found.append("NotAction")
    return found


def check(rtype, props, ctx):
    docs = [p.get("policy") for p in items(props.get("inlinePolicies"))] if rtype == "aws:iam/role:Role" \
        else [props.get("policy")]
    for doc in docs:
        bad = _wildcards(doc) if doc else []
        if bad:
            yield f"Allow statement grants wildcard actions {sorted(set(bad))}; list the actions the workload needs"


RULE = Rule(
    name="iam-no-wildcard-actions",
    description="IAM policies the stack writes allow named actions only (no '*', 'service:*' or NotAction).",
    severity="high", enforcement="mandatory",
    remediation="Replace wildcard actions with the specific API calls (e.g. s3:GetObject, s3:PutObject); "
                "prefer an AWS managed policy for standard add-ons.",
    check=check, types=TYPES,
)
