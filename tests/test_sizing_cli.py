"""`aidc size`: exit codes, --json keys, and stack fragments that load as a stack."""

from __future__ import annotations

import json

import pytest
import yaml

from aidc.cli import main
from components.spec import load_spec

TRAIN = ["size", "train", "--params", "70e9", "--tokens", "2e12", "--instance-type", "p5.48xlarge"]
SERVE = ["size", "serve", "--preset", "llama-3.1-70b", "--precision", "fp8", "--context", "8192",
         "--concurrency", "64", "--instance-type", "p5.48xlarge"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_has_the_contract_keys(capsys):
    code, out, _ = run(capsys, *TRAIN, "--days", "30", "--json")
    assert code == 0
    doc = json.loads(out)
    for key in ("gpus", "nodes", "days", "gpuHours", "instanceType", "checkpointGiB", "costUsd"):
        assert key in doc
    assert doc["instanceType"] == "p5.48xlarge"
    assert doc["nodes"] * 8 == doc["gpus"] and doc["days"] <= 30
    assert doc["lustre"]["writeSeconds"] <= doc["lustre"]["maxWriteSeconds"] == 300
    assert doc["assumptions"]


def test_serve_json_has_the_contract_keys(capsys):
    code, out, _ = run(capsys, *SERVE, "--json")
    assert code == 0
    doc = json.loads(out)
    assert {k: doc[k] for k in ("tensorParallel", "replicas", "gpus", "kvCacheGiB")} == {
        "tensorParallel": 2, "replicas": 3, "gpus": 6, "kvCacheGiB": 160.0}
    assert doc["costUsd"] > 0 and doc["costPeriod"] == "month"


def test_human_output_states_assumptions(capsys):
    code, out, _ = run(capsys, *TRAIN, "--gpus", "1024")
    assert code == 0 and "assumptions:" in out and "MFU" in out
    code, out, _ = run(capsys, *SERVE)
    assert code == 0 and "tensor-parallel 2" in out and "assumptions:" in out


def _stack_with(fragment: str) -> dict:
    config = {"aws:region": "us-east-1", "aidc:environment": "staging"}
    config.update(yaml.safe_load(fragment))
    return config


def test_train_fragment_loads_as_a_stack(capsys):
    code, out, _ = run(capsys, *TRAIN, "--days", "30", "--emit-stack")
    assert code == 0
    spec = load_spec(_stack_with(out))
    (pool,) = spec.gpu_pools
    assert (pool.instance_type, pool.purpose, pool.efa) == ("p5.48xlarge", "training", True)
    assert pool.size.min == pool.size.max == json.loads(run(capsys, *TRAIN, "--days", "30", "--json")[1])["nodes"]
    planned = json.loads(run(capsys, *TRAIN, "--days", "30", "--json")[1])["lustre"]
    lustre = spec.storage.lustre  # the stack builds exactly the file system the planner chose
    assert (lustre.capacity_gib, lustre.throughput_per_tib) == (planned["capacityGiB"], planned["tierMBpsPerTiB"])


def test_serve_fragment_on_a_capacity_block_loads(capsys):
    code, out, _ = run(capsys, *SERVE, "--emit-stack", "--capacity", "capacityBlock",
                       "--reservation-id", "cr-0abc1234def567890", "--zone", "us-east-1a", "--pool-name", "infer-70b",
                       "--model-source", "hub:meta-llama/Llama-3.1-70B-Instruct", "--service-name", "llama-70b")
    assert code == 0
    spec = load_spec(_stack_with(out))
    (pool,) = spec.gpu_pools
    assert (pool.name, pool.capacity.type, pool.purpose, pool.size.max) == ("infer-70b", "capacityBlock", "inference", 1)
    # The service the plan sized (TP2, 3 replicas of 26 sequences) on that pool.
    (svc,) = spec.inference.services
    assert (svc.name, svc.pool, svc.tensor_parallel, svc.min_replicas, svc.max_replicas, svc.max_num_seqs,
            svc.max_model_len) == ("llama-70b", "infer-70b", 2, 3, 3, 26, 8192)


def test_serve_fragment_defaults_to_the_models_bucket(capsys):
    code, out, _ = run(capsys, *SERVE, "--emit-stack")
    assert code == 0
    (svc,) = yaml.safe_load(out)["aidc:inference"]["services"]
    assert (svc["name"], svc["model"]["bucket"]) == ("llama-3-1-70b", "llama-3.1-70b")
    assert "from llama-3.1-70b/ in the models bucket" in out
    config = _stack_with(out) | {"aidc:storage": {"modelNamespaces": ["inference"]}}
    assert load_spec(config).inference.services[0].model.bucket == "llama-3.1-70b"


@pytest.mark.parametrize("argv, flag", [
    ([*TRAIN, "--gpus", "64", "--days", "30"], "--days"),
    ([*TRAIN], "--gpus"),
    (["size", "train", "--params", "0", "--tokens", "2e12", "--instance-type", "p5.48xlarge", "--gpus", "8"], "--params"),
    (["size", "train", "--params", "7e9", "--tokens", "-5", "--instance-type", "p5.48xlarge", "--gpus", "8"], "--tokens"),
    (["size", "train", "--params", "7e9", "--tokens", "1e12", "--instance-type", "p9.huge", "--gpus", "8"],
     "--instance-type"),
    (["size", "train", "--params", "7e9", "--tokens", "1e12", "--gpu", "Z900", "--gpus", "8"], "--gpu"),
    (["size", "train", "--preset", "llama-9", "--tokens", "1e12", "--instance-type", "p5.48xlarge", "--gpus", "8"],
     "--preset"),
    (["size", "serve", "--preset", "llama-3.1-405b", "--precision", "bf16", "--context", "8192",
      "--concurrency", "8", "--instance-type", "p5.48xlarge"], "--instance-type"),
    ([*SERVE, "--params", "7e9"], "--params"),
    (["size", "serve", "--params", "7e9", "--context", "4096", "--concurrency", "8",
      "--instance-type", "p5.48xlarge"], "--layers"),
    ([*SERVE, "--emit-stack", "--capacity", "capacityBlock"], "--reservation-id"),
    ([*SERVE, "--emit-stack", "--capacity", "capacityBlock", "--reservation-id", "cr-0abc1234def567890"], "--zone"),
    ([*SERVE, "--emit-stack", "--json"], "--emit-stack"),
])
def test_bad_input_exits_2_naming_the_flag(capsys, argv, flag):
    full = [*argv, "--json"] if "--emit-stack" not in argv else argv
    code, out, err = run(capsys, *full)
    assert code == 2
    assert "Traceback" not in err
    if "--json" in full:
        assert flag in [p["path"] for p in json.loads(err)["problems"]]
    else:
        assert f"  {flag}: " in err


def test_unparsable_number_exits_2(capsys):
    code, _, err = run(capsys, "size", "train", "--params", "seventy", "--tokens", "2e12", "--gpus", "8",
                       "--instance-type", "p5.48xlarge")
    assert code == 2 and "seventy" in err and "Traceback" not in err


def test_gpu_name_picks_a_node_carrying_it(capsys):
    code, out, _ = run(capsys, "size", "train", "--preset", "llama-3.1-8b", "--tokens", "1e12", "--gpu", "H200",
                       "--gpus", "64", "--json")
    assert code == 0
    # H200 comes on p5en (on demand) and p5e (Capacity Blocks only): the one you can buy wins.
    assert json.loads(out)["instanceType"] == "p5en.48xlarge"
    code, out, _ = run(capsys, "size", "serve", "--preset", "llama-3.1-8b", "--context", "8192",
                       "--concurrency", "32", "--gpu", "L4", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["instanceType"].startswith("g6.") and doc["gpu"] == "NVIDIA L4"


def test_reserved_figures_follow_the_catalog(capsys):
    from components.catalog import catalog
    price = catalog().instances["p5.48xlarge"].price
    code, out, _ = run(capsys, *TRAIN, "--days", "30", "--json")
    doc = json.loads(out)
    committed = price.capacity_block or price.one_year
    if committed is None:
        assert doc["costUsdReserved"] is None and doc["costReservedBasis"] is None
    else:
        # Same nodes and hours as on demand, at the committed rate.
        assert doc["costUsdReserved"] == pytest.approx(
            doc["costUsd"] * committed.usd_per_hour / price.on_demand_usd_per_hour, rel=1e-4)
        assert doc["costReservedBasis"] == ("capacityBlock" if price.capacity_block else "oneYear")
        code, text, _ = run(capsys, *TRAIN, "--days", "30")
        assert f"${doc['costUsdReserved']:,} reserved (" in text
    code, out, _ = run(capsys, *SERVE, "--json")
    doc = json.loads(out)
    assert (doc["costUsdReserved"] is None) == (price.one_year is None)


def test_train_plot_writes_a_png_of_days_and_cost(capsys, tmp_path):
    from PIL import Image

    path = tmp_path / "plan.png"
    code, out, _ = run(capsys, "size", "train", "--preset", "llama-3.1-70b", "--tokens", "15.6e12",
                       "--instance-type", "p5.48xlarge", "--days", "60", "--plot", str(path), "--json")
    assert code == 0 and json.loads(out)["gpus"] > 0
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (800, 800)
        # Not blank: the curves and bands put many colours on the page.
        assert len(img.convert("RGB").getcolors(1 << 20)) > 50


def test_train_plot_unwritable_path_is_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, *TRAIN, "--gpus", "1024", "--plot", str(tmp_path / "missing" / "x.png"))
    assert code == 2 and "--plot" in err


def test_train_sweep_days_fall_and_cost_rises_with_gpus():
    from aidc.sizing import TrainWorkload, plan_train, resolve_hardware
    from aidc.sizing.plot import sweep
    from components.catalog import catalog
    cat = catalog()
    plan = plan_train(TrainWorkload(70e9, 2e12, gpus=1024), resolve_hardware(cat, "p5.48xlarge", None), cat)
    plans = sweep(plan, cat)
    assert [p.gpus for p in plans] == sorted({p.gpus for p in plans}) and plan.gpus in [p.gpus for p in plans]
    assert all(a.days > b.days and a.cost_usd <= b.cost_usd for a, b in zip(plans, plans[1:], strict=False))


def test_moe_size_without_active_params_is_an_error(capsys):
    code, _, err = run(capsys, "size", "train", "--params", "671e9", "--tokens", "14.8e12", "--gpu", "H100",
                       "--gpus", "2048")
    assert code == 2 and "--active-params" in err and "deepseek-v3" in err


def test_deepseek_v3_is_sized_on_its_active_parameters(capsys):
    code, out, _ = run(capsys, "size", "train", "--preset", "deepseek-v3", "--tokens", "14.8e12",
                       "--instance-type", "p5.48xlarge", "--gpus", "2048", "--precision", "fp8", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["activeParams"] == 37e9 and doc["seqLen"] == 4096
    # (6 x 37e9 + 12 x 61 x 20480 x 4096) x 14.8e12: the published run's 2.664M H800-hours, which
    # is a calibration point; on all 671B it would be ~15x that.
    assert doc["trainingFlops"] == pytest.approx((6 * 37e9 + 12 * 61 * 20480 * 4096) * 14.8e12)
    assert doc["gpuHours"] == pytest.approx(2.664e6, rel=0.01)
    low, high = doc["gpuHoursRange"]
    assert low < doc["gpuHours"] < high


def test_attention_flops_follow_seq_len(capsys):
    base = ["size", "train", "--preset", "llama-3.1-8b", "--tokens", "1e12", "--instance-type", "p5.48xlarge",
            "--gpus", "64", "--json"]
    _, out, _ = run(capsys, *base)
    _, out32k, _ = run(capsys, *base, "--seq-len", "32768")
    short, long = json.loads(out), json.loads(out32k)
    assert short["seqLen"] == 8192  # the preset's pre-training length
    # 12 x 32 x 4096 x 8192 / (6 x 8.03e9 + that) = 21% at 8K; 52% at 32K.
    assert short["attentionShare"] == pytest.approx(12 * 32 * 4096 * 8192 / (6 * 8030261248 + 12 * 32 * 4096 * 8192),
                                                    abs=1e-4)
    assert long["attentionShare"] > 0.5 and long["gpuHours"] > short["gpuHours"] * 1.6


def test_deepseek_v3_serving_fragment_loads_with_its_latent_kv(capsys):
    code, out, _ = run(capsys, "size", "serve", "--preset", "deepseek-v3", "--precision", "fp8", "--context",
                       "32768", "--concurrency", "16", "--instance-type", "p5en.48xlarge", "--emit-stack")
    assert code == 0
    (svc,) = yaml.safe_load(out)["aidc:inference"]["services"]
    assert svc["model"]["architecture"] == {"layers": 61, "kvHeads": 128, "headDim": 128, "kvLatentDim": 576}
    config = _stack_with(out) | {"aidc:storage": {"modelNamespaces": ["inference"]}}
    loaded = load_spec(config).inference.services[0]
    assert loaded.tensor_parallel == 8 and loaded.model.architecture.kv_latent_dim == 576
