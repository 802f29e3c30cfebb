"""Checkers for exercise set 1, Part I — Basics (chapters 1–3: neurons, the MLP, what an MLP computes).

Every expected answer is derived here from the exercise's parameters (the module constants below) with
``nncost``: :func:`nncost.linear`, :func:`nncost.mlp`, :func:`nncost.activation` and the activation
functions of :data:`nncost.figures.ACTIVATIONS`; the forward pass of exercise 1.11 is checked against
PyTorch's ``nn.Sequential``. No answer is stored.

    from nncost.exercises import basics as ex
    ex.check_neuron_cost(params=769, macs=24_576, elementwise=64)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import count, pairwise
from typing import Any

import numpy as np

import nncost
from nncost.exercises._core import (
    Case,
    Verdict,
    _record,
    check_answers,
    check_function,
    check_values,
    is_blank,
    reread,
)

# --------------------------------------------------------------------------------------------------
# Where each exercise sends a student who got it wrong: (chapter, section heading, what to look for).
# tests/test_exercises_basics.py checks that every section heading exists in the chapter's notebook.
# --------------------------------------------------------------------------------------------------

CHAPTERS: dict[int, tuple[str, str]] = {
    1: ("01-neurons.ipynb", "From neuron to artificial neuron"),
    2: ("02-mlp.ipynb", "The multilayer perceptron"),
    3: ("03-mlp-computation.ipynb", "What an MLP computes"),
}

HINTS: dict[str, tuple[int, str, str]] = {
    "1.1": (1, "The idea: weigh, add, fire", "the bias is minus the firing threshold, b = −θ"),
    "1.2": (1, "How many parameters does a neuron have?",
            "n inputs give n + 1 parameters and n MACs per input; the bias add and the sigmoid are one "
            "elementwise operation each, per input"),
    "1.3": (2, "The idea: layers of neurons",
            "the depth counts the layers with weights (not the input); the hidden layers are those between "
            "input and output"),
    "1.4": (3, "Checking the shapes against nn.Linear",
            "W has shape (c_o, c_i); the leading dimensions of the input act like the batch"),
    "1.5": (3, "Counting parameters", "a layer c_i → c_o has c_o·c_i weights and c_o biases"),
    "1.6": (1, "Activation functions",
            "for z < 0 compute σ(z) = e^z / (1 + e^z), so that math.exp never sees a large positive number"),
    "1.7": (3, "Counting MACs and FLOPs",
            "MACs = (product of the leading dimensions) × Σ c_l·c_(l−1); params = Σ c_l·c_(l−1) (+ Σ c_l)"),
    "1.8": (2, "Width versus depth", "an MLP spends one MAC per weight per input"),
    "1.9": (2, "Why the activation matters",
            "each of the two layers has a weight matrix and a bias; compare their sum with one 1024 → 1024 layer"),
    "1.10": (3, "Parameters are paid once, MACs for every input",
             "the activations of one input are the widths of the linear layers' outputs, added up"),
    "1.11": (2, "The forward pass, in math",
             "H = relu(X W₁ᵀ + b₁), ..., Y = H W_Lᵀ + b_L: transpose each W, and no ReLU after the last layer"),
    "1.12": (2, "How much can one hidden layer do?",
             "the error is at most h²/8 · max|sin''| for knots h = 2π/K apart; count the parameters of "
             "both layers of 1 → K → 1, biases included"),
}


def hint(exercise: str) -> str:
    """The hint shown with a wrong answer: the chapter and section to reread, and what to look for."""
    chapter, section, advice = HINTS[exercise]
    return reread(chapter, CHAPTERS[chapter][1], section, advice=advice)


def _check_answers(exercise: str, got: Mapping[str, Any], expected: Mapping[str, tuple[Any, float]]) -> Verdict:
    """Named answers with a tolerance each (``{name: (expected, rel_tol)}``), with this set's hint."""
    return check_answers(exercise, got, lambda: expected, hint=hint(exercise))


def _params(layers: Sequence[nncost.LayerCost]) -> int:
    return sum(layer.params for layer in layers)


def _macs(layers: Sequence[nncost.LayerCost]) -> int:
    return sum(layer.macs for layer in layers)


