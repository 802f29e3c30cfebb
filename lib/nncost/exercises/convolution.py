"""Checkers for the exercises of Part II, Convolution (chapters 4–8): ``book/exercises/ex2-convolution.ipynb``.

Every checker derives its expected answer with ``nncost`` from the exercise's parameters, the module
constants below (layer formulas, :func:`nncost.output_size`, :func:`nncost.receptive_field`,
:func:`nncost.same_padding` and the loops of :mod:`nncost.reference`), never from a stored answer.

    from nncost.exercises import convolution as ex
    ex.check_conv1d_by_hand([5, -6, 7, 0, -11])

Implementation checkers that compare arrays (exercises 2.11 and 2.13) call the student's function on seeded
random inputs through a small wrapper, so that a verdict names the shapes of a failing case and how far its
values are off instead of printing whole arrays (``_core.check_function`` prints arguments and results with
``repr``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nncost import reference
from nncost.exercises._core import Case, Verdict, check_function, check_value, check_values, is_blank, reread
from nncost.layers import conv1d, conv2d, linear, pool2d
from nncost.shapes import output_size, receptive_field, same_padding

# Each exercise's chapter and section: hints name them, and tests check that the headings exist.
CHAPTERS: dict[int, tuple[str, str]] = {
    4: ("A CNN's computation", "02-convolution/04-cnn-computation.ipynb"),
    5: ("A 2-D CNN's computation", "02-convolution/05-conv2d-computation.ipynb"),
    6: ("Padding", "02-convolution/06-padding.ipynb"),
    7: ("Stride", "02-convolution/07-stride.ipynb"),
    8: ("Pooling", "02-convolution/08-pooling.ipynb"),
}
SECTIONS: dict[str, tuple[int, str]] = {
    "2.1": (4, "The idea: one kernel, slid along the input"),
    "2.2": (4, "Parameters and MACs"),
    "2.3": (7, "The output size"),
    "2.4": (5, "Parameters and MACs"),
    "2.5": (8, "What pooling costs"),
    "2.6": (4, "Weight sharing: a convolution is a dense layer with most weights tied or zero"),
    "2.7": (5, "Parameters and MACs"),
    "2.8": (5, "The receptive field"),
    "2.9": (6, '"Same" with an even kernel: one extra zero on the right'),
    "2.10": (7, "When the floor matters: rows that are never read"),
    "2.11": (8, "By hand"),
    "2.12": (7, "What stride saves, measured"),
    "2.13": (5, "The computation, in general"),
    "2.14": (5, "The receptive field"),
}
# Exercises whose hint also sends the reader to a second section.
ALSO: dict[str, tuple[int, str]] = {
    "2.9": (5, "The receptive field"),
    "2.12": (8, "What pooling saves, measured"),
    "2.13": (6, "Output size with padding"),
    "2.14": (8, "Output size, and `ceil_mode`"),
}


def hint(exercise: str) -> str:
    """The hint shown with a wrong answer: the chapter and section(s) to reread."""
    chapter, section = SECTIONS[exercise]
    also = ALSO.get(exercise)
    second = (also[0], CHAPTERS[also[0]][0], also[1]) if also else None
    return reread(chapter, CHAPTERS[chapter][0], section, also=second)


# --- Exercise 2.1: a 1-D convolution by hand -----------------------------------------------------------------
BY_HAND_INPUT: tuple[int, ...] = (3, 1, 4, 1, 5, 9, 2)
BY_HAND_KERNEL: tuple[int, ...] = (1, -2, 1)


def check_conv1d_by_hand(y: Any) -> Verdict:
    """2.1: the output of the kernel BY_HAND_KERNEL slid over BY_HAND_INPUT, from nncost.reference.conv1d."""
    x = np.array(BY_HAND_INPUT, dtype=float).reshape(1, 1, -1)
    w = np.array(BY_HAND_KERNEL, dtype=float).reshape(1, 1, -1)
    expected = [int(v) for v in reference.conv1d(x, w)[0, 0]]
    return _check_sequence("2.1", y, expected)


def _check_sequence(exercise: str, got: Any, expected: list[int]) -> Verdict:
    """A list of numbers; a NumPy array or a tensor counts as one (flattened)."""
    if hasattr(got, "tolist") and not isinstance(got, list | tuple):
        got = np.ravel(got.tolist()).tolist()
    return check_value(exercise, got, expected, hint=hint(exercise))


# --- Exercise 2.2: the costs of a 1-D convolution ------------------------------------------------------------
CONV1D_INPUT: tuple[int, int, int] = (4, 12, 200)  # (n, c_i, w_i)
CONV1D_OUT_CHANNELS = 24
CONV1D_KERNEL = 9


def _conv1d_layer(in_shape: Sequence[int] = CONV1D_INPUT) -> Any:
    return conv1d(in_shape, CONV1D_OUT_CHANNELS, CONV1D_KERNEL)


def check_conv1d_costs(out_shape: Any, params: Any, macs: Any) -> Verdict:
    """2.2: output shape, parameters and MACs of nn.Conv1d(12, 24, 9) on (4, 12, 200), from nncost.conv1d."""
    layer = _conv1d_layer()
    expected = {"out_shape": layer.out_shape, "params": layer.params, "macs": layer.macs}
    return check_values("2.2", {"out_shape": out_shape, "params": params, "macs": macs}, expected,
                        hint=hint("2.2"))


# --- Exercise 2.3: the output size ---------------------------------------------------------------------------
# (h, k, p, s, d): stride dividing and not, padding, dilation, a kernel as large as the input.
OUTPUT_SIZE_CASES: tuple[tuple[int, int, int, int, int], ...] = (
    (7, 3, 0, 1, 1), (7, 3, 0, 2, 1), (10, 3, 0, 2, 1), (224, 7, 3, 2, 1), (8, 3, 1, 3, 1),
    (15, 3, 0, 1, 2), (16, 3, 2, 2, 2), (5, 5, 0, 1, 1), (1, 1, 0, 1, 1), (13, 5, 1, 4, 3),
)


def check_conv_output_size(function: Callable[..., Any]) -> Verdict:
    """2.3: ``conv_output_size(h, k, p, s, d)`` on OUTPUT_SIZE_CASES, against nncost.output_size."""
    cases: list[Case] = [
        ((h, k), {"p": p, "s": s, "d": d}, output_size(h, k, stride=s, padding=p, dilation=d))
        for h, k, p, s, d in OUTPUT_SIZE_CASES
    ]
    return check_function("2.3", function, cases, hint=hint("2.3"))


# --- Exercise 2.4: a 2-D layer by hand -----------------------------------------------------------------------
CONV2D_INPUT: tuple[int, int, int, int] = (2, 3, 64, 48)  # (n, c_i, h, w)
CONV2D_OUT_CHANNELS = 16
CONV2D_KERNEL = 5


def check_conv2d_costs(out_shape: Any, params: Any, macs: Any) -> Verdict:
    """2.4: output shape, parameters and MACs of nn.Conv2d(3, 16, 5) on (2, 3, 64, 48), from nncost.conv2d."""
    layer = conv2d(CONV2D_INPUT, CONV2D_OUT_CHANNELS, CONV2D_KERNEL)
    expected = {"out_shape": layer.out_shape, "params": layer.params, "macs": layer.macs}
    return check_values("2.4", {"out_shape": out_shape, "params": params, "macs": macs}, expected,
                        hint=hint("2.4"))


# --- Exercise 2.5: what a pooling layer costs ---------------------------------------------------------------
POOL_INPUT: tuple[int, int, int, int] = (1, 32, 17, 17)
POOL_KERNEL, POOL_STRIDE = 3, 2


def check_pool_costs(h_o: Any, params: Any, macs: Any, elementwise: Any) -> Verdict:
    """2.5: nn.AvgPool2d(3, stride=2) on (1, 32, 17, 17): output size, params, MACs, elementwise (nncost.pool2d)."""
    layer = pool2d(POOL_INPUT, POOL_KERNEL, POOL_STRIDE, kind="avg")
    expected = {"h_o": layer.out_shape[-2], "params": layer.params, "macs": layer.macs,
                "elementwise": layer.elementwise_ops}
    got = {"h_o": h_o, "params": params, "macs": macs, "elementwise": elementwise}
    return check_values("2.5", got, expected, hint=hint("2.5"))


# --- Exercise 2.6: what weight sharing saves -----------------------------------------------------------------
def check_weight_sharing(params_ratio: Any, macs_ratio: Any) -> Verdict:
    """2.6: a dense layer over one flattened example of 2.2 against the convolution, within 1 % (nncost.linear)."""
    conv = _conv1d_layer((1, *CONV1D_INPUT[1:]))
    c_i, w_i = CONV1D_INPUT[1:]
    dense = linear((1, c_i * w_i), math.prod(conv.out_shape[1:]))
    expected = {"params_ratio": dense.params / conv.params, "macs_ratio": dense.macs / conv.macs}
    return check_values("2.6", {"params_ratio": params_ratio, "macs_ratio": macs_ratio}, expected,
                        hint=hint("2.6"), rel_tol=0.01)


# --- Exercise 2.7: a convolution's MACs ----------------------------------------------------------------------
# (in_shape, c_o, k, s, p): batches, non-square inputs, stride not dividing, padding, a 1×1 kernel.
CONV2D_MACS_CASES: tuple[tuple[tuple[int, int, int, int], int, int, int, int], ...] = (
    ((1, 3, 32, 32), 16, 3, 1, 0),
    ((1, 3, 224, 224), 64, 7, 2, 3),
    ((8, 64, 56, 56), 64, 3, 1, 1),
    ((1, 256, 14, 14), 512, 3, 2, 1),
    ((4, 512, 7, 7), 128, 1, 1, 0),
    ((2, 16, 17, 23), 32, 5, 3, 2),
    ((3, 8, 10, 9), 4, 3, 2, 0),
)


def check_conv2d_macs(function: Callable[..., Any]) -> Verdict:
    """2.7: ``conv2d_macs(in_shape, out_channels, kernel_size, stride, padding)`` against nncost.conv2d(...).macs."""
    cases: list[Case] = [
        ((shape, c_o, k), {"stride": s, "padding": p}, conv2d(shape, c_o, k, stride=s, padding=p).macs)
        for shape, c_o, k, s, p in CONV2D_MACS_CASES
    ]
    return check_function("2.7", function, cases, hint=hint("2.7"))


# --- Exercise 2.8: the receptive field -----------------------------------------------------------------------
# Stacks of (kernel, stride, dilation): stride 1, strides (where the jump matters), dilation, 1×1 kernels.
RECEPTIVE_FIELD_CASES: tuple[tuple[tuple[int, int, int], ...], ...] = (
    ((3, 1, 1),),
    ((3, 1, 1),) * 3,
    ((7, 2, 1), (3, 2, 1)),
    ((2, 2, 1),) * 3,
    ((3, 1, 2), (3, 1, 4)),
    ((1, 2, 1), (3, 1, 1)),
    ((5, 1, 1), (2, 2, 1), (3, 1, 1), (3, 2, 2), (3, 1, 1)),
)


def check_receptive_field(function: Callable[..., Any]) -> Verdict:
    """2.8: ``receptive_field(layers)`` on RECEPTIVE_FIELD_CASES, against nncost.receptive_field."""
    cases: list[Case] = [
        ((list(stack),), {}, receptive_field(list(stack))[-1].size[0]) for stack in RECEPTIVE_FIELD_CASES
    ]
    return check_function("2.8", function, cases, hint=hint("2.8"))


# --- Exercise 2.9: why kernel sizes are odd ------------------------------------------------------------------
EVEN_KERNEL = 4
EVEN_STACK = 6  # layers, each k×k with stride 1 and padding='same'


def check_even_kernel_shift(patch: Any, shift: Any) -> Verdict:
    """2.9: the patch one output of EVEN_STACK 'same' 4×4 layers sees, and its centre's offset (same_padding)."""
    left, _ = same_padding(EVEN_KERNEL)
    offset = (EVEN_KERNEL - 1) / 2 - left  # the window spans offsets -left ... -left + k - 1 around its output
    expected = {
        "patch": receptive_field([(EVEN_KERNEL, 1)] * EVEN_STACK)[-1].size[0],
        "shift": EVEN_STACK * offset,
    }
    return check_values("2.9", {"patch": patch, "shift": shift}, expected, hint=hint("2.9"))


