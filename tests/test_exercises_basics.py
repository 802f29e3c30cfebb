"""Exercise set 1 (Part I — Basics): every checker accepts the right answer, rejects a wrong one, handles a blank.

The right answers are derived here independently of the checkers: with PyTorch (``numel``, the shapes of
``nn.Linear``, ``FlopCounterMode``) where it can count, and by hand otherwise, with the arithmetic in a
comment. The numbers are the ones the tasks in ``book/exercises/ex1-basics.ipynb`` state.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nncost import exercises
from nncost.exercises import basics as ex

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------------

def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def macs(module: nn.Module, x: torch.Tensor) -> int:
    """FlopCounterMode counts 2 FLOPs per multiply-accumulate."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def torch_mlp(widths: tuple[int, ...], bias: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for c_in, c_out in pairwise(widths):
        layers += [nn.Linear(c_in, c_out, bias=bias), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def answers_1_1() -> dict[str, Any]:
    # "fires when w·x ≥ 1.5" is "fires when w·x − 1.5 ≥ 0": b = −1.5
    layer = nn.Linear(3, 1, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -1.0, 2.0]]))
        layer.bias.fill_(-1.5)
        z = layer(torch.tensor([2.0, 0.5, 0.75], dtype=torch.float64))
    y = torch.heaviside(z, torch.tensor(1.0, dtype=torch.float64))
    return {"b": -1.5, "z": z.item(), "y": y.item()}


def answers_1_2() -> dict[str, Any]:
    neuron = nn.Linear(3 * 16 * 16, 1)
    # one bias add and one sigmoid per patch: 32 + 32
    return {"params": numel(neuron), "macs": macs(neuron, torch.zeros(32, 3 * 16 * 16)), "elementwise": 64}


def answers_1_3() -> dict[str, Any]:
    model = torch_mlp((3, 16, 16, 16, 1))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return {"depth": len(linears), "hidden": len(linears) - 1, "neurons": sum(m.out_features for m in linears)}


def answers_1_4() -> dict[str, Any]:
    layer = nn.Linear(96, 384)
    x = torch.zeros(8, 49, 96)
    assert tuple(layer(x).shape) == (8, 49, 384)
    return {"weight": tuple(layer.weight.shape), "bias": tuple(layer.bias.shape), "params": numel(layer),
            "macs": macs(layer, x)}


def answers_1_5() -> dict[str, Any]:
    h = next(h for h in range(1, 100) if numel(torch_mlp((5, h, 2))) == 50)
    model = torch_mlp((5, h, 2))
    weights = sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))
    return {"h": h, "weights": weights, "macs": macs(model, torch.zeros(10, 5))}


def answers_1_8() -> dict[str, Any]:
    wide = macs(torch_mlp((784, 1000, 10)), torch.zeros(256, 784))
    deep = macs(torch_mlp((784, 300, 300, 300, 10)), torch.zeros(256, 784))
    return {"ratio": wide / deep, "saved": wide - deep}


def answers_1_9() -> dict[str, Any]:
    single = numel(nn.Linear(1024, 1024))
    # the pair has r·1025 + 1024·(r + 1) = 2049r + 1024 parameters: fewer than 1024·1025 while r < 511.75
    largest = (1024 * 1025 - 1024 - 1) // 2049
    assert numel(torch_mlp((1024, largest, 1024))) < single <= numel(torch_mlp((1024, largest + 1, 1024)))
    return {"largest_r": largest, "fraction": numel(torch_mlp((1024, 64, 1024))) / single}


def answers_1_10() -> dict[str, Any]:
    model = torch_mlp((3072, 1024, 256, 10))
    outputs: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.numel()))
             for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        model(torch.zeros(1, 3072))
    for hook in hooks:
        hook.remove()
    params, per_input = numel(model), sum(outputs)
    batch = params // per_input + 1  # the smallest n with n·per_input > params (it is never equal here)
    assert (batch - 1) * per_input < params < batch * per_input
    return {"params": params, "per_input": per_input, "batch": batch}


