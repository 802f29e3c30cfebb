"""Checkers for exercise set 3, Part III — CNN architectures (chapters 9–19).

The exercises are in ``book/exercises/ex3-cnn-architectures.ipynb``.

Every expected answer is derived here, when the checker runs, from the exercise's parameters (the module
constants below): with the layer formulas (:func:`nncost.conv2d`, :func:`nncost.output_size`), with
:func:`nncost.profile` of the book's models from :mod:`nncost.zoo` built on the meta device (shapes only, no
weights, no arithmetic), with :func:`nncost.torch_params`, or with torch itself (``F.conv2d`` for the grouped
convolution, a Jacobian's rank, a traced graph's shortest path). No answer is stored. The expensive
derivations (profiles of whole networks) are cached for the session.

    from nncost.exercises import cnn_architectures as ex
    ex.check_lenet_colour(params=62_006, macs=651_720)

The grouped-convolution checker (3.13) calls the student's function on seeded random inputs through a small
wrapper, so that a verdict names the shapes of a failing case and how far its values are off instead of
printing whole arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from math import prod
from typing import Any

import numpy as np

from nncost.exercises._core import Case, Verdict, check_answers, check_function, is_blank, reread
from nncost.layers import conv2d
from nncost.shapes import output_size

# --------------------------------------------------------------------------------------------------------------
# Where each exercise sends a student who got it wrong. tests/test_exercises_cnn_architectures.py checks that
# every section heading exists in its chapter's notebook.
# --------------------------------------------------------------------------------------------------------------

CHAPTERS: dict[int, tuple[str, str]] = {
    9: ("LeNet-5", "03-cnn-architectures/09-lenet.ipynb"),
    10: ("AlexNet", "03-cnn-architectures/10-alexnet.ipynb"),
    11: ("Grouped convolution", "03-cnn-architectures/11-grouped-convolution.ipynb"),
    12: ("VGG", "03-cnn-architectures/12-vgg.ipynb"),
    13: ("GoogLeNet", "03-cnn-architectures/13-googlenet.ipynb"),
    14: ("Inception-v3", "03-cnn-architectures/14-inception-v3.ipynb"),
    15: ("Factorizing convolution", "03-cnn-architectures/15-factorizing-convolution.ipynb"),
    16: ("ResNet and DenseNet", "03-cnn-architectures/16-resnet-densenet.ipynb"),
    17: ("MobileNet", "03-cnn-architectures/17-mobilenet.ipynb"),
    18: ("Depthwise convolution", "03-cnn-architectures/18-depthwise-convolution.ipynb"),
    19: ("A short summary of CNNs", "03-cnn-architectures/19-cnn-summary.ipynb"),
}
SECTIONS: dict[str, tuple[int, str]] = {
    "3.1": (9, "Both parameter counts, by hand"),
    "3.2": (11, "Parameters and MACs: divided by $g$"),
    "3.3": (18, "What a depthwise layer costs besides MACs"),
    "3.4": (12, "Why are kernel sizes odd?"),
    "3.5": (12, "The architecture"),
    "3.6": (10, "The two towers"),
    "3.7": (13, "The inception module"),
    "3.8": (14, "Input 224 → 299"),
    "3.9": (15, "What it saves"),
    "3.10": (16, "Basic and bottleneck blocks at 256 channels"),
    "3.11": (16, "DenseNet-121"),
    "3.12": (17, "The derivation: $1/c_o + 1/k^2$"),
    "3.13": (11, "A grouped convolution is $g$ convolutions side by side"),
    "3.14": (13, "The auxiliary classifiers"),
    "3.15": (19, "The five lessons, each with a number"),
}
# Exercises whose hint also sends the reader to a second section.
ALSO: dict[str, tuple[int, str]] = {
    "3.9": (15, "1×3 then 3×1: exactly the rank-1 kernels"),
    "3.10": (16, "Two ways to reuse a feature map"),
    "3.13": (18, "The check: $c$ separate convolutions"),
    "3.14": (16, "Gradients through a deep stack, measured"),
}


def hint(exercise: str) -> str:
    """The hint shown with a wrong answer: the chapter and section(s) to reread."""
    chapter, section = SECTIONS[exercise]
    also = ALSO.get(exercise)
    second = (also[0], CHAPTERS[also[0]][0], also[1]) if also else None
    return reread(chapter, CHAPTERS[chapter][0], section, also=second)


def _check(exercise: str, got: dict[str, Any], derive: Callable[[], dict[str, Any]], rel_tol: float = 0.0) -> Verdict:
    """Named answers against ``derive()``, which is not run while every answer is blank (some derivations
    profile whole networks: a student notebook full of blanks stays fast)."""
    return check_answers(exercise, got, lambda: {k: (v, rel_tol) for k, v in derive().items()}, hint=hint(exercise))

def _meta(build: Callable[[], Any]) -> Any:
    """A zoo model built on the meta device (shapes, no memory), in inference mode."""
    import torch

    with torch.device("meta"):
        return build().eval()


def _profile(model: Any, input_shape: Sequence[int]) -> Any:
    from nncost.profiler import profile

    return profile(model, tuple(input_shape))


# --- Exercise 3.1: LeNet-5 on colour images ---------------------------------------------------------------------
LENET_INPUT: tuple[int, int, int, int] = (1, 3, 32, 32)  # a CIFAR-10 image: 3 colour channels, 32×32


@cache
def _lenet_colour() -> dict[str, int]:
    from torch import nn

    from nncost.zoo import lenet5

    def build() -> Any:
        model = lenet5("modern")
        model.features.C1 = nn.Conv2d(LENET_INPUT[1], 6, 5)  # C1 now reads the colour channels
        return model

    report = _profile(_meta(build), LENET_INPUT)
    return {"params": report.params, "macs": report.macs}


def check_lenet_colour(params: Any = ..., macs: Any = ...) -> Verdict:
    """3.1: the modern LeNet-5 with a 3-channel C1 on LENET_INPUT, by nncost.profile of the zoo model."""
    return _check("3.1", {"params": params, "macs": macs}, _lenet_colour)


# --- Exercise 3.2: a grouped layer of ResNeXt -----------------------------------------------------------------
GROUPED_INPUT: tuple[int, int, int, int] = (1, 256, 28, 28)
GROUPED_LAYER: dict[str, int] = {"out_channels": 256, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 32}


def check_grouped_layer(out_shape: Any = ..., weight_shape: Any = ..., params: Any = ..., macs: Any = ...) -> Verdict:
    """3.2: ``nn.Conv2d(256, 256, 3, stride=2, padding=1, groups=32, bias=False)`` on GROUPED_INPUT (nncost.conv2d)."""
    def derive() -> dict[str, Any]:
        layer = conv2d(GROUPED_INPUT, **GROUPED_LAYER, bias=False)
        return {"out_shape": layer.out_shape, "weight_shape": layer.weight_shape, "params": layer.params,
                "macs": layer.macs}

    got = {"out_shape": out_shape, "weight_shape": weight_shape, "params": params, "macs": macs}
    return _check("3.2", got, derive)


# --- Exercise 3.3: a strided depthwise layer ------------------------------------------------------------------
DEPTHWISE_INPUT: tuple[int, int, int, int] = (1, 144, 56, 56)
DEPTHWISE_LAYER: dict[str, int] = {"kernel_size": 3, "stride": 2, "padding": 1}


def check_depthwise_layer(params: Any = ..., macs: Any = ..., values_moved: Any = ...) -> Verdict:
    """3.3: a 3×3 depthwise conv of stride 2 (no bias) on DEPTHWISE_INPUT: params, MACs, input + weights + output."""
    def derive() -> dict[str, int]:
        channels = DEPTHWISE_INPUT[1]
        layer = conv2d(DEPTHWISE_INPUT, channels, **DEPTHWISE_LAYER, groups=channels, bias=False)
        return {"params": layer.params, "macs": layer.macs,
                "values_moved": prod(layer.in_shape) + layer.params + layer.activations}

    got = {"params": params, "macs": macs, "values_moved": values_moved}
    return _check("3.3", got, derive)


# --- Exercise 3.4: why kernel sizes are odd -------------------------------------------------------------------
ODD_IMAGE = 224  # VGG-16's input side
ODD_EVEN_KERNEL = 4  # every 3×3 convolution of VGG-16 replaced by a 4×4 one


def vgg_side(config: Sequence[Any], image_size: int, kernel: int, padding: int) -> int:
    """The side of the map after the last layer of a VGG configuration whose convolutions are all ``kernel``×
    ``kernel`` with stride 1 and ``padding``; ``"M"`` is a 2×2 max pool of stride 2 (nncost.output_size)."""
    side = image_size
    for item in config:
        side = output_size(side, 2, 2) if item == "M" else output_size(side, kernel, 1, padding)
    return side


def check_odd_kernels(side_pad1: Any = ..., side_pad2: Any = ...) -> Verdict:
    """3.4: pool5's side in VGG-16 with 4×4 convolutions and symmetric padding 1 or 2 (nncost.output_size)."""
    from nncost.zoo.vgg import CONFIGS

    def derive() -> dict[str, int]:
        return {f"side_pad{p}": vgg_side(CONFIGS["D"], ODD_IMAGE, ODD_EVEN_KERNEL, p) for p in (1, 2)}

    return _check("3.4", {"side_pad1": side_pad1, "side_pad2": side_pad2}, derive)


