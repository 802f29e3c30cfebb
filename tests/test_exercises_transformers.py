"""Exercise set 5 (Part V — Transformers): every checker accepts the right answer, rejects a wrong one, handles a blank.

The right answers are derived here independently of the checkers: with PyTorch where it can count (``numel`` of
torch's own modules and of the zoo's models built on the meta device, ``FlopCounterMode`` on meta, where it sees
every product, the bytes of a real ``KVCache``), and by hand otherwise, with the arithmetic in a comment. The
numbers are the ones the tasks in ``book/exercises/ex5-transformers.ipynb`` state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nncost import exercises
from nncost.exercises import transformers as ex
from nncost.zoo.gpt import KVCache, gpt2_xl
from nncost.zoo.llama import MISTRAL_7B, llama, llama2_7b, llama3_8b, mistral_7b
from nncost.zoo.resnet import resnet50
from nncost.zoo.vit import vit

ROOT = Path(__file__).resolve().parent.parent
GiB = 2**30


# --------------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------------

def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta(build: Callable[[], nn.Module]) -> nn.Module:
    with torch.device("meta"):
        return build().eval()


def fcm_macs(run: Callable[[], Any]) -> int:
    """FlopCounterMode counts 2 FLOPs per multiply-accumulate."""
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() // 2


def linear_weights(module: nn.Module) -> int:
    """The weights of every nn.Linear inside ``module`` (biases and norms left out)."""
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Linear))


def answers_5_1() -> dict[str, Any]:
    mha = meta(lambda: nn.MultiheadAttention(2048, 16))

    def grouped(kv_heads: int) -> int:  # W_q, W_o: 2048 → 2048; W_k, W_v: 2048 → kv_heads · 128, with biases
        return meta(lambda: nn.ModuleList([nn.Linear(2048, 2048), nn.Linear(2048, kv_heads * 128),
                                           nn.Linear(2048, kv_heads * 128), nn.Linear(2048, 2048)]))

    return {"mha": numel(mha), "gqa": numel(grouped(4)), "mqa": numel(grouped(1))}


def answers_5_2() -> dict[str, Any]:
    model = meta(lambda: vit(224, 14, d_model=1024, n_layers=24, n_heads=16, d_ff=4096))
    x = torch.empty(1, 3, 224, 224, device="meta")
    return {"tokens": model.pos_embed.shape[1], "params": numel(model.patch_embed),
            "macs": fcm_macs(lambda: model.patch_embed(x))}


@cache
def kv_bytes_per_token(name: str) -> int:
    """The bytes a real KVCache of the zoo's model holds, in float16, after 3 tokens, per token."""
    build, layers = {"gpt2_xl": (gpt2_xl, 48), "llama3_8b": (llama3_8b, 32)}[name]
    model = meta(build).to(torch.float16)
    kv = KVCache(layers)
    with torch.no_grad():
        model(torch.zeros(1, 3, dtype=torch.long, device="meta"), kv)
    assert kv.nbytes() % 3 == 0
    return kv.nbytes() // 3


def answers_5_3() -> dict[str, Any]:
    return {"gpt2_xl": kv_bytes_per_token("gpt2_xl"), "llama3_8b": kv_bytes_per_token("llama3_8b"),
            "llama3_8b_full": 8192 * kv_bytes_per_token("llama3_8b")}


def answers_5_4() -> dict[str, Any]:
    layer = meta(lambda: nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True))
    no_bias = meta(lambda: nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True, bias=False))
    x = torch.empty(1, 128, 512, device="meta")
    return {"params": numel(layer), "params_no_bias": numel(no_bias), "macs": fcm_macs(lambda: layer(x))}


@cache
def gpt2_xl_counts() -> tuple[int, int, int]:
    model = meta(gpt2_xl)
    assert model.lm_head.weight is model.wte.weight
    return numel(model), numel(model.wte), numel(model.wpe)


