"""What :func:`nncost.profile` returns: per-module rows, totals, and their rendering.

Pure Python (no torch): a :class:`ProfileReport` holds plain numbers, so it can be pickled, compared
in tests and rendered anywhere. It shows as an aligned HTML table in a notebook (``_repr_html_``,
human units such as ``1.23 M`` with the exact value in each cell's tooltip) and as text in a terminal
(``str``); :meth:`ProfileReport.table` chooses the depth, the sort column and exact numbers, and
:meth:`ProfileReport.records` gives the same rows as dicts for plotting.

Units: counts use k = 10^3, M = 10^6, G = 10^9, T = 10^12; bytes use kB, MB, GB (powers of 1000), as
the book's conventions say (``KiB = 1024 B`` is spelled out where it is meant).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from nncost.layers import LayerCost

_PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def human(value: int | float, unit: str = "") -> str:
    """``value`` with three significant digits and an SI prefix: 1234 → ``1.23 k``, 4.5e9 → ``4.5 G``.

    Values below 1000 are printed exactly (``512``); ``unit`` is appended (``human(2e6, "B")`` → ``2 MB``).
    """
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    for scale, prefix in _PREFIXES:
        if magnitude >= scale:
            return f"{sign}{magnitude / scale:.3g} {prefix}{unit}"
    text = f"{magnitude:,}" if isinstance(magnitude, int) else f"{magnitude:.3g}"
    return f"{sign}{text} {unit}".rstrip()


def shape_text(shape: Sequence[int] | None) -> str:
    """``(64, 3, 224, 224)`` → ``64×3×224×224``; ``None`` (a module that never ran) → ``–``."""
    if shape is None:
        return "–"
    return "×".join(str(d) for d in shape) if shape else "scalar"


@dataclass(frozen=True)
class LayerRow:
    """One module of the profiled model.

    *Self* fields count what the module did itself: ``macs`` and ``elementwise`` are the operations
    that ran while it was the innermost module (its own ``forward`` code, functional calls included);
    ``params`` are the parameters it holds directly (a parameter shared by several modules is counted
    at its first holder only). ``activations`` is the number of elements of its output when no child
    module ran during the call (a *layer*), else the elements output by the compute operations of its own
    code (a residual add, an ``F.relu``). ``total_*`` fields add the whole subtree, so the root's totals
    are the model's and the rows of any depth add up to them.

    ``closed_form`` is nncost's formula (:mod:`nncost.layers`) for the first call when the module's type
    maps to one (``nn.Conv2d`` → :func:`nncost.conv2d`, ...); ``formula_macs`` adds it over all calls and
    equals the dispatch-level ``macs`` (checked by :func:`nncost.profile`). ``call_macs`` counts every
    operation that ran while the module was on the call stack (the hierarchy of
    ``torch.utils.flop_counter.FlopCounterMode``); ``blind_macs`` is the part of ``call_macs`` done by
    operations for which FlopCounterMode has no formula.
    """

    name: str
    type: str
    depth: int
    calls: int
    in_shapes: tuple[tuple[int, ...], ...] | None
    out_shape: tuple[int, ...] | None
    params: int
    trainable_params: int
    macs: int
    elementwise: dict[str, int]
    activations: int
    activation_bytes: int
    has_children: bool
    total_params: int
    total_trainable_params: int
    total_macs: int
    total_elementwise: dict[str, int]
    total_activations: int
    total_activation_bytes: int
    call_macs: int = 0
    blind_macs: int = 0
    closed_form: LayerCost | None = None
    formula_macs: int | None = None

    @property
    def flops(self) -> int:
        """``2 * macs`` (self)."""
        return 2 * self.macs

    @property
    def elementwise_ops(self) -> int:
        """All elementwise operations of the module itself, added up."""
        return sum(self.elementwise.values())

    @property
    def total_elementwise_ops(self) -> int:
        """All elementwise operations of the subtree, added up."""
        return sum(self.total_elementwise.values())

    @property
    def label(self) -> str:
        """The name as written in tables and messages: ``model`` for the root, else ``model.<name>``."""
        return "model" if not self.name else f"model.{self.name}"


SORT_KEYS = ("params", "trainable_params", "macs", "activations", "activation_bytes", "elementwise", "name")


def _check_depth(depth: int | None) -> int | None:
    if depth is None:
        return None
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"depth: must be an int >= 0 or None (every module), got {type(depth).__name__} {depth!r}")
    if depth < 0:
        raise ValueError(f"depth: must be >= 0 (0 is the model alone), got {depth}")
    return depth


@dataclass(frozen=True)
class _Shown:
    """A row as displayed at some depth: its own numbers, or its subtree's when folded."""

    row: LayerRow
    folded: bool

    def value(self, key: str) -> Any:
        r = self.row
        if key == "elementwise":
            return dict(r.total_elementwise if self.folded else r.elementwise)
        if key in ("params", "trainable_params", "macs", "activations", "activation_bytes"):
            return getattr(r, f"total_{key}" if self.folded else key)
        raise KeyError(key)


