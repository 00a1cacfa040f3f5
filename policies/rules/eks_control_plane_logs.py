from policies.rule import Rule, get, items

ALL = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def check(_type, props, ctx):
    on = {str(t) for t in items(get(props, "enabledClusterLogTypes"))}
    missing = [t for t in ctx.params["logTypes"] if t not in on]
    if missing:
        yield f"control-plane log types not enabled: {', '.join(missing)}"


RULE = Rule(
    name="eks-control-plane-logs",
    description="Every EKS control-plane log type (api, audit, authenticator, controllerManager, scheduler) is on.",
    severity="medium", enforcement="mandatory",
    remediation="Remove aidc:cluster.logTypes from the stack (the default enables all five) or list all five.",
    check=check, types=("aws:eks/cluster:Cluster",), params={"logTypes": list(ALL)},
)
