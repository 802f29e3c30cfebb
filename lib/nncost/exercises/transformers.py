"""Checkers for exercise set 5, Part V — Beyond the notes: Transformers (chapters 23 and 24).

The exercises are in ``book/exercises/ex5-transformers.ipynb``.

Every expected answer is derived here, when the checker runs, from the exercise's parameters (the module
constants below, and the configurations of :mod:`nncost.zoo`): with the formulas of
:mod:`nncost.transformer` (:func:`nncost.attention`, :func:`nncost.transformer_block`,
:func:`nncost.kv_cache_bytes`, :func:`nncost.flops_per_token`, ...), :func:`nncost.conv2d`, ``numel`` and
:func:`nncost.profile` of the zoo's models built on the meta device (shapes only, no memory), and torch
itself for the two implementations whose output is an array (``F.conv2d`` for the patch embedding,
``F.scaled_dot_product_attention`` for attention). No answer is stored. The derivations that build whole
models are cached for the session, and none runs while every answer of an exercise is blank.

    from nncost.exercises import transformers as ex
    ex.check_attention_params(mha=16_785_408, gqa=10_490_880, mqa=8_917_248)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

import nncost
from nncost.exercises._core import (
    Verdict,
    _record,
    check_answers,
    check_function,
    is_blank,
    reread,
)

# --------------------------------------------------------------------------------------------------
# Where each exercise sends a student who got it wrong: (chapter, section heading, what to look for).
# tests/test_exercises_transformers.py checks that every section heading exists in its chapter's notebook.
# --------------------------------------------------------------------------------------------------

CHAPTERS: dict[int, tuple[str, str]] = {
    23: ("05-beyond/23-transformers.ipynb", "Transformers: parameters, FLOPs per token and the KV cache"),
    24: ("05-beyond/24-vit-vs-resnet.ipynb", "A Transformer for images: ViT-B/16 against ResNet-50"),
}

HINTS: dict[str, tuple[int, str, str]] = {
    "5.1": (23, "Parameters of a block",
            "W_q and W_o are d × d; W_k and W_v map d to h_kv·d_h with d_h = d/h; each projection has a bias "
            "as wide as its output"),
    "5.2": (24, "The idea: an image as a sequence of patches",
            "a patch embedding is a P × P convolution with stride P: one token per patch, plus the class token; "
            "(c·P² + 1)·d parameters and c·P²·d MACs per patch"),
    "5.3": (23, "The KV cache",
            "one key and one value vector of d_h numbers per layer, per K/V head and per token: "
            "2 · layers · h_kv · d_h · bytes per number"),
    "5.4": (23, "Parameters of a block",
            "neither the heads nor the place of the norms (post-norm) change the count; W_q, W_k, W_v, W_o are "
            "d × d, W_1 and W_2 d × d_ff, each with a bias, and a LayerNorm has 2·d (d without its bias); "
            "MACs: every weight once per token, plus 2·L²·d for QKᵀ and A·V"),
    "5.5": (23, "GPT-2 small, parameter by parameter",
            "V·d + n_ctx·d + layers·(12·d² + 13·d) + 2·d; a tied output layer adds nothing, an untied one V·d"),
    "5.6": (23, "FLOPs per token",
            "N is every weight matrix a token goes through: the four attention projections, the three SwiGLU "
            "matrices and the output layer; then 2·N + 4·layers·L·d"),
    "5.7": (23, "Parameters of a block",
            "W_k and W_v have h_kv·d_h rows; a gated MLP has three d × d_ff matrices and biases 2·d_ff + d; "
            "an RMSNorm has d parameters (no bias) whatever `bias` says"),
    "5.8": (24, "The idea: an image as a sequence of patches",
            "cut the image into (H/P)·(W/P) patches, row by row, each flattened as (channel, row, column) like "
            "the convolution's weight, then multiply by weight.reshape(d, −1)ᵀ and add the bias"),
    "5.9": (23, "FLOPs per token",
            "a full score matrix costs L·S·d MACs for QKᵀ and as many for A·V; a causal one needs L(L+1)/2 "
            "pairs; the i-th generated token meets i keys"),
    "5.10": (23, "Where attention catches up",
             "L* = (weights of one block) / (2·d): grouping K/V heads shrinks the weights, not the "
             "attention products, which every query head computes"),
    "5.11": (23, "Training: about $6N$ per token",
             "training costs 3 × the forward pass per token: 6·N·D for the weights, 12·layers·L·d·D for "
             "attention; GPU-hours = FLOPs / (FLOP/s per GPU) / 3600"),
    "5.12": (23, "The KV cache",
             "the sequences share what the bf16 weights (2 bytes each) leave of the budget; with 32 K/V heads "
             "the cache is 4 times larger and W_k, W_v add 32·2·d·(d − 1024) parameters"),
    "5.13": (24, "Side by side",
             "T = 1 + (224/16)² tokens; MACs = 196·c·P²·d + layers·(T·12·d² + 2·T²·d) + d·classes"),
    "5.14": (23, "The idea: a block is four matrices",
             "per head softmax(q kᵀ / √d_h) v, query head j using K/V head j // (h / h_kv); a causal mask "
             "hides the keys after the query (−∞ above the diagonal)"),
}

# Exercises whose hint also sends the reader to a second section: (chapter, section).
ALSO: dict[str, tuple[int, str]] = {
    "5.2": (24, "ViT-B/16, counted"),
    "5.4": (23, "What each counter sees"),
    "5.9": (23, "The KV cache"),
    "5.13": (24, "ViT-B/16, counted"),
}


def hint(exercise: str) -> str:
    """The hint shown with a wrong answer: the chapter and section(s) to reread, and what to look for."""
    chapter, section, advice = HINTS[exercise]
    also = ALSO.get(exercise)
    second = (also[0], CHAPTERS[also[0]][1], also[1]) if also else None
    return reread(chapter, CHAPTERS[chapter][1], section, also=second, advice=advice)


Expected = Mapping[str, tuple[Any, float]]


def _check(exercise: str, got: Mapping[str, Any], derive: Callable[[], Expected]) -> Verdict:
    """Named answers with a tolerance each, derived only once one is answered, with this set's hint."""
    return check_answers(exercise, got, derive, hint=hint(exercise))

