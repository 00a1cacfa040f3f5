from policies.rule import INSTANCE, LAUNCH_TEMPLATE, NODE_CLASS, Rule, get, num


def check(rtype, props, ctx):
    if rtype == NODE_CLASS:  # Karpenter defaults to required tokens and hop limit 1
        opts = get(props, "spec.metadataOptions") or {}
        tokens, hops = opts.get("httpTokens", "required"), opts.get("httpPutResponseHopLimit", 1)
        endpoint = opts.get("httpEndpoint", "enabled")
    else:
        opts = props.get("metadataOptions")
        if opts is None:
            yield "no metadataOptions: instances accept IMDSv1; set httpTokens: required"
            return
        tokens, hops = opts.get("httpTokens", "optional"), opts.get("httpPutResponseHopLimit", 1)
        endpoint = opts.get("httpEndpoint", "enabled")
    if endpoint == "disabled":
        return
    if tokens != "required":
        yield f"IMDSv2 is not required (httpTokens {tokens!r}); set httpTokens: required"
    limit = num(hops, 1)
    if limit is not None and limit > ctx.params["maxHopLimit"]:
        yield (f"httpPutResponseHopLimit {int(limit)} lets pods reach the node's instance credentials; "
               f"use at most {ctx.params['maxHopLimit']} (pods get AWS access through Pod Identity)")


RULE = Rule(
    name="imdsv2-required",
    description="Nodes require IMDSv2 tokens, with a hop limit that keeps pods away from the node's credentials.",
    severity="high", enforcement="mandatory",
    remediation="In the launch template / EC2NodeClass set metadataOptions {httpTokens: required, "
                "httpPutResponseHopLimit: 1}; give pods AWS access through EKS Pod Identity.",
    check=check, types=(LAUNCH_TEMPLATE, INSTANCE, NODE_CLASS), params={"maxHopLimit": 1},
)
