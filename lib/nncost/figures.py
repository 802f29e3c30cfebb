"""The book's figures, drawn by code: one palette, one style, and a helper per kind of picture.

Every helper takes an optional ``ax`` (it draws into that Axes; otherwise it makes a new figure in the
book's style) and returns the :class:`matplotlib.figure.Figure` it drew on. Nothing is random.

Colours mean the same thing in every figure of the book (:data:`PALETTE`, built on
:data:`nncost.style.PALETTE`, which the sliding-window figures of :mod:`nncost.window_figures` use too):

- ``input``: input features ``x`` and ``X``;
- ``hidden``: intermediate features (hidden units);
- ``weight``: weights ``w`` and ``W`` (edges, kernels);
- ``bias``: biases ``b``;
- ``output``: outputs ``y`` and ``Y``;
- ``highlight``: the one element the text is talking about;
- ``neutral`` and ``light``: text, frames and grid lines.

Every node or edge a helper draws carries a ``gid`` (``"node-input"``, ``"edge-weight"``, ...), so tests
and readers can count what a figure shows, e.g. the 21 weight edges of a 5→3→2 MLP.

matplotlib is imported when a helper is first called, not when :mod:`nncost` is imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nncost.style import PALETTE as _SHARED
from nncost.style import RC as _SHARED_RC

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ACTIVATIONS",
    "PALETTE",
    "STYLE",
    "Palette",
    "draw_linear",
    "draw_mlp",
    "draw_neuron",
    "plot_activations",
    "style",
    "subplots",
    "use_style",
]


@dataclass(frozen=True)
class Palette:
    """Named colours, one meaning each across the book.

    The colours shared with the sliding-window figures (input, weight, bias, output, highlight,
    neutral) come from :data:`nncost.style.PALETTE`, the book's single source of colours; ``hidden``
    and ``light`` are added here. Read a colour as ``PALETTE.input`` or ``PALETTE["input"]``.
    """

    input: str = _SHARED["input"]
    hidden: str = "#64B5CD"  # a lighter blue than input: features between input and output
    weight: str = _SHARED["weight"]
    bias: str = _SHARED["bias"]
    output: str = _SHARED["output"]
    highlight: str = _SHARED["highlight"]
    neutral: str = _SHARED["neutral"]  # text and outlines
    light: str = "#BBBBBB"  # grid lines, axis lines, de-emphasised parts

    def __getitem__(self, name: str) -> str:
        if name not in self.__dataclass_fields__:
            raise KeyError(f"no colour named {name!r}; choose from {sorted(self.__dataclass_fields__)}")
        return str(getattr(self, name))

    @property
    def series(self) -> tuple[str, ...]:
        """Colours for several curves on one plot, in a fixed order."""
        return (self.input, self.highlight, self.output, self.weight, self.bias, self.hidden, self.neutral)


#: The book's :class:`Palette`.
PALETTE = Palette()
_INK = "#222222"  # symbols written inside nodes: darker than ``neutral``, for contrast on the tinted fills

#: rcParams of the book's figures: :data:`nncost.style.RC` plus what plots with axes need.
STYLE: dict[str, Any] = {
    **_SHARED_RC,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.titleweight": "bold",
    "axes.grid": True,
    "grid.color": PALETTE.light,
    "grid.alpha": 0.5,
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "mathtext.fontset": "dejavusans",
}


@contextmanager
def style() -> Iterator[None]:
    """Use the book's figure style (:data:`STYLE`) inside a ``with`` block."""
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        yield


def use_style() -> None:
    """Use the book's figure style for every figure from now on (e.g. in a notebook's setup cell)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = (7, 3.5), **kwargs: Any) -> Any:
    """``plt.subplots`` in the book's style; returns ``(fig, ax)`` like matplotlib does."""
    import matplotlib.pyplot as plt

    with style():
        return plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", **kwargs)


# --------------------------------------------------------------------------------------------------
# Activation functions, in NumPy
# --------------------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[float])


def _step(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, 1.0, 0.0)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _leaky_relu(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, z, 0.01 * z)  # torch's default negative_slope


def _gelu(z: np.ndarray) -> np.ndarray:
    return 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))  # exact GELU: z·Φ(z)


def _silu(z: np.ndarray) -> np.ndarray:
    return z * _sigmoid(z)


