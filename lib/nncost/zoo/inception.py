"""Inception-v3, from Szegedy et al. (2016), "Rethinking the Inception Architecture for Computer Vision".

C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna, CVPR 2016 (arXiv:1512.00567). Input 3×299×299.
Written from the paper (section 6, Table 1, Figures 5–7 and 10, section 8) and the layer widths of the
widely used layout: the one of Google's released TensorFlow model, which torchvision's ``inception_v3`` and
timm port, so that this model has their 23,834,568 parameters without the auxiliary head and 27,161,264
with it (torchvision's documentation lists 27,161,264 for the model with its auxiliary head). Not copied
from any library.

Every convolution is a ``ConvBN``: conv without bias, batch normalisation (ε = 0.001), ReLU. The network:

- ``conv1a``: 3×3/2 → 32×149×149 (Table 1: conv 3×3/2);
- ``conv2a``: 3×3/1 → 32×147×147 (conv 3×3/1);
- ``conv2b``: 3×3/1, padding 1 → 64×147×147 (conv padded 3×3/1);
- ``pool1``: max 3×3/2 → 64×73×73 (pool 3×3/2);
- ``conv3b``: 1×1 → 80×73×73 (Table 1: conv 3×3/1 to 80);
- ``conv4a``: 3×3/1 → 192×71×71 (Table 1: conv 3×3/2 to 192);
- ``pool2``: max 3×3/2 → 192×35×35 (not in Table 1);
- ``mixed5b``, ``mixed5c``, ``mixed5d``: module A (Figure 5) → 256, 288, 288 ×35×35 (Table 1: "3×Inception");
- ``mixed6a``: grid reduction (Figure 10) → 768×17×17;
- ``mixed6b`` … ``mixed6e``: module B with n = 7 (Figure 6) → 768×17×17 (Table 1: "5×Inception");
- ``mixed7a``: grid reduction → 1280×8×8;
- ``mixed7b``, ``mixed7c``: module C (Figure 7) → 2048×8×8 (Table 1: "2×Inception");
- ``classifier``: average pool 8×8 → 2048×1×1, dropout 50 %, linear 2048 → classes (then the softmax,
  in the loss).

The modules (widths of the released model):

- **A** (``InceptionA``; Figure 5 replaces the 5×5 conv by two 3×3 convs, and the released model has that
  double-3×3 branch *and* keeps a 1×1 → 5×5 branch): 1×1 64 | 1×1 48 → 5×5 64 | 1×1 64 → 3×3 96 → 3×3 96 |
  avg pool 3×3 → 1×1 ``pool_features`` (32 in 5b, 64 in 5c, 5d).
- **Grid reduction 35 → 17** (``ReductionA``, Figure 10): 3×3/2 384 | 1×1 64 → 3×3 96 → 3×3/2 96 |
  max pool 3×3/2; 384 + 96 + 288 = 768 channels.
- **B** (``InceptionB``, n×n factorised into 1×n and n×1 with n = 7, Figure 6), ``c7`` = 128, 160, 160, 192
  in 6b–6e: 1×1 192 | 1×1 c7 → 1×7 c7 → 7×1 192 | 1×1 c7 → 7×1 c7 → 1×7 c7 → 7×1 c7 → 1×7 192 |
  avg pool → 1×1 192.
- **Grid reduction 17 → 8** (``ReductionB``): 1×1 192 → 3×3/2 320 | 1×1 192 → 1×7 192 → 7×1 192 →
  3×3/2 192 | max pool 3×3/2; 320 + 192 + 768 = 1,280 channels.
- **C** (``InceptionC``, expanded filter banks, Figure 7): 1×1 320 | 1×1 384 → [1×3 384, 3×1 384] |
  1×1 448 → 3×3 384 → [1×3 384, 3×1 384] | avg pool → 1×1 192; 320 + 768 + 768 + 192 = 2,048 channels.
- **Auxiliary classifier** (``aux``, on the 17×17 grid after ``mixed6e``, as the paper's Figure 8: on top
  of the last 17×17 layer; used only in training): avg pool 5×5/3 (→ 768×5×5),
  ``ConvBN`` 1×1 128, ``ConvBN`` 5×5 768 (→ 768×1×1: a fully connected layer written as a conv, and batch
  normalised: the paper's "BN-auxiliary"), linear 768 → classes.

Parameter count (conv weights k_h·k_w·c_i·c_o, batch norm 2·c_o, linear c_i·c_o + c_o), by stage:

- stem (five ConvBN) 928 + 9,280 + 18,560 + 5,280 + 138,624 = 172,672;
- A modules 255,904 + 277,472 + 285,152 = 818,528; grid reduction ``mixed6a`` 1,153,280;
- B modules 1,297,408 + 1,691,008 + 1,691,008 + 2,141,952 = 6,821,376; grid reduction ``mixed7a`` 1,698,304;
- C modules 5,044,608 + 6,076,800 = 11,121,408; ``fc`` 2,048·1,000 + 1,000 = 2,049,000;
- without the auxiliary head **23,834,568**; the head adds 98,560 (1×1 ConvBN: 768·128 + 2·128) +
  2,459,136 (5×5 ConvBN: 25·128·768 + 2·768) + 769,000 (linear) = 3,326,696, so with it **27,161,264**.

Multiply-accumulates at 299×299 (the auxiliary head does not run at inference): 5,713,216,096 (the paper's
abstract: "a computational cost of 5 billion multiply-adds per inference").

Differences from the paper's Table 1 (which lists each layer's *input* size), which the released model (and
this one) does not follow exactly: the stem's fourth and fifth convs are a 1×1 to 80 channels and a 3×3 to
192 channels followed by a max pool (Table 1 lists a 3×3/1 conv to 80 and a 3×3/2 conv to 192); the 17×17
stage has four B modules after the grid reduction (Table 1: "5×Inception"). The module widths are not in
the paper; they are the released model's. The paper gives no dropout rate for the classifier: 50 % here,
as torchvision (no effect on the counts).

Build on the meta device (``with torch.device("meta"): model = inception_v3()``) to count without weights.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

__all__ = [
    "PARAMS",
    "PARAMS_AUX",
    "AuxClassifier",
    "ConvBN",
    "InceptionA",
    "InceptionB",
    "InceptionC",
    "InceptionV3",
    "ReductionA",
    "ReductionB",
    "inception_v3",
]

#: Parameters without and with the auxiliary head (equal to torchvision's published counts).
PARAMS = 23_834_568
PARAMS_AUX = 27_161_264

Size = int | tuple[int, int]


class ConvBN(nn.Sequential):
    """``conv`` (no bias: the batch norm after it has one), ``bn`` (ε = 0.001), ``relu``."""

    arch_kind = "conv"  # one box in nncost.arch_figures.draw_architecture

    def __init__(self, c_in: int, c_out: int, kernel_size: Size, stride: int = 1, padding: Size = 0) -> None:
        super().__init__(
            OrderedDict(
                [
                    ("conv", nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False)),
                    ("bn", nn.BatchNorm2d(c_out, eps=0.001)),
                    ("relu", nn.ReLU(inplace=True)),
                ]
            )
        )
        k = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
        self.arch_label = f"ConvBN {k[0]}×{k[1]}" + (f"/{stride}" if stride != 1 else "")


def _chain(*layers: tuple[str, nn.Module]) -> nn.Sequential:
    return nn.Sequential(OrderedDict(layers))


def _avg_pool_proj(c_in: int, c_out: int) -> nn.Sequential:
    return _chain(("pool", nn.AvgPool2d(3, stride=1, padding=1)), ("proj", ConvBN(c_in, c_out, 1)))


class _Branches(nn.Module):
    """Runs every child on the same input and concatenates the results along the channels."""

    arch_kind = "conv"
    arch_label = "Inception"

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.children()], dim=1)


class InceptionA(_Branches):
    """35×35 module (Figure 5: a 5×5 conv replaced by two 3×3 convs; the released model keeps a 5×5 branch too)."""

    arch_label = "Inception A"

    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(c_in, 64, 1)
        self.branch5x5 = _chain(("reduce", ConvBN(c_in, 48, 1)), ("conv", ConvBN(48, 64, 5, padding=2)))
        self.branch3x3dbl = _chain(
            ("reduce", ConvBN(c_in, 64, 1)),
            ("conv1", ConvBN(64, 96, 3, padding=1)),
            ("conv2", ConvBN(96, 96, 3, padding=1)),
        )
        self.branch_pool = _avg_pool_proj(c_in, pool_features)


class ReductionA(_Branches):
    """Grid reduction 35 → 17 (Figure 10): stride-2 convs and a stride-2 max pool side by side."""

    arch_label = "Reduction A"

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = ConvBN(c_in, 384, 3, stride=2)
        self.branch3x3dbl = _chain(
            ("reduce", ConvBN(c_in, 64, 1)),
            ("conv1", ConvBN(64, 96, 3, padding=1)),
            ("conv2", ConvBN(96, 96, 3, stride=2)),
        )
        self.branch_pool = nn.MaxPool2d(3, stride=2)


class InceptionB(_Branches):
    """17×17 module (Figure 6 with n = 7): 7×7 convs factorised into 1×7 and 7×1."""

    arch_label = "Inception B"

    def __init__(self, c_in: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(c_in, 192, 1)
        self.branch7x7 = _chain(
            ("reduce", ConvBN(c_in, c7, 1)),
            ("conv1x7", ConvBN(c7, c7, (1, 7), padding=(0, 3))),
            ("conv7x1", ConvBN(c7, 192, (7, 1), padding=(3, 0))),
        )
        self.branch7x7dbl = _chain(
            ("reduce", ConvBN(c_in, c7, 1)),
            ("conv7x1_1", ConvBN(c7, c7, (7, 1), padding=(3, 0))),
            ("conv1x7_1", ConvBN(c7, c7, (1, 7), padding=(0, 3))),
            ("conv7x1_2", ConvBN(c7, c7, (7, 1), padding=(3, 0))),
            ("conv1x7_2", ConvBN(c7, 192, (1, 7), padding=(0, 3))),
        )
        self.branch_pool = _avg_pool_proj(c_in, 192)


class ReductionB(_Branches):
    """Grid reduction 17 → 8."""

    arch_label = "Reduction B"

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = _chain(("reduce", ConvBN(c_in, 192, 1)), ("conv", ConvBN(192, 320, 3, stride=2)))
        self.branch7x7x3 = _chain(
            ("reduce", ConvBN(c_in, 192, 1)),
            ("conv1x7", ConvBN(192, 192, (1, 7), padding=(0, 3))),
            ("conv7x1", ConvBN(192, 192, (7, 1), padding=(3, 0))),
            ("conv3x3", ConvBN(192, 192, 3, stride=2)),
        )
        self.branch_pool = nn.MaxPool2d(3, stride=2)


class _Split(nn.Module):
    """A 1×3 and a 3×1 conv applied to the same input, concatenated (Figure 7's expanded filter bank)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1x3 = ConvBN(c, c, (1, 3), padding=(0, 1))
        self.conv3x1 = ConvBN(c, c, (3, 1), padding=(1, 0))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.conv1x3(x), self.conv3x1(x)], dim=1)


