import json

from policies.rule import Rule, get, items

from ._s3 import buckets, companions

POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def _denies_plain_http(doc) -> bool:
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return False
    statements = get(doc, "Statement")
    for st in items(statements) or ([statements] if statements else []):
        cond = get(st, "Condition.Bool") or {}
        value = cond.get("aws:SecureTransport") if hasattr(cond, "get") else None
        values = [str(v).lower() for v in (items(value) or [value])]
        if get(st, "Effect") == "Deny" and "false" in values:
            return True
    return False


def check(plan, ctx):
    for b in buckets(plan):
        docs = [p.inputs.get("policy") for p in companions(plan, b, POLICY)] + [b.inputs.get("policy")]
        if not any(_denies_plain_http(d) for d in docs if d):
            yield b.urn, "the bucket policy does not deny requests without TLS (aws:SecureTransport false)"


RULE = Rule(
    name="s3-tls-only",
    description="Every S3 bucket policy denies requests that do not use TLS.",
    severity="high", enforcement="mandatory", kind="stack",
    remediation='Add a BucketPolicy statement {"Effect": "Deny", "Principal": "*", "Action": "s3:*", '
                '"Resource": [bucket ARN, bucket ARN/*], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.',
    check=check,
)
