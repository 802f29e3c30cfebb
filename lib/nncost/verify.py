"""``nncost.verify``: nncost's count of a model, checked module by module against torch's own.

Two independent counts of the same forward pass, with the same inputs and the same code path:

- **nncost**: :func:`nncost.profile` (its own per-operation formulas at the dispatch level, and for
  Linear/Conv/Pool/BatchNorm/activation modules the closed forms of :mod:`nncost.layers`);
- **torch**: ``torch.utils.flop_counter.FlopCounterMode`` (``get_flop_counts()``, per module through its
  module hierarchy; MACs = FLOPs / 2) and ``sum(p.numel() for p in module.parameters())``.

Each module gets a status: ``ok`` (the counts agree), ``known blind spot`` (they differ by exactly the
MACs of operations FlopCounterMode has no formula for, so it counts 0 for them) or ``MISMATCH``; any
mismatch raises :class:`VerificationError` with a per-module diff table.

Blind spots measured with torch 2.13 on CPU (FlopCounterMode counts 0 for these aten operations):
``aten._scaled_dot_product_flash_attention_for_cpu`` (``F.scaled_dot_product_attention`` on CPU, also inside
``nn.MultiheadAttention(need_weights=False)``), ``aten._native_multi_head_attention`` (the fused
``nn.MultiheadAttention`` fast path: batch_first, eval, no grad, self-attention),
``aten._transformer_encoder_layer_fwd`` (the fused ``nn.TransformerEncoderLayer`` in eval under no grad),
and ``aten.mv``, ``aten.addmv``, ``aten.dot``. nncost counts them from the math. The list is not hard-coded:
an operation is a blind spot when it has no entry in ``torch.utils.flop_counter.flop_registry``.

FlopCounterMode also works on the meta device. There the fused CPU kernels never run (meta takes the
unfused math path: ``bmm``, softmax, ``bmm``), so torch sees every MAC and there are no blind spots. The
default, ``device=None``, runs where the model's weights are: a real forward on small inputs for a
model on the CPU (the path a reader's notebook really takes), meta for a model built on meta.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from nncost.report import ReportTable, _Cell

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

OK, BLIND, MISMATCH = "ok", "known blind spot", "MISMATCH"


class VerificationError(AssertionError):
    """nncost and torch disagree on a model; the message holds the per-module diff table."""


@dataclass(frozen=True)
class VerifyRow:
    """One module: nncost's MACs and params next to FlopCounterMode's MACs and ``numel``."""

    name: str
    type: str
    depth: int
    nncost_macs: int
    torch_macs: int
    blind_macs: int
    formula_macs: int | None
    nncost_params: int
    torch_params: int
    status: str
    note: str = ""

    @property
    def label(self) -> str:
        """``model`` for the root, else ``model.<name>``."""
        return "model" if not self.name else f"model.{self.name}"


@dataclass(frozen=True)
class VerifyResult:
    """Per-module comparison; renders as a table (HTML in a notebook, text with ``print``)."""

    model: str
    device: str
    rows: tuple[VerifyRow, ...]
    blind_ops: dict[str, int] = field(default_factory=dict)  # aten op -> MACs torch did not see
    uncounted_ops: dict[str, int] = field(default_factory=dict)  # ops neither side has a formula for

    @property
    def ok(self) -> bool:
        """True when no module is a ``MISMATCH`` (known blind spots are not failures)."""
        return all(r.status != MISMATCH for r in self.rows)

    @property
    def mismatches(self) -> list[VerifyRow]:
        """Rows whose status is ``MISMATCH``."""
        return [r for r in self.rows if r.status == MISMATCH]

    @property
    def blind_spots(self) -> list[VerifyRow]:
        """Rows that differ from FlopCounterMode only by the MACs of operations it cannot see."""
        return [r for r in self.rows if r.status == BLIND]

    def __getitem__(self, name: str) -> VerifyRow:
        name = "" if name == "model" else name.removeprefix("model.")
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"name: no module {name!r} in this result")

    def table(self, depth: int | None = None, *, only_mismatches: bool = False) -> ReportTable:
        """Rows down to ``depth`` (``None``: all), or only the mismatching ones, with exact numbers."""
        header = ["module", "type", "nncost MACs", "FlopCounterMode MACs", "formula MACs", "nncost params",
                  "numel", "status"]
        body = []
        for r in self.rows:
            if depth is not None and r.depth > depth:
                continue
            if only_mismatches and r.status != MISMATCH:
                continue
            diff = r.nncost_macs - r.torch_macs
            body.append([
                _Cell(("  " * r.depth) + r.label),
                _Cell(r.type),
                _Cell(f"{r.nncost_macs:,}", f"nncost − torch = {diff:,}", numeric=True),
                _Cell(f"{r.torch_macs:,}", numeric=True),
                _Cell("–" if r.formula_macs is None else f"{r.formula_macs:,}", numeric=True),
                _Cell(f"{r.nncost_params:,}", numeric=True),
                _Cell(f"{r.torch_params:,}", numeric=True),
                _Cell(r.status + (f": {r.note}" if r.note else "")),
            ])
        if not self.ok:
            verdict = f"{len(self.mismatches)} MISMATCH(ES)"
        elif self.blind_spots:
            verdict = f"{len(self.blind_spots)} module(s) with a known blind spot of FlopCounterMode, no mismatch"
        else:
            verdict = "all modules agree"
        title = f"nncost.verify: {self.model} on {self.device}: {verdict}"
        return ReportTable(title, header, body, None, self._footer())

    def _footer(self) -> list[str]:
        lines = [
            "torch side: FlopCounterMode FLOPs / 2 per module (its module hierarchy) and "
            f"sum(p.numel() for p in module.parameters()), over a forward on {self.device}"
        ]
        for op, macs in sorted(self.blind_ops.items()):
            lines.append(f"known blind spot: {op}: FlopCounterMode has no formula for it and counts 0; "
                         f"nncost counts {macs:,} MACs from the math")
        if self.uncounted_ops:
            ops = ", ".join(f"{op} ×{n}" for op, n in sorted(self.uncounted_ops.items()))
            lines.append(f"counted by neither side (no formula in nncost): {ops}")
        return lines

    def __str__(self) -> str:
        return str(self.table())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        html = self.table()._repr_html_()
        colours = {OK: "#009E73", BLIND: "#E69F00", MISMATCH: "#D55E00"}
        for status, colour in colours.items():  # colour the status cells
            html = html.replace(f'style="text-align:left">{escape(status)}',
                                f'style="text-align:left;color:{colour};font-weight:bold">{escape(status)}')
        return html


def flop_counter_names(model: Any) -> dict[int, str]:
    """``id(module) -> name`` as ``torch.utils.module_tracker.ModuleTracker`` (inside FlopCounterMode) names
    modules: the root's class name, then ``.child`` per level, a module reachable twice keeping the name
    it was given last by a parent not yet visited."""
    known: dict[int, str] = {}
    seen: set[int] = set()

    def name_of(module: Any) -> str:
        known.setdefault(id(module), type(module).__name__)
        name = known[id(module)]
        if id(module) not in seen:
            for child_name, child in module.named_children():
                known[id(child)] = f"{name}.{child_name}"
                name_of(child)
            seen.add(id(module))
        return name

    name_of(model)
    return known


def _subtree_params(modules: dict[str, Any]) -> dict[str, int]:
    """Σ numel of the distinct parameters held anywhere in each module's subtree (by qualified name)."""
    held: dict[str, dict[int, int]] = {}
    for name in reversed(list(modules)):  # children (longer names, later in pre-order) first
        ids = held.setdefault(name, {})
        for p in modules[name]._parameters.values():
            if p is not None:
                ids[id(p)] = p.numel()
        if name:
            held.setdefault(name.rpartition(".")[0], {}).update(ids)
    return {name: sum(ids.values()) for name, ids in held.items()}


