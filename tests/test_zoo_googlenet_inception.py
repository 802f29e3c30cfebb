"""nncost.zoo.googlenet and nncost.zoo.inception: parameter counts and MACs derived by hand (independently of
the modules' code, from the papers' widths), output shapes, MACs against FlopCounterMode on a real forward,
and ``nncost.verify``.

GoogLeNet at 224×224 (1.58 G MACs) and Inception-v3 at 299×299 (5.71 G MACs) each run a real forward on one
CPU thread in well under a second, so the FlopCounterMode checks use the documented input sizes; the
training-mode passes with auxiliary classifiers are verified on the meta device.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import fx, nn  # noqa: E402

import nncost  # noqa: E402
from nncost.zoo.googlenet import INCEPTION, PARAMS, PARAMS_AUX, googlenet  # noqa: E402
from nncost.zoo.inception import PARAMS as V3_PARAMS  # noqa: E402
from nncost.zoo.inception import PARAMS_AUX as V3_PARAMS_AUX  # noqa: E402
from nncost.zoo.inception import inception_v3  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

G_SHAPE = (1, 3, 224, 224)
V3_SHAPE = (1, 3, 299, 299)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Many small operations: one thread is faster on a shared two-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def on_meta(build, **kwargs) -> nn.Module:
    """Build on the meta device: shapes only, no weights to initialise (counts do not need values)."""
    with torch.device("meta"):
        return build(**kwargs)


# --------------------------------------------------------------------------- GoogLeNet, by hand
#
# A k×k conv c_i → c_o with bias (the paper has no batch norm): k²·c_i·c_o + c_o parameters, and on an
# h×h output map h²·c_o·k²·c_i MACs. A linear layer c_i → c_o: c_i·c_o + c_o parameters, c_i·c_o MACs.


def conv_b(c_i: int, c_o: int, k: int, hw: int = 0) -> tuple[int, int]:
    return k * k * c_i * c_o + c_o, hw * hw * c_o * k * k * c_i


def inception_v1(c_i: int, n1: int, r3: int, n3: int, r5: int, n5: int, pp: int, hw: int) -> tuple[int, int]:
    """Table 1's module: 1×1 | 1×1 → 3×3 | 1×1 → 5×5 | pool → 1×1, all keeping the h×h map."""
    parts = [conv_b(c_i, n1, 1, hw), conv_b(c_i, r3, 1, hw), conv_b(r3, n3, 3, hw), conv_b(c_i, r5, 1, hw),
             conv_b(r5, n5, 5, hw), conv_b(c_i, pp, 1, hw)]
    return sum(p for p, _ in parts), sum(m for _, m in parts)


GRID = {"3": 28, "4": 14, "5": 7}  # the inception modules' map size, by stage
# stem: conv1 7×7/2 3→64 on 112×112 (9,472 params), conv2_reduce 1×1 64→64 (4,160) and conv2 3×3 64→192
# (110,784) on 56×56: 124,416 parameters.
STEM = [conv_b(3, 64, 7, 112), conv_b(64, 64, 1, 56), conv_b(64, 192, 3, 56)]
MODULES = {name: inception_v1(*w, GRID[name[0]]) for name, w in INCEPTION.items()}
FC = (1024 * 1000 + 1000, 1024 * 1000)
# 124,416 + 5,849,136 (the nine modules) + 1,025,000 = 6,998,552.
HAND_PARAMS = sum(p for p, _ in STEM) + sum(p for p, _ in MODULES.values()) + FC[0]
HAND_MACS = sum(m for _, m in STEM) + sum(m for _, m in MODULES.values()) + FC[1]


def aux_head(c_i: int) -> tuple[int, int]:
    """Section 5: avg pool 5×5/3 (14 → 4), 1×1 conv 128, FC 2,048 → 1,024, linear 1,024 → 1,000."""
    parts = [conv_b(c_i, 128, 1, 4), (2048 * 1024 + 1024, 2048 * 1024), (1024 * 1000 + 1000, 1024 * 1000)]
    return sum(p for p, _ in parts), sum(m for _, m in parts)