def _exact(**values: Any) -> dict[str, tuple[Any, float]]:
    return {name: (value, 0.0) for name, value in values.items()}


def _meta(build: Callable[[], Any]) -> Any:
    """A zoo model built on the meta device (shapes, no memory), in inference mode."""
    import torch

    with torch.device("meta"):
        return build().eval()


def _numel(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def _sum(parts: Sequence[nncost.LayerCost], what: str) -> int:
    return sum(getattr(part, what) for part in parts)


ESTIMATE_TOLERANCE = 0.01  # estimates and ratios: within 1 %


# --------------------------------------------------------------------------------------------------
# 5.1  Attention's weights: MHA, GQA, MQA (chapter 23)
# --------------------------------------------------------------------------------------------------

#: Self-attention of width d = 2048 with 16 query heads, biases on all four projections; 16, 4 or 1 K/V heads.
ATTN_D, ATTN_HEADS = 2048, 16
ATTN_KV_HEADS: dict[str, int] = {"mha": 16, "gqa": 4, "mqa": 1}


def check_attention_params(mha: Any = ..., gqa: Any = ..., mqa: Any = ...) -> Verdict:
    """Exercise 5.1: nncost.attention((1, 2048), 16, num_kv_heads=16, 4, 1).params, biases included."""
    def derive() -> Expected:
        return _exact(**{name: nncost.attention((1, ATTN_D), ATTN_HEADS, num_kv_heads=kv).params
                         for name, kv in ATTN_KV_HEADS.items()})

    return _check("5.1", {"mha": mha, "gqa": gqa, "mqa": mqa}, derive)


# --------------------------------------------------------------------------------------------------
# 5.2  ViT-L/14's patches (chapter 24)
# --------------------------------------------------------------------------------------------------

#: ViT-L/14 on one 3×224×224 image: patches of 14×14, width d = 1024.
VIT_L14_IMAGE = (1, 3, 224, 224)
VIT_L14_PATCH, VIT_L14_D = 14, 1024


def check_vit_patches(tokens: Any = ..., params: Any = ..., macs: Any = ...) -> Verdict:
    """Exercise 5.2: tokens (patches + class token), params and MACs of the patch embedding, by nncost.conv2d."""
    def derive() -> Expected:
        embed = nncost.conv2d(VIT_L14_IMAGE, VIT_L14_D, VIT_L14_PATCH, stride=VIT_L14_PATCH)
        return _exact(tokens=math.prod(embed.out_shape[-2:]) + 1, params=embed.params, macs=embed.macs)

    return _check("5.2", {"tokens": tokens, "params": params, "macs": macs}, derive)


# --------------------------------------------------------------------------------------------------
# 5.3  The KV cache, per token (chapter 23)
# --------------------------------------------------------------------------------------------------

KV_BYTES = 2  # float16 / bfloat16
KV_LONG_CONTEXT = 8192


def _kv_bytes(config: Any, seq_len: int, *, kv_heads: int | None = None, batch: int = 1) -> int:
    """nncost.kv_cache_bytes for a zoo configuration (GPT-2's or Llama's) in 16-bit numbers."""
    heads = getattr(config, "n_kv_heads", config.n_heads) if kv_heads is None else kv_heads
    return nncost.kv_cache_bytes(layers=config.n_layers, kv_heads=heads, head_dim=config.d_model // config.n_heads,
                                 seq_len=seq_len, batch=batch, bytes_per_element=KV_BYTES)


def check_kv_per_token(gpt2_xl: Any = ..., llama3_8b: Any = ..., llama3_8b_full: Any = ...) -> Verdict:
    """Exercise 5.3: nncost.kv_cache_bytes for zoo's GPT2_XL and LLAMA3_8B, per token and at 8192 tokens."""
    def derive() -> Expected:
        from nncost.zoo.gpt import GPT2_XL
        from nncost.zoo.llama import LLAMA3_8B

        return _exact(gpt2_xl=_kv_bytes(GPT2_XL, 1), llama3_8b=_kv_bytes(LLAMA3_8B, 1),
                      llama3_8b_full=_kv_bytes(LLAMA3_8B, KV_LONG_CONTEXT))

    return _check("5.3", {"gpt2_xl": gpt2_xl, "llama3_8b": llama3_8b, "llama3_8b_full": llama3_8b_full}, derive)


# --------------------------------------------------------------------------------------------------
# 5.4  The original Transformer's encoder layer (chapter 23)
# --------------------------------------------------------------------------------------------------

#: nn.TransformerEncoderLayer(512, 8, 2048) (post-norm, ReLU) on one sentence of 128 tokens.
BASE_D, BASE_HEADS, BASE_FF, BASE_TOKENS = 512, 8, 2048, 128


def _base_layer(bias: bool = True) -> list[nncost.LayerCost]:
    return nncost.transformer_block((1, BASE_TOKENS, BASE_D), BASE_HEADS, BASE_FF, bias=bias, pre_norm=False,
                                    activation="relu")


def check_encoder_layer(params: Any = ..., params_no_bias: Any = ..., macs: Any = ...) -> Verdict:
    """Exercise 5.4: nncost.transformer_block of the base encoder layer (post-norm), with and without biases."""
    def derive() -> Expected:
        return _exact(params=_sum(_base_layer(), "params"), params_no_bias=_sum(_base_layer(False), "params"),
                      macs=_sum(_base_layer(), "macs"))

    return _check("5.4", {"params": params, "params_no_bias": params_no_bias, "macs": macs}, derive)


# --------------------------------------------------------------------------------------------------
# 5.5  GPT-2 XL, with and without its embeddings (chapter 23)
# --------------------------------------------------------------------------------------------------

def _gpt2_parts(config: Any) -> dict[str, int]:
    """GPT-2's parameters by part, from nncost's formulas (the chapter checks them against the zoo's numel)."""
    tokens = (1, config.n_ctx)
    block = nncost.transformer_block((1, config.n_ctx, config.d_model), config.n_heads, config.d_ff, causal=True)
    return {
        "wte": nncost.embedding(tokens, config.vocab_size, config.d_model).params,
        "wpe": nncost.embedding(tokens, config.n_ctx, config.d_model).params,
        "blocks": config.n_layers * _sum(block, "params"),
        "ln_f": nncost.norm((1, config.d_model)).params,
        "lm_head": nncost.lm_head((1, config.d_model), config.vocab_size, tied=True).params,
        "untied": nncost.lm_head((1, config.d_model), config.vocab_size).params,
    }


def check_gpt2_xl(params: Any = ..., non_embedding: Any = ..., untied: Any = ...) -> Verdict:
    """Exercise 5.5: GPT-2 XL (zoo's GPT2_XL) by nncost.embedding, transformer_block, norm and lm_head."""
    def derive() -> Expected:
        from nncost.zoo.gpt import GPT2_XL

        parts = _gpt2_parts(GPT2_XL)
        total = parts["wte"] + parts["wpe"] + parts["blocks"] + parts["ln_f"] + parts["lm_head"]
        return _exact(params=total, non_embedding=total - parts["wte"] - parts["wpe"],
                      untied=total - parts["lm_head"] + parts["untied"])

    return _check("5.5", {"params": params, "non_embedding": non_embedding, "untied": untied}, derive)


# --------------------------------------------------------------------------------------------------
# 5.6  FLOPs per token of Llama 2 7B (chapter 23)
# --------------------------------------------------------------------------------------------------

LLAMA_CONTEXT = 4096


def _llama_matrices(config: Any) -> int:
    """Weights of one Llama block's matrices: attention (GQA as configured) and SwiGLU, no biases, no norms."""
    attention = nncost.attention((1, config.d_model), config.n_heads, num_kv_heads=config.n_kv_heads, bias=False)
    mlp = nncost.feed_forward((1, config.d_model), config.d_ff, gated=True, bias=False)
    return attention.params + mlp.params


def check_llama_flops(n: Any = ..., flops: Any = ..., attention_share: Any = ...) -> Verdict:
    """Exercise 5.6: N = blocks' and output layer's matrices of LLAMA2_7B; nncost.flops_per_token at 4096."""
    def derive() -> Expected:
        from nncost.zoo.llama import LLAMA2_7B as cfg

        matrices = cfg.n_layers * _llama_matrices(cfg) + nncost.lm_head((1, cfg.d_model), cfg.vocab_size).params
        total = nncost.flops_per_token(matrices, layers=cfg.n_layers, d_model=cfg.d_model, context=LLAMA_CONTEXT)
        return {"n": (matrices, 0.0), "flops": (total, 0.0),
                "attention_share": ((total - 2 * matrices) / total, ESTIMATE_TOLERANCE)}

    return _check("5.6", {"n": n, "flops": flops, "attention_share": attention_share}, derive)


# --------------------------------------------------------------------------------------------------
# 5.7  A block's parameters, as a function (chapter 23)
# --------------------------------------------------------------------------------------------------

#: (d, num_heads, d_ff, keyword arguments) for block_params: GPT-2 small and tiny, the original Transformer with
#: and without biases, Llama 2 7B, Mistral 7B (GQA), an MQA variant, the zoo's tiny Llama, a gated MLP with
#: biases and LayerNorms, and GQA with biases but RMSNorm.
BLOCK_CASES: tuple[tuple[int, int, int, dict[str, Any]], ...] = (
    (768, 12, 3072, {}),
    (64, 4, 256, {}),
    (512, 8, 2048, {}),
    (512, 8, 2048, {"bias": False}),
    (4096, 32, 11008, {"gated": True, "bias": False, "norm": "rmsnorm"}),
    (4096, 32, 14336, {"num_kv_heads": 8, "gated": True, "bias": False, "norm": "rmsnorm"}),
    (4096, 32, 11008, {"num_kv_heads": 1, "gated": True, "bias": False, "norm": "rmsnorm"}),
    (64, 4, 160, {"num_kv_heads": 2, "gated": True, "bias": False, "norm": "rmsnorm"}),
    (256, 8, 683, {"gated": True}),
    (1024, 16, 4096, {"num_kv_heads": 4, "norm": "rmsnorm"}),
)


def block_params_reference(d: int, num_heads: int, d_ff: int, num_kv_heads: int | None = None, *,
                           gated: bool = False, bias: bool = True, norm: str = "layernorm") -> int:
    """The parameters of a pre-norm block by nncost.transformer_block (the reference block_params)."""
    parts = nncost.transformer_block((1, d), num_heads, d_ff, num_kv_heads=num_kv_heads, norm=norm, gated=gated,
                                     bias=bias)
    return _sum(parts, "params")


def check_block_params(function: Callable[..., int] | Any) -> Verdict:
    """Exercise 5.7: block_params(d, num_heads, d_ff, num_kv_heads, gated=, bias=, norm=) on BLOCK_CASES."""
    cases = [((d, h, ff), kwargs, block_params_reference(d, h, ff, **kwargs)) for d, h, ff, kwargs in BLOCK_CASES]
    return check_function("5.7", function, cases, hint=hint("5.7"))


# --------------------------------------------------------------------------------------------------
# Arrays: what 5.8 and 5.14 share (a student's output against torch's, case by case)
# --------------------------------------------------------------------------------------------------

ARRAY_RTOL, ARRAY_ATOL = 1e-9, 1e-10


def _as_array(value: Any) -> np.ndarray | None:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.ndim else None


def _close(got: np.ndarray, want: np.ndarray) -> bool:
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=ARRAY_RTOL, atol=ARRAY_ATOL))