class InceptionC(_Branches):
    """8×8 module (Figure 7): the last 3×3 and 1×3/3×1 pairs side by side, for wider outputs."""

    arch_label = "Inception C"

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(c_in, 320, 1)
        self.branch3x3 = _chain(("reduce", ConvBN(c_in, 384, 1)), ("split", _Split(384)))
        self.branch3x3dbl = _chain(
            ("reduce", ConvBN(c_in, 448, 1)), ("conv", ConvBN(448, 384, 3, padding=1)), ("split", _Split(384))
        )
        self.branch_pool = _avg_pool_proj(c_in, 192)


class AuxClassifier(nn.Sequential):
    """The auxiliary head on the 17×17 grid: avg pool 5×5/3, ConvBN 1×1 128, ConvBN 5×5 768, linear."""

    def __init__(self, c_in: int, num_classes: int) -> None:
        super().__init__(
            OrderedDict(
                [
                    ("pool", nn.AvgPool2d(5, stride=3)),
                    ("conv", ConvBN(c_in, 128, 1)),
                    ("fc_conv", ConvBN(128, 768, 5)),
                    ("flatten", nn.Flatten(1)),
                    ("fc", nn.Linear(768, num_classes)),
                ]
            )
        )


class InceptionV3(nn.Module):
    """``features`` (stem ``conv1a`` … ``pool2``, modules ``mixed5b`` … ``mixed7c``), ``classifier``
    (``avgpool``, ``dropout``, ``flatten``, ``fc``) and, with ``aux_logits``, ``aux`` (run after
    ``mixed6e`` in training mode only; ``forward`` then returns ``(logits, aux_logits)``)."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential, aux: nn.Module | None) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier
        self.aux = aux

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        aux = None
        for name, layer in self.features.named_children():
            x = layer(x)
            if name == "mixed6e" and self.aux is not None and self.training:
                aux = self.aux(x)
        x = self.classifier(x)
        return x if aux is None else (x, aux)


def inception_v3(*, aux_logits: bool = True, num_classes: int = 1000) -> InceptionV3:
    """Inception-v3 of Szegedy et al. (2016), "Rethinking the Inception Architecture for Computer Vision"
    (CVPR), in the layout of Google's released model (the one torchvision and timm port).

    Input 3×299×299. Batch normalisation after every convolution, the auxiliary head batch-normalised too
    ("BN-auxiliary"). ``aux_logits`` (default ``True``, as torchvision) adds the auxiliary classifier on
    the 17×17 grid, which runs only in training mode. Parameters: 27,161,264 with the auxiliary head,
    23,834,568 without (equal to torchvision's; derived in this module's docstring).
    """
    if not isinstance(aux_logits, bool):
        raise TypeError(f"aux_logits: must be a bool, got {aux_logits!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes: must be a positive int, got {num_classes!r}")
    features = nn.Sequential(
        OrderedDict(
            [
                ("conv1a", ConvBN(3, 32, 3, stride=2)),
                ("conv2a", ConvBN(32, 32, 3)),
                ("conv2b", ConvBN(32, 64, 3, padding=1)),
                ("pool1", nn.MaxPool2d(3, stride=2)),
                ("conv3b", ConvBN(64, 80, 1)),
                ("conv4a", ConvBN(80, 192, 3)),
                ("pool2", nn.MaxPool2d(3, stride=2)),
                ("mixed5b", InceptionA(192, pool_features=32)),
                ("mixed5c", InceptionA(256, pool_features=64)),
                ("mixed5d", InceptionA(288, pool_features=64)),
                ("mixed6a", ReductionA(288)),
                ("mixed6b", InceptionB(768, c7=128)),
                ("mixed6c", InceptionB(768, c7=160)),
                ("mixed6d", InceptionB(768, c7=160)),
                ("mixed6e", InceptionB(768, c7=192)),
                ("mixed7a", ReductionB(768)),
                ("mixed7b", InceptionC(1280)),
                ("mixed7c", InceptionC(2048)),
            ]
        )
    )
    classifier = nn.Sequential(
        OrderedDict(
            [
                ("avgpool", nn.AvgPool2d(8)),
                ("dropout", nn.Dropout(0.5)),
                ("flatten", nn.Flatten(1)),
                ("fc", nn.Linear(2048, num_classes)),
            ]
        )
    )
    aux = AuxClassifier(768, num_classes) if aux_logits else None
    return InceptionV3(features, classifier, aux)
