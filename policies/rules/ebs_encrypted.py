from policies.rule import INSTANCE, LAUNCH_TEMPLATE, NODE_CLASS, Rule, get, items, truthy


def check(rtype, props, ctx):
    if rtype == "aws:ebs/volume:Volume":
        if not truthy(props.get("encrypted")):
            yield "EBS volume is not encrypted; set encrypted: true"
        return
    if rtype == INSTANCE:
        if not truthy(get(props, "rootBlockDevice.encrypted")):
            yield "the root volume is not encrypted; set rootBlockDevice.encrypted: true"
        for i, d in enumerate(items(props.get("ebsBlockDevices"))):
            if not truthy(d.get("encrypted")):
                yield f"ebsBlockDevices[{i}] is not encrypted"
        return
    mappings = items(get(props, "spec.blockDeviceMappings") if rtype == NODE_CLASS else props.get("blockDeviceMappings"))
    if rtype == LAUNCH_TEMPLATE and not mappings:
        yield "no blockDeviceMappings: the root volume's encryption is left to the AMI and account default"
    for i, m in enumerate(mappings):
        ebs = m.get("ebs")
        if ebs is not None and not truthy(ebs.get("encrypted")):
            yield f"blockDeviceMappings[{i}] ({m.get('deviceName', '?')}) is not encrypted; set ebs.encrypted: true"


RULE = Rule(
    name="ebs-encrypted",
    description="Every EBS volume (node root and data volumes, standalone volumes) is encrypted.",
    severity="high", enforcement="mandatory",
    remediation="Set ebs.encrypted: true on each block device mapping (launch template, EC2NodeClass) and "
                "encrypted: true on volumes.",
    check=check, types=(LAUNCH_TEMPLATE, INSTANCE, NODE_CLASS, "aws:ebs/volume:Volume"),
)
