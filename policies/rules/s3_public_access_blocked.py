from policies.rule import Rule, truthy

from ._s3 import buckets, companions

PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def check(plan, ctx):
    for b in buckets(plan):
        blocks = list(companions(plan, b, PAB))
        if not blocks:
            yield b.urn, "no BucketPublicAccessBlock"
            continue
        off = [f for f in FLAGS if not any(truthy(p.inputs.get(f)) for p in blocks)]
        if off:
            yield b.urn, f"public access block leaves {', '.join(off)} off"


RULE = Rule(
    name="s3-public-access-blocked",
    description="Every S3 bucket has a public access block with all four settings on.",
    severity="critical", enforcement="mandatory", kind="stack",
    remediation="Add a BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, "
                "ignorePublicAcls and restrictPublicBuckets all true.",
    check=check,
)
