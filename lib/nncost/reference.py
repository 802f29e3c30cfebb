"""Reference implementations, written to be read rather than to be fast.

Convolution and pooling as explicit loops over NumPy arrays: every output element is computed
by visiting its window one input element at a time. The chapters and tests check that they equal
torch's ``conv1d``, ``conv2d``, ``max_pool2d`` and ``avg_pool2d``. Shapes come from
:mod:`nncost.layers`, so a bad argument raises the same ``ValueError`` as there.
"""

from __future__ import annotations

import numpy as np

from nncost._checks import IntOrTuple
from nncost.layers import conv2d as conv2d_cost
from nncost.layers import pool2d as pool2d_cost
from nncost.shapes import same_padding


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D convolution (torch's cross-correlation) of ``x`` (n, c_i, h, w) with ``weight`` (c_o, c_i/g, k_h, k_w).

    y[b, o, i, j] = bias[o] + Σ_c Σ_u Σ_v x_pad[b, g·c_i/g + c, i·s_h + u·d_h, j·s_w + v·d_w] · weight[o, c, u, v]
    where g is the group of output channel o.
    """
    x, weight = np.asarray(x), np.asarray(weight)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"x, weight: need 4-D arrays, got x.ndim={x.ndim}, weight.ndim={weight.ndim}")
    c_out, c_in_per_group, k_h, k_w = weight.shape
    if x.shape[1] != c_in_per_group * groups:
        raise ValueError(f"weight: expects {c_in_per_group * groups} input channels (c_i/g × g), x has {x.shape[1]}")
    cost = conv2d_cost(x.shape, c_out, (k_h, k_w), stride, padding, dilation, groups, bias=bias is not None)
    _, (s_h, s_w), (d_h, d_w) = cost.window
    (top, bottom), (left, right) = _pads(padding, (k_h, k_w), (d_h, d_w))
    x_pad = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))  # zero padding

    n, _, h_out, w_out = cost.out_shape
    c_out_per_group = c_out // groups
    y = np.zeros(cost.out_shape, dtype=np.result_type(x, weight))
    for b in range(n):
        for o in range(c_out):
            first_in = (o // c_out_per_group) * c_in_per_group  # this output channel's group of inputs
            for i in range(h_out):
                for j in range(w_out):
                    acc = 0.0
                    for c in range(c_in_per_group):
                        for u in range(k_h):
                            for v in range(k_w):
                                acc += x_pad[b, first_in + c, i * s_h + u * d_h, j * s_w + v * d_w] * weight[o, c, u, v]
                    y[b, o, i, j] = acc + (bias[o] if bias is not None else 0.0)
    return y


def conv1d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
    groups: int = 1,
) -> np.ndarray:
    """1-D convolution of ``x`` (n, c_i, w) with ``weight`` (c_o, c_i/g, k): a 2-D convolution of height 1.

    y[b, o, j] = bias[o] + Σ_c Σ_v x_pad[b, c, j·s + v·d] · weight[o, c, v]
    """
    x, weight = np.asarray(x), np.asarray(weight)
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"x, weight: need 3-D arrays, got x.ndim={x.ndim}, weight.ndim={weight.ndim}")
    padding_2d = padding if isinstance(padding, str) else (0, padding)
    y = conv2d(x[:, :, None, :], weight[:, :, None, :], bias, (1, stride), padding_2d, (1, dilation), groups)
    return y[:, :, 0, :]


def max_pool2d(
    x: np.ndarray, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1, ceil_mode: bool = False,
) -> np.ndarray:
    """Max pooling of ``x`` (n, c, h, w): each output is the largest value in its window (padding is −∞)."""
    x = np.asarray(x)
    cost = pool2d_cost(x.shape, kernel_size, stride, padding, dilation, kind="max", ceil_mode=ceil_mode)
    (k_h, k_w), (s_h, s_w), (d_h, d_w) = cost.window
    p_h, p_w = _pair(padding)
    n, c, h_out, w_out = cost.out_shape
    h, w = x.shape[2:]
    y = np.empty(cost.out_shape, dtype=x.dtype)
    for b in range(n):
        for ch in range(c):
            for i in range(h_out):
                for j in range(w_out):
                    best = -np.inf
                    for u in range(k_h):
                        for v in range(k_w):
                            r, q = i * s_h - p_h + u * d_h, j * s_w - p_w + v * d_w
                            if 0 <= r < h and 0 <= q < w:  # positions in the padding never win
                                best = max(best, x[b, ch, r, q])
                    y[b, ch, i, j] = best
    return y


def avg_pool2d(
    x: np.ndarray, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
    ceil_mode: bool = False, count_include_pad: bool = True,
) -> np.ndarray:
    """Average pooling of ``x`` (n, c, h, w), dividing as torch does.

    The sum runs over the window's positions inside the input. The divisor is the window's size
    clipped to the padded input when ``count_include_pad`` (zeros of the padding count), else the
    number of input positions in the window.
    """
    x = np.asarray(x)
    cost = pool2d_cost(x.shape, kernel_size, stride, padding, kind="avg", ceil_mode=ceil_mode)
    (k_h, k_w), (s_h, s_w), _ = cost.window
    p_h, p_w = _pair(padding)
    n, c, h_out, w_out = cost.out_shape
    h, w = x.shape[2:]
    y = np.empty(cost.out_shape, dtype=np.result_type(x, np.float32))
    for i in range(h_out):
        for j in range(w_out):
            top, left = i * s_h - p_h, j * s_w - p_w
            bottom, right = min(top + k_h, h + p_h), min(left + k_w, w + p_w)  # clipped to the padded input
            padded_area = (bottom - top) * (right - left)
            rows = range(max(top, 0), min(bottom, h))
            cols = range(max(left, 0), min(right, w))
            divisor = padded_area if count_include_pad else len(rows) * len(cols)
            for b in range(n):
                for ch in range(c):
                    total = 0.0
                    for r in rows:
                        for q in cols:
                            total += x[b, ch, r, q]
                    y[b, ch, i, j] = total / divisor
    return y


def _pair(value: IntOrTuple) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _pads(padding: IntOrTuple | str, kernel: tuple[int, int], dilation: tuple[int, int]) -> list[tuple[int, int]]:
    """(before, after) zero padding per spatial dimension, as torch applies it."""
    if padding == "valid":
        return [(0, 0), (0, 0)]
    if padding == "same":
        return [same_padding(k, d) for k, d in zip(kernel, dilation)]
    p_h, p_w = _pair(padding)  # type: ignore[arg-type]
    return [(p_h, p_h), (p_w, p_w)]
