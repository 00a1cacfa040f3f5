"""Data lint for the catalog: every entry parses, every pin is exact, every reference resolves."""

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from components.catalog import Catalog, CatalogError, catalog, version_tuple
from components.catalog.model import EXACT_VERSION

CATALOG_DIR = Path(__file__).resolve().parent.parent / "components" / "catalog"
REQUIRED = ["p6-b200.48xlarge", "p5en.48xlarge", "p5e.48xlarge", "p5.48xlarge", "p4de.24xlarge", "p4d.24xlarge"]
FLOATING = re.compile(r"(?i)\blatest\b|[\^~]\d|>=|<=|\.x\b|\.\*")


def test_catalog_loads():
    cat = catalog()
    assert cat.instances and cat.gpus and cat.recipe.charts


@pytest.mark.parametrize("path", sorted(CATALOG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_no_floating_versions_anywhere(path):
    for n, line in enumerate(path.read_text().splitlines(), 1):
        value = line.split("#", 1)[0]
        if "url:" in value or "note:" in value or "description:" in value:
            continue
        assert not FLOATING.search(value), f"{path.name}:{n}: floating version: {line.strip()}"


def test_every_shape_the_issue_names_is_there():
    names = set(catalog().instances)
    assert set(REQUIRED) <= names
    for family in ("g5", "g6", "g6e"):
        assert any(n.startswith(f"{family}.") for n in names), family


@pytest.mark.parametrize("instance,efa,gpus", [
    ("p5.48xlarge", 32, 8), ("p5e.48xlarge", 32, 8), ("p5en.48xlarge", 16, 8),
    ("p6-b200.48xlarge", 8, 8), ("p4d.24xlarge", 4, 8), ("p4de.24xlarge", 4, 8),
])
def test_fabric_facts(instance, efa, gpus):
    inst = catalog().instance(instance)
    assert inst.efa_interfaces == efa
    assert inst.gpu_count == gpus
    assert inst.gpudirect_rdma


def test_capacity_block_only_types():
    assert catalog().instance("p5e.48xlarge").capacity_block_only
    assert not catalog().instance("p5.48xlarge").capacity_block_only


def test_every_price_has_a_source_and_a_date():
    today = dt.date.today()
    for name, inst in catalog().ec2_types.items():
        assert inst.price is not None, name
        src = inst.price.source
        assert src.url.startswith("https://"), name
        assert src.date <= today, name
        # us-east-1 on demand, except a Capacity-Block-only type's block rate (p5e: us-east-2)
        assert inst.price.region == ("us-east-2" if inst.capacity_block_only else "us-east-1"), name
    for region, table in catalog().prices.regions.items():
        assert table.source.url.startswith("https://") and table.source.date <= today, region
        if table.instances:
            assert table.instances_source.url.startswith("https://"), region
        if table.capacity_blocks is not None:
            assert table.capacity_blocks.source.date <= today, region


def test_regional_tables_cover_the_gpu_regions_and_never_repeat_a_type_price():
    prices = catalog().prices
    assert {"us-east-1", "us-east-2", "us-west-2"} <= set(prices.regions)
    assert len([r for r in prices.regions if not r.startswith("us-")]) >= 2
    for region, table in prices.regions.items():
        assert region in catalog().regions.regions, region
        for itype in table.instances:
            inst = catalog().instances.get(itype)
            # one place per fact: a GPU type's reference rate is in instances.yaml, not here too
            assert inst is None or inst.price is None or inst.price.region != region, (region, itype)


def test_capacity_block_only_type_price_is_its_block_rate():
    p5e = catalog().instances["p5e.48xlarge"]
    cb = catalog().prices.regions[p5e.price.region].capacity_blocks
    assert cb.usd_per_hour["p5e.48xlarge"] == p5e.price.on_demand_usd_per_hour


def test_sizing_block_rates_come_from_the_regional_tables():
    inst = catalog().instances
    assert (inst["p5.48xlarge"].price.capacity_block.usd_per_hour, inst["p5.48xlarge"].price.capacity_block.region) \
        == (39.33, "us-east-1")
    assert inst["p4d.24xlarge"].price.capacity_block.region == "us-east-2"  # us-east-1 sells no p4d blocks


def test_every_optional_rate_is_sourced_dated_and_below_on_demand():
    today = dt.date.today()
    found = 0
    for name, inst in catalog().ec2_types.items():
        price = inst.price
        for kind, rate in (("capacityBlock", price.capacity_block), ("oneYear", price.one_year)):
            if rate is None:
                continue
            found += 1
            assert rate.source.url.startswith("https://"), (name, kind)
            assert rate.source.date <= today, (name, kind)
            assert rate.source.note, (name, kind)  # how it was read, and "not verified" where it was not
            assert rate.region.startswith(("us-", "eu-", "ap-", "ca-", "sa-", "me-", "af-", "il-", "mx-")), (name, kind)
            # A commitment that costs more than on demand is a typo (or a stale figure).
            assert 0 < rate.usd_per_hour < price.on_demand_usd_per_hour, (name, kind)
    assert found, "the catalog carries no Capacity Block or 1-year rate at all"


def test_every_gpu_referenced_exists_and_has_power():
    cat = catalog()
    for inst in cat.instances.values():
        gpu = cat.gpus[inst.gpu]
        assert gpu.board_power_w > 0 and gpu.memory_gib > 0 and gpu.dense_tflops["bf16"] > 0


def test_charts_are_exactly_pinned_in_their_own_namespace():
    for key, chart in catalog().recipe.charts.items():
        assert EXACT_VERSION.match(chart.version), key
        assert chart.repository.startswith(("https://", "oci://")), key
        assert chart.namespace, key


def test_images_have_exact_tags():
    for name, ref in catalog().recipe.images.items():
        tag = ref.rsplit(":", 1)[1]
        assert tag != "latest" and re.search(r"\d", tag), name


def test_addons_and_amis_pinned_for_every_kubernetes_version():
    recipe = catalog().recipe
    assert recipe.default_kubernetes_version in recipe.kubernetes_versions
    for version, kv in recipe.kubernetes_versions.items():
        assert kv.standard_support_end < kv.extended_support_end
        for addon in ("vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"):
            assert EXACT_VERSION.match(kv.addons[addon].version), (version, addon)
        for fam, ami in recipe.amis.items():
            assert ami.release_versions[version].startswith(version) or ami.os == "bottlerocket", (fam, version)


def test_constraints_reference_known_charts():
    recipe = catalog().recipe
    for c in recipe.constraints:
        for dep, floor in c.require.items():
            assert dep == "kubernetes" or dep in recipe.charts
            version_tuple(floor)


def test_broken_references_are_caught():
    cat = catalog()
    bad = dict(cat.instances)
    name = next(iter(bad))
    bad[name] = bad[name].model_copy(update={"gpu": "Z100"})
    with pytest.raises(CatalogError, match="unknown GPU 'Z100'"):
        Catalog(cat.gpus, bad, cat.recipe, cat.prices, {})


def test_version_tuple():
    assert version_tuple("v1.19.5-eksbuild.1") == (1, 19, 5)
    assert version_tuple("25.3.4") == (25, 3, 4)


def test_yaml_files_are_plain_data():
    for path in CATALOG_DIR.glob("*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text()), dict), path.name
