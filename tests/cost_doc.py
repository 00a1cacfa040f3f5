"""The rate table of docs/cost.md, from the catalog: one row per rate (region, key, what,
rate, source and read date), so a test can hold the page and the data in step."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog import catalog

PAGE = {"eks": "https://aws.amazon.com/eks/pricing/", "nat": "https://aws.amazon.com/vpc/pricing/",
        "interface": "https://aws.amazon.com/privatelink/pricing/", "ebs": "https://aws.amazon.com/ebs/pricing/",
        "fsx": "https://aws.amazon.com/fsx/lustre/pricing/", "nlb": "https://aws.amazon.com/elasticloadbalancing/pricing/",
        "cloudwatch": "https://aws.amazon.com/cloudwatch/pricing/", "s3": "https://aws.amazon.com/s3/pricing/"}
SERVICES = {
    "eksClusterUsdPerHour": ("eks_cluster_usd_per_hour", "EKS control plane, $/cluster-hour"),
    "eksExtendedSupportUsdPerHour": ("eks_extended_support_usd_per_hour", "EKS in extended support, $/cluster-hour"),
    "natGatewayUsdPerHour": ("nat_gateway_usd_per_hour", "NAT gateway, $/hour"),
    "natGatewayUsdPerGb": ("nat_gateway_usd_per_gb", "NAT data processed, $/GB"),
    "interfaceEndpointUsdPerHour": ("interface_endpoint_usd_per_hour", "interface endpoint, $/AZ-hour"),
    "ebsGp3UsdPerGbMonth": ("ebs_gp3_usd_per_gb_month", "EBS gp3, $/GB-month"),
    "fsxLustreBackupUsdPerGbMonth": ("fsx_lustre_backup_usd_per_gb_month", "FSx for Lustre backups, $/GB-month"),
    "nlbUsdPerHour": ("nlb_usd_per_hour", "Network Load Balancer, $/hour"),
    "cloudwatchLogsIngestUsdPerGb": ("cloudwatch_logs_ingest_usd_per_gb", "CloudWatch Logs ingestion, $/GB"),
}


def _page(key: str) -> str:
    return next(url for prefix, url in PAGE.items() if key.lower().startswith(prefix))


def rows() -> Iterator[tuple[str, ...]]:
    cat = catalog()
    for name, inst in cat.ec2_types.items():
        p = inst.price
        what = "Capacity Block rate (sold only as blocks)" if inst.capacity_block_only else "on demand"
        yield p.region, f"`{name}` (instances.yaml)", f"{what}, $/hour", f"{p.on_demand_usd_per_hour:g}", \
            f"{p.source.url} ({p.source.date})"
    for region, t in cat.prices.regions.items():
        def src(key: str, tier: str = "", t=t) -> str:
            flag = ", not verified" if {key, f"{key}.{tier}"} & set(t.unverified) else ""
            return f"{_page(key)} ({t.source.date}{flag})"
        for key, (attr, label) in SERVICES.items():
            v = getattr(t, attr)
            yield region, f"`{key}`", label, "not priced" if v is None else f"{v:g}", src(key) if v is not None else "—"
        for tier in t.s3_standard:
            label = f"S3 Standard up to {tier.up_to_gb:,.0f} GB, $/GB-month" if tier.up_to_gb else \
                "S3 Standard above that, $/GB-month"
            yield region, "`s3Standard`", label, f"{tier.usd_per_gb_month:g}", src("s3Standard")
        if not t.s3_standard:
            yield region, "`s3Standard`", "S3 Standard", "not priced", "—"
        for size, v in t.fsx_lustre_persistent2_usd_per_gb_month.items():
            yield region, f"`fsxLustrePersistent2UsdPerGbMonth.{size}`", \
                f"FSx for Lustre PERSISTENT_2 {size} MB/s/TiB, $/GB-month", f"{v:g}", \
                src("fsxLustrePersistent2UsdPerGbMonth", str(size))
        if not t.fsx_lustre_persistent2_usd_per_gb_month:
            yield region, "`fsxLustrePersistent2UsdPerGbMonth`", "FSx for Lustre", "not priced", "—"
        for itype, v in t.instances.items():
            yield region, f"`instances.{itype}`", f"{itype} on demand, $/hour", f"{v:g}", \
                f"Karpenter zz_generated.pricing_aws.go ({t.instances_source.date})"
        if not t.instances and region != cat.prices.reference_region:
            yield region, "`instances`", "every instance type", "not priced", "no rate for this Region found in a source"
        cb = t.capacity_blocks
        if cb is None:
            yield region, "`capacityBlocks`", "Capacity Blocks", "none offered", "EC2 User Guide (read 2026-12-02)"
            continue
        for itype in cb.offered:
            v = cb.usd_per_hour.get(itype)
            yield region, f"`capacityBlocks.{itype}`", f"{itype} Capacity Block, $/instance-hour", \
                "not priced" if v is None else f"{v:g}", \
                f"{cb.source.url} ({cb.source.date}); STALE: table valid until {cb.valid_until}" if v is not None \
                else "offered (EC2 User Guide, read 2026-12-02); no rate found"


def table() -> str:
    out = ["| region | key | what | rate (USD) | source (read date) |", "|---|---|---|--:|---|"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows()]) + "\n"
