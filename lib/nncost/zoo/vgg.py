"""VGG, from Simonyan & Zisserman (2015), "Very Deep Convolutional Networks for Large-Scale Image Recognition".

Written from the paper (ICLR 2015, arXiv:1409.1556), not copied from any library. Table 1 of the paper gives
six configurations, A–E, of one plan:

- input 3×224×224 (a fixed-size crop of a rescaled ImageNet image);
- five *stages* of convolutions, each followed by a 2×2 max pool of stride 2 (224 → 112 → 56 → 28 → 14 → 7);
- every convolution 3×3, stride 1, padding 1 (so a stage keeps its spatial size), followed by a ReLU;
  configuration C also has 1×1 convolutions ("conv1-256", "conv1-512");
- channels 64, 128, 256, 512, 512 in the five stages;
- three fully connected layers on the flattened 512×7×7 map: 4096, 4096, 1000, with ReLU and dropout (0.5)
  after the first two ("dropout regularisation for the first two fully-connected layers", §3.1), then a
  soft-max (not part of the module: it is in the loss, as usual in torch).

The configurations differ only in how many convolutions each stage has; counting the convolutions and the
three FC layers gives the names VGG-11 (A), VGG-13 (B), VGG-16 (C, D) and VGG-19 (E).

Parameter counts (weights + biases), derived by hand. A 3×3 convolution c_i → c_o holds 9·c_i·c_o + c_o
parameters; a linear layer c_i → c_o holds c_i·c_o + c_o:

=============  ==============================================  ==========
conv           3×3, c_i → c_o                                   params
=============  ==============================================  ==========
3 → 64         9·3·64 + 64                                      1,792
64 → 64        9·64·64 + 64                                     36,928
64 → 128       9·64·128 + 128                                   73,856
128 → 128      9·128·128 + 128                                  147,584
128 → 256      9·128·256 + 256                                  295,168
256 → 256      9·256·256 + 256                                  590,080
256 → 512      9·256·512 + 512                                  1,180,160
512 → 512      9·512·512 + 512                                  2,359,808
=============  ==============================================  ==========

FC layers (the same in every configuration): 25,088·4,096 + 4,096 = 102,764,544 (fc6, on 512·7·7 = 25,088
inputs), 4,096·4,096 + 4,096 = 16,781,312 (fc7), 4,096·1,000 + 1,000 = 4,097,000 (fc8): 123,642,856 in all.

- A (VGG-11): convs 1,792 + 73,856 + 295,168 + 590,080 + 1,180,160 + 3·2,359,808 = 9,220,480;
  total 9,220,480 + 123,642,856 = **132,863,336**.
- B (VGG-13): A + 36,928 + 147,584 = 9,405,184 conv; total **133,047,848**.
- C (VGG-16 with 1×1): B + 1×1 convs 256·256 + 256 = 65,792 and 2·(512·512 + 512) = 525,312; total
  **133,638,952**.
- D (VGG-16): convs 1,792 + 36,928 + 73,856 + 147,584 + 295,168 + 2·590,080 + 1,180,160 + 5·2,359,808
  = 14,714,688; total 14,714,688 + 123,642,856 = **138,357,544**.
- E (VGG-19): D + 590,080 + 2·2,359,808 = 20,024,384 conv; total **143,667,240**.

The paper's Table 2 rounds these to 133 (A, A-LRN, B), 134 (C), 138 (D) and 144 (E) million.

Multiply-accumulates at 224×224 (batch 1): A 7,609,090,048; D 15,470,264,320; E 19,632,062,464 (the chapter
computes and checks them; a conv layer costs h_o·w_o·c_o·9·c_i MACs, an FC layer c_i·c_o).

Variants and how they differ from other well-known ones:

- ``batch_norm=True`` adds ``nn.BatchNorm2d`` after every convolution (before its ReLU). The paper has no
  batch normalisation (it predates it); this is the "vgg16_bn" variant libraries ship: +2·c_o parameters per
  convolution (VGG-16: +8,448 → 138,365,992).
- Libraries in the torchvision style put an ``AdaptiveAvgPool2d((7, 7))`` between the convolutions and the
  classifier, so that any input of at least 32×32 reaches fc6 as 512×7×7. It has no parameters, and at
  224×224 it does nothing (7×7 in, 7×7 out). Our model has none unless asked (``adaptive_pool=True``):
  without it, the input must be ``image_size``×``image_size``, and fc6 has 512·(image_size/32)² inputs.
  ``image_size`` exists so that a small copy (e.g. 32×32, fc6 on 512 inputs) can run a real forward pass
  quickly in tests; at the default 224 the model is the paper's.
- Configuration A-LRN (A with local response normalisation after the first layer) is not built: the paper
  found LRN did not help (§4.1).

Weights are initialised as in the paper's random initialisation (§3.1): weights from N(0, 10⁻²) — a standard
deviation of 0.01 — and biases 0. (The paper trained A first and initialised the deeper nets' first four
convolutions and FC layers from it; it notes that Glorot initialisation works as well.) The values depend on
torch's global RNG: seed it for reproducible weights. Build on the meta device
(``with torch.device("meta"): model = vgg16()``) to count without allocating 553 MB of weights.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

#: Table 1 of the paper. An int is a 3×3 convolution (stride 1, padding 1) to that many channels followed
#: by a ReLU; ``(channels, kernel)`` a convolution of another kernel size (configuration C's 1×1); ``"M"``
#: a 2×2 max pool of stride 2, which ends a stage.
CONFIGS: dict[str, list[Any]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M", 512, 512, (512, 1), "M", 512, 512, (512, 1), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

#: Names by depth (weight layers): VGG-11 is A, VGG-13 B, VGG-16 D (the usual one), VGG-19 E.
ALIASES: dict[str, str] = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}

#: Published parameter counts (derived above; the paper's Table 2 rounds them to millions).
PARAMS: dict[str, int] = {
    "A": 132_863_336,
    "B": 133_047_848,
    "C": 133_638_952,
    "D": 138_357_544,
    "E": 143_667_240,
}


class VGG(nn.Module):
    """``features`` (convolutions, ReLUs and max pools, named as in the paper's Caffe models: ``conv1_1``,
    ``relu1_1``, ..., ``pool5``), an optional ``avgpool`` and ``classifier`` (``flatten``, ``fc6``, ``relu6``,
    ``drop6``, ``fc7``, ``relu7``, ``drop7``, ``fc8``)."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential, avgpool: nn.Module | None) -> None:
        super().__init__()
        self.features = features
        if avgpool is not None:
            self.avgpool = avgpool
        self.classifier = classifier

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        if hasattr(self, "avgpool"):
            x = self.avgpool(x)
        return self.classifier(x)


