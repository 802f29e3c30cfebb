"""nncost.zoo ResNet-18/34/50 and DenseNet-121, and the factorization claims of chapter 15.

Models: exact parameter counts (derived layer by layer from the papers' Table 1 with nncost's closed forms,
and equal to the published counts), output shapes on 3×224×224, MACs of ``nncost.profile`` equal to the
same closed-form derivation and to FlopCounterMode / 2 on a real forward, ``nncost.verify`` passing.
Factorization: two linear 3×3 convolutions are one 5×5 convolution whose kernel is the full 2-D convolution
of theirs; the composed kernels of one channel pair form a 17-dimensional set, so a random 5×5 kernel is out
of reach; 1×3 then 3×1 gives exactly the rank-1 3×3 kernels, and a random 3×3 kernel has rank 3.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import nncost  # noqa: E402
from nncost.zoo.densenet import densenet121  # noqa: E402
from nncost.zoo.resnet import resnet18, resnet34, resnet50  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

IMAGE = (1, 3, 224, 224)


@pytest.fixture(autouse=True)
def one_thread():
    """Many small operations: one thread is fastest on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------- derivations from Table 1


def _add(total: list[int], layer: nncost.LayerCost) -> tuple[int, ...]:
    total[0] += layer.params
    total[1] += layer.macs
    return layer.out_shape