def _check_arrays(exercise: str, function: Any, cases: Sequence[tuple[str, tuple[Any, ...], np.ndarray,
                                                                      Mapping[str, np.ndarray]]],
                  what: str) -> Verdict:
    """Call ``function(*args)`` for each ``(label, args, expected, slips)``; a failing case whose output equals
    one of the named ``slips`` (a typical mistake's output) says so."""
    if is_blank(function):
        return _record(Verdict(exercise, "blank", "write the function"))
    if not callable(function):
        return _record(Verdict(exercise, "wrong", f"expected a function, got {type(function).__name__}",
                               hint(exercise)))
    failures: list[str] = []
    for label, args, want, slips in cases:
        try:
            got = function(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        except NotImplementedError:
            return _record(Verdict(exercise, "blank", "the function still raises NotImplementedError"))
        except Exception as error:  # the student's code may fail in any way: report it, do not crash
            failures.append(f"{label}: raised {type(error).__name__}: {error}")
            continue
        if got is None:
            failures.append(f"{label}: got None: did the function forget to `return` the output?")
            continue
        array = _as_array(got)
        if array is None:
            failures.append(f"{label}: the output is not an array of numbers ({type(got).__name__})")
        elif array.shape != want.shape:
            failures.append(f"{label}: expected output shape {want.shape}, got {array.shape}")
        elif not _close(array, want):
            gap = float(np.max(np.abs(array - want)))
            slip = next((name for name, output in slips.items() if _close(array, output)), None)
            failures.append(f"{label}: differs from {what} by up to {gap:.3g}" + (f" ({slip})" if slip else ""))
    if not failures:
        return _record(Verdict(exercise, "correct", f"all {len(cases)} cases match {what}"))
    shown = tuple(failures[:3]) + ((f"... and {len(failures) - 3} more",) if len(failures) > 3 else ())
    return _record(Verdict(exercise, "wrong", f"{len(failures)} of {len(cases)} cases differ", hint(exercise), shown))


# --------------------------------------------------------------------------------------------------
# 5.8  A patch embedding without a convolution (chapter 24)
# --------------------------------------------------------------------------------------------------

#: (x shape (n, c, H, W), patch P, width d): square and non-square images, one channel, one patch, P = 1.
PATCH_CASES: tuple[tuple[tuple[int, int, int, int], int, int], ...] = (
    ((2, 3, 32, 32), 8, 64),
    ((1, 3, 16, 16), 4, 5),
    ((1, 1, 8, 8), 2, 3),
    ((2, 3, 12, 8), 4, 6),
    ((1, 4, 6, 6), 6, 7),
    ((1, 2, 6, 6), 1, 3),
)
PATCH_SEED = 58


def patch_case(x_shape: Sequence[int], patch: int, d: int, seed: int = PATCH_SEED) -> tuple[np.ndarray, ...]:
    """The input x, the convolution's weight (d, c, P, P) and its bias (d,) of one case, seeded."""
    rng = np.random.default_rng([seed, *x_shape, patch, d])
    return (rng.standard_normal(tuple(x_shape)), rng.standard_normal((d, x_shape[1], patch, patch)),
            rng.standard_normal(d))


def torch_patch_embed(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, order: str = "rows") -> np.ndarray:
    """What ViT computes: ``nn.Conv2d(c, d, P, stride=P)`` then ``flatten(2).transpose(1, 2)``: (n, T, d).
    ``order="columns"`` lists the patches column by column instead (a slip the checker names)."""
    import torch
    import torch.nn.functional as F

    patch = weight.shape[-1]
    maps = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(bias), stride=patch)
    if order == "columns":
        maps = maps.transpose(2, 3)
    return maps.flatten(2).transpose(1, 2).numpy()


