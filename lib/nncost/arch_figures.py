"""Architecture figures drawn from :func:`nncost.profile`: a layer diagram and a per-layer cost chart.

- :func:`draw_architecture` draws one box per layer, in the model's order, left to right and wrapped
  into rows, each box labelled with its type, its kernel (``Conv 5×5``, ``MaxPool 3×3/2``, ``g2`` for
  groups) and the output shape nncost measured (``→ 6×28×28``, batch dimension left out).
- :func:`plot_layer_costs` draws the parameters and the MACs of every layer as bars, with the share of
  the model's total written beside each bar.

Which modules are "the layers at ``depth``": the modules of ``report.records(depth)`` that ran in the
forward pass and either have no children (a layer) or sit exactly at ``depth`` (a *folded* block whose
numbers are its whole subtree's). ``depth=None`` shows every layer; ``depth=0`` the model as one box.
The root is a layer only when the model has no children. Order: the modules' registration order
(``model.named_modules()``), which is the forward order of the book's models.

Colours (from :data:`nncost.style.PALETTE`) mean the layer's kind, the same in every chapter:

- ``conv`` (``weight``, orange), ``linear`` (``output``, green), ``pool`` (``bias``, purple),
  ``norm`` (``highlight``, vermillion), ``activation`` (``neutral`` outline on ``faint``), ``other``
  (dashed grey outline: flatten, dropout, folded blocks, ...); the input is ``input`` (blue).

A custom module chooses its own box by defining ``arch_kind`` (one of :data:`KINDS`) and ``arch_label``
(a short text such as ``"Subsample 2×2"``) as attributes.

Sizes: a figure of its own is at most 8 inches wide (5 boxes a row; the cost chart 8.5), with text of
9–10 points that shrinks only to fit a box, so that it stays legible at the width of the HTML book.

Every box carries a ``gid``: ``arch-input`` for the input, ``arch-layer`` for each layer; the texts in a
layer box are ``arch-label`` (type and kernel) and ``arch-shape`` (output shape), the name above it
``arch-name``; bars of the cost chart are ``cost-params`` and ``cost-macs``. Nothing is random.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nncost.report import ProfileReport, human
from nncost.style import PALETTE, RC

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from torch import nn

__all__ = ["KINDS", "draw_architecture", "layer_kind", "plot_layer_costs"]

#: The kinds of layer a box can show, each with its own colour.
KINDS = ("conv", "pool", "linear", "norm", "activation", "other")

_KIND_NAMES = {
    "input": "input",
    "conv": "convolution",
    "pool": "pooling",
    "linear": "linear (fully connected)",
    "norm": "normalisation",
    "activation": "activation",
    "other": "other",
}
_INK = "#222222"
_PER_ROW = 5  # boxes per row of a layer diagram: legible at the book's page width


@dataclass(frozen=True)
class _Look:
    face: str | tuple[float, float, float]
    edge: str
    linestyle: str = "-"


def _tint(color: str, amount: float = 0.72) -> tuple[float, float, float]:
    """``color`` mixed with white, a light fill that keeps dark text readable."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _looks() -> dict[str, _Look]:
    return {
        "input": _Look(_tint(PALETTE["input"]), PALETTE["input"]),
        "conv": _Look(_tint(PALETTE["weight"]), PALETTE["weight"]),
        "linear": _Look(_tint(PALETTE["output"]), PALETTE["output"]),
        "pool": _Look(_tint(PALETTE["bias"]), PALETTE["bias"]),
        "norm": _Look(_tint(PALETTE["highlight"], 0.8), PALETTE["highlight"]),
        "activation": _Look(PALETTE["faint"], PALETTE["neutral"]),
        "other": _Look("white", PALETTE["neutral"], "--"),
    }


# --------------------------------------------------------------------------------------------- arguments


def _check_depth(depth: Any) -> int | None:
    if depth is None:
        return None
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth: must be None (every layer) or an int >= 0, got {depth!r}")
    return depth


def _check_ax(ax: Any) -> None:
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise ValueError(f"ax: must be a matplotlib Axes or None, got {type(ax).__name__}")


