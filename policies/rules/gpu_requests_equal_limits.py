from policies.rule import GPU_RESOURCE, Rule, containers, get, is_kubernetes_workload, pod_specs


def check(rtype, props, ctx):
    if not is_kubernetes_workload(rtype):
        return
    for path, spec in pod_specs(props):
        for c in containers(spec):
            req = get(c, "resources.requests", {}).get(GPU_RESOURCE)
            lim = get(c, "resources.limits", {}).get(GPU_RESOURCE)
            if req is None and lim is None:
                continue
            if lim is None:
                yield f"container {c.get('name')} at {path} requests {req} GPUs without a limit"
            elif req is not None and str(req) != str(lim):
                yield f"container {c.get('name')} at {path} requests {req} GPUs but limits {lim}; they must be equal"


RULE = Rule(
    name="gpu-requests-equal-limits",
    description="Containers that use GPUs set nvidia.com/gpu limits, and requests (if given) equal to them.",
    severity="medium", enforcement="mandatory",
    remediation="Set resources.limits['nvidia.com/gpu'] to the GPU count and requests to the same number "
                "(GPUs cannot be overcommitted; a mismatch is rejected or mis-scheduled).",
    check=check,
)
