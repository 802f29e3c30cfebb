"""The checkers of exercise set 3 (Part III, CNN architectures): each accepts the right answer, derived here
independently (with torch's ``numel`` and ``FlopCounterMode`` where possible, else by hand with the derivation
in a comment), rejects a wrong one with the expected value and the chapter to reread, and reports a blank as
"not answered yet"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import nncost
from nncost import reference
from nncost.exercises import cnn_architectures as ex
from nncost.zoo import googlenet, inception_v3

ROOT = Path(__file__).resolve().parent.parent


def macs_on_meta(module: nn.Module, shape: tuple[int, ...]) -> int:
    """FlopCounterMode's MACs (through nncost.torch_macs) of a module on the meta device: torch's own count."""
    module = module.to("meta").eval()
    return nncost.torch_macs(module, torch.empty(shape, device="meta"))


def meta(build: Callable[[], nn.Module]) -> nn.Module:
    with torch.device("meta"):
        return build().eval()


# --------------------------------------------------------------------------------------------------------------
# The right answers, derived independently of the checkers.
# --------------------------------------------------------------------------------------------------------------


def answer_3_1() -> dict[str, int]:
    """The modern LeNet-5 with a 3-channel first convolution, built in torch: numel and FlopCounterMode."""
    model = nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )
    return {"params": nncost.torch_params(model), "macs": nncost.torch_macs(model, torch.randn(1, 3, 32, 32))}


def answer_3_2() -> dict[str, Any]:
    layer = nn.Conv2d(256, 256, 3, stride=2, padding=1, groups=32, bias=False)
    x = torch.randn(1, 256, 28, 28)
    return {"out_shape": tuple(layer(x).shape), "weight_shape": tuple(layer.weight.shape),
            "params": nncost.torch_params(layer), "macs": nncost.torch_macs(layer, x)}


def answer_3_3() -> dict[str, int]:
    layer = nn.Conv2d(144, 144, 3, stride=2, padding=1, groups=144, bias=False)
    x = torch.randn(1, 144, 56, 56)
    params = nncost.torch_params(layer)
    return {"params": params, "macs": nncost.torch_macs(layer, x),
            "values_moved": x.numel() + params + layer(x).numel()}


def vgg16_with(kernel: int, padding: int) -> nn.Sequential:
    """VGG-16's convolutions and pools, every 3×3 convolution replaced by kernel×kernel with this padding."""
    layers: list[nn.Module] = []
    channels = 3
    for convs, width in zip((2, 2, 3, 3, 3), (64, 128, 256, 512, 512)):
        for _ in range(convs):
            layers.append(nn.Conv2d(channels, width, kernel, padding=padding))
            channels = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def answer_3_4() -> dict[str, int]:
    x = torch.empty(1, 3, 224, 224, device="meta")
    with torch.device("meta"):
        return {f"side_pad{p}": vgg16_with(4, p)(x).shape[-1] for p in (1, 2)}


def answer_3_6() -> dict[str, int]:
    # conv3 reads 256×13×13 (the other GPU's half: 128·13·13 = 21,632), fc6 reads 9,216 (4,608), fc7 and fc8
    # read 4,096 each (2,048 each): 30,336 float32 values per image; × 4 bytes × 128 images = 15,532,032 bytes.
    values = 128 * 13 * 13 + 9216 // 2 + 4096 // 2 + 4096 // 2
    return {"values_per_image": values, "bytes_per_batch": values * 4 * 128}


def answer_3_7() -> dict[str, int]:
    """5b as built (the zoo module, counted by FlopCounterMode) and the naive module built here in torch."""
    built = meta(googlenet).features.inception5b
    naive = [nn.Conv2d(832, 384, 1), nn.Conv2d(832, 384, 3, padding=1), nn.Conv2d(832, 128, 5, padding=2)]
    x = torch.empty(1, 832, 7, 7, device="meta")
    channels = sum(conv.to("meta")(x).shape[1] for conv in naive) + nn.MaxPool2d(3, 1, 1)(x).shape[1]
    return {"macs_reduced": macs_on_meta(built, (1, 832, 7, 7)),
            "macs_naive": sum(macs_on_meta(conv, (1, 832, 7, 7)) for conv in naive), "channels_naive": channels}


