"""nncost.zoo.lenet and nncost.zoo.alexnet: parameter counts derived by hand, output shapes, MACs against
FlopCounterMode on a real forward at batch 1, and ``nncost.verify``.

AlexNet's full-size checks that need no values run on the meta device (no 244 MB of weights, no
initialisation); one real forward per variant checks the MACs against FlopCounterMode on the CPU.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import nncost  # noqa: E402
from nncost.zoo.alexnet import INPUT_SHAPE as ALEX_INPUT  # noqa: E402
from nncost.zoo.alexnet import MACS as ALEX_MACS  # noqa: E402
from nncost.zoo.alexnet import PARAMS as ALEX_PARAMS  # noqa: E402
from nncost.zoo.alexnet import alexnet  # noqa: E402
from nncost.zoo.lenet import C3_TABLE, CONNECTIONS, EuclideanRBF, lenet5  # noqa: E402
from nncost.zoo.lenet import INPUT_SHAPE as LENET_INPUT  # noqa: E402
from nncost.zoo.lenet import MACS as LENET_MACS  # noqa: E402
from nncost.zoo.lenet import PARAMS as LENET_PARAMS  # noqa: E402
from nncost.zoo.lenet import TRAINABLE_PARAMS as LENET_TRAINABLE  # noqa: E402

# ------------------------------------------------------------------------------------------ derivations
# LeNet-5, original (LeCun et al. 1998, §II.B). conv: c_o·(c_i·k² + 1); subsampling: 2 per map.
LENET_ORIGINAL_LAYERS = {
    "features.C1": 6 * (1 * 25 + 1),  # 156
    "features.S2": 6 * 2,  # 12: a coefficient and a bias per map
    "features.C3": 60 * 25 + 16,  # 1,516: Table I has 60 connections (6·3 + 9·4 + 1·6), one 5×5 kernel each
    "features.S4": 16 * 2,  # 32
    "features.C5": 120 * (16 * 25 + 1),  # 48,120
    "classifier.F6": 84 * (120 + 1),  # 10,164
    "classifier.output": 84 * 10,  # 840 RBF centres, fixed (requires_grad=False)
}
# trainable: 156 + 12 + 1,516 + 32 + 48,120 + 10,164 = 60,000 (the paper's "60,000 trainable free parameters")
# connections (the paper's 340,908): per layer, fan-in + 1 bias per unit, times the units:
#   C1 26·6·28·28 = 122,304; S2 5·6·14·14 = 5,880; C3 1,516·10·10 = 151,600; S4 5·16·5·5 = 2,000;
#   C5 48,120; F6 10,164; output 840.
PAPER_CONNECTIONS = 122_304 + 5_880 + 151_600 + 2_000 + 48_120 + 10_164 + 840
# modern: C1 156, C3 16·(6·25 + 1) = 2,416, F5 120·(400 + 1) = 48,120, F6 10,164, output 10·(84 + 1) = 850.
LENET_MODERN_LAYERS = {
    "features.C1": 156, "features.C3": 16 * (6 * 25 + 1), "classifier.F5": 120 * (400 + 1),
    "classifier.F6": 84 * (120 + 1), "classifier.output": 10 * (84 + 1),
}
# MACs: conv h_o·w_o·c_o·(c_i/g)·k²; FC c_i·c_o; subsampling 4 per unit (a 2×2 depthwise conv); RBF 84·10.
LENET_ORIGINAL_MACS = (28 * 28 * 6 * 25 + 14 * 14 * 6 * 4 + 10 * 10 * 60 * 25 + 5 * 5 * 16 * 4 + 120 * 400
                       + 120 * 84 + 84 * 10)  # 332,824
LENET_MODERN_MACS = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10  # 416,520

# AlexNet, two towers (Krizhevsky et al. 2012): conv2, conv4, conv5 have groups=2 (each sees half the maps).
ALEX_TWO_TOWER_LAYERS = {
    "features.conv1": 96 * (3 * 11 * 11) + 96,  # 34,944
    "features.conv2": 256 * (48 * 5 * 5) + 256,  # 307,456
    "features.conv3": 384 * (256 * 3 * 3) + 384,  # 885,120
    "features.conv4": 384 * (192 * 3 * 3) + 384,  # 663,936
    "features.conv5": 256 * (192 * 3 * 3) + 256,  # 442,624
    "classifier.fc6": 9216 * 4096 + 4096,  # 37,752,832
    "classifier.fc7": 4096 * 4096 + 4096,  # 16,781,312
    "classifier.fc8": 4096 * 1000 + 1000,  # 4,097,000
}  # total 60,965,224
# single tower (torchvision's layout, 64-192-384-256-256, conv1 padding 2, 224×224): its documented 61,100,840.
ALEX_SINGLE_TOWER_LAYERS = {
    "features.conv1": 64 * (3 * 121) + 64,  # 23,296
    "features.conv2": 192 * (64 * 25) + 192,  # 307,392
    "features.conv3": 384 * (192 * 9) + 384,  # 663,936
    "features.conv4": 256 * (384 * 9) + 256,  # 884,992
    "features.conv5": 256 * (256 * 9) + 256,  # 590,080
    "classifier.fc6": 37_752_832, "classifier.fc7": 16_781_312, "classifier.fc8": 4_097_000,
}
# MACs: conv1 55²·96·363; conv2 27²·256·(48·25); conv3 13²·384·(256·9); conv4 13²·384·(192·9);
# conv5 13²·256·(192·9); FC 9216·4096 + 4096·4096 + 4096·1000.
FC_MACS = 9216 * 4096 + 4096 * 4096 + 4096 * 1000  # 58,621,952
ALEX_TWO_TOWER_MACS = (55**2 * 96 * 363 + 27**2 * 256 * 1200 + 13**2 * 384 * 2304 + 13**2 * 384 * 1728
                       + 13**2 * 256 * 1728 + FC_MACS)  # 724,406,816
ALEX_SINGLE_TOWER_MACS = (55**2 * 64 * 363 + 27**2 * 192 * 1600 + 13**2 * 384 * 1728 + 13**2 * 256 * 3456
                          + 13**2 * 256 * 2304 + FC_MACS)  # 714,188,480


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small ops: one thread is fastest on a shared 2-core machine
    yield
    torch.set_num_threads(threads)


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def on_meta(build, *args, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return build(*args, **kwargs)


# ------------------------------------------------------------------------------------------------ LeNet


def test_lenet_derivations_match_the_constants_and_the_paper() -> None:
    assert sum(LENET_ORIGINAL_LAYERS.values()) == LENET_PARAMS["original"] == 60_840
    assert sum(LENET_ORIGINAL_LAYERS.values()) - 840 == LENET_TRAINABLE["original"] == 60_000
    assert PAPER_CONNECTIONS == CONNECTIONS == 340_908
    assert sum(LENET_MODERN_LAYERS.values()) == LENET_PARAMS["modern"] == 61_706
    assert (LENET_ORIGINAL_MACS, LENET_MODERN_MACS) == (LENET_MACS["original"], LENET_MACS["modern"])
    assert (LENET_ORIGINAL_MACS, LENET_MODERN_MACS) == (332_824, 416_520)


@pytest.mark.parametrize(("variant", "layers"),
                         [("original", LENET_ORIGINAL_LAYERS), ("modern", LENET_MODERN_LAYERS)])
def test_lenet_parameters_layer_by_layer(variant: str, layers: dict[str, int]) -> None:
    model = lenet5(variant)
    modules = dict(model.named_modules())
    assert {name: numel(modules[name]) for name in layers} == layers
    assert numel(model) == LENET_PARAMS[variant]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == LENET_TRAINABLE[variant]


@pytest.mark.parametrize("variant", ["original", "modern"])
def test_lenet_output_macs_and_verify(variant: str) -> None:
    torch.manual_seed(0)
    model = lenet5(variant).eval()
    x = torch.randn(LENET_INPUT)
    assert model(x).shape == (1, 10)
    assert model(torch.randn(4, 1, 32, 32)).shape == (4, 10)
    report = nncost.profile(model, LENET_INPUT)
    assert report.params == LENET_PARAMS[variant]
    assert report.trainable_params == LENET_TRAINABLE[variant]
    assert report.macs == LENET_MACS[variant] == nncost.torch_macs(model, x)
    result = nncost.verify(model, LENET_INPUT)
    assert result.ok and not result.blind_spots


def test_lenet_original_connections_are_macs_plus_bias_adds() -> None:
    report = nncost.profile(lenet5("original"), LENET_INPUT)
    assert report.macs + report.elementwise["bias_add"] == CONNECTIONS


def test_c3_follows_table_one() -> None:
    assert len(C3_TABLE) == 16 and sum(len(s) for s in C3_TABLE) == 60
    assert [len(s) for s in C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    assert len(set(C3_TABLE)) == 16 and all(len(set(s)) == len(s) for s in C3_TABLE)
    # every S2 map feeds exactly 10 C3 maps (the rows of Table I have 10 X's each)
    assert [sum(i in s for s in C3_TABLE) for i in range(6)] == [10] * 6
    torch.manual_seed(0)
    c3 = lenet5().features.C3
    assert c3.mask().sum().item() == 60
    x = torch.randn(2, 6, 14, 14)
    dense = nn.functional.conv2d(x, c3.dense_weight(), c3.bias)  # a full conv with Table I's zeros
    assert torch.allclose(c3(x), dense, atol=1e-5)


def test_subsampling_is_sum_times_coefficient_plus_bias() -> None:
    torch.manual_seed(0)
    s2 = lenet5().features.S2
    x = torch.randn(2, 6, 28, 28)
    summed = x.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2))  # the 2×2 blocks added up
    expected = summed * s2.weight.view(1, -1, 1, 1) + s2.bias.view(1, -1, 1, 1)
    assert torch.allclose(s2(x), expected, atol=1e-6)


def test_rbf_output_is_the_squared_euclidean_distance() -> None:
    torch.manual_seed(0)
    rbf = lenet5().classifier.output
    assert isinstance(rbf, EuclideanRBF) and not rbf.centers.requires_grad
    assert set(rbf.centers.unique().tolist()) == {-1.0, 1.0}
    x = torch.randn(3, 84)
    assert torch.allclose(rbf(x), torch.cdist(x, rbf.centers) ** 2, rtol=1e-5, atol=1e-3)


def test_lenet_is_seeded_and_num_classes() -> None:
    torch.manual_seed(1)
    a = lenet5()
    torch.manual_seed(1)
    b = lenet5()
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert numel(lenet5(num_classes=96)) == 60_840 - 840 + 84 * 96
    assert numel(lenet5("modern", num_classes=2)) == 61_706 - 850 + 2 * 85


# ---------------------------------------------------------------------------------------------- AlexNet


def test_alexnet_derivations_match_the_constants() -> None:
    assert sum(ALEX_TWO_TOWER_LAYERS.values()) == ALEX_PARAMS["two-tower"] == 60_965_224
    assert sum(ALEX_SINGLE_TOWER_LAYERS.values()) == ALEX_PARAMS["single-tower"] == 61_100_840
    assert ALEX_TWO_TOWER_MACS == ALEX_MACS["two-tower"] == 724_406_816
    assert ALEX_SINGLE_TOWER_MACS == ALEX_MACS["single-tower"] == 714_188_480


@pytest.mark.parametrize(("variant", "layers"),
                         [("two-tower", ALEX_TWO_TOWER_LAYERS), ("single-tower", ALEX_SINGLE_TOWER_LAYERS)])
def test_alexnet_parameters_shape_and_verify_on_meta(variant: str, layers: dict[str, int]) -> None:
    model = on_meta(alexnet, variant).eval()
    modules = dict(model.named_modules())
    assert {name: numel(modules[name]) for name in layers} == layers
    assert numel(model) == ALEX_PARAMS[variant]
    report = nncost.profile(model, ALEX_INPUT[variant])
    assert report.params == ALEX_PARAMS[variant] and report.macs == ALEX_MACS[variant]
    assert report.root.out_shape == (1, 1000)
    assert report["features.conv1"].out_shape[2:] == (55, 55)
    assert report["features"].out_shape == (1, 256, 6, 6)
    result = nncost.verify(model, ALEX_INPUT[variant])  # FlopCounterMode on meta
    assert result.ok


@pytest.mark.parametrize("variant", ["two-tower", "single-tower"])
def test_alexnet_real_forward_macs_against_flopcountermode(variant: str) -> None:
    torch.manual_seed(0)
    model = alexnet(variant).eval()
    x = torch.randn(ALEX_INPUT[variant])
    with torch.no_grad():
        assert model(x).shape == (1, 1000)
    assert nncost.torch_macs(model, x) == ALEX_MACS[variant]


def test_two_tower_groups_are_the_two_gpus() -> None:
    model = on_meta(alexnet)
    groups = {name: m.groups for name, m in model.features.named_children() if isinstance(m, nn.Conv2d)}
    assert groups == {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}
    lrn = model.features.norm1
    assert (lrn.size, lrn.alpha / lrn.size, lrn.beta, lrn.k) == (5, pytest.approx(1e-4), 0.75, 2.0)


def test_two_tower_needs_227_not_224() -> None:
    # (224 − 11)/4 + 1 = 54.25 → 54: the maps shrink to 5×5 at pool5 and fc6 gets 6,400 inputs, not 9,216
    with pytest.raises(ValueError, match=r"classifier\.fc6"):
        nncost.profile(on_meta(alexnet, "two-tower"), (1, 3, 224, 224))
    # the single tower's padding 2 gives 55 from 224; its adaptive pool also accepts 227
    report = nncost.profile(on_meta(alexnet, "single-tower"), (1, 3, 227, 227))
    assert report["features.conv1"].out_shape == (1, 64, 56, 56) and report.root.out_shape == (1, 1000)


def test_alexnet_initialisation_is_the_papers_and_seeded() -> None:
    torch.manual_seed(3)
    a = alexnet()
    assert a.features.conv2.bias.eq(1).all() and a.features.conv1.bias.eq(0).all()
    assert a.classifier.fc7.bias.eq(1).all() and a.classifier.fc8.bias.eq(0).all()
    assert abs(a.classifier.fc6.weight.std().item() - 0.01) < 1e-4
    torch.manual_seed(3)
    b = alexnet()
    assert torch.equal(a.features.conv1.weight, b.features.conv1.weight)


def test_alexnet_num_classes_changes_only_fc8() -> None:
    assert numel(on_meta(alexnet, num_classes=10)) == 60_965_224 - 4_097_000 + 4096 * 10 + 10


@pytest.mark.parametrize(
    ("build", "kwargs", "name"),
    [
        (lenet5, {"variant": "lenet-1"}, "variant"),
        (lenet5, {"num_classes": 0}, "num_classes"),
        (lenet5, {"num_classes": True}, "num_classes"),
        (alexnet, {"variant": "two-towers"}, "variant"),
        (alexnet, {"num_classes": 1000.0}, "num_classes"),
    ],
)
def test_bad_arguments_are_named(build, kwargs, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}:"):
        build(**kwargs)
