"""Model size and byte units, spelled out.

Model size = parameters × bits per parameter / 8 bytes. Units follow the book's conventions:
``kB``, ``MB``, ``GB`` are powers of 1000 (1 MB = 10^6 B); ``KiB``, ``MiB``, ``GiB`` powers of 1024
(1 MiB = 2^20 B = 1,048,576 B). The two differ by 4.9% at MB and 7.4% at GB, which is why a "100 MB"
model can show as 95.4 MiB.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["BITS", "UNITS", "format_bytes", "layer_activations", "model_size_bytes", "plot_activation_memory"]

#: Bits per value of the number formats the book compares.
BITS: dict[str, int] = {"fp32": 32, "fp16": 16, "bf16": 16, "int8": 8, "int4": 4}

#: Bytes per unit: decimal (kB, MB, GB) and binary (KiB, MiB, GiB).
UNITS: dict[str, int] = {
    "B": 1,
    "kB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
}


def model_size_bytes(params: int, bits: int | str = 32) -> float:
    """Bytes to store ``params`` parameters at ``bits`` each: ``params × bits / 8``.

    ``bits`` is a number of bits (32, 16, 8, 4, ...) or a format name from :data:`BITS` ("fp32", "fp16",
    "bf16", "int8", "int4"). Weights only: no optimizer state, no quantization scales, no file header.
    """
    if isinstance(params, bool) or not isinstance(params, int):
        raise TypeError(f"params: must be an int >= 0, got {type(params).__name__} {params!r}")
    if params < 0:
        raise ValueError(f"params: must be >= 0, got {params}")
    if isinstance(bits, str):
        if bits not in BITS:
            raise ValueError(f"bits: unknown format {bits!r}; use a number of bits or one of {', '.join(BITS)}")
        bits = BITS[bits]
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise TypeError(f"bits: must be an int >= 1 or a format name, got {type(bits).__name__} {bits!r}")
    if bits < 1:
        raise ValueError(f"bits: must be >= 1, got {bits}")
    size = params * bits / 8
    return int(size) if size == int(size) else size


def format_bytes(nbytes: float, unit: str = "MB", digits: int = 2) -> str:
    """``nbytes`` in ``unit`` (one of :data:`UNITS`), with ``digits`` decimals and thousands separators:
    ``format_bytes(46_758_048, "MiB")`` → ``"44.59 MiB"``."""
    if unit not in UNITS:
        raise ValueError(f"unit: must be one of {', '.join(UNITS)}, got {unit!r}")
    if isinstance(nbytes, bool) or not isinstance(nbytes, (int, float)) or not math.isfinite(nbytes):
        raise TypeError(f"nbytes: must be a finite number, got {type(nbytes).__name__} {nbytes!r}")
    value: Any = nbytes / UNITS[unit]
    return f"{value:,.{digits}f} {unit}" if unit != "B" else f"{nbytes:,.0f} B"


def layer_activations(report: Any) -> list[tuple[str, int]]:
    """``(module label, bytes it outputs)`` for every module of a :func:`nncost.profile` report that outputs
    activations (its *self* ``activation_bytes``: a layer's output, or a residual add in a block's own
    code), in the order the pass ran them. Their sum is ``report.total_activation_bytes``."""
    first: dict[str, int] = {}
    for step, _op, module, _alive in report.timeline:
        first.setdefault(module, step)
    rows = [r for r in report.rows if r.activation_bytes > 0]
    rows.sort(key=lambda r: first.get(r.label, len(report.timeline)))
    return [(r.label, r.activation_bytes) for r in rows]


def plot_activation_memory(reports: dict[str, Any], *, unit: str = "MB", axes: Any = None) -> Any:
    """Activation memory of one or more models, from their :func:`nncost.profile` reports, in two panels.

    Left: the bytes each layer outputs, layer by layer (:func:`layer_activations`); their sum is the
    total activation memory (what training keeps). Right: the bytes alive at each step of an inference pass
    (``report.memory_timeline()``), whose maximum, marked, is the peak activation memory. ``unit`` is one of
    :data:`UNITS`. Returns the figure.
    """
    from nncost.figures import PALETTE, subplots

    if unit not in UNITS:
        raise ValueError(f"unit: must be one of {', '.join(UNITS)}, got {unit!r}")
    if not reports:
        raise ValueError("reports: need at least one {name: nncost.profile(...)} entry")
    scale = UNITS[unit]
    if axes is None:
        fig, axes = subplots(1, 2, figsize=(10, 4))
    else:
        fig = axes[0].figure
    left, right = axes
    for (name, report), color in zip(reports.items(), PALETTE.series):
        per_layer = [b / scale for _, b in layer_activations(report)]
        total = report.total_activation_bytes / scale
        left.step(range(1, len(per_layer) + 1), per_layer, where="mid", color=color, lw=1.6,
                  label=f"{name}: Σ = {total:,.1f} {unit}")
        alive = [row["alive_bytes"] / scale for row in report.memory_timeline()]
        peak = report.peak_activation_bytes / scale
        right.plot(range(len(alive)), alive, color=color, lw=1.6, label=f"{name}: peak {peak:,.1f} {unit}")
        at = max(range(len(alive)), key=alive.__getitem__)
        right.plot([at], [alive[at]], "o", color=color, mec="black", mew=0.6)
    left.set_xlabel("layer (in the order it runs)")
    left.set_ylabel(f"output of the layer ({unit})")
    left.set_title("Each layer's output (training keeps all)")
    right.set_xlabel("step of the inference pass (operation)")
    right.set_ylabel(f"activations alive ({unit})")
    right.set_title("Alive at once (inference needs the peak)")
    for ax in axes:
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=9)
    return fig