def check_patch_embed(function: Callable[..., Any] | Any) -> Verdict:
    """Exercise 5.8: patch_embed(x, weight, bias) against torch's strided F.conv2d, on PATCH_CASES; the token
    count of each case is nncost.conv2d's output map."""
    cases = []
    for x_shape, patch, d in PATCH_CASES:
        x, weight, bias = patch_case(x_shape, patch, d)
        want = torch_patch_embed(x, weight, bias)
        layer = nncost.conv2d(x_shape, d, patch, stride=patch)
        assert want.shape == (x_shape[0], math.prod(layer.out_shape[-2:]), d)
        slips = {"the tokens are right but listed column by column: go along each row of patches first":
                 torch_patch_embed(x, weight, bias, order="columns"),
                 "it equals the output without the bias": torch_patch_embed(x, weight, np.zeros_like(bias))}
        label = f"x {x_shape}, P = {patch}, d = {d}"
        cases.append((label, (x, weight, bias), want, slips))
    return _check_arrays("5.8", function, cases, "torch's strided conv2d")


# --------------------------------------------------------------------------------------------------
# 5.9  Causal half, full matrix, and decoding (chapter 23)
# --------------------------------------------------------------------------------------------------

#: One attention layer of GPT-2 small (d = 768, 12 heads) on one sequence of 1024 tokens.
CAUSAL_D, CAUSAL_HEADS, CAUSAL_L = 768, 12, 1024


