"""nncost.zoo.mobilenet: MobileNet v1 (Howard et al. 2017, Table 1) has exactly the derived parameter counts
and MACs, the documented output shape, and nncost's counts agree with torch's (FlopCounterMode, numel)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import nncost  # noqa: E402
from nncost.zoo.mobilenet import CONFIG, mobilenet_v1, scaled  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def derived_counts(alpha: float = 1.0, num_classes: int = 1000) -> tuple[int, int, int]:
    """(weights without BN, BN parameters, MACs at 224) of MobileNet v1, from Table 1 by hand.

    conv1: 3·3·3·c₀ weights on 112×112 outputs. Block i (c_in → c_out, stride s): depthwise 9·c_in weights,
    pointwise c_in·c_out weights; BN has 2 parameters (γ, β) per channel after every conv. FC: c·K + K.
    """
    side = 112
    c = scaled(32, alpha)
    weights, bn, macs = 27 * c, 2 * c, 27 * c * side * side
    for channels, stride in CONFIG:
        c_out = scaled(channels, alpha)
        side //= stride
        weights += 9 * c + c * c_out
        bn += 2 * c + 2 * c_out
        macs += (9 * c + c * c_out) * side * side
        c = c_out
    weights += c * num_classes + num_classes
    macs += c * num_classes
    return weights, bn, macs


def test_derivation_by_hand_at_alpha_1():
    # conv1 864; depthwise 9·(32+64+128+128+256+256+5·512+512+1024) = 9·4,960 = 44,640;
    # pointwise 32·64 + 64·128 + 128·128 + 128·256 + 256·256 + 256·512 + 5·512² + 512·1024 + 1024² = 3,139,584;
    # FC 1024·1000 + 1000 = 1,025,000; total weights 4,210,088.
    # BN: 2 per channel over 32 + 4,960 (after dw) + 5,952 (after pw) = 10,944 channels = 21,888.
    assert 864 + 44_640 + 3_139_584 + 1_025_000 == 4_210_088
    assert derived_counts() == (4_210_088, 21_888, 568_740_352)


def test_exact_params_alpha_1():
    model = mobilenet_v1()
    params = sum(p.numel() for p in model.parameters())
    bn = sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    assert params == 4_231_976  # ≈ the paper's "4.2M"
    assert params - bn == 4_210_088
    assert bn == 21_888


@pytest.mark.parametrize(
    ("alpha", "params", "macs", "paper_params_m", "paper_macs_m"),
    [  # the paper's Table 6, rounded there to 0.1M params and 1M mult-adds
        (1.0, 4_231_976, 568_740_352, 4.2, 569),
        (0.75, 2_585_560, 325_400_448, 2.6, 325),
        (0.5, 1_331_592, 149_497_088, 1.3, 149),
        (0.25, 470_072, 41_030_272, 0.5, 41),
    ],
)
def test_width_multiplier_table6(alpha, params, macs, paper_params_m, paper_macs_m):
    model = mobilenet_v1(width_mult=alpha)
    report = nncost.profile(model, (1, 3, 224, 224))
    weights, bn, derived_macs = derived_counts(alpha)
    assert report.params == sum(p.numel() for p in model.parameters()) == weights + bn == params
    assert report.macs == derived_macs == macs
    assert round(params / 1e6, 1) == paper_params_m
    assert round(macs / 1e6) == paper_macs_m


@pytest.mark.parametrize(
    ("resolution", "macs", "paper_macs_m"),
    [(224, 568_740_352, 569), (192, 418_121_728, 418), (160, 290_675_200, 290), (128, 186_400_768, 186)],
)
def test_resolution_multiplier_table7(resolution, macs, paper_macs_m):
    model = mobilenet_v1(resolution=resolution)
    report = nncost.profile(model, (1, 3, resolution, resolution))
    assert report.params == 4_231_976  # the resolution changes no parameter
    assert report.macs == macs
    # the paper rounds 568.74M to "569" but truncates 290.68M to "290": accept either
    assert paper_macs_m in (round(macs / 1e6), int(macs / 1e6))
    assert report["avgpool"].out_shape == (1, 1024, 1, 1)


def test_channel_rounding():
    assert [scaled(c, 0.75) for c in (32, 64, 1024)] == [24, 48, 768]
    assert scaled(32, 0.3) == 9 and scaled(1024, 0.3) == 307  # int() rounds down
    model = mobilenet_v1(width_mult=0.3)
    assert model.features.block13.pw.out_channels == 307
    assert model.classifier.in_features == 307


def test_structure():
    model = mobilenet_v1()
    blocks = [m for name, m in model.features.named_children() if name.startswith("block")]
    assert len(blocks) == 13
    for block, (channels, stride) in zip(blocks, CONFIG):
        assert block.dw.groups == block.dw.in_channels == block.dw.out_channels
        assert block.dw.kernel_size == (3, 3) and block.dw.stride == (stride, stride)
        assert block.pw.kernel_size == (1, 1) and block.pw.out_channels == channels
        assert block.dw.bias is None and block.pw.bias is None
    assert sum(s == 2 for _, s in CONFIG) == 4  # with conv1: five halvings, 224 → 7


def test_output_shape_and_real_forward_macs():
    torch.manual_seed(0)
    model = mobilenet_v1(num_classes=10).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert model(x).shape == (1, 10)
    report = nncost.profile(model, (1, 3, 224, 224))
    assert report.macs == nncost.torch_macs(model, x)
    assert report["features"].out_shape == (1, 1024, 7, 7)


def test_other_resolution_output_shape():
    model = mobilenet_v1(resolution=128).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 128, 128)).shape == (2, 1000)


def test_verify_real_and_meta():
    model = mobilenet_v1()
    assert nncost.verify(model, (1, 3, 224, 224)).ok  # a real forward on the CPU
    assert nncost.verify(model, (1, 3, 224, 224), device="meta").ok


def test_profile_leaves_model_unchanged():
    model = mobilenet_v1()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    nncost.profile(model, (1, 3, 224, 224))
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize(("kwargs", "word"), [({"width_mult": 0}, "width_mult"), ({"resolution": 0}, "resolution")])
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        mobilenet_v1(**kwargs)
