"""Checkers for exercise set 4, Part IV — Efficiency (chapters 20–22: memory and compute metrics, latency and
throughput, the roofline and energy).

The exercises are in ``book/exercises/ex4-efficiency.ipynb``.

Every expected answer is derived here, when the checker runs, from the exercise's parameters (the module
constants below) with ``nncost``: :func:`nncost.model_size_bytes` and :data:`nncost.memory.UNITS` for model
sizes, the layer formulas (:func:`nncost.conv2d`, :func:`nncost.linear`) for MACs and FLOPs,
:func:`nncost.torch_params` and :func:`nncost.profile` of the book's models from :mod:`nncost.zoo` on the meta
device for parameters, activation memory and per-layer counts, :class:`nncost.Timing` for medians,
quartiles and throughputs, :class:`nncost.Roofline` with :func:`nncost.roofline.layer_bytes` for operational
intensities and predicted times, and :func:`nncost.estimate_energy` with Horowitz's table
(:data:`nncost.energy.HOROWITZ_2014`) for energy. No answer is stored, and nothing is timed: every machine in
these exercises is described by its numbers in the task (e.g. "10 TFLOP/s and 100 GB/s"), so every answer is
deterministic.

    from nncost.exercises import efficiency as ex
    ex.check_model_size(fp32_bytes=31_915_424, fp16_mib=15.22, int8_mb=7.98, int4_bytes=3_989_428)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from nncost.exercises._core import (
    Case,
    Verdict,
    _fmt,
    _record,
    check_answers,
    check_function,
    check_value,
    is_blank,
    reread,
)

# --------------------------------------------------------------------------------------------------------------
# Where each exercise sends a student who got it wrong. tests/test_exercises_efficiency.py checks that every
# section heading exists in its chapter's notebook.
# --------------------------------------------------------------------------------------------------------------

CHAPTERS: dict[int, tuple[str, str]] = {
    20: ("Memory and compute metrics", "04-efficiency/20-memory-and-compute-metrics.ipynb"),
    21: ("Latency and throughput, measured", "04-efficiency/21-latency-and-throughput.ipynb"),
    22: ("The roofline, and energy", "04-efficiency/22-roofline-and-energy.ipynb"),
}
SECTIONS: dict[str, tuple[int, str, str]] = {
    "4.1": (20, "Memory: parameters and model size",
            "size = parameters × bits / 8 bytes; 1 MB = 10^6 B, 1 MiB = 2^20 = 1,048,576 B"),
    "4.2": (20, "Compute: MAC, FLOP, FLOPS, OP, OPS",
            "MACs = output elements × (c_in / groups) × k²; 1 MAC = 2 FLOPs (or 2 OPs); time = FLOPs / (FLOP/s)"),
    "4.3": (21, "Two metrics, not one",
            "latency is the median time of one call on the batch; throughput = batch size / latency"),
    "4.4": (22, "Two limits",
            "ridge point = P / β; I = F / B; attainable = min(P, I·β); T = max(F / P, B / β)"),
    "4.5": (22, "Energy",
            "a MAC is one multiply and one add at the same width; a DRAM byte costs 1/8 of a 64-bit access"),
    "4.6": (20, "Memory: activations, total and peak",
            "total = every module's output added up (the residual add's output too); peak = the most alive at "
            "once, counting the block's input held for the add"),
    "4.7": (21, "Measuring properly",
            "sort the samples; the q-quantile sits at position h = (n − 1)·q, interpolated linearly between "
            "the order statistics around it"),
    "4.8": (22, "The operational intensity of a layer",
            "bytes = (input + parameters + output elements) × 4; a layer left of the ridge point "
            "(I < P / β) is memory-bound"),
    "4.9": (20, "Fewer parameters, more activation memory",
            "the peak is set by the largest pair of maps alive at once; int8 stores one byte per element"),
    "4.10": (21, "The model behind a sweep",
             "two points fix the line t(b) = t0 + b·t1; throughput b / t(b) approaches 1 / t1"),
    "4.11": (22, "The operational intensity of a layer",
             "FLOPs = 2 × MACs; the weights are c_out × (c_in / groups) × k²; 'same' padding is k // 2 and the "
             "output size uses the floor"),
    "4.12": (22, "FLOPs are not latency",
             "sum max(F / P, B / β) over the Conv2d and Linear rows of nncost.profile at 1 × 3 × 224 × 224"),
    "4.13": (22, "Energy",
             "E = MACs × 4.6 pJ + DRAM bytes × 1300 / 8 pJ; the weights are read once per batch, the "
             "activations once per image"),
}
# Exercises whose hint also sends the reader to a second section.
ALSO: dict[str, tuple[int, str]] = {
    "4.2": (20, "Why papers and tools disagree by 2×"),
    "4.8": (22, "Two limits"),
    "4.10": (21, "Latency against throughput: a batch sweep"),
    "4.11": (22, "Two limits"),
    "4.12": (22, "Real layers on the roofline"),
}

#: Tolerance for the answers that are not counts (sizes in MB or MiB, times, ratios, energies): 1 %.
TOLERANCE = 0.01


def hint(exercise: str) -> str:
    """The hint shown with a wrong answer: the chapter and section(s) to reread, and what to look for."""
    chapter, section, advice = SECTIONS[exercise]
    also = ALSO.get(exercise)
    second = (also[0], CHAPTERS[also[0]][0], also[1]) if also else None
    return reread(chapter, CHAPTERS[chapter][0], section, also=second, advice=advice)


def _check(exercise: str, got: Mapping[str, Any], derive: Callable[[], Mapping[str, tuple[Any, float]]]) -> Verdict:
    """Named answers with a tolerance each, derived only once one is answered, with this set's hint."""
    return check_answers(exercise, got, derive, hint=hint(exercise))