def _weights(layers: Sequence[nncost.LayerCost]) -> int:
    return sum(math.prod(layer.weight_shape or ()) for layer in layers)


# --------------------------------------------------------------------------------------------------
# 1.1  From a threshold to a bias (chapter 1)
# --------------------------------------------------------------------------------------------------

#: The step neuron fires when 0.5·x1 − 1·x2 + 2·x3 ≥ 1.5; it is evaluated at x = (2, 0.5, 0.75).
THRESHOLD_WEIGHTS = (0.5, -1.0, 2.0)
THRESHOLD = 1.5
THRESHOLD_INPUT = (2.0, 0.5, 0.75)


def check_threshold_neuron(b: Any = ..., z: Any = ..., y: Any = ...) -> Verdict:
    """Exercise 1.1: the bias b = −θ, then z = w·x + b and y = step(z) with nncost's step function."""
    from nncost.figures import ACTIVATIONS

    bias = -THRESHOLD
    pre = float(np.dot(THRESHOLD_WEIGHTS, THRESHOLD_INPUT) + bias)
    out = float(ACTIVATIONS["step"](np.array(pre)))
    return check_values("1.1", {"b": b, "z": z, "y": y}, {"b": bias, "z": pre, "y": out}, hint=hint("1.1"))


# --------------------------------------------------------------------------------------------------
# 1.2  What one neuron costs (chapter 1)
# --------------------------------------------------------------------------------------------------

#: A sigmoid neuron reads a 16×16 RGB patch, flattened; a batch of 32 patches.
PATCH_SHAPE = (3, 16, 16)
PATCH_BATCH = 32


def check_neuron_cost(params: Any = ..., macs: Any = ..., elementwise: Any = ...) -> Verdict:
    """Exercise 1.2: nncost.linear((batch, 3·16·16), 1) plus nncost.activation(..., "sigmoid")."""
    neuron = nncost.linear((PATCH_BATCH, math.prod(PATCH_SHAPE)), 1)
    sigmoid = nncost.activation(neuron.out_shape, "sigmoid")
    expected = {"params": neuron.params, "macs": neuron.macs,
                "elementwise": neuron.elementwise_ops + sigmoid.elementwise_ops}
    return check_values("1.2", {"params": params, "macs": macs, "elementwise": elementwise}, expected,
                        hint=hint("1.2"))


# --------------------------------------------------------------------------------------------------
# 1.3  Is it deep? (chapter 2)
# --------------------------------------------------------------------------------------------------

#: The MLP 3 → 16 → 16 → 16 → 1.
DEEP_WIDTHS = (3, 16, 16, 16, 1)


def check_depth(depth: Any = ..., hidden: Any = ..., neurons: Any = ...) -> Verdict:
    """Exercise 1.3: the layers of nncost.mlp: their number, less the output layer, and their output widths."""
    layers = nncost.mlp((DEEP_WIDTHS[0],), DEEP_WIDTHS[1:])
    expected = {"depth": len(layers), "hidden": len(layers) - 1,
                "neurons": sum(layer.out_shape[-1] for layer in layers)}
    return check_values("1.3", {"depth": depth, "hidden": hidden, "neurons": neurons}, expected,
                        hint=hint("1.3"))


# --------------------------------------------------------------------------------------------------
# 1.4  Reading a layer off its shapes (chapter 3)
# --------------------------------------------------------------------------------------------------

#: A linear layer maps (8, 49, 96) to (8, 49, 384).
SHAPES_IN = (8, 49, 96)
SHAPES_OUT = (8, 49, 384)


def check_linear_shapes(weight: Any = ..., bias: Any = ..., params: Any = ..., macs: Any = ...) -> Verdict:
    """Exercise 1.4: nncost.linear(in_shape, out_shape[-1]): weight and bias shapes, parameters, MACs."""
    layer = nncost.linear(SHAPES_IN, SHAPES_OUT[-1])
    assert layer.out_shape == SHAPES_OUT, "the exercise's shapes are inconsistent"
    expected = {"weight": layer.weight_shape, "bias": layer.bias_shape, "params": layer.params, "macs": layer.macs}
    got = {"weight": weight, "bias": bias, "params": params, "macs": macs}
    return check_values("1.4", got, expected, hint=hint("1.4"))


