"""AlexNet, from Krizhevsky, Sutskever & Hinton (2012), "ImageNet classification with deep convolutional
neural networks", NeurIPS 25 (§3 and Fig. 2), and its one-tower re-layout from Krizhevsky (2014), "One
weird trick for parallelizing convolutional neural networks", arXiv:1404.5997.

Written from the papers, not copied from any library. Two variants.

``"two-tower"``: the 2012 network, trained split over two GTX 580 GPUs of 3 GB each. Each GPU holds
half of every layer's kernels; the GPUs exchange activations only at conv3 and at the fully connected
layers. So conv2, conv4 and conv5 see only the maps of their own GPU: they are convolutions with
``groups=2``. conv1 (both halves see the whole image), conv3 and the FC layers connect everything.

Input 3×227×227. The paper says 224×224, but with an 11×11 kernel, stride 4 and no padding the output
size is (224 − 11)/4 + 1 = 54.25, not an integer, while the paper's conv1 output is 55×55: that needs
(h − 11)/4 + 1 = 55, h = 227 (or padding, as the one-tower variant uses).

=======  ====================================  =========  ========================================  ===================
layer    kernels                                output     params                                    MACs
=======  ====================================  =========  ========================================  ===================
conv1    96@11×11×3, stride 4                  96×55×55   96·363 + 96 = 34,944                      105,415,200
         ReLU, LRN, max pool 3×3/2             96×27×27
conv2    256@5×5×48, pad 2, groups 2           256×27×27  256·1,200 + 256 = 307,456                 223,948,800
         ReLU, LRN, max pool 3×3/2             256×13×13
conv3    384@3×3×256, pad 1                    384×13×13  384·2,304 + 384 = 885,120                 149,520,384
conv4    384@3×3×192, pad 1, groups 2          384×13×13  384·1,728 + 384 = 663,936                 112,140,288
conv5    256@3×3×192, pad 1, groups 2          256×13×13  256·1,728 + 256 = 442,624                 74,760,192
         ReLU, max pool 3×3/2                  256×6×6
fc6      9,216 → 4,096, ReLU, dropout 0.5      4,096      37,752,832                                37,748,736
fc7      4,096 → 4,096, ReLU, dropout 0.5      4,096      16,781,312                                16,777,216
fc8      4,096 → 1,000                         1,000      4,097,000                                 4,096,000
=======  ====================================  =========  ========================================  ===================

Total **60,965,224** parameters (conv 2,334,080 + FC 58,631,144; the paper: "60 million parameters")
and **724,406,816** MACs (conv 665,784,864 + FC 58,621,952).

Local response normalisation (§3.3): b = a / (k + α·Σ a²)^β over n = 5 adjacent maps, k = 2,
α = 10⁻⁴, β = 0.75, after the ReLU of conv1 and conv2. ``nn.LocalResponseNorm`` divides its ``alpha``
by ``size`` (b = a / (k + alpha/n·Σ a²)^β), so the paper's α is ``alpha = 5·10⁻⁴`` here. Pooling is
"overlapping" (3×3 windows, stride 2; §3.4). Dropout (0.5) acts on the outputs of fc6 and fc7 (§4.2).

``"single-tower"``: the layout most libraries ship (torchvision's ``alexnet``), on 3×224×224: one tower
of 64, 192, 384, 256, 256 kernels, conv1 11×11/4 with padding 2 ((224 + 4 − 11)/4 + 1 = 55.25 → 55),
no LRN, and an ``AdaptiveAvgPool2d((6, 6))`` before the classifier (a no-op at 224×224, where conv5's
pooled output is already 6×6). Parameters: conv 23,296 + 307,392 + 663,936 + 884,992 + 590,080
= 2,469,696, FC 58,631,144, total **61,100,840** (torchvision's documented figure); MACs **714,188,480**.
It comes from Krizhevsky's one-GPU cuda-convnet2 configuration; the footnote of the 2014 paper lists
64, 192, 384, 384, 256 kernels instead (conv4 384): torchvision kept 256 so that its trained weights
stay valid (pytorch/vision#463, #704). Torchvision also applies dropout *before* fc6 and fc7; here
dropout follows the ReLUs of fc6 and fc7 as in the 2012 paper (no count depends on where it is).

Initialisation (§5): weights from N(0, 0.01²); biases 1 in conv2, conv4, conv5 and the hidden FC
layers ("to accelerate the early stages of learning by providing the ReLUs with positive inputs"),
0 in the others. Applied to both variants. It uses torch's global RNG: seed it for reproducible weights.
Build on the meta device (``with torch.device("meta"): model = alexnet()``) to count without allocating
244 MB of weights.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

VARIANTS = ("two-tower", "single-tower")

#: ``numel`` of each variant with 1,000 classes, derived in the module docstring.
PARAMS = {"two-tower": 60_965_224, "single-tower": 61_100_840}
#: Multiply-accumulates of one image at the variant's input size.
MACS = {"two-tower": 724_406_816, "single-tower": 714_188_480}
#: The input each variant is built for (batch 1).
INPUT_SHAPE = {"two-tower": (1, 3, 227, 227), "single-tower": (1, 3, 224, 224)}


class AlexNet(nn.Sequential):
    """AlexNet: ``features`` (convolutions), [``avgpool``], ``classifier``; see :func:`alexnet`."""

    def __init__(self, variant: str, features: nn.Sequential, classifier: nn.Sequential,
                 avgpool: nn.Module | None = None) -> None:
        parts: OrderedDict[str, nn.Module] = OrderedDict(features=features)
        if avgpool is not None:
            parts["avgpool"] = avgpool
        parts["classifier"] = classifier
        super().__init__(parts)
        self.variant = variant


def _lrn() -> nn.LocalResponseNorm:
    # the paper's k = 2, n = 5, alpha = 1e-4, beta = 0.75; torch divides alpha by n
    return nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)


def _classifier(num_classes: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict(
        flatten=nn.Flatten(),
        fc6=nn.Linear(256 * 6 * 6, 4096), relu6=nn.ReLU(inplace=True), drop6=nn.Dropout(0.5),
        fc7=nn.Linear(4096, 4096), relu7=nn.ReLU(inplace=True), drop7=nn.Dropout(0.5),
        fc8=nn.Linear(4096, num_classes),
    ))


def _init(model: AlexNet) -> None:
    """§5: weights N(0, 0.01²); biases 1 in conv2, conv4, conv5, fc6, fc7; 0 elsewhere."""
    ones = {"features.conv2", "features.conv4", "features.conv5", "classifier.fc6", "classifier.fc7"}
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.normal_(0.0, 0.01)
                module.bias.fill_(1.0 if name in ones else 0.0)


def alexnet(variant: str = "two-tower", num_classes: int = 1000) -> AlexNet:
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012, "ImageNet classification with deep convolutional
    neural networks").

    ``variant="two-tower"`` (default): the 2012 paper's network on 3×227×227 (the paper writes 224; 227
    is what makes conv1's 11×11/4 give 55×55): conv1 96@11×11/4, ReLU, LRN, max pool 3/2; conv2 256@5×5
    with ``groups=2`` (the two GPUs), ReLU, LRN, max pool; conv3 384@3×3 (across both GPUs); conv4
    384@3×3 and conv5 256@3×3, both ``groups=2``; max pool; fc6 4096, fc7 4096 (ReLU and dropout 0.5
    each), fc8 ``num_classes``. 60,965,224 parameters, 724,406,816 MACs.

    ``variant="single-tower"``: the one-tower layout most libraries ship (from Krizhevsky 2014, "One weird
    trick for parallelizing convolutional neural networks"), on 3×224×224: 64, 192, 384, 256, 256 kernels,
    conv1 11×11/4 with padding 2, no LRN, adaptive average pooling to 6×6, the same classifier.
    61,100,840 parameters, 714,188,480 MACs.

    Counts are for ``num_classes=1000``; the module docstring derives them.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant: must be one of {', '.join(map(repr, VARIANTS))}, got {variant!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes: must be an int >= 1, got {num_classes!r}")
    if variant == "two-tower":
        features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 96, 11, stride=4), relu1=nn.ReLU(inplace=True), norm1=_lrn(),
            pool1=nn.MaxPool2d(3, stride=2),
            conv2=nn.Conv2d(96, 256, 5, padding=2, groups=2), relu2=nn.ReLU(inplace=True), norm2=_lrn(),
            pool2=nn.MaxPool2d(3, stride=2),
            conv3=nn.Conv2d(256, 384, 3, padding=1), relu3=nn.ReLU(inplace=True),
            conv4=nn.Conv2d(384, 384, 3, padding=1, groups=2), relu4=nn.ReLU(inplace=True),
            conv5=nn.Conv2d(384, 256, 3, padding=1, groups=2), relu5=nn.ReLU(inplace=True),
            pool5=nn.MaxPool2d(3, stride=2),
        ))
        model = AlexNet(variant, features, _classifier(num_classes))
    else:
        features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 64, 11, stride=4, padding=2), relu1=nn.ReLU(inplace=True),
            pool1=nn.MaxPool2d(3, stride=2),
            conv2=nn.Conv2d(64, 192, 5, padding=2), relu2=nn.ReLU(inplace=True), pool2=nn.MaxPool2d(3, stride=2),
            conv3=nn.Conv2d(192, 384, 3, padding=1), relu3=nn.ReLU(inplace=True),
            conv4=nn.Conv2d(384, 256, 3, padding=1), relu4=nn.ReLU(inplace=True),
            conv5=nn.Conv2d(256, 256, 3, padding=1), relu5=nn.ReLU(inplace=True),
            pool5=nn.MaxPool2d(3, stride=2),
        ))
        model = AlexNet(variant, features, _classifier(num_classes), nn.AdaptiveAvgPool2d((6, 6)))
    _init(model)
    return model
