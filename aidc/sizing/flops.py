"""Training FLOPs per token: the dense matmuls (6 x active parameters) plus attention over the
sequence, which 6N leaves out and which is 10-30% of the work at 4-8K context below 10B."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttentionShape:
    """What attention costs per token: layers, attention width (heads x head dim; for DeepSeek's
    latent attention heads x (qk + v head dim) / 2) and the training sequence length."""

    layers: int
    width: int
    seq_len: int

    def flops_per_token(self) -> float:
        """QK^T and AV: 2 x 2 x seq x width per layer forward, x3 with the backward pass,
        = 12 x layers x width x seq (no causal halving, as in PaLM's MFU, arXiv 2204.02311 App. B)."""
        return 12.0 * self.layers * self.width * self.seq_len


def training_flops(active_params: float, tokens: float, attention: AttentionShape | None = None) -> float:
    """(6 N + attention) T: 2 FLOPs per active parameter per token forward, 4 backward, plus
    attention scores when the shape is known."""
    per_token = 6.0 * active_params + (attention.flops_per_token() if attention else 0.0)
    return per_token * tokens