# --------------------------------------------------------------------------------------------------
# 1.5  The notes' count, run backwards (chapter 3)
# --------------------------------------------------------------------------------------------------

#: nn.Sequential(nn.Linear(5, h), nn.ReLU(), nn.Linear(h, 2)) has 50 parameters; MACs for a batch of 10.
REVERSE_IN, REVERSE_OUT, REVERSE_PARAMS, REVERSE_BATCH = 5, 2, 50, 10


def check_hidden_width(h: Any = ..., weights: Any = ..., macs: Any = ...) -> Verdict:
    """Exercise 1.5: the width h whose nncost.mlp has 50 parameters, its weights only, its MACs for the batch."""
    width = next(w for w in count(1) if _params(nncost.mlp((REVERSE_IN,), (w, REVERSE_OUT))) >= REVERSE_PARAMS)
    layers = nncost.mlp((REVERSE_BATCH, REVERSE_IN), (width, REVERSE_OUT))
    assert _params(layers) == REVERSE_PARAMS, "no width gives exactly this many parameters"
    expected = {"h": width, "weights": _weights(layers), "macs": _macs(layers)}
    return check_values("1.5", {"h": h, "weights": weights, "macs": macs}, expected, hint=hint("1.5"))


# --------------------------------------------------------------------------------------------------
# 1.6  A sigmoid that never overflows (chapter 1)
# --------------------------------------------------------------------------------------------------

#: The inputs the student's sigmoid is called on (math.exp overflows above about 709.78).
SIGMOID_INPUTS = (0.0, 1.0, -2.5, 20.0, -20.0, 100.0, -100.0, 710.0, -710.0, 1000.0, -1000.0)
SIGMOID_TOLERANCE = 1e-9


def check_sigmoid(function: Callable[[float], float] | Any) -> Verdict:
    """Exercise 1.6: the student's sigmoid against nncost.figures.ACTIVATIONS["sigmoid"], to a relative 1e-9."""
    from nncost.figures import ACTIVATIONS

    with np.errstate(over="ignore"):  # numpy's exp(1000) is inf, and 1 / (1 + inf) the correct 0
        cases: list[Case] = [((z,), {}, float(ACTIVATIONS["sigmoid"](np.float64(z)))) for z in SIGMOID_INPUTS]
    return check_function("1.6", function, cases, hint=hint("1.6"), rel_tol=SIGMOID_TOLERANCE)


# --------------------------------------------------------------------------------------------------
# 1.7  An MLP's bill, as a function (chapter 3)
# --------------------------------------------------------------------------------------------------

#: (in_shape, widths, bias) cases for mlp_cost; the leading dimensions of in_shape act like the batch.
MLP_COST_CASES: tuple[tuple[tuple[int, ...], tuple[int, ...], bool], ...] = (
    ((5,), (3, 2), True),
    ((4, 5), (3, 2), True),
    ((64, 5), (3, 2), False),
    ((2, 7, 5), (3, 2), True),
    ((100, 784), (512, 512, 10), True),
    ((1, 784), (256, 10), False),
    ((3, 4, 6), (8,), False),
    ((1,), (1,), True),
)


def check_mlp_cost(function: Callable[..., tuple[int, int]] | Any) -> Verdict:
    """Exercise 1.7: mlp_cost(in_shape, widths, bias) against the parameters and MACs of nncost.mlp."""
    cases: list[Case] = []
    for in_shape, widths, bias in MLP_COST_CASES:
        layers = nncost.mlp(in_shape, widths, bias=bias)
        cases.append(((in_shape, widths), {"bias": bias}, (_params(layers), _macs(layers))))
    return check_function("1.7", function, cases, hint=hint("1.7"))


# --------------------------------------------------------------------------------------------------
# 1.8  Wide or deep: which is cheaper, and by how much? (chapter 2)
# --------------------------------------------------------------------------------------------------

WIDE = (784, 1000, 10)
DEEP = (784, 300, 300, 300, 10)
DESIGN_BATCH = 256
RATIO_TOLERANCE = 0.01


