"""``nncost.transformer``: hand-derived units, then property tests against real torch modules.

The units derive every expected number in a comment. The property tests (marker ``torch_property``, counted in
``conftest.LOG``) build real modules on small random configurations and compare

- parameters with ``sum(p.numel())`` and output shapes with a forward pass;
- MACs with ``FlopCounterMode`` (total / 2) in **training mode with grad enabled** on the math path
  (``need_weights=True``, explicit matmuls, or ``sdpa_kernel(SDPBackend.MATH)``; the fused CPU kernels are
  FlopCounterMode's blind spots), and with ``nncost.profile`` **under no_grad** (eval: the fused fast paths
  ``_native_multi_head_attention`` / ``_transformer_encoder_layer_fwd``; and on the meta device).

Causal attention: FlopCounterMode counts the full score matrix (``causal_macs="full"``); the causal half is
checked against a module that computes each query row against only its unmasked keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import prod
from typing import Any

import pytest

import nncost
from nncost import (
    attention,
    embedding,
    feed_forward,
    flops_per_token,
    kv_cache_bytes,
    lm_head,
    norm,
    training_flops_per_token,
    transformer_block,
)
from nncost.transformer import causal_pairs, residual_add

# --- hand-derived units ---------------------------------------------------------------------------------


def total(parts: list[nncost.LayerCost], what: str) -> int:
    return sum(getattr(p, what) for p in parts)


def test_gpt2_small_block() -> None:
    # d = 768, h = 12 (d_head 64), d_ff = 3072, biases, LayerNorm:
    # attention 4·d² + 4·d = 2,359,296 + 3,072 = 2,362,368
    # MLP 2·d·d_ff + d_ff + d = 4,718,592 + 3,840 = 4,722,432
    # two LayerNorms 2·2·d = 3,072
    # block 2,362,368 + 4,722,432 + 3,072 = 7,087,872 = 12·d² + 13·d = 7,077,888 + 9,984
    block = transformer_block((1, 1024, 768), 12, 3072)
    assert [p.kind for p in block] == ["layernorm", "attention", "add", "layernorm", "feed_forward", "add"]
    assert [p.params for p in block] == [1536, 2_362_368, 0, 1536, 4_722_432, 0]
    assert total(block, "params") == 7_087_872 == 12 * 768**2 + 13 * 768
    # MACs at L = 1024: weights 1024·(4·d² + 2·d·d_ff) = 1024·7,077,888 = 7,247,757,312
    # scores 2·h·L²·d_head = 2·12·1024²·64 = 1,610,612,736; total 8,858,370,048
    assert total(block, "macs") == 1024 * 7_077_888 + 1_610_612_736 == 8_858_370_048


def test_gpt2_small_model() -> None:
    # tokens 50257·768 = 38,597,376; positions 1024·768 = 786,432; 12 blocks 85,054,464;
    # final LayerNorm 1,536; tied head 0: total 124,439,808
    ids = (1, 1024)
    tok, pos = embedding(ids, 50257, 768), embedding(ids, 1024, 768)
    blocks = 12 * total(transformer_block((1, 1024, 768), 12, 3072, causal=True), "params")
    head = lm_head((1, 1024, 768), 50257, tied=True)
    assert (tok.params, pos.params, blocks, head.params) == (38_597_376, 786_432, 85_054_464, 0)
    assert tok.params + pos.params + blocks + norm((1, 1024, 768)).params + head.params == 124_439_808
    # the head still costs its product: 1024·768·50257 MACs, tied or not
    assert head.macs == lm_head((1, 1024, 768), 50257).macs == 1024 * 768 * 50257 == 39_523_713_024
    assert lm_head((1, 1024, 768), 50257).params == 38_597_376


def test_llama2_7b_and_mistral_7b_params() -> None:
    # Llama-2-7B: d 4096, 32 heads, d_ff 11008 (SwiGLU), RMSNorm, no biases, 32 layers, vocab 32000, untied
    # block: attention 4·4096² = 67,108,864; MLP 3·4096·11008 = 135,266,304; norms 2·4096 = 8,192
    # = 202,383,360; ×32 = 6,476,267,520; + embedding 131,072,000 + head 131,072,000 + final norm 4,096
    x = (1, 16, 4096)
    llama = transformer_block(x, 32, 11008, norm="rmsnorm", gated=True, bias=False, causal=True)
    assert total(llama, "params") == 202_383_360
    assert 32 * 202_383_360 + 2 * 131_072_000 + 4096 == 6_738_415_616
    # Mistral-7B: 8 K/V heads of 128: W_k, W_v 2·4096·1024 = 8,388,608; W_q + W_o 33,554,432;
    # MLP 3·4096·14336 = 176,160,768; norms 8,192: block 218,112,000; ×32 + 262,144,000 + 4,096 = 7,241,732,096
    mistral = transformer_block(x, 32, 14336, num_kv_heads=8, norm="rmsnorm", gated=True, bias=False)
    assert mistral[1].params == 41_943_040
    assert 32 * total(mistral, "params") + 2 * 32000 * 4096 + 4096 == 7_241_732_096


def test_attention_gqa_by_hand() -> None:
    # (n, L, d) = (2, 16, 64), h = 8 (d_head 8), 2 K/V heads: kv = 16
    # params W_q, W_o 2·64² = 8192; W_k, W_v 2·64·16 = 2048; biases 64 + 64 + 2·16 = 160: 10,400
    # macs Q, O 2·(2·16)·64² = 262,144; K, V 2·32·64·16 = 65,536; scores 2·n·h·L²·d_head = 2·2·8·256·8 = 65,536
    cost = attention((2, 16, 64), 8, num_kv_heads=2)
    assert (cost.params, cost.macs) == (10_400, 262_144 + 65_536 + 65_536)
    assert cost.out_shape == (2, 16, 64) and cost.activations == 2048
    # scores n·h·L·S = 2·8·16·16 = 4096; bias adds 2·32·64 + 2·32·16 = 4096 + 1024
    assert cost.elementwise == {"scale": 4096, "softmax": 4096, "bias": 5120}
    assert cost.weight_shape is None
    fused = attention((2, 16, 64), 8, num_kv_heads=2, qkv="fused")
    assert (fused.params, fused.macs, fused.weight_shape, fused.bias_shape) == (10_400, 393_216, (96, 64), (96,))


def test_attention_mha_gqa_mqa_share_all_but_kv() -> None:
    # d 32, h 4 (d_head 8): K/V width kv_heads·8; only W_k, W_v (and their biases) and the K/V MACs change
    costs = {kv: attention((10, 32), 4, num_kv_heads=kv, bias=False) for kv in (4, 2, 1)}
    assert {kv: c.params for kv, c in costs.items()} == {
        4: 4 * 1024, 2: 2 * 1024 + 2 * 32 * 16, 1: 2 * 1024 + 2 * 32 * 8}
    assert costs[4].params - costs[1].params == 2 * 32 * (32 - 8)
    assert costs[4].macs - costs[1].macs == 10 * (costs[4].params - costs[1].params)  # K, V per token
    assert attention((10, 32), 4).params == attention((10, 32), 4, num_kv_heads=None).params == 4 * 1024 + 4 * 32


def test_causal_half_and_full() -> None:
    # L = S = 4: unmasked pairs 1 + 2 + 3 + 4 = 10 = 4·5/2 of 16
    assert causal_pairs(4) == 10 == causal_pairs(4, 4)
    # 2 queries, the last of 5 positions: they see 4 and 5 keys: 9 = 2·3 + 3
    assert causal_pairs(2, 5) == 9
    # (1, 4, 8), h 2 (d_head 4), no bias: projections 4 tokens · 4 matrices · 8·8 = 1024 MACs
    full = attention((1, 4, 8), 2, bias=False, causal=True)
    half = attention((1, 4, 8), 2, bias=False, causal=True, causal_macs="half")
    plain = attention((1, 4, 8), 2, bias=False)
    assert full.macs == plain.macs == 1024 + 2 * 2 * 16 * 4 == 1280  # QKᵀ and A·V: 2·h·L·S·d_head
    assert half.macs == 1024 + 2 * 2 * 10 * 4 == 1184  # 10 of the 16 pairs
    assert full.elementwise == {"scale": 32, "softmax": 32, "mask": 32}
    assert half.elementwise == {"scale": 20, "softmax": 20, "mask": 20}
    assert "mask" not in plain.elementwise
    assert attention((1, 4, 8), 2, causal_macs="half").macs == plain.macs  # not causal: no effect


def test_attention_cross_and_cached() -> None:
    # (1, 1, 64), h 8, against S = 100 keys; weights d² = 4096
    # cross-attention: Q, O 2·1·4096; K, V from 100 source tokens 2·100·4096; scores 2·8·1·100·8 = 12,800
    cross = attention((1, 1, 64), 8, kv_len=100, bias=False)
    assert cross.macs == 2 * 4096 + 2 * 100 * 4096 + 12_800
    # decoding with a cache: only the new token is projected: 4·4096 + 12,800 = 29,184
    cached = attention((1, 1, 64), 8, kv_len=100, kv_cache=True, bias=False)
    assert cached.macs == 4 * 4096 + 12_800 == 29_184
    assert cached.params == cross.params == 4 * 4096


def test_feed_forward_and_norms() -> None:
    # (3, 5, 8) -> 15 tokens, d_ff 32
    # plain: params 2·8·32 + 32 + 8 = 552; macs 15·2·8·32 = 7680; gelu 15·32 = 480; bias 15·40 = 600
    ffn = feed_forward((3, 5, 8), 32)
    assert (ffn.params, ffn.macs, ffn.elementwise) == (552, 7680, {"gelu": 480, "bias": 600})
    # gated, no bias: params 3·8·32 = 768; macs 15·768 = 11,520; silu 480, gate 480
    glu = feed_forward((3, 5, 8), 32, gated=True, bias=False, activation="silu")
    assert (glu.params, glu.macs, glu.elementwise) == (768, 11_520, {"silu": 480, "gate": 480})
    # gated with biases: 768 + 2·32 + 8 = 840
    assert feed_forward((8,), 32, gated=True).params == 840
    # norms over 120 elements, d 8
    assert (norm((3, 5, 8)).params, norm((3, 5, 8), bias=False).params, norm((3, 5, 8), kind="rmsnorm").params) == (
        16, 8, 8)
    assert norm((3, 5, 8)).elementwise == {"normalize": 120, "scale": 120, "shift": 120}
    assert norm((3, 5, 8), kind="rmsnorm").elementwise == {"normalize": 120, "scale": 120}
    assert norm((3, 5, 8), kind="rmsnorm", bias=True).bias_shape is None
    add = residual_add((3, 5, 8))
    assert (add.kind, add.params, add.macs, add.elementwise) == ("add", 0, 0, {"add": 120})


def test_block_post_norm_order_and_gated_default() -> None:
    post = transformer_block((6, 16), 2, 24, pre_norm=False)
    assert [p.kind for p in post] == ["attention", "add", "layernorm", "feed_forward", "add", "layernorm"]
    pre = transformer_block((6, 16), 2, 24)
    assert total(post, "params") == total(pre, "params") and total(post, "macs") == total(pre, "macs")
    assert "silu" in transformer_block((6, 16), 2, 24, gated=True)[4].elementwise
    assert "relu" in transformer_block((6, 16), 2, 24, activation="relu")[4].elementwise


def test_embedding_shapes() -> None:
    assert embedding((7,), 100, 16).out_shape == (7, 16)
    cost = embedding((2, 7), 100, 16)
    assert (cost.out_shape, cost.params, cost.macs, cost.elementwise, cost.weight_shape) == (
        (2, 7, 16), 1600, 0, {}, (100, 16))


def test_kv_cache_bytes() -> None:
    # Llama-2-7B (32 layers, 32 K/V heads of 128) at 4096 tokens in fp16: 2·32·32·128·4096·2 = 2^31 B = 2 GiB
    assert kv_cache_bytes(layers=32, kv_heads=32, head_dim=128, seq_len=4096) == 2**31
    # GQA with 8 K/V heads: a quarter, 2^29; MQA: 1/32, 2^26, then ×4 (batch) ×2 (fp32 over fp16) = 2^29
    assert kv_cache_bytes(layers=32, kv_heads=8, head_dim=128, seq_len=4096) == 2**29
    assert kv_cache_bytes(layers=32, kv_heads=1, head_dim=128, seq_len=4096) == 2**26
    assert kv_cache_bytes(layers=32, kv_heads=1, head_dim=128, seq_len=4096, batch=4, bytes_per_element=4) == 2**29
    # 4-bit: half a byte per element, rounded up to whole bytes: 2·1·1·1·3·0.5 = 3
    assert kv_cache_bytes(layers=1, kv_heads=1, head_dim=1, seq_len=3, bytes_per_element=0.5) == 3
    assert kv_cache_bytes(layers=1, kv_heads=1, head_dim=1, seq_len=1, bytes_per_element=0.5) == 1


def test_flops_per_token() -> None:
    # GPT-2 small: N = 12 blocks = 85,054,464, 12 layers, d 768, context 1024
    # full: 2N + 4·12·1024·768 = 170,108,928 + 37,748,736 = 207,857,664
    n = 85_054_464
    assert flops_per_token(n, layers=12, d_model=768, context=1024) == 207_857_664
    # causal half: 2N + 2·12·1025·768 = 170,108,928 + 18,892,800 = 189,001,728
    assert flops_per_token(n, layers=12, d_model=768, context=1024, causal_half=True) == 189_001_728
    assert training_flops_per_token(n, layers=12, d_model=768, context=1024) == 3 * 207_857_664
    # the attention term equals the weight term 24·d² per layer where 4·context·d = 24·d², context = 6d
    d = 768
    assert flops_per_token(12 * d * d, layers=1, d_model=d, context=6 * d) == 2 * 24 * d * d


def test_flops_per_token_matches_attention_per_token() -> None:
    # one block, L = S = 16, d 32, h 4, no biases: per token, macs/L·2 = 2·N + 4·L·d
    block = transformer_block((1, 16, 32), 4, 128, bias=False, norm="rmsnorm")
    weights = 4 * 32 * 32 + 2 * 32 * 128  # the MAC-carrying parameters (norm scales excluded)
    assert 2 * total(block, "macs") // 16 == flops_per_token(weights, layers=1, d_model=32, context=16)
    half = transformer_block((1, 16, 32), 4, 128, bias=False, norm="rmsnorm", causal=True, causal_macs="half")
    assert 2 * total(half, "macs") // 16 == flops_per_token(weights, layers=1, d_model=32, context=16,
                                                             causal_half=True)


# --- property tests against torch -----------------------------------------------------------------------

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def examples(n: int) -> settings:
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def counted_macs(run: Callable[[], Any]) -> int:
    """FlopCounterMode's count of ``run()`` with grad enabled, halved into MACs."""
    with torch.enable_grad(), FlopCounterMode(display=False) as counter:
        run()
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def compare(log: Any, test: str, expected: dict, got: dict, what: Any) -> None:
    log.record(test)
    if expected != got:
        log.record_mismatch(test)
        raise AssertionError(f"{test}: counts differ on {what}:\n  torch:  {expected}\n  nncost: {got}")


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())  # distinct parameters: a tied matrix once


