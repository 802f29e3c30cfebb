"""GoogLeNet (Inception-v1), from Szegedy et al. (2015), "Going Deeper with Convolutions".

C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, V. Vanhoucke and A. Rabinovich,
CVPR 2015 (arXiv:1409.4842). Written from the paper's Table 1, Figure 3 and section 5, not copied from any
library. Input 3×224×224.

The network (Table 1; "S" = same padding, "V" = valid, as in Figure 3):

=================  ==========  ============  ===============================================
layer              patch/str.  output        what it is
=================  ==========  ============  ===============================================
conv1              7×7/2 (S)   64×112×112    conv + ReLU
pool1              3×3/2 (S)   64×56×56      max pool, then LRN (``lrn1``)
conv2_reduce       1×1/1 (V)   64×56×56      the "#3×3 reduce" of Table 1's second conv row
conv2              3×3/1 (S)   192×56×56     conv + ReLU, then LRN (``lrn2``)
pool2              3×3/2 (S)   192×28×28     max pool
inception3a, 3b                256, 480 ×28×28
pool3              3×3/2 (S)   480×14×14
inception4a…4e                 512, 512, 512, 528, 832 ×14×14
pool4              3×3/2 (S)   832×7×7
inception5a, 5b                832, 1024 ×7×7
avgpool            7×7/1 (V)   1024×1×1      then dropout 40 %, linear 1000 (``fc``)
=================  ==========  ============  ===============================================

An inception module has four branches, concatenated along the channels: a 1×1 conv (``#1×1``); a 1×1
"reduce" conv then a 3×3 conv (``#3×3 reduce``, ``#3×3``); a 1×1 reduce then a 5×5 conv (``#5×5 reduce``,
``#5×5``); a 3×3 max pool (stride 1) then a 1×1 conv (``pool proj``). Every conv is followed by a ReLU
("All the convolutions, including those inside the Inception modules, use rectified linear activation").
The widths are Table 1's (:data:`INCEPTION`). Local response normalisation has no parameters; the paper
gives no hyperparameters for it, so ``nn.LocalResponseNorm(5)`` (size 5, α = 10⁻⁴, β = 0.75, k = 1) is used.

Auxiliary classifiers (section 5), on the outputs of 4a and 4d, used only in training: a 5×5 average pool
of stride 3 (→ 512×4×4 and 528×4×4), a 1×1 conv to 128 channels + ReLU, a fully connected layer of 1,024
units + ReLU, dropout 70 %, a linear layer to the 1,000 classes. "At inference time, these auxiliary
networks are discarded": ``forward`` returns ``(main, aux1, aux2)`` only when the model is in training mode
and built with ``aux_logits=True``, and the main logits alone otherwise.

Parameter count, weights + biases (a k×k conv c_i → c_o holds k²·c_i·c_o + c_o):

- conv1 9,472; conv2_reduce 4,160; conv2 110,784 → stem 124,416.
- Inception modules (Σ over the six convs): 3a 163,696; 3b 388,736; 4a 376,176; 4b 449,160; 4c 510,104;
  4d 605,376; 4e 868,352; 5a 1,043,456; 5b 1,444,080 → 5,849,136.
- fc 1,024·1,000 + 1,000 = 1,025,000.
- Total without auxiliary classifiers 124,416 + 5,849,136 + 1,025,000 = **6,998,552**.
- aux1: conv 512·128 + 128 = 65,664; fc 2,048·1,024 + 1,024 = 2,098,176; linear 1,024·1,000 + 1,000 =
  1,025,000 → 3,188,840. aux2 (528 input channels): conv 67,712 → 3,190,888.
- Total with both auxiliary classifiers **13,378,280**.

The paper's Table 1 counts weights only, in units of 1,024 (e.g. 3a: 159K = 163,328 / 1,024), and says
the network has "12 times fewer parameters than" AlexNet. Multiply-accumulates at 224×224:
1,582,671,872 (the paper: "a computational budget of 1.5 billion multiply-adds at inference time"; the "ops"
column of its Table 1 adds up to 1,502 M, and lists conv1 as 2.7K parameters and 34M operations where a 7×7
conv 3 → 64 at 112×112 holds 9,408 weights and costs 118,013,952 MACs: that row alone is 84.0 M more, more
than the whole difference).

How it differs from torchvision's ``googlenet`` (6,624,904 parameters in torchvision's documentation):
torchvision adds batch normalisation after every convolution (convs without bias, BN with 2·c_o
parameters), drops the LRNs, and uses a 3×3 conv in the branch the paper gives a 5×5 conv (a known
discrepancy, kept for compatibility with ported weights). The paper has neither batch normalisation (it
predates it) nor 3×3 convs in that branch, so this model follows the paper and has more parameters.

Build on the meta device (``with torch.device("meta"): model = googlenet()``) to count without weights.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

__all__ = ["INCEPTION", "PARAMS", "PARAMS_AUX", "AuxClassifier", "GoogLeNet", "Inception", "googlenet"]

#: Table 1 of the paper: (in_channels, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj) per module.
INCEPTION: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}

#: Parameters (weights + biases) without and with the two auxiliary classifiers (derived above).
PARAMS = 6_998_552
PARAMS_AUX = 13_378_280


def _conv(c_in: int, c_out: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    """A conv with 'same' padding (``kernel_size // 2``), with bias (the paper has no batch norm)."""
    return nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2)


def _relu() -> nn.ReLU:
    return nn.ReLU(inplace=True)