@dataclass(frozen=True)
class ProfileReport:
    """Costs of one forward pass of a model, per module and in total (see :func:`nncost.profile`).

    Totals: ``params`` (Σ numel of distinct parameters), ``trainable_params`` (those with
    ``requires_grad``), ``macs`` (multiply-accumulates of conv, linear, matmul and attention),
    ``flops = 2·macs``, ``activations`` (Σ elements output by the layers), ``total_activation_bytes``
    (the same in bytes: what training keeps for the backward pass) and ``peak_activation_bytes`` (the
    most bytes of activations alive at once in an inference pass, inputs and outputs included).
    """

    model: str
    input_shapes: tuple[tuple[int, ...], ...]
    input_dtypes: tuple[str, ...]
    dtype: str
    device: str
    rows: tuple[LayerRow, ...]
    peak_activation_bytes: int
    peak_step: int
    peak_op: str
    peak_module: str
    timeline: tuple[tuple[int, str, str, int], ...] = ()
    op_counts: dict[str, int] = field(default_factory=dict)
    op_macs: dict[str, int] = field(default_factory=dict)
    uncounted_ops: dict[str, int] = field(default_factory=dict)
    closed_form_checks: int = 0

    # ---------------------------------------------------------------- totals
    @property
    def root(self) -> LayerRow:
        """The model's own row (its ``total_*`` fields are the model's totals)."""
        return self.rows[0]

    @property
    def params(self) -> int:
        """Σ numel of the model's distinct parameters (= ``sum(p.numel() for p in model.parameters())``)."""
        return self.root.total_params

    @property
    def trainable_params(self) -> int:
        """Σ numel of the distinct parameters with ``requires_grad``."""
        return self.root.total_trainable_params

    @property
    def frozen_params(self) -> int:
        """``params − trainable_params``."""
        return self.params - self.trainable_params

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the whole forward pass (FlopCounterMode's FLOPs / 2 where it sees them)."""
        return self.root.total_macs

    @property
    def flops(self) -> int:
        """``2 * macs``."""
        return 2 * self.macs

    @property
    def activations(self) -> int:
        """Σ over layers of the elements each outputs."""
        return self.root.total_activations

    @property
    def total_activation_bytes(self) -> int:
        """Σ over layers of their output bytes: what training stores for the backward pass."""
        return self.root.total_activation_bytes

    @property
    def elementwise(self) -> dict[str, int]:
        """Elementwise operations of the whole pass, by kind (``bias_add``, ``relu``, ``add``, ...)."""
        return dict(self.root.total_elementwise)

    @property
    def elementwise_ops(self) -> int:
        """All elementwise operations added up (never part of ``macs``)."""
        return self.root.total_elementwise_ops

    def __getitem__(self, name: str) -> LayerRow:
        """The row of the module with qualified name ``name`` (``""`` or ``"model"`` for the root)."""
        if name == "model":
            name = ""
        elif name.startswith("model."):
            name = name[len("model.") :]
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"name: no module {name!r} in this report; names are {[r.name for r in self.rows][:8]} ...")

    # ---------------------------------------------------------------- rows at a depth
    def _shown(self, depth: int | None) -> list[_Shown]:
        depth = _check_depth(depth)
        return [
            _Shown(row, folded=row.has_children and depth is not None and row.depth == depth)
            for row in self.rows
            if depth is None or row.depth <= depth
        ]

    def records(self, depth: int | None = None) -> list[dict[str, Any]]:
        """One dict per module shown at ``depth`` (``None``: every module), exact values, for plotting.

        A module at exactly ``depth`` that has children is *folded*: its values are its subtree's, so the
        records always add up to the totals. Keys: ``name``, ``type``, ``depth``, ``calls``, ``out_shape``,
        ``params``, ``trainable_params``, ``macs``, ``flops``, ``activations``, ``activation_bytes``,
        ``elementwise_ops``, ``elementwise`` (a dict by kind) and ``folded``.
        """
        out = []
        for shown in self._shown(depth):
            r = shown.row
            macs = shown.value("macs")
            elementwise = shown.value("elementwise")
            out.append(
                {
                    "name": r.name,
                    "type": r.type,
                    "depth": r.depth,
                    "calls": r.calls,
                    "out_shape": r.out_shape,
                    "params": shown.value("params"),
                    "trainable_params": shown.value("trainable_params"),
                    "macs": macs,
                    "flops": 2 * macs,
                    "activations": shown.value("activations"),
                    "activation_bytes": shown.value("activation_bytes"),
                    "elementwise_ops": sum(elementwise.values()),
                    "elementwise": elementwise,
                    "folded": shown.folded,
                }
            )
        return out

    def to_dataframe(self, depth: int | None = None) -> Any:
        """:meth:`records` as a ``pandas.DataFrame`` (pandas is optional: ``ImportError`` names it if missing)."""
        try:
            import pandas as pd
        except ImportError as error:  # pandas is not a dependency of nncost
            raise ImportError(
                "to_dataframe: needs pandas, which is not installed (pip install pandas); "
                "report.records() gives the same rows as a list of dicts"
            ) from error
        return pd.DataFrame.from_records(self.records(depth))

    def memory_timeline(self) -> list[dict[str, Any]]:
        """Bytes of activations alive after each step (step 0: the inputs), with the op and its module."""
        return [
            {"step": step, "op": op, "module": module, "alive_bytes": alive}
            for step, op, module, alive in self.timeline
        ]

    # ---------------------------------------------------------------- rendering
    def table(self, depth: int | None = None, sort: str | None = None, *, exact: bool = False) -> ReportTable:
        """The rows shown at ``depth`` (``None``: every module; 0: the model alone; folded rows hold their
        subtree), optionally sorted by a column (largest first; ``name`` alphabetically), in human units
        unless ``exact``. Renders as HTML in a notebook and as text with ``print``."""
        if sort is not None and sort not in SORT_KEYS:
            raise ValueError(f"sort: must be None or one of {', '.join(SORT_KEYS)}, got {sort!r}")
        shown = self._shown(depth)
        if sort == "name":
            shown.sort(key=lambda s: s.row.name)
        elif sort == "elementwise":
            shown.sort(key=lambda s: -sum(s.value("elementwise").values()))
        elif sort is not None:
            shown.sort(key=lambda s: -s.value(sort))
        fmt = _exact if exact else human
        body = []
        for s in shown:
            r = s.row
            elementwise = s.value("elementwise")
            cells = [
                _Cell(("  " * r.depth if sort is None else "") + (r.label if r.name else "model")),
                _Cell(r.type + (" (folded)" if s.folded else "")),
                _Cell(shape_text(r.out_shape) + (f" ×{r.calls} calls" if r.calls > 1 else "")),
                _num(s.value("params"), fmt),
                _num(s.value("macs"), fmt),
                _num(s.value("activations"), fmt),
                _num(sum(elementwise.values()), fmt, detail=_kinds(elementwise)),
            ]
            body.append(cells)
        total = [
            _Cell("total"),
            _Cell(""),
            _Cell(""),
            _num(self.params, fmt, detail=f"trainable {self.trainable_params:,}"),
            _num(self.macs, fmt, detail=f"FLOPs {self.flops:,}"),
            _num(self.activations, fmt),
            _num(self.elementwise_ops, fmt, detail=_kinds(self.elementwise)),
        ]
        header = ["module", "type", "output shape", "params", "MACs", "activations", "elementwise ops"]
        return ReportTable(self._title(), header, body, total, self._footer())

    def _title(self) -> str:
        shapes = ", ".join(str(s) for s in self.input_shapes)
        dtypes = sorted(set(self.input_dtypes))
        inputs = f"input {shapes}" if len(self.input_shapes) == 1 else f"inputs {shapes}"
        return f"nncost.profile: {self.model}, {inputs} ({', '.join(dtypes)}; weights {self.dtype}) on {self.device}"

    def _footer(self) -> list[str]:
        lines = [
            f"params {human(self.params)} ({self.params:,}; trainable {self.trainable_params:,}) · "
            f"MACs {human(self.macs)} ({self.macs:,}; FLOPs = 2 × MACs = {human(self.flops)}) · "
            f"elementwise ops {human(self.elementwise_ops)} (not in MACs)",
            f"activations {human(self.activations)} elements · total activation memory "
            f"{human(self.total_activation_bytes, 'B')} "
            "(Σ layer outputs; what training keeps, counting in-place outputs and views as new) · "
            f"peak activation memory {human(self.peak_activation_bytes, 'B')} "
            f"({self.peak_activation_bytes:,} B, inference, at step {self.peak_step}: "
            f"{self.peak_op} in {self.peak_module})",
        ]
        if self.uncounted_ops:
            ops = ", ".join(f"{op} ×{n}" for op, n in sorted(self.uncounted_ops.items()))
            lines.append(f"not counted (no nncost formula): {ops}")
        return lines

    def __str__(self) -> str:
        return str(self.table())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


