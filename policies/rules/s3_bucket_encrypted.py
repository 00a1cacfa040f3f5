from policies.rule import Rule, get, items

from ._s3 import buckets, companions

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def _algorithms(rules) -> list[str]:
    return [str(get(r, "applyServerSideEncryptionByDefault.sseAlgorithm", "")) for r in items(rules)]


def check(plan, ctx):
    for b in buckets(plan):
        algos = _algorithms(get(b.inputs, "serverSideEncryptionConfiguration.rule") and
                            [get(b.inputs, "serverSideEncryptionConfiguration.rule")])
        for sse in companions(plan, b, SSE):
            algos += _algorithms(sse.inputs.get("rules"))
        if not algos:
            yield b.urn, "no server-side encryption configuration; add one with aws:kms (a customer-managed key)"
        elif ctx.params["requireKms"] and not any(a.startswith("aws:kms") for a in algos):
            yield b.urn, f"encrypted with {', '.join(algos)}; this environment requires aws:kms"


RULE = Rule(
    name="s3-bucket-encrypted",
    description="Every S3 bucket has a server-side encryption configuration (KMS where required).",
    severity="high", enforcement="mandatory", kind="stack",
    remediation="Add a BucketServerSideEncryptionConfiguration for the bucket with sseAlgorithm aws:kms and "
                "kmsMasterKeyId, bucketKeyEnabled: true.",
    check=check, params={"requireKms": False},
)