def test_googlenet_hand_derivation_values():
    assert sum(p for p, _ in STEM) == 124_416
    assert MODULES["3a"][0] == 163_696 and MODULES["5b"][0] == 1_444_080
    assert sum(p for p, _ in MODULES.values()) == 5_849_136
    assert HAND_PARAMS == PARAMS == 6_998_552
    assert aux_head(512)[0] == 3_188_840 and aux_head(528)[0] == 3_190_888
    assert HAND_PARAMS + aux_head(512)[0] + aux_head(528)[0] == PARAMS_AUX == 13_378_280
    assert HAND_MACS == 1_582_671_872


def test_googlenet_params():
    model, with_aux = on_meta(googlenet), on_meta(googlenet, aux_logits=True)
    assert numel(model) == HAND_PARAMS
    assert numel(with_aux) == PARAMS_AUX
    assert numel(with_aux.aux1) == aux_head(512)[0]
    assert numel(with_aux.aux2) == aux_head(528)[0]
    assert nncost.profile(with_aux.eval(), G_SHAPE).params == PARAMS_AUX
    # Table 1's modules, in the paper's units (weights only, K = 1,024): 3a 159K (163,328 weights), 3b 380K
    # (388,096 = 379 · 1,024: the table rounds up here).
    weights = {n: sum(m.weight.numel() for m in getattr(model.features, f"inception{n}").modules()
                      if isinstance(m, nn.Conv2d)) for n in ("3a", "3b")}
    assert weights == {"3a": 163_328, "3b": 388_096}
    assert numel(on_meta(googlenet, num_classes=10)) == HAND_PARAMS - 1024 * 990 - 990


def test_torchvision_variant_explains_its_count():
    """torchvision's GoogLeNet (6,624,904 parameters in its documentation): the same widths, but BN after
    every conv (no conv bias, 2·c_o BN parameters) and a 3×3 conv where the paper has the 5×5."""

    def conv_bn(c_i: int, c_o: int, k: int) -> int:
        return k * k * c_i * c_o + 2 * c_o

    total = conv_bn(3, 64, 7) + conv_bn(64, 64, 1) + conv_bn(64, 192, 3) + FC[0]
    for c_i, n1, r3, n3, r5, n5, pp in INCEPTION.values():
        total += (conv_bn(c_i, n1, 1) + conv_bn(c_i, r3, 1) + conv_bn(r3, n3, 3) + conv_bn(c_i, r5, 1)
                  + conv_bn(r5, n5, 3) + conv_bn(c_i, pp, 1))
    assert total == 6_624_904