@dataclass(frozen=True)
class Attn:
    n: int | None  # None: an unbatched (L, d) input
    length: int
    heads: int
    kv_heads: int
    d_head: int
    kv_len: int | None
    bias: bool
    causal: bool

    @property
    def d(self) -> int:
        return self.heads * self.d_head

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.length, self.d) if self.n is None else (self.n, self.length, self.d)

    @property
    def source(self) -> int:
        return self.length if self.kv_len is None else self.kv_len

    def mask(self) -> torch.Tensor:
        """True where a query may attend: the queries are the last L of the S positions (bottom-right)."""
        return torch.ones(self.length, self.source, dtype=torch.bool).tril(self.source - self.length)


@st.composite
def attn_configs(draw: st.DrawFn, *, gqa: bool = False, causal_fits: bool = False) -> Attn:
    heads = draw(st.integers(1, 4))
    kv_heads = draw(st.sampled_from([k for k in range(1, heads + 1) if heads % k == 0])) if gqa else heads
    length = draw(st.integers(1, 16))
    kv_len = draw(st.one_of(st.none(), st.integers(length if causal_fits else 1, 16)))
    return Attn(
        n=draw(st.one_of(st.none(), st.integers(1, 3))), length=length, heads=heads, kv_heads=kv_heads,
        d_head=draw(st.integers(1, 8)), kv_len=kv_len, bias=draw(st.booleans()), causal=draw(st.booleans()),
    )