#: NumPy definitions of the activation functions the book plots, by the names torch uses.
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda z: np.asarray(z, dtype=float),
    "step": _step,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "gelu": _gelu,
    "silu": _silu,
}

_ACTIVATION_LABELS = {
    "identity": r"identity  $z$",
    "step": r"step  $H(z)$",
    "sigmoid": r"sigmoid  $\sigma(z)$",
    "tanh": r"tanh  $\tanh(z)$",
    "relu": r"ReLU  $\max(0, z)$",
    "leaky_relu": r"leaky ReLU  $\max(0.01z, z)$",
    "gelu": r"GELU  $z\,\Phi(z)$",
    "silu": r"SiLU  $z\,\sigma(z)$",
}


# --------------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------------


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: must be an int from {low} to {high}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}: must be from {low} to {high} (a drawing stays readable), got {value}")
    return int(value)


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, new_ax


def _blank(ax: Axes) -> None:
    ax.set_axis_off()
    ax.set_aspect("equal")


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str, *, gid: str,
           shrink: float = 0.0, linewidth: float = 1.6, linestyle: str = "-", head: bool = True) -> Any:
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(
        start, end, arrowstyle="-|>" if head else "-", mutation_scale=12 if head else 1,
        color=color, linewidth=linewidth, linestyle=linestyle, shrinkA=shrink, shrinkB=shrink, zorder=1,
    )
    arrow.set_gid(gid)
    ax.add_patch(arrow)
    return arrow


def _node(ax: Axes, xy: tuple[float, float], radius: float, color: str, label: str, *, gid: str,
          fontsize: float = 11) -> Any:
    from matplotlib.patches import Circle

    circle = Circle(xy, radius, facecolor=_tint(color), edgecolor=color, linewidth=1.8, zorder=3)
    circle.set_gid(gid)
    ax.add_patch(circle)
    if label:
        ax.text(*xy, label, ha="center", va="center", fontsize=fontsize, color=_INK, zorder=4)
    return circle


