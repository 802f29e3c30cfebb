"""nncost.zoo.vgg: parameter counts derived by hand, output shapes, MACs against FlopCounterMode, verify.

VGG at 224×224 costs 7.6–19.6 G multiply-accumulates, too slow for a real forward in a unit test on two cores:
the 224×224 checks run on the meta device (shapes and FlopCounterMode both work there, without arithmetic), and
the real-forward checks use a copy built for 32×32 inputs (``image_size=32``: the same convolutions, fc6 on
512·1·1 inputs instead of 512·7·7).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import nncost  # noqa: E402
from nncost.zoo.vgg import CONFIGS, PARAMS, vgg, vgg11, vgg16, vgg19  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# A 3×3 convolution c_i → c_o holds 9·c_i·c_o + c_o parameters:
#   3→64 1,792; 64→64 36,928; 64→128 73,856; 128→128 147,584; 128→256 295,168; 256→256 590,080;
#   256→512 1,180,160; 512→512 2,359,808.
# FC (every configuration, 224×224 input): fc6 25,088·4,096 + 4,096 = 102,764,544; fc7 4,096·4,096 + 4,096
#   = 16,781,312; fc8 4,096·1,000 + 1,000 = 4,097,000; together 123,642,856.
FC_224 = 102_764_544 + 16_781_312 + 4_097_000
# A (VGG-11): 1,792 + 73,856 + 295,168 + 590,080 + 1,180,160 + 3·2,359,808 = 9,220,480 conv.
CONV_A = 1_792 + 73_856 + 295_168 + 590_080 + 1_180_160 + 3 * 2_359_808
# B (VGG-13): A + a second 64→64 and a second 128→128.
CONV_B = CONV_A + 36_928 + 147_584
# C: B + 1×1 convs 256→256 (65,792) and twice 512→512 (262,656 each).
CONV_C = CONV_B + (256 * 256 + 256) + 2 * (512 * 512 + 512)
# D (VGG-16): 1,792 + 36,928 + 73,856 + 147,584 + 295,168 + 2·590,080 + 1,180,160 + 5·2,359,808 = 14,714,688.
CONV_D = 1_792 + 36_928 + 73_856 + 147_584 + 295_168 + 2 * 590_080 + 1_180_160 + 5 * 2_359_808
# E (VGG-19): D + one more 256→256 and two more 512→512.
CONV_E = CONV_D + 590_080 + 2 * 2_359_808

DERIVED = {
    "A": CONV_A + FC_224,  # 132,863,336
    "B": CONV_B + FC_224,  # 133,047,848
    "C": CONV_C + FC_224,  # 133,638,952
    "D": CONV_D + FC_224,  # 138,357,544
    "E": CONV_E + FC_224,  # 143,667,240
}


def on_meta(build, *args, **kwargs) -> nn.Module:
    """Build a model on the meta device: shapes only, no 553 MB of weights, no initialisation work."""
    with torch.device("meta"):
        return build(*args, **kwargs)


def hand_macs(config: str, size: int = 224, num_classes: int = 1000) -> int:
    """MACs by the formula, independently of torch and nncost: a k×k conv on an h×h map (padding keeps h)
    costs h²·c_o·k²·c_i; a pool halves h; the FC layers cost (512·h²)·4096 + 4096·4096 + 4096·num_classes."""
    total, channels = 0, 3
    for item in CONFIGS[config]:
        if item == "M":
            size //= 2
            continue
        out, k = item if isinstance(item, tuple) else (item, 3)
        total += size * size * out * k * k * channels
        channels = out
    return total + channels * size * size * 4096 + 4096 * 4096 + 4096 * num_classes


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small ops: one thread is fastest on a shared 2-core machine
    yield
    torch.set_num_threads(threads)


def test_derivations_match_the_published_counts() -> None:
    assert DERIVED == PARAMS
    assert (DERIVED["A"], DERIVED["D"], DERIVED["E"]) == (132_863_336, 138_357_544, 143_667_240)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_exact_parameter_counts(config: str) -> None:
    model = on_meta(vgg, config)
    assert sum(p.numel() for p in model.parameters()) == DERIVED[config]


@pytest.mark.parametrize(("build", "config", "alias"), [(vgg11, "A", "vgg11"), (vgg16, "D", "vgg16"),
                                                       (vgg19, "E", "vgg19")])
def test_named_constructors(build, config: str, alias: str) -> None:
    assert nncost.torch_params(on_meta(build)) == DERIVED[config]
    assert nncost.torch_params(on_meta(vgg, alias)) == DERIVED[config]


def test_batch_norm_variant_adds_two_per_channel() -> None:
    # 13 BatchNorm2d layers, 2·c_o each: 2·(2·64 + 2·128 + 3·256 + 6·512) = 8,448.
    model = on_meta(vgg16, batch_norm=True)
    assert nncost.torch_params(model) == DERIVED["D"] + 8_448
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 13


def test_num_classes_changes_only_fc8() -> None:
    # fc8 4,096·10 + 10 instead of 4,096·1,000 + 1,000.
    model = on_meta(vgg16, num_classes=10)
    assert nncost.torch_params(model) == DERIVED["D"] - 4_097_000 + 40_970


@pytest.mark.parametrize(("build", "config"), [(vgg11, "A"), (vgg16, "D"), (vgg19, "E")])
def test_output_shape_and_macs_at_224_on_meta(build, config: str) -> None:
    model = on_meta(build)
    report = nncost.profile(model, (1, 3, 224, 224))
    assert report.rows[-1].out_shape == (1, 1000)
    assert report["features"].out_shape == (1, 512, 7, 7)
    assert report.params == DERIVED[config]
    assert report.macs == hand_macs(config)
    # FlopCounterMode works on meta too: torch's own count of the full-size pass.
    assert nncost.torch_macs(model, torch.empty(1, 3, 224, 224, device="meta")) == report.macs


def test_published_mac_totals() -> None:
    # hand_macs: e.g. D's first stage 224²·64·9·(3 + 64) = 1,936,392,192 MACs.
    assert (hand_macs("A"), hand_macs("D"), hand_macs("E")) == (7_609_090_048, 15_470_264_320, 19_632_062_464)


@pytest.mark.parametrize("build", [vgg11, vgg16, vgg19])
def test_verify_passes_at_224_on_meta(build) -> None:
    result = nncost.verify(on_meta(build), (1, 3, 224, 224))
    assert result.ok and result.device == "meta"


@pytest.mark.parametrize(("build", "config"), [(vgg11, "A"), (vgg16, "D"), (vgg19, "E")])
def test_real_forward_at_32(build, config: str) -> None:
    torch.manual_seed(0)
    model = build(image_size=32).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (1, 1000)
    report = nncost.profile(model, (1, 3, 32, 32))
    # fc6 on 512·1·1 inputs: 512·4,096 + 4,096 instead of 25,088·4,096 + 4,096.
    assert report.params == DERIVED[config] - 102_764_544 + 2_101_248
    assert report.macs == hand_macs(config, 32) == nncost.torch_macs(model, x)
    assert nncost.verify(model, (1, 3, 32, 32)).ok


def test_adaptive_pool_adds_no_parameters_and_accepts_other_sizes() -> None:
    model = on_meta(vgg16, adaptive_pool=True)
    assert nncost.torch_params(model) == DERIVED["D"]
    for size in (224, 64):
        report = nncost.profile(model, (1, 3, size, size))
        assert report["avgpool"].out_shape == (1, 512, 7, 7)
        assert report.rows[-1].out_shape == (1, 1000)
    plain = nncost.profile(on_meta(vgg16), (1, 3, 224, 224))
    assert nncost.profile(model, (1, 3, 224, 224)).macs == plain.macs  # 7×7 → 7×7 costs no MACs


def test_without_adaptive_pool_the_input_size_is_fixed() -> None:
    with pytest.raises(ValueError, match="in_features = 25088"):
        nncost.profile(on_meta(vgg16), (1, 3, 64, 64))


def test_layer_names_follow_the_paper() -> None:
    model = on_meta(vgg16)
    names = [name for name, _ in model.features.named_children()]
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert names[-1] == "pool5" and "conv5_3" in names
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 13
    assert [name for name, _ in model.classifier.named_children()] == [
        "flatten", "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
    assert all(m.kernel_size == (3, 3) and m.padding == (1, 1) for m in model.modules() if isinstance(m, nn.Conv2d))


def test_paper_initialisation_is_seeded() -> None:
    torch.manual_seed(0)
    a = vgg11(image_size=32)
    torch.manual_seed(0)
    b = vgg11(image_size=32)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert float(a.features.conv1_1.bias.abs().sum()) == 0.0
    assert abs(float(a.classifier.fc7.weight.std()) - 0.01) < 1e-3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"config": "F"}, "config: must be one of"),
        ({"config": [64, 128]}, "needs at least one 'M'"),
        ({"config": [64, "X", "M"]}, r"config\[1\]"),
        ({"config": "D", "image_size": 16}, "image_size: 16 is too small"),
        ({"config": "D", "num_classes": 0}, "num_classes: must be a positive int"),
    ],
)
def test_bad_arguments_are_named(kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        on_meta(vgg, **kwargs)
