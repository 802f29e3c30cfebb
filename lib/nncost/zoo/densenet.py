"""DenseNet-121, written from the paper (Huang, Liu, van der Maaten & Weinberger, 2017).

G. Huang, Z. Liu, L. van der Maaten and K. Q. Weinberger, "Densely Connected Convolutional Networks",
CVPR 2017 (arXiv:1608.06993, August 2016). Table 1 of the paper gives the ImageNet DenseNets; this module
builds DenseNet-121, the "DenseNet-BC" form (bottleneck layers and compression), for a 3×224×224 input:

- a stem: 7×7 conv with 2k = 64 channels, stride 2 (→ 112×112), batch norm, ReLU, 3×3 max pool stride 2
  (→ 56×56);
- four dense blocks of [6, 12, 24, 16] layers. Layer ℓ of a block reads the *concatenation* of the block's
  input and of every earlier layer's output, and adds k = 32 channels (the growth rate): batch norm,
  ReLU, a 1×1 conv to 4k = 128 channels (the bottleneck), batch norm, ReLU, a 3×3 conv to k channels;
- between blocks, a transition: batch norm, ReLU, a 1×1 conv halving the channels (compression θ = 0.5),
  a 2×2 average pool with stride 2;
- a final batch norm and ReLU, global average pooling, one fully connected layer to ``num_classes``.

Convs have no bias (each is preceded by a batch norm of the pre-activation ordering). Channels: 64 → 256
after block 1 (64 + 6·32), 128 after transition 1; 128 → 512 → 256; 256 → 1024 → 512; 512 → 1024.
Module names follow the usual layout (``features.denseblock1.denselayer1.conv1``, ``features.transition1``,
``classifier``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["DenseBlock", "DenseLayer", "DenseNet", "Transition", "densenet121"]


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1×1 (to ``bottleneck`` channels) - BN-ReLU-Conv3×3 (to ``growth`` channels), on the
    concatenation of all the feature maps it is given."""

    def __init__(self, c_in: int, growth: int, bottleneck: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, bottleneck, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bottleneck)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bottleneck, growth, 3, padding=1, bias=False)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = torch.cat(features, 1)  # the dense connection: every earlier map, side by side
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.Module):
    """``layers`` dense layers; the block outputs its input and every layer's output, concatenated."""

    def __init__(self, layers: int, c_in: int, growth: int, bottleneck: int) -> None:
        super().__init__()
        for i in range(layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(c_in + i * growth, growth, bottleneck))
        self.arch_label = f"Dense ×{layers}, {c_in}→{c_in + layers * growth}"  # the box in arch_figures

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.children():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN, ReLU, a 1×1 conv from ``c_in`` to ``c_out`` channels, 2×2 average pool with stride 2."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(c_in)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.pool = nn.AvgPool2d(2, stride=2)
        self.arch_label = f"Transition {c_in}→{c_out} /2"  # the box in arch_figures


class DenseNet(nn.Module):
    """DenseNet-BC: stem, dense blocks separated by transitions, BN-ReLU, global average pool, classifier."""

    def __init__(self, blocks: tuple[int, ...] = (6, 12, 24, 16), growth: int = 32, compression: float = 0.5,
                 bottleneck_factor: int = 4, num_classes: int = 1000) -> None:
        super().__init__()
        c = 2 * growth
        self.features = nn.Sequential()
        self.features.add_module("conv0", nn.Conv2d(3, c, 7, stride=2, padding=3, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(c))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", nn.MaxPool2d(3, stride=2, padding=1))
        for i, layers in enumerate(blocks, start=1):
            self.features.add_module(f"denseblock{i}", DenseBlock(layers, c, growth, bottleneck_factor * growth))
            c += layers * growth
            if i < len(blocks):
                c_out = int(c * compression)
                self.features.add_module(f"transition{i}", Transition(c, c_out))
                c = c_out
        self.features.add_module("norm5", nn.BatchNorm2d(c))
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.features(x))
        return self.classifier(self.flatten(self.avgpool(x)))


def densenet121(num_classes: int = 1000) -> DenseNet:
    """DenseNet-121 (Huang, Liu, van der Maaten & Weinberger, 2017, "Densely Connected Convolutional
    Networks", Table 1).

    Input 3×224×224. DenseNet-BC with growth rate k = 32, dense blocks [6, 12, 24, 16], bottleneck 1×1
    convs to 4k = 128 channels, compression 0.5 in the transitions; 121 = 1 stem conv + 2·(6+12+24+16)
    conv layers in the blocks + 3 transition convs + 1 classifier. The same layers as torchvision's
    ``densenet121`` (which uses the naive concatenation too; its memory-efficient checkpointing changes
    no count). 7,978,856 parameters with 1000 classes; about 2.9 G MACs.
    """
    return DenseNet((6, 12, 24, 16), growth=32, compression=0.5, bottleneck_factor=4, num_classes=num_classes)
