"""Closed-form costs of single layers: shapes, parameters, MACs and elementwise operations.

Conventions (the book's, and ``torch.utils.flop_counter.FlopCounterMode``'s):

- one MAC is one multiply-accumulate; ``flops = 2 * macs``;
- ``macs`` counts only the multiply-accumulates of convolutions and matrix products;
- bias adds, normalisation, activations and pooling are *elementwise* operations, reported
  separately in ``elementwise`` and never folded into ``macs``;
- ``activations`` is the number of elements the layer outputs.

Shapes follow torch: ``(n, c, w)`` for 1-D and ``(n, c, h, w)`` for 2-D layers, or the same without
``n`` (an unbatched input, which torch accepts too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Any

from nncost._checks import IntOrTuple, as_bool, as_int, as_shape, as_tuple
from nncost.shapes import output_size, same_padding


@dataclass(frozen=True)
class LayerCost:
    """What one layer costs for one input shape.

    ``window`` is ``(kernel, stride, dilation)`` per spatial dimension for sliding-window layers
    (used by :func:`nncost.receptive_field`) and ``None`` otherwise.
    """

    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    macs: int
    elementwise: dict[str, int] = field(default_factory=dict)
    weight_shape: tuple[int, ...] | None = None
    bias_shape: tuple[int, ...] | None = None
    buffers: int = 0
    window: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None

    @property
    def flops(self) -> int:
        """Floating-point operations of the MACs: ``2 * macs``."""
        return 2 * self.macs

    @property
    def activations(self) -> int:
        """Elements of the output tensor: ``prod(out_shape)``."""
        return prod(self.out_shape)

    @property
    def elementwise_ops(self) -> int:
        """All elementwise operations (bias adds, normalisation, comparisons, ...) added up."""
        return sum(self.elementwise.values())

    def __repr__(self) -> str:
        extra = f", elementwise={self.elementwise}" if self.elementwise else ""
        return (
            f"LayerCost({self.kind}: {self.in_shape} -> {self.out_shape}, params={self.params:,}, "
            f"macs={self.macs:,}, flops={self.flops:,}, activations={self.activations:,}{extra})"
        )


def linear(in_shape: Sequence[int], out_features: int, *, bias: bool = True) -> LayerCost:
    """``nn.Linear(c_i, c_o)`` on an input ``(*, c_i)`` with any number of leading dimensions.

    Y = X Wᵀ + b with W of shape (c_o, c_i) and b of shape (c_o,):
    params = c_o·c_i (+ c_o), macs = m·c_o·c_i where m = prod(leading dims), bias adds = m·c_o.
    """
    shape = as_shape("in_shape", in_shape, range(1, 33), "(*, in_features)")
    out_features = as_int("out_features", out_features)
    bias = as_bool("bias", bias)
    in_features, rows = shape[-1], prod(shape[:-1])
    out_shape = (*shape[:-1], out_features)
    return LayerCost(
        kind="linear",
        in_shape=shape,
        out_shape=out_shape,
        params=out_features * in_features + (out_features if bias else 0),
        macs=rows * out_features * in_features,
        elementwise={"bias_add": rows * out_features} if bias else {},
        weight_shape=(out_features, in_features),
        bias_shape=(out_features,) if bias else None,
    )


def conv1d(
    in_shape: Sequence[int],
    out_channels: int,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    bias: bool = True,
) -> LayerCost:
    """``nn.Conv1d`` on an input ``(n, c_i, w)`` or ``(c_i, w)``.

    w_o = ⌊(w + 2p − d(k−1) − 1)/s⌋ + 1; params = c_o·(c_i/g)·k (+ c_o);
    macs = n·c_o·w_o·(c_i/g)·k; bias adds = n·c_o·w_o.
    """
    return _conv("conv1d", 1, in_shape, out_channels, kernel_size, stride, padding, dilation, groups, bias)


def conv2d(
    in_shape: Sequence[int],
    out_channels: int,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    bias: bool = True,
) -> LayerCost:
    """``nn.Conv2d`` on an input ``(n, c_i, h, w)`` or ``(c_i, h, w)``.

    h_o = ⌊(h + 2p − d(k_h−1) − 1)/s⌋ + 1 (and likewise w_o); params = c_o·(c_i/g)·k_h·k_w (+ c_o);
    macs = n·c_o·h_o·w_o·(c_i/g)·k_h·k_w; bias adds = n·c_o·h_o·w_o.
    ``padding`` is an int, a tuple, ``'valid'`` (no padding) or ``'same'`` (stride 1 only, as in torch).
    """
    return _conv("conv2d", 2, in_shape, out_channels, kernel_size, stride, padding, dilation, groups, bias)


def _conv(
    kind: str,
    dims: int,
    in_shape: Sequence[int],
    out_channels: int,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    bias: Any,
) -> LayerCost:
    layout = "(n, c, w)" if dims == 1 else "(n, c, h, w)"
    shape = as_shape("in_shape", in_shape, (dims + 1, dims + 2), f"{layout} or without n")
    out_channels = as_int("out_channels", out_channels)
    kernel = as_tuple("kernel_size", kernel_size, dims)
    stride = as_tuple("stride", stride, dims, broadcast_one=True)
    dilation = as_tuple("dilation", dilation, dims, broadcast_one=True)
    groups = as_int("groups", groups)
    bias = as_bool("bias", bias)

    batch = shape[:-dims - 1]  # () for an unbatched input
    in_channels, spatial = shape[-dims - 1], shape[-dims:]
    if in_channels % groups:
        raise ValueError(f"groups: must divide in_channels, but {in_channels} % {groups} = {in_channels % groups}")
    if out_channels % groups:
        raise ValueError(f"groups: must divide out_channels, but {out_channels} % {groups} = {out_channels % groups}")

    pads = _resolve_padding(padding, dims, kernel, stride, dilation)
    out_spatial = tuple(
        output_size(size, k, s, left, d, padding_right=right)
        for size, k, s, (left, right), d in zip(spatial, kernel, stride, pads, dilation)
    )
    out_shape = (*batch, out_channels, *out_spatial)
    per_output = (in_channels // groups) * prod(kernel)  # MACs for one output element
    outputs = prod(out_shape)
    return LayerCost(
        kind=kind,
        in_shape=shape,
        out_shape=out_shape,
        params=out_channels * per_output + (out_channels if bias else 0),
        macs=outputs * per_output,
        elementwise={"bias_add": outputs} if bias else {},
        weight_shape=(out_channels, in_channels // groups, *kernel),
        bias_shape=(out_channels,) if bias else None,
        window=(kernel, stride, dilation),
    )


def _resolve_padding(
    padding: Any, dims: int, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> list[tuple[int, int]]:
    """(left, right) padding per spatial dimension, from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * dims
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"padding: 'same' needs stride 1 in every dimension (torch refuses it), got stride {stride}"
                )
            return [same_padding(k, d) for k, d in zip(kernel, dilation)]
        raise ValueError(f"padding: a string must be 'same' or 'valid', got {padding!r}")
    return [(p, p) for p in as_tuple("padding", padding, dims, minimum=0, broadcast_one=True)]


