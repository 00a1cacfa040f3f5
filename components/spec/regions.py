"""`aws:region` and zone names, checked against the catalog's list of AWS Regions and their
Availability Zones (components/catalog/regions.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog import Catalog, catalog
from components.suggest import did_you_mean

from .base import Problem
from .network import NetworkSpec


def unknown_region(region: str, cat: Catalog | None = None) -> str | None:
    """Why `region` is not one aidc can build in, with the nearest names; None if it is."""
    known = (cat or catalog()).regions.regions
    if region in known:
        return None
    return f"{region} is not an AWS Region; {did_you_mean(region, known)}"


def zone_error(zone: str, region: str, cat: Catalog | None = None) -> str | None:
    """Why `zone` is not an Availability Zone of `region`; None if it is (or if the catalog has
    no zones for the region: then only the name's form is checked)."""
    info = (cat or catalog()).regions.regions.get(region)
    if not (zone.startswith(region) and len(zone) == len(region) + 1):
        return f"{zone} is not a zone of {region}"
    letters = info.zone_letters if info else ""
    if letters and zone[-1] not in letters:
        return (f"{zone} is not a zone of {region}: its {len(info.az_ids)} Availability Zones are named "
                f"{region}a..{region}{letters[-1]}")
    return None


def problems(region: str | None, network: NetworkSpec | None, cat: Catalog,
             path: str = "aidc:network") -> Iterator[Problem]:
    """The region at `aws:region`, then the network's zones in it. An unknown region stops
    there: its zones cannot be judged, and one error says what to fix."""
    if region is None:
        return
    if (why := unknown_region(region, cat)) is not None:
        yield Problem("aws:region", why)
        return
    info = cat.regions.regions[region]
    if network is None or not info.az_ids:
        return
    zones = network.availability_zones
    if isinstance(zones, int):
        if zones > len(info.az_ids):
            yield Problem(f"{path}.availabilityZones",
                          f"{region} has {len(info.az_ids)} Availability Zones, not {zones}")
        return
    for i, zone in enumerate(zones):
        if (why := zone_error(zone, region, cat)) is not None:
            yield Problem(f"{path}.availabilityZones[{i}]", why)
