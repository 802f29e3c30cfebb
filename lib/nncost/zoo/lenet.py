"""LeNet-5, from LeCun, Bottou, Bengio & Haffner (1998), "Gradient-based learning applied to document
recognition", Proceedings of the IEEE 86(11), 2278–2324 (§II.B, Fig. 2, Table I and Appendix A).

Written from the paper, not copied from any library. Two variants:

``"original"``: the paper's LeNet-5 on a 1×32×32 input (a 28×28 digit centred in a 32×32 field).
Every layer but the output computes a weighted sum plus a bias, passed through the squashing function
f(a) = A·tanh(S·a), A = 1.7159, S = 2/3 (Appendix A):

=========  ==========================================================  ==============  =============
layer      what it does                                                params          connections
=========  ==========================================================  ==============  =============
C1         6 maps of 5×5 convolutions, 1×32×32 → 6×28×28              6·(25+1) = 156  156·28·28 = 122,304
S2         each unit adds a 2×2 block of its C1 map, × a trainable     6·2 = 12        6·14·14·(4+1) = 5,880
           coefficient, + a trainable bias (one of each per map),
           stride 2 → 6×14×14
C3         16 maps of 5×5 convolutions, each on only *some* S2 maps   60·25 + 16      1,516·10·10 = 151,600
           (Table I: 6 maps see 3 S2 maps, 9 see 4, 1 sees all 6:     = 1,516
           60 connections) → 16×10×10
S4         as S2, on 16 maps → 16×5×5                                 16·2 = 32       16·5·5·5 = 2,000
C5         120 maps of 5×5 convolutions on all 16 S4 maps → 120×1×1   120·(400+1)     48,120
                                                                       = 48,120
F6         fully connected 120 → 84                                    84·(120+1)      10,164
                                                                       = 10,164
output     10 Euclidean RBF units: y_i = Σ_j (x_j − w_ij)²            84·10 = 840     840
=========  ==========================================================  ==============  =============

Trainable: 156 + 12 + 1,516 + 32 + 48,120 + 10,164 = **60,000** — the paper's "60,000 trainable free
parameters". Connections: 122,304 + 5,880 + 151,600 + 2,000 + 48,120 + 10,164 + 840 = **340,908**, the
paper's figure, which therefore includes the output layer. The RBF centres w_ij are 840 more parameters,
but the paper "chose [them] by hand and kept [them] fixed (at least initially)" (§II.B): ±1 codes drawn as
7×12 bitmaps of the characters. Here they are an ``nn.Parameter`` with ``requires_grad=False``, set to
random ±1 values (the paper's bitmaps are not reproduced), so ``numel`` gives **60,840** and
``nncost.profile(...).trainable_params`` gives 60,000.

Each S2/S4 unit is written as a depthwise 2×2 convolution of stride 2 whose four weights are one shared
coefficient (``expand``, a view: one parameter per map). That is the paper's arithmetic,
c·(a + b + c + d) = c·a + c·b + c·c + c·d, and nncost counts 4 multiply-accumulates and 1 bias add per
unit, the paper's 5 connections. C3 is one module holding one 5×5 kernel per connection of Table I
(weight 60×5×5) and runs as four grouped convolutions, one per kind of input set. The RBF layer is
computed as ‖x‖² − 2·x·wᵢ + ‖wᵢ‖², equal to Σ_j (x_j − w_ij)², so its 840 products are a matrix
product that nncost and torch count as 840 MACs. With these choices a layer's MACs plus its bias adds
equal the paper's connections, layer by layer: MACs 332,824 in all, bias adds 8,084, sum 340,908.

Initialisation (Appendix A): weights and biases uniform in [−2.4/Fᵢ, 2.4/Fᵢ], Fᵢ the fan-in of the unit
the weight goes into. It uses torch's global RNG: seed it for reproducible weights.

``"modern"``: the variant most tutorials and courses build (e.g. PyTorch's "Neural Networks" tutorial):
conv 6@5×5 → ReLU → max pool 2 → conv 16@5×5 (on *all* 6 maps) → ReLU → max pool 2 → FC 400→120 → ReLU
→ FC 120→84 → ReLU → FC 84→10 (a plain linear output, logits for a softmax loss), on 1×32×32. Its
parameters: 156 + (16·6·25 + 16 = 2,416) + (120·400 + 120 = 48,120) + 10,164 + (10·84 + 10 = 850)
= **61,706**. The choice of ReLU or tanh, max or average pooling does not change a single parameter or
MAC. Against the original's 60,840: the full C3 adds 900 (2,416 − 1,516), parameter-free pooling removes
the 44 of S2 and S4, and a linear output with biases (850) replaces the 840 RBF centres: +866. MACs
416,520 (the full C3 does 240,000 instead of 150,000; pooling does none).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

VARIANTS = ("original", "modern")

#: Table I of the paper: the S2 maps each C3 map takes as input (rows are C3 maps 0–15).
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),  # cyclically contiguous triples
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),  # cyclically contiguous fours
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),  # non-contiguous fours
    (0, 1, 2, 3, 4, 5),  # all six
)

#: ``numel`` of each variant (num_classes=10), derived in the module docstring.
PARAMS = {"original": 60_840, "modern": 61_706}
#: Trainable parameters (the original's RBF centres are fixed).
TRAINABLE_PARAMS = {"original": 60_000, "modern": 61_706}
#: Multiply-accumulates of one 1×32×32 image.
MACS = {"original": 332_824, "modern": 416_520}
#: The paper's count of connections of the original LeNet-5.
CONNECTIONS = 340_908
INPUT_SHAPE = (1, 1, 32, 32)


class Squash(nn.Module):
    """The paper's squashing function f(a) = A·tanh(S·a), A = 1.7159, S = 2/3 (Appendix A)."""

    arch_kind = "activation"
    arch_label = "scaled tanh"

    def __init__(self, amplitude: float = 1.7159, slope: float = 2 / 3) -> None:
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x: Tensor) -> Tensor:
        return self.amplitude * torch.tanh(self.slope * x)

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4f}"