def _profile(model: Any, input_shape: Any) -> ProfileReport:
    """:func:`nncost.profile` on meta; a malformed ``input_shape`` becomes a ``ValueError`` naming it."""
    import nncost

    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence) or not input_shape:
        raise ValueError(f"input_shape: must be a tuple of ints such as (1, 3, 224, 224), got {input_shape!r}")
    try:
        return nncost.profile(model, input_shape)
    except TypeError as error:
        if str(error).startswith("input_shape"):
            raise ValueError(str(error)) from error
        raise


# --------------------------------------------------------------------------------------------- the layers


def _frontier(report: ProfileReport, depth: int | None) -> list[Any]:
    """The rows drawn at ``depth``: modules that ran and are leaves, or are folded at exactly ``depth``."""
    rows = []
    only_root = len(report.rows) == 1
    for row in report.rows:
        if depth is not None and row.depth > depth:
            continue
        if row.out_shape is None or row.calls == 0:
            continue  # never ran in this forward pass
        if not row.name and not only_root and depth != 0:
            continue  # the model itself, shown through its layers
        if row.has_children and not (depth is not None and row.depth == depth):
            continue
        rows.append(row)
    return rows


def layer_kind(module: Any) -> str:
    """The kind of a module (one of :data:`KINDS`): its ``arch_kind`` attribute if it has one, else its type."""
    from torch import nn

    kind = getattr(module, "arch_kind", None)
    if isinstance(kind, str) and kind in KINDS:
        return kind
    conv = (nn.modules.conv._ConvNd,)
    pool = (
        nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
        nn.modules.pooling._AdaptiveMaxPoolNd, nn.modules.pooling._LPPoolNd,
    )
    norm = (
        nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm, nn.CrossMapLRN2d,
        nn.RMSNorm,
    )
    if isinstance(module, conv):
        return "conv"
    if isinstance(module, pool):
        return "pool"
    if isinstance(module, (nn.Linear, nn.Bilinear)):
        return "linear"
    if isinstance(module, norm):
        return "norm"
    if type(module).__module__ == "torch.nn.modules.activation" and not isinstance(module, nn.MultiheadAttention):
        return "activation"
    return "other"


def _pair(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _kernel(kernel: Any, stride: Any) -> str:
    k = _pair(kernel)
    s = _pair(stride) if stride is not None else k
    text = "×".join(str(v) for v in k)
    if any(v != 1 for v in s):
        text += f"/{s[0]}" if len(set(s)) == 1 else "/(" + ",".join(str(v) for v in s) + ")"
    return text


def _layer_label(module: Any, kind: str) -> str:
    """Type and kernel information of one module, short enough for a box."""
    from torch import nn

    label = getattr(module, "arch_label", None)
    if isinstance(label, str) and label:
        return label
    name = type(module).__name__
    if isinstance(module, nn.modules.conv._ConvNd):
        word = "ConvT" if module.transposed else "Conv"
        k = module.kernel_size
        text = f"{word} {'×'.join(str(v) for v in k)}"
        if any(v != 1 for v in module.stride):
            s = module.stride
            text += f"/{s[0]}" if len(set(s)) == 1 else "/(" + ",".join(str(v) for v in s) + ")"
        if module.groups > 1:
            text += f" g{module.groups}"
        return text
    if isinstance(module, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)):
        word = "AdaptAvg" if "Avg" in name else "AdaptMax"
        size = module.output_size
        size = size if isinstance(size, (tuple, list)) else (size, size)
        return f"{word} →{'×'.join(str(v) for v in size)}"
    if isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
        word = "MaxPool" if "Max" in name else "AvgPool"
        return f"{word} {_kernel(module.kernel_size, module.stride)}"
    if isinstance(module, nn.Linear):
        return f"FC {module.in_features}→{module.out_features}"
    if isinstance(module, nn.LocalResponseNorm):
        return f"LRN size {module.size}"
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return "BatchNorm"
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return f"Dropout p={module.p:g}"
    return name


def _shape(shape: Sequence[int] | None, batch: int | None) -> str:
    if shape is None:
        return "–"
    dims = list(shape)
    if batch is not None and len(dims) >= 2 and dims[0] == batch:
        dims = dims[1:]
    return "×".join(str(d) for d in dims) if dims else "scalar"


def _short(text: str, most: int = 22) -> str:
    return text if len(text) <= most else "…" + text[-(most - 1):]


@dataclass(frozen=True)
class _Box:
    name: str
    kind: str
    label: str
    shape: str


