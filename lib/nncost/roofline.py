"""The roofline model (Williams, Waterman & Patterson, 2009), with the roofs measured on this machine.

A processor does at most ``peak_flops`` floating-point operations per second and moves at most
``bandwidth`` bytes per second to and from memory. A layer that does ``F`` FLOPs and moves ``B`` bytes
therefore takes at least

    T ≈ max(F / peak_flops, B / bandwidth)        (:meth:`Roofline.predict_seconds`)

and attains at most ``min(peak_flops, I · bandwidth)`` FLOP/s, where ``I = F / B`` is its *operational
intensity* in FLOPs per byte (:meth:`Roofline.attainable`). The two roofs meet at the *ridge point*
``peak_flops / bandwidth``: a layer left of it is memory-bound, right of it compute-bound.

The roofs are measured, not looked up: :func:`peak_flops` times a large float32 matrix product and
:func:`peak_bandwidth` a large copy, both with :func:`nncost.measure`. The FLOPs of the product come from
:func:`nncost.linear` (``2 n^3`` for ``n × n`` by ``n × n``), never typed in.

Memory traffic of a layer (:func:`layer_bytes`) is an idealisation: every element of its input, its weights
and its output is moved exactly once between memory and the processor,

    bytes ≈ (input elements + parameters + output elements) × bytes per element.

Real traffic differs both ways: caches can hold a small layer's data (no memory traffic at all), while a
convolution may re-read its input or weights several times when they do not fit in cache, and a copy may
read its destination before writing it ("write-allocate"). The model is a lower bound on the time of a
layer, and the book measures how far real layers are from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nncost.report import human
from nncost.timing import Timing, format_seconds, measure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "Roofline",
    "RooflinePoint",
    "layer_bytes",
    "operational_intensity",
    "peak_bandwidth",
    "peak_flops",
    "plot_roofline",
]


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: must be a positive number, got {type(value).__name__} {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name}: must be a finite number > 0, got {value!r}")
    return float(value)


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: must be a number >= 0, got {type(value).__name__} {value!r}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name}: must be a finite number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Roofline:
    """A machine's two roofs: ``peak_flops`` (FLOP/s) and memory ``bandwidth`` (bytes/s)."""

    peak_flops: float
    bandwidth: float
    label: str = "this machine"

    def __post_init__(self) -> None:
        _positive("peak_flops", self.peak_flops)
        _positive("bandwidth", self.bandwidth)

    @property
    def ridge_point(self) -> float:
        """``peak_flops / bandwidth`` in FLOPs per byte: the intensity where the two roofs meet."""
        return self.peak_flops / self.bandwidth

    def attainable(self, intensity: Any) -> Any:
        """The most FLOP/s a kernel of operational ``intensity`` (FLOPs per byte) can attain:
        ``min(peak_flops, intensity × bandwidth)``. Works on a number or a NumPy array."""
        values = np.asarray(intensity, dtype=float)
        if np.any(values < 0):
            raise ValueError(f"intensity: must be >= 0 FLOPs per byte, got {intensity!r}")
        out = np.minimum(self.peak_flops, values * self.bandwidth)
        return float(out) if out.ndim == 0 else out

    def compute_seconds(self, flops: float) -> float:
        """``flops / peak_flops``: the time the arithmetic alone needs."""
        return _non_negative("flops", flops) / self.peak_flops

    def memory_seconds(self, nbytes: float) -> float:
        """``nbytes / bandwidth``: the time the memory traffic alone needs."""
        return _non_negative("nbytes", nbytes) / self.bandwidth

    def predict_seconds(self, flops: float, nbytes: float) -> float:
        """``max(flops / peak_flops, nbytes / bandwidth)``: the roofline's latency, assuming arithmetic and
        memory traffic overlap perfectly (a lower bound on the real time, under the traffic model)."""
        return max(self.compute_seconds(flops), self.memory_seconds(nbytes))

    def bound(self, flops: float, nbytes: float) -> str:
        """``"compute"`` if the arithmetic takes longer than the traffic, else ``"memory"``."""
        return "compute" if self.compute_seconds(flops) >= self.memory_seconds(nbytes) else "memory"

    def __str__(self) -> str:
        return (
            f"Roofline ({self.label}): peak {human(self.peak_flops, 'FLOP/s')}, "
            f"bandwidth {human(self.bandwidth, 'B/s')}, "
            f"ridge point {self.ridge_point:.3g} FLOPs/byte"
        )

    def __repr__(self) -> str:
        return str(self)


