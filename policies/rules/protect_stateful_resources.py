from policies.rule import Rule

STATEFUL = ["aws:eks/cluster:Cluster", "aws:kms/key:Key", "aws:fsx/lustreFileSystem:LustreFileSystem",
            "aws:s3/bucket:Bucket", "aws:ebs/volume:Volume", "aws:efs/fileSystem:FileSystem",
            "aws:ecr/repository:Repository", "kubernetes:core/v1:PersistentVolume"]


def check(rtype, props, ctx):
    if rtype in ctx.params["types"] and not ctx.protect:
        yield f"{rtype} holds data but is not protected (Pulumi protect)"


RULE = Rule(
    name="protect-stateful-resources",
    description="Resources that hold data (cluster, keys, file systems, buckets, volumes) are protected.",
    severity="high", enforcement="mandatory",
    remediation="Leave aidc:protect at its prod default (true); components create data-holding resources "
                "with protect and retainOnDelete through components.common.stateful().",
    check=check, params={"types": STATEFUL},
)
