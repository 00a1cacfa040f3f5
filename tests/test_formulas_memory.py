"""components.formulas.memory: the one memory-fit rule, with hand-computed figures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.formulas.memory import (
    GIB,
    Attention,
    kv_bytes_per_token,
    max_sequences,
    memory_fit,
    min_tensor_parallel,
    replica_kv_bytes_per_token,
    weight_bytes,
)

LLAMA_70B = Attention(layers=80, kv_heads=8, head_dim=128)
H100 = {"gpu_memory_gib": 80, "gpu_memory_utilization": 0.90}


def test_weights_at_each_precision():
    # 70e9 parameters x 1 byte = 70e9 B = 65.19 GiB; x 2 = 130.39 GiB; x 0.5 = 32.60 GiB.
    assert weight_bytes(70, "fp8") / GIB == pytest.approx(65.19, abs=0.005)
    assert weight_bytes(70, "int8") == weight_bytes(70, "fp8") == 70e9
    assert weight_bytes(70, "bf16") / GIB == pytest.approx(130.39, abs=0.005)
    assert weight_bytes(70, "fp16") == 140e9
    assert weight_bytes(70, "int4") / GIB == pytest.approx(32.60, abs=0.005)


def test_kv_per_token_and_its_replication_across_shards():
    assert kv_bytes_per_token(80, 8, 128, 2) == 327_680  # 2 x 80 x 8 x 128 x 2 = 320 KiB
    gqa2 = Attention(layers=32, kv_heads=2, head_dim=128)
    # TP2: each shard holds one of the 2 heads: 2 x 32 x 2 x 128 x 2 = 32 KiB per token in all.
    assert replica_kv_bytes_per_token(gqa2, 2) == 32_768
    # TP8: 8 shards, each keeps a (replicated) head: 4x the bytes.
    assert replica_kv_bytes_per_token(gqa2, 8) == 131_072
    assert replica_kv_bytes_per_token(gqa2, 8, "fp8") == 65_536


def test_70b_fp8_on_one_80_gib_gpu_does_not_fit():
    # Weights 65.19 + KV 2.5 (8192 tokens x 320 KiB) + runtime 8% x 80 = 6.4 -> 74.09 GiB;
    # vLLM may take 0.9 x 80 = 72.
    fit = memory_fit(params_b=70, precision="fp8", tensor_parallel=1, attention=LLAMA_70B, context=8192, **H100)
    assert (fit.gpus, fit.kv_exact) == (1, True)
    assert (round(fit.weights_gib, 2), fit.kv_gib, fit.runtime_gib, fit.budget_gib) == (65.19, 2.5, 6.4, 72.0)
    assert fit.need_gib == pytest.approx(74.09, abs=0.005)
    assert not fit.fits
    assert fit.kv_room_gib == pytest.approx(72 - 65.19 - 6.4, abs=0.005)


def test_two_gpus_hold_26_full_sequences():
    fit = memory_fit(params_b=70, precision="fp8", tensor_parallel=2, attention=LLAMA_70B, context=8192,
                     sequences=26, **H100)
    # 65.19 + 26 x 2.5 + 2 x 6.4 = 142.99 <= 2 x 72 = 144; a 27th sequence (145.49) does not fit.
    assert fit.need_gib == pytest.approx(142.99, abs=0.005) and fit.fits
    assert not memory_fit(params_b=70, precision="fp8", tensor_parallel=2, attention=LLAMA_70B, context=8192,
                          sequences=27, **H100).fits
    assert max_sequences(params_b=70, precision="fp8", tensor_parallel=2, attention=LLAMA_70B, context=8192,
                         **H100) == 26
    # fp8 KV: 1.25 GiB a sequence -> floor(66.01 / 1.25) = 52.
    assert max_sequences(params_b=70, precision="fp8", tensor_parallel=2, attention=LLAMA_70B, context=8192,
                         kv_dtype="fp8", **H100) == 52


def test_without_architecture_the_kv_floor_is_a_tenth_of_the_weights():
    fit = memory_fit(params_b=70, precision="fp8", tensor_parallel=4, gpu_memory_gib=44, gpu_memory_utilization=0.9)
    # 65.19 + 6.52 + 4 x 3.52 = 85.79 of 158.4 GiB.
    assert not fit.kv_exact
    assert fit.kv_gib == pytest.approx(fit.weights_gib / 10)
    assert (round(fit.need_gib, 2), round(fit.budget_gib, 1), fit.fits) == (85.79, 158.4, True)
    # A context alone is not enough to count KV: the attention shape sets the bytes per token.
    assert not memory_fit(params_b=70, precision="fp8", tensor_parallel=4, gpu_memory_gib=44,
                          gpu_memory_utilization=0.9, context=8192).kv_exact


def test_pipeline_stages_add_gpus_not_kv():
    fit = memory_fit(params_b=405, precision="bf16", tensor_parallel=8, nodes=2, attention=LLAMA_70B,
                     context=8192, **H100)
    # 16 GPUs: budget 16 x 72 = 1152, runtime 16 x 6.4 = 102.4; KV for one sequence stays 2.5 GiB.
    assert (fit.gpus, fit.budget_gib, fit.runtime_gib, fit.kv_gib) == (16, 1152, 102.4, 2.5)
    assert fit.weights_gib == pytest.approx(754.37, abs=0.005) and fit.fits


def test_smallest_tensor_parallel_that_fits():
    args = dict(params_b=70, precision="bf16", attention=LLAMA_70B, context=8192, **H100)
    # TP1 72 < 139.3; TP2 144 < 130.39 + 2.5 + 12.8 = 145.69; TP4 288 >= 158.49.
    assert min_tensor_parallel(**args) == 4
    assert min_tensor_parallel(**{**args, "params_b": 4000}, limit=8) is None
    assert max_sequences(tensor_parallel=2, **args) == 0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown precision 'fp4'"):
        weight_bytes(7, "fp4")
    with pytest.raises(ValueError, match="unknown KV-cache dtype 'int4'"):
        replica_kv_bytes_per_token(LLAMA_70B, 1, "int4")
    with pytest.raises(ValueError, match="gpu_memory_utilization must be in"):
        memory_fit(params_b=7, precision="bf16", tensor_parallel=1, gpu_memory_gib=80, gpu_memory_utilization=0)
    with pytest.raises(ValueError, match="need at least one GPU"):
        memory_fit(params_b=7, precision="bf16", tensor_parallel=0, gpu_memory_gib=80, gpu_memory_utilization=0.9)


@settings(max_examples=100, deadline=None)
@given(params_b=st.floats(0.1, 1000), precision=st.sampled_from(["bf16", "fp8", "int4"]),
       tp=st.sampled_from([1, 2, 4, 8]), mem=st.sampled_from([22, 44, 80, 141, 179]), util=st.floats(0.05, 0.98),
       layers=st.integers(1, 128), kv_heads=st.integers(1, 64), context=st.integers(1, 200_000))
def test_max_sequences_is_the_largest_count_that_fits(params_b, precision, tp, mem, util, layers, kv_heads, context):
    args = dict(params_b=params_b, precision=precision, tensor_parallel=tp, gpu_memory_gib=mem,
                gpu_memory_utilization=util, attention=Attention(layers, kv_heads, 128), context=context)
    n = max_sequences(**args)
    if n:
        assert memory_fit(**args, sequences=n).fits
    assert not memory_fit(**args, sequences=n + 1).fits
