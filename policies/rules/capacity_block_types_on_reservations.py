from policies.rule import LAUNCH_TEMPLATE, NODE_GROUP, NODE_POOL, Rule, get, instance_types_of, requirement_values


def check(rtype, props, ctx):
    only_blocks = [t for t in instance_types_of(rtype, props)
                   if t in ctx.catalog.instances and ctx.catalog.instances[t].capacity_block_only]
    if not only_blocks:
        return
    if rtype == NODE_GROUP:
        ok = props.get("capacityType") == "CAPACITY_BLOCK"
        where = f"capacityType {props.get('capacityType', 'ON_DEMAND')}"
    elif rtype == LAUNCH_TEMPLATE:
        ok = get(props, "instanceMarketOptions.marketType") == "capacity-block" and bool(
            get(props, "capacityReservationSpecification.capacityReservationTarget.capacityReservationId"))
        where = "no capacity-block market type with a reservation target"
    else:
        values = requirement_values(props, "karpenter.sh/capacity-type")
        ok = values == ["reserved"]
        where = f"karpenter.sh/capacity-type {values or 'unconstrained'}"
    if not ok:
        yield f"{', '.join(only_blocks)} is sold only as Capacity Blocks, but this pool asks for {where}"


RULE = Rule(
    name="capacity-block-types-on-reservations",
    description="Instance types sold only as Capacity Blocks are launched into a Capacity Block reservation.",
    severity="high", enforcement="mandatory", category="cost",
    remediation="Set aidc:gpuPools[].capacity {type: capacityBlock, reservationId: cr-...} for the pool.",
    check=check, types=(NODE_GROUP, LAUNCH_TEMPLATE, NODE_POOL),
)