def attn_cost(c: Attn, **kw: Any) -> nncost.LayerCost:
    return attention(c.shape, c.heads, num_kv_heads=c.kv_heads, kv_len=c.kv_len, bias=c.bias, causal=c.causal, **kw)


# --- nn.MultiheadAttention ------------------------------------------------------------------------------


@pytest.mark.torch_property
@examples(250)
@given(c=attn_configs())
def test_multihead_attention_training_flopcounter(c: Attn, torch_log: Any) -> None:
    """Training mode, grad enabled, need_weights=True (the math path FlopCounterMode sees), self- or
    cross-attention, bias on/off, with a causal boolean mask (counted in full)."""
    mha = nn.MultiheadAttention(c.d, c.heads, bias=c.bias, batch_first=True, dropout=0.0).train()
    x = torch.randn(c.shape)
    kv = x if c.kv_len is None else torch.randn(*c.shape[:-2], c.source, c.d)
    mask = ~c.mask() if c.causal else None  # nn.MultiheadAttention masks where True
    y, _ = mha(x, kv, kv, attn_mask=mask)
    macs = counted_macs(lambda: mha(x, kv, kv, attn_mask=mask, need_weights=True))
    cost = attn_cost(c, qkv="fused")
    expected = {"shape": tuple(y.shape), "params": n_params(mha), "macs": macs,
                "weight": tuple(mha.in_proj_weight.shape),
                "bias": None if mha.in_proj_bias is None else tuple(mha.in_proj_bias.shape)}
    got = {"shape": cost.out_shape, "params": cost.params, "macs": cost.macs, "weight": cost.weight_shape,
           "bias": cost.bias_shape}
    compare(torch_log, "MultiheadAttention (train)", expected, got, c)
    if c.causal:
        assert cost.macs == attn_cost(c, causal_macs="full").macs


