from policies.rule import Rule, get, items, truthy

OPEN = ("0.0.0.0/0", "::/0")


def check(_type, props, ctx):
    if not truthy(get(props, "vpcConfig.endpointPublicAccess", True)):
        return  # AWS makes the endpoint public unless told otherwise
    cidrs = [str(c) for c in items(get(props, "vpcConfig.publicAccessCidrs"))]
    if not ctx.params["allowPublic"]:
        yield (f"the Kubernetes API endpoint is public (publicAccessCidrs {cidrs or ['0.0.0.0/0']}); "
               "this environment allows a private endpoint only")
        return
    if not cidrs or any(c in OPEN for c in cidrs):
        yield "the Kubernetes API endpoint is public to the whole internet; restrict publicAccessCidrs to an allowlist"


RULE = Rule(
    name="eks-endpoint-not-public",
    description="The EKS API endpoint is private, or public only to an allowlist of CIDRs where the environment allows it.",
    severity="critical", enforcement="mandatory",
    remediation="Set aidc:cluster.endpointAccess: private (reach the API over VPN/peering), or, where allowed, "
                "list the office ranges in aidc:cluster.publicAccessCidrs.",
    check=check, types=("aws:eks/cluster:Cluster",), params={"allowPublic": False},
)
