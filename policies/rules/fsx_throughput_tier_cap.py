from policies.rule import Rule, num


def check(_type, props, ctx):
    tier = num(props.get("perUnitStorageThroughput"))
    cap = ctx.params["maxThroughputPerTib"]
    if tier is not None and tier > cap:
        yield f"throughput tier {int(tier)} MB/s/TiB is above this environment's cap of {cap}"
    size = num(props.get("storageCapacity"))
    if size is not None and size > ctx.params["maxStorageGib"]:
        yield f"storageCapacity {int(size)} GiB is above this environment's cap of {ctx.params['maxStorageGib']} GiB"


RULE = Rule(
    name="fsx-throughput-tier-cap",
    description="FSx for Lustre throughput tier and size stay within the environment's caps.",
    severity="medium", enforcement="mandatory", category="cost",
    remediation="Lower aidc:storage's Lustre throughput tier or capacity, or raise maxThroughputPerTib / "
                "maxStorageGib for this rule in policies/config/<env>.json after review.",
    check=check, types=("aws:fsx/lustreFileSystem:LustreFileSystem",),
    params={"maxThroughputPerTib": 1000, "maxStorageGib": 1_000_000},
)
