"""Figures of sliding-window layers: convolution, padding, stride, pooling and the receptive field.

Every value a figure writes (an output of a convolution, the maximum a pooling window picks, an output
size, a receptive field) is computed when the figure is drawn, with :mod:`nncost.reference` (the loop
implementations that equal torch) and :mod:`nncost.shapes`; nothing is typed in by hand.

Colours keep one meaning in every figure (:data:`nncost.style.PALETTE`):

- ``input``: cells of the input ``x``;
- ``padding``: the zeros added around the input;
- ``weight``: the kernel, and the input cells it is laid on;
- ``output``: cells of the output ``y``;
- ``highlight``: the window and the output element the panel is about;
- ``neutral``: text, outlines; ``faint``: cells that take no part in what is shown.

Each cell and each number a helper draws carries a ``gid`` (``"cell-input"``, ``"cell-padding"``,
``"value-output"``, ...), so tests and readers can count and read what a figure shows. Numbers are written
at 9 pt or more. matplotlib is imported when a helper is first called.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nncost import reference
from nncost.shapes import output_size, receptive_field
from nncost.style import PALETTE, book_style

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "draw_padding",
    "draw_pooling",
    "draw_receptive_field",
    "draw_sliding_1d",
    "draw_sliding_2d",
    "draw_stride",
]

MAX_1D = 32  # longest padded 1-D input drawn with its numbers
MAX_2D = 12  # largest side of a padded 2-D grid drawn with its numbers
MAX_GRID = 40  # largest side of a grid drawn without numbers (padding, stride, receptive field)
MAX_PANELS = 8
VALUE_PT = 10  # numbers in cells
SMALL_PT = 9  # weights written under an input value, labels
TEXT = "#262626"  # numbers and labels: dark, for contrast on the light cell fills


# --------------------------------------------------------------------------------------------------
# Argument checks (ValueError naming the argument, for every kind of bad value)
# --------------------------------------------------------------------------------------------------


def _int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}: must be an int, got the bool {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: must be an int, got {type(value).__name__} {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name}: must be <= {maximum} to be drawn readably, got {number}")
    return number


def _pair(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> tuple[int, int]:
    """An int, or a pair of ints (height, width), as a pair."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name}: must be an int or a pair of ints, got the string {value!r}")
    if isinstance(value, (Sequence, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name}: must be an int or a pair of ints (height, width), got {tuple(value)!r}")
        return (_int(f"{name}[0]", value[0], minimum, maximum), _int(f"{name}[1]", value[1], minimum, maximum))
    number = _int(name, value, minimum, maximum)
    return number, number


def _array(name: str, value: Any, ndim: int) -> np.ndarray:
    """``value`` as a float array of ``ndim`` dimensions, non-empty and finite."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name}: must be a {ndim}-D array of numbers, got the string {value!r}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a {ndim}-D array of numbers, got {type(value).__name__}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name}: must be a {ndim}-D array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name}: must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: every value must be finite (no nan or inf)")
    return array


def _size(name: str, size: int, kernel: int, stride: int, padding: int, dilation: int, kernel_name: str) -> int:
    """Output length of one dimension; a kernel that does not fit is a ValueError naming ``kernel_name``."""
    try:
        return output_size(size, kernel, stride, padding, dilation)
    except ValueError as error:
        detail = str(error).split(": ", 1)[-1]
        raise ValueError(f"{kernel_name}: does not fit the {name} (padded); {detail}") from None


def _fmt(value: float) -> str:
    """A number as the figures write it: at most 2 decimals, no trailing zeros, a true minus sign."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace("-", "−")


def _factor(value: float) -> str:
    """A number as a factor in a product: negative numbers in parentheses."""
    text = _fmt(value)
    return f"({text})" if text.startswith("−") else text


# --------------------------------------------------------------------------------------------------
# Drawing primitives
# --------------------------------------------------------------------------------------------------


def _tint(color: str, amount: float = 0.75) -> tuple[float, float, float]:
    """``color`` mixed with white: a light fill under dark text."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _shade(color: str, amount: float = 0.45) -> tuple[float, float, float]:
    """``color`` mixed with black: dark text in the colour's hue (a weight written inside an input cell)."""
    from matplotlib.colors import to_rgb

    return tuple(c * (1 - amount) for c in to_rgb(color))  # type: ignore[return-value]


def _cell(ax: Axes, x: float, y: float, face: Any, edge: Any, gid: str, *, width: float = 1.0,
          height: float = 1.0, linewidth: float = 1.0, zorder: float = 2) -> Any:
    """One cell with its lower-left corner at (x, y)."""
    from matplotlib.patches import Rectangle

    patch = Rectangle((x, y), width, height, facecolor=face, edgecolor=edge, linewidth=linewidth, zorder=zorder)
    patch.set_gid(gid)
    ax.add_patch(patch)
    return patch


def _outline(ax: Axes, x: float, y: float, width: float, height: float, color: str, gid: str, *,
             linewidth: float = 2.6, linestyle: str = "-", zorder: float = 5) -> Any:
    """An unfilled rectangle (a window, a field), solid or dashed (``linestyle='--'``)."""
    from matplotlib.patches import Rectangle

    dashes = "-" if linestyle == "-" else (0, (3, 2))
    patch = Rectangle((x, y), width, height, facecolor="none", edgecolor=color, linewidth=linewidth,
                      linestyle=dashes, zorder=zorder)
    patch.set_gid(gid)
    ax.add_patch(patch)
    return patch


def _text(ax: Axes, x: float, y: float, text: str, *, gid: str | None = None, size: float = VALUE_PT,
          color: str = TEXT, ha: str = "center", va: str = "center", weight: str = "normal",
          zorder: float = 6) -> Any:
    artist = ax.text(x, y, text, ha=ha, va=va, fontsize=size, color=color, fontweight=weight, zorder=zorder)
    if gid:
        artist.set_gid(gid)
    return artist


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str, gid: str) -> Any:
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, color=color, linewidth=1.4,
                            shrinkA=1, shrinkB=1, zorder=7, connectionstyle="arc3,rad=0.0")
    arrow.set_gid(gid)
    ax.add_patch(arrow)
    return arrow