# --- Exercise 3.5: VGG's parameters from its configuration ----------------------------------------------------
# (configuration, image_size, num_classes): the paper's A, B, D, E; D on larger and smaller images; a small net
# whose last stage is not 512 channels wide, on 32×32 images with 10 classes.
VGG_CASES: tuple[tuple[Any, int, int], ...] = (
    ("A", 224, 1000),
    ("B", 224, 1000),
    ("D", 224, 1000),
    ("E", 224, 1000),
    ("D", 448, 1000),
    ("D", 96, 10),
    ((16, "M", 32, 32, "M"), 32, 10),
    ((8, "M", 8, "M", 8, "M"), 20, 5),
)


def _vgg_config(config: Any) -> list[Any]:
    from nncost.zoo.vgg import CONFIGS

    return list(CONFIGS[config]) if isinstance(config, str) else list(config)


def check_vgg_params(function: Callable[..., Any]) -> Verdict:
    """3.5: ``vgg_params(config, image_size, num_classes)`` against torch_params of the zoo's vgg, on VGG_CASES."""
    from nncost.torch_counts import torch_params
    from nncost.zoo.vgg import vgg

    if is_blank(function) or not callable(function):
        return check_function("3.5", function, [], hint=hint("3.5"))
    cases: list[Case] = []
    for config, image_size, num_classes in VGG_CASES:
        layers = _vgg_config(config)
        model = _meta(lambda layers=layers, i=image_size, n=num_classes: vgg(layers, image_size=i, num_classes=n))
        cases.append(((layers,), {"image_size": image_size, "num_classes": num_classes}, torch_params(model)))
    return check_function("3.5", function, cases, hint=hint("3.5"))


