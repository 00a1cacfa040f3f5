from policies.rule import INSTANCE, LAUNCH_TEMPLATE, NODE_CLASS, Rule, get, items, truthy


def check(rtype, props, ctx):
    if rtype == "aws:ec2/subnet:Subnet":
        if truthy(props.get("mapPublicIpOnLaunch")):
            yield "the subnet gives every instance launched in it a public IP (mapPublicIpOnLaunch)"
    elif rtype == NODE_CLASS:
        if truthy(get(props, "spec.associatePublicIPAddress")):
            yield "Karpenter nodes get public IPs (spec.associatePublicIPAddress: true)"
    elif rtype == INSTANCE:
        if truthy(props.get("associatePublicIpAddress")):
            yield "the instance gets a public IP (associatePublicIpAddress: true)"
    else:
        for i, ni in enumerate(items(props.get("networkInterfaces"))):
            if truthy(ni.get("associatePublicIpAddress")):
                yield f"networkInterfaces[{i}] associates a public IP with every node"


RULE = Rule(
    name="no-public-ips-on-nodes",
    description="Nodes have no public IP addresses; they reach the internet through NAT or VPC endpoints.",
    severity="high", enforcement="mandatory",
    remediation="Set associatePublicIpAddress false (launch template interfaces, EC2NodeClass) and "
                "mapPublicIpOnLaunch: false on subnets; put nodes in private subnets.",
    check=check, types=(LAUNCH_TEMPLATE, INSTANCE, NODE_CLASS, "aws:ec2/subnet:Subnet"),
)