def check_wide_or_deep(ratio: Any = ..., saved: Any = ...) -> Verdict:
    """Exercise 1.8: MACs of nncost.mlp for both designs: their ratio (within 1 %), the MACs saved per batch."""
    wide = _macs(nncost.mlp((DESIGN_BATCH, WIDE[0]), WIDE[1:]))
    deep = _macs(nncost.mlp((DESIGN_BATCH, DEEP[0]), DEEP[1:]))
    return _check_answers("1.8", {"ratio": ratio, "saved": saved},
                          {"ratio": (wide / deep, RATIO_TOLERANCE), "saved": (abs(wide - deep), 0.0)})


# --------------------------------------------------------------------------------------------------
# 1.9  Two linear layers with nothing between them (chapter 2)
# --------------------------------------------------------------------------------------------------

PAIR_WIDTH = 1024
PAIR_RANK = 64


def check_low_rank_pair(largest_r: Any = ..., fraction: Any = ...) -> Verdict:
    """Exercise 1.9: the largest r with params(1024 → r → 1024) < params(1024 → 1024), and the ratio at r = 64."""
    single = nncost.linear((PAIR_WIDTH,), PAIR_WIDTH).params

    def pair(r: int) -> int:
        return _params(nncost.mlp((PAIR_WIDTH,), (r, PAIR_WIDTH)))

    largest = max(r for r in range(1, PAIR_WIDTH + 1) if pair(r) < single)
    return _check_answers("1.9", {"largest_r": largest_r, "fraction": fraction},
                          {"largest_r": (largest, 0.0), "fraction": (pair(PAIR_RANK) / single, RATIO_TOLERANCE)})


# --------------------------------------------------------------------------------------------------
# 1.10  When the activations outgrow the parameters (chapter 3)
# --------------------------------------------------------------------------------------------------

#: The MLP 3072 → 1024 → 256 → 10 (a flattened 32×32 RGB image in, 10 classes out).
GROW_WIDTHS = (3072, 1024, 256, 10)


def check_activations_vs_params(params: Any = ..., per_input: Any = ..., batch: Any = ...) -> Verdict:
    """Exercise 1.10: nncost.mlp's parameters, its activations for n = 1, and the smallest n whose exceed them."""
    def activations(n: int) -> int:
        return sum(layer.activations for layer in nncost.mlp((n, GROW_WIDTHS[0]), GROW_WIDTHS[1:]))

    total = _params(nncost.mlp((GROW_WIDTHS[0],), GROW_WIDTHS[1:]))
    one = activations(1)
    smallest = total // one + 1  # the first n with n·one > total ...
    assert activations(smallest) > total >= activations(smallest - 1)  # ... as nncost's own counts confirm
    expected = {"params": total, "per_input": one, "batch": smallest}
    return check_values("1.10", {"params": params, "per_input": per_input, "batch": batch}, expected,
                        hint=hint("1.10"))


# --------------------------------------------------------------------------------------------------
# 1.11  A forward pass from scratch (chapter 2)
# --------------------------------------------------------------------------------------------------

#: (widths, batch n) of the networks the student's mlp_forward runs; the weights are drawn from a seeded rng.
FORWARD_CASES: tuple[tuple[tuple[int, ...], int], ...] = (
    ((5, 3, 2), 4),
    ((3, 2), 2),
    ((4, 4, 4), 3),  # square weights: a missing transpose gives wrong numbers, not a shape error
    ((1, 8, 1), 5),
    ((6, 5, 4, 3, 2), 1),
)
FORWARD_SEED = 1


def forward_case(widths: Sequence[int], n: int, seed: int = FORWARD_SEED) -> tuple[Any, list[Any], list[Any]]:
    """The input X (n, c_0) and the weights W_l (c_l, c_(l−1)) and biases b_l (c_l,) of one test network."""
    rng = np.random.default_rng([seed, *widths, n])
    x = rng.standard_normal((n, widths[0]))
    weights = [rng.standard_normal((c, c_prev)) for c_prev, c in pairwise(widths)]
    biases = [rng.standard_normal(c) for c in widths[1:]]
    return x, weights, biases