def _conv_bn(total: list[int], shape: tuple[int, ...], c_out: int, k: int, stride: int = 1) -> tuple[int, ...]:
    shape = _add(total, nncost.conv2d(shape, c_out, k, stride, k // 2, bias=False))
    return _add(total, nncost.batchnorm2d(shape))


def derive_resnet(block: str, depths: tuple[int, ...], stride_on: str = "3x3") -> tuple[int, int]:
    """(params, MACs) of a ResNet at 224, from the paper's Table 1, with nncost's layer formulas only."""
    total = [0, 0]
    shape = _conv_bn(total, IMAGE, 64, 7, 2)  # conv1: 7×7, 64, stride 2 → 112×112
    shape = _add(total, nncost.pool2d(shape, 3, 2, 1))  # 3×3 max pool, stride 2 → 56×56
    expansion = 1 if block == "basic" else 4
    for stage, (width, depth) in enumerate(zip((64, 128, 256, 512), depths), start=1):
        for i in range(depth):
            stride = 2 if i == 0 and stage > 1 else 1
            c_in, c_out = shape[1], width * expansion
            if block == "basic":  # 3×3 (stride) → 3×3
                y = _conv_bn(total, shape, width, 3, stride)
                y = _conv_bn(total, y, width, 3)
            else:  # 1×1 reduce → 3×3 → 1×1 expand; the stride on the 1×1 (v1) or on the 3×3 (v1.5)
                s1, s2 = (stride, 1) if stride_on == "1x1" else (1, stride)
                y = _conv_bn(total, shape, width, 1, s1)
                y = _conv_bn(total, y, width, 3, s2)
                y = _conv_bn(total, y, c_out, 1)
            if stride != 1 or c_in != c_out:  # projection shortcut (option B): 1×1 conv + BN
                _conv_bn(total, shape, c_out, 1, stride)
            shape = y
    _add(total, nncost.linear((1, shape[1]), 1000))  # after global average pooling
    return total[0], total[1]


def derive_densenet121() -> tuple[int, int]:
    """(params, MACs) of DenseNet-121 at 224: k = 32, blocks [6, 12, 24, 16], bottleneck 4k, θ = 0.5."""
    total = [0, 0]
    k = 32
    shape = _conv_bn(total, IMAGE, 2 * k, 7, 2)
    shape = _add(total, nncost.pool2d(shape, 3, 2, 1))
    for b, layers in enumerate((6, 12, 24, 16)):
        n, c, h, w = shape
        for i in range(layers):  # BN on the concatenation, 1×1 to 4k, BN, 3×3 to k
            x = (n, c + i * k, h, w)
            _add(total, nncost.batchnorm2d(x))
            y = _add(total, nncost.conv2d(x, 4 * k, 1, bias=False))
            _add(total, nncost.batchnorm2d(y))
            _add(total, nncost.conv2d(y, k, 3, padding=1, bias=False))
        shape = (n, c + layers * k, h, w)
        if b < 3:  # transition: BN, 1×1 halving the channels, 2×2 average pool
            _add(total, nncost.batchnorm2d(shape))
            shape = _add(total, nncost.conv2d(shape, shape[1] // 2, 1, bias=False))
            shape = _add(total, nncost.pool2d(shape, 2, 2, kind="avg"))
    _add(total, nncost.batchnorm2d(shape))
    _add(total, nncost.linear((1, shape[1]), 1000))
    return total[0], total[1]


# Published parameter counts (torchvision's model cards, the usual reference: the papers give none), with
# the MACs nncost measures at 224 — the same values as the Table-1 derivations above:
#   ResNet-18  11,689,512  1,814,073,344   (paper, Table 1: 1.8×10⁹ "FLOPs", i.e. multiply-adds)
#   ResNet-34  21,797,672  3,663,761,408   (3.6×10⁹)
#   ResNet-50  25,557,032  v1 3,857,973,248 (the paper's 3.8×10⁹), v1.5 4,089,184,256
#   DenseNet-121 7,978,856 2,834,161,664
# v1.5 − v1 = 3 × 77,070,336: in each of layer2.0, layer3.0, layer4.0 the first 1×1 conv runs at the larger
# size in v1.5: c_in·c_mid·(HW − HW/4) = 256·128·(3136 − 784) = 512·256·(784 − 196) = 1024·512·(196 − 49).
MODELS = {
    "resnet18": (resnet18, 11_689_512, 1_814_073_344, lambda: derive_resnet("basic", (2, 2, 2, 2))),
    "resnet34": (resnet34, 21_797_672, 3_663_761_408, lambda: derive_resnet("basic", (3, 4, 6, 3))),
    "resnet50_v1": (lambda: resnet50(variant="v1"), 25_557_032, 3_857_973_248,
                    lambda: derive_resnet("bottleneck", (3, 4, 6, 3), "1x1")),
    "resnet50_v1.5": (resnet50, 25_557_032, 4_089_184_256,
                      lambda: derive_resnet("bottleneck", (3, 4, 6, 3), "3x3")),
    "densenet121": (densenet121, 7_978_856, 2_834_161_664, derive_densenet121),
}


@pytest.mark.parametrize("name", MODELS)
def test_params_exact_and_derived(name):
    build, params, macs, derive = MODELS[name]
    model = build()
    assert sum(p.numel() for p in model.parameters()) == params
    assert derive() == (params, macs), f"{name}: Table-1 derivation {derive()} ≠ ({params:,}, {macs:,})"


@pytest.mark.parametrize("name", MODELS)
def test_shape_and_profile_on_224(name):
    build, params, macs, _ = MODELS[name]
    model = build().eval()
    with torch.no_grad():
        out = model(torch.randn(IMAGE))  # one real forward at batch 1: a fraction of a second
    assert out.shape == (1, 1000)
    report = nncost.profile(model, IMAGE)
    assert (report.params, report.macs, report.root.out_shape) == (params, macs, (1, 1000))
    with torch.device("meta"), FlopCounterMode(display=False) as counter:  # torch's own count at 224, on meta
        meta_model = build()
        meta_model(torch.empty(IMAGE))
    assert counter.get_total_flops() == 2 * macs


@pytest.mark.parametrize("name", MODELS)
def test_verify_real_forward_small_input(name):
    build = MODELS[name][0]
    model = build().eval()
    # a real CPU forward at batch 1, 64×64: FlopCounterMode / 2 and numel, module by module (the root included)
    result = nncost.verify(model, (1, 3, 64, 64))
    assert result.ok and result.device == "cpu"
    assert result["model"].nncost_macs == result["model"].torch_macs > 0


@pytest.mark.parametrize("name", ["resnet50_v1.5", "densenet121"])
def test_verify_on_meta_224(name):
    assert nncost.verify(MODELS[name][0](), IMAGE, device="meta").ok


def test_num_classes_and_bad_variant():
    assert resnet18(num_classes=10).fc.out_features == 10
    assert resnet50(num_classes=10).fc.out_features == 10
    assert densenet121(num_classes=10).classifier.out_features == 10
    # only the fc layer changes: (2048 + 1) · (1000 − 10) parameters fewer
    assert nncost.torch_params(resnet50()) - nncost.torch_params(resnet50(num_classes=10)) == 2049 * 990
    with pytest.raises(ValueError, match="variant"):
        resnet50(variant="v2")


def test_bottleneck_reduces_then_expands():
    """The notes say the bottleneck expands then reduces; the paper's block does the opposite."""
    model = resnet50()
    convs = [model.layer1[1].conv1, model.layer1[1].conv2, model.layer1[1].conv3]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (256, 64, (1, 1)), (64, 64, (3, 3)), (64, 256, (1, 1))]
    v1, v15 = resnet50(variant="v1").layer2[0], resnet50().layer2[0]
    assert (v1.conv1.stride, v1.conv2.stride) == ((2, 2), (1, 1))
    assert (v15.conv1.stride, v15.conv2.stride) == ((1, 1), (2, 2))


def test_dense_block_channel_growth():
    model = densenet121()
    report = nncost.profile(model, IMAGE)
    block = model.features.denseblock3
    ins = [layer.conv1.in_channels for layer in block.children()]
    assert ins == [256 + 32 * i for i in range(24)]
    assert report["features.denseblock3"].out_shape == (1, 1024, 14, 14)
    assert report["features.transition3"].out_shape == (1, 512, 7, 7)
    # the concatenation is real: layer 5 of block 1 receives 5 maps (the block input and 4 layer outputs)
    assert report["features.denseblock1.denselayer5"].in_shapes == ((1, 64, 56, 56),) + ((1, 32, 56, 56),) * 4


# --------------------------------------------------------------------------- chapter 15: factorization


def composed_kernel(k1: torch.Tensor, k2: torch.Tensor) -> torch.Tensor:
    """The kernel of conv(k2) ∘ conv(k1) (torch's cross-correlation, no padding), k1: (m, c, a, b),
    k2: (o, m, p, q) → (o, c, a+p−1, b+q−1): K[o, c] = Σ_m full_convolution(k2[o, m], k1[m, c]).

    Computed here with torch itself: a cross-correlation of k1 (zero-padded) with the flipped k2 is the
    full convolution (an implementation independent of the chapter's explicit sum).
    """
    p, q = k2.shape[-2:]
    padded = F.pad(k1.transpose(0, 1), (q - 1, q - 1, p - 1, p - 1))  # (c, m, ., .): channels act as a batch
    return F.conv2d(padded, k2.flip(-2, -1)).transpose(0, 1)


def _jacobian_rank(c: int, m: int) -> int:
    k1 = torch.randn(m, c, 3, 3, dtype=torch.float64)
    k2 = torch.randn(c, m, 3, 3, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(composed_kernel, (k1, k2))
    return int(torch.linalg.matrix_rank(torch.cat([j.reshape(c * c * 25, -1) for j in jac], 1)))


def test_two_3x3_equal_one_5x5_away_from_borders():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 16, 16, dtype=torch.float64)
    k1 = torch.randn(6, 4, 3, 3, dtype=torch.float64)
    k2 = torch.randn(5, 6, 3, 3, dtype=torch.float64)
    kernel = composed_kernel(k1, k2)
    assert kernel.shape == (5, 4, 5, 5)
    two = F.conv2d(F.conv2d(x, k1), k2)  # no padding: 16 → 14 → 12
    one = F.conv2d(x, kernel)  # 16 → 12
    assert torch.allclose(two, one, atol=1e-10)
    # with zero padding 1 + 1 against 2, the two differ only on the 2-pixel border ring
    two_p = F.conv2d(F.conv2d(x, k1, padding=1), k2, padding=1)
    one_p = F.conv2d(x, kernel, padding=2)
    assert torch.allclose(two_p[..., 2:-2, 2:-2], one_p[..., 2:-2, 2:-2], atol=1e-10)
    assert not torch.allclose(two_p, one_p, atol=1e-6)


def test_relu_between_is_not_a_convolution():
    """A convolution is linear, so f(−x) = −f(x); conv → ReLU → conv is not."""
    torch.manual_seed(0)
    c1, c2 = nn.Conv2d(1, 1, 3, bias=False), nn.Conv2d(1, 1, 3, bias=False)

    def f(x):
        return c2(F.relu(c1(x)))

    x = torch.randn(1, 1, 9, 9)
    with torch.no_grad():
        assert not torch.allclose(f(-x), -f(x), atol=1e-3)
        assert torch.allclose(c2(c1(-x)), -c2(c1(x)), atol=1e-6)


def test_composed_5x5_kernels_are_a_17_dimensional_set():
    """One channel pair: 18 weights, one scale redundant (k1·a, k2/a): the Jacobian of (k1, k2) ↦ K has
    rank 17 < 25, so the reachable 5×5 kernels have measure zero. c → c → c: rank 18c² − c² < 25c²."""
    torch.manual_seed(0)
    assert _jacobian_rank(1, 1) == 17
    assert _jacobian_rank(2, 2) == 4 * 17
    assert _jacobian_rank(1, 2) == 25  # a 2-channel middle layer reaches full dimension, with 36 weights


def test_random_5x5_not_reachable_by_least_squares():
    torch.manual_seed(0)
    target = torch.randn(1, 1, 5, 5, dtype=torch.float64)
    reachable = composed_kernel(torch.randn(1, 1, 3, 3, dtype=torch.float64),
                                torch.randn(1, 1, 3, 3, dtype=torch.float64))

    def best_fit(goal: torch.Tensor) -> float:
        best = float("inf")
        for seed in range(4):
            g = torch.Generator().manual_seed(seed)
            a = torch.randn(1, 1, 3, 3, dtype=torch.float64, generator=g).requires_grad_()
            b = torch.randn(1, 1, 3, 3, dtype=torch.float64, generator=g).requires_grad_()
            opt = torch.optim.LBFGS([a, b], max_iter=300, line_search_fn="strong_wolfe",
                                    tolerance_grad=1e-12, tolerance_change=1e-15)

            def closure(opt=opt, a=a, b=b):
                opt.zero_grad()
                loss = ((composed_kernel(a, b) - goal) ** 2).sum()
                loss.backward()
                return loss

            opt.step(closure)
            with torch.no_grad():
                best = min(best, float((composed_kernel(a, b) - goal).norm() / goal.norm()))
        return best

    assert best_fit(reachable) < 1e-5  # the optimiser finds a kernel that is reachable
    assert best_fit(target) > 0.1  # ... and leaves a large residual on a random one


def test_1x3_then_3x1_gives_rank_1():
    torch.manual_seed(0)
    row = torch.randn(1, 1, 1, 3, dtype=torch.float64)  # the 1×3 conv, applied first
    col = torch.randn(1, 1, 3, 1, dtype=torch.float64)  # the 3×1 conv
    kernel = composed_kernel(row, col)[0, 0]
    assert kernel.shape == (3, 3)
    assert torch.allclose(kernel, col[0, 0] @ row[0, 0])  # the outer product column × row
    assert int(torch.linalg.matrix_rank(kernel)) == 1
    x = torch.randn(1, 1, 10, 10, dtype=torch.float64)
    assert torch.allclose(F.conv2d(F.conv2d(x, row), col), F.conv2d(x, kernel[None, None]))
    # the other order gives the same kernel (2-D convolution commutes)
    assert torch.allclose(composed_kernel(col, row)[0, 0], kernel)


def test_random_3x3_has_rank_3_and_is_not_reachable():
    torch.manual_seed(0)
    kernel = torch.randn(3, 3, dtype=torch.float64)
    s = torch.linalg.svdvals(kernel)
    assert int(torch.linalg.matrix_rank(kernel)) == 3 and s[-1] > 1e-3
    # the best any column × row can do (Eckart–Young) leaves √(σ₂² + σ₃²)
    u, sv, vh = torch.linalg.svd(kernel)
    best = sv[0] * torch.outer(u[:, 0], vh[0])
    assert torch.isclose((kernel - best).norm(), s[1:].norm())
    assert (kernel - best).norm() > 0.1 * kernel.norm()


def test_receptive_field_and_parameter_savings():
    assert nncost.receptive_field([(3, 1), (3, 1)])[-1].size == (5,)
    assert nncost.receptive_field([((1, 3), 1), ((3, 1), 1)])[-1].size == (3, 3)
    c, hw = 64, (1, 64, 28, 28)
    five = nncost.conv2d(hw, c, 5, padding=2, bias=False)
    three = [nncost.conv2d(hw, c, 3, padding=1, bias=False)] * 2
    assert (five.params, sum(t.params for t in three)) == (25 * c * c, 18 * c * c)
    assert five.macs * 18 == sum(t.macs for t in three) * 25
    nine = nncost.conv2d(hw, c, 3, padding=1, bias=False)
    six = [nncost.conv2d(hw, c, (1, 3), padding=(0, 1), bias=False),
           nncost.conv2d(hw, c, (3, 1), padding=(1, 0), bias=False)]
    assert nine.params == 9 * c * c and sum(s.params for s in six) == 6 * c * c
    stack = nn.Sequential(nn.Conv2d(c, c, (1, 3), padding=(0, 1), bias=False),
                          nn.Conv2d(c, c, (3, 1), padding=(1, 0), bias=False))
    assert nncost.torch_macs(stack, torch.randn(hw)) == sum(s.macs for s in six)