# --- Exercise 3.6: what crossed between AlexNet's two GPUs ----------------------------------------------------
ALEXNET_INPUT: tuple[int, int, int, int] = (1, 3, 227, 227)
ALEXNET_BATCH = 128  # the paper's batch size
FLOAT32_BYTES = 4


@cache
def _alexnet_traffic() -> dict[str, int]:
    """Values each GPU receives from the other per image: half the input of every layer that reads both towers.

    A layer reads both towers when it is a linear layer or an ungrouped convolution; the first convolution reads
    the image, which both GPUs hold.
    """
    from torch import nn

    from nncost.zoo import alexnet

    model = _meta(lambda: alexnet("two-tower"))
    report = _profile(model, ALEXNET_INPUT)
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    received = 0
    for name, module in layers[1:]:
        if isinstance(module, nn.Linear) or module.groups == 1:
            received += prod(report[name].in_shapes[0][1:]) // 2
    return {"values_per_image": received, "bytes_per_batch": received * FLOAT32_BYTES * ALEXNET_BATCH}


def check_alexnet_traffic(values_per_image: Any = ..., bytes_per_batch: Any = ...) -> Verdict:
    """3.6: float32 values one GPU receives from the other in a forward pass (nncost.profile of the two towers)."""
    got = {"values_per_image": values_per_image, "bytes_per_batch": bytes_per_batch}
    return _check("3.6", got, _alexnet_traffic)


# --- Exercise 3.7: inception module 5b, naive and with reductions ---------------------------------------------
INCEPTION_MODULE = "inception5b"
GOOGLENET_INPUT: tuple[int, int, int, int] = (1, 3, 224, 224)