def _score_macs(length: int, **kwargs: Any) -> int:
    """MACs of QKᵀ and A·V alone: nncost.attention's MACs less its four projections' (nncost.linear)."""
    layer = nncost.attention((1, length, CAUSAL_D), CAUSAL_HEADS, bias=False, **kwargs)
    projected = length if kwargs.get("kv_cache") else kwargs.get("kv_len") or length
    projections = (2 * nncost.linear((length, CAUSAL_D), CAUSAL_D, bias=False).macs
                   + 2 * nncost.linear((projected, CAUSAL_D), CAUSAL_D, bias=False).macs)
    return layer.macs - projections


def check_causal_counts(full: Any = ..., half: Any = ..., decode: Any = ...) -> Verdict:
    """Exercise 5.9: QKᵀ + A·V MACs by nncost.attention with causal_macs "full" and "half", and summed over
    1024 decoding steps against a KV cache (kv_cache=True, kv_len = 1 … 1024)."""
    def derive() -> Expected:
        return _exact(
            full=_score_macs(CAUSAL_L, causal=True, causal_macs="full"),
            half=_score_macs(CAUSAL_L, causal=True, causal_macs="half"),
            decode=sum(_score_macs(1, kv_len=i, kv_cache=True, causal=True) for i in range(1, CAUSAL_L + 1)),
        )

    return _check("5.9", {"full": full, "half": half, "decode": decode}, derive)