class SelfAttention(nn.Module):
    """``nn.MultiheadAttention`` called as self-attention (query is key is value: its fast path's condition)."""

    def __init__(self, c: Attn) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(c.d, c.heads, bias=c.bias, batch_first=True, dropout=0.0)
        self.causal = c.causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = None
        if self.causal:
            length = x.shape[-2]
            mask = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
        return self.mha(x, x, x, attn_mask=mask, need_weights=False)[0]


@pytest.mark.torch_property
@examples(120)
@given(c=attn_configs(), device=st.sampled_from(["cpu", "meta"]), train=st.booleans())
def test_multihead_attention_no_grad_profile(c: Attn, device: str, train: bool, torch_log: Any) -> None:
    """Under no_grad with ``nncost.profile``: in eval on the CPU, the fused ``_native_multi_head_attention``."""
    c = Attn(c.n, c.length, c.heads, c.heads, c.d_head, None, c.bias, c.causal)  # self-attention
    model = SelfAttention(c).train(train)
    report = nncost.profile(model, c.shape, device=device)
    cost = attn_cost(c)
    compare(torch_log, "MultiheadAttention (no_grad, profile)", {"params": n_params(model), "macs": report.macs},
            {"params": cost.params, "macs": cost.macs}, (c, device, train))


@pytest.mark.torch_property
@examples(80)
@given(d=st.integers(1, 24), heads=st.integers(1, 7))
def test_multihead_attention_refuses_like_torch(d: int, heads: int, torch_log: Any) -> None:
    """d_model not divisible by the heads: torch and nncost both refuse; otherwise both count alike."""
    try:
        mha = nn.MultiheadAttention(d, heads, batch_first=True)
    except (AssertionError, ValueError):
        with pytest.raises(ValueError, match=r"^num_heads: must divide d_model"):
            attention((1, 3, d), heads)
        torch_log.record_refusal("MultiheadAttention (wide)")
        return
    x = torch.randn(1, 3, d)
    compare(torch_log, "MultiheadAttention (wide)",
            {"params": n_params(mha), "macs": counted_macs(lambda: mha(x, x, x))},
            {"params": attention((1, 3, d), heads).params, "macs": attention((1, 3, d), heads).macs}, (d, heads))