def torch_forward(x: Any, weights: Sequence[Any], biases: Sequence[Any]) -> Any:
    """What PyTorch computes: nn.Linear layers holding the given weights, nn.ReLU between them (float64)."""
    import torch
    from torch import nn

    layers: list[nn.Module] = []
    for w, b in zip(weights, biases):
        linear = nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def check_mlp_forward(function: Callable[..., Any] | Any) -> Verdict:
    """Exercise 1.11: the student's mlp_forward against nn.Sequential on seeded random networks."""
    if is_blank(function):
        return _record(Verdict("1.11", "blank", "write the function"))
    if not callable(function):
        return _record(Verdict("1.11", "wrong", f"expected a function, got {type(function).__name__}", hint("1.11")))
    failures: list[str] = []
    for widths, n in FORWARD_CASES:
        x, weights, biases = forward_case(widths, n)
        want = torch_forward(x, weights, biases)
        label = f"{' → '.join(map(str, widths))} network, X of shape {x.shape}"
        try:
            got = function(x.copy(), [w.copy() for w in weights], [b.copy() for b in biases])
        except NotImplementedError:
            return _record(Verdict("1.11", "blank", "the function still raises NotImplementedError"))
        except Exception as error:  # the student's code may fail in any way: report it, do not crash
            failures.append(f"{label}: raised {type(error).__name__}: {error}")
            continue
        if got is None:
            failures.append(f"{label}: got None: did the function forget to `return` the output?")
            continue
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError) as error:
            failures.append(f"{label}: the output is not an array of numbers ({error})")
            continue
        if got.shape != want.shape:
            failures.append(f"{label}: expected output shape {want.shape}, got {got.shape}")
        elif not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            gap = float(np.max(np.abs(got - want)))
            note = ""
            if np.allclose(got, np.maximum(want, 0.0), rtol=1e-9, atol=1e-12):
                note = " (it equals torch's output passed through a ReLU: the output layer has no activation)"
            failures.append(f"{label}: differs from torch's output by up to {gap:.3g}{note}")
    if not failures:
        return _record(Verdict("1.11", "correct", f"all {len(FORWARD_CASES)} networks agree with torch"))
    shown = tuple(failures[:3]) + ((f"... and {len(failures) - 3} more",) if len(failures) > 3 else ())
    return _record(Verdict("1.11", "wrong", f"{len(failures)} of {len(FORWARD_CASES)} networks differ", hint("1.11"),
                           shown))


# --------------------------------------------------------------------------------------------------
# 1.12  How wide for an error of 1e-4? (chapter 2)
# --------------------------------------------------------------------------------------------------

#: sin on [0, 2π], approximated by the 1 → K → 1 ReLU interpolant of chapter 2; error bound (2π/K)²/8.
FIT_LENGTH = 2 * math.pi
FIT_ERROR = 1e-4
FIT_FINER_ERROR = 1e-6


def _smallest_width(error: float) -> int:
    """The smallest K whose bound h²/8 · max|sin''| (h = 2π/K, max|sin''| = 1) is at most ``error``."""
    return next(k for k in count(1) if (FIT_LENGTH / k) ** 2 / 8 <= error)


def check_width_for_accuracy(k: Any = ..., params: Any = ..., ratio: Any = ...) -> Verdict:
    """Exercise 1.12: the smallest K for 1e-4 by the bound, params of nncost.mlp((1,), (K, 1)), the 1e-6 ratio."""
    width, finer = _smallest_width(FIT_ERROR), _smallest_width(FIT_FINER_ERROR)
    cost = _params(nncost.mlp((1,), (width, 1)))
    finer_cost = _params(nncost.mlp((1,), (finer, 1)))
    return _check_answers("1.12", {"k": k, "params": params, "ratio": ratio},
                          {"k": (width, 0.0), "params": (cost, 0.0), "ratio": (finer_cost / cost, RATIO_TOLERANCE)})


__all__ = [
    "CHAPTERS",
    "HINTS",
    "check_activations_vs_params",
    "check_depth",
    "check_hidden_width",
    "check_linear_shapes",
    "check_low_rank_pair",
    "check_mlp_cost",
    "check_mlp_forward",
    "check_neuron_cost",
    "check_sigmoid",
    "check_threshold_neuron",
    "check_wide_or_deep",
    "check_width_for_accuracy",
    "forward_case",
    "hint",
    "torch_forward",
]