@dataclass(frozen=True)
class _Cell:
    text: str
    title: str = ""
    numeric: bool = False


def _exact(value: int) -> str:
    return f"{value:,}"


def _num(value: int, fmt: Callable[[int], str], detail: str = "") -> _Cell:
    title = f"{value:,}" + (f" ({detail})" if detail else "")
    return _Cell(fmt(value), title, numeric=True)


def _kinds(elementwise: dict[str, int]) -> str:
    return "; ".join(f"{k}: {v:,}" for k, v in sorted(elementwise.items()))


@dataclass(frozen=True)
class ReportTable:
    """A rendered table: ``str()`` gives aligned text, ``_repr_html_()`` an HTML table."""

    title: str
    header: list[str]
    body: list[list[_Cell]]
    total: list[_Cell] | None
    footer: list[str]

    def _all_rows(self) -> Iterable[list[_Cell]]:
        yield from self.body
        if self.total is not None:
            yield self.total

    def __str__(self) -> str:
        rows = [[c.text for c in row] for row in self._all_rows()]
        numeric = [c.numeric for c in (self.body[0] if self.body else self.total or [])]
        widths = [max(len(r[i]) for r in [self.header, *rows]) for i in range(len(self.header))]

        def line(cells: list[str]) -> str:
            parts = [
                c.rjust(w) if i < len(numeric) and numeric[i] else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths))
            ]
            return "  ".join(parts).rstrip()

        rule = "-" * len(line(self.header))
        lines = [self.title, line(self.header), rule, *(line(r) for r in rows[: len(self.body)])]
        if self.total is not None:
            lines += [rule, line(rows[-1])]
        return "\n".join([*lines, *self.footer])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        numeric = [c.numeric for c in (self.body[0] if self.body else self.total or [])]

        def align(i: int) -> str:
            return ' style="text-align:right"' if i < len(numeric) and numeric[i] else ' style="text-align:left"'

        def cell(i: int, c: _Cell, tag: str = "td") -> str:
            title = f' title="{escape(c.title)}"' if c.title else ""
            text = escape(c.text)
            if i == 0 and c.text.startswith(" "):  # keep the indentation of nested modules
                text = "&nbsp;" * (len(c.text) - len(c.text.lstrip(" "))) + escape(c.text.lstrip(" "))
            return f"<{tag}{align(i)}{title}>{text}</{tag}>"

        head = "".join(f"<th{align(i)}>{escape(h)}</th>" for i, h in enumerate(self.header))
        rows = ["<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in self.body]
        if self.total is not None:
            cells = "".join(cell(i, c) for i, c in enumerate(self.total))
            rows.append(f'<tr style="font-weight:bold;border-top:2px solid">{cells}</tr>')
        foot = "".join(f"<p style=\"margin:0.2em 0\">{escape(line)}</p>" for line in self.footer)
        return (
            f'<div class="nncost-report"><table class="nncost-table" style="font-variant-numeric:tabular-nums">'
            f"<caption style=\"caption-side:top;text-align:left\">{escape(self.title)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{foot}</div>"
        )
