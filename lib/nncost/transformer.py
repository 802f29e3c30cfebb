"""Closed-form costs of a Transformer's parts: attention, the MLP, norms, embeddings, the LM head, a block.

Shapes are batch-first, like ``nn.MultiheadAttention(batch_first=True)``: ``(n, L, d)`` or an unbatched
``(L, d)``; token ids are ``(n, L)`` or ``(L,)``. Every function returns a :class:`nncost.LayerCost`
(``transformer_block`` a list of them) and needs no torch.

Conventions (the book's, see :mod:`nncost.layers`): ``macs`` counts only matrix products (the
projections and the two attention products QKᵀ and A·V); ``flops = 2 * macs``. Bias adds, the score
scaling, softmax, masking, norms, activations and residual adds are elementwise operations, counted
separately by kind, **one operation per element they produce** (a softmax is one operation per score,
although it is an exp, a sum and a division; a LayerNorm's normalisation is one per element, although
it needs a mean and a variance). ``m`` below is the number of tokens, ``prod(in_shape[:-1])``.

Attention: ``h`` query heads of width ``d_head = d / h``; ``kv_heads`` key/value heads (``h``: multi-head
attention, MHA; ``1``: multi-query attention, MQA; in between: grouped-query attention, GQA), each shared
by ``h / kv_heads`` query heads. Sharing a K/V head (``repeat_interleave``) costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import ceil, prod
from numbers import Real
from typing import Any

from nncost._checks import as_bool, as_int, as_shape
from nncost.layers import LayerCost

_CAUSAL_MACS = ("full", "half")
_QKV = ("separate", "fused")
_NORMS = ("layernorm", "rmsnorm")


def _choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: must be one of {', '.join(map(repr, allowed))}, got {type(value).__name__} {value!r}")
    if value not in allowed:
        raise ValueError(f"{name}: must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name}: must be a non-empty string such as 'gelu', got {value!r}")
    return value


def _tokens(in_shape: Any) -> tuple[tuple[int, ...], int, int, int]:
    """``(shape, n, L, d)`` of a ``(n, L, d)`` or ``(L, d)`` input (n = 1 when unbatched)."""
    shape = as_shape("in_shape", in_shape, (2, 3), "(n, L, d) or (L, d)")
    n = shape[0] if len(shape) == 3 else 1
    return shape, n, shape[-2], shape[-1]


def causal_pairs(length: int, kv_len: int | None = None) -> int:
    """Query-key pairs a causal mask leaves unmasked, for ``length`` queries over ``kv_len`` keys.

    The queries are the *last* ``length`` of the ``kv_len`` positions (bottom-right alignment: decoding
    ``length`` new tokens against a cache), so query ``i`` (0-based) sees ``kv_len − length + i + 1`` keys:
    Σ_i (S − L + i + 1) = L·(S − L) + L(L + 1)/2, which is L(L + 1)/2 when S = L.
    Needs ``kv_len >= length`` (else the first queries would see no key at all).
    """
    length = as_int("length", length)
    kv_len = length if kv_len is None else as_int("kv_len", kv_len)
    if kv_len < length:
        raise ValueError(
            f"kv_len: the causal half needs kv_len >= the query length L (the queries are the last L of the "
            f"kv_len positions), got kv_len={kv_len} < L={length}"
        )
    return length * (kv_len - length) + length * (length + 1) // 2


def attention(
    in_shape: Sequence[int],
    num_heads: int,
    *,
    num_kv_heads: int | None = None,
    kv_len: int | None = None,
    bias: bool = True,
    causal: bool = False,
    causal_macs: str = "full",
    qkv: str = "separate",
    kv_cache: bool = False,
) -> LayerCost:
    """Multi-head attention (MHA / GQA / MQA) with its four projections, on an input ``(n, L, d)`` or ``(L, d)``.

    d_head = d/h, kv = kv_heads·d_head, S = ``kv_len`` (keys per query; L when ``None``: self-attention).
    params = d·d (W_q) + 2·d·kv (W_k, W_v) + d·d (W_o), plus d + 2·kv + d with ``bias``.
    macs = n·L·d·d (Q) + 2·n·S_p·d·kv (K, V) + n·h·L·S·d_head (QKᵀ) + n·h·L·S·d_head (A·V) + n·L·d·d (out),
    where S_p = S tokens are projected to keys and values (cross-attention from a source of ``kv_len``
    tokens of width d, as ``nn.MultiheadAttention(q, k, v)``), or only the L new ones with ``kv_cache=True``
    (decoding: the other keys and values are read from a cache; needs S >= L).

    Causal (``causal=True``): with ``causal_macs="full"`` the two score products cost the full L·S pairs
    per head (what dense kernels compute and ``FlopCounterMode`` counts: the mask is applied after the
    product); with ``"half"`` only the unmasked pairs P = L(L+1)/2 when S = L, and in general, with the
    queries the last L of the S positions, P = L·(S − L) + L(L+1)/2 (see :func:`nncost.transformer.causal_pairs`; S < L
    is refused). The masked products are then skipped, as a kernel that skips masked blocks would.

    elementwise (one operation per element): ``scale`` (scores · 1/√d_head), ``softmax`` and, when causal,
    ``mask`` each n·h·C, where C = L·S scores are computed (P with ``"half"``); ``bias`` =
    n·L·d + 2·n·S_p·kv + n·L·d bias adds with ``bias``.
    ``qkv="fused"`` (one in-projection, like torch's ``in_proj_weight``) gives the same counts with
    ``weight_shape = (d + 2·kv, d)`` and ``bias_shape = (d + 2·kv,)``; ``"separate"`` leaves them ``None``.
    """
    shape, n, length, d = _tokens(in_shape)
    heads = as_int("num_heads", num_heads)
    kv_heads = heads if num_kv_heads is None else as_int("num_kv_heads", num_kv_heads)
    source = length if kv_len is None else as_int("kv_len", kv_len)
    bias = as_bool("bias", bias)
    causal = as_bool("causal", causal)
    causal_macs = _choice("causal_macs", causal_macs, _CAUSAL_MACS)
    qkv = _choice("qkv", qkv, _QKV)
    kv_cache = as_bool("kv_cache", kv_cache)
    if d % heads:
        raise ValueError(
            f"num_heads: must divide d_model = in_shape[-1] = {d} (each head gets d_model/num_heads), "
            f"but {d} % {heads} = {d % heads}"
        )
    if heads % kv_heads:
        raise ValueError(
            f"num_kv_heads: must divide num_heads = {heads} (each K/V head serves the same number of query "
            f"heads), but {heads} % {kv_heads} = {heads % kv_heads}"
        )
    if kv_cache and kv_len is None:
        raise ValueError("kv_len: kv_cache=True needs kv_len, the positions in the cache (new tokens included)")
    if kv_cache and source < length:
        raise ValueError(
            f"kv_len: with kv_cache=True the cache holds the L new tokens too, so kv_len >= L, got {source} < {length}"
        )
    d_head = d // heads
    kv = kv_heads * d_head
    projected = length if kv_cache else source  # tokens whose keys and values are computed here

    if causal and causal_macs == "half":
        scores = causal_pairs(length, source)
    else:
        scores = length * source
    scores *= n * heads  # score entries computed, over batch and heads

    macs = (
        n * length * d * d  # Q = X W_qᵀ
        + 2 * n * projected * d * kv  # K, V
        + 2 * scores * d_head  # QKᵀ and A·V
        + n * length * d * d  # output projection
    )
    elementwise = {"scale": scores, "softmax": scores}
    if causal:
        elementwise["mask"] = scores
    if bias:
        elementwise["bias"] = 2 * n * length * d + 2 * n * projected * kv
    fused = qkv == "fused"
    return LayerCost(
        kind="attention",
        in_shape=shape,
        out_shape=shape,
        params=2 * d * d + 2 * d * kv + ((2 * d + 2 * kv) if bias else 0),
        macs=macs,
        elementwise=elementwise,
        weight_shape=(d + 2 * kv, d) if fused else None,
        bias_shape=(d + 2 * kv,) if fused and bias else None,
    )


def feed_forward(
    in_shape: Sequence[int], d_ff: int, *, gated: bool = False, bias: bool = True, activation: str = "gelu"
) -> LayerCost:
    """The block's MLP on ``(*, d)``: d → d_ff → d, or gated (GLU variants: SwiGLU, GeGLU) with three matrices.

    m = prod(in_shape[:-1]) tokens.

    Plain: y = W₂ σ(W₁ x + b₁) + b₂; params = 2·d·d_ff (+ d_ff + d); macs = 2·m·d·d_ff.
    Gated: y = W₂ (σ(W₁ x) ⊙ W₃ x); params = 3·d·d_ff (+ 2·d_ff + d); macs = 3·m·d·d_ff.
    elementwise: ``activation`` (named after it) m·d_ff; ``gate`` (the product ⊙) m·d_ff when gated;
    ``bias`` m·(d_ff + d) (gated: m·(2·d_ff + d)) with ``bias``.
    """
    shape = as_shape("in_shape", in_shape, range(1, 33), "(*, d)")
    d_ff = as_int("d_ff", d_ff)
    gated = as_bool("gated", gated)
    bias = as_bool("bias", bias)
    activation = _name("activation", activation)
    d, m = shape[-1], prod(shape[:-1])
    inner = 2 * d_ff if gated else d_ff  # width of the first projection(s)
    elementwise = {activation: m * d_ff}
    if gated:
        elementwise["gate"] = m * d_ff
    if bias:
        elementwise["bias"] = m * (inner + d)
    return LayerCost(
        kind="feed_forward",
        in_shape=shape,
        out_shape=shape,
        params=(inner + d_ff) * d + ((inner + d) if bias else 0),
        macs=m * (inner + d_ff) * d,
        elementwise=elementwise,
    )


def norm(in_shape: Sequence[int], *, kind: str = "layernorm", bias: bool = True) -> LayerCost:
    """LayerNorm or RMSNorm over the last dimension of ``(*, d)``: no MACs, elementwise only.

    LayerNorm: y = (x − mean)/√(var + ε)·γ + β; params 2·d (γ, β), or d with ``bias=False``.
    RMSNorm: y = x/√(mean(x²) + ε)·γ; params d (torch's ``nn.RMSNorm`` has no bias: ``bias`` is ignored).
    elementwise over the m·d elements: ``normalize`` m·d, ``scale`` m·d (γ), ``shift`` m·d (β, LayerNorm
    with bias); m = prod(in_shape[:-1]) tokens.
    """
    shape = as_shape("in_shape", in_shape, range(1, 33), "(*, d)")
    kind = _choice("kind", kind, _NORMS)
    bias = as_bool("bias", bias) and kind == "layernorm"
    d, elements = shape[-1], prod(shape)
    elementwise = {"normalize": elements, "scale": elements}
    if bias:
        elementwise["shift"] = elements
    return LayerCost(
        kind=kind,
        in_shape=shape,
        out_shape=shape,
        params=2 * d if bias else d,
        macs=0,
        elementwise=elementwise,
        weight_shape=(d,),
        bias_shape=(d,) if bias else None,
    )


def embedding(in_shape: Sequence[int], vocab_size: int, d_model: int) -> LayerCost:
    """``nn.Embedding(vocab_size, d_model)`` on token ids ``(n, L)`` or ``(L,)``: output ``(*, d_model)``.

    params = vocab_size·d_model; macs 0 and no elementwise operations (a row lookup, a copy).
    A learned positional table is the same layer with ``vocab_size`` = the number of positions.
    """
    shape = as_shape("in_shape", in_shape, (1, 2), "(n, L) or (L,) token ids")
    vocab_size = as_int("vocab_size", vocab_size)
    d_model = as_int("d_model", d_model)
    return LayerCost(
        kind="embedding",
        in_shape=shape,
        out_shape=(*shape, d_model),
        params=vocab_size * d_model,
        macs=0,
        weight_shape=(vocab_size, d_model),
    )


def lm_head(in_shape: Sequence[int], vocab_size: int, *, tied: bool = False, bias: bool = False) -> LayerCost:
    """The output head d → vocab on ``(*, d)`` (m = prod(in_shape[:-1]) tokens): logits = X Eᵀ (+ b).

    params = vocab·d untied; 0 when ``tied`` (the token embedding's matrix E is reused, so it is counted
    once, in :func:`nncost.embedding`); + vocab with ``bias`` (a bias is never tied). macs = m·d·vocab either way:
    tying saves parameters, not arithmetic. elementwise: ``bias`` m·vocab with ``bias``.
    """
    shape = as_shape("in_shape", in_shape, range(1, 33), "(*, d)")
    vocab_size = as_int("vocab_size", vocab_size)
    tied = as_bool("tied", tied)
    bias = as_bool("bias", bias)
    d, m = shape[-1], prod(shape[:-1])
    return LayerCost(
        kind="lm_head",
        in_shape=shape,
        out_shape=(*shape[:-1], vocab_size),
        params=(0 if tied else vocab_size * d) + (vocab_size if bias else 0),
        macs=m * d * vocab_size,
        elementwise={"bias": m * vocab_size} if bias else {},
        weight_shape=(vocab_size, d),
        bias_shape=(vocab_size,) if bias else None,
    )


def residual_add(in_shape: Sequence[int]) -> LayerCost:
    """A residual connection x + f(x) on any shape: one elementwise ``add`` per element, nothing else."""
    shape = as_shape("in_shape", in_shape, range(1, 33), "(any shape)")
    return LayerCost(kind="add", in_shape=shape, out_shape=shape, params=0, macs=0, elementwise={"add": prod(shape)})


def transformer_block(
    in_shape: Sequence[int],
    num_heads: int,
    d_ff: int,
    *,
    num_kv_heads: int | None = None,
    norm: str = "layernorm",
    gated: bool = False,
    bias: bool = True,
    causal: bool = False,
    causal_macs: str = "full",
    pre_norm: bool = True,
    activation: str | None = None,
) -> list[LayerCost]:
    """One Transformer block on ``(n, L, d)`` or ``(L, d)``, as a list of its parts (their sums are its cost).

    Pre-norm (GPT-2, Llama, ViT): x + Attn(Norm(x)), then x + FFN(Norm(x)):
    ``[norm, attention, add, norm, feed_forward, add]``. Post-norm (the original Transformer, BERT,
    ``nn.TransformerEncoderLayer`` by default): Norm(x + Attn(x)), then Norm(x + FFN(x)):
    ``[attention, add, norm, feed_forward, add, norm]``. ``bias`` applies to the projections, the MLP
    and the LayerNorms (as torch's ``bias=False``); ``activation`` defaults to ``"silu"`` when ``gated``
    (SwiGLU) and ``"gelu"`` otherwise.
    Classic block (h heads, d_ff = 4d, biases, LayerNorm): params = 12·d² + 13·d.
    """
    shape = _tokens(in_shape)[0]
    kind = _choice("norm", norm, _NORMS)
    pre_norm = as_bool("pre_norm", pre_norm)
    gated = as_bool("gated", gated)
    if activation is None:
        activation = "silu" if gated else "gelu"
    attn = attention(shape, num_heads, num_kv_heads=num_kv_heads, bias=bias, causal=causal,
                     causal_macs=causal_macs)
    ffn = feed_forward(shape, d_ff, gated=gated, bias=bias, activation=activation)
    norm_cost = _norm(shape, kind=kind, bias=bias)
    add = residual_add(shape)
    if pre_norm:
        return [norm_cost, attn, add, norm_cost, ffn, add]
    return [attn, add, norm_cost, ffn, add, norm_cost]


_norm = norm


def kv_cache_bytes(
    *,
    layers: int,
    kv_heads: int,
    head_dim: int,
    seq_len: int,
    batch: int = 1,
    bytes_per_element: int | float = 2,
) -> int:
    """Bytes of a KV cache: 2 · layers · kv_heads · head_dim · seq_len · batch · bytes_per_element.

    The 2 is one key and one value vector per layer, K/V head and position. ``bytes_per_element`` is 2
    for fp16/bf16, 4 for fp32, 1 for int8/fp8; a fraction (0.5 for 4-bit) is allowed, rounding the
    total up to whole bytes. With GQA/MQA pass the number of K/V heads, not the query heads.
    """
    values = [as_int(name, value) for name, value in
              (("layers", layers), ("kv_heads", kv_heads), ("head_dim", head_dim), ("seq_len", seq_len),
               ("batch", batch))]
    size = _bytes_per_element(bytes_per_element)
    return ceil(2 * prod(values) * size)


def _bytes_per_element(value: Any) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"bytes_per_element: must be a positive number such as 2, got {type(value).__name__} {value!r}")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"bytes_per_element: must be a finite number > 0, got {value!r}")
    return Fraction(value)


def flops_per_token(
    params_non_embedding: int, *, layers: int, d_model: int, context: int, causal_half: bool = False
) -> int:
    """Forward FLOPs per token of a decoder: 2·N for the weights plus the attention products over the context.

    N = ``params_non_embedding`` (each weight is one MAC, two FLOPs, per token; biases and norms are
    counted in N too, so 2·N is a close upper estimate). Attention per layer and token: QKᵀ and A·V cost
    ``context``·d_model MACs each, i.e. 4·context·d_model FLOPs:

    - ``causal_half=False`` (default, the full score matrix, as dense kernels, ``FlopCounterMode`` and
      ``attention(causal_macs="full")`` count): 2·N + 4·layers·context·d_model;
    - ``causal_half=True`` (only the unmasked pairs, averaged over the ``context`` positions of a causal
      sequence: a token attends to (context + 1)/2 keys on average): 2·N + 2·layers·(context + 1)·d_model.

    Kaplan et al. (2020, Table 1) write C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn: their attention term is
    half of the default here (it counts one of the two products over the full context, which equals
    both products over the causal half, up to the +1).
    """
    n = as_int("params_non_embedding", params_non_embedding)
    layers = as_int("layers", layers)
    d_model = as_int("d_model", d_model)
    context = as_int("context", context)
    causal_half = as_bool("causal_half", causal_half)
    attention_term = 2 * layers * (context + 1) * d_model if causal_half else 4 * layers * context * d_model
    return 2 * n + attention_term


def training_flops_per_token(
    params_non_embedding: int, *, layers: int, d_model: int, context: int, causal_half: bool = False
) -> int:
    """Training FLOPs per token = 3 × :func:`nncost.flops_per_token` (forward, plus a backward pass of twice the
    forward: gradients with respect to the activations and to the weights): ≈ 6·N."""
    return 3 * flops_per_token(params_non_embedding, layers=layers, d_model=d_model, context=context,
                               causal_half=causal_half)