def pool2d(
    in_shape: Sequence[int],
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    *,
    kind: str = "max",
    ceil_mode: bool = False,
) -> LayerCost:
    """``nn.MaxPool2d`` (``kind='max'``) or ``nn.AvgPool2d`` (``kind='avg'``) on ``(n, c, h, w)`` or ``(c, h, w)``.

    Output size as for convolution (``ceil`` with ``ceil_mode``); ``stride`` defaults to the kernel.
    No parameters and no MACs. Per output element a max pool makes k_h·k_w − 1 comparisons;
    an average pool makes k_h·k_w − 1 additions and one division.
    """
    if kind not in ("max", "avg"):
        raise ValueError(f"kind: must be 'max' or 'avg', got {kind!r}")
    shape = as_shape("in_shape", in_shape, (3, 4), "(n, c, h, w) or (c, h, w)")
    kernel = as_tuple("kernel_size", kernel_size, 2, broadcast_one=True)
    stride = kernel if stride is None else as_tuple("stride", stride, 2, broadcast_one=True)
    pads = as_tuple("padding", padding, 2, minimum=0, broadcast_one=True)
    dilation = as_tuple("dilation", dilation, 2, broadcast_one=True)
    ceil_mode = as_bool("ceil_mode", ceil_mode)
    if kind == "avg" and dilation != (1, 1):
        raise ValueError(f"dilation: average pooling has none in torch (AvgPool2d), got {dilation}")
    for p, k in zip(pads, kernel):
        if p > k // 2:
            raise ValueError(
                f"padding: must be at most half the kernel size (torch's rule), got padding {pads} for kernel {kernel}"
            )

    out_spatial = tuple(
        output_size(size, k, s, p, d, ceil_mode=ceil_mode)
        for size, k, s, p, d in zip(shape[-2:], kernel, stride, pads, dilation)
    )
    out_shape = (*shape[:-2], *out_spatial)
    outputs, window = prod(out_shape), prod(kernel)
    if kind == "max":
        elementwise = {"comparisons": outputs * (window - 1)}
    else:
        elementwise = {"adds": outputs * (window - 1), "divisions": outputs}
    return LayerCost(
        kind=f"{kind}pool2d",
        in_shape=shape,
        out_shape=out_shape,
        params=0,
        macs=0,
        elementwise=elementwise,
        window=(kernel, stride, dilation),
    )