# --- Exercise 2.10: rows a strided layer never reads ----------------------------------------------------------
GAPS_SIZE, GAPS_KERNEL, GAPS_STRIDE = 21, 2, 3


def rows_read(size: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1) -> set[int]:
    """The input rows that at least one window of a convolution reads (rows in the padding left out)."""
    outputs = output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)
    taps = {i * stride - padding + u * dilation for i in range(outputs) for u in range(kernel)}
    return {row for row in taps if 0 <= row < size}


def check_unread_rows(h_o: Any, unread: Any) -> Verdict:
    """2.10: output rows and never-read input rows of a kernel-2, stride-3 convolution on 21 rows (output_size)."""
    expected = {
        "h_o": output_size(GAPS_SIZE, GAPS_KERNEL, stride=GAPS_STRIDE),
        "unread": GAPS_SIZE - len(rows_read(GAPS_SIZE, GAPS_KERNEL, GAPS_STRIDE)),
    }
    return check_values("2.10", {"h_o": h_o, "unread": unread}, expected, hint=hint("2.10"))


# --- Arrays: cases and answers that print as shapes, not as whole arrays --------------------------------------
@dataclass(frozen=True)
class ArrayCase:
    """Named input arrays of one case; prints as ``x (1, 3, 7, 7), weight (2, 3, 3, 3)``."""

    names: tuple[str, ...]
    arrays: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        return ", ".join(f"{name} {tuple(array.shape)}" for name, array in zip(self.names, self.arrays))


