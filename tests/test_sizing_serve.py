"""Serving sizing: weights, KV cache, tensor parallelism, replicas, decode bound, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aidc.errors import UserError
from aidc.sizing import ServeWorkload, kv_bytes_per_token, plan_serve
from aidc.sizing.serve import Architecture, tp_degrees
from components.catalog import catalog
from tests.sizing_fixtures import A100, H100

LLAMA_70B = Architecture(70_553_706_496, 80, 8, 128, 64, "Llama 3.1 70B")
GIB = 1 << 30


def test_kv_bytes_per_token_worked_examples():
    # 2 (K and V) x 80 layers x 8 KV heads x 128 dims x 2 bytes = 327,680 B = 320 KiB.
    assert kv_bytes_per_token(80, 8, 128, 2) == 327_680
    # Llama 3.1 8B: 2 x 32 x 8 x 128 x 2 = 128 KiB; GPT-3 (no GQA): 2 x 96 x 96 x 128 x 2 = 4.5 MiB.
    assert kv_bytes_per_token(32, 8, 128, 2) == 131_072
    assert kv_bytes_per_token(96, 96, 128, 2) == 4_718_592


def test_llama_70b_fp8_on_h100_worked_example():
    plan = plan_serve(ServeWorkload(LLAMA_70B, "fp8", 8192, 64), H100)
    # Weights 70.55e9 B = 65.71 GiB; vLLM takes 0.9 x 80 = 72 GiB/GPU, of which 8% x 80 = 6.4 GiB
    # go to activations and runtime; KV 320 KiB x 8192 = 2.5 GiB/seq.
    assert plan.weights_gib == pytest.approx(65.708, abs=0.001)
    assert plan.kv_gib_per_sequence == pytest.approx(2.5)
    assert plan.kv_cache_gib == pytest.approx(160.0)
    # TP1: 65.7 + 6.4 = 72.1 > 72, not even the weights and runtime. TP2: (144 - 65.7 - 12.8) / 2.5
    # = 26 seqs -> 3 replicas, 6 GPUs, one node. TP4 and TP8 also need one node: the smallest wins.
    assert plan.usable_gib_per_gpu == pytest.approx(80 * (0.90 - 0.08))
    assert [(o.tp, o.seqs_per_replica, o.replicas, o.nodes) for o in plan.options] == [
        (2, 26, 3, 1), (4, 64, 1, 1), (8, 64, 1, 1)]
    assert (plan.min_tensor_parallel, plan.tensor_parallel, plan.replicas, plan.gpus, plan.nodes) == (2, 2, 3, 6, 1)
    # Decode step per replica: (70.55e9 B + 64/3 seqs x 8192 x 327,680 B) / (2 x 3.35e12 B/s) = 19.08 ms.
    step = (70_553_706_496 + 64 / 3 * 8192 * 327_680) / (2 * 3350e9)
    assert plan.decode_tokens_per_s_per_seq == pytest.approx(1 / step)
    assert plan.decode_tokens_per_s == pytest.approx(64 / step)  # ~3,355 tokens/s
    assert plan.usd_per_month == pytest.approx(55.04 * 730)
    # Prefill of the 7,680-token prompt (512 output tokens by default): 2 x 70.55e9 x 7680 +
    # 2 x 80 layers x 8192 width x 7680^2 = 1.161e15 FLOPs at 0.4 x 2 x 1978.9 TFLOPS (fp8) = 0.733 s.
    prefill = (2 * 70_553_706_496 * 7680 + 2 * 80 * 8192 * 7680**2) / (0.4 * 2 * 1979e12)
    assert plan.prefill_seconds == pytest.approx(prefill)
    assert plan.prefill_seconds == pytest.approx(0.733, abs=0.001)
    # Throughput: each replica's 64/3 sequences prefill one after another, then share 512 steps at
    # the average context 7680 + 256.
    avg_step = (70_553_706_496 + 64 / 3 * 7936 * 327_680) / (2 * 3350e9)
    throughput = 3 * (64 / 3 * 512) / (64 / 3 * prefill + 512 * avg_step)
    assert plan.throughput_tokens_per_s == pytest.approx(throughput)
    assert plan.throughput_tokens_per_s < plan.decode_tokens_per_s / 2  # long prompts: prefill dominates
    assert plan.usd_per_million_tokens == pytest.approx(55.04 / (throughput * 3600) * 1e6)


def test_bf16_70b_needs_more_gpus_than_fp8():
    fp8 = plan_serve(ServeWorkload(LLAMA_70B, "fp8", 8192, 64), H100)
    bf16 = plan_serve(ServeWorkload(LLAMA_70B, "bf16", 8192, 64), H100)
    # 131.4 GiB of weights: TP2 (144 GiB less 12.8 runtime) cannot hold them; TP4 (288 - 25.6 -
    # 131.4 = 131.0 GiB) holds 52 sequences -> 2 replicas, 8 GPUs, one node.
    assert (bf16.min_tensor_parallel, bf16.tensor_parallel, bf16.replicas, bf16.nodes) == (4, 4, 2, 1)
    assert bf16.options[0].seqs_per_replica == 52
    assert bf16.gpus > fp8.gpus


def test_more_shards_than_kv_heads_replicate_them():
    two_kv = Architecture(7e9, 32, 2, 128, 32, "gqa-2")
    plan = plan_serve(ServeWorkload(two_kv, "bf16", 4096, 2000), H100)
    tp8 = next(o for o in plan.options if o.tp == 8)
    # At TP8 every shard keeps one KV head: 8 heads' worth per token, not 2. 0.5 GiB a sequence
    # in 8 x (72 - 6.4) GiB less 14e9 B of weights: 1,023 sequences (with 2 heads it would be 4,094).
    per_seq = kv_bytes_per_token(32, 8, 128, 2) * 4096
    assert per_seq == GIB / 2
    assert tp8.seqs_per_replica == int((8 * 65.6 * GIB - 14e9) // per_seq) == 1023


def test_tp_degrees_divide_heads_and_stay_in_a_node():
    assert tp_degrees(8, 64) == [1, 2, 4, 8]
    assert tp_degrees(8, 96) == [1, 2, 4, 8]
    assert tp_degrees(8, 12) == [1, 2, 4]
    assert tp_degrees(4, None) == [1, 2, 4]


def test_405b_bf16_does_not_fit_an_h100_node():
    arch = Architecture(405_853_388_800, 126, 8, 128, 128, "Llama 3.1 405B")
    with pytest.raises(UserError) as err:
        plan_serve(ServeWorkload(arch, "bf16", 8192, 8), H100, catalog())
    (problem,) = err.value.problems
    assert problem.path == "--instance-type"
    assert "756 GiB of weights" in problem.message
    # fp8 halves the weights (378 GiB) and fits.
    assert plan_serve(ServeWorkload(arch, "fp8", 8192, 8), H100).tensor_parallel == 8


@pytest.mark.parametrize("change, flag", [
    ({"precision": "int3"}, "--precision"),
    ({"kv_precision": "int4"}, "--kv-precision"),
    ({"context": 0}, "--context"),
    ({"concurrency": -4}, "--concurrency"),
    ({"gpu_memory_utilization": 0.99}, "--gpu-memory-utilization"),
    ({"gpu_memory_utilization": 0.04}, "--gpu-memory-utilization"),
])
def test_bad_serving_input_names_the_flag(change, flag):
    args = {"arch": LLAMA_70B, "precision": "fp8", "context": 8192, "concurrency": 64, **change}
    with pytest.raises(UserError) as err:
        plan_serve(ServeWorkload(**args), H100)
    assert flag in [p.path for p in err.value.problems]


def test_fp8_weights_need_fp8_tensor_cores():
    with pytest.raises(UserError) as err:
        plan_serve(ServeWorkload(LLAMA_70B, "fp8", 8192, 8), A100)
    assert [p.path for p in err.value.problems] == ["--precision"]
    assert plan_serve(ServeWorkload(LLAMA_70B, "int4", 8192, 8), A100).weights_gib == pytest.approx(32.85, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 2000))
def test_more_concurrency_never_fewer_gpus(c1, c2):
    lo, hi = sorted((c1, c2))
    a = plan_serve(ServeWorkload(LLAMA_70B, "fp8", 4096, lo), H100)
    b = plan_serve(ServeWorkload(LLAMA_70B, "fp8", 4096, hi), H100)
    assert b.nodes >= a.nodes
    assert b.kv_cache_gib >= a.kv_cache_gib


def test_gpu_choice_takes_the_cheapest_node_type():
    from aidc.sizing.serve import plan_serve_cheapest
    from tests.sizing_fixtures import hardware

    small = hardware("H100", "hopper", 80, 3350, {"bf16": 989, "fp8": 1979}, 1, 6.0)
    big = hardware("H100", "hopper", 80, 3350, {"bf16": 989, "fp8": 1979}, 8, 55.04)
    llama_8b = Architecture(8_030_261_248, 32, 8, 128, 32, "Llama 3.1 8B")
    work = ServeWorkload(llama_8b, "bf16", 8192, 64)
    # 8B bf16 on one 72 GiB GPU leaves room for 57 sequences: two 1-GPU nodes ($12/h) beat one
    # 8-GPU node ($55.04/h).
    plan = plan_serve_cheapest(work, [big, small])
    assert (plan.hardware is small, plan.nodes, plan.usd_per_month) == (True, 2, 12.0 * 730)
    # 70B bf16 does not fit one GPU: only the 8-GPU node can serve it.
    assert plan_serve_cheapest(ServeWorkload(LLAMA_70B, "bf16", 8192, 64), [small, big]).hardware is big


def test_reserved_cost_for_serving_is_the_one_year_rate_only():
    from tests.sizing_fixtures import hardware
    work = ServeWorkload(LLAMA_70B, "fp8", 8192, 64)  # one node (see the worked example above)
    assert plan_serve(work, H100).usd_per_month_reserved is None
    # A Capacity Block (at most 182 days) is no price for a service that runs all year.
    cb_only = hardware("H100", "hopper", 80, 3350, {"bf16": 989, "fp8": 1979}, 8, 55.04, capacity_block=30.0)
    assert plan_serve(work, cb_only).usd_per_month_reserved is None
    # 1-year rate $35/h: 1 node x 35 x 730 h = $25,550/month (on demand 55.04 x 730 = $40,179).
    yearly = hardware("H100", "hopper", 80, 3350, {"bf16": 989, "fp8": 1979}, 8, 55.04,
                      capacity_block=30.0, one_year=35.0)
    plan = plan_serve(work, yearly)
    assert (plan.usd_per_month_reserved, plan.reserved_basis) == (pytest.approx(25_550.0), "oneYear")
    assert plan.usd_per_month == pytest.approx(40_179.2)
    assert any("reserved: 1-year" in a and "$35.00/h" in a for a in plan.assumptions)


DEEPSEEK_V3 = Architecture.of_preset(catalog().models["deepseek-v3"])


def test_mla_kv_cache_is_the_latent_whole_on_every_shard():
    # 61 layers x (512 + 64) latent x 2 bytes = 70,272 B per token (DeepSeek's "70 KB per token"),
    # not 2 x 61 x 128 heads x 128 x 2 = 3.8 MiB; each of 8 TP shards keeps all of it.
    plan = plan_serve(ServeWorkload(DEEPSEEK_V3, "fp8", 8192, 32), _h200())
    assert plan.kv_bytes_per_token == 61 * 576 * 2
    assert plan.tensor_parallel == 8
    assert plan.kv_cache_gib == pytest.approx(32 * 8192 * 70_272 / GIB)
    from components.formulas import memory
    assert memory.replica_kv_bytes_per_token(memory.Attention(61, 128, 128, 576), 8) == 8 * 70_272


def test_moe_decode_reads_the_experts_the_batch_touches():
    a = DEEPSEEK_V3
    per_expert = (671e9 - 37e9) / 248
    shared = 37e9 - 8 * per_expert
    # One sequence: its 8 experts; 32 sequences: 256 x (1 - (1 - 8/256)^32) = 161.3 experts.
    assert a.step_weight_bytes(1, 1.0) == pytest.approx(37e9)
    assert a.step_weight_bytes(32, 1.0) == pytest.approx(shared + 256 * (1 - (248 / 256) ** 32) * per_expert)
    assert a.step_weight_bytes(10_000, 1.0) == pytest.approx(671e9, rel=1e-6)  # every expert
    dense = LLAMA_70B
    assert dense.step_weight_bytes(32, 2.0) == 2 * 70_553_706_496
    plan = plan_serve(ServeWorkload(a, "fp8", 8192, 32), _h200())
    assert plan.step_weights_gib == pytest.approx(a.step_weight_bytes(32, 1.0) / GIB)
    assert plan.step_weights_gib < 0.7 * plan.weights_gib


def test_prefill_uses_active_parameters_of_a_moe():
    from aidc.sizing.serve import prefill_flops
    assert prefill_flops(DEEPSEEK_V3, 1000) == pytest.approx(2 * 37e9 * 1000 + 2 * 61 * 20480 * 1000**2)


def test_405b_fits_8xh100_at_fp8_not_bf16():
    cat = catalog()
    arch = Architecture.of_preset(cat.models["llama-3.1-405b"])
    from aidc.sizing import resolve_hardware
    p5 = resolve_hardware(cat, "p5.48xlarge", None)
    with pytest.raises(UserError) as err:
        plan_serve(ServeWorkload(arch, "bf16", 8192, 1), p5, cat)
    assert "does not fit one node" in str(err.value)
    plan = plan_serve(ServeWorkload(arch, "fp8", 8192, 1), p5, cat)
    assert (plan.tensor_parallel, plan.nodes) == (8, 1)


def test_output_tokens_must_leave_a_prompt():
    with pytest.raises(UserError) as err:
        plan_serve(ServeWorkload(LLAMA_70B, "fp8", 4096, 1, output_tokens=4096), H100)
    assert err.value.problems[0].path == "--output-tokens"


def _h200():
    from aidc.sizing import resolve_hardware
    return resolve_hardware(catalog(), "p5en.48xlarge", None)
