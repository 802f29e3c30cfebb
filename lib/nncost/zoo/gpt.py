"""GPT-2, a decoder-only Transformer, written from the papers (Radford et al., 2018 and 2019).

A. Radford, J. Wu, R. Child, D. Luan, D. Amodei and I. Sutskever, "Language Models are Unsupervised
Multitask Learners", OpenAI, 2019 (GPT-2). Its section 2.3 says the model "largely follows the details of
the OpenAI GPT model" (Radford, Narasimhan, Salimans and Sutskever, "Improving Language Understanding by
Generative Pre-Training", 2018), with the layer norm moved to the input of each sub-block, one more layer
norm after the last block, a vocabulary of 50,257 and a context of 1024 tokens. The GPT model is the
decoder of Vaswani et al. (2017), "Attention Is All You Need", without the cross-attention:

- token embedding ``wte`` (vocab × d) plus a *learned* position embedding ``wpe`` (1024 × d);
- ``n_layers`` blocks ``h.0 …``, each ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))`` (pre-LN):
  causal multi-head self-attention with one fused Q/K/V projection ``c_attn`` (d → 3d, with bias) and an
  output projection ``c_proj`` (d → d); an MLP ``c_fc`` (d → 4d), GELU (the tanh approximation GPT-2's
  code uses), ``c_proj`` (4d → d);
- a final layer norm ``ln_f`` and the output layer ``lm_head`` (d → vocab, no bias) whose weight *is*
  ``wte.weight`` (tied: one matrix, counted once).

Module names follow OpenAI's released checkpoints, so the per-layer tables of :func:`nncost.profile` read
like them. Dropout (rate 0.1 in training) is left out: it has no parameters and no MACs.
``forward(idx, cache=None)`` takes token ids ``(n, L)`` (``torch.long``) and returns logits
``(n, L, vocab)``; with a :class:`KVCache` it appends the new keys and values and attends over the whole
cache, which is how a decoder generates one token at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nncost.zoo._attention import KVCache, attend, check_impl

__all__ = [
    "GPT2",
    "GPT2_LARGE",
    "GPT2_MEDIUM",
    "GPT2_SMALL",
    "GPT2_TINY",
    "GPT2_XL",
    "GPT2Config",
    "KVCache",
    "gpt2",
    "gpt2_large",
    "gpt2_medium",
    "gpt2_small",
    "gpt2_tiny",
    "gpt2_xl",
]


@dataclass(frozen=True)
class GPT2Config:
    """Sizes of a GPT-2 model: vocabulary, context (positions), width d, blocks and heads (d_ff = 4·d)."""

    vocab_size: int = 50257
    n_ctx: int = 1024
    d_model: int = 768
    n_layers: int = 12
    n_heads: int = 12

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_ctx", "d_model", "n_layers", "n_heads"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a positive int, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model: must be divisible by n_heads ({self.n_heads}), got {self.d_model}")

    @property
    def d_ff(self) -> int:
        """Width of the MLP's hidden layer, 4·d."""
        return 4 * self.d_model


# The four sizes of the GPT-2 paper's Table 2 (d_model and layers) with the head counts of OpenAI's release
# (d_head = 64 for all four). The paper's Table 2 lists 117M, 345M, 762M and 1542M parameters; the released
# checkpoints have the counts in each constructor's docstring.
GPT2_SMALL = GPT2Config(d_model=768, n_layers=12, n_heads=12)
GPT2_MEDIUM = GPT2Config(d_model=1024, n_layers=24, n_heads=16)
GPT2_LARGE = GPT2Config(d_model=1280, n_layers=36, n_heads=20)
GPT2_XL = GPT2Config(d_model=1600, n_layers=48, n_heads=25)
GPT2_TINY = GPT2Config(vocab_size=256, n_ctx=64, d_model=64, n_layers=2, n_heads=4)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with a fused Q/K/V projection: ``c_proj(attend(split(c_attn(x))))``."""

    def __init__(self, d_model: int, n_heads: int, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.n_heads = n_heads
        self.attn_impl = check_impl(attn_impl)
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        n, length, d = x.shape
        qkv = self.c_attn(x).view(n, length, 3, self.n_heads, d // self.n_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (n, heads, L, d_head)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        y = attend(q, k, v, causal=True, impl=self.attn_impl)
        return self.c_proj(y.transpose(1, 2).reshape(n, length, d))


class MLP(nn.Module):
    """``c_proj(gelu(c_fc(x)))``: d → 4d → d."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.c_fc = nn.Linear(d_model, d_ff)
        self.act = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(d_ff, d_model)

    def forward(self, x: Tensor) -> Tensor:
        return self.c_proj(self.act(self.c_fc(x)))