def _boxes(model: Any, report: ProfileReport, depth: int | None) -> list[_Box]:
    modules = dict(model.named_modules())
    rows = _frontier(report, depth)
    batch = report.input_shapes[0][0] if len(report.input_shapes[0]) >= 2 else None
    boxes = []
    for row in rows:
        module = modules[row.name]
        if row.has_children:  # folded block
            layers = sum(
                1 for r in report.rows if r.name.startswith(f"{row.name}.") and not r.has_children and r.calls
            ) if row.name else sum(1 for r in report.rows if r.name and not r.has_children and r.calls)
            kind = getattr(module, "arch_kind", None)
            kind = kind if isinstance(kind, str) and kind in KINDS else "other"
            label = getattr(module, "arch_label", None) or f"{row.type} ({layers} layers)"
        else:
            kind = layer_kind(module)
            label = _layer_label(module, kind)
        shape = "→ " + _shape(row.out_shape, batch) + (f" (×{row.calls})" if row.calls > 1 else "")
        boxes.append(_Box(row.name or type(model).__name__, kind, label, shape))
    return boxes


# --------------------------------------------------------------------------------------------- the diagram


def draw_architecture(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    *,
    depth: int | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A layer diagram of ``model`` on an input of ``input_shape``, drawn from :func:`nncost.profile`.

    One box per layer at ``depth`` (see the module docstring), after an input box, left to right and
    wrapped into rows of at most 5; each box is coloured by the layer's kind and labelled with its type
    and kernel (``Conv 11×11/4``, ``Conv 5×5 g2`` for ``groups=2``, ``MaxPool 3×3/2``, ``FC 9216→4096``)
    and with the output shape nncost measured, batch dimension left out (``→ 96×55×55``); the module's
    qualified name is written above its box; a module called k > 1 times shows its first call's
    shape and ``(×k)``. ``title=None`` writes the model's class, input shape and
    totals; ``title=""`` leaves the figure untitled. Draws into ``ax`` if given; returns the Figure.
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise ValueError(f"model: must be a torch.nn.Module, got {type(model).__name__}")
    depth = _check_depth(depth)
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title: must be a str or None, got {type(title).__name__} {title!r}")
    _check_ax(ax)

    report = _profile(model, input_shape)
    shapes = report.input_shapes
    boxes = _boxes(model, report, depth)
    batch = shapes[0][0] if len(shapes[0]) >= 2 else None
    input_text = ", ".join(_shape(s, batch) for s in shapes)
    input_name = f"input (batch {batch})" if batch is not None else "input"
    items = [_Box(input_name, "input", "Input", input_text), *boxes]
    if title is None:
        title = (
            f"{type(model).__name__} on {input_text}: {human(report.params)} parameters, "
            f"{human(report.macs)} MACs"
        )
    return _draw(items, title, ax)


def _draw(items: list[_Box], title: str, ax: Any) -> Figure:
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import FancyBboxPatch, Patch
    from matplotlib.textpath import TextToPath

    looks = _looks()
    count = len(items)
    rows = math.ceil(count / _PER_ROW)
    per_row = math.ceil(count / rows)
    box_w, box_h, pitch = 0.84, 0.46, 1.0  # in cells (x) and rows (y)

    with plt.rc_context(RC):
        own = ax is None
        if own:
            width_in = min(8.0, 1.6 * per_row + 0.2)  # shown about 7 inches wide in the HTML book
            fig, ax = plt.subplots(figsize=(width_in, 0.55 + 1.05 * rows + 0.55), layout="constrained")
        else:
            fig = ax.figure
        ax.set_axis_off()
        # the axes' width in inches: with a figure of our own, constrained layout gives it nearly all of it
        ax_w_in = fig.get_figwidth() - 0.25 if own else ax.get_position().width * fig.get_figwidth()
        box_pt = 72.0 * ax_w_in / (per_row + 0.2) * box_w
        measure = TextToPath()

        def fontsize(text: str, base: float, bold: bool = False) -> float:
            # the largest size up to ``base`` at which the text fits in its box, measured in the real font
            prop = FontProperties(size=base, weight="bold" if bold else "normal")
            width = measure.get_text_width_height_descent(text, prop, ismath=False)[0]
            return max(5.5, min(base, base * 0.92 * box_pt / max(width, 1e-9)))

        centres = []
        for i, item in enumerate(items):
            r, c = divmod(i, per_row)
            x, y = c + 0.5, -r * pitch
            centres.append((x, y))
            look = looks[item.kind]
            box = FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2), box_w, box_h, boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=look.face, edgecolor=look.edge, linewidth=1.4, linestyle=look.linestyle, zorder=2,
            )
            box.set_gid("arch-input" if item.kind == "input" else "arch-layer")
            ax.add_patch(box)
            text_gid = "arch-input-label" if item.kind == "input" else "arch-label"
            shape_gid = "arch-input-shape" if item.kind == "input" else "arch-shape"
            t = ax.text(x, y + 0.09, item.label, ha="center", va="center", color=_INK, zorder=3,
                        fontsize=fontsize(item.label, 10.0, bold=True), fontweight="bold")
            t.set_gid(text_gid)
            t = ax.text(x, y - 0.11, item.shape, ha="center", va="center", color=_INK, zorder=3,
                        fontsize=fontsize(item.shape, 9.5))
            t.set_gid(shape_gid)
            name = _short(item.name)
            t = ax.text(x, y + box_h / 2 + 0.05, name, ha="center", va="bottom", color=PALETTE["neutral"],
                        zorder=3, fontsize=fontsize(name, 8.5))
            t.set_gid("arch-name")

        arrow_kw = {"color": PALETTE["neutral"], "linewidth": 1.1}
        for i in range(count - 1):
            (x0, y0), (x1, y1) = centres[i], centres[i + 1]
            if y0 == y1:  # same row
                a = ax.annotate("", xy=(x1 - box_w / 2, y1), xytext=(x0 + box_w / 2, y0),
                                arrowprops={"arrowstyle": "-|>", "shrinkA": 0, "shrinkB": 0, **arrow_kw})
            else:  # wrap: out of the right side, down, back left, into the next row's first box
                right = x0 + box_w / 2 + 0.04
                mid = y0 - pitch / 2 - 0.04
                left = x1 - box_w / 2 - 0.04
                ax.plot([x0 + box_w / 2, right, right, left, left], [y0, y0, mid, mid, y1],
                        solid_joinstyle="round", zorder=1, **arrow_kw)[0].set_gid("arch-arrow")
                a = ax.annotate("", xy=(x1 - box_w / 2, y1), xytext=(left, y1),
                                arrowprops={"arrowstyle": "-|>", "shrinkA": 0, "shrinkB": 0, **arrow_kw})
            a.set_gid("arch-arrow")

        ax.set_xlim(-0.08, per_row + 0.12)  # per_row + 0.2 cells wide, as box_pt assumes
        ax.set_ylim(-(rows - 1) * pitch - box_h / 2 - 0.12, box_h / 2 + 0.28)
        kinds = [k for k in ("input", *KINDS) if any(item.kind == k for item in items)]
        handles = [
            Patch(facecolor=looks[k].face, edgecolor=looks[k].edge, linestyle=looks[k].linestyle, label=_KIND_NAMES[k])
            for k in kinds
        ]
        legend_kw = {"handles": handles, "ncol": min(len(handles), 4), "frameon": False, "fontsize": 9.5,
                     "handlelength": 1.4, "columnspacing": 1.2}
        if own:
            fig.legend(loc="outside lower center", **legend_kw)
        else:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), **legend_kw)
        if title:
            ax.set_title(title, fontsize=11.5)
    return fig