@cache
def _googlenet_report() -> Any:
    from nncost.zoo import googlenet

    model = _meta(googlenet)
    return model, _profile(model, GOOGLENET_INPUT)


@cache
def _inception_module() -> dict[str, int]:
    model, report = _googlenet_report()
    row = report[f"features.{INCEPTION_MODULE}"]
    module = getattr(model.features, INCEPTION_MODULE)
    in_shape = row.in_shapes[0]
    c_in = in_shape[1]
    n1 = module.branch1x1.conv.out_channels
    n3 = module.branch3x3.conv.out_channels
    n5 = module.branch5x5.conv.out_channels
    naive = [conv2d(in_shape, n1, 1), conv2d(in_shape, n3, 3, padding=1), conv2d(in_shape, n5, 5, padding=2)]
    return {"macs_reduced": row.total_macs, "macs_naive": sum(layer.macs for layer in naive),
            "channels_naive": n1 + n3 + n5 + c_in}


def check_inception_module(macs_reduced: Any = ..., macs_naive: Any = ..., channels_naive: Any = ...) -> Verdict:
    """3.7: module 5b's MACs (nncost.profile of the zoo GoogLeNet) and the naive module's (nncost.conv2d)."""
    got = {"macs_reduced": macs_reduced, "macs_naive": macs_naive, "channels_naive": channels_naive}
    return _check("3.7", got, _inception_module)


# --- Exercise 3.8: Inception-v3 at 224×224 --------------------------------------------------------------------
V3_INPUT: tuple[int, int, int, int] = (1, 3, 299, 299)  # Inception-v3's own input
V3_SMALL_INPUT: tuple[int, int, int, int] = (1, 3, 224, 224)  # GoogLeNet's
V3_TOLERANCE = 0.01  # the estimate and the ratio, within 1 %


@cache
def _inception_v3_small() -> dict[str, Any]:
    from torch import nn

    from nncost.zoo import inception_v3

    def build() -> Any:
        model = inception_v3(aux_logits=False)
        model.classifier.avgpool = nn.AdaptiveAvgPool2d(1)  # global average pooling at any grid size
        return model

    model = _meta(build)
    native, small = _profile(model, V3_INPUT), _profile(model, V3_SMALL_INPUT)
    last_module = [name for name, _ in model.features.named_children()][-1]
    _, googlenet_report = _googlenet_report()
    area = (V3_SMALL_INPUT[-1] / V3_INPUT[-1]) ** 2
    return {"estimate": native.macs / googlenet_report.macs * area,
            "last_grid": small[f"features.{last_module}"].out_shape[-1],
            "ratio": small.macs / googlenet_report.macs}


def check_inception_v3_small(estimate: Any = ..., last_grid: Any = ..., ratio: Any = ...) -> Verdict:
    """3.8: the area-scaled estimate, and the last grid and MACs / GoogLeNet's measured at 224×224 (nncost.profile)."""
    got = {"estimate": estimate, "last_grid": last_grid, "ratio": ratio}
    return _check("3.8", got, _inception_v3_small, rel_tol=V3_TOLERANCE)


# --- Exercise 3.9: a 5×5 convolution as 1×5 then 5×1 ----------------------------------------------------------
FACTOR_CHANNELS = 192
FACTOR_MAP = 17
FACTOR_KERNEL = 5