def _output_cell(ax: Axes, x: float, y: float, value: float, when: int) -> None:
    """One output cell: ``when`` −1 computed earlier (its value), 0 the one being computed (highlighted),
    +1 not computed yet (faint, empty)."""
    if when > 0:
        _cell(ax, x, y, PALETTE["faint"], _tint(PALETTE["output"], 0.4), "cell-output")
        return
    current = when == 0
    face = _tint(PALETTE["highlight"], 0.6) if current else _tint(PALETTE["output"])
    edge = PALETTE["highlight"] if current else PALETTE["output"]
    _cell(ax, x, y, face, edge, "cell-output-current" if current else "cell-output",
          linewidth=2.2 if current else 1.0, zorder=3 if current else 2)
    _text(ax, x + 0.5, y + 0.5, _fmt(value), gid="value-output", weight="bold" if current else "normal")


def _blank(ax: Axes) -> None:
    ax.set_axis_off()
    ax.set_aspect("equal")


def _panels(count: int, panel_in: tuple[float, float], max_width: float = 10.5) -> tuple[Figure, list[Axes]]:
    """A figure holding ``count`` panels of ``panel_in`` inches each, as many per row as fit ``max_width``."""
    import matplotlib.pyplot as plt

    width, height = panel_in
    most = max(1, min(count, int(max_width // width)))  # panels that fit in one row
    nrows = math.ceil(count / most)
    ncols = math.ceil(count / nrows)  # balanced rows: 4 panels as 2 + 2, not 3 + 1
    fig = plt.figure(figsize=(max(width * ncols, 5.0), height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[count:]:
        ax.remove()
    return fig, axes[:count]


def _figure_or(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, new_ax


def _spread(count: int, most: int = 6) -> list[int]:
    """Up to ``most`` indices spread evenly over ``range(count)``, first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


# --------------------------------------------------------------------------------------------------
# Sliding a 1-D kernel
# --------------------------------------------------------------------------------------------------


def draw_sliding_1d(
    x: Any,
    kernel: Any,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    positions: Sequence[int] | None = None,
) -> Figure:
    """A 1-D convolution (torch's ``conv1d``, one channel) step by step: one panel per output position.

    Each panel shows the input ``x`` (zero padding in grey at both ends), the kernel's weights under the
    input cells they multiply (the window, outlined; dilation leaves gaps), and the output row with the
    element this window produces highlighted. The panel's title writes out the sum of products when the
    kernel has at most 5 weights. ``positions`` are output indices (default: all, at most 6, spread over
    the range). Output values come from :func:`nncost.reference.conv1d`.
    """
    x = _array("x", x, 1)
    kernel = _array("kernel", kernel, 1)
    stride = _int("stride", stride)
    padding = _int("padding", padding, minimum=0)
    dilation = _int("dilation", dilation)
    padded = x.size + 2 * padding
    if padded > MAX_1D:
        raise ValueError(f"x: at most {MAX_1D} cells with padding can be drawn readably, got {x.size} + 2·{padding}")
    w_out = _size("input", x.size, kernel.size, stride, padding, dilation, "kernel")
    if positions is None:
        positions = _spread(w_out)
    else:
        positions = _positions_1d(positions, w_out)
    y = reference.conv1d(x[None, None, :], kernel[None, None, :], stride=stride, padding=padding,
                         dilation=dilation)[0, 0]
    x_pad = np.pad(x, padding)

    cell_in = 0.42
    label_room = 1.6  # cells of room for the row labels on the left
    panel = ((padded + label_room + 0.4) * cell_in, 4.3 * cell_in + 0.45)
    with book_style():
        fig, axes = _panels(len(positions), panel)
        out_left = (padded - w_out) / 2  # the output row, centred under the input
        for ax, j in zip(axes, positions):
            _blank(ax)
            start = j * stride
            taps = [start + u * dilation for u in range(kernel.size)]
            # input row, y in [0, 1]
            for c in range(padded):
                inside = padding <= c < padding + x.size
                under = c in taps
                if under and inside:
                    face, edge, gid = _tint(PALETTE["weight"], 0.55), PALETTE["weight"], "cell-window"
                elif inside:
                    face, edge, gid = _tint(PALETTE["input"]), PALETTE["input"], "cell-input"
                else:  # padding stays grey, also under the kernel
                    face, edge, gid = PALETTE["padding"], PALETTE["weight"] if under else PALETTE["neutral"], \
                        "cell-padding"
                _cell(ax, c, 0, face, edge, gid, linewidth=1.8 if under else 1.0)
                _text(ax, c + 0.5, 0.5, _fmt(x_pad[c]), gid="value-input" if inside else "value-padding")
            span = dilation * (kernel.size - 1) + 1
            _outline(ax, start, 0, span, 1, PALETTE["highlight"], "window")
            # kernel row, y in [-1.3, -0.3]
            for u, c in enumerate(taps):
                _cell(ax, c, -1.3, _tint(PALETTE["weight"]), PALETTE["weight"], "cell-kernel")
                _text(ax, c + 0.5, -0.8, _fmt(kernel[u]), gid="value-kernel")
            # output row, y in [-3.0, -2.0]
            for k in range(w_out):  # outputs computed so far, this one, and those still to come
                _output_cell(ax, out_left + k, -3.0, y[k], (k > j) - (k < j))
            _arrow(ax, (start + span / 2, -1.3), (out_left + j + 0.5, -2.0), PALETTE["highlight"], "arrow")
            for row_y, name, color in ((0.5, "x", PALETTE["input"]), (-0.8, "w", PALETTE["weight"]),
                                       (-2.5, "y", PALETTE["output"])):
                _text(ax, -0.35, row_y, name, ha="right", size=11, color=color, weight="bold")
            if kernel.size <= 5:
                products = " + ".join(f"{_factor(x_pad[c])}·{_factor(kernel[u])}" for u, c in enumerate(taps))
                title = f"y[{j}] = {products} = {_fmt(y[j])}"
            else:
                title = f"y[{j}] = sum of {kernel.size} products = {_fmt(y[j])}"
            ax.set_title(title, fontsize=10.5)
            ax.set_xlim(-label_room, padded + 0.4)
            ax.set_ylim(-3.15, 1.15)
        fig.suptitle(
            f"1-D convolution: input {x.size}, kernel {kernel.size}, stride {stride}, padding {padding}"
            + (f", dilation {dilation}" if dilation != 1 else "") + f" → output {w_out}",
            fontsize=12,
        )
    return fig


def _positions_1d(positions: Any, w_out: int) -> list[int]:
    if isinstance(positions, (str, bytes)) or not isinstance(positions, (Sequence, np.ndarray)):
        raise ValueError(f"positions: must be a sequence of output indices, got {positions!r}")
    if not 1 <= len(positions) <= MAX_PANELS:
        raise ValueError(f"positions: must hold 1 to {MAX_PANELS} output indices, got {len(positions)}")
    chosen = [_int(f"positions[{i}]", p, minimum=0) for i, p in enumerate(positions)]
    for i, p in enumerate(chosen):
        if p >= w_out:
            raise ValueError(f"positions[{i}]: the output has {w_out} positions (0 to {w_out - 1}), got {p}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"positions: each output index at most once, got {chosen}")
    return chosen


# --------------------------------------------------------------------------------------------------
# Sliding a 2-D kernel
# --------------------------------------------------------------------------------------------------


def draw_sliding_2d(
    x: Any,
    kernel: Any,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    positions: Sequence[tuple[int, int]] | None = None,
) -> Figure:
    """A 2-D convolution (torch's ``conv2d``, one channel) at a few window positions, one panel each.

    Each panel shows the padded input grid with its values (padding in grey), the window (outlined) with
    the kernel's weights written under the input values they multiply (``×w``, dilation respected), and
    the output grid with the element this window produces highlighted. ``positions`` are output indices
    ``(i, j)``; the default shows the first window, the next one along the row, the first of the next row
    and the last, which together show the stride in both directions. Output values come from
    :func:`nncost.reference.conv2d`.
    """
    x = _array("x", x, 2)
    kernel = _array("kernel", kernel, 2)
    s_h, s_w = _pair("stride", stride)
    p_h, p_w = _pair("padding", padding, minimum=0)
    d_h, d_w = _pair("dilation", dilation)
    h, w = x.shape
    ph, pw = h + 2 * p_h, w + 2 * p_w
    if max(ph, pw) > MAX_2D:
        raise ValueError(f"x: at most {MAX_2D}×{MAX_2D} cells with padding can be drawn readably, "
                         f"got {h}×{w} with padding ({p_h}, {p_w})")
    k_h, k_w = kernel.shape
    h_out = _size("input's height", h, k_h, s_h, p_h, d_h, "kernel")
    w_out = _size("input's width", w, k_w, s_w, p_w, d_w, "kernel")
    if positions is None:
        candidates = [(0, 0), (0, 1), (1, 0), (h_out - 1, w_out - 1)]
        positions = list(dict.fromkeys((i, j) for i, j in candidates if i < h_out and j < w_out))
    else:
        positions = _positions_2d(positions, h_out, w_out)
    y = reference.conv2d(x[None, None], kernel[None, None], stride=(s_h, s_w), padding=(p_h, p_w),
                         dilation=(d_h, d_w))[0, 0]
    x_pad = np.pad(x, ((p_h, p_h), (p_w, p_w)))

    cell_in = 0.36
    gap = 1.4  # cells between the input and the output grid
    rows = max(ph, h_out)
    panel = ((pw + gap + w_out + 0.3) * cell_in, (rows + 1.2) * cell_in + 0.45)
    with book_style():
        fig, axes = _panels(len(positions), panel)
        out_x = pw + gap
        out_top = -(ph - h_out) / 2  # output grid centred vertically on the input
        for ax, (i, j) in zip(axes, positions):
            _blank(ax)
            top, left = i * s_h, j * s_w
            taps = {(top + u * d_h, left + v * d_w): kernel[u, v] for u in range(k_h) for v in range(k_w)}
            for r in range(ph):
                for c in range(pw):
                    inside = p_h <= r < p_h + h and p_w <= c < p_w + w
                    value = _fmt(x_pad[r, c])
                    value_gid = "value-input" if inside else "value-padding"
                    if (r, c) in taps:  # an input (or padding) cell under a weight: both numbers
                        if inside:
                            _cell(ax, c, -r - 1, _tint(PALETTE["weight"], 0.55), PALETTE["weight"], "cell-window")
                        else:
                            _cell(ax, c, -r - 1, PALETTE["padding"], PALETTE["weight"], "cell-padding",
                                  linewidth=1.8)
                        _text(ax, c + 0.5, -r - 0.31, value, gid=value_gid)
                        _text(ax, c + 0.5, -r - 0.73, "×" + _fmt(taps[r, c]), gid="value-kernel",
                              size=SMALL_PT, color=_shade(PALETTE["weight"]))
                        continue
                    if inside:
                        _cell(ax, c, -r - 1, _tint(PALETTE["input"]), PALETTE["input"], "cell-input")
                    else:
                        _cell(ax, c, -r - 1, PALETTE["padding"], PALETTE["neutral"], "cell-padding")
                    _text(ax, c + 0.5, -r - 0.5, value, gid=value_gid)
            span_h, span_w = d_h * (k_h - 1) + 1, d_w * (k_w - 1) + 1
            _outline(ax, left, -top - span_h, span_w, span_h, PALETTE["highlight"], "window")
            for r in range(h_out):  # in reading order: computed so far, this one, still to come
                for c in range(w_out):
                    _output_cell(ax, out_x + c, out_top - r - 1, y[r, c], ((r, c) > (i, j)) - ((r, c) < (i, j)))
            x_label = f"x padded: {ph}×{pw}" if (p_h, p_w) != (0, 0) else f"x: {h}×{w}"
            _text(ax, pw / 2, -ph - 0.15, x_label, va="top", size=SMALL_PT, color=PALETTE["input"])
            _text(ax, out_x + w_out / 2, out_top - h_out - 0.15, f"y: {h_out}×{w_out}", va="top",
                  size=SMALL_PT, color=PALETTE["output"])
            ax.set_title(f"window ({i}, {j}): y[{i}, {j}] = {_fmt(y[i, j])}", fontsize=10.5)
            ax.set_xlim(-0.15, out_x + w_out + 0.15)
            ax.set_ylim(-rows - 1.0, 0.15)
        extras = ""
        if (s_h, s_w) != (1, 1):
            extras += f", stride {_pair_text(s_h, s_w)}"
        if (p_h, p_w) != (0, 0):
            extras += f", padding {_pair_text(p_h, p_w)}"
        if (d_h, d_w) != (1, 1):
            extras += f", dilation {_pair_text(d_h, d_w)}"
        fig.suptitle(f"2-D convolution: input {h}×{w}, kernel {k_h}×{k_w}{extras} → output {h_out}×{w_out}",
                     fontsize=12)
    return fig


def _pair_text(a: int, b: int) -> str:
    return str(a) if a == b else f"({a}, {b})"


def _positions_2d(positions: Any, h_out: int, w_out: int) -> list[tuple[int, int]]:
    if isinstance(positions, (str, bytes)) or not isinstance(positions, (Sequence, np.ndarray)):
        raise ValueError(f"positions: must be a sequence of output indices (i, j), got {positions!r}")
    if not 1 <= len(positions) <= MAX_PANELS:
        raise ValueError(f"positions: must hold 1 to {MAX_PANELS} output indices, got {len(positions)}")
    chosen = []
    for n, position in enumerate(positions):
        if isinstance(position, (str, bytes)) or not isinstance(position, (Sequence, np.ndarray)) \
                or len(position) != 2:
            raise ValueError(f"positions[{n}]: must be an output index (i, j), got {position!r}")
        i, j = _int(f"positions[{n}][0]", position[0], minimum=0), _int(f"positions[{n}][1]", position[1], minimum=0)
        if i >= h_out or j >= w_out:
            raise ValueError(f"positions[{n}]: the output is {h_out}×{w_out} (indices 0 to {h_out - 1}, "
                             f"0 to {w_out - 1}), got ({i}, {j})")
        chosen.append((i, j))
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"positions: each output index at most once, got {chosen}")
    return chosen


# --------------------------------------------------------------------------------------------------
# Padding and stride
# --------------------------------------------------------------------------------------------------


def draw_padding(h: int, w: int, padding: int | tuple[int, int], ax: Axes | None = None) -> Axes:
    """An ``h`` × ``w`` input as cells inside a grey border of zero padding (``padding`` int or (p_h, p_w)),
    with the sizes before and after padding written beside it."""
    h = _int("h", h, maximum=MAX_GRID)
    w = _int("w", w, maximum=MAX_GRID)
    p_h, p_w = _pair("padding", padding, minimum=0, maximum=MAX_GRID)
    ph, pw = h + 2 * p_h, w + 2 * p_w
    if max(ph, pw) > MAX_GRID:
        raise ValueError(f"padding: the padded grid {ph}×{pw} is larger than {MAX_GRID}×{MAX_GRID}")
    cell_in = min(0.4, 5.0 / max(ph, pw))
    write_zeros = cell_in >= 0.28
    with book_style():
        _, ax = _figure_or(ax, (max((pw + 5.5) * cell_in, 5.0), (ph + 3.0) * cell_in + 0.5))
        _blank(ax)
        for r in range(ph):
            for c in range(pw):
                inside = p_h <= r < p_h + h and p_w <= c < p_w + w
                if inside:
                    _cell(ax, c, -r - 1, _tint(PALETTE["input"]), PALETTE["input"], "cell-input")
                else:
                    _cell(ax, c, -r - 1, PALETTE["padding"], PALETTE["neutral"], "cell-padding", linewidth=0.8)
                    if write_zeros:
                        _text(ax, c + 0.5, -r - 0.5, "0", size=SMALL_PT, color=PALETTE["neutral"])
        _outline(ax, p_w, -p_h - h, w, h, PALETTE["input"], "input-outline", linewidth=2.2)
        # dimension lines: the input's size inside, the padded size outside
        _dimension(ax, (p_w, 0.55), (p_w + w, 0.55), f"w = {w}", PALETTE["input"], "above")
        _dimension(ax, (0, 1.45), (pw, 1.45), f"w + 2·{p_w} = {pw}", PALETTE["neutral"], "above")
        _dimension(ax, (pw + 0.55, -p_h), (pw + 0.55, -p_h - h), f"h = {h}", PALETTE["input"], "right")
        _dimension(ax, (pw + 2.6, 0), (pw + 2.6, -ph), f"h + 2·{p_h} = {ph}", PALETTE["neutral"], "right")
        ax.set_xlim(-0.3, pw + 5.3)
        ax.set_ylim(-ph - 0.3, 2.6)
        ax.set_title(f"Zero padding {_pair_text(p_h, p_w)}: a {h}×{w} input becomes {ph}×{pw}")
    return ax


def _dimension(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str, color: str,
               side: str) -> None:
    """A double-headed dimension line from ``start`` to ``end`` with ``label`` beside it."""
    from matplotlib.patches import FancyArrowPatch

    line = FancyArrowPatch(start, end, arrowstyle="<|-|>", mutation_scale=9, color=color, linewidth=1.1,
                           shrinkA=0, shrinkB=0)
    line.set_gid("dimension")
    ax.add_patch(line)
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    if side == "above":
        _text(ax, mx, my + 0.15, label, va="bottom", size=SMALL_PT + 1, color=color, gid="label-size")
    elif side == "below":
        _text(ax, mx, my - 0.15, label, va="top", size=SMALL_PT + 1, color=color, gid="label-size")
    else:
        _text(ax, mx + 0.2, my, label, ha="left", size=SMALL_PT + 1, color=color, gid="label-size")


def draw_stride(
    size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int],
    padding: int | tuple[int, int] = 0,
    ax: Axes | None = None,
) -> Axes:
    """Where a ``kernel_size`` window lands on a ``size`` input (padding in grey) with ``stride``.

    Every window the layer computes is marked by a large dot at its centre (one dot = one output
    element); small grey dots mark the centres stride 1 would add, the positions the stride skips. The
    first window, the next along the row and the first of the next row are outlined. The title gives
    the output size, from :func:`nncost.output_size`.
    """
    h, w = _pair("size", size, maximum=MAX_GRID)
    k_h, k_w = _pair("kernel_size", kernel_size, maximum=MAX_GRID)
    s_h, s_w = _pair("stride", stride, maximum=MAX_GRID)
    p_h, p_w = _pair("padding", padding, minimum=0, maximum=MAX_GRID)
    ph, pw = h + 2 * p_h, w + 2 * p_w
    if max(ph, pw) > MAX_GRID:
        raise ValueError(f"padding: the padded grid {ph}×{pw} is larger than {MAX_GRID}×{MAX_GRID}")
    h_out = _size("input's height", h, k_h, s_h, p_h, 1, "kernel_size")
    w_out = _size("input's width", w, k_w, s_w, p_w, 1, "kernel_size")
    h_all, w_all = output_size(h, k_h, 1, p_h), output_size(w, k_w, 1, p_w)  # stride 1: every position
    cell_in = min(0.42, 5.5 / max(ph, pw))
    with book_style():
        _, ax = _figure_or(ax, (max(pw * cell_in + 1.0, 5.5), ph * cell_in + 1.6))
        _blank(ax)
        for r in range(ph):
            for c in range(pw):
                inside = p_h <= r < p_h + h and p_w <= c < p_w + w
                if inside:
                    _cell(ax, c, -r - 1, PALETTE["faint"], _tint(PALETTE["input"], 0.4), "cell-input",
                          linewidth=0.8)
                else:
                    _cell(ax, c, -r - 1, PALETTE["padding"], PALETTE["neutral"], "cell-padding", linewidth=0.8)
        skipped = [(i, j) for i in range(h_all) for j in range(w_all) if i % s_h or j % s_w]
        if skipped:
            xs = [j + k_w / 2 for _, j in skipped]
            ys = [-i - k_h / 2 for i, _ in skipped]
            dots = ax.scatter(xs, ys, s=14, color=PALETTE["neutral"], alpha=0.55, zorder=4, linewidths=0)
            dots.set_gid("centre-skipped")
        xs = [j * s_w + k_w / 2 for i in range(h_out) for j in range(w_out)]
        ys = [-i * s_h - k_h / 2 for i in range(h_out) for j in range(w_out)]
        dots = ax.scatter(xs, ys, s=70, color=PALETTE["output"], edgecolors="white", linewidths=0.8, zorder=6)
        dots.set_gid("centre-sampled")
        shown = [(0, 0, "-"), (0, 1, "--"), (1, 0, "--")]
        for i, j, style in shown:
            if i < h_out and j < w_out:
                _outline(ax, j * s_w, -i * s_h - k_h, k_w, k_h, PALETTE["highlight"], "window",
                         linestyle=style, linewidth=2.4 if style == "-" else 1.8)
        ax.set_xlim(-0.2, pw + 0.2)
        ax.set_ylim(-ph - 0.2, 0.2)
        pad_text = f", padding {_pair_text(p_h, p_w)}" if (p_h, p_w) != (0, 0) else ""
        ax.set_title(
            f"kernel {k_h}×{k_w}, stride {_pair_text(s_h, s_w)}{pad_text}: "
            f"{h}×{w} input → {h_out}×{w_out} output\n"
            f"{h_out * w_out} windows computed (green) of the {h_all * w_all} that stride 1 would compute",
            fontsize=10.5,
        )
    return ax


# --------------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------------

# hues that tell neighbouring pooling windows apart: purple, magenta, brown, olive, slate, gold; none is near
# the input (blue), output (green) or highlight (vermillion) colours that the pooling figure also uses
_WINDOW_HUES = ("#7B3294", "#C51B7D", "#8C564B", "#808000", "#2F4F4F", "#B8860B")


def draw_pooling(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    kind: str = "max",
    ax: Axes | None = None,
) -> Axes:
    """Max or average pooling of a 2-D ``x``: the input with its values, every pooling window outlined
    in its own hue, and the pooled output beside it (each output cell edged in its window's hue).

    For ``kind='max'`` the cell each window picks is highlighted (the first maximum in reading order on
    a tie); for ``'avg'`` the output cells hold the means. Values come from
    :func:`nncost.reference.max_pool2d` / :func:`nncost.reference.avg_pool2d`. Returns the Axes, which
    holds both grids.
    """
    x = _array("x", x, 2)
    if kind not in ("max", "avg"):
        raise ValueError(f"kind: must be 'max' or 'avg', got {kind!r}")
    k_h, k_w = _pair("kernel_size", kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair("stride", stride)
    h, w = x.shape
    if max(h, w) > MAX_2D:
        raise ValueError(f"x: at most {MAX_2D}×{MAX_2D} cells can be drawn readably, got {h}×{w}")
    h_out = _size("input's height", h, k_h, s_h, 0, 1, "kernel_size")
    w_out = _size("input's width", w, k_w, s_w, 0, 1, "kernel_size")
    pool = reference.max_pool2d if kind == "max" else reference.avg_pool2d
    y = pool(x[None, None], (k_h, k_w), (s_h, s_w))[0, 0]
    overlapping = s_h < k_h or s_w < k_w
    gap = 2.0
    out_top = -(h - h_out) / 2
    with book_style():
        _, ax = _figure_or(ax, (max((w + gap + w_out + 0.4) * 0.45, 5.0), (max(h, h_out) + 1.3) * 0.45 + 0.5))
        _blank(ax)
        for r in range(h):
            for c in range(w):
                _cell(ax, c, -r - 1, _tint(PALETTE["input"], 0.82), _tint(PALETTE["input"], 0.3), "cell-input",
                      linewidth=0.8)
                _text(ax, c + 0.5, -r - 0.5, _fmt(x[r, c]), gid="value-input")
        for i in range(h_out):
            for j in range(w_out):
                hue = _WINDOW_HUES[(i * w_out + j) % len(_WINDOW_HUES)]
                top, left = i * s_h, j * s_w
                inset = 0.06 + (0.1 * ((i + j) % 2) if overlapping else 0.0)  # overlapping outlines apart
                _outline(ax, left + inset, -top - k_h + inset, k_w - 2 * inset, k_h - 2 * inset, hue, "window",
                         linewidth=2.4)
                if kind == "max":
                    window = x[top:top + k_h, left:left + k_w]
                    u, v = np.unravel_index(int(np.argmax(window)), window.shape)
                    _cell(ax, left + v + 0.1, -top - u - 0.9, _tint(PALETTE["highlight"], 0.55),
                          PALETTE["highlight"], "cell-picked", width=0.8, height=0.8, linewidth=1.6, zorder=3)
                _cell(ax, gap + w + j, out_top - i - 1, _tint(PALETTE["output"]), hue, "cell-output",
                      linewidth=2.4, zorder=3)
                _text(ax, gap + w + j + 0.5, out_top - i - 0.5, _fmt(y[i, j]), gid="value-output",
                      weight="bold")
        from matplotlib.patches import FancyArrowPatch

        arrow = FancyArrowPatch((w + 0.3, -h / 2), (w + gap - 0.3, -h / 2), arrowstyle="-|>", mutation_scale=14,
                                color=PALETTE["neutral"], linewidth=1.6)
        ax.add_patch(arrow)
        _text(ax, w + gap / 2, -h / 2 + 0.35, kind, size=SMALL_PT, va="bottom")
        _text(ax, w / 2, -h - 0.15, f"x: {h}×{w}", va="top", size=SMALL_PT, color=PALETTE["input"])
        _text(ax, gap + w + w_out / 2, out_top - h_out - 0.15, f"y: {h_out}×{w_out}", va="top", size=SMALL_PT,
              color=PALETTE["output"])
        ax.set_xlim(-0.2, gap + w + w_out + 0.2)
        ax.set_ylim(-max(h, h_out - out_top) - 0.8, 0.2)
        what = "max pooling (each window's maximum highlighted)" if kind == "max" else "average pooling (the means)"
        stride_text = f", stride {_pair_text(s_h, s_w)}" if (s_h, s_w) != (k_h, k_w) else ""
        ax.set_title(f"{what}, window {k_h}×{k_w}{stride_text}", fontsize=11)
    return ax


# --------------------------------------------------------------------------------------------------
# Receptive field
# --------------------------------------------------------------------------------------------------


def _layer_windows(layers: Sequence[Any], dims: int) -> list[tuple[tuple[int, ...], ...]]:
    """(kernel, stride, dilation) per layer, each a tuple of ``dims`` ints (the layers are already valid)."""
    out = []
    for layer in layers:
        window = getattr(layer, "window", None)
        if window is None:
            kernel, stride, *rest = layer
            window = (kernel, stride, rest[0] if rest else 1)
        parts = []
        for value in window:
            value = tuple(value) if isinstance(value, (Sequence, np.ndarray)) else (value,)
            parts.append(tuple(int(v) for v in (value * dims if len(value) == 1 else value)))
        out.append(tuple(parts))
    return out


def _seen(windows: list[tuple[tuple[int, ...], ...]], axis: int, lengths: list[int]) -> list[set[int]]:
    """Positions of each depth (input first) that the central output position of the last layer reads."""
    sets = [{(lengths[-1] - 1) // 2}]
    for (kernel, stride, dilation) in reversed(windows):
        k, s, d = kernel[axis], stride[axis], dilation[axis]
        sets.append({j * s + u * d for j in sets[-1] for u in range(k)})
    return sets[::-1]


def draw_receptive_field(layers: Sequence[Any], input_size: int | tuple[int, int], ax: Axes | None = None) -> Figure:
    """How the receptive field of a stack of sliding-window layers grows, for a 1-D or 2-D input.

    ``layers`` as for :func:`nncost.receptive_field`: ``(kernel, stride[, dilation])`` tuples or conv/pool
    ``LayerCost`` objects; the layers are drawn without padding (padding moves a window, it does not
    change what one output sees). For an int ``input_size``: one row per depth, the input at the bottom,
    the central output of the last layer at the top, and lines from every position it depends on to the
    positions those read. For ``(h, w)``: one panel per layer, the input pixels that one central output of
    that layer sees. Sizes are those of :func:`nncost.receptive_field`. ``ax`` is used for the 1-D
    drawing only.
    """
    try:
        steps = receptive_field(layers)  # validates the layers; its messages start with "layers"
    except TypeError as error:  # a wrong type inside a layer: a ValueError here, like every bad argument
        raise ValueError(str(error)) from None
    dims = len(steps[0].size)
    two_d = isinstance(input_size, (Sequence, np.ndarray)) and not isinstance(input_size, (str, bytes))
    if two_d:
        sizes = _pair("input_size", input_size, maximum=MAX_GRID)
        if dims > 2:
            raise ValueError(f"layers: have {dims} spatial dimensions, more than a drawing can show")
    else:
        if dims != 1:
            raise ValueError(f"input_size: the layers have {dims} spatial dimensions, give a ({dims}-tuple) size")
        sizes = (_int("input_size", input_size, maximum=MAX_GRID),)
    windows = _layer_windows(layers, len(sizes))
    lengths_per_axis = []
    for axis, size in enumerate(sizes):
        lengths = [size]
        for n, (kernel, stride, dilation) in enumerate(windows):
            try:
                lengths.append(output_size(lengths[-1], kernel[axis], stride[axis], 0, dilation[axis]))
            except ValueError:
                raise ValueError(
                    f"input_size: {size} is too small: layer {n + 1} (kernel {kernel[axis]}, dilation "
                    f"{dilation[axis]}) does not fit the {lengths[-1]} positions it receives") from None
        lengths_per_axis.append(lengths)
    with book_style():
        if not two_d:
            return _receptive_1d(windows, steps, lengths_per_axis[0], ax)
        return _receptive_2d(windows, steps, lengths_per_axis, sizes)


def _receptive_1d(windows: list[Any], steps: list[Any], lengths: list[int], ax: Axes | None) -> Figure:
    depth = len(windows)
    size = lengths[0]
    seen = _seen(windows, 0, lengths)
    cell_in = min(0.36, 7.5 / (size + 13))
    row_gap = 2.2
    fig, ax = _figure_or(ax, ((size + 13) * cell_in, (depth * row_gap + 2.2) * cell_in + 0.6))
    _blank(ax)
    from matplotlib.lines import Line2D

    jump, span = 1, 1
    centres: list[dict[int, float]] = []
    for level in range(depth + 1):
        if level:
            kernel, stride, dilation = (v[0] for v in windows[level - 1])
            span += dilation * (kernel - 1) * jump
            jump *= stride
        # position j of this level sits at the centre of the input positions it sees
        centres.append({j: j * jump + (span - 1) / 2 + 0.5 for j in range(lengths[level])})
    for level in range(depth + 1):
        y = level * row_gap
        for j, cx in centres[level].items():
            on = j in seen[level]
            top = level == depth
            if top and on:
                face, edge, gid = _tint(PALETTE["highlight"], 0.5), PALETTE["highlight"], "cell-output-current"
            elif on:
                color = PALETTE["input"] if level == 0 else PALETTE["output"]
                face, edge, gid = _tint(color, 0.45), color, "cell-seen"
            else:
                face, edge, gid = PALETTE["faint"], _tint(PALETTE["neutral"], 0.5), "cell-unseen"
            _cell(ax, cx - 0.45, y, face, edge, gid, width=0.9, height=0.9, linewidth=1.0)
        if level:
            kernel, stride, dilation = (v[0] for v in windows[level - 1])
            for j in sorted(seen[level]):
                for u in range(kernel):
                    src = j * stride + u * dilation
                    line = Line2D([centres[level][j], centres[level - 1][src]], [y, y - row_gap + 0.9],
                                  color=PALETTE["weight"], linewidth=0.9, alpha=0.7, zorder=1)
                    line.set_gid("edge-read")
                    ax.add_line(line)
            name = f"layer {level}"
            rf = steps[level - 1].size[0]
            _text(ax, size + 0.6, y + 0.45, f"k={kernel}, s={stride}" + (f", d={dilation}" if dilation > 1 else "")
                  + f": sees {rf} input positions", ha="left", size=SMALL_PT, gid="label-rf")
        else:
            name = "input"
        _text(ax, -0.4, y + 0.45, name, ha="right", size=SMALL_PT + 1,
              color=PALETTE["input"] if level == 0 else TEXT)
    rf = steps[-1].size[0]
    first = min(seen[0])
    _dimension(ax, (first, -0.45), (first + rf, -0.45), f"receptive field: {rf} input positions",
               PALETTE["highlight"], "below")
    ax.set_xlim(-3.6, size + 9.4)
    ax.set_ylim(-1.35, depth * row_gap + 1.1)
    ax.set_title(f"Receptive field of {depth} stacked layer{'s' if depth > 1 else ''}: "
                 f"one output of the top layer sees {rf} input positions", fontsize=11)
    return fig


def _receptive_2d(windows: list[Any], steps: list[Any], lengths: list[list[int]], sizes: tuple[int, ...]) -> Figure:
    h, w = sizes
    depth = len(windows)
    cell_in = min(0.28, 2.6 / max(h, w))
    fig, axes = _panels(depth, (w * cell_in + 0.5, h * cell_in + 0.9))
    for level, ax in enumerate(axes, start=1):
        _blank(ax)
        rows = _seen(windows[:level], 0, lengths[0][:level + 1])[0]
        cols = _seen(windows[:level], 1, lengths[1][:level + 1])[0]
        for r in range(h):
            for c in range(w):
                on = r in rows and c in cols
                face = _tint(PALETTE["input"], 0.35) if on else PALETTE["faint"]
                edge = PALETTE["input"] if on else _tint(PALETTE["neutral"], 0.5)
                _cell(ax, c, -r - 1, face, edge, "cell-seen" if on else "cell-unseen", linewidth=0.6)
        field = steps[level - 1].size
        r_h, r_w = field * 2 if len(field) == 1 else field
        _outline(ax, min(cols), -min(rows) - r_h, r_w, r_h, PALETTE["highlight"], "field", linewidth=2.0)
        ax.set_xlim(-0.2, w + 0.2)
        ax.set_ylim(-h - 0.2, 0.2)
        ax.set_title(f"after layer {level}: {r_h}×{r_w}", fontsize=10.5)
    fig.suptitle(f"Input pixels one central output sees ({h}×{w} input)", fontsize=11.5)
    return fig
