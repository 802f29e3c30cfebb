"""Exercise set 4 (Part IV — Efficiency): every checker accepts the right answer, rejects a wrong one, handles a blank.

The right answers are derived here independently of the checkers: with PyTorch (``numel``, forward hooks on the
real models, ``FlopCounterMode``) where it can count, with NumPy's quantiles for the timing statistics, and by
hand otherwise, with the arithmetic in a comment. The numbers are the ones the tasks in
``book/exercises/ex4-efficiency.ipynb`` state. Nothing is timed.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nncost import exercises
from nncost.exercises import efficiency as ex
from nncost.exercises._core import _fmt

ROOT = Path(__file__).resolve().parent.parent

# The chip of exercises 4.4, 4.8 and 4.12, as the tasks state it.
P, BETA = 10e12, 100e9  # FLOP/s, bytes/s


# --------------------------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------------------------

def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def torch_flops(module: nn.Module, x: torch.Tensor) -> int:
    """FlopCounterMode counts 2 FLOPs per multiply-accumulate."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops()


def traffic(module: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(FLOPs, bytes) of one layer under the book's traffic model: input, parameters and output, 4 bytes each."""
    with torch.no_grad():
        out = module(x)
    return torch_flops(module, x), 4 * (x.numel() + numel(module) + out.numel())


def module_outputs(model: nn.Module, x: torch.Tensor, modules: Sequence[nn.Module]) -> list[int]:
    """numel of every output of ``modules`` during one forward pass of ``model`` (forward hooks)."""
    seen: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.append(out.numel())) for m in modules]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return seen