class Subsampling(nn.Module):
    """S2/S4: a unit adds a 2×2 block of its map, multiplies by the map's coefficient, adds the map's bias.

    Written as a depthwise 2×2 convolution of stride 2 whose kernel is the coefficient repeated four times
    (a view, so 2 parameters per map), which is the same arithmetic.
    """

    arch_kind = "pool"

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        self.weight = nn.Parameter(torch.empty(channels))  # the trainable coefficient
        self.bias = nn.Parameter(torch.empty(channels))
        self.arch_label = f"Subsample {kernel_size}×{kernel_size}"

    def forward(self, x: Tensor) -> Tensor:
        k = self.kernel_size
        kernel = self.weight.view(-1, 1, 1, 1).expand(self.channels, 1, k, k)
        return F.conv2d(x, kernel, self.bias, stride=k, groups=self.channels)

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}, stride={self.kernel_size}"


class PartialConv2d(nn.Module):
    """C3: 5×5 convolutions where output map j sees only the input maps ``table[j]`` (Table I).

    ``weight`` holds one kernel per connection (Σ_j |table[j]| kernels), ``bias`` one per output map. The
    maps are grouped by input set size and each group runs as one grouped convolution on the gathered
    input maps.
    """

    arch_kind = "conv"

    def __init__(self, table: tuple[tuple[int, ...], ...], kernel_size: int = 5) -> None:
        super().__init__()
        self.table, self.kernel_size = table, kernel_size
        self.in_channels = max(max(s) for s in table) + 1
        self.out_channels = len(table)
        connections = sum(len(s) for s in table)
        self.weight = nn.Parameter(torch.empty(connections, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(self.out_channels))
        self.register_buffer("index", torch.tensor([i for s in table for i in s]), persistent=False)
        # runs of consecutive output maps with the same number of inputs: (first map, maps, inputs each)
        runs: list[tuple[int, int, int]] = []
        for j, s in enumerate(table):
            if runs and runs[-1][2] == len(s):
                runs[-1] = (runs[-1][0], runs[-1][1] + 1, len(s))
            else:
                runs.append((j, 1, len(s)))
        self.runs = tuple(runs)
        self.arch_label = f"Partial conv {kernel_size}×{kernel_size}"

    def forward(self, x: Tensor) -> Tensor:
        gathered = x.index_select(1, self.index)  # input maps in table order, one per connection
        k = self.kernel_size
        outputs, start = [], 0
        for first, maps, inputs in self.runs:
            width = maps * inputs
            kernel = self.weight[start:start + width].view(maps, inputs, k, k)
            outputs.append(F.conv2d(gathered[:, start:start + width], kernel, self.bias[first:first + maps],
                                    groups=maps))
            start += width
        return torch.cat(outputs, dim=1)

    def mask(self) -> Tensor:
        """Table I as a 0/1 matrix (out_channels × in_channels)."""
        m = torch.zeros(self.out_channels, self.in_channels)
        for j, s in enumerate(self.table):
            m[j, list(s)] = 1
        return m

    def dense_weight(self) -> Tensor:
        """The equivalent full ``nn.Conv2d`` kernel (out × in × k × k), zero where Table I has no connection."""
        k = self.kernel_size
        dense = self.weight.new_zeros(self.out_channels, self.in_channels, k, k)
        c = 0
        for j, s in enumerate(self.table):
            for i in s:
                dense[j, i] = self.weight[c]
                c += 1
        return dense

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"connections={self.weight.shape[0]}")