# --------------------------------------------------------------------------------------------------
# 5.10  Grouped-query attention brings the crossover closer (chapter 23)
# --------------------------------------------------------------------------------------------------

MISTRAL_CONTEXT = 8192


def _crossover(config: Any) -> int | float:
    """The context at which a token's attention products (nncost.attention against a cache) cost as much as
    its block's matrices (:func:`_llama_matrices`)."""
    def products(context: int) -> int:
        layer = nncost.attention((1, 1, config.d_model), config.n_heads, num_kv_heads=config.n_kv_heads,
                                 kv_len=context, kv_cache=True, bias=False)
        return layer.macs - layer.params  # one token: the projections cost one MAC per weight

    per_key = products(2) - products(1)
    assert products(1) == per_key, "the products grow linearly with the context"
    matrices = _llama_matrices(config)
    return matrices // per_key if matrices % per_key == 0 else matrices / per_key


def check_gqa_crossover(gqa: Any = ..., mha: Any = ..., share: Any = ...) -> Verdict:
    """Exercise 5.10: the crossover L* of MISTRAL_7B and of its MHA variant, and attention's share at 8192."""
    def derive() -> Expected:
        from dataclasses import replace

        from nncost.zoo.llama import MISTRAL_7B

        mha_config = replace(MISTRAL_7B, n_kv_heads=MISTRAL_7B.n_heads)
        layer = nncost.attention((1, 1, MISTRAL_7B.d_model), MISTRAL_7B.n_heads, num_kv_heads=MISTRAL_7B.n_kv_heads,
                                 kv_len=MISTRAL_CONTEXT, kv_cache=True, bias=False)
        products = layer.macs - layer.params
        at_context = products / (products + _llama_matrices(MISTRAL_7B))
        return {"gqa": (_crossover(MISTRAL_7B), 0.0), "mha": (_crossover(mha_config), 0.0),
                "share": (at_context, ESTIMATE_TOLERANCE)}

    return _check("5.10", {"gqa": gqa, "mha": mha, "share": share}, derive)



# --------------------------------------------------------------------------------------------------
# 5.11  Training Llama 2 7B (chapter 23)
# --------------------------------------------------------------------------------------------------

TRAIN_TOKENS = 2 * 10**12  # Llama 2's pretraining: 2 trillion tokens
TRAIN_CONTEXT = 4096
GPU_FLOPS = 150e12  # sustained FLOP/s per GPU


@cache
def _llama2_non_embedding() -> int:
    """numel of the zoo's Llama 2 7B (on meta) less its token embedding and its output layer."""
    from nncost.zoo.llama import llama2_7b

    model = _meta(llama2_7b)
    return _numel(model) - _numel(model.tok_embeddings) - _numel(model.output)