# --- a hand-written GQA / MQA attention -----------------------------------------------------------------


class GroupedQueryAttention(nn.Module):
    """Separate q/k/v/o projections, K/V heads shared by ``heads / kv_heads`` query heads (repeat_interleave),
    explicit matmul + softmax. ``rowwise``: each query row against only the keys the causal mask leaves
    (the causal half, computed). ``cache``: the first S − L keys/values come from a cache, only L are projected."""

    def __init__(self, c: Attn) -> None:
        super().__init__()
        self.c = c
        kv = c.kv_heads * c.d_head
        self.q, self.o = nn.Linear(c.d, c.d, bias=c.bias), nn.Linear(c.d, c.d, bias=c.bias)
        self.k, self.v = nn.Linear(c.d, kv, bias=c.bias), nn.Linear(c.d, kv, bias=c.bias)

    def split(self, t: torch.Tensor, heads: int) -> torch.Tensor:
        return t.unflatten(-1, (heads, self.c.d_head)).transpose(1, 2)  # (n, heads, len, d_head)

    def forward(self, x: torch.Tensor, source: torch.Tensor | None = None, cache: torch.Tensor | None = None,
                rowwise: bool = False) -> torch.Tensor:
        c = self.c
        unbatched = x.dim() == 2
        if unbatched:
            x = x[None]
            source = None if source is None else source[None]
            cache = None if cache is None else cache[None]
        src = x if source is None else source
        q = self.split(self.q(x), c.heads)
        k, v = self.split(self.k(src), c.kv_heads), self.split(self.v(src), c.kv_heads)
        if cache is not None:  # (n, 2, kv_heads, S - L, d_head): keys and values of earlier positions
            k, v = torch.cat([cache[:, 0], k], dim=2), torch.cat([cache[:, 1], v], dim=2)
        group = c.heads // c.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        if rowwise:  # query i sees keys 0 .. S - L + i
            rows = []
            for i in range(c.length):
                seen = c.source - c.length + i + 1
                scores = q[:, :, i:i + 1] @ k[:, :, :seen].transpose(-2, -1) * c.d_head**-0.5
                rows.append(scores.softmax(-1) @ v[:, :, :seen])
            y = torch.cat(rows, dim=2)
        else:
            scores = q @ k.transpose(-2, -1) * c.d_head**-0.5
            if c.causal:
                scores = scores.masked_fill(~c.mask().to(scores.device), float("-inf"))
            y = scores.softmax(-1) @ v
        y = self.o(y.transpose(1, 2).flatten(-2))
        return y[0] if unbatched else y