@dataclass(frozen=True, eq=False)
class ArrayAnswer:
    """What a student's function returned, compared with the expected array (within 1e-5, relative)."""

    value: Any
    expected: np.ndarray

    def matches(self) -> bool:
        got = _as_array(self.value)
        return (got is not None and got.shape == self.expected.shape
                and bool(np.allclose(got, self.expected, rtol=1e-5, atol=1e-6)))

    def __repr__(self) -> str:
        got = _as_array(self.value)
        if got is None:
            return f"{type(self.value).__name__} {self.value!r:.60}"
        if got.shape != self.expected.shape:
            return f"an array of shape {tuple(got.shape)}"
        error = np.abs(got - self.expected)
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
        return (f"values off by up to {float(error[where]):.3g} (at index {where}: "
                f"{float(got[where]):.4g} instead of {float(self.expected[where]):.4g})")


@dataclass(frozen=True, eq=False)
class ExpectedArray:
    """The expected array of one case; equal to an :class:`ArrayAnswer` that matches it."""

    value: np.ndarray
    source: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArrayAnswer) and other.matches()

    def __repr__(self) -> str:
        return f"an array of shape {tuple(self.value.shape)} (what {self.source} gives)"


def _as_array(value: Any) -> np.ndarray | None:
    if value is None or is_blank(value):
        return None
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.ndim else None