def answers_1_12() -> dict[str, Any]:
    # (2π/K)²/8 ≤ ε  ⇔  K ≥ 2π/√(8ε)
    k = math.ceil(2 * math.pi / math.sqrt(8 * 1e-4))
    finer = math.ceil(2 * math.pi / math.sqrt(8 * 1e-6))
    params = numel(torch_mlp((1, k, 1)))
    return {"k": k, "params": params, "ratio": numel(torch_mlp((1, finer, 1))) / params}


# (checker, exercise, its right answers, (one answer to get wrong, the wrong value), the hint's chapter)
VALUE_CHECKERS: list[tuple[Callable[..., exercises.Verdict], str, Callable[[], dict[str, Any]], tuple[str, Any], int]]
VALUE_CHECKERS = [
    (ex.check_threshold_neuron, "1.1", answers_1_1, ("b", 1.5), 1),
    (ex.check_neuron_cost, "1.2", answers_1_2, ("params", 768), 1),
    (ex.check_depth, "1.3", answers_1_3, ("depth", 5), 2),
    (ex.check_linear_shapes, "1.4", answers_1_4, ("weight", (96, 384)), 3),
    (ex.check_hidden_width, "1.5", answers_1_5, ("weights", 50), 3),
    (ex.check_wide_or_deep, "1.8", answers_1_8, ("saved", 375_800), 2),
    (ex.check_low_rank_pair, "1.9", answers_1_9, ("largest_r", 512), 2),
    (ex.check_activations_vs_params, "1.10", answers_1_10, ("batch", 2_644), 3),
    (ex.check_width_for_accuracy, "1.12", answers_1_12, ("k", 222), 2),
]
IDS = [case[1] for case in VALUE_CHECKERS]


def shown(value: Any) -> str:
    """How a verdict writes a value: thousands separators, tuples as tuples."""
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --------------------------------------------------------------------------------------------------
# Value checkers
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter"), VALUE_CHECKERS, ids=IDS)
def test_the_right_answer_is_correct(checker: Callable[..., exercises.Verdict], number: str,
                                     answers: Callable[[], dict[str, Any]], wrong: tuple[str, Any],
                                     chapter: int) -> None:
    verdict = checker(**answers())
    assert verdict and verdict.status == "correct", verdict.message
    assert verdict.message.startswith(f"✓ Exercise {number}: correct")


@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter"), VALUE_CHECKERS, ids=IDS)
def test_a_wrong_answer_shows_expected_got_and_the_chapter(checker: Callable[..., exercises.Verdict], number: str,
                                                           answers: Callable[[], dict[str, Any]],
                                                           wrong: tuple[str, Any], chapter: int) -> None:
    right = answers()
    name, value = wrong
    verdict = checker(**{**right, name: value})
    assert not verdict and verdict.status == "wrong"
    assert f"expected {shown(right[name])}, got {shown(value)}" in verdict.message, verdict.message
    assert f"Hint: Reread chapter {chapter} (" in verdict.message
    others = [line for line in verdict.message.splitlines() if line.strip().startswith("✓")]
    assert len(others) == len(right) - 1, "the other answers are still shown as right"


@pytest.mark.parametrize(("checker", "number", "answers", "wrong", "chapter"), VALUE_CHECKERS, ids=IDS)
def test_blanks_are_not_answered_yet(checker: Callable[..., exercises.Verdict], number: str,
                                     answers: Callable[[], dict[str, Any]], wrong: tuple[str, Any],
                                     chapter: int) -> None:
    blank = checker(**{name: ... for name in answers()})
    assert blank.status == "blank" and f"… Exercise {number}: not answered yet" in blank.message
    assert "Hint" not in blank.message
    assert checker().status == "blank", "calling the checker with nothing is a blank too"
    right = answers()
    name = next(iter(right))
    partial = checker(**{**right, name: ...})
    assert partial.status == "wrong" and f"… {name}: not answered yet" in partial.message


