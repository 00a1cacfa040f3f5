from policies.rule import Rule


def check(_type, props, ctx):
    deployment = str(props.get("deploymentType") or "SCRATCH_1")
    if deployment.startswith("SCRATCH"):
        yield f"{deployment} file systems cannot use a customer-managed KMS key; use PERSISTENT_2 with kmsKeyId"
    elif not props.get("kmsKeyId"):
        yield "the file system is encrypted with the AWS-managed key; set kmsKeyId to a customer-managed key"


RULE = Rule(
    name="fsx-customer-managed-key",
    description="FSx for Lustre file systems are persistent and encrypted with a customer-managed KMS key.",
    severity="high", enforcement="mandatory",
    remediation="Use deploymentType PERSISTENT_2 and set kmsKeyId to a KMS key the stack creates (rotation on).",
    check=check, types=("aws:fsx/lustreFileSystem:LustreFileSystem",),
)