def _check_arrays(exercise: str, function: Callable[..., Any], cases: Sequence[tuple[ArrayCase, dict[str, Any]]],
                  expect: Callable[..., np.ndarray], source: str) -> Verdict:
    """Call ``function(*case.arrays, **kwargs)`` per case and compare with ``expect(*case.arrays, **kwargs)``."""
    if is_blank(function) or not callable(function):
        return check_function(exercise, function, [], hint=hint(exercise))

    expected = {id(case): expect(*case.arrays, **kwargs) for case, kwargs in cases}

    def run(case: ArrayCase, **kwargs: Any) -> ArrayAnswer | None:
        got = function(*case.arrays, **kwargs)
        return None if got is None else ArrayAnswer(got, expected[id(case)])  # None: the core names the slip

    run.__name__ = getattr(function, "__name__", "function")
    checks: list[Case] = [((case,), kwargs, ExpectedArray(expected[id(case)], source)) for case, kwargs in cases]
    return check_function(exercise, run, checks, hint=hint(exercise))


def _rng(exercise: str) -> np.random.Generator:
    """A generator seeded per exercise, so every run checks the same random inputs."""
    return np.random.default_rng([2, int(exercise.split(".")[1])])


# --- Exercise 2.11: max pooling by loops ---------------------------------------------------------------------
# (input shape, kernel, stride, padding): floor dropping a row, overlapping windows, padding, all-negative inputs.
MAX_POOL_CASES: tuple[tuple[tuple[int, int, int, int], int, int, int, bool], ...] = (
    ((1, 1, 4, 4), 2, 2, 0, False),
    ((2, 3, 7, 7), 2, 2, 0, False),
    ((1, 2, 5, 6), 3, 1, 0, False),
    ((1, 4, 8, 8), 3, 2, 1, True),
    ((2, 2, 9, 7), 3, 3, 1, True),
)


def max_pool_cases() -> list[tuple[ArrayCase, dict[str, Any]]]:
    """Seeded random inputs for 2.11; the ``True`` ones are all negative, so a zero padding would win."""
    rng = _rng("2.11")
    cases = []
    for shape, k, s, p, negative in MAX_POOL_CASES:
        x = rng.standard_normal(shape)
        x = -np.abs(x) - 0.1 if negative else x
        cases.append((ArrayCase(("x",), (x,)), {"kernel_size": k, "stride": s, "padding": p}))
    return cases


def check_max_pool2d(function: Callable[..., Any]) -> Verdict:
    """2.11: ``max_pool2d_loops(x, kernel_size, stride, padding)`` against nncost.reference.max_pool2d."""
    def expect(x: np.ndarray, kernel_size: int, stride: int, padding: int) -> np.ndarray:
        return reference.max_pool2d(x, kernel_size, stride, padding)

    return _check_arrays("2.11", function, max_pool_cases(), expect, "nncost.reference.max_pool2d")


