from policies.rule import INSTANCE, LAUNCH_TEMPLATE, NODE_GROUP, NODE_POOL, Rule, instance_types_of, is_gpu_type


def check(rtype, props, ctx):
    types = instance_types_of(rtype, props)
    if rtype == NODE_POOL and not types and (props.get("spec") or {}).get("limits", {}).get("nvidia.com/gpu"):
        yield "GPU NodePool does not constrain node.kubernetes.io/instance-type; any GPU type could launch"
    allowed = set(ctx.params["allowedInstanceTypes"])
    for t in types:
        if is_gpu_type(t, ctx.catalog) and t not in allowed:
            yield f"GPU instance type {t} is not allowed here; allowed: {', '.join(sorted(allowed)) or 'none'}"


RULE = Rule(
    name="gpu-instance-types-allowed",
    description="GPU instance types are on the environment's allowlist.",
    severity="high", enforcement="mandatory", category="cost",
    remediation="Pick an allowed instance type for aidc:gpuPools[].instanceType, or add the type to "
                "allowedInstanceTypes of this rule in policies/config/<env>.json (reviewed change).",
    check=check, types=(NODE_GROUP, LAUNCH_TEMPLATE, INSTANCE, NODE_POOL), params={"allowedInstanceTypes": []},
)