class EuclideanRBF(nn.Module):
    """The paper's output layer: y_i = Σ_j (x_j − w_ij)², one unit per class, centres fixed (not trained).

    Computed as ‖x‖² − 2·x·wᵢ + ‖wᵢ‖² (the same number), so the products are one matrix product.
    """

    arch_kind = "linear"

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.centers = nn.Parameter(torch.empty(out_features, in_features), requires_grad=False)
        self.arch_label = f"RBF {in_features}→{out_features}"

    def forward(self, x: Tensor) -> Tensor:
        return x.pow(2).sum(-1, keepdim=True) - 2 * x @ self.centers.t() + self.centers.pow(2).sum(-1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, centres fixed"


class LeNet5(nn.Sequential):
    """LeNet-5: ``features`` (convolutions and subsampling) then ``classifier``; see :func:`lenet5`."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential, variant: str) -> None:
        super().__init__(OrderedDict(features=features, classifier=classifier))
        self.variant = variant


def _uniform_(tensor: Tensor, fan_in: int) -> None:
    bound = 2.4 / fan_in
    with torch.no_grad():
        tensor.uniform_(-bound, bound)


def _init_original(model: LeNet5) -> None:
    """Appendix A: uniform in [−2.4/Fᵢ, 2.4/Fᵢ]; the RBF centres random ±1 (the paper: ±1 bitmaps)."""
    f, c = model.features, model.classifier
    for conv in (f.C1, f.C5, c.F6):
        fan_in = conv.weight[0].numel()
        _uniform_(conv.weight, fan_in)
        _uniform_(conv.bias, fan_in)
    for sub in (f.S2, f.S4):
        _uniform_(sub.weight, sub.kernel_size**2)
        _uniform_(sub.bias, sub.kernel_size**2)
    c3 = f.C3
    with torch.no_grad():
        start = 0
        for j, s in enumerate(c3.table):
            fan_in = len(s) * c3.kernel_size**2
            _uniform_(c3.weight[start:start + len(s)], fan_in)
            _uniform_(c3.bias[j:j + 1], fan_in)
            start += len(s)
        rbf = c.output.centers
        rbf.copy_(torch.randint(0, 2, rbf.shape, device=rbf.device).to(rbf.dtype) * 2 - 1)


def lenet5(variant: str = "original", num_classes: int = 10) -> LeNet5:
    """LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998, "Gradient-based learning applied to document
    recognition"), on a 1×32×32 input.

    ``variant="original"``: the paper's network: C1 (6@5×5) → S2 (trainable subsampling, 2 parameters per
    map) → C3 (16@5×5 with Table I's partial connections, 1,516 parameters) → S4 → C5 (120@5×5) → F6 (84)
    → 10 Euclidean RBF units with fixed centres; the scaled tanh 1.7159·tanh(2a/3) after every layer up to
    F6. 60,840 parameters (``numel``), of which 60,000 trainable (the paper's figure); 332,824 MACs;
    MACs + bias adds = the paper's 340,908 connections.

    ``variant="modern"``: the common variant: conv 6@5×5, ReLU, max pool, conv 16@5×5 (full), ReLU, max
    pool, FC 120, ReLU, FC 84, ReLU, linear output. 61,706 parameters, 416,520 MACs.

    ``num_classes`` (default 10) sets the output units; the counts above are for 10. See the module
    docstring for the derivations.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant: must be one of {', '.join(map(repr, VARIANTS))}, got {variant!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes: must be an int >= 1, got {num_classes!r}")
    if variant == "modern":
        features = nn.Sequential(OrderedDict(
            C1=nn.Conv2d(1, 6, 5), C1_act=nn.ReLU(), S2=nn.MaxPool2d(2),
            C3=nn.Conv2d(6, 16, 5), C3_act=nn.ReLU(), S4=nn.MaxPool2d(2),
        ))
        classifier = nn.Sequential(OrderedDict(
            flatten=nn.Flatten(), F5=nn.Linear(16 * 5 * 5, 120), F5_act=nn.ReLU(),
            F6=nn.Linear(120, 84), F6_act=nn.ReLU(), output=nn.Linear(84, num_classes),
        ))
        return LeNet5(features, classifier, variant)
    features = nn.Sequential(OrderedDict(
        C1=nn.Conv2d(1, 6, 5), C1_act=Squash(),
        S2=Subsampling(6), S2_act=Squash(),
        C3=PartialConv2d(C3_TABLE), C3_act=Squash(),
        S4=Subsampling(16), S4_act=Squash(),
        C5=nn.Conv2d(16, 120, 5), C5_act=Squash(),
    ))
    classifier = nn.Sequential(OrderedDict(
        flatten=nn.Flatten(), F6=nn.Linear(120, 84), F6_act=Squash(), output=EuclideanRBF(84, num_classes),
    ))
    model = LeNet5(features, classifier, variant)
    _init_original(model)
    return model