def composed_dimension(kernel: int, seed: int = 0) -> int:
    """Dimension of the set of k×k kernels a 1×k then k×1 convolution (one channel each) can compose: the rank of
    the Jacobian of (row, column) ↦ composed kernel at a random point, the composition computed by torch's conv2d
    on an impulse."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    point = torch.randn(2 * kernel, dtype=torch.float64, generator=generator)
    impulse = torch.zeros(1, 1, 2 * kernel - 1, 2 * kernel - 1, dtype=torch.float64)
    impulse[0, 0, kernel - 1, kernel - 1] = 1.0

    def compose(weights: Any) -> Any:
        row = weights[:kernel].view(1, 1, 1, kernel)
        column = weights[kernel:].view(1, 1, kernel, 1)
        return F.conv2d(F.conv2d(impulse, row), column).flatten()

    jacobian = torch.autograd.functional.jacobian(compose, point)
    return int(torch.linalg.matrix_rank(jacobian))


def check_factorized(macs_full: Any = ..., macs_factorized: Any = ..., dimension: Any = ...) -> Verdict:
    """3.9: MACs of a 5×5 conv and of 1×5 + 5×1 (nncost.conv2d), and the composed kernels' dimension (torch)."""
    def derive() -> dict[str, int]:
        shape = (1, FACTOR_CHANNELS, FACTOR_MAP, FACTOR_MAP)
        k, pad = FACTOR_KERNEL, FACTOR_KERNEL // 2
        full = conv2d(shape, FACTOR_CHANNELS, k, padding=pad, bias=False)
        row = conv2d(shape, FACTOR_CHANNELS, (1, k), padding=(0, pad), bias=False)
        column = conv2d(row.out_shape, FACTOR_CHANNELS, (k, 1), padding=(pad, 0), bias=False)
        return {"macs_full": full.macs, "macs_factorized": row.macs + column.macs,
                "dimension": composed_dimension(k)}

    got = {"macs_full": macs_full, "macs_factorized": macs_factorized, "dimension": dimension}
    return _check("3.9", got, derive)


# --- Exercise 3.10: a bottleneck block's parameters -----------------------------------------------------------
# (c_in, width, stride): ResNet-50's blocks, and blocks where only the stride, or only the channels, change.
BOTTLENECK_CASES: tuple[tuple[int, int, int], ...] = (
    (256, 64, 1),
    (64, 64, 1),
    (256, 128, 2),
    (512, 128, 1),
    (1024, 256, 1),
    (1024, 512, 2),
    (2048, 512, 1),
    (128, 32, 2),
    (96, 32, 1),
)


def check_bottleneck_params(function: Callable[..., Any]) -> Verdict:
    """3.10: ``bottleneck_params(c_in, width, stride)`` against torch_params of the zoo's ResNet Bottleneck."""
    from nncost.torch_counts import torch_params
    from nncost.zoo.resnet import Bottleneck

    if is_blank(function) or not callable(function):
        return check_function("3.10", function, [], hint=hint("3.10"))
    cases: list[Case] = []
    for c_in, width, stride in BOTTLENECK_CASES:
        block = _meta(lambda c=c_in, w=width, s=stride: Bottleneck(c, w, s))
        cases.append(((c_in, width, stride), {}, torch_params(block)))
    return check_function("3.10", function, cases, hint=hint("3.10"))


# --- Exercise 3.11: the 1×1 convolutions of a dense block -----------------------------------------------------
DENSE_BLOCK = 3  # DenseNet-121's third dense block, at 14×14
DENSENET_INPUT: tuple[int, int, int, int] = (1, 3, 224, 224)


@cache
def _dense_block() -> dict[str, int]:
    from nncost.zoo import densenet121

    model = _meta(densenet121)
    report = _profile(model, DENSENET_INPUT)
    block = getattr(model.features, f"denseblock{DENSE_BLOCK}")
    names = [f"features.denseblock{DENSE_BLOCK}.{name}.conv1" for name, _ in block.named_children()]
    macs = [report[name].macs for name in names]
    return {"macs_last": macs[-1], "macs_block": sum(macs)}


def check_dense_block(macs_last: Any = ..., macs_block: Any = ...) -> Verdict:
    """3.11: MACs of the last 1×1 conv of dense block 3, and of all its 1×1 convs (nncost.profile of DenseNet-121)."""
    return _check("3.11", {"macs_last": macs_last, "macs_block": macs_block}, _dense_block)


# --- Exercise 3.12: a bigger depthwise kernel is almost free --------------------------------------------------
SEPARABLE_INPUT: tuple[int, int, int, int] = (1, 256, 28, 28)
SEPARABLE_OUT = 256
SEPARABLE_TOLERANCE = 0.005  # the ratios, within 0.5 %