def operational_intensity(flops: float, nbytes: float) -> float:
    """FLOPs per byte moved: ``flops / nbytes`` (``nbytes`` must be > 0)."""
    return _non_negative("flops", flops) / _positive("nbytes", nbytes)


def layer_bytes(layer: Any, bytes_per_element: int = 4) -> int:
    """Bytes a layer moves under the idealised traffic model (see the module docstring):
    ``(input elements + parameters + output elements) × bytes_per_element``.

    ``layer`` is a :class:`nncost.LayerCost` (``in_shape``, ``out_shape``, ``params``) or a row of
    :func:`nncost.profile` (:class:`nncost.LayerRow`: ``in_shapes``, ``out_shape``, ``params``). Each element
    is read or written once; caches and re-reads are ignored (an idealisation). Float32: 4 bytes.
    """
    from nncost._checks import as_int

    bpe = as_int("bytes_per_element", bytes_per_element)
    if hasattr(layer, "in_shapes"):
        in_shapes = layer.in_shapes
        if in_shapes is None or layer.out_shape is None:
            raise ValueError(f"layer: {getattr(layer, 'label', layer)!r} never ran, so it has no shapes")
    elif hasattr(layer, "in_shape"):
        in_shapes = (layer.in_shape,)
    else:
        raise TypeError(f"layer: must be a nncost.LayerCost or a profile row, got {type(layer).__name__}")
    elements = sum(math.prod(s) for s in in_shapes) + layer.params + math.prod(layer.out_shape)
    return elements * bpe


@dataclass(frozen=True)
class RooflinePoint:
    """One measured kernel on the roofline: its ``flops``, its bytes moved (``nbytes``), its measured
    ``seconds`` (a median), a ``label``, and optionally a ``kind`` (e.g. "depthwise"), which
    :func:`plot_roofline` colours and lists in its legend."""

    label: str
    flops: float
    nbytes: float
    seconds: float
    kind: str = ""

    def __post_init__(self) -> None:
        _non_negative("flops", self.flops)
        _positive("nbytes", self.nbytes)
        _positive("seconds", self.seconds)

    @property
    def intensity(self) -> float:
        """Operational intensity, FLOPs per byte."""
        return self.flops / self.nbytes

    @property
    def achieved(self) -> float:
        """FLOPs per second actually achieved: ``flops / seconds``."""
        return self.flops / self.seconds

    def predicted(self, roofline: Roofline) -> float:
        """The roofline's prediction of this kernel's seconds."""
        return roofline.predict_seconds(self.flops, self.nbytes)

    def ratio(self, roofline: Roofline) -> float:
        """Measured / predicted seconds (≥ 1 when the roofline's lower bound holds)."""
        return self.seconds / self.predicted(roofline)

    def __str__(self) -> str:
        return (
            f"{self.label}: {human(self.flops, 'FLOPs')}, {human(self.nbytes, 'B')}, intensity {self.intensity:.3g} "
            f"FLOPs/B, measured {format_seconds(self.seconds)} = {human(self.achieved, 'FLOP/s')}"
        )


# --------------------------------------------------------------------------- measured roofs


def peak_flops(
    n: int = 1024,
    *,
    warmup: int = 2,
    repeats: int = 10,
    threads: int | None = None,
    clock: Any = None,
) -> tuple[float, Timing]:
    """Measured float32 arithmetic throughput: an ``n × n`` by ``n × n`` matrix product, timed with
    :func:`nncost.measure`. Returns ``(FLOP/s, Timing)``; FLOP/s = FLOPs / median seconds.

    The FLOPs come from :func:`nncost.linear`: ``n^3`` MACs, ``2 n^3`` FLOPs. A tuned matrix product
    (BLAS) is the fastest thing a CPU does, so this is the practical compute roof; the theoretical peak
    (cores × SIMD width × FMA units × 2 × clock) is higher.
    """
    import torch

    from nncost._checks import as_int
    from nncost.layers import linear

    n = as_int("n", n)
    flops = linear((n, n), n, bias=False).flops
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator)
    b = torch.randn(n, n, generator=generator)
    out = torch.empty(n, n)
    kwargs = {"clock": clock} if clock is not None else {}
    timing = measure(lambda: torch.matmul(a, b, out=out), warmup=warmup, repeats=repeats, threads=threads,
                     label=f"matmul {n}×{n} @ {n}×{n} (float32)", **kwargs)
    return flops / timing.median, timing


