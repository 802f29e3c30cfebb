"""A Llama-style decoder (Touvron et al., 2023), with grouped-query attention, written from the papers.

H. Touvron et al., "Llama 2: Open Foundation and Fine-Tuned Chat Models", arXiv:2307.09288, 2023, and
"LLaMA: Open and Efficient Foundation Language Models", arXiv:2302.13971, 2023. Section 2.2 of the latter
lists what changes from the GPT block:

- pre-normalization with **RMSNorm** (Zhang & Sennrich, 2019): x / rms(x) · g, a gain and no bias, d
  parameters (``attention_norm``, ``ffn_norm``, and ``norm`` after the last layer);
- a **SwiGLU** MLP (Shazeer, 2020): ``w2(silu(w1(x)) * w3(x))``, three d × d_ff matrices with d_ff ≈ ⅔·4d
  rounded up to a multiple of 256 (11,008 for d = 4096);
- **rotary position embeddings** (RoPE; Su et al., 2021) applied to the queries and keys of every layer
  instead of a learned position table: a rotation by position-dependent angles, no parameters;
- no biases anywhere; an output layer ``output`` (d → vocab) *not* tied to ``tok_embeddings``.

**Grouped-query attention** (GQA; Ainslie et al., 2023): ``n_kv_heads`` key/value heads, each shared by
``n_heads / n_kv_heads`` query heads (``n_kv_heads = n_heads``: multi-head attention; ``1``: multi-query
attention, Shazeer, 2019). ``wk`` and ``wv`` map d → n_kv_heads·d_head, and the K/V cache shrinks by the
same factor. Llama 2 uses GQA only in its 34B and 70B models; Mistral 7B (Jiang et al., 2023) uses 8 KV
heads for 32 query heads.

Module names follow Meta's reference code (``tok_embeddings``, ``layers.0.attention.wq``,
``layers.0.feed_forward.w1``, ``norm``, ``output``). ``forward(idx, cache=None)`` takes token ids
``(n, L)`` (``torch.long``) and returns logits ``(n, L, vocab)``; with a :class:`KVCache` it appends the new
keys and values (``n_kv_heads`` heads, after the rotation) and attends over all of them. Build the 7B
configurations on the meta device (``with torch.device("meta"): llama(LLAMA2_7B)``): they hold billions
of parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nncost.zoo._attention import KVCache, attend, check_impl

__all__ = [
    "LLAMA2_7B",
    "LLAMA3_8B",
    "LLAMA_TINY",
    "MISTRAL_7B",
    "KVCache",
    "Llama",
    "LlamaConfig",
    "llama",
    "llama2_7b",
    "llama3_8b",
    "llama_tiny",
    "mistral_7b",
    "rope",
]


@dataclass(frozen=True)
class LlamaConfig:
    """Sizes of a Llama-style decoder. ``n_kv_heads`` = ``n_heads`` (MHA), a divisor (GQA) or 1 (MQA)."""

    vocab_size: int = 32000
    d_model: int = 4096
    n_layers: int = 32
    n_heads: int = 32
    n_kv_heads: int = 32
    d_ff: int = 11008
    max_seq_len: int = 4096
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "n_kv_heads", "d_ff", "max_seq_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a positive int, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model: must be divisible by n_heads ({self.n_heads}), got {self.d_model}")
        if (self.d_model // self.n_heads) % 2:
            raise ValueError(f"d_model: d_model / n_heads must be even for the rotary embedding, got "
                             f"{self.d_model} / {self.n_heads} = {self.d_model // self.n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_kv_heads: must divide n_heads ({self.n_heads}), got {self.n_kv_heads}")

    @property
    def d_head(self) -> int:
        """Width of one head, d / n_heads."""
        return self.d_model // self.n_heads


# Llama 2 7B (Touvron et al., 2023b, Table 1 and the released config): multi-head attention.
LLAMA2_7B = LlamaConfig()
# Mistral 7B (Jiang et al., 2023, Table 1): GQA with 8 KV heads, d_ff 14,336, 8192-token context. Its
# sliding-window attention (window 4096) changes which keys a query sees, not any parameter.
MISTRAL_7B = LlamaConfig(n_kv_heads=8, d_ff=14336, max_seq_len=8192)
# Llama 3 8B (Llama Team, AI @ Meta, 2024, "The Llama 3 Herd of Models", Table 3): Mistral's layer sizes with
# a 128,256-token vocabulary and RoPE base 500,000.
LLAMA3_8B = LlamaConfig(vocab_size=128256, n_kv_heads=8, d_ff=14336, max_seq_len=8192, rope_theta=500000.0)
LLAMA_TINY = LlamaConfig(vocab_size=256, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=160,
                         max_seq_len=64)


def rope(x: Tensor, start: int, theta: float) -> Tensor:
    """Rotary position embedding of x ``(n, heads, L, d_head)`` at positions ``start … start + L − 1``.

    Each pair of features (2i, 2i + 1) at position p is rotated by the angle p·θ^(−2i/d_head), as Meta's
    reference code does with complex numbers; here in real arithmetic, so it also runs on meta. No
    parameters, no MACs (elementwise products only).
    """
    d_head = x.shape[-1]
    inv_freq = theta ** (-torch.arange(0, d_head, 2, device=x.device, dtype=torch.float32) / d_head)
    angles = torch.arange(start, start + x.shape[-2], device=x.device, dtype=torch.float32)[:, None] * inv_freq
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    """Grouped-query self-attention with RoPE: ``wq`` d → d, ``wk``/``wv`` d → kv_heads·d_head, ``wo`` d → d.

    ``start`` is the position of the first token of ``x`` (the length of the cache before this call).
    """

    def __init__(self, config: LlamaConfig, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.d_head = config.n_heads, config.n_kv_heads, config.d_head
        self.theta = config.rope_theta
        self.attn_impl = check_impl(attn_impl)
        self.wq = nn.Linear(config.d_model, config.n_heads * config.d_head, bias=False)
        self.wk = nn.Linear(config.d_model, config.n_kv_heads * config.d_head, bias=False)
        self.wv = nn.Linear(config.d_model, config.n_kv_heads * config.d_head, bias=False)
        self.wo = nn.Linear(config.n_heads * config.d_head, config.d_model, bias=False)

    def forward(self, x: Tensor, start: int = 0, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        n, length, _ = x.shape
        q = self.wq(x).view(n, length, self.n_heads, self.d_head).transpose(1, 2)
        k = self.wk(x).view(n, length, self.n_kv_heads, self.d_head).transpose(1, 2)
        v = self.wv(x).view(n, length, self.n_kv_heads, self.d_head).transpose(1, 2)
        q, k = rope(q, start, self.theta), rope(k, start, self.theta)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        group = self.n_heads // self.n_kv_heads
        if group > 1:  # each KV head serves `group` query heads: repeat it (a copy, no arithmetic)
            shape = (n, self.n_kv_heads, group, k.shape[2], self.d_head)
            k = k[:, :, None].expand(shape).reshape(n, self.n_heads, k.shape[2], self.d_head)
            v = v[:, :, None].expand(shape).reshape(n, self.n_heads, v.shape[2], self.d_head)
        y = attend(q, k, v, causal=True, impl=self.attn_impl)
        return self.wo(y.transpose(1, 2).reshape(n, length, self.n_heads * self.d_head))


class FeedForward(nn.Module):
    """SwiGLU: ``w2(silu(w1(x)) * w3(x))``, d → d_ff (twice) → d, no biases."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(d_model, d_ff, bias=False)
        self.w2 = nn.Linear(d_ff, d_model, bias=False)
        self.w3 = nn.Linear(d_model, d_ff, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    """``x + attention(attention_norm(x))``, then ``x + feed_forward(ffn_norm(x))``."""

    def __init__(self, config: LlamaConfig, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.attention_norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.attention = Attention(config, attn_impl)
        self.ffn_norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.feed_forward = FeedForward(config.d_model, config.d_ff)

    def forward(self, x: Tensor, start: int = 0, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        x = x + self.attention(self.attention_norm(x), start, cache, layer)
        return x + self.feed_forward(self.ffn_norm(x))


class Llama(nn.Module):
    """Token embedding, ``n_layers`` blocks, RMSNorm, untied output layer. See :func:`llama`."""

    def __init__(self, config: LlamaConfig, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.config = config
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.d_model)
        self.layers = nn.ModuleList(TransformerBlock(config, attn_impl) for _ in range(config.n_layers))
        self.norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.output = nn.Linear(config.d_model, config.vocab_size, bias=False)

    def forward(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        start = 0 if cache is None else cache.seq_len
        if start + idx.shape[-1] > self.config.max_seq_len:
            raise ValueError(f"idx: {start + idx.shape[-1]} positions (cache {start} + input {idx.shape[-1]}) "
                             f"exceed max_seq_len {self.config.max_seq_len}")
        x = self.tok_embeddings(idx)
        for i, layer in enumerate(self.layers):
            x = layer(x, start, cache, i)
        return self.output(self.norm(x))


def llama(config: LlamaConfig = LLAMA2_7B, *, attn_impl: str = "sdpa") -> Llama:
    """A Llama-style decoder of the given sizes (Touvron et al., 2023, "LLaMA" and "Llama 2").

    Input: token ids ``(n, L)``, ``torch.long``. Parameters, with d_kv = n_kv_heads·d_head:
    2·V·d (embedding and untied output) + layers·(2·d² + 2·d·d_kv + 3·d·d_ff + 2·d) + d (final norm).
    ``attn_impl`` as in :func:`nncost.zoo.gpt2`.
    """
    return Llama(config, attn_impl)


def llama2_7b(*, attn_impl: str = "sdpa") -> Llama:
    """Llama 2 7B (Touvron et al., 2023, "Llama 2", Table 1): d = 4096, 32 layers, 32 heads and 32 KV heads
    (multi-head attention), d_ff 11,008, vocabulary 32,000, context 4096. 6,738,415,616 parameters.

    Build it on meta: ``with torch.device("meta"): model = llama2_7b()``.
    """
    return llama(LLAMA2_7B, attn_impl=attn_impl)


def mistral_7b(*, attn_impl: str = "sdpa") -> Llama:
    """Mistral 7B v0.1 (Jiang et al., 2023, "Mistral 7B", Table 1): Llama 2 7B's d = 4096, 32 layers and 32
    heads with grouped-query attention (8 KV heads), d_ff 14,336, context 8192. 7,241,732,096 parameters.

    Its sliding-window attention (each token sees the previous 4096) is not built: this model attends to
    the whole causal prefix, which is the same below 4096 tokens and changes no parameter.
    """
    return llama(MISTRAL_7B, attn_impl=attn_impl)


def llama3_8b(*, attn_impl: str = "sdpa") -> Llama:
    """Llama 3 8B (Llama Team, AI @ Meta, 2024, "The Llama 3 Herd of Models", Table 3): Mistral 7B's layer
    sizes (GQA with 8 KV heads, d_ff 14,336) with a vocabulary of 128,256 tokens (the paper's "128K") and
    RoPE base 500,000. 8,030,261,248 parameters.
    """
    return llama(LLAMA3_8B, attn_impl=attn_impl)


def llama_tiny(*, attn_impl: str = "sdpa") -> Llama:
    """A tiny Llama-style decoder for running on a CPU: vocabulary 256, d = 64, 2 layers, 4 heads sharing
    2 KV heads (GQA), d_ff 160, context 64. 2·256·64 + 2·(2·64² + 2·64·32 + 3·64·160 + 2·64) + 64 = 119,104
    parameters.
    """
    return llama(LLAMA_TINY, attn_impl=attn_impl)