class Block(nn.Module):
    """One pre-LN Transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPT2Config, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config.d_model, config.n_heads, attn_impl)
        self.ln_2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config.d_model, config.d_ff)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    """Embeddings, ``n_layers`` pre-LN blocks, final layer norm, tied output layer. See :func:`gpt2`."""

    def __init__(self, config: GPT2Config, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.wpe = nn.Embedding(config.n_ctx, config.d_model)
        self.h = nn.ModuleList(Block(config, attn_impl) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: the same matrix embeds tokens and scores them

    def forward(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        start = 0 if cache is None else cache.seq_len
        length = idx.shape[-1]
        if start + length > self.config.n_ctx:
            raise ValueError(f"idx: {start + length} positions (cache {start} + input {length}) exceed the "
                             f"context of {self.config.n_ctx}")
        positions = torch.arange(start, start + length, device=idx.device)
        x = self.wte(idx) + self.wpe(positions)
        for i, block in enumerate(self.h):
            x = block(x, cache, i)
        return self.lm_head(self.ln_f(x))


def gpt2(config: GPT2Config = GPT2_SMALL, *, attn_impl: str = "sdpa") -> GPT2:
    """A GPT-2 model of the given sizes (Radford et al., 2019, "Language Models are Unsupervised Multitask
    Learners"; the architecture of GPT, Radford et al., 2018, with pre-LN blocks and a final layer norm).

    Input: token ids ``(n, L)``, ``torch.long``, L ≤ ``config.n_ctx``. Parameters:
    V·d (tokens) + n_ctx·d (positions) + layers·(12·d² + 13·d) + 2·d (final norm); the output layer is
    tied to the token embedding and adds none. ``attn_impl="sdpa"`` uses ``F.scaled_dot_product_attention``,
    ``"math"`` explicit matrix products (same values, same MACs; see :mod:`nncost.zoo._attention`).
    Build the large sizes on the meta device (``with torch.device("meta"): gpt2(GPT2_XL)``) to count them.
    """
    return GPT2(config, attn_impl)


def gpt2_small(*, attn_impl: str = "sdpa") -> GPT2:
    """GPT-2 small (the paper's 117M row): d = 768, 12 layers, 12 heads, context 1024, vocabulary 50,257.

    124,439,808 parameters with the tied output layer (the paper's Table 2 says 117M, a figure that does
    not match the released checkpoint; with an untied head it would be 163,037,184).
    """
    return gpt2(GPT2_SMALL, attn_impl=attn_impl)


def gpt2_medium(*, attn_impl: str = "sdpa") -> GPT2:
    """GPT-2 medium: d = 1024, 24 layers, 16 heads. 354,823,168 parameters (the paper says 345M)."""
    return gpt2(GPT2_MEDIUM, attn_impl=attn_impl)


def gpt2_large(*, attn_impl: str = "sdpa") -> GPT2:
    """GPT-2 large: d = 1280, 36 layers, 20 heads. 774,030,080 parameters (the paper says 762M)."""
    return gpt2(GPT2_LARGE, attn_impl=attn_impl)


def gpt2_xl(*, attn_impl: str = "sdpa") -> GPT2:
    """GPT-2 XL: d = 1600, 48 layers, 25 heads. 1,557,611,200 parameters (the paper says 1542M)."""
    return gpt2(GPT2_XL, attn_impl=attn_impl)


def gpt2_tiny(*, attn_impl: str = "sdpa") -> GPT2:
    """A tiny GPT-2 for running on a CPU in a notebook: vocabulary 256, context 64, d = 64, 2 layers, 4 heads.

    256·64 + 64·64 + 2·(12·64² + 13·64) + 2·64 = 120,576 parameters. Same code as the real sizes.
    """
    return gpt2(GPT2_TINY, attn_impl=attn_impl)