# --- Exercise 2.12: what a stride and a pooling really save --------------------------------------------------
SAVE_INPUT: tuple[int, int, int, int] = (1, 32, 30, 30)  # the block: 3×3 32→64 (stride s), 3×3 64→64, p = 1
SAVE_STRIDE = 4
POOL_SAVE_INPUT: tuple[int, int, int, int] = (1, 64, 45, 45)  # a 2×2 max pool, then a 3×3 64→64 conv, p = 1


def _block_macs(stride: int) -> int:
    first = conv2d(SAVE_INPUT, 64, 3, stride=stride, padding=1)
    return first.macs + conv2d(first.out_shape, 64, 3, padding=1).macs


def _after_pool_macs(ceil_mode: bool | None) -> int:
    shape = POOL_SAVE_INPUT if ceil_mode is None else pool2d(POOL_SAVE_INPUT, 2, ceil_mode=ceil_mode).out_shape
    return conv2d(shape, 64, 3, padding=1).macs


def check_savings(stride_saving: Any, pool_saving: Any, pool_ceil_saving: Any) -> Verdict:
    """2.12: MACs ratios of a stride-4 block and of a conv after a 2×2 pool on 45×45, within 1 % (nncost)."""
    expected = {
        "stride_saving": _block_macs(1) / _block_macs(SAVE_STRIDE),
        "pool_saving": _after_pool_macs(None) / _after_pool_macs(False),
        "pool_ceil_saving": _after_pool_macs(None) / _after_pool_macs(True),
    }
    got = {"stride_saving": stride_saving, "pool_saving": pool_saving, "pool_ceil_saving": pool_ceil_saving}
    return check_values("2.12", got, expected, hint=hint("2.12"), rel_tol=0.01)


# --- Exercise 2.13: a 2-D convolution by loops ---------------------------------------------------------------
# (x shape, weight shape, stride, padding): one channel, several, stride 2 with padding, a rectangular kernel,
# a stride that does not divide.
CONV_LOOP_CASES: tuple[tuple[tuple[int, int, int, int], tuple[int, int, int, int], int, int], ...] = (
    ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),
    ((1, 3, 7, 7), (2, 3, 3, 3), 2, 1),
    ((1, 2, 6, 9), (3, 2, 1, 3), 1, 0),
    ((1, 1, 8, 8), (2, 1, 3, 3), 3, 0),
    ((2, 2, 9, 8), (3, 2, 5, 5), 2, 2),
)


def conv_loop_cases() -> list[tuple[ArrayCase, dict[str, Any]]]:
    """Seeded random inputs, weights and biases for 2.13."""
    rng = _rng("2.13")
    cases = []
    for x_shape, w_shape, s, p in CONV_LOOP_CASES:
        arrays = (rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0]))
        cases.append((ArrayCase(("x", "weight", "bias"), arrays), {"stride": s, "padding": p}))
    return cases


def check_conv2d_loops(function: Callable[..., Any]) -> Verdict:
    """2.13: ``conv2d_loops(x, weight, bias, stride, padding)`` against nncost.reference.conv2d."""
    def expect(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int, padding: int) -> np.ndarray:
        return reference.conv2d(x, weight, bias, stride=stride, padding=padding)

    return _check_arrays("2.13", function, conv_loop_cases(), expect, "nncost.reference.conv2d")


# --- Exercise 2.14: the receptive field of a VGG-like stack --------------------------------------------------
VGG_STACK: tuple[tuple[int, int], ...] = (
    (3, 1), (3, 1), (2, 2),  # block 1: two 3×3 convolutions, a 2×2 max pool with stride 2
    (3, 1), (3, 1), (2, 2),  # block 2
    (3, 1), (3, 1), (3, 1),  # block 3: three 3×3 convolutions
)


def check_vgg_field(field: Any, jump: Any, plain_layers: Any) -> Verdict:
    """2.14: field and jump after VGG_STACK, and the stride-1 3×3 layers needed for that field (receptive_field)."""
    last = receptive_field(list(VGG_STACK))[-1]
    plain = next(n for n in range(1, 1000) if receptive_field([(3, 1)] * n)[-1].size[0] >= last.size[0])
    expected = {"field": last.size[0], "jump": last.jump[0], "plain_layers": plain}
    return check_values("2.14", {"field": field, "jump": jump, "plain_layers": plain_layers}, expected,
                        hint=hint("2.14"))
