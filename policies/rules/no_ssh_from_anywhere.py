from policies.rule import NODE_GROUP, Rule, get, items, num

OPEN = ("0.0.0.0/0", "::/0")


def _covers_ssh(protocol, from_port, to_port) -> bool:
    proto = str(protocol).lower()
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    lo, hi = num(from_port, 0), num(to_port, 65535)
    return lo <= 22 <= hi


def check(rtype, props, ctx):
    if rtype == NODE_GROUP:
        ra = props.get("remoteAccess")
        if ra is not None and ra.get("ec2SshKey") and not items(ra.get("sourceSecurityGroupIds")):
            yield "remoteAccess with an SSH key and no sourceSecurityGroupIds opens port 22 to 0.0.0.0/0"
        return
    if rtype == "aws:ec2/securityGroup:SecurityGroup":
        rules = [(r, [*items(r.get("cidrBlocks")), *items(r.get("ipv6CidrBlocks"))]) for r in items(props.get("ingress"))]
        protocol_key = "protocol"
    elif rtype == "aws:ec2/securityGroupRule:SecurityGroupRule":
        if props.get("type") != "ingress":
            return
        rules = [(props, [*items(props.get("cidrBlocks")), *items(props.get("ipv6CidrBlocks"))])]
        protocol_key = "protocol"
    else:  # aws:vpc/securityGroupIngressRule
        rules = [(props, [c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c])]
        protocol_key = "ipProtocol"
    for rule, cidrs in rules:
        opens = [str(c) for c in cidrs if str(c) in OPEN]
        if opens and _covers_ssh(rule.get(protocol_key), rule.get("fromPort"), rule.get("toPort")):
            yield f"ingress allows port 22 from {', '.join(opens)}"


RULE = Rule(
    name="no-ssh-from-anywhere",
    description="No security group or node group opens SSH (port 22) to the internet.",
    severity="critical", enforcement="mandatory",
    remediation="Remove the 0.0.0.0/0 / ::/0 ingress on port 22 (or all ports); use SSM Session Manager "
                "(nodes have AmazonSSMManagedInstanceCore) or limit the source to a bastion security group.",
    check=check, types=("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule",
                        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", NODE_GROUP),
)
