"""Output sizes of sliding-window layers and the receptive field of a stack of them.

One spatial dimension of a convolution or pooling layer with input size ``h``, kernel ``k``,
stride ``s``, padding ``p`` (on each side) and dilation ``d`` has output size

    h_o = floor((h + 2p - d(k - 1) - 1) / s) + 1

(``ceil`` instead of ``floor`` for pooling with ``ceil_mode=True``, as torch computes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nncost._checks import as_bool, as_int, as_tuple


def output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    *,
    ceil_mode: bool = False,
    padding_right: int | None = None,
) -> int:
    """Output length of one spatial dimension: ``floor((h + 2p - d(k-1) - 1)/s) + 1``.

    ``padding`` is added on both sides unless ``padding_right`` gives the right side separately
    (torch's asymmetric ``'same'`` padding). With ``ceil_mode`` the division rounds up, and a last
    window that would start inside the right padding is dropped, exactly as torch's pooling does.
    Raises ``ValueError`` naming ``kernel_size`` when the dilated kernel does not fit the padded input.
    """
    size = as_int("size", size)
    kernel_size = as_int("kernel_size", kernel_size)
    stride = as_int("stride", stride)
    padding = as_int("padding", padding, minimum=0)
    dilation = as_int("dilation", dilation)
    ceil_mode = as_bool("ceil_mode", ceil_mode)
    right = padding if padding_right is None else as_int("padding_right", padding_right, minimum=0)

    padded = size + padding + right
    span = dilation * (kernel_size - 1) + 1  # the dilated kernel's extent
    steps = padded - span
    out = (steps + (stride - 1 if ceil_mode else 0)) // stride + 1  # // is floor, also for negatives
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # torch: the last window must start inside the input or the left padding
    if out < 1:
        raise ValueError(
            f"kernel_size: the kernel spans {span} elements (dilation {dilation} x (kernel_size "
            f"{kernel_size} - 1) + 1) but the padded input has only {padded} ({size} + {padding} + {right})"
        )
    return out


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """Left and right padding of torch's ``padding='same'``: total ``d(k-1)``, the extra one on the right."""
    kernel_size = as_int("kernel_size", kernel_size)
    dilation = as_int("dilation", dilation)
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field after one layer of a stack, per spatial dimension.

    ``size``: how many input positions one output position sees;
    ``jump``: the distance, in input positions, between neighbouring output positions.
    """

    size: tuple[int, ...]
    jump: tuple[int, ...]


def receptive_field(layers: Sequence[Any]) -> list[ReceptiveField]:
    """Receptive field after each layer of a stack, from the input towards the output.

    Each layer is a ``LayerCost`` of a convolution or pooling, or a tuple ``(kernel, stride)`` or
    ``(kernel, stride, dilation)`` whose entries are ints or per-dimension tuples. Recurrence, per
    dimension, starting from ``r = 1, j = 1``::

        r <- r + d(k - 1) * j        j <- j * s
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise ValueError("layers: must be a non-empty sequence of layers or (kernel, stride[, dilation]) tuples")
    specs = [_window_of(i, layer) for i, layer in enumerate(layers)]
    dims = max(len(k) for k, _, _ in specs)
    size, jump = [1] * dims, [1] * dims
    steps = []
    for i, (kernel, stride, dilation) in enumerate(specs):
        kernel, stride, dilation = (_broadcast(f"layers[{i}]", v, dims) for v in (kernel, stride, dilation))
        for axis in range(dims):
            size[axis] += dilation[axis] * (kernel[axis] - 1) * jump[axis]
            jump[axis] *= stride[axis]
        steps.append(ReceptiveField(tuple(size), tuple(jump)))
    return steps


def _window_of(index: int, layer: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(kernel, stride, dilation) of one layer, each a tuple of ints."""
    name = f"layers[{index}]"
    window = getattr(layer, "window", None)
    if window is not None:  # a LayerCost of a convolution or pooling
        return window
    if hasattr(layer, "out_shape"):
        raise ValueError(f"{name}: a {layer.kind} layer has no sliding window (use conv or pooling layers)")
    if isinstance(layer, (str, bytes)) or not isinstance(layer, Sequence) or len(layer) not in (2, 3):
        raise ValueError(
            f"{name}: must be a conv/pool LayerCost or a tuple (kernel, stride[, dilation]), got {layer!r}"
        )
    kernel, stride, *rest = layer
    dilation = rest[0] if rest else 1
    k = _as_dims(f"{name} kernel", kernel)
    s = _as_dims(f"{name} stride", stride)
    d = _as_dims(f"{name} dilation", dilation)
    return k, s, d


def _as_dims(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return as_tuple(name, value, len(value))
    return (as_int(name, value),)


def _broadcast(name: str, value: tuple[int, ...], dims: int) -> tuple[int, ...]:
    if len(value) == dims:
        return value
    if len(value) == 1:
        return value * dims
    raise ValueError(f"{name}: has {len(value)} spatial dimensions but other layers have {dims}")
