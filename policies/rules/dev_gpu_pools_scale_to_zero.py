from policies.rule import NODE_GROUP, Rule, get, instance_types_of, is_gpu_type, num


def check(rtype, props, ctx):
    if not any(is_gpu_type(t, ctx.catalog) for t in instance_types_of(rtype, props)):
        return
    low = num(get(props, "scalingConfig.minSize"), 0)
    if low and low > 0:
        yield f"GPU node group keeps {int(low)} nodes running (scalingConfig.minSize); it must be able to scale to zero"


RULE = Rule(
    name="dev-gpu-pools-scale-to-zero",
    description="GPU node groups can scale to zero (no idle GPUs paid for overnight); meant for dev.",
    severity="medium", enforcement="advisory", category="cost",
    remediation="Set aidc:gpuPools[].size.min: 0 (or use provisioner: karpenter, which scales to zero).",
    check=check, types=(NODE_GROUP,),
)