@cache
def answers_4_1() -> dict[str, Any]:
    from nncost.zoo import densenet121

    params = numel(densenet121())
    assert params == 7_978_856  # the count the task gives (chapter 16)
    return {"fp32_bytes": params * 4, "fp16_mib": params * 2 / 1_048_576, "int8_mb": params / 1e6,
            "int4_bytes": params // 2}


@cache
def answers_4_2() -> dict[str, Any]:
    flops = torch_flops(nn.Conv2d(64, 128, 3, padding=1, bias=False), torch.zeros(1, 64, 56, 56))
    # 2 TFLOP/s: flops / 2e12 seconds; 8 TOPS counts a multiply and an add as one operation each: 4e12 MACs/s
    return {"macs": flops // 2, "flops": flops, "microseconds": flops / 2e12 * 1e6, "int8_macs_per_second": 4e12}


@cache
def answers_4_3() -> dict[str, Any]:
    medians = {b: float(np.median(ms)) for b, ms in ex.BATCH_TIMINGS_MS.items()}  # 4.2, 6.1, 16.0, 58.5 ms
    # within 20 ms: batches 1, 4 and 16; the last has the most images per second
    return {"latency_1_ms": medians[1], "throughput_64": 64 / (medians[64] / 1e3), "batch_in_budget": 16,
            "throughput_in_budget": 16 / (medians[16] / 1e3)}


@cache
def answers_4_4() -> dict[str, Any]:
    flops, nbytes = traffic(nn.Conv2d(256, 256, 1, bias=False), torch.zeros(1, 256, 14, 14))
    intensity = flops / nbytes  # 25,690,112 / 663,552 = 38.7 < 100: memory-bound
    return {"ridge": P / BETA, "intensity": intensity, "attainable_tflops": min(P, intensity * BETA) / 1e12,
            "microseconds": max(flops / P, nbytes / BETA) * 1e6, "bound": "memory"}


@cache
def answers_4_5() -> dict[str, Any]:
    # Horowitz (ISSCC 2014), 45 nm: fp16 mult 1.1 + add 0.4 pJ; int8 mult 0.2 + add 0.03 pJ; fp32 3.7 + 0.9 pJ;
    # DRAM 1.3 nJ per 64-bit access at the low end, so 1300 / 8 pJ per byte
    return {"fp16_mac_pj": 1.5, "int8_macs_per_dram_byte": 162.5 / 0.23, "fp32_over_int8": 4.6 / 0.23}


@cache
def answers_4_6() -> dict[str, Any]:
    net = ex.residual_net()
    outputs = module_outputs(net, torch.zeros(ex.RESIDUAL_INPUT), [m for m in net.modules() if m is not net])
    # the peak, by hand: in the first block, x (kept for the add), conv1's output and the ReLU's output,
    # three maps of 16 × 32 × 32 float32 values
    return {"total_elements": sum(outputs), "total_bytes": 4 * sum(outputs), "peak_bytes": 3 * 16 * 32 * 32 * 4}


def bound_modules() -> dict[str, tuple[nn.Module, torch.Tensor]]:
    """The six layers of exercise 4.8, as torch modules and inputs."""
    return {
        "a": (nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), torch.zeros(1, 3, 224, 224)),
        "b": (nn.Conv2d(64, 64, 3, padding=1, bias=False), torch.zeros(1, 64, 56, 56)),
        "c": (nn.Conv2d(256, 256, 3, padding=1, bias=False), torch.zeros(1, 256, 14, 14)),
        "d": (nn.Conv2d(512, 512, 3, padding=1, groups=512, bias=False), torch.zeros(1, 512, 14, 14)),
        "e": (nn.Linear(4096, 4096), torch.zeros(1, 4096)),
        "f": (nn.Linear(4096, 4096), torch.zeros(256, 4096)),
    }


@cache
def answers_4_8() -> dict[str, Any]:
    found = {letter: traffic(*pair) for letter, pair in bound_modules().items()}
    memory = {letter for letter, (flops, nbytes) in found.items() if flops / nbytes < P / BETA}
    assert memory == {"a", "c", "d", "e"}  # intensities 61.3, 131.9, 83.8, 2.2, 0.50, 113.8
    return {"memory_bound": memory}


@cache
def answers_4_9() -> dict[str, Any]:
    from nncost.zoo import mobilenet_v1

    # MobileNet peaks on its first pointwise map, 64 channels at r/2 × r/2, read and written: 2 · 64 · (r/2)²
    # one-byte elements. 320 KiB = 327,680 B: 96 → 294,912 fits, 128 → 524,288 does not.
    resolution = max(r for r in ex.MCU_RESOLUTIONS if 2 * 64 * (r // 2) ** 2 <= 320 * 1024)
    model = mobilenet_v1(resolution=resolution).eval()
    leaves = [m for m in model.modules() if not list(m.children())]
    # every leaf's output is an activation, the in-place ReLUs' too, as nncost counts them
    total = sum(module_outputs(model, torch.zeros(1, 3, resolution, resolution), leaves))
    return {"resolution": resolution, "peak_bytes": 2 * 64 * (resolution // 2) ** 2, "total_bytes": total}


@cache
def answers_4_10() -> dict[str, Any]:
    # t(2) = 11 ms, t(16) = 39 ms: t1 = 28 / 14 = 2 ms, t0 = 7 ms; limit 1 / t1 = 500 images/s;
    # b / (7 + 2b) >= 0.45 ⇔ 0.1 b >= 3.15 ⇔ b >= 31.5: batch 32, latency 7 + 64 = 71 ms
    return {"t0_ms": 7.0, "t1_ms": 2.0, "limit": 500.0, "batch": 32, "latency_ms": 71.0}


@cache
def answers_4_12() -> dict[str, Any]:
    from nncost.zoo import mobilenet_v1, resnet18

    found: dict[str, tuple[float, int, int]] = {}
    for name, model in (("mobilenet", mobilenet_v1().eval()), ("resnet", resnet18().eval())):
        layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
        shapes: dict[nn.Module, tuple[int, int]] = {}
        def record(m: nn.Module, i: tuple[torch.Tensor, ...], o: torch.Tensor,
                   shapes: dict[nn.Module, tuple[int, int]] = shapes) -> None:
            shapes[m] = (i[0].numel(), o.numel())

        hooks = [m.register_forward_hook(record) for m in layers]
        with torch.no_grad():
            model(torch.zeros(1, 3, 224, 224))
        for hook in hooks:
            hook.remove()
        seconds, macs, memory = 0.0, 0, 0
        for m in layers:
            inputs, outputs = shapes[m]
            per_output = m.weight[0].numel()  # (c_in / groups) · k² MACs per output element (in_features for Linear)
            flops = 2 * outputs * per_output
            nbytes = 4 * (inputs + numel(m) + outputs)
            seconds += max(flops / P, nbytes / BETA)
            macs += outputs * per_output
            memory += flops / nbytes < P / BETA
        found[name] = (seconds, macs, memory)
    (mb_s, mb_macs, mb_memory), (r_s, r_macs, _) = found["mobilenet"], found["resnet"]
    assert (mb_macs, r_macs) == (568_740_352, 1_814_073_344)  # the counts of chapters 20 and 22
    return {"mobilenet_us": mb_s * 1e6, "resnet_us": r_s * 1e6, "speedup": r_s / mb_s,
            "gmacs_ratio": (r_macs / r_s) / (mb_macs / mb_s), "mobilenet_memory_bound": mb_memory}


@cache
def answers_4_13() -> dict[str, Any]:
    layer = nn.Linear(4096, 4096)
    weights = 4 * numel(layer)  # 67,125,248 bytes, read once per batch

    def picojoules(n: int) -> tuple[float, float]:
        """(arithmetic, DRAM) energy at batch n: 4.6 pJ per fp32 MAC, 162.5 pJ per DRAM byte."""
        macs = torch_flops(layer, torch.zeros(n, 4096)) // 2
        return macs * 4.6, (weights + 4 * (4096 + 4096) * n) * 162.5

    arithmetic, dram = picojoules(1)
    # n · 77,175,193.6 >= 10,907,852,800 + n · 5,324,800 ⇔ n >= 151.8: batch 152
    crossover = 152
    assert picojoules(crossover)[0] >= picojoules(crossover)[1] and picojoules(151)[0] < picojoules(151)[1]
    at = sum(picojoules(crossover))
    return {"batch1_uj": (arithmetic + dram) / 1e6, "dram_share": dram / (arithmetic + dram), "crossover": crossover,
            "per_image_ratio": (arithmetic + dram) / (at / crossover)}


# (checker, exercise, its right answers, (one answer to get wrong, the wrong value), the hint's chapter, tolerant?)
VALUE_CHECKERS: list[tuple[Callable[..., exercises.Verdict], str, Callable[[], dict[str, Any]], tuple[str, Any], int,
                           bool]] = [
    (ex.check_model_size, "4.1", answers_4_1, ("fp16_mib", 15.96), 20, True),  # MB where MiB was asked
    (ex.check_count_conventions, "4.2", answers_4_2, ("flops", 231_211_008), 20, False),  # MACs given as FLOPs
    (ex.check_latency_throughput, "4.3", answers_4_3, ("latency_1_ms", 5.28), 21, True),  # the mean
    (ex.check_ridge_point, "4.4", answers_4_4, ("bound", "compute"), 22, False),
    (ex.check_energy_table, "4.5", answers_4_5, ("int8_macs_per_dram_byte", 1300 / 0.23), 22, True),  # no / 8
    (ex.check_activation_memory, "4.6", answers_4_6, ("peak_bytes", 131_072), 20, False),  # forgot the skip
    (ex.check_microcontroller, "4.9", answers_4_9, ("resolution", 128), 20, False),
    (ex.check_batch_model, "4.10", answers_4_10, ("batch", 31), 21, False),
    (ex.check_macs_per_second, "4.12", answers_4_12, ("mobilenet_memory_bound", 14), 22, False),
    (ex.check_fc_energy, "4.13", answers_4_13, ("crossover", 151), 22, False),
]
IDS = [case[1] for case in VALUE_CHECKERS]


# --------------------------------------------------------------------------------------------------------------
# Value checkers
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter", "tolerant"), VALUE_CHECKERS, ids=IDS)
def test_the_right_answer_is_correct(checker: Callable[..., exercises.Verdict], number: str,
                                     answers: Callable[[], dict[str, Any]], wrong: tuple[str, Any], chapter: int,
                                     tolerant: bool) -> None:
    verdict = checker(**answers())
    assert verdict and verdict.status == "correct", verdict.message
    assert verdict.message.startswith(f"✓ Exercise {number}: correct")


@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter", "tolerant"), VALUE_CHECKERS, ids=IDS)
def test_a_wrong_answer_shows_expected_got_and_the_chapter(checker: Callable[..., exercises.Verdict], number: str,
                                                           answers: Callable[[], dict[str, Any]],
                                                           wrong: tuple[str, Any], chapter: int,
                                                           tolerant: bool) -> None:
    right = answers()
    name, value = wrong
    verdict = checker(**{**right, name: value})
    assert not verdict and verdict.status == "wrong"
    within = " (within 1%)" if tolerant else ""
    assert f"expected {_fmt(right[name])}{within}, got {_fmt(value)}" in verdict.message, verdict.message
    assert f"Hint: Reread chapter {chapter} ({ex.CHAPTERS[chapter][0]}), section '" in verdict.message
    others = [line for line in verdict.message.splitlines() if line.strip().startswith("✓")]
    assert len(others) == len(right) - 1, "the other answers are still shown as right"


@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter", "tolerant"), VALUE_CHECKERS, ids=IDS)
def test_blanks_are_not_answered_yet(checker: Callable[..., exercises.Verdict], number: str,
                                     answers: Callable[[], dict[str, Any]], wrong: tuple[str, Any], chapter: int,
                                     tolerant: bool) -> None:
    right = answers()
    blank = checker(**dict.fromkeys(right, ...))
    assert blank.status == "blank" and f"… Exercise {number}: not answered yet" in blank.message
    assert "Hint" not in blank.message
    assert checker().status == "blank", "calling the checker with nothing is a blank too"
    name = next(iter(right))
    partial = checker(**{**right, name: ...})
    assert partial.status == "wrong" and f"… {name}: not answered yet" in partial.message


def test_estimates_are_accepted_within_the_stated_one_percent_and_counts_are_exact() -> None:
    right = answers_4_1()
    assert ex.check_model_size(**{**right, "fp16_mib": 15.22, "int8_mb": 7.98}), "two decimals are enough"
    too_far = ex.check_model_size(**{**right, "fp16_mib": right["fp16_mib"] * 1.02})
    assert too_far.status == "wrong" and "(within 1%)" in too_far.message
    assert not ex.check_model_size(**{**right, "fp32_bytes": right["fp32_bytes"] + 1}), "bytes are exact"
    twelve = answers_4_12()
    assert ex.check_macs_per_second(**{**twelve, "speedup": 1.22, "gmacs_ratio": 2.61})
    assert ex.check_fc_energy(**{**answers_4_13(), "dram_share": 0.993})


def test_the_wrong_kind_of_answer_is_named() -> None:
    verdict = ex.check_count_conventions(**{**answers_4_2(), "macs": "231,211,008"})
    assert verdict.status == "wrong" and "expected a number, got str" in verdict.message
    verdict = ex.check_ridge_point(**{**answers_4_4(), "bound": 1})
    assert "expected text (one of the options), got int 1" in verdict.message
    assert ex.check_ridge_point(**{**answers_4_4(), "bound": " Memory"}), "text ignores case and spaces"
    assert ex.check_activation_memory(**{k: np.int64(v) for k, v in answers_4_6().items()}), "numpy ints are numbers"


def test_the_two_times_slip_is_caught() -> None:
    # the chapter's point: a tool's "FLOPs" are often MACs; giving MACs where FLOPs are asked is off by 2
    right = answers_4_2()
    verdict = ex.check_count_conventions(**{**right, "flops": right["macs"], "microseconds": right["microseconds"] / 2})
    assert verdict.status == "wrong"
    assert "expected 462,422,016, got 231,211,008" in verdict.message
    assert "expected 231.211 (within 1%), got 115.606" in verdict.message


# --------------------------------------------------------------------------------------------------------------
# 4.8  memory-bound layers (a set of letters)
# --------------------------------------------------------------------------------------------------------------

def test_memory_bound_right_in_any_collection_and_case() -> None:
    right = answers_4_8()["memory_bound"]
    for given in (right, sorted(right), tuple(sorted(right, reverse=True)), {x.upper() for x in right},
                  frozenset(right)):
        verdict = ex.check_memory_bound(given)
        assert verdict and verdict.message == "✓ Exercise 4.8: correct — ('a', 'c', 'd', 'e')"


def test_memory_bound_wrong() -> None:
    verdict = ex.check_memory_bound({"c", "d", "e"})  # the stem looks compute-heavy, but is memory-bound here
    assert verdict.status == "wrong"
    assert "expected ('a', 'c', 'd', 'e'), got ('c', 'd', 'e')" in verdict.message
    assert "Hint: Reread chapter 22 (The roofline, and energy), section 'The operational intensity of a layer', " \
           "and section 'Two limits'" in verdict.message
    assert ex.check_memory_bound(set()).status == "wrong"
    text = ex.check_memory_bound("acde")
    assert text.status == "wrong" and "expected a set of letters such as {'a', 'b'}, got str 'acde'" in text.message


def test_memory_bound_blank() -> None:
    for blank in (ex.check_memory_bound(...), ex.check_memory_bound()):
        assert blank.status == "blank" and "… Exercise 4.8: not answered yet" in blank.message


# --------------------------------------------------------------------------------------------------------------
# 4.7  summarize
# --------------------------------------------------------------------------------------------------------------

def numpy_summary(samples: Sequence[float]) -> tuple[float, float, float]:
    return float(np.median(samples)), float(np.quantile(samples, 0.25)), float(np.quantile(samples, 0.75))


def test_summary_right() -> None:
    verdict = ex.check_timing_summary(numpy_summary)
    assert verdict and verdict.message == "✓ Exercise 4.7: correct — all 8 cases pass"

    def as_list(samples: Sequence[float]) -> list[float]:
        return list(numpy_summary(samples))

    assert ex.check_timing_summary(as_list), "a list of three numbers will do"


def test_summary_exclusive_quantiles_are_caught() -> None:
    def exclusive(samples: Sequence[float]) -> tuple[float, float, float]:
        q1, median, q3 = statistics.quantiles(samples, n=4)  # the "exclusive" method, and needs 2 samples
        return median, q1, q3

    verdict = ex.check_timing_summary(exclusive)
    assert verdict.status == "wrong" and "cases fail" in verdict.message
    assert "exclusive([0.005]) raised StatisticsError" in verdict.message
    assert "Hint: Reread chapter 21 (Latency and throughput, measured), section 'Measuring properly'" in \
        verdict.message


def test_summary_tukey_hinges_are_caught() -> None:
    def hinges(samples: Sequence[float]) -> tuple[float, float, float]:
        xs = sorted(samples)
        half = len(xs) // 2
        low, high = xs[:half] or xs, xs[-half:] or xs
        return statistics.median(xs), statistics.median(low), statistics.median(high)

    verdict = ex.check_timing_summary(hinges)
    assert verdict.status == "wrong"
    # (0.003, 0.001): hinges give q1 = 0.001, linear interpolation 0.0015
    assert "hinges([0.003, 0.001]): expected (0.002, 0.0015, 0.0025), got (0.002, 0.001, 0.003)" in verdict.message


def test_summary_unsorted_is_caught() -> None:
    def unsorted(samples: Sequence[float]) -> tuple[float, float, float]:
        xs = list(samples)  # forgets to sort

        def quantile(q: float) -> float:
            h = (len(xs) - 1) * q
            low = math.floor(h)
            high = min(low + 1, len(xs) - 1)
            return xs[low] + (h - low) * (xs[high] - xs[low])

        return quantile(0.5), quantile(0.25), quantile(0.75)

    verdict = ex.check_timing_summary(unsorted)
    assert verdict.status == "wrong" and "unsorted([0.012, 0.01, 0.011, 0.01, 0.013])" in verdict.message


def test_summary_blank() -> None:
    def summarize(samples: Sequence[float]) -> tuple[float, float, float]:
        raise NotImplementedError("sort, then interpolate")

    for blank in (..., summarize):
        verdict = ex.check_timing_summary(blank)
        assert verdict.status == "blank" and "… Exercise 4.7: not answered yet" in verdict.message


# --------------------------------------------------------------------------------------------------------------
# 4.11  conv_roofline_seconds
# --------------------------------------------------------------------------------------------------------------

def torch_roofline(in_shape: tuple[int, int, int, int], c_out: int, k: int, stride: int = 1, groups: int = 1, *,
                   peak_flops: float, bandwidth: float, bytes_per_element: int = 4) -> float:
    """torch counts: a meta Conv2d's output shape, its weights' numel and FlopCounterMode's FLOPs."""
    with torch.device("meta"):
        conv = nn.Conv2d(in_shape[1], c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False)
        x = torch.empty(in_shape)
        with FlopCounterMode(display=False) as counter:
            out = conv(x)
    nbytes = (x.numel() + conv.weight.numel() + out.numel()) * bytes_per_element
    return max(counter.get_total_flops() / peak_flops, nbytes / bandwidth)


def by_hand(macs_not_flops: bool = False, ignore_groups: bool = False, ceil: bool = False,
            no_weights: bool = False, add: bool = False) -> Callable[..., float]:
    """A student's conv_roofline_seconds, right by default, with one of the usual slips switched on."""
    def conv_roofline_seconds(in_shape: tuple[int, int, int, int], c_out: int, k: int, stride: int = 1,
                              groups: int = 1, *, peak_flops: float, bandwidth: float,
                              bytes_per_element: int = 4) -> float:
        n, c_in, h, w = in_shape
        p = k // 2
        size = (lambda x: -(-(x + 2 * p - k) // stride) + 1) if ceil else (lambda x: (x + 2 * p - k) // stride + 1)
        h_out, w_out = size(h), size(w)
        weights = c_out * (c_in if ignore_groups else c_in // groups) * k * k
        flops = (1 if macs_not_flops else 2) * n * h_out * w_out * weights
        nbytes = (n * c_in * h * w + (0 if no_weights else weights) + n * c_out * h_out * w_out) * bytes_per_element
        compute, memory = flops / peak_flops, nbytes / bandwidth
        return compute + memory if add else max(compute, memory)

    return conv_roofline_seconds


def test_conv_roofline_right() -> None:
    for right in (torch_roofline, by_hand()):
        verdict = ex.check_conv_roofline(right)
        assert verdict and verdict.message == "✓ Exercise 4.11: correct — all 9 cases pass"


def test_conv_roofline_cases_cover_both_bounds_and_the_edge_cases() -> None:
    bounds = set()
    for in_shape, c_out, k, stride, groups, peak, bandwidth, bpe in ex.ROOFLINE_CASES:
        compute_only = by_hand()(in_shape, c_out, k, stride, groups, peak_flops=peak, bandwidth=math.inf,
                                 bytes_per_element=bpe)  # an infinite bandwidth leaves F / P
        memory_only = by_hand()(in_shape, c_out, k, stride, groups, peak_flops=math.inf, bandwidth=bandwidth,
                                bytes_per_element=bpe)  # an infinite peak leaves B / β
        bounds.add("compute" if compute_only >= memory_only else "memory")
    assert bounds == {"compute", "memory"}
    assert any(c[4] == c[0][1] > 1 for c in ex.ROOFLINE_CASES), "a depthwise case"
    assert any(1 < c[4] < c[0][1] for c in ex.ROOFLINE_CASES), "a grouped case"
    assert any((c[0][2] + 2 * (c[2] // 2) - c[2]) % c[3] for c in ex.ROOFLINE_CASES), "a stride that does not divide"
    assert any(c[7] != 4 for c in ex.ROOFLINE_CASES) and any(c[0][0] > 1 for c in ex.ROOFLINE_CASES)


@pytest.mark.parametrize(
    ("slip", "shown"),
    [
        ({"macs_not_flops": True}, "conv_roofline_seconds((1, 64, 56, 56), 64, 3, stride=1, groups=1"),
        ({"ignore_groups": True}, "conv_roofline_seconds((1, 512, 14, 14), 512, 3, stride=1, groups=512"),
        ({"ceil": True}, "conv_roofline_seconds((1, 3, 224, 224), 32, 3, stride=2, groups=1"),
        ({"no_weights": True}, "conv_roofline_seconds((1, 1,024, 7, 7), 1,024, 1, stride=1, groups=1"),
        ({"add": True}, "conv_roofline_seconds((1, 64, 56, 56), 64, 3, stride=1, groups=1"),
    ],
    ids=["macs", "groups", "ceil", "weights", "sum"],
)
def test_conv_roofline_slips_are_caught(slip: dict[str, bool], shown: str) -> None:
    verdict = ex.check_conv_roofline(by_hand(**slip))
    assert verdict.status == "wrong" and "cases fail" in verdict.message
    assert shown in verdict.message, verdict.message
    assert "Hint: Reread chapter 22 (The roofline, and energy), section 'The operational intensity of a layer'" in \
        verdict.message


def test_conv_roofline_blank() -> None:
    def conv_roofline_seconds(*args: Any, **kwargs: Any) -> float:
        raise NotImplementedError("count, then take the larger time")

    for blank in (..., conv_roofline_seconds):
        verdict = ex.check_conv_roofline(blank)
        assert verdict.status == "blank" and "… Exercise 4.11: not answered yet" in verdict.message


# --------------------------------------------------------------------------------------------------------------
# The set as a whole
# --------------------------------------------------------------------------------------------------------------

def headings(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    lines = ("".join(c["source"]).splitlines() for c in cells if c["cell_type"] == "markdown")
    return {line.lstrip("#").strip() for block in lines for line in block if line.startswith("#")}


def test_every_hint_names_an_existing_section() -> None:
    pairs = {**{k: (c, s) for k, (c, s, _) in ex.SECTIONS.items()}, **{f"{k} (also)": v for k, v in ex.ALSO.items()}}
    for exercise, (chapter, section) in pairs.items():
        path = ROOT / "book" / ex.CHAPTERS[chapter][1]
        assert section in headings(path), f"{exercise}: no heading {section!r} in {path.name}"
        title = next(h for h in headings(path) if h == ex.CHAPTERS[chapter][0])
        assert title, "the hint's chapter title is the notebook's title"
    assert ex.hint("4.1").startswith("Reread chapter 20 (Memory and compute metrics), section 'Memory: parameters "
                                     "and model size': ")


def test_every_chapter_of_the_part_is_covered() -> None:
    covered = {chapter for chapter, _, _ in ex.SECTIONS.values()} | {chapter for chapter, _ in ex.ALSO.values()}
    chapters = sorted(int(p.name[:2]) for p in (ROOT / "book" / "04-efficiency").glob("[0-9][0-9]-*.ipynb"))
    assert covered == set(ex.CHAPTERS) == set(chapters)


def test_the_notebook_checks_every_exercise_once_in_order() -> None:
    source = json.loads((ROOT / "book" / "exercises" / "ex4-efficiency.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in source["cells"])
    titles = re.findall(r"^## Exercise (4\.\d+) — .+ (★[★☆]{2})$", text, flags=re.MULTILINE)
    assert [number for number, _ in titles] == [f"4.{k}" for k in range(1, 14)]
    assert [s.count("★") for _, s in titles] == sorted(s.count("★") for _, s in titles), "graded from easy to hard"
    kinds = re.findall(r"^\*Kind: (compute by hand|implement|explain and estimate)\*$", text, flags=re.MULTILINE)
    assert len(kinds) == 13 and len(set(kinds)) == 3 and all(kinds.count(kind) >= 2 for kind in set(kinds))
    code = "\n".join("".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code")
    checkers = [name for name in ex.__all__ if name.startswith("check_")]
    assert sorted(re.findall(r"ex\.(check_\w+)\(", code)) == sorted(checkers), "each checker used once"
    assert set(ex.SECTIONS) == {number for number, _ in titles}
    for _, path in ex.CHAPTERS.values():
        assert f"../{path}" in text, f"the set links {path}"
    assert 'nncost.exercises.scoreboard("4.")' in code


def test_no_exercise_depends_on_a_measured_time() -> None:
    # every checker is deterministic: the same answers give the same verdict, with no nncost.measure call
    source = (ROOT / "lib" / "nncost" / "exercises" / "efficiency.py").read_text()
    assert "measure(" not in source and "perf_counter" not in source


def test_scoreboard_counts_this_set() -> None:
    for checker, _, answers, _, _, _ in VALUE_CHECKERS:
        checker(**answers())
    ex.check_timing_summary(...)
    board = exercises.scoreboard("4.")
    numbers = [v.exercise for v in board.verdicts]
    assert {"4.1", "4.7", "4.10", "4.13"} <= set(numbers)
    assert numbers == sorted(numbers, key=lambda n: int(n.split(".")[1]))
    assert "4.7" in repr(board).splitlines()[-1]