def _meta(build: Callable[[], Any]) -> Any:
    """A zoo model built on the meta device (shapes, no memory), in inference mode."""
    import torch

    with torch.device("meta"):
        return build().eval()


def _roofline(peak_flops: float, bandwidth: float) -> Any:
    from nncost.roofline import Roofline

    return Roofline(peak_flops, bandwidth, label="the exercise's chip")


#: The chip of exercises 4.4, 4.8 and 4.12: 10 TFLOP/s (10^13 FLOP/s) and 100 GB/s (10^11 B/s).
CHIP_FLOPS = 10e12
CHIP_BANDWIDTH = 100e9


# --------------------------------------------------------------------------------------------------------------
# 4.1  DenseNet-121 in four number formats (chapter 20)
# --------------------------------------------------------------------------------------------------------------

@cache
def _densenet_params() -> int:
    from nncost.torch_counts import torch_params
    from nncost.zoo import densenet121

    return torch_params(_meta(densenet121))


def check_model_size(fp32_bytes: Any = ..., fp16_mib: Any = ..., int8_mb: Any = ..., int4_bytes: Any = ...) -> Verdict:
    """4.1: nncost.model_size_bytes of DenseNet-121's parameters (nncost.torch_params of the zoo model) in fp32,
    fp16, int8 and int4; MiB = 2^20 B and MB = 10^6 B from nncost.memory.UNITS (sizes in units within 1 %)."""
    def derive() -> dict[str, tuple[Any, float]]:
        from nncost.memory import UNITS, model_size_bytes

        params = _densenet_params()
        return {
            "fp32_bytes": (model_size_bytes(params, "fp32"), 0.0),
            "fp16_mib": (model_size_bytes(params, "fp16") / UNITS["MiB"], TOLERANCE),
            "int8_mb": (model_size_bytes(params, "int8") / UNITS["MB"], TOLERANCE),
            "int4_bytes": (model_size_bytes(params, "int4"), 0.0),
        }

    got = {"fp32_bytes": fp32_bytes, "fp16_mib": fp16_mib, "int8_mb": int8_mb, "int4_bytes": int4_bytes}
    return _check("4.1", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.2  MACs, FLOPs, FLOP/s and TOPS (chapter 20)
# --------------------------------------------------------------------------------------------------------------

#: nn.Conv2d(64, 128, 3, padding=1, bias=False) on a 1 × 64 × 56 × 56 input.
UNITS_INPUT = (1, 64, 56, 56)
UNITS_OUT_CHANNELS = 128
UNITS_KERNEL = 3
#: A chip that sustains 2 TFLOP/s (a rate) in float32.
UNITS_CHIP_FLOPS = 2e12
#: An accelerator advertised at 8 TOPS in int8 (tera-operations per second; one MAC = 2 OPs).
UNITS_CHIP_TOPS = 8e12


def check_count_conventions(macs: Any = ..., flops: Any = ..., microseconds: Any = ...,
                            int8_macs_per_second: Any = ...) -> Verdict:
    """4.2: nncost.conv2d's MACs and FLOPs (2 per MAC), FLOPs / 2 TFLOP/s in µs, and 8 TOPS / 2 OPs per MAC."""
    def derive() -> dict[str, tuple[Any, float]]:
        from nncost.layers import conv2d

        layer = conv2d(UNITS_INPUT, UNITS_OUT_CHANNELS, UNITS_KERNEL, padding=UNITS_KERNEL // 2, bias=False)
        return {
            "macs": (layer.macs, 0.0),
            "flops": (layer.flops, 0.0),
            "microseconds": (layer.flops / UNITS_CHIP_FLOPS * 1e6, TOLERANCE),
            "int8_macs_per_second": (UNITS_CHIP_TOPS / (layer.flops / layer.macs), TOLERANCE),
        }

    got = {"macs": macs, "flops": flops, "microseconds": microseconds, "int8_macs_per_second": int8_macs_per_second}
    return _check("4.2", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.3  Latency and throughput from a table of timings (chapter 21)
# --------------------------------------------------------------------------------------------------------------

#: Five timed calls per batch size, in milliseconds, in the order they were taken (one interrupted each).
BATCH_TIMINGS_MS: dict[int, tuple[float, ...]] = {
    1: (4.1, 4.0, 4.3, 9.8, 4.2),
    4: (6.0, 6.2, 5.9, 6.1, 14.0),
    16: (15.8, 16.1, 16.0, 31.0, 15.9),
    64: (58.0, 57.5, 58.5, 59.0, 120.0),
}
#: The service-level objective of the task: a batch's median latency must stay at or under 20 ms.
LATENCY_BUDGET_MS = 20.0


def _batch_timing(batch: int) -> Any:
    from nncost.timing import Timing

    return Timing(tuple(ms / 1e3 for ms in BATCH_TIMINGS_MS[batch]), warmup=0, threads=1, batch_size=batch)


def check_latency_throughput(latency_1_ms: Any = ..., throughput_64: Any = ..., batch_in_budget: Any = ...,
                             throughput_in_budget: Any = ...) -> Verdict:
    """4.3: nncost.Timing's median and items_per_second for each batch size of BATCH_TIMINGS_MS; the batch
    with the most items/s among those whose median is within LATENCY_BUDGET_MS (values within 1 %)."""
    def derive() -> dict[str, tuple[Any, float]]:
        timings = {b: _batch_timing(b) for b in BATCH_TIMINGS_MS}
        allowed = [b for b, t in timings.items() if t.median * 1e3 <= LATENCY_BUDGET_MS]
        best = max(allowed, key=lambda b: timings[b].items_per_second)
        return {
            "latency_1_ms": (timings[1].median * 1e3, TOLERANCE),
            "throughput_64": (timings[64].items_per_second, TOLERANCE),
            "batch_in_budget": (best, 0.0),
            "throughput_in_budget": (timings[best].items_per_second, TOLERANCE),
        }

    got = {"latency_1_ms": latency_1_ms, "throughput_64": throughput_64, "batch_in_budget": batch_in_budget,
           "throughput_in_budget": throughput_in_budget}
    return _check("4.3", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.4  A pointwise convolution on a 10 TFLOP/s, 100 GB/s chip (chapter 22)
# --------------------------------------------------------------------------------------------------------------

#: nn.Conv2d(256, 256, 1, bias=False) on 1 × 256 × 14 × 14, float32.
POINTWISE_INPUT = (1, 256, 14, 14)
POINTWISE_OUT_CHANNELS = 256


def check_ridge_point(ridge: Any = ..., intensity: Any = ..., attainable_tflops: Any = ...,
                      microseconds: Any = ..., bound: Any = ...) -> Verdict:
    """4.4: Roofline(10 TFLOP/s, 100 GB/s): its ridge point; the layer's FLOPs (nncost.conv2d) over its
    bytes (nncost.roofline.layer_bytes); attainable FLOP/s, predict_seconds and bound (numbers within 1 %)."""
    def derive() -> dict[str, tuple[Any, float]]:
        from nncost.layers import conv2d
        from nncost.roofline import layer_bytes, operational_intensity

        chip = _roofline(CHIP_FLOPS, CHIP_BANDWIDTH)
        layer = conv2d(POINTWISE_INPUT, POINTWISE_OUT_CHANNELS, 1, bias=False)
        nbytes = layer_bytes(layer)
        found = operational_intensity(layer.flops, nbytes)
        return {
            "ridge": (chip.ridge_point, TOLERANCE),
            "intensity": (found, TOLERANCE),
            "attainable_tflops": (chip.attainable(found) / 1e12, TOLERANCE),
            "microseconds": (chip.predict_seconds(layer.flops, nbytes) * 1e6, TOLERANCE),
            "bound": (chip.bound(layer.flops, nbytes), 0.0),
        }

    got = {"ridge": ridge, "intensity": intensity, "attainable_tflops": attainable_tflops,
           "microseconds": microseconds, "bound": bound}
    return _check("4.4", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.5  Reading Horowitz's table (chapter 22)
# --------------------------------------------------------------------------------------------------------------


def check_energy_table(fp16_mac_pj: Any = ..., int8_macs_per_dram_byte: Any = ...,
                       fp32_over_int8: Any = ...) -> Verdict:
    """4.5: nncost.energy.mac_energy_pj("fp16"); a DRAM byte (the low end of HOROWITZ_2014["dram"], / 8) over
    mac_energy_pj("int8"); mac_energy_pj("fp32") / mac_energy_pj("int8") (all within 1 %)."""
    def derive() -> dict[str, tuple[Any, float]]:
        from nncost.energy import HOROWITZ_2014, mac_energy_pj

        dram_byte = HOROWITZ_2014["dram"].pj / 8
        return {
            "fp16_mac_pj": (mac_energy_pj("fp16"), TOLERANCE),
            "int8_macs_per_dram_byte": (dram_byte / mac_energy_pj("int8"), TOLERANCE),
            "fp32_over_int8": (mac_energy_pj("fp32") / mac_energy_pj("int8"), TOLERANCE),
        }

    got = {"fp16_mac_pj": fp16_mac_pj, "int8_macs_per_dram_byte": int8_macs_per_dram_byte,
           "fp32_over_int8": fp32_over_int8}
    return _check("4.5", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.6  Total and peak activation memory of a small residual network (chapter 20)
# --------------------------------------------------------------------------------------------------------------

RESIDUAL_INPUT = (1, 3, 32, 32)


def residual_net() -> Any:
    """The network of exercise 4.6 (its code is printed in the task)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.conv2(self.relu(self.conv1(x)))

    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), Block(16),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), Block(32),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )


def check_activation_memory(total_elements: Any = ..., total_bytes: Any = ..., peak_bytes: Any = ...) -> Verdict:
    """4.6: nncost.profile(residual_net(), (1, 3, 32, 32)): activations, total and peak activation bytes."""
    def derive() -> dict[str, tuple[Any, float]]:
        from nncost.profiler import profile

        report = profile(_meta(residual_net), RESIDUAL_INPUT)
        return {
            "total_elements": (report.activations, 0.0),
            "total_bytes": (report.total_activation_bytes, 0.0),
            "peak_bytes": (report.peak_activation_bytes, 0.0),
        }

    got = {"total_elements": total_elements, "total_bytes": total_bytes, "peak_bytes": peak_bytes}
    return _check("4.6", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.7  A robust timing summary (chapter 21)
# --------------------------------------------------------------------------------------------------------------

#: Lists of samples (seconds) the student's summary is called on: odd and even counts, one and two samples,
#: unsorted, ties, an outlier.
SUMMARY_CASES: tuple[tuple[float, ...], ...] = (
    (0.012, 0.010, 0.011, 0.010, 0.013),
    (0.005,),
    (0.003, 0.001),
    (0.012, 0.010, 0.011, 0.010),
    (0.007, 0.001, 0.003, 0.009, 0.005, 0.002, 0.008),
    (0.002, 0.002, 0.002, 0.002, 0.002, 0.002),
    (0.0041, 0.0040, 0.0043, 0.0098, 0.0042, 0.00405),
    (0.020, 0.021, 0.019, 0.020, 0.022, 0.150, 0.020, 0.021, 0.019, 0.023),
)
SUMMARY_TOLERANCE = 1e-9


def check_timing_summary(function: Callable[[Sequence[float]], Any] | Any) -> Verdict:
    """4.7: summarize(samples) → (median, q1, q3) against nncost.Timing's median, q1 and q3 (NumPy's linear
    quantiles), to a relative 1e-9, on SUMMARY_CASES."""
    from nncost.timing import Timing

    cases: list[Case] = []
    for samples in SUMMARY_CASES:
        timing = Timing(samples, warmup=0, threads=1)
        cases.append(((list(samples),), {}, (timing.median, timing.q1, timing.q3)))
    return check_function("4.7", function, cases, hint=hint("4.7"), rel_tol=SUMMARY_TOLERANCE)


# --------------------------------------------------------------------------------------------------------------
# 4.8  Which layers are memory-bound? (chapter 22)
# --------------------------------------------------------------------------------------------------------------


def _bound_layers() -> dict[str, Any]:
    """The six float32 layers of exercise 4.8, batch 1 unless said, by letter (nncost layer formulas)."""
    from nncost.layers import conv2d, linear

    return {
        "a": conv2d((1, 3, 224, 224), 64, 7, stride=2, padding=3, bias=False),  # ResNet's stem
        "b": conv2d((1, 64, 56, 56), 64, 3, padding=1, bias=False),
        "c": conv2d((1, 256, 14, 14), 256, 3, padding=1, bias=False),
        "d": conv2d((1, 512, 14, 14), 512, 3, padding=1, groups=512, bias=False),  # depthwise
        "e": linear((1, 4096), 4096),
        "f": linear((256, 4096), 4096),
    }


def _letters(got: Any) -> Any:
    """A set, list or tuple of letters as a sorted tuple of lower-case strings; anything else unchanged."""
    if isinstance(got, set | frozenset | list | tuple) and all(isinstance(x, str) for x in got):
        return tuple(sorted(x.strip().lower() for x in got))
    return got


def check_memory_bound(memory_bound: Any = ...) -> Verdict:
    """4.8: the letters of _bound_layers() whose Roofline(10 TFLOP/s, 100 GB/s).bound(flops, layer_bytes) is
    "memory"."""
    if is_blank(memory_bound):
        return check_value("4.8", memory_bound, (), hint=hint("4.8"))
    letters = _letters(memory_bound)
    if not isinstance(letters, tuple):
        kind = type(memory_bound).__name__
        reason = f"expected a set of letters such as {{'a', 'b'}}, got {kind} {_fmt(memory_bound)}"
        return _record(Verdict("4.8", "wrong", reason, hint("4.8")))
    from nncost.roofline import layer_bytes

    chip = _roofline(CHIP_FLOPS, CHIP_BANDWIDTH)
    expected = tuple(sorted(letter for letter, layer in _bound_layers().items()
                            if chip.bound(layer.flops, layer_bytes(layer)) == "memory"))
    return check_value("4.8", letters, expected, hint=hint("4.8"))


# --------------------------------------------------------------------------------------------------------------
# 4.9  MobileNet v1 on a microcontroller (chapter 20)
# --------------------------------------------------------------------------------------------------------------

#: On-chip SRAM for the activations: 320 KiB; int8 activations (one byte per element).
MCU_SRAM_BYTES = 320 * 1024
MCU_RESOLUTIONS = (96, 128, 160, 192, 224)
INT8_BYTES = 1


@cache
def _mobilenet_activations(resolution: int) -> tuple[int, int]:
    """(peak, total) activation *elements* of MobileNet v1 at ``resolution``, batch 1 (nncost.profile)."""
    from nncost.profiler import profile
    from nncost.zoo import mobilenet_v1

    report = profile(_meta(lambda: mobilenet_v1(resolution=resolution)), (1, 3, resolution, resolution))
    element = 4  # nncost.profile runs in float32: 4 bytes per element
    return report.peak_activation_bytes // element, report.total_activation_bytes // element


def check_microcontroller(resolution: Any = ..., peak_bytes: Any = ..., total_bytes: Any = ...) -> Verdict:
    """4.9: the largest of MCU_RESOLUTIONS whose int8 peak activation memory (nncost.profile of
    mobilenet_v1) fits in MCU_SRAM_BYTES; its peak and total activation bytes in int8."""
    def derive() -> dict[str, tuple[Any, float]]:
        fits = [r for r in MCU_RESOLUTIONS if _mobilenet_activations(r)[0] * INT8_BYTES <= MCU_SRAM_BYTES]
        best = max(fits)
        peak, total = _mobilenet_activations(best)
        return {"resolution": (best, 0.0), "peak_bytes": (peak * INT8_BYTES, 0.0),
                "total_bytes": (total * INT8_BYTES, 0.0)}

    return _check("4.9", {"resolution": resolution, "peak_bytes": peak_bytes, "total_bytes": total_bytes}, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.10  Two measurements, one line, a batch for 90 % of the limit (chapter 21)
# --------------------------------------------------------------------------------------------------------------

#: Median latencies measured at two batch sizes: {batch: milliseconds}.
SWEEP_POINTS_MS: dict[int, float] = {2: 11.0, 16: 39.0}
SWEEP_FRACTION = 0.9


def check_batch_model(t0_ms: Any = ..., t1_ms: Any = ..., limit: Any = ..., batch: Any = ...,
                      latency_ms: Any = ...) -> Verdict:
    """4.10: t(b) = t0 + b·t1 through SWEEP_POINTS_MS; 1 / t1; the smallest batch whose throughput
    (nncost.Timing's items_per_second for a call of t(b)) reaches 90 % of it, and its latency (within 1 %)."""
    def derive() -> dict[str, tuple[Any, float]]:
        from nncost.timing import Timing

        (b_a, ms_a), (b_b, ms_b) = sorted(SWEEP_POINTS_MS.items())
        t1 = (ms_b - ms_a) / (b_b - b_a) / 1e3
        t0 = ms_a / 1e3 - b_a * t1

        def throughput(b: int) -> float:
            return float(Timing((t0 + b * t1,), warmup=0, threads=1, batch_size=b).items_per_second)

        best = next(b for b in range(1, 100_000) if throughput(b) >= SWEEP_FRACTION / t1)
        return {"t0_ms": (t0 * 1e3, TOLERANCE), "t1_ms": (t1 * 1e3, TOLERANCE), "limit": (1 / t1, TOLERANCE),
                "batch": (best, 0.0), "latency_ms": ((t0 + best * t1) * 1e3, TOLERANCE)}

    got = {"t0_ms": t0_ms, "t1_ms": t1_ms, "limit": limit, "batch": batch, "latency_ms": latency_ms}
    return _check("4.10", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.11  A roofline predictor for convolutions (chapter 22)
# --------------------------------------------------------------------------------------------------------------

#: (in_shape, c_out, k, stride, groups, peak FLOP/s, bandwidth B/s, bytes per element): standard, depthwise,
#: pointwise, grouped, strided (one where the stride does not divide), fp16, batches > 1, weight-heavy.
ROOFLINE_CASES: tuple[tuple[tuple[int, int, int, int], int, int, int, int, float, float, int], ...] = (
    ((1, 64, 56, 56), 64, 3, 1, 1, 10e12, 100e9, 4),
    ((1, 512, 14, 14), 512, 3, 1, 512, 10e12, 100e9, 4),
    ((1, 256, 14, 14), 512, 1, 1, 1, 10e12, 100e9, 4),
    ((8, 32, 112, 112), 64, 3, 2, 1, 1e12, 200e9, 4),
    ((1, 3, 224, 224), 32, 3, 2, 1, 1e12, 200e9, 4),
    ((1, 64, 28, 28), 128, 5, 1, 4, 10e12, 100e9, 2),
    ((1, 1024, 7, 7), 1024, 1, 1, 1, 10e12, 100e9, 4),
    ((2, 16, 15, 15), 16, 3, 2, 1, 1e12, 10e9, 4),
    ((32, 128, 28, 28), 128, 3, 1, 1, 1e12, 200e9, 2),
)
ROOFLINE_TOLERANCE = 1e-9


def check_conv_roofline(function: Callable[..., float] | Any) -> Verdict:
    """4.11: conv_roofline_seconds(...) against Roofline(peak, bandwidth).predict_seconds(layer.flops,
    layer_bytes(layer, bytes_per_element)) for nncost.conv2d(in_shape, c_out, k, stride, padding=k // 2,
    groups, bias=False), to a relative 1e-9."""
    from nncost.layers import conv2d
    from nncost.roofline import layer_bytes

    cases: list[Case] = []
    for in_shape, c_out, k, stride, groups, peak, bandwidth, bpe in ROOFLINE_CASES:
        layer = conv2d(in_shape, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False)
        seconds = _roofline(peak, bandwidth).predict_seconds(layer.flops, layer_bytes(layer, bpe))
        kwargs = {"stride": stride, "groups": groups, "peak_flops": peak, "bandwidth": bandwidth,
                  "bytes_per_element": bpe}
        cases.append(((in_shape, c_out, k), kwargs, seconds))
    return check_function("4.11", function, cases, hint=hint("4.11"), rel_tol=ROOFLINE_TOLERANCE)


# --------------------------------------------------------------------------------------------------------------
# 4.12  Why MobileNet does fewer MACs per second (chapter 22)
# --------------------------------------------------------------------------------------------------------------

NETS_INPUT = (1, 3, 224, 224)


@cache
def _predicted(model: str) -> tuple[float, int, int, int]:
    """(predicted seconds, MACs, memory-bound layers, layers) of the Conv2d and Linear rows of
    nncost.profile(zoo model, NETS_INPUT) on the chip, each row at max(F / P, B / β)."""
    from nncost.profiler import profile
    from nncost.roofline import layer_bytes
    from nncost.zoo import mobilenet_v1, resnet18

    build = {"mobilenet_v1": mobilenet_v1, "resnet18": resnet18}[model]
    chip = _roofline(CHIP_FLOPS, CHIP_BANDWIDTH)
    rows = [r for r in profile(_meta(build), NETS_INPUT).rows if r.type in ("Conv2d", "Linear")]
    seconds = sum(chip.predict_seconds(r.flops, layer_bytes(r)) for r in rows)
    memory = sum(chip.bound(r.flops, layer_bytes(r)) == "memory" for r in rows)
    return seconds, sum(r.macs for r in rows), memory, len(rows)


def check_macs_per_second(mobilenet_us: Any = ..., resnet_us: Any = ..., speedup: Any = ...,
                          gmacs_ratio: Any = ..., mobilenet_memory_bound: Any = ...) -> Verdict:
    """4.12: the roofline's predicted time of MobileNet v1 and ResNet-18 (sum over their Conv2d and Linear
    rows), ResNet's time over MobileNet's, ResNet's MACs/s over MobileNet's (within 1 %), and the number of
    MobileNet's layers that are memory-bound."""
    def derive() -> dict[str, tuple[Any, float]]:
        mb_s, mb_macs, mb_memory, _ = _predicted("mobilenet_v1")
        r_s, r_macs, _, _ = _predicted("resnet18")
        return {
            "mobilenet_us": (mb_s * 1e6, TOLERANCE),
            "resnet_us": (r_s * 1e6, TOLERANCE),
            "speedup": (r_s / mb_s, TOLERANCE),
            "gmacs_ratio": ((r_macs / r_s) / (mb_macs / mb_s), TOLERANCE),
            "mobilenet_memory_bound": (mb_memory, 0.0),
        }

    got = {"mobilenet_us": mobilenet_us, "resnet_us": resnet_us, "speedup": speedup, "gmacs_ratio": gmacs_ratio,
           "mobilenet_memory_bound": mobilenet_memory_bound}
    return _check("4.12", got, derive)


# --------------------------------------------------------------------------------------------------------------
# 4.13  When does arithmetic outweigh DRAM? A fully connected layer's energy (chapter 22)
# --------------------------------------------------------------------------------------------------------------

#: nn.Linear(4096, 4096) (with bias), float32, every element moved once to or from DRAM (the traffic model).
FC_IN, FC_OUT = 4096, 4096


def _fc_energy(batch: int) -> Any:
    from nncost.energy import estimate_energy
    from nncost.layers import linear
    from nncost.roofline import layer_bytes

    layer = linear((batch, FC_IN), FC_OUT)
    return estimate_energy(layer.macs, layer_bytes(layer), dtype="fp32", dram="low")


def check_fc_energy(batch1_uj: Any = ..., dram_share: Any = ..., crossover: Any = ...,
                    per_image_ratio: Any = ...) -> Verdict:
    """4.13: nncost.estimate_energy(macs, layer_bytes) of the FC layer at batch 1 (µJ, DRAM share), the
    smallest batch whose arithmetic energy reaches its DRAM energy, and energy per image at batch 1 over
    that at the crossover batch (within 1 %)."""
    def derive() -> dict[str, tuple[Any, float]]:
        one = _fc_energy(1)
        # per image, the arithmetic costs more than the activations' DRAM traffic, so the arithmetic term
        # catches up with the DRAM term (whose weights are paid once per batch) at some batch: scan for it
        batch = next(b for b in range(1, 1 << 20) if _fc_energy(b).arithmetic_pj >= _fc_energy(b).dram_pj)
        at = _fc_energy(batch)
        return {
            "batch1_uj": (one.total_pj / 1e6, TOLERANCE),
            "dram_share": (one.dram_pj / one.total_pj, TOLERANCE),
            "crossover": (batch, 0.0),
            "per_image_ratio": (one.total_pj / (at.total_pj / batch), TOLERANCE),
        }

    got = {"batch1_uj": batch1_uj, "dram_share": dram_share, "crossover": crossover,
           "per_image_ratio": per_image_ratio}
    return _check("4.13", got, derive)


__all__ = [
    "CHAPTERS",
    "SECTIONS",
    "check_activation_memory",
    "check_batch_model",
    "check_conv_roofline",
    "check_count_conventions",
    "check_energy_table",
    "check_fc_energy",
    "check_latency_throughput",
    "check_macs_per_second",
    "check_memory_bound",
    "check_microcontroller",
    "check_model_size",
    "check_ridge_point",
    "check_timing_summary",
    "hint",
    "residual_net",
]
