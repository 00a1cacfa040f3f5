"""Find the companion resources of each S3 bucket (encryption, versioning, public access
block, policy): by dependency on the bucket's URN, or by the bucket name they point at."""

from __future__ import annotations

from collections.abc import Iterator

from aidc.plan import Plan, Resource

BUCKET = "aws:s3/bucket:Bucket"


def buckets(plan: Plan) -> list[Resource]:
    return [r for r in plan.resources if r.type == BUCKET and r.op != "delete"]


def companions(plan: Plan, bucket: Resource, rtype: str) -> Iterator[Resource]:
    names = {v for v in (bucket.inputs.get("bucket"),) if isinstance(v, str)}
    for r in plan.resources:
        if r.type == rtype and r.op != "delete" and (bucket.urn in r.dependencies or r.inputs.get("bucket") in names):
            yield r