@pytest.mark.torch_property
@examples(250)
@given(c=attn_configs(gqa=True, causal_fits=True), cached=st.booleans())
def test_grouped_query_attention_training(c: Attn, cached: bool, torch_log: Any) -> None:
    """GQA/MQA/MHA via num_kv_heads, training mode with FlopCounterMode: cross-attention (a source of S
    tokens) or decoding against a cache of S − L positions; causal counted in full."""
    model = GroupedQueryAttention(c).train()
    batch = c.shape[:-2]
    x = torch.randn(c.shape)
    source = cache = None
    if cached:
        cache = torch.randn(*batch, 2, c.kv_heads, c.source - c.length, c.d_head)
    elif c.kv_len is not None:
        source = torch.randn(*batch, c.kv_len, c.d)
    y = model(x, source, cache)
    macs = counted_macs(lambda: model(x, source, cache))
    kv_len = c.source if cached else c.kv_len
    cost = attention(c.shape, c.heads, num_kv_heads=c.kv_heads, kv_len=kv_len, bias=c.bias, causal=c.causal,
                     kv_cache=cached)
    compare(torch_log, "GQA attention (train)",
            {"shape": tuple(y.shape), "params": n_params(model), "macs": macs},
            {"shape": cost.out_shape, "params": cost.params, "macs": cost.macs}, (c, cached))


@pytest.mark.torch_property
@examples(200)
@given(c=attn_configs(gqa=True, causal_fits=True), cached=st.booleans())
def test_causal_half_against_rowwise_attention(c: Attn, cached: bool, torch_log: Any) -> None:
    """``causal_macs="half"`` = the MACs of computing each query row against only its unmasked keys
    (FlopCounterMode on the row-by-row module), = projections + 2·n·h·d_head·Σ_i (keys query i sees)."""
    c = Attn(c.n, c.length, c.heads, c.kv_heads, c.d_head, c.kv_len, c.bias, True)
    model = GroupedQueryAttention(c).train()
    batch = c.shape[:-2]
    x = torch.randn(c.shape)
    source = cache = None
    if cached:
        cache = torch.randn(*batch, 2, c.kv_heads, c.source - c.length, c.d_head)
    elif c.kv_len is not None:
        source = torch.randn(*batch, c.kv_len, c.d)
    kv_len = c.source if cached else c.kv_len
    half = attention(c.shape, c.heads, num_kv_heads=c.kv_heads, kv_len=kv_len, bias=c.bias, causal=True,
                     causal_macs="half", kv_cache=cached)
    full = attention(c.shape, c.heads, num_kv_heads=c.kv_heads, kv_len=kv_len, bias=c.bias, causal=True,
                     kv_cache=cached)
    pairs = sum(int(row.sum()) for row in c.mask())  # an explicit sum over query positions
    n = 1 if c.n is None else c.n
    projections = full.macs - 2 * n * c.heads * c.length * c.source * c.d_head
    assert torch.allclose(model(x, source, cache, rowwise=True), model(x, source, cache), atol=1e-5)
    compare(torch_log, "causal half (rowwise)",
            {"pairs": pairs, "macs": counted_macs(lambda: model(x, source, cache, rowwise=True)),
             "sum": projections + 2 * n * c.heads * pairs * c.d_head, "mask": n * c.heads * pairs},
            {"pairs": causal_pairs(c.length, c.source), "macs": half.macs, "sum": half.macs,
             "mask": half.elementwise["mask"]}, (c, cached))


@pytest.mark.torch_property
@examples(60)
@given(c=attn_configs(gqa=True))
def test_grouped_query_attention_no_grad_profile(c: Attn, torch_log: Any) -> None:
    c = Attn(c.n, c.length, c.heads, c.kv_heads, c.d_head, None, c.bias, c.causal)
    model = GroupedQueryAttention(c)
    report = nncost.profile(model, c.shape, device="cpu")
    cost = attn_cost(c)
    compare(torch_log, "GQA attention (no_grad, profile)", {"params": n_params(model), "macs": report.macs},
            {"params": cost.params, "macs": cost.macs}, c)


# --- nn.TransformerEncoderLayer: norm + attention + add + norm + feed_forward + add -----------------------


