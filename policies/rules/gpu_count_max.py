from aidc.cost import plan_pools
from policies.rule import Rule


def check(plan, ctx):
    pools = plan_pools(plan, ctx.catalog)
    total = 0
    for p in pools:
        if p.max is None:
            yield p.urn, f"GPU pool {p.name} has no maximum size (NodePool limits['nvidia.com/gpu'])"
            continue
        total += p.max * p.gpus_per_node
    if total > ctx.params["maxGpus"]:
        parts = ", ".join(f"{p.name} {p.max}x{p.gpus_per_node}" for p in pools if p.max)
        yield None, f"the GPU pools can grow to {total} GPUs ({parts}); this environment allows {ctx.params['maxGpus']}"


RULE = Rule(
    name="gpu-count-max",
    description="The GPU pools at their maximum size stay within the environment's GPU count.",
    severity="high", enforcement="mandatory", kind="stack", category="cost",
    remediation="Lower aidc:gpuPools[].size.max (or the NodePool GPU limit), or, once approved, set "
                "aidc:policy.overrides.gpu-count-max: {maxGpus: N, reason: ...} in the stack.",
    check=check, params={"maxGpus": 0},
)