def _layers(config: str | Sequence[Any]) -> list[Any]:
    """The layer list of a configuration name (``"A"``–``"E"``, ``"vgg16"``, ...) or of a list given as is."""
    if isinstance(config, str):
        key = ALIASES.get(config.lower(), config.upper())
        if key not in CONFIGS:
            names = ", ".join([*CONFIGS, *ALIASES])
            raise ValueError(f"config: must be one of {names} or a list of layers, got {config!r}")
        return list(CONFIGS[key])
    if not isinstance(config, Sequence) or not config:
        raise ValueError(f"config: must be a configuration name or a non-empty list of layers, got {config!r}")
    layers = list(config)
    for i, item in enumerate(layers):
        ok = item == "M" or (isinstance(item, int) and not isinstance(item, bool) and item > 0) or (
            isinstance(item, tuple) and len(item) == 2 and all(isinstance(v, int) and v > 0 for v in item)
            and item[1] % 2 == 1
        )
        if not ok:
            raise ValueError(
                f"config[{i}]: must be a channel count (3×3 conv), (channels, odd kernel) or 'M' (max pool), "
                f"got {item!r}"
            )
    if "M" not in layers:
        raise ValueError("config: needs at least one 'M' (max pool); the paper's configurations have five")
    return layers


def vgg(
    config: str | Sequence[Any],
    *,
    batch_norm: bool = False,
    num_classes: int = 1000,
    image_size: int = 224,
    adaptive_pool: bool = False,
    dropout: float = 0.5,
) -> VGG:
    """A VGG network of Simonyan & Zisserman (2015), "Very Deep Convolutional Networks for Large-Scale Image
    Recognition" (ICLR), configuration ``config`` of their Table 1.

    ``config``: ``"A"`` (VGG-11), ``"B"`` (VGG-13), ``"C"`` (VGG-16 with three 1×1 convolutions), ``"D"``
    (VGG-16), ``"E"`` (VGG-19), the aliases ``"vgg11"``, ``"vgg13"``, ``"vgg16"``, ``"vgg19"``, or a list in
    the format of :data:`CONFIGS`. Input: 3 × ``image_size`` × ``image_size`` (the paper's 224 by default).
    ``batch_norm`` adds BatchNorm2d after every convolution (not in the paper: the later "_bn" variant);
    ``adaptive_pool`` adds torchvision's ``AdaptiveAvgPool2d((7, 7))`` before the classifier (no parameters;
    fc6 then always has 512·7·7 inputs). Parameter counts with the defaults: A 132,863,336, B 133,047,848,
    C 133,638,952, D 138,357,544, E 143,667,240 (derived in this module's docstring).
    """
    layers = _layers(config)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm: must be a bool, got {batch_norm!r}")
    if not isinstance(adaptive_pool, bool):
        raise TypeError(f"adaptive_pool: must be a bool, got {adaptive_pool!r}")
    for name, value in (("num_classes", num_classes), ("image_size", image_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: must be a positive int, got {value!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout: must be in [0, 1), got {dropout!r}")

    modules: OrderedDict[str, nn.Module] = OrderedDict()
    channels, size, stage, index = 3, image_size, 1, 1
    for item in layers:
        if item == "M":
            if size < 2:
                raise ValueError(
                    f"image_size: {image_size} is too small for {layers.count('M')} max pools of stride 2; "
                    f"it must be at least {2 ** layers.count('M')}"
                )
            modules[f"pool{stage}"] = nn.MaxPool2d(kernel_size=2, stride=2)
            size //= 2
            stage, index = stage + 1, 1
            continue
        out, kernel = item if isinstance(item, tuple) else (item, 3)
        suffix = f"{stage}_{index}"
        modules[f"conv{suffix}"] = nn.Conv2d(channels, out, kernel_size=kernel, stride=1, padding=kernel // 2)
        if batch_norm:
            modules[f"bn{suffix}"] = nn.BatchNorm2d(out)
        modules[f"relu{suffix}"] = nn.ReLU(inplace=True)
        channels, index = out, index + 1
    features = nn.Sequential(modules)

    avgpool = nn.AdaptiveAvgPool2d((7, 7)) if adaptive_pool else None
    spatial = 7 if adaptive_pool else size
    classifier = nn.Sequential(
        OrderedDict(
            [
                ("flatten", nn.Flatten(1)),
                ("fc6", nn.Linear(channels * spatial * spatial, 4096)),
                ("relu6", nn.ReLU(inplace=True)),
                ("drop6", nn.Dropout(dropout)),
                ("fc7", nn.Linear(4096, 4096)),
                ("relu7", nn.ReLU(inplace=True)),
                ("drop7", nn.Dropout(dropout)),
                ("fc8", nn.Linear(4096, num_classes)),
            ]
        )
    )
    model = VGG(features, classifier, avgpool)
    for module in model.modules():  # the paper's random initialisation (§3.1)
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(module.weight, mean=0.0, std=0.01)
            nn.init.zeros_(module.bias)
    return model


def vgg11(**kwargs: Any) -> VGG:
    """VGG-11, configuration A of Simonyan & Zisserman (2015): 8 convolutions + 3 FC layers, input 3×224×224,
    132,863,336 parameters (the paper's Table 2: 133 M). Keyword arguments as for :func:`vgg`."""
    return vgg("A", **kwargs)


def vgg16(**kwargs: Any) -> VGG:
    """VGG-16, configuration D of Simonyan & Zisserman (2015): 13 convolutions + 3 FC layers, input 3×224×224,
    138,357,544 parameters (the paper's Table 2: 138 M). Keyword arguments as for :func:`vgg`."""
    return vgg("D", **kwargs)


def vgg19(**kwargs: Any) -> VGG:
    """VGG-19, configuration E of Simonyan & Zisserman (2015): 16 convolutions + 3 FC layers, input 3×224×224,
    143,667,240 parameters (the paper's Table 2: 144 M). Keyword arguments as for :func:`vgg`."""
    return vgg("E", **kwargs)