def verify(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    *,
    dtype: torch.dtype | None = None,
    input_dtype: torch.dtype | Sequence[torch.dtype] | None = None,
    kwargs: dict[str, Any] | None = None,
    device: str | torch.device | None = None,
    no_grad: bool = True,
) -> VerifyResult:
    """Check :func:`nncost.profile`'s MACs and params of every module against torch's own counts.

    For each module: nncost MACs (every operation run while the module was on the call stack) must equal
    FlopCounterMode's FLOPs / 2, except by exactly the MACs of operations FlopCounterMode has no formula
    for (a *known blind spot*, reported, not a failure); nncost's params (distinct parameters of the
    subtree) must equal ``sum(p.numel() for p in module.parameters())``; a module with a closed form in
    :mod:`nncost.layers` shows its formula MACs too. Raises :class:`VerificationError` (an
    ``AssertionError``) with the diff table on any mismatch. ``device=None`` runs where the model's weights
    are (``"cpu"``: a real forward, keep inputs small; ``"meta"`` for a model built on meta); other
    arguments are those of :func:`nncost.profile`. The model is left unchanged.
    """
    from torch.utils.flop_counter import FlopCounterMode

    from nncost.profiler import (
        _profile,
        check_model,
        forward_error,
        parse_device,
        parse_dtypes,
        parse_shapes,
        prepared,
    )

    check_model(model)
    shapes = parse_shapes(input_shape)
    dtype, input_dtypes = parse_dtypes(dtype, input_dtype, len(shapes))
    device = parse_device(_default_device(model) if device is None else device)
    report = _profile(model, shapes, dtype, input_dtypes, kwargs, device, no_grad)

    with prepared(model, shapes, dtype, input_dtypes, kwargs, device, no_grad) as prep:
        try:
            with FlopCounterMode(display=False) as counter:
                model(*prep.inputs, **prep.kwargs)
        except Exception as error:  # profile ran the same pass, so this is unexpected
            raise forward_error(error, None, model, shapes, device) from error
        modules = dict(prep.modules)
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    fcm_names = flop_counter_names(model)
    subtree = _subtree_params(modules)

    rows = []
    for row in report.rows:
        module = modules[row.name]
        torch_flops = flops.get(fcm_names.get(id(module), ""), 0)
        torch_macs = torch_flops // 2
        torch_params = sum(p.numel() for p in module.parameters())
        nncost_params = subtree[row.name]
        notes = []
        if torch_flops % 2:
            notes.append(f"FlopCounterMode reported an odd FLOP count ({torch_flops:,})")
        if nncost_params != torch_params:
            notes.append(f"params differ by {nncost_params - torch_params:,}")
        if row.closed_form is not None and row.closed_form.params != torch_params:
            notes.append(f"formula params {row.closed_form.params:,} ≠ numel")
        if row.call_macs == torch_macs:
            macs_status = OK
        elif row.blind_macs and row.call_macs - row.blind_macs == torch_macs:
            macs_status = BLIND
            notes.append(f"{row.blind_macs:,} MACs in ops FlopCounterMode counts 0 for")
        else:
            macs_status = MISMATCH
            notes.append(f"MACs differ by {row.call_macs - torch_macs:,}")
        params_ok = nncost_params == torch_params and (
            row.closed_form is None or row.closed_form.params == torch_params
        )
        status = MISMATCH if not params_ok or torch_flops % 2 else macs_status
        rows.append(VerifyRow(row.name, row.type, row.depth, row.call_macs, torch_macs, row.blind_macs,
                              row.formula_macs, nncost_params, torch_params, status, "; ".join(notes)))

    from nncost._dispatch import _FLOP_REGISTRY

    blind_ops = {op: macs for op, macs in report.op_macs.items() if _packet(op) not in _FLOP_REGISTRY}
    result = VerifyResult(report.model, str(device), tuple(rows), blind_ops, dict(report.uncounted_ops))
    if not result.ok:
        raise VerificationError(
            "nncost and torch disagree on these modules:\n" + str(result.table(only_mismatches=True))
        )
    return result


def _packet(name: str) -> Any:
    import torch

    return getattr(torch.ops.aten, name.removeprefix("aten."), None)


def _default_device(model: Any) -> str:
    """Where the model's weights are (``cpu``, ``cuda:0``, ``meta``); ``cpu`` for a model without any."""
    for tensor in [*model.parameters(), *model.buffers()]:
        return str(tensor.device)
    return "cpu"
