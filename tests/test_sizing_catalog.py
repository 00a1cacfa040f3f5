"""Data lint for the sizing catalog files (models.yaml, mfu.yaml)."""

from __future__ import annotations

import pytest

from aidc.sizing import training_flops
from components.catalog import catalog

PRESETS = ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b", "gpt-3-175b")


def test_required_presets_with_sources():
    models = catalog().models
    for key in PRESETS:
        m = models[key]
        assert m.source.url.startswith("https://") and m.source.date
        assert m.attention_heads * m.head_dim == m.hidden_size, key


def test_preset_architecture_numbers():
    m = catalog().models
    assert (m["llama-3.1-70b"].layers, m["llama-3.1-70b"].kv_heads, m["llama-3.1-70b"].head_dim) == (80, 8, 128)
    assert m["llama-3.1-405b"].layers == 126 and m["llama-3.1-405b"].hidden_size == 16384
    assert m["mixtral-8x7b"].active_params / m["mixtral-8x7b"].params == pytest.approx(12.9 / 46.7, rel=0.01)
    assert m["gpt-3-175b"].kv_heads == m["gpt-3-175b"].attention_heads == 96


def test_gpt3_flops_match_the_paper():
    # Brown et al. 2020, Table D.1: 3.64e3 petaflop/s-days for GPT-3 175B on 300B tokens.
    paper = 3.64e3 * 1e15 * 86400
    assert training_flops(catalog().models["gpt-3-175b"].active_params, 300e9) == pytest.approx(paper, rel=0.01)


def test_every_gpu_generation_has_a_default_mfu():
    cat = catalog()
    for key, gpu in cat.gpus.items():
        assert gpu.generation in cat.mfu, f"{key}: no default MFU for {gpu.generation}"
        assert "bf16" in cat.mfu[gpu.generation].mfu
    for gen, entry in cat.mfu.items():
        assert all(0.1 <= v <= 0.6 for v in entry.mfu.values()), gen
        assert entry.reasoning and entry.source.url.startswith("https://")