@dataclass(frozen=True)
class Layer:
    n: int | None
    length: int
    heads: int
    d_head: int
    d_ff: int
    norm_first: bool
    activation: str
    bias: bool
    causal: bool

    @property
    def shape(self) -> tuple[int, ...]:
        d = self.heads * self.d_head
        return (self.length, d) if self.n is None else (self.n, self.length, d)

    def module(self) -> nn.TransformerEncoderLayer:
        return nn.TransformerEncoderLayer(
            self.shape[-1], self.heads, self.d_ff, dropout=0.0, activation=self.activation, batch_first=True,
            norm_first=self.norm_first, bias=self.bias)

    def cost(self) -> list[nncost.LayerCost]:
        return transformer_block(self.shape, self.heads, self.d_ff, bias=self.bias, causal=self.causal,
                                 pre_norm=self.norm_first, activation=self.activation)


layer_configs = st.builds(
    Layer, n=st.one_of(st.none(), st.integers(1, 3)), length=st.integers(1, 12), heads=st.integers(1, 4),
    d_head=st.integers(1, 8), d_ff=st.integers(1, 48), norm_first=st.booleans(),
    activation=st.sampled_from(["gelu", "relu"]), bias=st.booleans(), causal=st.booleans())


def causal_mask(length: int, device: Any = "cpu") -> torch.Tensor:
    return nn.Transformer.generate_square_subsequent_mask(length, device=device)


@pytest.mark.torch_property
@examples(150)
@given(c=layer_configs)
def test_encoder_layer_training_flopcounter(c: Layer, torch_log: Any) -> None:
    """Training mode, grad enabled, attention on the math path (sdpa_kernel(MATH)): FlopCounterMode sees all."""
    layer = c.module().train()
    x = torch.randn(c.shape)
    kw = {"src_mask": causal_mask(c.length), "is_causal": True} if c.causal else {}
    with sdpa_kernel(SDPBackend.MATH):
        y = layer(x, **kw)
        macs = counted_macs(lambda: layer(x, **kw))
    parts = c.cost()
    expected_kinds = ["layernorm", "attention", "add", "layernorm", "feed_forward", "add"]
    assert sorted(p.kind for p in parts) == sorted(expected_kinds)
    compare(torch_log, "TransformerEncoderLayer (train)",
            {"shape": tuple(y.shape), "params": n_params(layer), "macs": macs,
             "norm": n_params(layer.norm1), "ffn": n_params(layer.linear1) + n_params(layer.linear2),
             "attn": n_params(layer.self_attn)},
            {"shape": parts[-1].out_shape, "params": total(parts, "params"), "macs": total(parts, "macs"),
             "norm": next(p.params for p in parts if p.kind == "layernorm"),
             "ffn": next(p.params for p in parts if p.kind == "feed_forward"),
             "attn": next(p.params for p in parts if p.kind == "attention")}, c)


class CausalEncoderLayer(nn.Module):
    def __init__(self, c: Layer) -> None:
        super().__init__()
        self.layer, self.causal = c.module(), c.causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.causal:
            return self.layer(x)
        return self.layer(x, src_mask=causal_mask(x.shape[-2], x.device), is_causal=True)


@pytest.mark.torch_property
@examples(80)
@given(c=layer_configs, device=st.sampled_from(["cpu", "meta"]))
def test_encoder_layer_no_grad_profile(c: Layer, device: str, torch_log: Any) -> None:
    """Eval under no_grad with ``nncost.profile``: on the CPU the fused ``_transformer_encoder_layer_fwd``."""
    model = CausalEncoderLayer(c).eval()
    report = nncost.profile(model, c.shape, device=device)
    parts = c.cost()
    compare(torch_log, "TransformerEncoderLayer (no_grad, profile)",
            {"params": n_params(model), "macs": report.macs},
            {"params": total(parts, "params"), "macs": total(parts, "macs")}, (c, device))


# --- MLPs, norms, embeddings and heads ------------------------------------------------------------------


class GatedMLP(nn.Module):
    """SwiGLU / GeGLU: W₂ (σ(W₁ x) ⊙ W₃ x)."""

    def __init__(self, d: int, d_ff: int, bias: bool, act: str) -> None:
        super().__init__()
        self.w1, self.w3 = nn.Linear(d, d_ff, bias=bias), nn.Linear(d, d_ff, bias=bias)
        self.w2 = nn.Linear(d_ff, d, bias=bias)
        self.act = nn.SiLU() if act == "silu" else nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(self.act(self.w1(x)) * self.w3(x))


@pytest.mark.torch_property
@examples(250)
@given(lead=st.lists(st.integers(1, 4), max_size=3), d=st.integers(1, 32), d_ff=st.integers(1, 64),
       gated=st.booleans(), bias=st.booleans(), act=st.sampled_from(["gelu", "silu", "relu"]),
       train=st.booleans())