def _separable_macs(kernels: Sequence[int]) -> int:
    """MACs of depthwise convolutions of the given kernel sizes ('same' padding), then one pointwise convolution."""
    channels, macs, shape = SEPARABLE_INPUT[1], 0, SEPARABLE_INPUT
    for k in kernels:
        layer = conv2d(shape, channels, k, padding=k // 2, groups=channels, bias=False)
        macs, shape = macs + layer.macs, layer.out_shape
    return macs + conv2d(shape, SEPARABLE_OUT, 1, bias=False).macs


def check_separable(a_over_b: Any = ..., a_over_standard: Any = ...) -> Verdict:
    """3.12: depthwise 5×5 + pointwise against two depthwise 3×3 + pointwise and a standard 5×5 (nncost.conv2d)."""
    def derive() -> dict[str, float]:
        a, b = _separable_macs([5]), _separable_macs([3, 3])
        standard = conv2d(SEPARABLE_INPUT, SEPARABLE_OUT, 5, padding=2, bias=False).macs
        return {"a_over_b": a / b, "a_over_standard": a / standard}

    got = {"a_over_b": a_over_b, "a_over_standard": a_over_standard}
    return _check("3.12", got, derive, rel_tol=SEPARABLE_TOLERANCE)


# --- Exercise 3.13: grouped convolution by loops --------------------------------------------------------------
# (x shape, weight shape, groups): ordinary; two groups; more outputs than inputs per group (the usual slip);
# depthwise; depthwise with a depth multiplier; a rectangular kernel and a batch of two.
GROUPED_LOOP_CASES: tuple[tuple[tuple[int, ...], tuple[int, ...], int], ...] = (
    ((1, 3, 5, 5), (2, 3, 3, 3), 1),
    ((1, 4, 5, 5), (4, 2, 3, 3), 2),
    ((1, 4, 6, 5), (6, 2, 3, 3), 2),
    ((1, 6, 5, 5), (9, 2, 2, 2), 3),
    ((1, 3, 5, 5), (3, 1, 3, 3), 3),
    ((1, 2, 4, 4), (6, 1, 3, 3), 2),
    ((2, 4, 6, 7), (8, 1, 2, 3), 4),
)


@dataclass(frozen=True)
class ArrayCase:
    """The input arrays of one case; prints as ``x (1, 4, 5, 5), weight (4, 2, 3, 3)``."""

    x: np.ndarray
    weight: np.ndarray

    def __repr__(self) -> str:
        return f"x {tuple(self.x.shape)}, weight {tuple(self.weight.shape)}"


@dataclass(frozen=True, eq=False)
class ArrayAnswer:
    """What a student's function returned, compared with the expected array (within 1e-6)."""

    value: Any
    expected: np.ndarray

    def array(self) -> np.ndarray | None:
        value = self.value
        if value is None or is_blank(value):
            return None
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
        return array if array.ndim else None

    def matches(self) -> bool:
        got = self.array()
        return got is not None and got.shape == self.expected.shape and bool(
            np.allclose(got, self.expected, rtol=1e-6, atol=1e-6))

    def __repr__(self) -> str:
        got = self.array()
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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArrayAnswer) and other.matches()

    def __repr__(self) -> str:
        return f"an array of shape {tuple(self.value.shape)} (as torch's F.conv2d)"


def grouped_loop_cases() -> list[tuple[ArrayCase, int]]:
    """Seeded random inputs and weights for 3.13."""
    rng = np.random.default_rng([3, 13])
    return [(ArrayCase(rng.standard_normal(x), rng.standard_normal(w)), g) for x, w, g in GROUPED_LOOP_CASES]


def torch_grouped_conv2d(x: np.ndarray, weight: np.ndarray, groups: int) -> np.ndarray:
    """torch's ``F.conv2d(x, weight, groups=groups)`` (stride 1, no padding, no bias), in double precision."""
    import torch
    import torch.nn.functional as F

    return F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), groups=groups).numpy()


def check_grouped_conv2d(function: Callable[..., Any]) -> Verdict:
    """3.13: ``grouped_conv2d(x, weight, groups)`` against torch's F.conv2d on GROUPED_LOOP_CASES."""
    if is_blank(function) or not callable(function):
        return check_function("3.13", function, [], hint=hint("3.13"))
    cases = grouped_loop_cases()
    expected = {id(case): torch_grouped_conv2d(case.x, case.weight, groups) for case, groups in cases}

    def run(case: ArrayCase, groups: int) -> ArrayAnswer:
        return ArrayAnswer(function(case.x.copy(), case.weight.copy(), groups), expected[id(case)])

    run.__name__ = getattr(function, "__name__", "function")
    checks: list[Case] = [((case, groups), {}, ExpectedArray(expected[id(case)])) for case, groups in cases]
    return check_function("3.13", run, checks, hint=hint("3.13"))