def answer_3_8() -> dict[str, Any]:
    v3 = meta(lambda: inception_v3(aux_logits=False))
    g = macs_on_meta(meta(googlenet), (1, 3, 224, 224))
    native = macs_on_meta(v3, (1, 3, 299, 299))
    v3.classifier.avgpool = nn.AdaptiveAvgPool2d(1)
    small = macs_on_meta(v3, (1, 3, 224, 224))
    last = v3.features(torch.empty(1, 3, 224, 224, device="meta")).shape[-1]
    return {"estimate": native / g * (224 / 299) ** 2, "last_grid": last, "ratio": small / g}


def composed_rank(k: int) -> int:
    """Rank of the Jacobian of (c, r) ↦ c rᵀ (k×k), written out by hand: ∂/∂c_i = e_i rᵀ, ∂/∂r_j = c e_jᵀ."""
    rng = np.random.default_rng(5)
    c, r = rng.standard_normal(k), rng.standard_normal(k)
    columns = [np.outer(np.eye(k)[i], r).ravel() for i in range(k)] + [np.outer(c, np.eye(k)[j]).ravel()
                                                                       for j in range(k)]
    return int(np.linalg.matrix_rank(np.stack(columns, axis=1)))


def answer_3_9() -> dict[str, int]:
    shape = (1, 192, 17, 17)
    pair = nn.Sequential(nn.Conv2d(192, 192, (1, 5), padding=(0, 2), bias=False),
                         nn.Conv2d(192, 192, (5, 1), padding=(2, 0), bias=False))
    return {"macs_full": macs_on_meta(nn.Conv2d(192, 192, 5, padding=2, bias=False), shape),
            "macs_factorized": macs_on_meta(pair, shape), "dimension": composed_rank(5)}


def answer_3_11() -> dict[str, int]:
    # Layer ℓ's 1×1 convolution reads 256 + 32(ℓ − 1) channels and writes 128, at 14×14.
    per_layer = [macs_on_meta(nn.Conv2d(256 + 32 * (ell - 1), 128, 1, bias=False), (1, 256 + 32 * (ell - 1), 14, 14))
                 for ell in range(1, 25)]
    return {"macs_last": per_layer[-1], "macs_block": sum(per_layer)}