def test_googlenet_shapes_and_outputs():
    model = googlenet().eval()
    with torch.no_grad():
        assert model(torch.randn(G_SHAPE)).shape == (1, 1000)
    train = googlenet(aux_logits=True).train()
    with torch.no_grad():
        out = train(torch.randn(2, 3, 224, 224))
    assert isinstance(out, tuple) and [o.shape for o in out] == [(2, 1000)] * 3
    with torch.no_grad():
        assert train.eval()(torch.randn(G_SHAPE)).shape == (1, 1000)  # heads discarded at inference
        assert googlenet().train()(torch.randn(G_SHAPE)).shape == (1, 1000)
    report = nncost.profile(on_meta(googlenet).eval(), G_SHAPE)
    shapes = {r["name"]: r["out_shape"] for r in report.records(depth=2)}
    expected = {"3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528, "4e": 832, "5a": 832, "5b": 1024}
    for name, channels in expected.items():
        hw = GRID[name[0]]
        assert shapes[f"features.inception{name}"] == (1, channels, hw, hw)
    assert shapes["features.pool1"] == (1, 64, 56, 56) and shapes["classifier.avgpool"] == (1, 1024, 1, 1)


def test_googlenet_macs_against_flop_counter_and_verify():
    model = googlenet().eval()
    report = nncost.profile(model, G_SHAPE)
    assert report.macs == HAND_MACS
    assert report.params == numel(model)
    assert nncost.torch_macs(model, torch.randn(G_SHAPE)) == HAND_MACS  # FlopCounterMode / 2, real forward
    assert nncost.verify(model, G_SHAPE).ok  # real forward on the CPU, module by module
    assert not report.uncounted_ops


def test_googlenet_aux_heads_in_training():
    model = on_meta(googlenet, aux_logits=True).train()
    report = nncost.profile(model, G_SHAPE)
    assert report["aux1"].total_macs == aux_head(512)[1] == 4_169_728
    assert report["aux2"].total_macs == aux_head(528)[1]
    assert report.macs == HAND_MACS + aux_head(512)[1] + aux_head(528)[1]
    assert nncost.verify(model, G_SHAPE, device="meta").ok
    assert nncost.profile(model.eval(), G_SHAPE).macs == HAND_MACS


def weight_depth(model: nn.Module, kinds: tuple[type, ...]) -> int:
    """Layers of ``kinds`` on the longest path of the traced graph (the paper's way of counting depth)."""
    graph = fx.symbolic_trace(model.eval()).graph
    modules = dict(model.named_modules())
    best: dict = {}
    for node in graph.nodes:
        d = max((best[a] for a in node.all_input_nodes), default=0)
        best[node] = d + (node.op == "call_module" and isinstance(modules[node.target], kinds))
    return max(best.values())


def test_googlenet_depth_is_the_papers():
    """'22 layers deep when counting only layers with parameters (or 27 layers if we also count pooling)'."""
    model = on_meta(googlenet)
    assert weight_depth(model, (nn.Conv2d, nn.Linear)) == 22
    assert weight_depth(model, (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d)) == 27


# --------------------------------------------------------------------------- Inception-v3, by hand
#
# Every conv is conv (no bias) + BN (2·c_o parameters): k_h·k_w·c_i·c_o + 2·c_o parameters and
# h_o·w_o·c_o·k_h·k_w·c_i MACs.


def cbn(c_i: int, c_o: int, k: tuple[int, int] | int, hw: int) -> tuple[int, int]:
    kh, kw = (k, k) if isinstance(k, int) else k
    return kh * kw * c_i * c_o + 2 * c_o, hw * hw * c_o * kh * kw * c_i


def add(*parts: tuple[int, int]) -> tuple[int, int]:
    return sum(p for p, _ in parts), sum(m for _, m in parts)


def module_a(c_i: int, pool: int) -> tuple[int, int]:  # 35×35
    return add(cbn(c_i, 64, 1, 35), cbn(c_i, 48, 1, 35), cbn(48, 64, 5, 35), cbn(c_i, 64, 1, 35),
               cbn(64, 96, 3, 35), cbn(96, 96, 3, 35), cbn(c_i, pool, 1, 35))


def reduction_a(c_i: int) -> tuple[int, int]:  # 35 → 17
    return add(cbn(c_i, 384, 3, 17), cbn(c_i, 64, 1, 35), cbn(64, 96, 3, 35), cbn(96, 96, 3, 17))


def module_b(c_i: int, c7: int) -> tuple[int, int]:  # 17×17
    return add(cbn(c_i, 192, 1, 17), cbn(c_i, c7, 1, 17), cbn(c7, c7, (1, 7), 17), cbn(c7, 192, (7, 1), 17),
               cbn(c_i, c7, 1, 17), cbn(c7, c7, (7, 1), 17), cbn(c7, c7, (1, 7), 17), cbn(c7, c7, (7, 1), 17),
               cbn(c7, 192, (1, 7), 17), cbn(c_i, 192, 1, 17))


def reduction_b(c_i: int) -> tuple[int, int]:  # 17 → 8
    return add(cbn(c_i, 192, 1, 17), cbn(192, 320, 3, 8), cbn(c_i, 192, 1, 17), cbn(192, 192, (1, 7), 17),
               cbn(192, 192, (7, 1), 17), cbn(192, 192, 3, 8))


def module_c(c_i: int) -> tuple[int, int]:  # 8×8
    return add(cbn(c_i, 320, 1, 8), cbn(c_i, 384, 1, 8), cbn(384, 384, (1, 3), 8), cbn(384, 384, (3, 1), 8),
               cbn(c_i, 448, 1, 8), cbn(448, 384, 3, 8), cbn(384, 384, (1, 3), 8), cbn(384, 384, (3, 1), 8),
               cbn(c_i, 192, 1, 8))


V3_STEM = add(cbn(3, 32, 3, 149), cbn(32, 32, 3, 147), cbn(32, 64, 3, 147), cbn(64, 80, 1, 73),
              cbn(80, 192, 3, 71))
V3_BODY = add(
    V3_STEM, module_a(192, 32), module_a(256, 64), module_a(288, 64), reduction_a(288),
    module_b(768, 128), module_b(768, 160), module_b(768, 160), module_b(768, 192), reduction_b(768),
    module_c(1280), module_c(2048), (2048 * 1000 + 1000, 2048 * 1000),
)
# The auxiliary head on 768×17×17: avg pool 5×5/3 → 5×5, ConvBN 1×1 128, ConvBN 5×5 768 (→ 1×1), linear.
V3_AUX = add(cbn(768, 128, 1, 5), cbn(128, 768, 5, 1), (768 * 1000 + 1000, 768 * 1000))


def test_inception_hand_derivation_values():
    assert V3_STEM[0] == 172_672
    assert V3_BODY[0] == V3_PARAMS == 23_834_568  # torchvision's count without the auxiliary head
    assert V3_AUX[0] == 98_560 + 2_459_136 + 769_000 == 3_326_696
    assert V3_BODY[0] + V3_AUX[0] == V3_PARAMS_AUX == 27_161_264  # torchvision's documentation
    assert V3_BODY[1] == 5_713_216_096


def test_inception_params():
    assert numel(on_meta(inception_v3, aux_logits=False)) == V3_BODY[0]
    model = on_meta(inception_v3)
    assert numel(model) == V3_PARAMS_AUX
    assert numel(model.aux) == V3_AUX[0]
    assert numel(on_meta(inception_v3, aux_logits=False, num_classes=10)) == V3_BODY[0] - 2048 * 990 - 990
    bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(bn) == len(convs) == 96 and all(c.bias is None for c in convs)


def test_inception_shapes():
    model = inception_v3().eval()
    with torch.no_grad():
        assert model(torch.randn(V3_SHAPE)).shape == (1, 1000)
    report = nncost.profile(model, V3_SHAPE)
    shapes = {r["name"]: r["out_shape"] for r in report.records(depth=2)}
    assert report.params == V3_PARAMS_AUX  # the head's parameters count, though it does not run in eval
    assert shapes["features.conv1a"] == (1, 32, 149, 149)
    assert shapes["features.pool2"] == (1, 192, 35, 35)
    assert [shapes[f"features.mixed5{x}"][1] for x in "bcd"] == [256, 288, 288]
    assert shapes["features.mixed6a"] == (1, 768, 17, 17) and shapes["features.mixed6e"] == (1, 768, 17, 17)
    assert shapes["features.mixed7a"] == (1, 1280, 8, 8) and shapes["features.mixed7c"] == (1, 2048, 8, 8)


def test_inception_macs_against_flop_counter_and_verify():
    model = inception_v3(aux_logits=False).eval()
    report = nncost.profile(model, V3_SHAPE)
    assert report.macs == V3_BODY[1]
    assert nncost.torch_macs(model, torch.randn(V3_SHAPE)) == V3_BODY[1]  # FlopCounterMode / 2, real forward
    assert nncost.verify(model, V3_SHAPE).ok
    assert not report.uncounted_ops


def test_inception_aux_head_in_training():
    model = on_meta(inception_v3).train()
    out = model(torch.empty(2, 3, 299, 299, device="meta"))
    assert isinstance(out, tuple) and [o.shape for o in out] == [(2, 1000), (2, 1000)]
    batch2 = (2, 3, 299, 299)  # batch norm in training needs more than one value per channel (1×1 maps)
    report = nncost.profile(model, batch2)
    assert report["aux"].total_macs == 2 * V3_AUX[1]
    assert report.macs == 2 * (V3_BODY[1] + V3_AUX[1])
    assert nncost.verify(model, batch2, device="meta").ok
    assert nncost.profile(model.eval(), V3_SHAPE).macs == V3_BODY[1]


def test_inception_depth():
    """The longest path of weight layers of this layout: 48 (the paper says its network is '42 layers deep')."""
    assert weight_depth(on_meta(inception_v3, aux_logits=False), (nn.Conv2d, nn.Linear)) == 48


@pytest.mark.parametrize("build", [googlenet, inception_v3])
def test_bad_arguments(build):
    with pytest.raises(TypeError, match="aux_logits"):
        build(aux_logits=1)
    with pytest.raises(ValueError, match="num_classes"):
        build(num_classes=0)
    with pytest.raises(TypeError):
        build(True)  # keyword-only
