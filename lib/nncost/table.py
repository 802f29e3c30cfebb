"""A list of layer costs with totals, shown as an HTML table in a notebook and as text in a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from nncost.layers import LayerCost


@dataclass(frozen=True)
class CostTable:
    """Layer costs in order, with totals: ``params``, ``macs``, ``flops``, ``activations``, ``elementwise_ops``."""

    layers: tuple[LayerCost, ...]
    names: tuple[str, ...]

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def activations(self) -> int:
        return sum(layer.activations for layer in self.layers)

    @property
    def elementwise_ops(self) -> int:
        return sum(layer.elementwise_ops for layer in self.layers)

    def rows(self) -> list[dict[str, object]]:
        """One record per layer, plus the totals row, for plotting or a DataFrame."""
        records: list[dict[str, object]] = [
            {
                "name": name,
                "kind": layer.kind,
                "out_shape": layer.out_shape,
                "params": layer.params,
                "macs": layer.macs,
                "activations": layer.activations,
                "elementwise_ops": layer.elementwise_ops,
            }
            for name, layer in zip(self.names, self.layers)
        ]
        records.append(
            {
                "name": "total",
                "kind": "",
                "out_shape": self.layers[-1].out_shape,
                "params": self.params,
                "macs": self.macs,
                "activations": self.activations,
                "elementwise_ops": self.elementwise_ops,
            }
        )
        return records

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        header = ["layer", "kind", "output shape", "params", "MACs", "activations", "elementwise ops"]
        body = [
            [
                str(r["name"]),
                str(r["kind"]),
                "×".join(str(d) for d in r["out_shape"]),  # type: ignore[union-attr]
                f"{r['params']:,}",
                f"{r['macs']:,}",
                f"{r['activations']:,}",
                f"{r['elementwise_ops']:,}",
            ]
            for r in self.rows()
        ]
        return header, body

    def __str__(self) -> str:
        header, body = self._cells()
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

        def line(row: list[str]) -> str:
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

        rule = "-" * len(line(header))
        return "\n".join([line(header), rule, *(line(r) for r in body[:-1]), rule, line(body[-1])])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        header, body = self._cells()
        left = ' style="text-align:left;padding:0.25em 0.75em"'
        right = ' style="text-align:right;padding:0.25em 0.75em"'
        head = "".join(f"<th{right if i >= 3 else left}>{escape(h)}</th>" for i, h in enumerate(header))
        rows = []
        for j, row in enumerate(body):
            cells = "".join(f"<td{right if i >= 3 else left}>{escape(c)}</td>" for i, c in enumerate(row))
            style = ' style="font-weight:bold;border-top:2px solid"' if j == len(body) - 1 else ""
            rows.append(f"<tr{style}>{cells}</tr>")
        return f'<table class="nncost-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def table(layers: Sequence[LayerCost] | Iterable[LayerCost], names: Sequence[str] | None = None) -> CostTable:
    """Collect layer costs into a :class:`CostTable`; ``names`` default to ``layer1``, ``layer2``, …"""
    layers = tuple(layers)
    if not layers:
        raise ValueError("layers: need at least one LayerCost")
    for i, layer in enumerate(layers):
        if not isinstance(layer, LayerCost):
            raise TypeError(f"layers[{i}]: must be a LayerCost, got {type(layer).__name__}")
    if names is None:
        names = [f"layer{i + 1}" for i in range(len(layers))]
    if len(names) != len(layers):
        raise ValueError(f"names: need one name per layer ({len(layers)}), got {len(names)}")
    return CostTable(layers, tuple(str(n) for n in names))