def answer_3_12() -> dict[str, float]:
    def separable(kernels: list[int]) -> int:
        layers = [nn.Conv2d(256, 256, k, padding=k // 2, groups=256, bias=False) for k in kernels]
        return macs_on_meta(nn.Sequential(*layers, nn.Conv2d(256, 256, 1, bias=False)), (1, 256, 28, 28))

    standard = macs_on_meta(nn.Conv2d(256, 256, 5, padding=2, bias=False), (1, 256, 28, 28))
    return {"a_over_b": separable([5]) / separable([3, 3]), "a_over_standard": separable([5]) / standard}


def answer_3_14() -> dict[str, int]:
    # GoogLeNet: stem conv1, conv2_reduce, conv2 (3), one 1×1 branch per inception module (9), fc (1) = 13.
    # aux1 on 4a: the stem (3), the 1×1 branches of 3a, 3b, 4a (3), the head's conv, fc, fc (3) = 9.
    # ResNet-50: conv1, the projections of layer1.0 … layer4.0 (4), fc = 6.
    return {"googlenet_main": 13, "googlenet_aux1": 9, "resnet50": 6}


def answer_3_15() -> dict[str, float]:
    shape = (1, 512, 28, 28)
    plain = macs_on_meta(nn.Conv2d(512, 512, 3, padding=1, bias=False), shape)
    designs = {
        "grouped": nn.Conv2d(512, 512, 3, padding=1, groups=32, bias=False),
        "bottleneck": nn.Sequential(nn.Conv2d(512, 128, 1, bias=False), nn.Conv2d(128, 128, 3, padding=1, bias=False),
                                    nn.Conv2d(128, 512, 1, bias=False)),
        "factorized": nn.Sequential(nn.Conv2d(512, 512, (1, 3), padding=(0, 1), bias=False),
                                    nn.Conv2d(512, 512, (3, 1), padding=(1, 0), bias=False)),
        "separable": nn.Sequential(nn.Conv2d(512, 512, 3, padding=1, groups=512, bias=False),
                                   nn.Conv2d(512, 512, 1, bias=False)),
    }
    return {name: plain / macs_on_meta(module, shape) for name, module in designs.items()}


# (exercise, checker, the right answers, the chapter its hint names)
VALUE_CHECKS: list[tuple[str, Callable[..., Any], Callable[[], dict[str, Any]], int]] = [
    ("3.1", ex.check_lenet_colour, answer_3_1, 9),
    ("3.2", ex.check_grouped_layer, answer_3_2, 11),
    ("3.3", ex.check_depthwise_layer, answer_3_3, 18),
    ("3.4", ex.check_odd_kernels, answer_3_4, 12),
    ("3.6", ex.check_alexnet_traffic, answer_3_6, 10),
    ("3.7", ex.check_inception_module, answer_3_7, 13),
    ("3.8", ex.check_inception_v3_small, answer_3_8, 14),
    ("3.9", ex.check_factorized, answer_3_9, 15),
    ("3.11", ex.check_dense_block, answer_3_11, 16),
    ("3.12", ex.check_separable, answer_3_12, 17),
    ("3.14", ex.check_gradient_paths, answer_3_14, 13),
    ("3.15", ex.check_cheaper_layer, answer_3_15, 19),
]
IDS = [case[0] for case in VALUE_CHECKS]


@pytest.mark.parametrize(("exercise", "checker", "answer", "chapter"), VALUE_CHECKS, ids=IDS)
def test_value_checker_accepts_the_right_answers(exercise: str, checker: Callable[..., Any],
                                                 answer: Callable[[], dict[str, Any]], chapter: int) -> None:
    verdict = checker(**answer())
    assert verdict.status == "correct", verdict.message
    assert verdict.message.startswith(f"✓ Exercise {exercise}: correct")


def wrong(value: Any) -> Any:
    """A plausible wrong answer: off by one for a number, the last entry changed for a shape."""
    if isinstance(value, tuple):
        return (*value[:-1], value[-1] + 1)
    return value + 1 if isinstance(value, int) else value * 1.5


@pytest.mark.parametrize(("exercise", "checker", "answer", "chapter"), VALUE_CHECKS, ids=IDS)
def test_value_checker_rejects_a_wrong_answer_with_expected_and_hint(
        exercise: str, checker: Callable[..., Any], answer: Callable[[], dict[str, Any]], chapter: int) -> None:
    right = answer()
    name = next(iter(right))
    answers = {**right, name: wrong(right[name])}
    verdict = checker(**answers)
    assert verdict.status == "wrong"
    from nncost.exercises._core import _fmt

    expected = verdict.cases[0]
    assert f"{name}: expected " in expected and f", got {_fmt(answers[name])}" in expected, verdict.message
    assert f"Hint: Reread chapter {chapter} (" in verdict.message
    assert all(line.startswith("✓") for line in verdict.cases[1:]), "only the wrong answer is marked wrong"


def test_wrong_messages_show_the_expected_value() -> None:
    verdict = ex.check_lenet_colour(params=61_706, macs=651_720)  # 61,706 is the grey-input count
    assert "✗ params: expected 62,006, got 61,706" in verdict.message
    assert "Reread chapter 9 (LeNet-5), section 'Both parameter counts, by hand'." in verdict.message
    verdict = ex.check_gradient_paths(googlenet_main=22, googlenet_aux1=9, resnet50=6)  # 22: the deepest path
    assert "expected 13, got 22" in verdict.message
    verdict = ex.check_separable(a_over_b=1.0, a_over_standard=1 / 256 + 1 / 25)
    assert verdict.status == "wrong" and "a_over_b: expected 1.02555 (within 0.5%), got 1" in verdict.message


@pytest.mark.parametrize(("exercise", "checker", "answer", "chapter"), VALUE_CHECKS, ids=IDS)
def test_value_checker_reports_blanks(exercise: str, checker: Callable[..., Any],
                                      answer: Callable[[], dict[str, Any]], chapter: int) -> None:
    verdict = checker()
    assert verdict.status == "blank"
    assert verdict.message == f"… Exercise {exercise}: not answered yet — replace the `...` with your answers"
    partly = checker(**{next(iter(answer())): ...}, **dict(list(answer().items())[1:]))
    assert partly.status == "wrong" and "not answered yet" in partly.message


def test_tolerances_are_the_tasks() -> None:
    right = answer_3_12()
    assert ex.check_separable(a_over_b=right["a_over_b"] * 1.004, a_over_standard=right["a_over_standard"])
    assert not ex.check_separable(a_over_b=right["a_over_b"] * 1.006, a_over_standard=right["a_over_standard"])
    right = answer_3_15()
    assert ex.check_cheaper_layer(**{**right, "bottleneck": 8.47})
    assert not ex.check_cheaper_layer(**{**right, "bottleneck": 8.0})
    right = answer_3_8()
    assert ex.check_inception_v3_small(estimate=3.61 * (224 / 299) ** 2, last_grid=5, ratio=1.79)
    assert not ex.check_inception_v3_small(estimate=right["estimate"], last_grid=5, ratio=right["estimate"]), \
        "the area estimate is not the measured ratio"


def test_blank_answers_do_not_profile_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a blank answer must not run the derivation")

    monkeypatch.setattr(ex, "_profile", refuse)
    monkeypatch.setattr(ex, "composed_dimension", refuse)
    for _, checker, _, _ in VALUE_CHECKS:
        assert checker().status == "blank"


# --------------------------------------------------------------------------------------------------------------
# Implementations: the right one passes, a blank is reported, a subtly wrong one is caught.
# --------------------------------------------------------------------------------------------------------------


def vgg_params(config: list, image_size: int = 224, num_classes: int = 1000) -> int:
    channels, side, params = 3, image_size, 0
    for item in config:
        if item == "M":
            side //= 2
        else:
            params += 9 * channels * item + item
            channels = item
    return params + (channels * side * side + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * num_classes


def vgg_params_7x7(config: list, image_size: int = 224, num_classes: int = 1000) -> int:
    """Wrong: assumes the last map is always 7×7 (true only at 224)."""
    return vgg_params(config, 224, num_classes)


def bottleneck_params(c_in: int, width: int, stride: int = 1) -> int:
    c_out = 4 * width
    params = c_in * width + 9 * width**2 + width * c_out + 2 * (width + width + c_out)
    return params + (c_in * c_out + 2 * c_out if stride != 1 or c_in != c_out else 0)


def bottleneck_params_no_stride(c_in: int, width: int, stride: int = 1) -> int:
    """Wrong: a projection only where the channels change, not where only the stride does."""
    return bottleneck_params(c_in, width, 1)


def grouped_conv2d(x: np.ndarray, weight: np.ndarray, groups: int) -> np.ndarray:
    return reference.conv2d(x, weight, groups=groups)


def grouped_conv2d_slip(x: np.ndarray, weight: np.ndarray, groups: int) -> np.ndarray:
    """Wrong: finds an output channel's group with c_i/g instead of c_o/g (right only when c_o = c_i)."""
    c_out, per_group = weight.shape[0], weight.shape[1]
    outputs = []
    for o in range(c_out):
        first = min(o // per_group, groups - 1) * per_group
        outputs.append(reference.conv2d(x[:, first:first + per_group], weight[o:o + 1]))
    return np.concatenate(outputs, axis=1)


def not_yet(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("write the function")


IMPLEMENTATIONS = [
    ("3.5", ex.check_vgg_params, vgg_params, vgg_params_7x7, 12),
    ("3.10", ex.check_bottleneck_params, bottleneck_params, bottleneck_params_no_stride, 16),
    ("3.13", ex.check_grouped_conv2d, grouped_conv2d, grouped_conv2d_slip, 11),
]
IMPLEMENTATION_IDS = [case[0] for case in IMPLEMENTATIONS]


@pytest.mark.parametrize(("exercise", "checker", "right", "slip", "chapter"), IMPLEMENTATIONS,
                         ids=IMPLEMENTATION_IDS)
def test_implementation_checkers(exercise: str, checker: Callable[..., Any], right: Callable[..., Any],
                                 slip: Callable[..., Any], chapter: int) -> None:
    verdict = checker(right)
    assert verdict.status == "correct", verdict.message
    assert verdict.message.startswith(f"✓ Exercise {exercise}: correct — all ")
    blank = checker(not_yet)
    assert blank.status == "blank" and "not answered yet" in blank.message
    assert checker(...).status == "blank"
    caught = checker(slip)
    assert caught.status == "wrong", f"{slip.__name__} should be caught"
    assert f"Hint: Reread chapter {chapter} (" in caught.message
    assert "expected" in caught.message and caught.message.count(f"{slip.__name__}(") >= 1


def test_implementation_messages_name_the_failing_case() -> None:
    verdict = ex.check_bottleneck_params(bottleneck_params_no_stride)
    assert "bottleneck_params_no_stride(128, 32, 2): expected 34,432, got 17,792" in verdict.message
    verdict = ex.check_grouped_conv2d(grouped_conv2d_slip)
    assert "grouped_conv2d_slip(x (1, 4, 6, 5), weight (6, 2, 3, 3), 2): expected an array of shape (1, 6, 4, 3)" \
        in verdict.message
    verdict = ex.check_grouped_conv2d(lambda x, weight, groups: np.zeros((1, 1)))
    assert "got an array of shape (1, 1)" in verdict.message
    verdict = ex.check_vgg_params(lambda config, image_size=224, num_classes=1000: 1 / 0)
    assert "raised ZeroDivisionError" in verdict.message


def test_bottleneck_formula_matches_a_block_built_in_torch() -> None:
    """The reference implementation above, against torch's numel of a block written out here (layer3.0)."""
    c_in, width = 512, 256
    block = nn.ModuleList([
        nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width),
        nn.Conv2d(width, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width),
        nn.Conv2d(width, 4 * width, 1, bias=False), nn.BatchNorm2d(4 * width),
        nn.Conv2d(c_in, 4 * width, 1, stride=2, bias=False), nn.BatchNorm2d(4 * width),
    ])
    assert bottleneck_params(c_in, width, 2) == nncost.torch_params(block)


def test_grouped_expectations_equal_the_loop_reference() -> None:
    for case, groups in ex.grouped_loop_cases():
        expected = ex.torch_grouped_conv2d(case.x, case.weight, groups)
        assert np.allclose(expected, reference.conv2d(case.x, case.weight, groups=groups))
        assert expected.shape[1] == case.weight.shape[0]


def test_vgg_cases_include_non_default_sizes() -> None:
    assert any(size != 224 for _, size, _ in ex.VGG_CASES)
    assert any(not isinstance(config, str) for config, _, _ in ex.VGG_CASES)
    assert vgg_params(list(ex._vgg_config("D"))) == 138_357_544  # the paper's VGG-16 (chapter 12)


# --------------------------------------------------------------------------------------------------------------
# Hints, numbering and the notebook.
# --------------------------------------------------------------------------------------------------------------


def headings(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    lines = ("".join(c["source"]).splitlines() for c in cells if c["cell_type"] == "markdown")
    return {line.lstrip("#").strip() for block in lines for line in block if line.startswith("#")}


def test_every_hint_names_an_existing_section() -> None:
    for exercise, (chapter, section) in {**ex.SECTIONS, **ex.ALSO}.items():
        path = ROOT / "book" / ex.CHAPTERS[chapter][1]
        assert section in headings(path), f"{exercise}: no heading {section!r} in {path.name}"
    assert ex.hint("3.2") == "Reread chapter 11 (Grouped convolution), section 'Parameters and MACs: divided by g'."


def test_every_chapter_of_the_part_is_covered() -> None:
    covered = {chapter for chapter, _ in ex.SECTIONS.values()} | {chapter for chapter, _ in ex.ALSO.values()}
    assert covered == set(range(9, 20))


def test_the_notebook_checks_every_exercise_once_in_order() -> None:
    source = json.loads((ROOT / "book" / "exercises" / "ex3-cnn-architectures.ipynb").read_text())
    titles = [
        "".join(c["source"]).splitlines()[0] for c in source["cells"]
        if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("## Exercise")
    ]
    assert [t.split(" — ")[0] for t in titles] == [f"## Exercise 3.{k}" for k in range(1, 16)]
    stars = [t.split(" ")[-1] for t in titles]
    assert stars == sorted(stars, key=lambda s: s.count("★")), "graded from easy to hard"
    code = "\n".join("".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code")
    checkers = [name for name in dir(ex) if name.startswith("check_") and getattr(ex, name).__module__ == ex.__name__]
    assert all(f"ex.{name}(" in code for name in checkers), "every checker is used by the notebook"
    assert len(checkers) == 15