def test_feed_forward_matches_torch(lead: list[int], d: int, d_ff: int, gated: bool, bias: bool, act: str,
                                    train: bool, torch_log: Any) -> None:
    if gated:
        module: nn.Module = GatedMLP(d, d_ff, bias, act)
    else:
        module = nn.Sequential(nn.Linear(d, d_ff, bias=bias), nn.ReLU() if act == "relu" else nn.GELU(),
                               nn.Linear(d_ff, d, bias=bias))
    shape = (*lead, d)
    x = torch.randn(shape)
    cost = feed_forward(shape, d_ff, gated=gated, bias=bias, activation=act)
    expected = {"shape": tuple(module(x).shape), "params": n_params(module)}
    if train:
        expected["macs"], test = counted_macs(lambda: module(x)), "feed_forward (train)"
    else:
        expected["macs"], test = nncost.profile(module.eval(), shape).macs, "feed_forward (no_grad, profile)"
    compare(torch_log, test, expected, {"shape": cost.out_shape, "params": cost.params, "macs": cost.macs},
            (shape, d_ff, gated, bias, act))
    if act != "relu":  # the activation is one elementwise operation per hidden unit
        assert cost.elementwise[act] == prod(lead) * d_ff


@pytest.mark.torch_property
@examples(150)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
       kind=st.sampled_from(["layernorm", "rmsnorm"]), bias=st.booleans())
def test_norm_params_match_torch(shape: tuple[int, ...], kind: str, bias: bool, torch_log: Any) -> None:
    d = shape[-1]
    module = nn.LayerNorm(d, bias=bias) if kind == "layernorm" else nn.RMSNorm(d)
    x = torch.randn(shape)
    cost = norm(shape, kind=kind, bias=bias)
    compare(torch_log, "norm", {"shape": tuple(module(x).shape), "params": n_params(module),
                                "macs": counted_macs(lambda: module(x)),
                                "weight": tuple(module.weight.shape),
                                "bias": None if getattr(module, "bias", None) is None else tuple(module.bias.shape)},
            {"shape": cost.out_shape, "params": cost.params, "macs": cost.macs, "weight": cost.weight_shape,
             "bias": cost.bias_shape}, (shape, kind, bias))


class TinyLM(nn.Module):
    """Token + position embeddings and an LM head, tied (the head reuses the token matrix) or untied."""

    def __init__(self, vocab: int, positions: int, d: int, tied: bool, bias: bool) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.head = nn.Linear(d, vocab, bias=bias)
        if tied:
            self.head.weight = self.tok.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[-1], device=ids.device)
        return self.head(self.tok(ids) + self.pos(positions))


@pytest.mark.torch_property
@examples(150)
@given(n=st.one_of(st.none(), st.integers(1, 3)), length=st.integers(1, 16), vocab=st.integers(1, 64),
       d=st.integers(1, 32), tied=st.booleans(), bias=st.booleans())
def test_embeddings_and_tied_head_match_torch(n: int | None, length: int, vocab: int, d: int, tied: bool,
                                              bias: bool, torch_log: Any) -> None:
    model = TinyLM(vocab, 16, d, tied, bias)
    ids_shape = (length,) if n is None else (n, length)
    ids = torch.randint(0, vocab, ids_shape)
    logits = model(ids)
    tok, pos = embedding(ids_shape, vocab, d), embedding((length,), 16, d)
    head = lm_head(tok.out_shape, vocab, tied=tied, bias=bias)
    compare(torch_log, "embedding + lm_head",
            {"params": n_params(model), "macs": counted_macs(lambda: model(ids)), "shape": tuple(logits.shape),
             "embedded": tuple(model.tok(ids).shape), "untied": n_params(model.head) if not tied else None},
            {"params": tok.params + pos.params + head.params, "macs": tok.macs + head.macs, "shape": head.out_shape,
             "embedded": tok.out_shape, "untied": head.params if not tied else None},
            (ids_shape, vocab, d, tied, bias))


def test_no_grad_profiles_see_the_fused_kernels() -> None:
    """The no_grad comparisons above do reach torch's fused fast paths on the CPU (FlopCounterMode's blind
    spots, counted by ``nncost.profile``): the row's MACs are all ``blind_macs``."""
    c = Attn(2, 5, 4, 4, 4, None, True, False)
    report = nncost.profile(SelfAttention(c).eval(), c.shape, device="cpu")
    row = next(r for r in report.rows if r.name == "mha")
    assert row.blind_macs == row.macs == attn_cost(c).macs  # _native_multi_head_attention
    layer = Layer(2, 5, 4, 4, 16, True, "gelu", True, False)
    report = nncost.profile(CausalEncoderLayer(layer).eval(), layer.shape, device="cpu")
    assert report.macs == total(layer.cost(), "macs")
    assert sum(r.blind_macs for r in report.rows if r.name == "layer") == report.macs  # _transformer_encoder_layer_fwd