def check_training_compute(six_nd: Any = ..., with_attention: Any = ..., gpu_hours: Any = ...) -> Verdict:
    """Exercise 5.11: 6·N·D with N from the zoo's Llama 2 7B, D × nncost.training_flops_per_token, GPU-hours."""
    def derive() -> Expected:
        from nncost.zoo.llama import LLAMA2_7B as cfg

        n = _llama2_non_embedding()
        per_token = nncost.training_flops_per_token(n, layers=cfg.n_layers, d_model=cfg.d_model,
                                                    context=TRAIN_CONTEXT)
        total = per_token * TRAIN_TOKENS
        return {"six_nd": (6 * n * TRAIN_TOKENS, ESTIMATE_TOLERANCE),
                "with_attention": (total, ESTIMATE_TOLERANCE),
                "gpu_hours": (total / GPU_FLOPS / 3600, ESTIMATE_TOLERANCE)}

    return _check("5.11", {"six_nd": six_nd, "with_attention": with_attention, "gpu_hours": gpu_hours}, derive)


# --------------------------------------------------------------------------------------------------
# 5.12  How many sequences fit in 80 GiB (chapter 23)
# --------------------------------------------------------------------------------------------------

BUDGET_BYTES = 80 * 2**30
WEIGHT_BYTES = 2  # bfloat16


@cache
def _mistral_params(kv_heads: int | None = None) -> int:
    """numel of the zoo's Mistral 7B, or of the same model with ``kv_heads`` K/V heads, built on meta."""
    from dataclasses import replace

    from nncost.zoo.llama import MISTRAL_7B, llama

    config = MISTRAL_7B if kv_heads is None else replace(MISTRAL_7B, n_kv_heads=kv_heads)
    return _numel(_meta(lambda: llama(config)))


def check_serving_batch(weights_gib: Any = ..., batch_gqa: Any = ..., batch_mha: Any = ...) -> Verdict:
    """Exercise 5.12: bf16 weights of Mistral 7B (zoo, numel), and how many 8192-token KV caches
    (nncost.kv_cache_bytes) fit beside them in 80 GiB, with 8 and with 32 K/V heads."""
    def derive() -> Expected:
        from nncost.zoo.llama import MISTRAL_7B as cfg

        def batch(kv_heads: int) -> int:
            weights = WEIGHT_BYTES * _mistral_params(kv_heads)
            return (BUDGET_BYTES - weights) // _kv_bytes(cfg, MISTRAL_CONTEXT, kv_heads=kv_heads)

        return {"weights_gib": (WEIGHT_BYTES * _mistral_params() / 2**30, ESTIMATE_TOLERANCE),
                "batch_gqa": (batch(cfg.n_kv_heads), 0.0), "batch_mha": (batch(cfg.n_heads), 0.0)}

    return _check("5.12", {"weights_gib": weights_gib, "batch_gqa": batch_gqa, "batch_mha": batch_mha}, derive)


# --------------------------------------------------------------------------------------------------
# 5.13  ViT-S/16 against ResNet-50 (chapter 24)
# --------------------------------------------------------------------------------------------------

#: ViT-S/16: d = 384, 12 blocks, 6 heads, MLP 1536, on 3×224×224 with 1000 classes.
VIT_S16: dict[str, int] = {"d_model": 384, "n_layers": 12, "n_heads": 6, "d_ff": 1536}
IMAGE = (1, 3, 224, 224)


@cache
def _vit_s_vs_resnet() -> tuple[int, int, int]:
    """(params, MACs) of the zoo's ViT-S/16 and MACs of its ResNet-50, by nncost.profile on meta."""
    from nncost.zoo.resnet import resnet50
    from nncost.zoo.vit import vit

    vit_report = nncost.profile(_meta(lambda: vit(224, 16, **VIT_S16)), IMAGE)
    resnet_report = nncost.profile(_meta(resnet50), IMAGE)
    return vit_report.params, vit_report.macs, resnet_report.macs


def check_vit_vs_resnet(params: Any = ..., macs: Any = ..., ratio: Any = ...) -> Verdict:
    """Exercise 5.13: ViT-S/16's params and MACs, and its MACs over ResNet-50's (nncost.profile of the zoo)."""
    def derive() -> Expected:
        vit_params, vit_macs, resnet_macs = _vit_s_vs_resnet()
        return {"params": (vit_params, 0.0), "macs": (vit_macs, 0.0),
                "ratio": (vit_macs / resnet_macs, ESTIMATE_TOLERANCE)}

    return _check("5.13", {"params": params, "macs": macs, "ratio": ratio}, derive)


# --------------------------------------------------------------------------------------------------
# 5.14  Multi-head attention by hand (chapter 23)
# --------------------------------------------------------------------------------------------------