def answers_5_5() -> dict[str, Any]:
    total, wte, wpe = gpt2_xl_counts()
    # an untied output layer (no bias) is one more V × d matrix, the size of wte
    return {"params": total, "non_embedding": total - wte - wpe, "untied": total + wte}


@cache
def llama2_counts() -> tuple[int, int, int]:
    """(matrices a token goes through, non-embedding params, forward FLOPs per token at 4096 by FlopCounterMode)."""
    model = meta(llama2_7b)
    matrices = linear_weights(model.layers) + model.output.weight.numel()
    non_embedding = numel(model) - numel(model.tok_embeddings) - numel(model.output)
    idx = torch.zeros(1, 4096, dtype=torch.long, device="meta")
    return matrices, non_embedding, 2 * fcm_macs(lambda: model(idx)) // 4096


def answers_5_6() -> dict[str, Any]:
    n, _, flops = llama2_counts()
    return {"n": n, "flops": flops, "attention_share": (flops - 2 * n) / flops}


def answers_5_9() -> dict[str, Any]:
    q = k = v = torch.empty(1, 12, 1024, 64, device="meta")
    full = fcm_macs(lambda: (q @ k.transpose(-2, -1)) @ v)  # the two products over the whole 1024 × 1024 matrix
    # the mask keeps 1 + 2 + ... + 1024 = 1024 · 1025 / 2 pairs, each d = 768 MACs per product, two products;
    # decoding: step i meets i keys, the same sum
    half = 2 * (1024 * 1025 // 2) * 768
    return {"full": full, "half": half, "decode": sum(2 * i * 768 for i in range(1, 1025))}


def answers_5_10() -> dict[str, Any]:
    gqa_block = meta(mistral_7b).layers[0]
    mha_block = meta(lambda: llama(replace(MISTRAL_7B, n_kv_heads=32))).layers[0]
    # attention products per token and layer: 2 · L · d MACs; equal to the block's weights at L* = weights / 2d
    d = 4096
    share = 2 * 8192 * d / (2 * 8192 * d + linear_weights(gqa_block))
    return {"gqa": linear_weights(gqa_block) / (2 * d), "mha": linear_weights(mha_block) / (2 * d), "share": share}


def answers_5_11() -> dict[str, Any]:
    _, n, _ = llama2_counts()
    tokens = 2 * 10**12
    # training = 3 × forward; forward per token = 2N + 4 · layers · L · d (the full score matrix)
    with_attention = 3 * (2 * n + 4 * 32 * 4096 * 4096) * tokens
    return {"six_nd": 6 * n * tokens, "with_attention": with_attention, "gpu_hours": with_attention / 150e12 / 3600}


def answers_5_12() -> dict[str, Any]:
    budget = 80 * GiB
    size = torch.bfloat16.itemsize
    gqa = numel(meta(mistral_7b))
    mha = numel(meta(lambda: llama(replace(MISTRAL_7B, n_kv_heads=32))))
    cache_gqa = 2 * 32 * 8 * 128 * 8192 * size  # K and V, per layer, K/V head, position
    cache_mha = 2 * 32 * 32 * 128 * 8192 * size
    return {"weights_gib": gqa * size / GiB, "batch_gqa": (budget - gqa * size) // cache_gqa,
            "batch_mha": (budget - mha * size) // cache_mha}


def answers_5_13() -> dict[str, Any]:
    model = meta(lambda: vit(224, 16, d_model=384, n_layers=12, n_heads=6, d_ff=1536))
    x = torch.empty(1, 3, 224, 224, device="meta")
    macs = fcm_macs(lambda: model(x))
    resnet = meta(resnet50)
    return {"params": numel(model), "macs": macs, "ratio": macs / fcm_macs(lambda: resnet(x))}


# (checker, exercise, its right answers, (one answer to get wrong, the wrong value), the hint's chapter)
VALUE_CHECKERS: list[tuple[Callable[..., exercises.Verdict], str, Callable[[], dict[str, Any]], tuple[str, Any], int]]
VALUE_CHECKERS = [
    (ex.check_attention_params, "5.1", answers_5_1, ("gqa", 16_785_408), 23),
    (ex.check_vit_patches, "5.2", answers_5_2, ("tokens", 256), 24),
    (ex.check_kv_per_token, "5.3", answers_5_3, ("llama3_8b", 524_288), 23),
    (ex.check_encoder_layer, "5.4", answers_5_4, ("params_no_bias", 3_145_728), 23),
    (ex.check_gpt2_xl, "5.5", answers_5_5, ("non_embedding", 1_474_560_000), 23),
    (ex.check_llama_flops, "5.6", answers_5_6, ("n", 6_476_005_376), 23),
    (ex.check_causal_counts, "5.9", answers_5_9, ("half", 805_306_368), 23),
    (ex.check_gqa_crossover, "5.10", answers_5_10, ("gqa", 29_696), 23),
    (ex.check_training_compute, "5.11", answers_5_11, ("gpu_hours", 144_000), 23),
    (ex.check_serving_batch, "5.12", answers_5_12, ("batch_mha", 17), 23),
    (ex.check_vit_vs_resnet, "5.13", answers_5_13, ("macs", 4_540_695_552), 24),
]
IDS = [case[1] for case in VALUE_CHECKERS]


def shown(value: Any) -> str:
    """How a verdict writes a value: thousands separators, floats to 6 significant digits."""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


# --------------------------------------------------------------------------------------------------
# Value checkers
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter"), VALUE_CHECKERS, ids=IDS)
def test_the_right_answer_is_correct(checker: Callable[..., exercises.Verdict], number: str,
                                     answers: Callable[[], dict[str, Any]], wrong: tuple[str, Any],
                                     chapter: int) -> None:
    verdict = checker(**answers())
    assert verdict and verdict.status == "correct", verdict.message
    assert verdict.message.startswith(f"✓ Exercise {number}: correct")


@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter"), VALUE_CHECKERS, ids=IDS)
def test_a_wrong_answer_shows_expected_got_and_the_chapter(checker: Callable[..., exercises.Verdict], number: str,
                                                           answers: Callable[[], dict[str, Any]],
                                                           wrong: tuple[str, Any], chapter: int) -> None:
    right = answers()
    name, value = wrong
    verdict = checker(**{**right, name: value})
    assert not verdict and verdict.status == "wrong"
    estimate = isinstance(right[name], float) and not right[name].is_integer()  # ratios, GiB, GPU-hours
    within = f" (within {ex.ESTIMATE_TOLERANCE:.0%})" if estimate else ""
    assert f"expected {shown(right[name])}{within}, got {shown(value)}" in verdict.message, verdict.message
    assert f"Hint: Reread chapter {chapter} (" in verdict.message
    others = [line for line in verdict.message.splitlines() if line.strip().startswith("✓")]
    assert len(others) == len(right) - 1, "the other answers are still shown as right"


@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter"), VALUE_CHECKERS, ids=IDS)
def test_blanks_are_not_answered_yet(checker: Callable[..., exercises.Verdict], number: str,
                                     answers: Callable[[], dict[str, Any]], wrong: tuple[str, Any],
                                     chapter: int) -> None:
    blank = checker(**{name: ... for name in answers()})
    assert blank.status == "blank" and f"… Exercise {number}: not answered yet" in blank.message
    assert "Hint" not in blank.message
    assert checker().status == "blank", "calling the checker with nothing is a blank too"
    right = answers()
    name = next(iter(right))
    partial = checker(**{**right, name: ...})
    assert partial.status == "wrong" and f"… {name}: not answered yet" in partial.message


def test_the_expected_values_are_the_ones_the_solutions_state() -> None:
    # spot checks of the numbers the solutions' prose states
    assert answers_5_1() == {"mha": 16_785_408, "gqa": 10_490_880, "mqa": 8_917_248}
    assert answers_5_4() == {"params": 3_152_384, "params_no_bias": 3_146_752, "macs": 419_430_400}
    assert answers_5_5()["params"] == 1_557_611_200
    assert answers_5_6()["flops"] == 15_361_638_400
    assert answers_5_10()["gqa"] == 26_624 and answers_5_10()["mha"] == 29_696
    assert answers_5_12()["batch_gqa"] == 66 and answers_5_12()["batch_mha"] == 16
    assert answers_5_13()["params"] == 22_050_664


def test_estimates_are_accepted_within_the_stated_one_percent() -> None:
    right = answers_5_11()
    assert ex.check_training_compute(six_nd=7.8e22, with_attention=9.1e22, gpu_hours=168_000)
    too_far = ex.check_training_compute(**{**right, "six_nd": 6 * 7e9 * 2e12})  # "7B" for N: 8 % off
    assert too_far.status == "wrong" and "(within 1%)" in too_far.message
    flops = answers_5_6()
    assert ex.check_llama_flops(n=flops["n"], flops=flops["flops"], attention_share=0.14)
    assert not ex.check_llama_flops(n=flops["n"], flops=flops["flops"], attention_share=14.0), "a fraction, not %"
    assert ex.check_serving_batch(weights_gib=13.5, batch_gqa=66, batch_mha=16)
    assert not ex.check_serving_batch(weights_gib=13.5, batch_gqa=66.5, batch_mha=16), "a batch is whole"


def test_the_usual_slips_are_caught() -> None:
    # 5.3: the query heads instead of the K/V heads of Llama 3 8B
    verdict = ex.check_kv_per_token(**{**answers_5_3(), "llama3_8b": 2 * 32 * 32 * 128 * 2})
    assert "expected 131,072, got 524,288" in verdict.message
    # 5.6: 2N alone, the rule of thumb, for the FLOPs per token
    n = answers_5_6()["n"]
    assert "expected 15,361,638,400, got 13,214,154,752" in ex.check_llama_flops(
        n=n, flops=2 * n, attention_share=0.14).message
    # 5.9: the causal half taken as exactly L²/2
    assert "expected 806,092,800, got 805,306,368" in ex.check_causal_counts(
        full=1_610_612_736, half=1024 * 1024 * 768, decode=806_092_800).message
    # 5.12: the weights forgotten: 80 sequences of 1 GiB
    assert "expected 66, got 80" in ex.check_serving_batch(weights_gib=13.49, batch_gqa=80, batch_mha=16).message
    # 5.2: the class token forgotten
    assert "expected 257, got 256" in ex.check_vit_patches(tokens=256, params=603_136, macs=154_140_672).message


def test_the_wrong_kind_of_answer_is_named() -> None:
    verdict = ex.check_attention_params(mha="16785408", gqa=10_490_880, mqa=8_917_248)
    assert verdict.status == "wrong" and "expected a number, got str '16785408'" in verdict.message
    assert ex.check_attention_params(mha=np.int64(16_785_408), gqa=10_490_880, mqa=8_917_248), "numpy ints count"
    assert ex.check_gqa_crossover(gqa=26_624.0, mha=29_696, share=0.2353), "a float equal to the count is fine"


# --------------------------------------------------------------------------------------------------
# 5.7  block_params
# --------------------------------------------------------------------------------------------------

class TorchBlock(nn.Module):
    """A pre-norm block from torch's layers: W_q, W_k, W_v, W_o, the MLP (gated or not), two norms."""

    def __init__(self, d: int, num_heads: int, d_ff: int, num_kv_heads: int | None = None, *, gated: bool = False,
                 bias: bool = True, norm: str = "layernorm") -> None:
        super().__init__()
        kv = (num_kv_heads or num_heads) * (d // num_heads)
        self.attn = nn.ModuleList([nn.Linear(d, d, bias=bias), nn.Linear(d, kv, bias=bias),
                                   nn.Linear(d, kv, bias=bias), nn.Linear(d, d, bias=bias)])
        mlp = [nn.Linear(d, d_ff, bias=bias), nn.Linear(d_ff, d, bias=bias)]
        if gated:
            mlp.append(nn.Linear(d, d_ff, bias=bias))
        self.mlp = nn.ModuleList(mlp)
        make = (lambda: nn.LayerNorm(d, bias=bias)) if norm == "layernorm" else (lambda: nn.RMSNorm(d))
        self.norms = nn.ModuleList([make(), make()])


def torch_block_params(d: int, num_heads: int, d_ff: int, num_kv_heads: int | None = None, *, gated: bool = False,
                       bias: bool = True, norm: str = "layernorm") -> int:
    return numel(meta(lambda: TorchBlock(d, num_heads, d_ff, num_kv_heads, gated=gated, bias=bias, norm=norm)))


def test_block_params_right() -> None:
    verdict = ex.check_block_params(torch_block_params)
    assert verdict and verdict.message == "✓ Exercise 5.7: correct — all 10 cases pass"
    # the zoo's real blocks agree with the torch-built ones
    assert torch_block_params(4096, 32, 14336, 8, gated=True, bias=False, norm="rmsnorm") == \
        numel(meta(mistral_7b).layers[0])
    assert torch_block_params(1600, 25, 6400) == numel(meta(gpt2_xl).h[0])


def test_block_params_ignoring_kv_heads_is_caught() -> None:
    def all_heads(d: int, num_heads: int, d_ff: int, num_kv_heads: int | None = None, **kwargs: Any) -> int:
        return torch_block_params(d, num_heads, d_ff, None, **kwargs)

    verdict = ex.check_block_params(all_heads)
    assert verdict.status == "wrong" and "4 of 10 cases fail" in verdict.message
    # Mistral 7B's block: 4096 · 3072 · 2 more weights in W_k, W_v
    assert ("all_heads(4,096, 32, 14,336, num_kv_heads=8, gated=True, bias=False, norm='rmsnorm'): "
            f"expected 218,112,000, got {218_112_000 + 2 * 4096 * 3072:,}") in verdict.message
    assert "Hint: Reread chapter 23 (Transformers: parameters, FLOPs per token and the KV cache), section " \
        "'Parameters of a block'" in verdict.message


def test_block_params_gated_bias_and_rmsnorm_slips_are_caught() -> None:
    def gated_bias_d(d: int, num_heads: int, d_ff: int, num_kv_heads: int | None = None, *, gated: bool = False,
                     bias: bool = True, norm: str = "layernorm") -> int:
        right = torch_block_params(d, num_heads, d_ff, num_kv_heads, gated=gated, bias=bias, norm=norm)
        return right - d_ff + d if gated and bias else right  # the third matrix's bias counted as d wide

    verdict = ex.check_block_params(gated_bias_d)
    assert verdict.status == "wrong" and "1 of 10 cases fail" in verdict.message

    def rms_shift(d: int, num_heads: int, d_ff: int, num_kv_heads: int | None = None, *, gated: bool = False,
                  bias: bool = True, norm: str = "layernorm") -> int:
        right = torch_block_params(d, num_heads, d_ff, num_kv_heads, gated=gated, bias=bias, norm=norm)
        return right + 2 * d if norm == "rmsnorm" and bias else right  # a shift counted in RMSNorm

    verdict = ex.check_block_params(rms_shift)
    assert verdict.status == "wrong" and "1 of 10 cases fail" in verdict.message


def test_block_params_blank() -> None:
    def block_params(d: int, num_heads: int, d_ff: int, num_kv_heads: int | None = None, **kwargs: Any) -> int:
        raise NotImplementedError("return the number of parameters")

    for blank in (..., block_params):
        verdict = ex.check_block_params(blank)
        assert verdict.status == "blank" and "… Exercise 5.7: not answered yet" in verdict.message


# --------------------------------------------------------------------------------------------------
# 5.8  patch_embed
# --------------------------------------------------------------------------------------------------

def unfold_patch_embed(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """torch's F.unfold lists the patches row by row, each as (channel, row, column)."""
    p = weight.shape[-1]
    patches = F.unfold(torch.from_numpy(x), kernel_size=p, stride=p).transpose(1, 2)
    return (patches @ torch.from_numpy(weight).reshape(weight.shape[0], -1).T + torch.from_numpy(bias)).numpy()


def loop_patch_embed(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    height, width, p = x.shape[2], x.shape[3], weight.shape[-1]
    tokens = []
    for r in range(height // p):
        for q in range(width // p):
            window = x[:, :, r * p:(r + 1) * p, q * p:(q + 1) * p]
            tokens.append(np.einsum("ncij,dcij->nd", window, weight) + bias)
    return np.stack(tokens, axis=1)


def test_patch_embed_right() -> None:
    for function in (unfold_patch_embed, loop_patch_embed):
        verdict = ex.check_patch_embed(function)
        assert verdict and verdict.message == \
            "✓ Exercise 5.8: correct — all 6 cases match torch's strided conv2d", verdict.message

    def as_tensor(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(unfold_patch_embed(x, weight, bias))

    assert ex.check_patch_embed(as_tensor), "a tensor is a fine output"


def test_patch_embed_column_order_is_caught() -> None:
    def by_columns(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        n, c, height, width = x.shape
        d, _, p, _ = weight.shape
        patches = x.reshape(n, c, height // p, p, width // p, p).transpose(0, 4, 2, 1, 3, 5)  # columns first
        return patches.reshape(n, -1, c * p * p) @ weight.reshape(d, -1).T + bias

    verdict = ex.check_patch_embed(by_columns)
    # the 1 × 1 grid of one patch has no order to get wrong
    assert verdict.status == "wrong" and "5 of 6 cases differ" in verdict.message
    assert "listed column by column" in verdict.message
    assert "Hint: Reread chapter 24 (A Transformer for images: ViT-B/16 against ResNet-50), section 'The idea: " \
        "an image as a sequence of patches'" in verdict.message


def test_patch_embed_channel_last_and_no_bias_are_caught() -> None:
    def channels_last(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        n, c, height, width = x.shape
        d, _, p, _ = weight.shape
        patches = x.reshape(n, c, height // p, p, width // p, p).transpose(0, 2, 4, 3, 5, 1)  # (P, P, c) order
        return patches.reshape(n, -1, c * p * p) @ weight.reshape(d, -1).T + bias

    verdict = ex.check_patch_embed(channels_last)
    assert verdict.status == "wrong" and "of 6 cases differ" in verdict.message

    def no_bias(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        return unfold_patch_embed(x, weight, np.zeros_like(bias))

    verdict = ex.check_patch_embed(no_bias)
    assert verdict.status == "wrong" and "6 of 6 cases differ" in verdict.message
    assert "it equals the output without the bias" in verdict.message


def test_patch_embed_wrong_shape_and_blank() -> None:
    def flat(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        return unfold_patch_embed(x, weight, bias).reshape(-1, weight.shape[0])

    assert "expected output shape (2, 16, 64), got (32, 64)" in ex.check_patch_embed(flat).message

    def patch_embed(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        raise NotImplementedError("return the tokens")

    for blank in (..., patch_embed):
        verdict = ex.check_patch_embed(blank)
        assert verdict.status == "blank" and "… Exercise 5.8: not answered yet" in verdict.message


# --------------------------------------------------------------------------------------------------
# 5.14  multi_head_attention
# --------------------------------------------------------------------------------------------------

def numpy_attention(x: np.ndarray, wq: np.ndarray, wk: np.ndarray, wv: np.ndarray, wo: np.ndarray, num_heads: int,
                    causal: bool = False, *, grouping: str = "interleave", scale: str = "sqrt",
                    mask: str = "tril") -> np.ndarray:
    """Head by head, with loops; the keyword arguments make the slips."""
    length, d = x.shape
    d_head = d // num_heads
    kv_heads = wk.shape[0] // d_head
    q, k, v = x @ wq.T, x @ wk.T, x @ wv.T
    outputs = []
    for j in range(num_heads):
        g = j // (num_heads // kv_heads) if grouping == "interleave" else j % kv_heads
        qj = q[:, j * d_head:(j + 1) * d_head]
        kj, vj = k[:, g * d_head:(g + 1) * d_head], v[:, g * d_head:(g + 1) * d_head]
        scores = qj @ kj.T / (np.sqrt(d_head) if scale == "sqrt" else d_head)
        if causal:
            keep = np.tril(np.ones((length, length), dtype=bool))
            scores = np.where(keep if mask == "tril" else keep.T, scores, -np.inf)
        weights = np.exp(scores - scores.max(axis=1, keepdims=True))
        outputs.append(weights / weights.sum(axis=1, keepdims=True) @ vj)
    return np.concatenate(outputs, axis=1) @ wo.T


def test_attention_right() -> None:
    verdict = ex.check_attention(numpy_attention)
    assert verdict and verdict.message == \
        "✓ Exercise 5.14: correct — all 8 cases match F.scaled_dot_product_attention"

    def with_torch(x: np.ndarray, wq: np.ndarray, wk: np.ndarray, wv: np.ndarray, wo: np.ndarray, num_heads: int,
                   causal: bool = False) -> torch.Tensor:  # nn.MultiheadAttention for the cases without grouping
        length, d = x.shape
        if wk.shape[0] != d:
            return torch.from_numpy(numpy_attention(x, wq, wk, wv, wo, num_heads, causal))
        mha = nn.MultiheadAttention(d, num_heads, bias=False, batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([wq, wk, wv])))
            mha.out_proj.weight.copy_(torch.from_numpy(wo))
            mask = torch.ones(length, length, dtype=torch.bool).triu(1) if causal else None
            return mha(*(torch.from_numpy(x)[None],) * 3, attn_mask=mask, need_weights=False)[0][0]

    assert ex.check_attention(with_torch)


def test_attention_wrong_grouping_is_caught() -> None:
    def tiled(*args: Any, **kwargs: Any) -> np.ndarray:
        return numpy_attention(*args, **kwargs, grouping="tile")

    verdict = ex.check_attention(tiled)
    # only the two cases with several query heads per K/V head and more than one K/V head differ
    assert verdict.status == "wrong" and "2 of 8 cases differ" in verdict.message
    assert "L = 7, d = 16, h = 4, h_kv = 2, causal=True: differs from F.scaled_dot_product_attention" in \
        verdict.message
    assert "query head j on K/V head j % h_kv" in verdict.message
    assert "Hint: Reread chapter 23 (Transformers: parameters, FLOPs per token and the KV cache), section " \
        "'The idea: a block is four matrices'" in verdict.message


def test_attention_mask_and_scale_slips_are_caught() -> None:
    def no_mask(*args: Any, **kwargs: Any) -> np.ndarray:
        return numpy_attention(*args[:6], causal=False)

    verdict = ex.check_attention(no_mask)
    assert verdict.status == "wrong" and "4 of 8 cases differ" in verdict.message  # the causal ones of L > 1
    assert "the causal mask missing" in verdict.message

    def upper(*args: Any, **kwargs: Any) -> np.ndarray:
        return numpy_attention(*args, **kwargs, mask="triu")

    assert "4 of 8 cases differ" in ex.check_attention(upper).message

    def by_d_head(*args: Any, **kwargs: Any) -> np.ndarray:
        return numpy_attention(*args, **kwargs, scale="d_head")

    verdict = ex.check_attention(by_d_head)
    # a single token's softmax is 1 whatever the scale: 7 cases show it
    assert verdict.status == "wrong" and "7 of 8 cases differ" in verdict.message
    assert "divided by d_h instead of √d_h" in verdict.message


def test_attention_errors_and_blank() -> None:
    def transposed(x: np.ndarray, wq: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        return numpy_attention(x, wq, *args, **kwargs).T

    verdict = ex.check_attention(transposed)
    assert "L = 5, d = 8, h = 2, h_kv = 2, causal=False: expected output shape (5, 8), got (8, 5)" in verdict.message

    def crashes(*args: Any, **kwargs: Any) -> np.ndarray:
        raise ValueError("shapes do not match")

    assert "raised ValueError: shapes do not match" in ex.check_attention(crashes).message

    def multi_head_attention(*args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("return the output")

    for blank in (..., multi_head_attention):
        verdict = ex.check_attention(blank)
        assert verdict.status == "blank" and "… Exercise 5.14: not answered yet" in verdict.message


# --------------------------------------------------------------------------------------------------
# The set as a whole
# --------------------------------------------------------------------------------------------------

def headings(chapter: int) -> set[str]:
    notebook = json.loads((ROOT / "book" / ex.CHAPTERS[chapter][0]).read_text())
    found = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    found.add(line.lstrip("#").strip())
    return found


@pytest.mark.parametrize("exercise", sorted(ex.HINTS, key=lambda n: int(n.split(".")[1])), ids=str)
def test_every_hint_names_a_real_section(exercise: str) -> None:
    chapter, section, _ = ex.HINTS[exercise]
    assert section in headings(chapter), f"chapter {chapter} has no section '{section}'"
    assert ex.CHAPTERS[chapter][1] in headings(chapter), "the hint's chapter title is the notebook's title"
    if exercise in ex.ALSO:
        other, other_section = ex.ALSO[exercise]
        assert other_section in headings(other), f"chapter {other} has no section '{other_section}'"


def test_the_source_notebook_covers_every_checker_and_chapter() -> None:
    notebook = json.loads((ROOT / "book" / "exercises" / "ex5-transformers.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in notebook["cells"])
    checkers = {name for name in ex.__all__ if name.startswith("check_")}
    assert checkers == set(re.findall(r"ex\.(check_\w+)\(", text)), "one checker per exercise, all used"
    titles = re.findall(r"^## Exercise (5\.\d+) — .+ (★[★☆]{2})$", text, flags=re.MULTILINE)
    assert [number for number, _ in titles] == [f"5.{k}" for k in range(1, 15)]
    assert [stars.count("★") for _, stars in titles] == sorted(stars.count("★") for _, stars in titles)
    kinds = re.findall(r"^\*Kind: (compute by hand|implement|explain and estimate)\*$", text, flags=re.MULTILINE)
    assert len(kinds) == 14 and all(kinds.count(kind) >= 2 for kind in set(kinds)) and len(set(kinds)) == 3
    for path, _ in ex.CHAPTERS.values():
        assert f"../{path}" in text
    assert set(ex.HINTS) == {number for number, _ in titles}
    for number, (chapter, section, _) in ex.HINTS.items():  # the task names the section its hint names
        task = text.split(f"## Exercise {number} — ")[1].split("## ")[0]
        assert ex.CHAPTERS[chapter][0] in task, number
        assert section.replace("$", "") in task.replace("$", "").replace("\n", " "), number


def test_scoreboard_counts_this_set() -> None:
    ex.check_attention_params(**answers_5_1())
    ex.check_attention(...)
    board = exercises.scoreboard("5.")
    numbers = [v.exercise for v in board.verdicts]
    assert {"5.1", "5.14"} <= set(numbers)
    assert numbers == sorted(numbers, key=lambda n: int(n.split(".")[1]))
    assert "5.14" in repr(board).splitlines()[-1]
