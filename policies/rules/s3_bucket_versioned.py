from policies.rule import Rule, get

from ._s3 import buckets, companions

VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"


def check(plan, ctx):
    for b in buckets(plan):
        states = [get(v.inputs, "versioningConfiguration.status") for v in companions(plan, b, VERSIONING)]
        if get(b.inputs, "versioning.enabled") is True:
            states.append("Enabled")
        if "Enabled" not in states:
            yield b.urn, "versioning is not enabled: an overwrite or delete loses data for good"


RULE = Rule(
    name="s3-bucket-versioned",
    description="Every S3 bucket keeps object versions.",
    severity="medium", enforcement="mandatory", kind="stack",
    remediation="Add a BucketVersioning with versioningConfiguration.status: Enabled (and a lifecycle rule "
                "expiring noncurrent versions to bound the cost).",
    check=check,
)