# --------------------------------------------------------------------------------------------- the costs


def plot_layer_costs(
    report: ProfileReport,
    *,
    depth: int | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    log: bool = False,
) -> Figure:
    """Parameters and MACs of every layer at ``depth`` of a :func:`nncost.profile` report, as bars.

    Layers as in :func:`draw_architecture`, in the model's order, top to bottom; layers with neither
    parameters nor MACs (activations, pooling, flatten, dropout) are left out, and the title says how
    many. Each bar is labelled with its value and its share of the model's total.

    ``ax=None``: a new figure with two panels (parameters left, MACs right). ``ax`` a pair of Axes: the
    two panels drawn into them. ``ax`` one Axes: both in one panel as shares of the totals (%), side by
    side per layer. ``log=True`` puts the counts on a logarithmic axis (panels only).
    """
    if not isinstance(report, ProfileReport):
        raise ValueError(
            f"report: must be a ProfileReport from nncost.profile(model, input_shape), got {type(report).__name__}"
        )
    depth = _check_depth(depth)
    if not isinstance(log, bool):
        raise ValueError(f"log: must be True or False, got {log!r}")
    from matplotlib.axes import Axes

    axes: list[Any] | None
    if ax is None:
        axes = None
    elif isinstance(ax, Axes):
        axes = [ax]
    elif (
        not isinstance(ax, (str, bytes)) and hasattr(ax, "__len__") and len(ax) == 2
        and all(isinstance(a, Axes) for a in ax)
    ):  # a list, a tuple or plt.subplots' array of two Axes
        axes = list(ax)
    else:
        raise ValueError(f"ax: must be None, one matplotlib Axes or a pair of Axes, got {type(ax).__name__}")
    if log and axes is not None and len(axes) == 1:
        raise ValueError("log: a single Axes shows shares of the totals (%), which are not drawn on a log axis")

    shown = _frontier(report, depth)
    records = {r["name"]: r for r in report.records(depth)}
    kept = [records[row.name] for row in shown if records[row.name]["params"] or records[row.name]["macs"]]
    if not kept:
        raise ValueError("report: no layer at this depth has parameters or MACs, so there is nothing to plot")
    left_out = len(shown) - len(kept)
    labels = [f"{_short(r['name'] or report.model, 20)} ({r['type']})" for r in kept]
    params = [r["params"] for r in kept]
    macs = [r["macs"] for r in kept]
    total_p, total_m = max(report.params, 1), max(report.macs, 1)
    plural = "s" if left_out != 1 else ""
    note = f"{left_out} layer{plural} without parameters or MACs not shown" if left_out else ""

    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    y = np.arange(len(kept))
    with plt.rc_context(RC):
        if axes is None:
            height = 1.4 + 0.32 * len(kept)
            fig, panels = plt.subplots(1, 2, figsize=(8.5, height), sharey=True, layout="constrained")
            axes = list(panels)
            fig.suptitle(f"Parameters and MACs per layer: {report.model}" + (f" ({note})" if note else ""), fontsize=11)
        else:
            fig = axes[0].figure
        if len(axes) == 1:
            a = axes[0]
            h = 0.4
            pb = a.barh(y - h / 2, [100 * p / total_p for p in params], h, color=PALETTE["weight"],
                        label="parameters")
            mb = a.barh(y + h / 2, [100 * m / total_m for m in macs], h, color=PALETTE["input"], label="MACs")
            for b in pb:
                b.set_gid("cost-params")
            for b in mb:
                b.set_gid("cost-macs")
            a.set_yticks(y, labels, fontsize=9.5)
            a.invert_yaxis()
            a.set_xlabel("share of the model's total (%)")
            a.set_xlim(0, 105)
            a.legend(loc="lower right", frameon=False, fontsize=9)
            a.grid(axis="x", color=PALETTE["faint"])
            a.set_axisbelow(True)
            a.set_title("Share of the parameters and of the MACs, per layer" + (f"\n({note})" if note else ""),
                        fontsize=10.5)
            return fig
        for a, values, total, colour, what, gid in (
            (axes[0], params, total_p, PALETTE["weight"], "parameters", "cost-params"),
            (axes[1], macs, total_m, PALETTE["input"], "MACs (multiply-accumulates)", "cost-macs"),
        ):
            bars = a.barh(y, values, 0.65, color=colour)
            for b in bars:
                b.set_gid(gid)
            a.set_yticks(y, labels, fontsize=9.5)
            if not a.yaxis_inverted():
                a.invert_yaxis()
            a.set_xlabel(what)
            a.set_title(f"{what.split(' ')[0]}: total {human(total)}", fontsize=10.5)
            a.grid(axis="x", color=PALETTE["faint"])
            a.set_axisbelow(True)
            top = max(values) if max(values) > 0 else 1
            if log:
                a.set_xscale("log")
                low = min(v for v in values if v > 0)
                a.set_xlim(low / 3, top * 15)
            else:
                a.set_xlim(0, top * 1.5)
                a.xaxis.set_major_locator(MaxNLocator(nbins=5))
                a.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human(v) if v else "0"))
            for yi, v in zip(y, values):
                if v:
                    a.text(v * (1.15 if log else 1) + (0 if log else top * 0.01), yi,
                           f"{human(v)} ({100 * v / total:.1f}%)", va="center", fontsize=9, color=_INK)
        axes[1].tick_params(labelleft=False)
    return fig