class Inception(nn.Module):
    """The inception module with dimension reductions (the paper's Figure 2(b)): four branches, concatenated.

    ``branch1x1``: 1×1 conv. ``branch3x3``: 1×1 reduce, 3×3 conv. ``branch5x5``: 1×1 reduce, 5×5 conv.
    ``branch_pool``: 3×3 max pool (stride 1, padding 1), 1×1 "pool proj" conv. Output channels:
    ``n1x1 + n3x3 + n5x5 + pool_proj``; the spatial size is kept.
    """

    arch_kind = "conv"  # one box of convolutions in nncost.arch_figures.draw_architecture
    arch_label = "Inception"

    def __init__(
        self, c_in: int, n1x1: int, n3x3_reduce: int, n3x3: int, n5x5_reduce: int, n5x5: int, pool_proj: int
    ) -> None:
        super().__init__()
        self.out_channels = n1x1 + n3x3 + n5x5 + pool_proj
        self.branch1x1 = nn.Sequential(OrderedDict([("conv", _conv(c_in, n1x1, 1)), ("relu", _relu())]))
        self.branch3x3 = nn.Sequential(OrderedDict([
            ("reduce", _conv(c_in, n3x3_reduce, 1)), ("relu_reduce", _relu()),
            ("conv", _conv(n3x3_reduce, n3x3, 3)), ("relu", _relu()),
        ]))
        self.branch5x5 = nn.Sequential(OrderedDict([
            ("reduce", _conv(c_in, n5x5_reduce, 1)), ("relu_reduce", _relu()),
            ("conv", _conv(n5x5_reduce, n5x5, 5)), ("relu", _relu()),
        ]))
        self.branch_pool = nn.Sequential(OrderedDict([
            ("pool", nn.MaxPool2d(3, stride=1, padding=1)), ("proj", _conv(c_in, pool_proj, 1)), ("relu", _relu()),
        ]))

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1x1(x), self.branch3x3(x), self.branch5x5(x), self.branch_pool(x)]
        return torch.cat(branches, dim=1)


class AuxClassifier(nn.Module):
    """Section 5's auxiliary classifier: 5×5/3 average pool, 1×1 conv 128 + ReLU, FC 1,024 + ReLU,
    dropout 70 %, linear to the classes. On a 14×14 map (4a, 4d) the pool gives 4×4, so the FC layer has
    128·4·4 = 2,048 inputs."""

    def __init__(self, c_in: int, num_classes: int = 1000) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv = _conv(c_in, 128, 1)
        self.relu_conv = _relu()
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.classifier = nn.Linear(1024, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.flatten(self.relu_conv(self.conv(self.pool(x))))
        return self.classifier(self.dropout(self.relu(self.fc(x))))


class GoogLeNet(nn.Module):
    """``features`` (stem, inception modules ``inception3a`` … ``inception5b`` and the max pools between
    them), ``classifier`` (``avgpool``, ``flatten``, ``dropout``, ``fc``), and, with auxiliary classifiers,
    ``aux1`` (on 4a) and ``aux2`` (on 4d)."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential, aux: dict[str, nn.Module]) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier
        self.aux_after = {"inception4a": "aux1", "inception4d": "aux2"} if aux else {}
        for name, head in aux.items():
            self.add_module(name, head)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        aux = []
        for name, layer in self.features.named_children():
            x = layer(x)
            if self.training and name in self.aux_after:
                aux.append(getattr(self, self.aux_after[name])(x))
        x = self.classifier(x)
        if aux:
            return x, aux[0], aux[1]
        return x


def googlenet(*, aux_logits: bool = False, num_classes: int = 1000) -> GoogLeNet:
    """GoogLeNet of Szegedy et al. (2015), "Going Deeper with Convolutions" (CVPR), Table 1 exactly.

    Input 3×224×224. No batch normalisation (the paper has none); LRN after ``pool1`` and ``conv2`` as in
    the paper's Figure 3; 5×5 convs in the 5×5 branches. ``aux_logits`` adds the two auxiliary classifiers
    of section 5 (on 4a and 4d), which run only in training mode. Parameters: 6,998,552 without the
    auxiliary classifiers, 13,378,280 with them (derived in this module's docstring; torchvision's
    batch-normalised variant with 3×3 convs in that branch has 6,624,904).
    """
    if not isinstance(aux_logits, bool):
        raise TypeError(f"aux_logits: must be a bool, got {aux_logits!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes: must be a positive int, got {num_classes!r}")

    def pool() -> nn.MaxPool2d:
        return nn.MaxPool2d(3, stride=2, padding=1)  # 3×3/2, same padding: 112 → 56 → 28 → 14 → 7

    layers: OrderedDict[str, nn.Module] = OrderedDict()
    layers["conv1"] = _conv(3, 64, 7, stride=2)
    layers["relu1"] = _relu()
    layers["pool1"] = pool()
    layers["lrn1"] = nn.LocalResponseNorm(5)
    layers["conv2_reduce"] = _conv(64, 64, 1)
    layers["relu2_reduce"] = _relu()
    layers["conv2"] = _conv(64, 192, 3)
    layers["relu2"] = _relu()
    layers["lrn2"] = nn.LocalResponseNorm(5)
    layers["pool2"] = pool()
    for name, widths in INCEPTION.items():
        layers[f"inception{name}"] = Inception(*widths)
        if name in ("3b", "4e"):
            layers[f"pool{3 if name == '3b' else 4}"] = pool()
    features = nn.Sequential(layers)
    classifier = nn.Sequential(
        OrderedDict(
            [
                ("avgpool", nn.AvgPool2d(7, stride=1)),
                ("flatten", nn.Flatten(1)),
                ("dropout", nn.Dropout(0.4)),
                ("fc", nn.Linear(1024, num_classes)),
            ]
        )
    )
    aux = {"aux1": AuxClassifier(512, num_classes), "aux2": AuxClassifier(528, num_classes)} if aux_logits else {}
    return GoogLeNet(features, classifier, aux)
