"""The storage figures a stack implies, from its spec alone (no Pulumi): what `aidc plan`
prints and what the component exposes."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from components.catalog import catalog
from components.formulas.lustre import LustreSize, lustre_size

if TYPE_CHECKING:
    from components.spec import Spec


def planned_size(spec: "Spec") -> LustreSize | None:
    """The Lustre size the stack asks for, priced from the catalog (None without Lustre)."""
    from components.spec.storage import sizing_args  # spec imports storage.sizing: import late
    st = spec.storage
    if st is None or st.lustre is None or st.existing is not None:
        return None
    return lustre_size(**sizing_args(st.lustre), prices=catalog().pricing.fsx_lustre_persistent2_usd_per_gb_month)


def _monthly(spec: "Spec", size: LustreSize, backup_days: int) -> str:
    """The file system's month at the stack's Region's rates, backups as one full copy (what
    `aidc cost` counts); never another Region's rate."""
    table = catalog().prices.regions.get(spec.region or "")
    tier = table.fsx_lustre_persistent2_usd_per_gb_month.get(size.tier_mbps_per_tib) if table else None
    if tier is None:
        return f"not priced in {spec.region}"
    usd = size.capacity_gib * tier
    backup = table.fsx_lustre_backup_usd_per_gb_month if backup_days else None
    if backup is not None:
        return f"${usd + size.capacity_gib * backup:,.0f}/month in {spec.region} with backups"
    return f"${usd:,.0f}/month in {spec.region}"


def storage_line(spec: "Spec") -> str | None:
    """'storage: Lustre 7200 GiB at 1000 MB/s/TiB = 7.03 GB/s; 913 GiB checkpoint in 139 s; ...'"""
    st = spec.storage
    if st is None:
        return None
    if st.existing is not None:
        ex = st.existing
        what = (f"storageClass {ex.storage_class}" if ex.storage_class else
                f"NFS {ex.nfs.server}:{ex.nfs.path}" if ex.nfs else
                f"Lustre {ex.lustre.source}" + (f" (mounted by the nodes at {ex.lustre.host_path})"
                                                if ex.lustre.host_path else "") if ex.lustre else "?")
        return f"storage: existing {what}, {ex.request_gib} GiB claims in {', '.join(st.namespaces)}"
    parts = []
    size = planned_size(spec)
    if size is not None:
        assert st.lustre is not None
        backups = st.lustre.backup_retention_days
        unpriced = dataclasses.replace(size, usd_per_month=None)
        parts.append(f"Lustre {unpriced.summary()}; {_monthly(spec, size, backups)}; "
                     f"backups {f'{backups} days' if backups else 'off'}")
    parts.append("buckets " + ", ".join(kind for kind, _ in st.buckets.items()))
    return "storage: " + "; ".join(parts)