def batchnorm2d(
    in_shape: Sequence[int], *, affine: bool = True, track_running_stats: bool = True
) -> LayerCost:
    """``nn.BatchNorm2d(c)`` on ``(n, c, h, w)``, costed as at inference.

    params = 2c (γ, β) when ``affine``; buffers = 2c + 1 (running mean, running var and the batch
    counter) when ``track_running_stats``. At inference y = (x − μ)/√(σ² + ε)·γ + β folds into one
    multiply and one add per element: elementwise = {scale: n·c·h·w, shift: n·c·h·w}; no MACs.
    Without running statistics the layer always normalises with the batch's own statistics, so, like
    torch, it refuses an input with a single value per channel (n·h·w = 1).
    """
    shape = as_shape("in_shape", in_shape, (4,), "(n, c, h, w)")
    affine = as_bool("affine", affine)
    track_running_stats = as_bool("track_running_stats", track_running_stats)
    channels, elements = shape[1], prod(shape)
    if not track_running_stats and elements == channels:
        raise ValueError(
            f"in_shape: with track_running_stats=False the batch statistics need more than one value per "
            f"channel (torch refuses it), got {shape}"
        )
    return LayerCost(
        kind="batchnorm2d",
        in_shape=shape,
        out_shape=shape,
        params=2 * channels if affine else 0,
        macs=0,
        elementwise={"scale": elements, "shift": elements},
        buffers=2 * channels + 1 if track_running_stats else 0,
    )


def activation(in_shape: Sequence[int], name: str = "relu") -> LayerCost:
    """An elementwise activation function (``relu``, ``sigmoid``, ``tanh``, ...): same shape out,
    no parameters, no MACs, one elementwise operation per element (counted under ``name``)."""
    shape = as_shape("in_shape", in_shape, range(1, 33), "(any shape)")
    if not isinstance(name, str) or not name:
        raise TypeError(f"name: must be a non-empty string, got {name!r}")
    return LayerCost(kind=name, in_shape=shape, out_shape=shape, params=0, macs=0, elementwise={name: prod(shape)})


def mlp(in_shape: Sequence[int], widths: Sequence[int], *, bias: bool = True) -> list[LayerCost]:
    """The linear layers of a multilayer perceptron ``c_0 → c_1 → … → c_L`` on an input ``(*, c_0)``.

    params = Σ_l c_l·c_(l−1) (+ Σ_l c_l with biases); macs = m·Σ_l c_l·c_(l−1).
    Activation functions between the layers are elementwise and not included.
    """
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or not widths:
        raise ValueError(f"widths: must be a non-empty sequence of layer widths, got {widths!r}")
    layers, shape = [], in_shape
    for i, width in enumerate(widths):
        layer = linear(shape, as_int(f"widths[{i}]", width), bias=bias)
        layers.append(layer)
        shape = layer.out_shape
    return layers