def test_estimates_are_accepted_within_the_stated_one_percent() -> None:
    right = answers_1_8()
    assert ex.check_wide_or_deep(ratio=right["ratio"] * 1.009, saved=right["saved"])
    assert ex.check_wide_or_deep(ratio=round(right["ratio"], 2), saved=right["saved"]), "1.9 is within 1 %"
    too_far = ex.check_wide_or_deep(ratio=right["ratio"] * 1.02, saved=right["saved"])
    assert too_far.status == "wrong" and "(within 1%)" in too_far.message
    assert not ex.check_wide_or_deep(ratio=right["ratio"], saved=right["saved"] + 1), "counts are exact"
    inverted = ex.check_wide_or_deep(ratio=1 / right["ratio"], saved=right["saved"])
    assert inverted.status == "wrong" and "expected 1.89861 (within 1%), got 0.526" in inverted.message
    fine = answers_1_12()
    assert ex.check_width_for_accuracy(k=fine["k"], params=fine["params"], ratio=10)  # 9.95 within 1 %
    assert ex.check_low_rank_pair(largest_r=511, fraction=0.126)


def test_the_wrong_kind_of_answer_is_named() -> None:
    verdict = ex.check_neuron_cost(params="769", macs=24_576, elementwise=64)
    assert verdict.status == "wrong" and "expected a number, got str '769'" in verdict.message
    shapes = ex.check_linear_shapes(**{**answers_1_4(), "bias": 384})
    assert shapes.status == "wrong" and "expected a sequence of 1 numbers" in shapes.message
    assert ex.check_linear_shapes(**{**answers_1_4(), "weight": [384, 96]}), "a list is a fine shape"
    assert ex.check_threshold_neuron(**{**answers_1_1(), "y": np.float64(1.0)}), "numpy numbers are numbers"


def test_the_notes_count_is_the_macs_per_input_not_the_parameters() -> None:
    # the notes' classic slip, in exercise 1.5: giving PyTorch's count where the weights are asked
    verdict = ex.check_hidden_width(h=6, weights=50, macs=420)
    assert verdict.status == "wrong" and "expected 42, got 50" in verdict.message


# --------------------------------------------------------------------------------------------------
# 1.6  sigmoid
# --------------------------------------------------------------------------------------------------

def stable_sigmoid(z: float) -> float:
    return torch.sigmoid(torch.tensor(z, dtype=torch.float64)).item()


def test_sigmoid_right() -> None:
    verdict = ex.check_sigmoid(stable_sigmoid)
    assert verdict and verdict.message == "✓ Exercise 1.6: correct — all 11 cases pass"

    def two_branches(z: float) -> float:
        if z >= 0:
            return 1 / (1 + math.exp(-z))
        return math.exp(z) / (1 + math.exp(z))

    assert ex.check_sigmoid(two_branches)

    def with_numpy(z: float) -> float:  # np.exp overflows to inf with a warning, and 1 / (1 + inf) is 0
        with np.errstate(over="ignore"):
            return float(1 / (1 + np.exp(-z)))

    assert ex.check_sigmoid(with_numpy)


