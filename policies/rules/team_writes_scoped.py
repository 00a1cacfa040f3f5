import json
import re

from policies.rule import Rule, get, items

TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy",
         "aws:iam/groupPolicy:GroupPolicy")
WRITES = {"s3:putobject", "s3:deleteobject", "s3:deleteobjectversion", "s3:putobjectacl", "s3:*", "s3:put*",
          "s3:delete*", "*"}
# Every object of one bucket: arn:<partition>:s3:::<bucket>/*  (no prefix of the writer's own).
WHOLE_BUCKET = re.compile(r"^arn:[a-z-]+:s3:::([^/*]+)/\*$")


def _statements(doc):
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return []
    st = get(doc, "Statement")
    return items(st) or ([st] if st else [])


def check(rtype, props, ctx):
    exempt = set(ctx.params["exemptBuckets"])
    for st in _statements(props.get("policy")):
        if get(st, "Effect") != "Allow":
            continue
        actions = get(st, "Action")
        writes = sorted(str(a) for a in (items(actions) or [actions]) if str(a).lower() in WRITES)
        if not writes:
            continue
        resources = get(st, "Resource")
        for r in items(resources) or [resources]:
            m = WHOLE_BUCKET.match(str(r))
            if m and m.group(1) not in exempt:
                yield (f"{', '.join(writes)} on every object of bucket {m.group(1)}: a tenant can overwrite "
                       "another's data; scope the write to the writer's own prefix (bucket/<team>/*)")


RULE = Rule(
    name="team-writes-scoped",
    description="IAM policies write to shared buckets only under a prefix (a team's own checkpoints), never to "
                "every object of a bucket.",
    severity="high", enforcement="mandatory",
    remediation="Grant s3:PutObject on arn:aws:s3:::<bucket>/<team>/* (aidc's team storage roles do), or, for a "
                "bucket one writer owns, add it to exemptBuckets of this rule in policies/config/<env>.json.",
    check=check, types=TYPES, params={"exemptBuckets": []},
)
