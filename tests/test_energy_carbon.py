"""Energy and carbon: grid intensity per Region and embodied emissions as catalog data, carbon in
`aidc cost` and in the PR comment, the site's own PUE and intensity, the rack plan and its
refusals, the energy recording rules, and sizing's energy and carbon Region by Region."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import pytest
import yaml

from aidc.carbon import footprint
from aidc.cli import main
from aidc.cost import HOURS_PER_MONTH, estimate
from aidc.diff import diff_plans
from components.catalog import catalog
from components.formulas.energy import kg_co2e, node_kw, racks, servers_per_rack
from components.observability.energy_rules import MJ_PER_KWH, energy_rules
from components.spec import SpecError, load_spec  # noqa: F401
from components.spec.site import SiteSpec, problems

from .conftest import ROOT
from .test_observability import parse

# prod's 140 GPUs at the expected size: 16 x 8 H100 (700 W) and 3 x 4 L40S (350 W), full board power
PROD_KWH = (128 * 700 + 12 * 350) * 1.5 * 1.15 / 1000 * HOURS_PER_MONTH


def _stack_copy(tmp_path, stack: str, edit) -> str:
    doc = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    edit(doc["config"])
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


# ---------------------------------------------------------------- catalog

def test_grid_intensity_is_cloud_carbon_footprints_figure_for_known_regions():
    e = catalog().energy
    # CCF release-2024-02-11: us-east-1 -> NERC SERC 0.000379069 t/kWh; eu-north-1 0.0000088
    assert e.grid_g_per_kwh("us-east-1") == 379.069
    assert e.grid_g_per_kwh("eu-north-1") == 8.8
    assert e.grid_g_per_kwh("ap-south-2") is None  # no figure: a named gap, never an average
    assert set(e.grid.g_per_kwh) <= set(catalog().regions.regions)
    assert e.grid.source.tag == "release-2024-02-11"


def test_embodied_share_of_a_host_per_hour():
    e = catalog().energy
    assert e.embodied_kg_per_hour("p4d", 96) == pytest.approx(4675.5184 / 35040)
    assert e.embodied_kg_per_hour("g5", 48) == pytest.approx(3434 / 35040 * 48 / 192)
    assert e.embodied_kg_per_hour("p5", 192) is None


def test_server_shapes_carry_vendor_power_and_cooling():
    servers = catalog().servers
    assert (servers["dgx-h100"].max_power_kw, servers["dgx-h100"].cooling) == (10.2, "air")
    assert servers["dgx-a100-640gb"].max_power_kw == 6.5
    assert servers["l40s-pcie-8gpu"].max_power_kw is None  # no vendor figure read


# ---------------------------------------------------------------- aidc cost

def test_prod_cost_shows_its_regions_carbon_with_the_source(plan_of, capsys):
    assert main(["cost", "prod", "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["carbon"]
    assert c["kwhPerMonth"] == pytest.approx(PROD_KWH, abs=0.1)
    assert c["gCo2ePerKwh"] == 379.069
    assert c["kgCo2ePerMonth"] == pytest.approx(PROD_KWH * 0.379069, abs=0.1) == pytest.approx(44774.8, abs=0.1)
    assert c["kgCo2ePerGpuHour"] == pytest.approx(44774.8 / (140 * 730), abs=1e-4)
    assert "Cloud Carbon Footprint release-2024-02-11" in c["intensitySource"]
    assert c["embodiedGaps"] == ["g6e.12xlarge", "p5.48xlarge"]
    assert main(["cost", "prod"]) == 0
    assert "carbon: 44,774.8 kgCO2e/month operational" in capsys.readouterr().out


def test_the_same_stack_in_another_region_shows_that_regions_figure(tmp_path, capsys):
    def move(cfg):
        cfg["aws:region"] = "eu-north-1"
        text = json.dumps(cfg).replace("us-east-1", "eu-north-1")
        cfg.clear()
        cfg.update(json.loads(text))
    assert main(["cost", _stack_copy(tmp_path, "prod", move), "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["carbon"]
    assert c["gCo2ePerKwh"] == 8.8
    assert c["kgCo2ePerMonth"] == pytest.approx(PROD_KWH * 0.0088, abs=0.1)
    assert c["intensitySource"].startswith("eu-north-1 grid")


def test_embodied_emissions_of_a_g5_pool_and_the_gaps(tmp_path, capsys):
    path = _stack_copy(tmp_path, "staging", lambda c: c["aidc:gpuPools"][0].update(instanceType="g5.48xlarge"))
    assert main(["cost", path, "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["carbon"]
    # one g5.48xlarge (the whole 192-vCPU host) at its desired size: 3,434 kg over 35,040 h, x 730 h
    assert c["embodiedKgCo2ePerMonth"] == pytest.approx(3434 / 35040 * 730, abs=0.05) == pytest.approx(71.5, abs=0.05)
    assert c["embodiedGaps"] == []
    assert c["totalKgCo2ePerMonth"] == pytest.approx(c["kgCo2ePerMonth"] + 71.5, abs=0.1)
    assert main(["cost", "staging", "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["carbon"]
    assert (c["embodiedKgCo2ePerMonth"], c["embodiedGaps"]) == (0.0, ["g6e.12xlarge"])


def test_the_sites_pue_and_intensity_replace_the_clouds(plan_of):
    est = estimate(plan_of("onprem"))
    assert est.power_kw == pytest.approx(node_kw(32, 700, 1.5, 1.4))  # aidc:site.pue 1.4
    c = footprint(est, plan_of("onprem").config)
    assert c.intensity.g_per_kwh == 350 and c.intensity.source.startswith("aidc:site.carbonGPerKwh")
    assert c.kg_per_month == pytest.approx(kg_co2e(47.04 * 730, 350), abs=0.1)
    assert c.embodied_gaps == ["dgx-h100"]


def test_an_explicit_cost_pue_wins_over_the_sites(plan_of):
    plan = plan_of("onprem")
    config = {**plan.config, "aidc:cost": {"pue": 1.1}}
    est = estimate(dataclasses.replace(plan, config=config))
    assert est.power_kw == pytest.approx(node_kw(32, 700, 1.5, 1.1))


# ---------------------------------------------------------------- the PR comment

def test_diff_shows_the_carbon_delta_of_two_more_nodes(tmp_path, planned):
    from aidc.engine import plan_stack
    base = planned("prod").plan
    head = plan_stack(_stack_copy(tmp_path, "prod", lambda c: c["aidc:gpuPools"][0]["size"].update(min=18, max=18))).plan
    report = diff_plans(base, head, evaluator=None)
    two_nodes = kg_co2e(2 * node_kw(8, 700, 1.5, 1.15) * HOURS_PER_MONTH, 379.069)
    assert report.cost.kg_delta == pytest.approx(two_nodes, abs=0.1) == pytest.approx(5346.2, abs=0.1)
    from aidc.diff.markdown import summary
    assert "carbon 44,775 → 50,121 kgCO2e/month (+5,346)" in summary(report)


# ---------------------------------------------------------------- facility

def test_onprem_plan_prints_racks_and_power_per_rack(capsys):
    assert main(["plan", "onprem"]) == 0
    out = capsys.readouterr().out
    assert "site: 25 kW per rack, air cooling, PUE 1.4" in out
    # 25 kW holds 2 x 10.2 kW: 4 servers -> 2 racks at 20.4 kW; 4 x 10.2 x 1.4 = 57.1 kW with PUE
    assert "dc1-h100: 4 x dgx-h100 at 10.2 kW max -> 2 rack(s) of 2 (20.4 kW per rack, air-cooled); 57.1 kW" in out


def test_a_rack_budget_below_one_dgx_exits_2_naming_the_rack_power(tmp_path, capsys):
    path = _stack_copy(tmp_path, "onprem", lambda c: c["aidc:site"].update(rackPowerKw=8))
    assert main(["plan", path]) == 2
    err = capsys.readouterr().err
    assert "aidc:site.rackPowerKw: 8 kW per rack cannot power one dgx-h100 (10.2 kW maximum draw each" in err
    assert "pool dc1-h100 needs a larger aidc:site.rackPowerKw" in err


def test_rack_arithmetic():
    assert servers_per_rack(25, 10.2) == 2 and servers_per_rack(20.4, 10.2) == 2 and servers_per_rack(10.1, 10.2) == 0
    assert racks(4, 2) == 2 and racks(5, 2) == 3 and racks(4, 0) == 0


def test_a_liquid_cooled_shape_on_an_air_cooled_site_is_refused():
    liquid = SimpleNamespace(existing=True, instance_type="gb200-nvl72", name="nvl",
                             instance=SimpleNamespace(cooling="liquid", max_power_kw=132.0))
    site = SiteSpec(rack_power_kw=140, cooling="air")
    (p,) = problems(site, {"nvl": liquid}, {"nvl": 0})
    assert p.path == "aidc:gpuPools[0].instanceType" and "needs liquid cooling" in p.message
    assert not list(problems(site.model_copy(update={"cooling": "liquid"}), {"nvl": liquid}, {"nvl": 0}))


def test_site_keys_are_checked_with_their_path():
    base = yaml.safe_load((ROOT / "stacks" / "Pulumi.onprem.yaml").read_text())["config"]
    with pytest.raises(SpecError) as err:
        load_spec({**base, "aidc:site": {"rackPowerKw": -1, "cooling": "water"}})
    found = {p.path: p.message for p in err.value.problems if p.path.startswith("aidc:site")}
    assert found == {"aidc:site.rackPowerKw": "-1 is out of range: must be above 0",
                     "aidc:site.cooling": "'water' is not one of: air or liquid"}


# ---------------------------------------------------------------- recording rules

def _energy_rules(plan):
    (obj,) = [r.inputs for r in plan.resources if r.type.endswith("PrometheusRule")
              and r.inputs["metadata"]["name"] == "aidc-energy"]
    return {r["record"]: r for g in obj["spec"]["groups"] for r in g["rules"]}


def test_prod_records_energy_per_namespace_job_and_model_server(plan_of):
    rules = _energy_rules(plan_of("prod"))
    ns = rules["aidc:namespace_gpu_energy_kwh:increase1d"]["expr"]
    assert ns == ('sum by (namespace) (increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{pod!=""}[1d]) / 3.6e+09)')
    assert MJ_PER_KWH == 3.6e9  # the counter is in mJ: 1 kWh = 3.6e6 J
    assert 'kube_pod_owner{owner_kind="Job"}' in rules["aidc:job_gpu_energy_kwh:increase1d"]["expr"]
    assert 'namespace="inference"' in rules["aidc:model_server_gpu_energy_kwh:increase1d"]["expr"]
    assert rules["aidc:namespace_facility_energy_kwh:increase1d"]["expr"].endswith("* 1.725")  # 1.5 x PUE 1.15
    assert rules["aidc:namespace_carbon_kg:increase1d"]["expr"].endswith("* 0.379069")
    for r in rules.values():
        parse(r["expr"])


def test_the_energy_counter_is_collected_and_known_to_the_exporter():
    from components.observability.values import dcgm_fields
    assert "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" in dcgm_fields()
    assert catalog().dcgm_fields.fields["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] == 156


def test_onprem_rules_use_the_sites_pue_and_intensity(plan_of):
    rules = _energy_rules(plan_of("onprem"))
    assert rules["aidc:job_facility_energy_kwh:increase1d"]["expr"].endswith("* 2.1")  # 1.5 x 1.4
    assert rules["aidc:job_carbon_kg:increase1d"]["expr"].endswith("* 0.35")


def test_no_carbon_rules_without_an_intensity():
    names = {r["record"] for r in energy_rules("inference", 1.5, 1.3, None)}
    assert "aidc:namespace_facility_energy_kwh:increase1d" in names
    assert not [n for n in names if "carbon" in n]


# ---------------------------------------------------------------- sizing

def test_size_train_prints_energy_and_carbon_region_by_region(capsys):
    args = ["size", "train", "--preset", "llama-3.1-70b", "--tokens", "15e12", "--gpus", "1024",
            "--instance-type", "p5.48xlarge", "--region", "us-east-1", "--region", "eu-north-1"]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    e = doc["energy"]
    hours = doc["days"] * 24
    assert e["nodes"] == 128 and e["nodeKw"] == pytest.approx(9.66)
    assert e["mwh"] == pytest.approx(128 * 9.66 * e["hours"] / 1000, rel=1e-5)
    assert e["hours"] == pytest.approx(hours, abs=0.5)
    us, eu = e["carbon"]
    assert (us["region"], eu["region"]) == ("us-east-1", "eu-north-1")
    assert us["tCo2e"] == pytest.approx(e["mwh"] * 0.379069, abs=1e-3)
    assert eu["tCo2e"] == pytest.approx(e["mwh"] * 0.0088, abs=1e-3)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "  energy      " in out and "MWh for the run" in out and "eu-north-1" in out


def test_size_serve_gives_a_month_of_energy_and_refuses_an_unknown_region(capsys):
    args = ["size", "serve", "--preset", "llama-3.1-70b", "--context", "8192", "--concurrency", "64",
            "--instance-type", "p5.48xlarge"]
    assert main([*args, "--json"]) == 0
    e = json.loads(capsys.readouterr().out)["energy"]
    assert e["hours"] == HOURS_PER_MONTH and e["carbon"][0]["region"] == "us-east-1"
    assert main([*args, "--region", "mars-1"]) == 2
    assert "--region: 'mars-1' is not an AWS Region" in capsys.readouterr().err


def test_size_plans_the_gpus_as_racks_of_the_sites_servers_and_refuses_a_small_rack(capsys):
    args = ["size", "train", "--preset", "llama-3.1-70b", "--tokens", "15e12", "--gpus", "1024",
            "--instance-type", "p5.48xlarge"]
    assert main([*args, "--rack-power-kw", "25", "--cooling", "air", "--json"]) == 0
    racks_doc = json.loads(capsys.readouterr().out)["racks"]
    # 1,024 H100 -> 128 DGX H100 at 10.2 kW; 25 kW holds 2 -> 64 racks at 20.4 kW
    assert racks_doc == {"serverShape": "dgx-h100", "servers": 128, "serverMaxKw": 10.2, "serversPerRack": 2,
                         "racks": 64, "rackPowerKw": 25, "kwPerRack": 20.4, "cooling": "air"}
    assert main([*args, "--rack-power-kw", "8", "--cooling", "air"]) == 2
    assert "--rack-power-kw: 8 kW per rack cannot power one dgx-h100 (10.2 kW" in capsys.readouterr().err
    serve = ["size", "serve", "--preset", "llama-3.1-8b", "--context", "8192", "--concurrency", "16",
             "--instance-type", "g6e.12xlarge", "--rack-power-kw", "20"]
    assert main(serve) == 2  # L40S: the catalog's server shape has no vendor power figure
    assert "no on-prem server shape in the catalog with a vendor power figure carries" in capsys.readouterr().err