def test_sigmoid_textbook_formula_overflows_and_is_caught() -> None:
    def textbook(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    verdict = ex.check_sigmoid(textbook)
    assert verdict.status == "wrong" and "2 of 11 cases fail" in verdict.message
    assert "textbook(-710) raised OverflowError: math range error" in verdict.message
    assert "Hint: Reread chapter 1 (From neuron to artificial neuron), section 'Activation functions'" in \
        verdict.message


def test_sigmoid_subtly_wrong_is_caught() -> None:
    def tanh_slip(z: float) -> float:  # σ(z) = (1 + tanh(z/2)) / 2; forgetting the /2 inside
        return 0.5 * (1 + math.tanh(z))

    verdict = ex.check_sigmoid(tanh_slip)
    assert verdict.status == "wrong"
    assert f"tanh_slip(1): expected {stable_sigmoid(1.0):.6g}, got {tanh_slip(1.0):.6g}" in verdict.message


def test_sigmoid_blank() -> None:
    def sigmoid(z: float) -> float:
        raise NotImplementedError("return σ(z)")

    for blank in (..., sigmoid):
        verdict = ex.check_sigmoid(blank)
        assert verdict.status == "blank" and "not answered yet" in verdict.message


# --------------------------------------------------------------------------------------------------
# 1.7  mlp_cost
# --------------------------------------------------------------------------------------------------

def torch_mlp_cost(in_shape: tuple[int, ...], widths: tuple[int, ...], bias: bool = True) -> tuple[int, int]:
    model = torch_mlp((in_shape[-1], *widths), bias=bias)
    return numel(model), macs(model, torch.zeros(in_shape))


def test_mlp_cost_right() -> None:
    verdict = ex.check_mlp_cost(torch_mlp_cost)
    assert verdict and verdict.message == "✓ Exercise 1.7: correct — all 8 cases pass"


def test_mlp_cost_first_dimension_as_batch_is_caught() -> None:
    def first_dim(in_shape: tuple[int, ...], widths: tuple[int, ...], bias: bool = True) -> tuple[int, int]:
        params, per_row = torch_mlp_cost((in_shape[-1],), widths, bias)
        rows = in_shape[0] if len(in_shape) > 1 else 1  # forgets the other leading dimensions
        return params, rows * per_row

    verdict = ex.check_mlp_cost(first_dim)
    assert verdict.status == "wrong" and "2 of 8 cases fail" in verdict.message
    # (2, 7, 5) through 5 → 3 → 2: 14 rows of 21 MACs = 294, not 2 rows = 42
    assert "first_dim((2, 7, 5), (3, 2), bias=True): expected (26, 294), got (26, 42)" in verdict.message
    assert "Hint: Reread chapter 3 (What an MLP computes), section 'Counting MACs and FLOPs'" in verdict.message


def test_mlp_cost_ignoring_bias_is_caught() -> None:
    def always_bias(in_shape: tuple[int, ...], widths: tuple[int, ...], bias: bool = True) -> tuple[int, int]:
        return torch_mlp_cost(in_shape, widths, True)

    verdict = ex.check_mlp_cost(always_bias)
    assert verdict.status == "wrong" and "3 of 8 cases fail" in verdict.message
    assert "always_bias((64, 5), (3, 2), bias=False): expected (21, 1,344), got (26, 1,344)" in verdict.message


def test_mlp_cost_blank() -> None:
    def mlp_cost(in_shape: tuple[int, ...], widths: tuple[int, ...], bias: bool = True) -> tuple[int, int]:
        raise NotImplementedError("return (params, macs)")

    assert ex.check_mlp_cost(mlp_cost).status == "blank"
    assert "not answered yet" in ex.check_mlp_cost(...).message


# --------------------------------------------------------------------------------------------------
# 1.11  mlp_forward
# --------------------------------------------------------------------------------------------------

def numpy_forward(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
    H = X
    for i, (W, b) in enumerate(zip(weights, biases)):
        H = H @ W.T + b
        if i < len(weights) - 1:
            H = np.maximum(H, 0)
    return H


def test_mlp_forward_right() -> None:
    verdict = ex.check_mlp_forward(numpy_forward)
    assert verdict and verdict.message == "✓ Exercise 1.11: correct — all 5 networks agree with torch"

    def as_lists(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> list[list[float]]:
        return numpy_forward(X, weights, biases).tolist()

    assert ex.check_mlp_forward(as_lists), "any array-like of the right shape will do"


def test_mlp_forward_cases_exercise_the_slips() -> None:
    # every case network has some negative outputs, so a ReLU after the last layer shows
    for widths, n in ex.FORWARD_CASES:
        x, weights, biases = ex.forward_case(widths, n)
        assert (numpy_forward(x, weights, biases) < 0).any(), widths
        assert np.allclose(ex.torch_forward(x, weights, biases), numpy_forward(x, weights, biases))


def test_mlp_forward_relu_on_the_output_is_caught() -> None:
    def relu_everywhere(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
        H = X
        for W, b in zip(weights, biases):
            H = np.maximum(H @ W.T + b, 0)
        return H

    verdict = ex.check_mlp_forward(relu_everywhere)
    assert verdict.status == "wrong" and "5 of 5 networks differ" in verdict.message
    assert "it equals torch's output passed through a ReLU" in verdict.message
    assert "Hint: Reread chapter 2 (The multilayer perceptron), section 'The forward pass, in math'" in \
        verdict.message


def test_mlp_forward_missing_transpose_is_caught() -> None:
    def no_transpose(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
        H = X
        for i, (W, b) in enumerate(zip(weights, biases)):
            H = H @ W + b
            if i < len(weights) - 1:
                H = np.maximum(H, 0)
        return H

    verdict = ex.check_mlp_forward(no_transpose)
    assert verdict.status == "wrong" and "5 of 5 networks differ" in verdict.message
    assert "5 → 3 → 2 network, X of shape (4, 5): raised ValueError: matmul" in verdict.message
    # square weights let H @ W run: the numbers give it away
    assert "4 → 4 → 4 network, X of shape (3, 4): differs from torch's output by up to" in verdict.message


def test_mlp_forward_missing_return_and_wrong_shape_are_named() -> None:
    def no_return(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        numpy_forward(X, weights, biases)

    assert "got None: did the function forget to `return`" in ex.check_mlp_forward(no_return).message

    def hidden_only(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
        return numpy_forward(X, weights[:1], biases[:1])

    verdict = ex.check_mlp_forward(hidden_only)
    assert verdict.status == "wrong" and "expected output shape (4, 2), got (4, 3)" in verdict.message
    assert ex.check_mlp_forward(42).status == "wrong"


def test_mlp_forward_blank() -> None:
    def mlp_forward(X: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError("return the output")

    for blank in (..., mlp_forward):
        verdict = ex.check_mlp_forward(blank)
        assert verdict.status == "blank" and "… Exercise 1.11: not answered yet" in verdict.message


# --------------------------------------------------------------------------------------------------
# The set as a whole
# --------------------------------------------------------------------------------------------------

def headings(chapter: int) -> set[str]:
    notebook = json.loads((ROOT / "book" / "01-basics" / ex.CHAPTERS[chapter][0]).read_text())
    found = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    found.add(line.lstrip("#").strip().replace("`", ""))
    return found


@pytest.mark.parametrize("exercise", sorted(ex.HINTS), ids=str)
def test_every_hint_names_a_real_section(exercise: str) -> None:
    chapter, section, _ = ex.HINTS[exercise]
    assert section in headings(chapter), f"chapter {chapter} has no section '{section}'"
    title = next(h for h in headings(chapter) if h.startswith(ex.CHAPTERS[chapter][1]))
    assert title, "the hint's chapter title is the notebook's title"


def test_the_source_notebook_covers_every_checker_and_chapter() -> None:
    notebook = json.loads((ROOT / "book" / "exercises" / "ex1-basics.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in notebook["cells"])
    checkers = {name for name in ex.__all__ if name.startswith("check_")}
    assert checkers == set(re.findall(r"ex\.(check_\w+)\(", text)), "one checker per exercise, all used"
    titles = re.findall(r"^## Exercise (1\.\d+) — .+ (★[★☆]{2})$", text, flags=re.MULTILINE)
    assert [number for number, _ in titles] == [f"1.{k}" for k in range(1, 13)]
    assert [stars.count("★") for _, stars in titles] == sorted(stars.count("★") for _, stars in titles)
    kinds = re.findall(r"^\*Kind: (compute by hand|implement|explain and estimate)\*$", text, flags=re.MULTILINE)
    assert len(kinds) == 12 and all(kinds.count(kind) >= 2 for kind in set(kinds)) and len(set(kinds)) == 3
    for chapter in ex.CHAPTERS.values():
        assert f"../01-basics/{chapter[0]}" in text
    assert set(ex.HINTS) == {number for number, _ in titles}


def test_scoreboard_counts_this_set() -> None:
    for checker, _, answers, _, _ in VALUE_CHECKERS:
        checker(**answers())
    ex.check_sigmoid(...)
    board = exercises.scoreboard("1.")
    numbers = [v.exercise for v in board.verdicts]
    assert {"1.1", "1.6", "1.10", "1.12"} <= set(numbers)
    assert numbers == sorted(numbers, key=lambda n: int(n.split(".")[1]))
    assert "1.6" in repr(board).splitlines()[-1]
