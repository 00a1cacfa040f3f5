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


def test_every_gpu_generation_has_a_utilisation_base():
    from aidc.sizing.mfu import shipped_model
    cat, model = catalog(), shipped_model()
    for key, gpu in cat.gpus.items():
        assert gpu.generation in model.base, f"{key}: no MFU base for {gpu.generation}"
        assert 0.1 <= model.base[gpu.generation] <= 0.6
    for gen, entry in cat.mfu.generations.items():
        assert entry.calibrated or entry.reasoning, gen


def test_every_published_run_names_its_source():
    runs = (*catalog().mfu.calibration, *catalog().mfu.held_out)
    assert len({r.name for r in runs}) == len(runs)
    for r in runs:
        assert r.source.url.startswith("https://") and r.source.date and r.source.note, r.name


def test_moe_presets_carry_active_parameters():
    from pydantic import ValidationError

    from components.catalog import ModelPreset
    m = catalog().models["deepseek-v3"]
    assert (m.params, m.active_params, m.experts, m.experts_per_token) == (671e9, 37e9, 256, 8)
    raw = m.model_dump(by_alias=True)
    raw["activeParams"] = raw["params"]  # a MoE sized on all its parameters: rejected at load
    with pytest.raises(ValidationError, match="mixture of experts"):
        ModelPreset.model_validate(raw)
