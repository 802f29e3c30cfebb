"""MobileNet v1 (Howard et al., 2017), written from the paper's Table 1.

Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto and Adam, "MobileNets: Efficient Convolutional
Neural Networks for Mobile Vision Applications", arXiv:1704.04861, 2017.

Every convolution but the first is *depthwise separable*: a 3×3 depthwise convolution (one filter per
channel, ``groups = channels``) followed by a 1×1 pointwise convolution that mixes the channels, each
followed by batch normalization and ReLU. Table 1 of the paper, for an input of 3×224×224:

=====  ==============  ===================  ==============
 n     layer / stride  filter shape         output
=====  ==============  ===================  ==============
 1     conv / s2       3×3×3×32             32×112×112
 13    dw / s, pw / 1  3×3×c dw, 1×1×c×c'   (see ``CONFIG``)
 1     avg pool 7×7    —                    1024×1×1
 1     FC              1024×1000            1000
=====  ==============  ===================  ==============
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

# (output channels of the pointwise conv, stride of the depthwise conv) of the 13 separable blocks, from
# Table 1 of the paper. The paper's table gives the last depthwise conv ("Conv dw / s2" on 7×7×1024) a
# stride of 2, a typo: the next row's input is listed as 7×7×1024, and the 7×7 average pool that follows
# needs a 7×7 map, so it has stride 1 here (as in the authors' TensorFlow release).
CONFIG: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)
STEM_CHANNELS = 32


def scaled(channels: int, width_mult: float) -> int:
    """The channel count under width multiplier α: ``int(channels · α)`` (rounded down, at least 1).

    The paper only says that the number of input channels M becomes αM and output channels N become αN;
    for its α ∈ {1, 0.75, 0.5, 0.25} every channel count of Table 1 (32, 64, ..., 1024, all multiples of 32)
    times α is an integer, so no rounding happens for the paper's models. For other α this rounds down.
    (The authors' TensorFlow code also rounds down, with a floor of 8 channels, ``max(int(c·α), 8)``, which
    only bites for α < 0.25.)
    """
    return max(1, int(channels * width_mult))


def _conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int, groups: int = 1) -> list[tuple[str, nn.Module]]:
    return [
        ("conv", nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False)),
        ("bn", nn.BatchNorm2d(c_out)),
        ("relu", nn.ReLU(inplace=True)),
    ]


def separable_block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """A depthwise separable convolution as in Fig. 3 (right) of the paper: dw 3×3 + BN + ReLU, pw 1×1 + BN + ReLU.

    Children: ``dw`` (``Conv2d(c_in, c_in, 3, stride, padding=1, groups=c_in)``), ``dw_bn``, ``dw_relu``,
    ``pw`` (``Conv2d(c_in, c_out, 1)``), ``pw_bn``, ``pw_relu``. No conv has a bias (BN follows each).
    """
    (_, dw), (_, dw_bn), (_, dw_relu) = _conv_bn_relu(c_in, c_in, 3, stride, groups=c_in)
    (_, pw), (_, pw_bn), (_, pw_relu) = _conv_bn_relu(c_in, c_out, 1, 1)
    block = nn.Sequential(OrderedDict(dw=dw, dw_bn=dw_bn, dw_relu=dw_relu, pw=pw, pw_bn=pw_bn, pw_relu=pw_relu))
    block.arch_kind = "conv"  # how nncost.arch_figures draws the block when folded
    block.arch_label = f"dw 3×3{'/2' if stride == 2 else ''} + pw 1×1"
    return block


class MobileNetV1(nn.Module):
    """``features`` (``conv1`` then ``block1`` … ``block13``), ``avgpool``, ``classifier`` (one ``nn.Linear``)."""

    def __init__(self, width_mult: float = 1.0, resolution: int = 224, num_classes: int = 1000) -> None:
        super().__init__()
        if not width_mult > 0:
            raise ValueError(f"width_mult: must be > 0 (the paper uses 1, 0.75, 0.5, 0.25), got {width_mult!r}")
        if not isinstance(resolution, int) or resolution < 1:
            raise ValueError(f"resolution: must be a positive int such as 224, got {resolution!r}")
        self.width_mult = width_mult
        self.resolution = resolution
        c = scaled(STEM_CHANNELS, width_mult)
        stem = nn.Sequential(OrderedDict(_conv_bn_relu(3, c, 3, 2)))
        stem.arch_kind, stem.arch_label = "conv", "Conv 3×3/2"
        layers: list[tuple[str, nn.Module]] = [("conv1", stem)]
        for i, (channels, stride) in enumerate(CONFIG, start=1):
            c_out = scaled(channels, width_mult)
            layers.append((f"block{i}", separable_block(c, c_out, stride)))
            c = c_out
        self.features = nn.Sequential(OrderedDict(layers))
        # Five stride-2 layers, each k=3, p=1: a side of r becomes ⌈r/2⌉ five times, i.e. ⌈r/32⌉ (7 at 224).
        self.final_size = -(-resolution // 32)
        self.avgpool = nn.AvgPool2d(self.final_size)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def mobilenet_v1(*, width_mult: float = 1.0, resolution: int = 224, num_classes: int = 1000) -> MobileNetV1:
    """MobileNet v1 of Howard et al. (2017), "MobileNets: Efficient Convolutional Neural Networks for Mobile
    Vision Applications", Table 1, for inputs of 3 × ``resolution`` × ``resolution`` (3×224×224 by default).

    - ``width_mult`` is the paper's width multiplier α: every layer's channel count c becomes ``int(c·α)``
      (see :func:`scaled`; exact for the paper's α = 1, 0.75, 0.5, 0.25).
    - ``resolution`` is the input side the model is built for, the paper's resolution multiplier ρ times 224
      (224, 192, 160, 128). It fixes the kernel of the final average pool to the last feature map's side,
      ⌈resolution/32⌉ (the paper's "Avg Pool 7×7" at 224), so the model expects exactly that input size.
    - Variant: the paper's, with the last depthwise conv at stride 1 (Table 1 prints "s2", a typo: see
      ``CONFIG``), no conv biases (BN after every conv), no dropout, ReLU (not ReLU6, which the authors'
      TensorFlow code uses: it changes no count). The classifier is one ``nn.Linear`` with bias.

    Parameters at α = 1 and 1000 classes: 4,231,976 = 4,210,088 weights (conv 864 + depthwise 44,640 +
    pointwise 3,139,584 + FC 1,025,000) + 21,888 BatchNorm scales and shifts (2 per channel over the 10,944
    channels of the 27 BN layers). The paper's "4.2M" is either. BN running statistics are buffers, not
    parameters. MACs at 224: 568,740,352 (the paper's "569M" mult-adds), FC included.

    Weights keep torch's default initialisation (seed torch's RNG for reproducible values); nothing is
    downloaded. Build it under ``with torch.device("meta"):`` to count without allocating the weights.
    """
    return MobileNetV1(width_mult=width_mult, resolution=resolution, num_classes=num_classes)