def peak_bandwidth(
    megabytes: float = 256,
    *,
    warmup: int = 2,
    repeats: int = 10,
    threads: int | None = None,
    clock: Any = None,
) -> tuple[float, Timing]:
    """Measured memory bandwidth: copying a float32 buffer of ``megabytes`` MB (10^6 bytes) into another,
    timed with :func:`nncost.measure`. Returns ``(bytes/s, Timing)``.

    Bytes moved per copy = 2 × the buffer (each byte read once and written once; a write-allocate read of
    the destination is not counted, so this is conservative). Make the buffer larger than the last-level
    cache, or the copy measures the cache rather than the memory.
    """
    import torch

    mb = _positive("megabytes", megabytes)
    elements = max(1, int(mb * 1e6) // 4)
    src = torch.ones(elements)
    dst = torch.zeros(elements)
    nbytes = 2 * elements * 4
    kwargs = {"clock": clock} if clock is not None else {}
    timing = measure(lambda: dst.copy_(src), warmup=warmup, repeats=repeats, threads=threads,
                     label=f"copy of {human(elements * 4, 'B')} (float32)", **kwargs)
    return nbytes / timing.median, timing


# --------------------------------------------------------------------------- the figure


def plot_roofline(
    roofline: Roofline,
    points: Iterable[RooflinePoint] = (),
    *,
    ax: Any = None,
    title: str | None = None,
    intensity_range: Sequence[float] | None = None,
    label_offsets: dict[str, tuple[float, float]] | None = None,
    points_label: str = "measured",
) -> Figure:
    """The roofline on log-log axes: the memory roof (slope = bandwidth) up to the ridge point, the compute
    roof after it (each continued faintly), the ridge point, and each point (operational intensity, achieved
    FLOP/s), labelled. Points are coloured by their ``kind``, listed in the legend (``points_label`` names
    points without a kind).

    ``label_offsets`` moves a point's label by ``(dx, dy)`` points, by label, where labels would collide.
    """
    from nncost.figures import PALETTE as FIGURE_PALETTE
    from nncost.figures import subplots
    from nncost.style import PALETTE

    points = list(points)
    if ax is None:
        fig, ax = subplots(figsize=(9, 5))
    else:
        fig = ax.figure
    ridge = roofline.ridge_point
    xs = [p.intensity for p in points] + [ridge]
    lo, hi = intensity_range or (min(xs) / 4, max(xs) * 4)
    g = 1e9
    left = np.geomspace(lo, ridge, 64)
    right = np.geomspace(ridge, hi, 64)
    ax.plot(left, left * roofline.bandwidth / g, color=PALETTE["input"], lw=2.4,
            label=f"memory roof: {human(roofline.bandwidth, 'B/s')} × intensity")
    ax.plot(right, np.full_like(right, roofline.peak_flops / g), color=PALETTE["weight"], lw=2.4,
            label=f"compute roof: {human(roofline.peak_flops, 'FLOP/s')}")
    ax.plot(left, np.full_like(left, roofline.peak_flops / g), color=PALETTE["weight"], lw=1, ls=":", alpha=0.7)
    ax.axvline(ridge, color=PALETTE["highlight"], lw=1, ls="--")
    ax.annotate(f"ridge point {ridge:.3g} FLOPs/B", (ridge, 0.97), xycoords=("data", "axes fraction"),
                xytext=(5, 0), textcoords="offset points", color=PALETTE["highlight"], fontsize=9, va="top")
    kinds = list(dict.fromkeys(p.kind for p in points))
    colours = dict(zip(kinds, (PALETTE["output"], PALETTE["bias"], PALETTE["highlight"], FIGURE_PALETTE.hidden,
                               PALETTE["neutral"], PALETTE["weight"])))
    offsets = label_offsets or {}
    for p in points:
        ax.plot(p.intensity, p.achieved / g, "o", ms=7, color=colours[p.kind], mec="black", mew=0.6)
        dx, dy = offsets.get(p.label, (6, 4))
        ax.annotate(p.label, (p.intensity, p.achieved / g), xytext=(dx, dy), textcoords="offset points",
                    fontsize=8.5, ha="right" if dx < 0 else "left", va="top" if dy < 0 else "bottom")
    for kind in kinds:
        ax.plot([], [], "o", color=colours[kind], mec="black", mew=0.6, label=kind or points_label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ys = [p.achieved / g for p in points] + [lo * roofline.bandwidth / g]
    ax.set_ylim(min(ys) / 2, roofline.peak_flops / g * 4)
    ax.set_xlabel("operational intensity (FLOPs per byte moved)")
    ax.set_ylabel("performance (GFLOP/s)")
    ax.set_title(title or f"Roofline of {roofline.label}")
    ax.legend(loc="lower right", fontsize=9)
    return fig