# --- Exercise 3.14: why auxiliary classifiers fell out of use -------------------------------------------------
def shortest_weight_path(model: Any, output: str | None = None) -> int:
    """Fewest convolutions and linear layers on any path from the input to ``output`` (a module's qualified name;
    the model's output when ``None``), through the graph torch.fx traces."""
    from torch import fx, nn

    graph = fx.symbolic_trace(model).graph
    modules = dict(model.named_modules())
    fewest: dict[Any, int] = {}
    for node in graph.nodes:
        before = min((fewest[n] for n in node.all_input_nodes), default=0)
        weighted = node.op == "call_module" and isinstance(modules[node.target], nn.Conv2d | nn.Linear)
        fewest[node] = before + weighted
    if output is None:
        return next(fewest[n] for n in graph.nodes if n.op == "output")
    return next(fewest[n] for n in graph.nodes if n.op == "call_module" and n.target == output)


@cache
def _gradient_paths() -> dict[str, int]:
    from nncost.zoo import googlenet, resnet50

    googlenet_train = _meta(lambda: googlenet(aux_logits=True)).train()  # the heads run in training only
    aux_output = [name for name, _ in googlenet_train.aux1.named_modules() if name][-1]
    return {
        "googlenet_main": shortest_weight_path(googlenet_train, "classifier.fc"),
        "googlenet_aux1": shortest_weight_path(googlenet_train, f"aux1.{aux_output}"),
        "resnet50": shortest_weight_path(_meta(lambda: resnet50(variant="v1"))),
    }


def check_gradient_paths(googlenet_main: Any = ..., googlenet_aux1: Any = ..., resnet50: Any = ...) -> Verdict:
    """3.14: fewest conv/linear layers from the input to each output (torch.fx graphs of the zoo models)."""
    got = {"googlenet_main": googlenet_main, "googlenet_aux1": googlenet_aux1, "resnet50": resnet50}
    return _check("3.14", got, _gradient_paths)


# --- Exercise 3.15: four ways to make a VGG layer cheaper -----------------------------------------------------
PLAIN_INPUT: tuple[int, int, int, int] = (1, 512, 28, 28)  # VGG-16's conv4_2: 3×3, 512 → 512, padding 1
CHEAPER_GROUPS = 32
CHEAPER_WIDTH = 128  # the bottleneck's inner width
CHEAPER_TOLERANCE = 0.01  # the savings, within 1 %


def _chain_macs(specs: Sequence[tuple[int, Any, Any, int]]) -> int:
    """MACs of convolutions applied one after the other from PLAIN_INPUT: (c_o, kernel, padding, groups) each."""
    shape, macs = PLAIN_INPUT, 0
    for c_out, kernel, padding, groups in specs:
        layer = conv2d(shape, c_out, kernel, padding=padding, groups=groups, bias=False)
        shape, macs = layer.out_shape, macs + layer.macs
    assert shape == PLAIN_INPUT, f"a replacement must keep the shape {PLAIN_INPUT}, got {shape}"
    return macs


def check_cheaper_layer(grouped: Any = ..., bottleneck: Any = ..., factorized: Any = ...,
                        separable: Any = ...) -> Verdict:
    """3.15: how many times fewer MACs each replacement of conv4_2 does than the plain layer (nncost.conv2d)."""
    def derive() -> dict[str, float]:
        c = PLAIN_INPUT[1]
        plain = _chain_macs([(c, 3, 1, 1)])
        designs = {
            "grouped": [(c, 3, 1, CHEAPER_GROUPS)],
            "bottleneck": [(CHEAPER_WIDTH, 1, 0, 1), (CHEAPER_WIDTH, 3, 1, 1), (c, 1, 0, 1)],
            "factorized": [(c, (1, 3), (0, 1), 1), (c, (3, 1), (1, 0), 1)],
            "separable": [(c, 3, 1, c), (c, 1, 0, 1)],
        }
        return {name: plain / _chain_macs(specs) for name, specs in designs.items()}

    got = {"grouped": grouped, "bottleneck": bottleneck, "factorized": factorized, "separable": separable}
    return _check("3.15", got, derive, rel_tol=CHEAPER_TOLERANCE)