#: (L, d, h, h_kv, causal): MHA with and without the mask, GQA, MQA, one token, one head.
ATTENTION_CASES: tuple[tuple[int, int, int, int, bool], ...] = (
    (5, 8, 2, 2, False),
    (5, 8, 2, 2, True),
    (6, 12, 3, 3, True),
    (7, 16, 4, 2, True),
    (9, 24, 6, 3, False),
    (7, 16, 4, 1, False),
    (1, 8, 2, 1, True),
    (4, 8, 1, 1, True),
)
ATTENTION_SEED = 514


def attention_case(length: int, d: int, heads: int, kv_heads: int,
                   seed: int = ATTENTION_SEED) -> tuple[np.ndarray, ...]:
    """x (L, d) and the weights W_q (d, d), W_k, W_v (h_kv·d_h, d), W_o (d, d) of one case, seeded."""
    rng = np.random.default_rng([seed, length, d, heads, kv_heads])
    kv = kv_heads * (d // heads)
    return (rng.standard_normal((length, d)), rng.standard_normal((d, d)) / math.sqrt(d),
            rng.standard_normal((kv, d)) / math.sqrt(d), rng.standard_normal((kv, d)) / math.sqrt(d),
            rng.standard_normal((d, d)) / math.sqrt(d))


def torch_attention(x: np.ndarray, wq: np.ndarray, wk: np.ndarray, wv: np.ndarray, wo: np.ndarray, num_heads: int,
                    causal: bool, *, grouping: str = "interleave", scale: float | None = None) -> np.ndarray:
    """What torch computes: projections, K/V heads shared by consecutive query heads (``repeat_interleave``),
    ``F.scaled_dot_product_attention``, output projection (float64). ``grouping="tile"`` and ``scale`` give
    the outputs of two slips the checker names."""
    import torch
    import torch.nn.functional as F

    length, d = x.shape
    d_head = d // num_heads
    kv_heads = wk.shape[0] // d_head
    t = torch.from_numpy
    q = (t(x) @ t(wq).T).view(length, num_heads, d_head).transpose(0, 1)
    k = (t(x) @ t(wk).T).view(length, kv_heads, d_head).transpose(0, 1)
    v = (t(x) @ t(wv).T).view(length, kv_heads, d_head).transpose(0, 1)
    group = num_heads // kv_heads
    if grouping == "interleave":
        k, v = k.repeat_interleave(group, dim=0), v.repeat_interleave(group, dim=0)
    else:
        k, v = k.repeat(group, 1, 1), v.repeat(group, 1, 1)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)
    return (y.transpose(0, 1).reshape(length, d) @ t(wo).T).numpy()


def check_attention(function: Callable[..., Any] | Any) -> Verdict:
    """Exercise 5.14: multi_head_attention(x, wq, wk, wv, wo, num_heads, causal) against torch's
    F.scaled_dot_product_attention on ATTENTION_CASES (the output shape is nncost.attention's)."""
    cases = []
    for length, d, heads, kv_heads, causal in ATTENTION_CASES:
        x, wq, wk, wv, wo = attention_case(length, d, heads, kv_heads)
        want = torch_attention(x, wq, wk, wv, wo, heads, causal)
        assert want.shape == nncost.attention((length, d), heads, num_kv_heads=kv_heads).out_shape
        slips = {}
        if length > 1:
            slips["it equals the output with the causal mask " + ("missing" if causal else "applied")] = \
                torch_attention(x, wq, wk, wv, wo, heads, not causal)
        if heads // kv_heads > 1 and kv_heads > 1:
            slips["it equals the output with query head j on K/V head j % h_kv: share each K/V head with "
                  "consecutive query heads"] = torch_attention(x, wq, wk, wv, wo, heads, causal, grouping="tile")
        slips["it equals the output with the scores divided by d_h instead of √d_h"] = \
            torch_attention(x, wq, wk, wv, wo, heads, causal, scale=1 / (d // heads))
        label = f"L = {length}, d = {d}, h = {heads}, h_kv = {kv_heads}, causal={causal}"
        cases.append((label, (x, wq, wk, wv, wo, heads, causal), want, slips))
    return _check_arrays("5.14", function, cases, "F.scaled_dot_product_attention")


__all__ = [
    "CHAPTERS",
    "HINTS",
    "attention_case",
    "block_params_reference",
    "check_attention",
    "check_attention_params",
    "check_block_params",
    "check_causal_counts",
    "check_encoder_layer",
    "check_gpt2_xl",
    "check_gqa_crossover",
    "check_kv_per_token",
    "check_llama_flops",
    "check_patch_embed",
    "check_serving_batch",
    "check_training_compute",
    "check_vit_patches",
    "check_vit_vs_resnet",
    "hint",
    "patch_case",
    "torch_attention",
    "torch_patch_embed",
]
