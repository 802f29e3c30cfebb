"""Argument checks shared by the layer formulas.

Every check raises ``TypeError`` for a value of the wrong type and ``ValueError`` for a value that
breaks a rule, and every message starts with the argument's name, e.g.
``stride: must be >= 1, got 0``.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

IntOrTuple = int | Sequence[int]


def as_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` that is at least ``minimum``.

    Accepts Python and NumPy integers; refuses bools (``True`` is not a size), floats and strings.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name}: must be an int, got the bool {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: must be an int, got {type(value).__name__} {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {number}")
    return number


def as_tuple(
    name: str, value: Any, length: int, *, minimum: int = 1, broadcast_one: bool = False
) -> tuple[int, ...]:
    """Return ``value`` as a tuple of ``length`` ints, broadcasting a single int like torch does.

    With ``broadcast_one`` a 1-element sequence is broadcast too, as torch does for a convolution's
    stride, padding and dilation and for every pooling argument (but not for a convolution's kernel).
    """
    if isinstance(value, str):
        raise TypeError(f"{name}: must be an int or a tuple of {length} ints, got the string {value!r}")
    if isinstance(value, Sequence):
        if broadcast_one and len(value) == 1:
            return (as_int(f"{name}[0]", value[0], minimum=minimum),) * length
        if len(value) != length:
            raise ValueError(f"{name}: must have {length} element(s), got {len(value)}: {tuple(value)!r}")
        return tuple(as_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    return (as_int(name, value, minimum=minimum),) * length


def as_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (or NumPy bool); anything else is a ``TypeError``."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise TypeError(f"{name}: must be a bool, got {type(value).__name__} {value!r}")


def as_shape(name: str, shape: Any, ranks: Sequence[int], layout: str) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of positive ints whose rank is one of ``ranks``.

    ``layout`` names the dimensions for the error message, e.g. ``"(n, c, h, w)"``.
    """
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise TypeError(f"{name}: must be a tuple of ints {layout}, got {type(shape).__name__} {shape!r}")
    if len(shape) not in ranks:
        allowed = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"{name}: must have rank {allowed} {layout}, got rank {len(shape)}: {tuple(shape)!r}"
        )
    return tuple(as_int(f"{name}[{i}]", v) for i, v in enumerate(shape))
