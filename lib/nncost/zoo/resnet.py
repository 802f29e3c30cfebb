"""ResNet-18, ResNet-34 and ResNet-50, written from the paper (He, Zhang, Ren & Sun, 2015/2016).

K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image Recognition", arXiv:1512.03385
(December 2015), CVPR 2016. Table 1 of the paper gives the layers; this module builds them for a
3×224×224 input:

- a stem: 7×7 conv, 64 channels, stride 2 (→ 64×112×112), batch norm, ReLU, 3×3 max pool stride 2
  (→ 64×56×56);
- four stages ``layer1`` … ``layer4`` at 56, 28, 14 and 7 pixels, of *basic* blocks (two 3×3 convs;
  ResNet-18 and -34) or *bottleneck* blocks (1×1 that reduces the channels, 3×3, 1×1 that expands them
  four times; ResNet-50); every conv is followed by batch norm (so it has no bias), and a block's last
  ReLU comes after the residual add;
- shortcuts: the identity where the shape is unchanged, a projection (1×1 conv + batch norm, the paper's
  option B) where the channels or the size change: the first block of each stage, except ResNet-18/34's
  ``layer1`` whose input already has 64 channels at 56×56;
- global average pooling and one fully connected layer (``fc``) to ``num_classes``.

Modules are named as in most code bases (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer2.0.downsample``,
``fc``), so the per-layer tables of :func:`nncost.profile` read like the paper's Table 1.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50"]


def _conv_bn(c_in: int, c_out: int, kernel_size: int, stride: int = 1) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    """A conv without bias (the batch norm after it has one) and its batch norm; 'same'-style padding."""
    conv = nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False)
    return conv, nn.BatchNorm2d(c_out)


def _projection(c_in: int, c_out: int, stride: int) -> nn.Sequential | None:
    """The paper's option B: a 1×1 conv + BN on the shortcut where the shape changes, else ``None``."""
    if stride == 1 and c_in == c_out:
        return None
    conv, bn = _conv_bn(c_in, c_out, 1, stride)
    return nn.Sequential(conv, bn)


class BasicBlock(nn.Module):
    """Two 3×3 convs (each with batch norm) and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))``.

    ``s`` is the identity, or a 1×1 projection when ``stride != 1`` or the channels change. The first conv
    carries the stride.
    """

    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(c_in, width, 3, stride)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = _conv_bn(width, width, 3)
        self.downsample = _projection(c_in, width, stride)
        self.relu2 = nn.ReLU(inplace=True)
        self.arch_label = f"Basic {width}" + (f" /{stride}" if stride > 1 else "")  # the box in arch_figures

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu2(y + shortcut)


class Bottleneck(nn.Module):
    """1×1 conv (reduce to ``width``), 3×3 conv (``width``), 1×1 conv (expand to ``4·width``), each with
    batch norm, and a shortcut; the last ReLU comes after the residual add.

    ``stride_on="3x3"`` (ResNet v1.5) puts a downsampling block's stride 2 on the 3×3 conv;
    ``stride_on="1x1"`` (v1, the paper's) on the first 1×1 conv, which then reads only one pixel in four.
    """

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int = 1, stride_on: str = "3x3") -> None:
        super().__init__()
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"stride_on: must be '1x1' (ResNet v1) or '3x3' (v1.5), got {stride_on!r}")
        s1, s2 = (stride, 1) if stride_on == "1x1" else (1, stride)
        c_out = width * self.expansion
        self.conv1, self.bn1 = _conv_bn(c_in, width, 1, s1)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = _conv_bn(width, width, 3, s2)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3, self.bn3 = _conv_bn(width, c_out, 1)
        self.downsample = _projection(c_in, c_out, stride)
        self.relu3 = nn.ReLU(inplace=True)
        self.arch_label = f"Bottleneck {width}" + (f" /{stride}" if stride > 1 else "")  # its inner width

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.relu2(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu3(y + shortcut)


class ResNet(nn.Module):
    """Stem, four stages of blocks, global average pooling, ``fc``. See :func:`resnet18` and friends."""

    def __init__(self, block: str, depths: tuple[int, int, int, int], num_classes: int = 1000,
                 stride_on: str = "3x3") -> None:
        super().__init__()
        if block not in ("basic", "bottleneck"):
            raise ValueError(f"block: must be 'basic' or 'bottleneck', got {block!r}")
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        expansion = 1 if block == "basic" else 4
        c_in = 64
        for stage, (width, depth) in enumerate(zip((64, 128, 256, 512), depths), start=1):
            blocks = []
            for i in range(depth):
                stride = 2 if (i == 0 and stage > 1) else 1
                if block == "basic":
                    blocks.append(BasicBlock(c_in, width, stride))
                else:
                    blocks.append(Bottleneck(c_in, width, stride, stride_on))
                c_in = width * expansion
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18 (He, Zhang, Ren & Sun, 2015, "Deep Residual Learning for Image Recognition", Table 1).

    Input 3×224×224. Basic blocks [2, 2, 2, 2] of widths 64, 128, 256, 512; projection shortcuts (option B)
    on the first block of stages 2–4 only. The same network as in torchvision (basic-block ResNets have
    no v1/v1.5 difference). 11,689,512 parameters with 1000 classes; about 1.8 G MACs (the paper's Table 1
    says 1.8×10⁹ "FLOPs", which are multiply-adds).
    """
    return ResNet("basic", (2, 2, 2, 2), num_classes)


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34 (He, Zhang, Ren & Sun, 2015, "Deep Residual Learning for Image Recognition", Table 1).

    Input 3×224×224. Basic blocks [3, 4, 6, 3] of widths 64, 128, 256, 512; projection shortcuts (option B)
    where the shape changes. 21,797,672 parameters with 1000 classes; about 3.6 G MACs (Table 1: 3.6×10⁹).
    """
    return ResNet("basic", (3, 4, 6, 3), num_classes)


def resnet50(num_classes: int = 1000, variant: str = "v1.5") -> ResNet:
    """ResNet-50 (He, Zhang, Ren & Sun, 2015, "Deep Residual Learning for Image Recognition", Table 1).

    Input 3×224×224. Bottleneck blocks [3, 4, 6, 3]: 1×1 conv reducing to 64/128/256/512 channels, a 3×3
    conv, a 1×1 conv expanding four times (to 256/512/1024/2048); a projection shortcut (option B, 1×1 conv
    + batch norm) on the first block of every stage, ``layer1`` included (64 → 256 channels).

    ``variant`` says where a downsampling block (first of stages 2–4) puts its stride 2:

    - ``"v1.5"`` (default; torchvision's and most training recipes' ResNet-50): on the 3×3 conv;
      about 4.09 G MACs;
    - ``"v1"`` (the paper's): on the first 1×1 conv; about 3.86 G MACs (the paper's Table 1 says
      3.8×10⁹ "FLOPs", multiply-adds), because that 1×1 conv and the 3×3 after it run at the reduced size.

    Both have the same 25,557,032 parameters with 1000 classes (a stride changes no weight).
    """
    variants = {"v1": "1x1", "v1.5": "3x3"}
    if variant not in variants:
        raise ValueError(
            f"variant: must be 'v1.5' (stride on the 3×3 conv) or 'v1' (on the first 1×1), got {variant!r}"
        )
    return ResNet("bottleneck", (3, 4, 6, 3), num_classes, variants[variant])