def _tint(color: str, amount: float = 0.78) -> tuple[float, float, float]:
    """``color`` mixed with white: a light fill that keeps dark text readable."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


# --------------------------------------------------------------------------------------------------
# One neuron
# --------------------------------------------------------------------------------------------------


def draw_neuron(
    n_inputs: int = 3,
    ax: Axes | None = None,
    *,
    activation: str = "f",
    biology: bool = False,
    title: str | None = r"An artificial neuron: $y = f(\mathbf{w} \cdot \mathbf{x} + b)$",
) -> Figure:
    """One artificial neuron: inputs ``x_i``, weights ``w_i`` on the edges, a bias ``b``, the sum Σ,
    the activation function and the output ``y``.

    ``activation`` is the text in the activation box (``"f"``, ``"ReLU"``, ...). With ``biology=True`` a
    second row of labels names each part in the vocabulary of the biological neuron. ``n_inputs`` is 1 to 8.
    """
    n_inputs = _check_int("n_inputs", n_inputs, 1, 8)
    if not isinstance(activation, str) or not activation:
        raise ValueError(f"activation: must be a non-empty string, got {activation!r}")
    from matplotlib.patches import FancyBboxPatch, Rectangle

    with style():
        fig, ax = _figure_and_axes(ax, (8, 4.2))
        _blank(ax)
        spacing, r = 1.1, 0.32
        ys = [spacing * ((n_inputs - 1) / 2 - i) for i in range(n_inputs)]
        x_in, x_sum, x_act, x_out = 0.0, 3.4, 5.4, 7.4
        sum_r = 0.45
        for i, y in enumerate(ys, start=1):
            _node(ax, (x_in, y), r, PALETTE.input, f"$x_{i}$", gid="node-input")
            _arrow(ax, (x_in + r, y), (x_sum, 0.0), PALETTE.weight, gid="edge-weight", shrink=0)
            # the weight's label, a third of the way along its edge
            lx, ly = x_in + r + 0.36 * (x_sum - x_in - r), y + 0.36 * (0.0 - y)
            ax.text(lx, ly + 0.17, f"$w_{i}$", ha="center", va="bottom", fontsize=11,
                    color=PALETTE.weight, fontweight="bold", zorder=4)
        _node(ax, (x_sum, 0.0), sum_r, PALETTE.neutral, r"$\Sigma$", gid="node-sum", fontsize=14)
        # the bias enters the sum from below
        bias_y = min(ys[-1], 0.0) - 1.3
        box = Rectangle((x_sum - 0.3, bias_y - 0.3), 0.6, 0.6, facecolor=_tint(PALETTE.bias),
                        edgecolor=PALETTE.bias, linewidth=1.8, zorder=3)
        box.set_gid("node-bias")
        ax.add_patch(box)
        ax.text(x_sum, bias_y, "$b$", ha="center", va="center", fontsize=12, color=_INK, zorder=4)
        _arrow(ax, (x_sum, bias_y + 0.3), (x_sum, -sum_r), PALETTE.bias, gid="edge-bias")
        # sum -> activation -> output
        act = FancyBboxPatch((x_act - 0.55, -0.35), 1.1, 0.7, boxstyle="round,pad=0.05",
                             facecolor=_tint(PALETTE.hidden), edgecolor=PALETTE.hidden, linewidth=1.8, zorder=3)
        act.set_gid("node-activation")
        ax.add_patch(act)
        label = activation if activation.startswith("$") or len(activation) > 1 else f"${activation}$"
        ax.text(x_act, 0.0, label, ha="center", va="center", fontsize=12, color=_INK, zorder=4)
        _arrow(ax, (x_sum + sum_r, 0.0), (x_act - 0.6, 0.0), PALETTE.neutral, gid="edge-sum")
        ax.text((x_sum + sum_r + x_act - 0.6) / 2, 0.12, "$z$", ha="center", va="bottom", fontsize=11,
                color=PALETTE.neutral)
        _arrow(ax, (x_act + 0.6, 0.0), (x_out - r, 0.0), PALETTE.neutral, gid="edge-activation")
        _node(ax, (x_out, 0.0), r, PALETTE.output, "$y$", gid="node-output")

        # what each part is called, and (optionally) its biological counterpart
        rows = [("inputs", "weights", "sum", "activation", "output")]
        if biology:
            rows.append(("dendrites", "synapses", "soma", "firing", "axon"))
        xs = (x_in, (x_in + x_sum) / 2, x_sum, x_act, x_out)
        label_y = min(ys[-1] - r, bias_y - 0.3) - 0.45
        colors = (PALETTE.input, PALETTE.weight, PALETTE.neutral, PALETTE.neutral, PALETTE.output)
        for row_index, row in enumerate(rows):
            for x, text, color in zip(xs, row, colors):
                ax.text(x, label_y - 0.45 * row_index, text, ha="center", va="top", fontsize=10.5,
                        color=color if row_index == 0 else PALETTE.neutral,
                        fontstyle="normal" if row_index == 0 else "italic")
        if biology:
            ax.text(x_out + 0.9, label_y - 0.45, "(biology)", ha="left", va="top", fontsize=9.5,
                    color=PALETTE.light, fontstyle="italic")
        top = max(ys[0] + r, 0.5) + 0.3
        bottom = label_y - 0.45 * len(rows) - 0.2
        ax.set_xlim(x_in - 0.7, x_out + (2.0 if biology else 0.7))
        ax.set_ylim(bottom, top)
        if title:
            ax.set_title(title)
    return fig


# --------------------------------------------------------------------------------------------------
# A multilayer perceptron
# --------------------------------------------------------------------------------------------------


def draw_mlp(
    widths: Sequence[int],
    ax: Axes | None = None,
    *,
    show_shapes: bool = True,
    show_bias: bool = False,
    max_nodes: int = 8,
    title: str | None = None,
) -> Figure:
    """A multilayer perceptron with layer widths ``widths = (c_0, c_1, …, c_L)``, input first.

    Nodes are coloured input / hidden / output, every weight is an edge. With ``show_shapes`` each
    layer is labelled with its tensor's shape (``X (n, c_0)``, ``H_1 (n, c_1)``, …, ``Y (n, c_L)``) and
    each gap with its weight and bias shapes (``W_l (c_l, c_(l-1))``, ``b_l (c_l,)``). With
    ``show_bias`` every layer but the last gets a bias node ``1`` whose edges are the biases of the next
    layer. A layer wider than ``max_nodes`` is drawn in ``max_nodes`` slots: its first ``max_nodes - 2``
    nodes, a ⋮, and its last node. ``title=None`` titles the figure with the widths; ``title=""`` leaves it untitled.
    """
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) < 2:
        raise ValueError(f"widths: must be a sequence of at least two layer widths (input first), got {widths!r}")
    for i, width in enumerate(widths):
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise ValueError(f"widths: every width must be an int >= 1, got widths[{i}] = {width!r}")
    if len(widths) > 8:
        raise ValueError(f"widths: at most 8 layers can be drawn readably, got {len(widths)}")
    max_nodes = _check_int("max_nodes", max_nodes, 3, 16)
    widths = [int(w) for w in widths]
    depth = len(widths) - 1

    with style():
        gap, spacing = 3.2, 0.9
        radius = 0.3
        shown_max = max(min(w, max_nodes) for w in widths)
        height = spacing * (shown_max - 1)
        own_figure = ax is None
        fig, ax = _figure_and_axes(ax, (7, 5))
        _blank(ax)

        def layer_name(index: int) -> tuple[str, str, str]:
            if index == 0:
                return "input", "x", "X"
            if index == depth:
                return "output", "y", "Y"
            return "hidden", "h", f"H_{index}"

        positions: list[list[tuple[float, float]]] = []
        for index, width in enumerate(widths):
            kind, symbol, _ = layer_name(index)
            color = getattr(PALETTE, kind)
            truncated = width > max_nodes
            # a truncated layer: its first max_nodes - 2 units, a ⋮, and its last unit
            units: list[int | None] = [*range(max_nodes - 2), None, width - 1] if truncated else [*range(width)]
            top = spacing * (len(units) - 1) / 2
            layer: list[tuple[float, float]] = []
            for slot, unit in enumerate(units):
                y = top - spacing * slot
                if unit is None:
                    ax.text(index * gap, y, "⋮", ha="center", va="center", fontsize=16, color=PALETTE.neutral)
                    continue
                layer.append((index * gap, y))
                digits = len(str(unit + 1))
                _node(ax, (index * gap, y), radius, color, f"${symbol}_{{{unit + 1}}}$", gid=f"node-{kind}",
                      fontsize={1: 10.5, 2: 9.0}.get(digits, 7.0))
            positions.append(layer)

        bias_positions: list[tuple[float, float] | None] = []
        for index in range(depth):
            source, target = positions[index], positions[index + 1]
            for start in source:
                for end in target:
                    _arrow(ax, start, end, PALETTE.weight, gid="edge-weight", shrink=0, linewidth=0.9, head=False)
            if show_bias:
                bx = index * gap + gap * 0.45
                by = -height / 2 - spacing * 1.1
                from matplotlib.patches import Rectangle

                box = Rectangle((bx - 0.22, by - 0.22), 0.44, 0.44, facecolor=_tint(PALETTE.bias),
                                edgecolor=PALETTE.bias, linewidth=1.5, zorder=3)
                box.set_gid("node-bias")
                ax.add_patch(box)
                ax.text(bx, by, "1", ha="center", va="center", fontsize=9.5, color=_INK, zorder=4)
                for end in target:
                    _arrow(ax, (bx, by), end, PALETTE.bias, gid="edge-bias", linewidth=0.9,
                           linestyle="--", head=False)
                bias_positions.append((bx, by))

        # layer names above, shapes below
        top_y = height / 2 + radius + 0.35
        for index, width in enumerate(widths):
            kind, _, tensor = layer_name(index)
            name = {"input": "input", "output": "output"}.get(kind, f"hidden {index}")
            ax.text(index * gap, top_y + 0.45, name, ha="center", va="bottom", fontsize=10.5,
                    color=getattr(PALETTE, kind), fontweight="bold")
            ax.text(index * gap, top_y, f"$c_{index} = {width:,}$".replace(",", "{,}"), ha="center",
                    va="bottom", fontsize=10, color=PALETTE.neutral)
        bottom_y = -height / 2 - radius - 0.35
        if show_bias:
            bottom_y -= spacing * 1.1
        if show_shapes:
            for index, width in enumerate(widths):
                kind, _, tensor = layer_name(index)
                ax.text(index * gap, bottom_y, f"${tensor}$: $(n, {width})$", ha="center", va="top",
                        fontsize=10, color=getattr(PALETTE, kind))
            for index in range(depth):
                c_in, c_out = widths[index], widths[index + 1]
                ax.text((index + 0.5) * gap, bottom_y - 0.55,
                        f"$W_{index + 1}$: $({c_out}, {c_in})$\n$b_{index + 1}$: $({c_out},)$",
                        ha="center", va="top", fontsize=10, color=PALETTE.weight, linespacing=1.5)
            bottom_y -= 1.6
        ax.set_xlim(-0.8, depth * gap + 0.8)
        ax.set_ylim(bottom_y - 0.2, top_y + 1.0)
        if own_figure:  # size the figure to the drawing, so equal aspect leaves no wide margins
            scale = min(0.55, 10.0 / (depth * gap + 1.6))
            width_in = max((depth * gap + 1.6) * scale + 0.4, 5.0)
            fig.set_size_inches(round(width_in, 1), round((top_y - bottom_y + 1.2) * scale + 0.6, 1))
        if title is None:
            title = "MLP " + " → ".join(f"{w:,}" for w in widths)
        if title:
            ax.set_title(title)
    return fig


# --------------------------------------------------------------------------------------------------
# The matrix product of a linear layer
# --------------------------------------------------------------------------------------------------


def draw_linear(
    n: int = 4,
    c_in: int = 5,
    c_out: int = 3,
    ax: Axes | None = None,
    *,
    highlight: tuple[int, int] | None = None,
    title: str | None = r"A linear layer: $Y = X W^{\mathsf{T}} + b$",
) -> Figure:
    """The shapes of ``Y = X Wᵀ + b`` as grids of cells: X (n, c_in), Wᵀ (c_in, c_out), b (c_out,),
    Y (n, c_out); each size is 1 to 12.

    ``highlight=(k, j)`` marks output element ``Y[k, j]``, the row ``X[k, :]`` and the column
    ``Wᵀ[:, j]`` whose ``c_in`` products it adds up (its ``c_in`` MACs), and the bias ``b[j]``.
    """
    n = _check_int("n", n, 1, 12)
    c_in = _check_int("c_in", c_in, 1, 12)
    c_out = _check_int("c_out", c_out, 1, 12)
    if highlight is not None:
        if (not isinstance(highlight, Sequence) or len(highlight) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in highlight)
                or not (0 <= highlight[0] < n and 0 <= highlight[1] < c_out)):
            raise ValueError(f"highlight: must be (row, column) of Y with 0 <= row < {n} and "
                             f"0 <= column < {c_out}, got {highlight!r}")
    from matplotlib.patches import Rectangle

    def grid(x0: float, rows: int, cols: int, color: str, gid: str,
             marked: Callable[[int, int], bool]) -> tuple[float, float]:
        """Cells of a rows×cols matrix with its top-left corner at (x0, top); returns (x_end, bottom)."""
        for i in range(rows):
            for j in range(cols):
                on = marked(i, j)
                cell = Rectangle((x0 + j, top - i - 1), 1, 1, linewidth=1.0, zorder=2,
                                 edgecolor=PALETTE.highlight if on else color,
                                 facecolor=_tint(PALETTE.highlight, 0.45) if on else _tint(color))
                cell.set_gid(gid)
                ax.add_patch(cell)
        return x0 + cols, top - rows

    with style():
        own_figure = ax is None
        fig, ax = _figure_and_axes(ax, (7.5, 3.8))
        _blank(ax)
        rows_max = max(n, c_in)
        top = rows_max / 2
        width = c_in + 3 * c_out + 3 * 1.5  # the four blocks and three operators, in cells
        scale = min(0.42, 8.0 / (width + 0.6))  # inches per cell of a figure we size ourselves
        u = 0.42 / scale if own_figure else 1.0  # text gaps in cells, so they stay the same in inches
        k, j_out = highlight if highlight is not None else (-1, -1)
        x = 0.0
        blocks = [
            ("$X$", f"$(n, c_i) = ({n}, {c_in})$", n, c_in, PALETTE.input, "cell-input",
             lambda i, j: i == k),
            (r"$W^{\mathsf{T}}$", f"$(c_i, c_o) = ({c_in}, {c_out})$", c_in, c_out, PALETTE.weight, "cell-weight",
             lambda i, j: j == j_out),
            ("$b$", f"$(c_o,) = ({c_out},)$", 1, c_out, PALETTE.bias, "cell-bias",
             lambda i, j: j == j_out),
            ("$Y$", f"$(n, c_o) = ({n}, {c_out})$", n, c_out, PALETTE.output, "cell-output",
             lambda i, j: i == k and j == j_out),
        ]
        operators = [r"$\cdot$", "$+$", "$=$"]
        bottom = top
        for index, (name, shape, rows, cols, color, gid, marked) in enumerate(blocks):
            x_end, block_bottom = grid(x, rows, cols, color, gid, marked)
            centre = (x + x_end) / 2
            ax.text(centre, top + 0.35 * u, name, ha="center", va="bottom", fontsize=13, color=color)
            ax.text(centre, block_bottom - 0.35 * u, shape, ha="center", va="top", fontsize=10.5, color=color)
            bottom = min(bottom, block_bottom - 0.9 * u)
            x = x_end
            if index < len(operators):
                ax.text(x + 0.75, top - rows_max / 2 if index != 1 else top - 0.5, operators[index],
                        ha="center", va="center", fontsize=22 if index == 0 else 18, color=_INK)
                x += 1.5
        ax.text(x / 2, bottom - 0.5 * u, r"$W$ is stored as $(c_o, c_i)$, like torch's nn.Linear.weight",
                ha="center", va="top", fontsize=11, color=_INK)
        low = bottom - 1.3 * u
        if highlight is not None:
            ax.text(x / 2, bottom - 1.4 * u,
                    f"$Y[{k}, {j_out}]$ = row {k} of $X$ · column {j_out} of $W^{{\\mathsf{{T}}}}$ + $b[{j_out}]$: "
                    f"{c_in} MACs and 1 bias add",
                    ha="center", va="top", fontsize=11, color=PALETTE.highlight)
            low -= 0.9 * u
        ax.set_xlim(-0.3, x + 0.3)
        ax.set_ylim(low, top + 1.2 * u)
        if own_figure:  # size the figure to the drawing, so equal aspect leaves no wide margins
            fig.set_size_inches(round(max((x + 0.6) * scale, 6.0), 1), round((top + 1.2 * u - low) * scale + 0.5, 1))
        if title:
            ax.set_title(title)
    return fig


# --------------------------------------------------------------------------------------------------
# Activation functions
# --------------------------------------------------------------------------------------------------


def plot_activations(
    names: Sequence[str] = ("step", "sigmoid", "tanh", "relu", "gelu"),
    ax: Axes | None = None,
    *,
    xlim: tuple[float, float] = (-4.0, 4.0),
    title: str | None = "Common activation functions",
) -> Figure:
    """The activation functions ``names`` (keys of :data:`ACTIVATIONS`) on one plot, computed with NumPy."""
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValueError(f"names: must be a non-empty sequence of names from {sorted(ACTIVATIONS)}, got {names!r}")
    unknown = [name for name in names if name not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"names: unknown activation(s) {unknown}; choose from {sorted(ACTIVATIONS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"names: each activation at most once, got {list(names)}")
    if len(xlim) != 2 or not xlim[0] < xlim[1]:
        raise ValueError(f"xlim: must be (low, high) with low < high, got {xlim!r}")
    if len(names) > len(PALETTE.series):
        raise ValueError(f"names: at most {len(PALETTE.series)} curves on one plot, got {len(names)}")

    with style():
        fig, ax = _figure_and_axes(ax, (8, 4.2))
        z = np.linspace(xlim[0], xlim[1], 801)
        for name, color in zip(names, PALETTE.series):
            values = ACTIVATIONS[name](z)
            if name == "step":  # draw the jump as a jump, not as a steep line
                values = np.where(np.isclose(z, 0.0, atol=(xlim[1] - xlim[0]) / 1600), np.nan, values)
            step = name == "step"  # dashed and on top: it shares z < 0 with ReLU and z > 0 with sigmoid's limit
            line, = ax.plot(z, values, color=color, label=_ACTIVATION_LABELS[name],
                            linestyle="--" if step else "-", zorder=3 if step else 2)
            line.set_gid(f"curve-{name}")
        ax.axhline(0, color=PALETTE.light, linewidth=0.8, zorder=0)
        ax.axvline(0, color=PALETTE.light, linewidth=0.8, zorder=0)
        ax.set_xlim(*xlim)
        ax.set_xlabel("pre-activation $z = \\mathbf{w} \\cdot \\mathbf{x} + b$")
        ax.set_ylabel("activation $f(z)$")
        ax.legend(loc="upper left")
        if title:
            ax.set_title(title)
    return fig
