"""Layer costs with every expected value derived by hand (the arithmetic is in the comments)."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

import nncost
from nncost import LayerCost, activation, batchnorm2d, conv1d, conv2d, linear, mlp, pool2d, table

# --- the lecture notes' 5 -> 3 -> 2 MLP -------------------------------------------------------------------


def test_notes_mlp_5_3_2() -> None:
    # weights 5*3 + 3*2 = 15 + 6 = 21; biases 3 + 2 = 5; parameters 21 + 5 = 26
    # one sample: one MAC per weight, 21; bias adds 3 + 2 = 5
    layers = mlp((5,), [3, 2])
    assert [layer.out_shape for layer in layers] == [(3,), (2,)]
    assert [layer.weight_shape for layer in layers] == [(3, 5), (2, 3)]
    assert sum(layer.params for layer in layers) == 26
    assert sum(layer.macs for layer in layers) == 21
    assert sum(layer.flops for layer in layers) == 42  # 2 * 21
    assert sum(layer.elementwise_ops for layer in layers) == 5


def test_notes_mlp_without_bias_has_21_parameters() -> None:
    layers = mlp((5,), [3, 2], bias=False)
    assert sum(layer.params for layer in layers) == 21  # weights only
    assert sum(layer.elementwise_ops for layer in layers) == 0  # no bias adds
    assert all(layer.bias_shape is None for layer in layers)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_notes_mlp_batch_scales_macs_not_params(n: int) -> None:
    # a batch of n samples: n*21 MACs, n*5 bias adds, still 26 parameters
    layers = mlp((n, 5), [3, 2])
    assert sum(layer.macs for layer in layers) == n * 21
    assert sum(layer.elementwise_ops for layer in layers) == n * 5
    assert sum(layer.params for layer in layers) == 26
    assert layers[-1].out_shape == (n, 2)
    assert sum(layer.activations for layer in layers) == n * 3 + n * 2


def test_mlp_mnist() -> None:
    # 784 -> 256 -> 10: weights 784*256 + 256*10 = 200704 + 2560 = 203264; biases 266; params 203530
    layers = mlp((32, 784), [256, 10])
    assert sum(layer.params for layer in layers) == 203_530
    assert sum(layer.macs for layer in layers) == 32 * 203_264  # = 6_504_448
    assert sum(layer.macs for layer in layers) == 6_504_448


# --- linear -----------------------------------------------------------------------------------------------


def test_linear_with_leading_dims() -> None:
    # (2, 3, 4, 5) -> 7 features: rows m = 2*3*4 = 24; params 7*5 + 7 = 42
    # macs = 24 * 7 * 5 = 840; bias adds 24 * 7 = 168; output (2, 3, 4, 7) has 168 elements
    cost = linear((2, 3, 4, 5), 7)
    assert cost.out_shape == (2, 3, 4, 7)
    assert cost.params == 42
    assert cost.macs == 840
    assert cost.flops == 1680
    assert cost.elementwise == {"bias_add": 168}
    assert cost.activations == 168
    assert cost.weight_shape == (7, 5) and cost.bias_shape == (7,)
    assert cost.kind == "linear" and cost.in_shape == (2, 3, 4, 5)


def test_linear_on_a_vector() -> None:
    # a 1-D input (5,): one row; macs 3*5 = 15, params 15 + 3 = 18
    cost = linear((5,), 3)
    assert (cost.out_shape, cost.params, cost.macs, cost.activations) == ((3,), 18, 15, 3)


def test_linear_without_bias() -> None:
    cost = linear((10, 4), 6, bias=False)
    # params 6*4 = 24; macs 10*6*4 = 240; no bias adds
    assert (cost.params, cost.macs, cost.elementwise, cost.elementwise_ops) == (24, 240, {}, 0)


def test_linear_accepts_numpy_ints() -> None:
    cost = linear((np.int64(2), np.int32(3)), np.int64(4))
    assert cost.out_shape == (2, 4) and cost.macs == 2 * 4 * 3  # 24
    assert all(type(d) is int for d in cost.out_shape)


# --- conv2d -----------------------------------------------------------------------------------------------


def test_conv2d_same_size_3x3() -> None:
    # (1, 3, 32, 32), 16 filters 3x3, padding 1: h_o = 32 + 2 - 3 + 1 = 32
    # params 16 * 3 * 3 * 3 + 16 = 432 + 16 = 448
    # macs = (16 * 32 * 32 outputs = 16384) * (3 * 3 * 3 = 27 per output) = 442368
    cost = conv2d((1, 3, 32, 32), 16, 3, padding=1)
    assert cost.out_shape == (1, 16, 32, 32)
    assert cost.params == 448
    assert cost.macs == 442_368
    assert cost.flops == 884_736
    assert cost.elementwise == {"bias_add": 16_384}
    assert cost.activations == 16_384
    assert cost.weight_shape == (16, 3, 3, 3) and cost.bias_shape == (16,)


def test_conv2d_strided_batch() -> None:
    # (2, 3, 7, 7), 8 filters 3x3, stride 2: h_o = floor((7 - 3)/2) + 1 = 3
    # params 8*27 + 8 = 224; macs = 2*8*3*3 outputs (144) * 27 = 3888
    cost = conv2d((2, 3, 7, 7), 8, 3, stride=2)
    assert (cost.out_shape, cost.params, cost.macs) == ((2, 8, 3, 3), 224, 3888)


def test_conv2d_lenet_c1() -> None:
    # LeNet-5 C1: (1, 1, 32, 32), 6 filters 5x5: 28x28 out; params 6*25 + 6 = 156
    # macs = 6 * 28 * 28 * 25 = 6 * 784 * 25 = 117600
    cost = conv2d((1, 1, 32, 32), 6, 5)
    assert (cost.out_shape, cost.params, cost.macs) == ((1, 6, 28, 28), 156, 117_600)


def test_conv2d_groups() -> None:
    # (1, 4, 5, 5), 6 filters 3x3, groups 2: each filter sees 4/2 = 2 channels, 2*9 = 18 MACs per output
    # out 3x3; params 6*18 + 6 = 114; macs 6*3*3 * 18 = 54 * 18 = 972
    cost = conv2d((1, 4, 5, 5), 6, 3, groups=2)
    assert (cost.out_shape, cost.params, cost.macs) == ((1, 6, 3, 3), 114, 972)
    assert cost.weight_shape == (6, 2, 3, 3)


def test_conv2d_depthwise_separable() -> None:
    # MobileNet block on (1, 32, 14, 14) -> 64 channels
    # depthwise 3x3, groups 32: params 32*1*9 + 32 = 320; macs 32*14*14*9 = 32*196*9 = 56448
    # pointwise 1x1: params 64*32 + 64 = 2112; macs 64*196*32 = 401408
    # a full 3x3 conv instead: 64*32*9 = 18432 weights; macs 64*196*288 = 3612672
    depthwise = conv2d((1, 32, 14, 14), 32, 3, padding=1, groups=32)
    pointwise = conv2d(depthwise.out_shape, 64, 1)
    full = conv2d((1, 32, 14, 14), 64, 3, padding=1, bias=False)
    assert (depthwise.params, depthwise.macs) == (320, 56_448)
    assert (pointwise.params, pointwise.macs, pointwise.out_shape) == (2112, 401_408, (1, 64, 14, 14))
    assert (full.params, full.macs) == (18_432, 3_612_672)


def test_conv2d_dilation() -> None:
    # (1, 1, 10, 10), 1 filter 3x3, dilation 2: span 5, out 10 - 5 + 1 = 6; params 9 + 1 = 10; macs 36*9 = 324
    cost = conv2d((1, 1, 10, 10), 1, 3, dilation=2)
    assert (cost.out_shape, cost.params, cost.macs) == ((1, 1, 6, 6), 10, 324)
    assert cost.window == ((3, 3), (1, 1), (2, 2))


def test_conv2d_rectangular_tuples() -> None:
    # (1, 1, 10, 12), 2 filters (3, 5), stride (1, 2), padding (1, 0)
    # h: (10 + 2 - 3)/1 + 1 = 10; w: floor((12 - 5)/2) + 1 = 3 + 1 = 4
    # params 2*15 + 2 = 32; macs 2*10*4 * 15 = 1200
    cost = conv2d((1, 1, 10, 12), 2, (3, 5), stride=(1, 2), padding=(1, 0))
    assert (cost.out_shape, cost.params, cost.macs) == ((1, 2, 10, 4), 32, 1200)


def test_conv2d_unbatched() -> None:
    # (3, 8, 8), 4 filters 3x3: (4, 6, 6); macs 4*36*27 = 3888; bias adds 144
    cost = conv2d((3, 8, 8), 4, 3)
    assert (cost.out_shape, cost.macs, cost.elementwise_ops) == ((4, 6, 6), 3888, 144)


@pytest.mark.parametrize(("kernel", "dilation"), [(3, 1), (4, 1), (2, 3), (5, 2)])
def test_conv2d_padding_same_keeps_size(kernel: int, dilation: int) -> None:
    # 'same' pads d(k-1) in total, so 7x9 stays 7x9 whatever the kernel; macs 7*9*2*k*k per filter
    cost = conv2d((2, 2, 7, 9), 3, kernel, padding="same", dilation=dilation)
    assert cost.out_shape == (2, 3, 7, 9)
    assert cost.macs == 2 * 3 * 7 * 9 * (2 * kernel * kernel)


def test_conv2d_padding_valid_is_zero_padding() -> None:
    # 'valid': no padding, 8 - 3 + 1 = 6, and with stride 2 floor(5/2) + 1 = 3 (torch allows 'valid' strided)
    assert conv2d((1, 1, 8, 8), 1, 3, padding="valid").out_shape == (1, 1, 6, 6)
    assert conv2d((1, 1, 8, 8), 1, 3, stride=2, padding="valid").out_shape == (1, 1, 3, 3)


# --- conv1d -----------------------------------------------------------------------------------------------


def test_conv1d() -> None:
    # (4, 16, 100), 32 filters width 5, stride 2, padding 2: w_o = floor((100 + 4 - 5)/2) + 1 = 49 + 1 = 50
    # params 32*16*5 + 32 = 2560 + 32 = 2592; macs 4*32*50 (6400 outputs) * 80 = 512000; bias adds 6400
    cost = conv1d((4, 16, 100), 32, 5, stride=2, padding=2)
    assert cost.out_shape == (4, 32, 50)
    assert cost.params == 2592
    assert cost.macs == 512_000
    assert cost.elementwise == {"bias_add": 6400}
    assert cost.weight_shape == (32, 16, 5)
    assert cost.kind == "conv1d"


def test_conv1d_unbatched_grouped_same() -> None:
    # (6, 11), 4 filters width 4, groups 2, 'same': (4, 11); 3 channels per group, 3*4 = 12 MACs per output
    # params 4*12 + 4 = 52; macs 44 * 12 = 528
    cost = conv1d((6, 11), 4, 4, padding="same", groups=2)
    assert (cost.out_shape, cost.params, cost.macs) == ((4, 11), 52, 528)


# --- pooling ----------------------------------------------------------------------------------------------


def test_maxpool_resnet_stem() -> None:
    # (1, 64, 112, 112), 3x3 stride 2 padding 1: floor((112 + 2 - 3)/2) + 1 = 56
    # comparisons: 64*56*56 outputs (200704) * (9 - 1) = 1605632; no params, no MACs
    cost = pool2d((1, 64, 112, 112), 3, stride=2, padding=1)
    assert cost.out_shape == (1, 64, 56, 56)
    assert (cost.params, cost.macs, cost.flops) == (0, 0, 0)
    assert cost.elementwise == {"comparisons": 1_605_632}
    assert cost.kind == "maxpool2d"


def test_avgpool_default_stride_is_kernel() -> None:
    # (2, 3, 8, 8), 2x2, stride defaults to 2: (2, 3, 4, 4), 96 outputs; adds 96*3 = 288, divisions 96
    cost = pool2d((2, 3, 8, 8), 2, kind="avg")
    assert cost.out_shape == (2, 3, 4, 4)
    assert cost.elementwise == {"adds": 288, "divisions": 96}
    assert cost.elementwise_ops == 384
    assert cost.window == ((2, 2), (2, 2), (1, 1))
    assert cost.kind == "avgpool2d"


def test_pool_ceil_mode() -> None:
    # (1, 1, 6, 6), 3x3 stride 2: floor((6 - 3)/2) + 1 = 2, ceil: ceil(1.5) + 1 = 3
    assert pool2d((1, 1, 6, 6), 3, stride=2).out_shape == (1, 1, 2, 2)
    assert pool2d((1, 1, 6, 6), 3, stride=2, ceil_mode=True).out_shape == (1, 1, 3, 3)


def test_pool_unbatched_rectangular() -> None:
    # (3, 9, 10), kernel (3, 2), stride (3, 2): h floor(6/3)+1 = 3, w floor(8/2)+1 = 5 -> (3, 3, 5)
    # 45 outputs, 6 - 1 = 5 comparisons each = 225
    cost = pool2d((3, 9, 10), (3, 2), stride=(3, 2))
    assert cost.out_shape == (3, 3, 5)
    assert cost.elementwise_ops == 225


def test_maxpool_dilation() -> None:
    # (1, 1, 9, 9), 2x2 dilation 3: span 3*1 + 1 = 4, stride 2: floor((9 - 4)/2) + 1 = 3
    assert pool2d((1, 1, 9, 9), 2, stride=2, dilation=3).out_shape == (1, 1, 3, 3)


# --- batch norm -------------------------------------------------------------------------------------------


def test_batchnorm2d() -> None:
    # (8, 16, 10, 10): params gamma, beta = 2*16 = 32; buffers mean, var (16 each) + 1 counter = 33
    # inference: one scale and one shift per element, 8*16*100 = 12800 each, 25600 in all; no MACs
    cost = batchnorm2d((8, 16, 10, 10))
    assert cost.out_shape == (8, 16, 10, 10)
    assert (cost.params, cost.buffers, cost.macs) == (32, 33, 0)
    assert cost.elementwise == {"scale": 12_800, "shift": 12_800}
    assert cost.elementwise_ops == 25_600
    assert cost.activations == 12_800


def test_batchnorm2d_options() -> None:
    assert batchnorm2d((2, 4, 3, 3), affine=False).params == 0
    assert batchnorm2d((2, 4, 3, 3), affine=False).buffers == 2 * 4 + 1  # 9
    assert batchnorm2d((2, 4, 3, 3), track_running_stats=False).buffers == 0
    assert batchnorm2d((2, 4, 3, 3), track_running_stats=False).params == 8


def test_batchnorm2d_single_value_per_channel() -> None:
    # with running statistics (inference) one value per channel is fine; without them torch refuses it
    assert batchnorm2d((1, 4, 1, 1)).out_shape == (1, 4, 1, 1)
    with pytest.raises(ValueError, match=r"^in_shape:"):
        batchnorm2d((1, 4, 1, 1), track_running_stats=False)
    assert batchnorm2d((2, 4, 1, 1), track_running_stats=False).out_shape == (2, 4, 1, 1)


# --- activation and LayerCost -----------------------------------------------------------------------------


def test_activation() -> None:
    # (2, 3, 4): 24 elements, one op each, counted under the function's name
    cost = activation((2, 3, 4), "gelu")
    assert (cost.out_shape, cost.params, cost.macs, cost.flops) == ((2, 3, 4), 0, 0, 0)
    assert cost.elementwise == {"gelu": 24}
    assert cost.elementwise_ops == 24 and cost.activations == 24
    assert cost.kind == "gelu"
    assert activation((5,)).elementwise == {"relu": 5}  # relu by default


@pytest.mark.parametrize("name", ["", 3, None])
def test_activation_needs_a_name(name: object) -> None:
    with pytest.raises(TypeError, match=r"^name:"):
        activation((2, 3), name)  # type: ignore[arg-type]


def test_layer_cost_derived_properties() -> None:
    cost = LayerCost("custom", (2, 3), (2, 5, 7), params=11, macs=13, elementwise={"a": 4, "b": 6})
    assert cost.flops == 26  # 2 * 13
    assert cost.activations == 70  # 2 * 5 * 7
    assert cost.elementwise_ops == 10  # 4 + 6
    assert LayerCost("empty", (1,), (1,), 0, 0).elementwise_ops == 0


def test_layer_cost_repr() -> None:
    text = repr(conv2d((1, 3, 32, 32), 16, 3, padding=1))
    assert "conv2d" in text and "(1, 3, 32, 32) -> (1, 16, 32, 32)" in text
    assert "params=448" in text and "macs=442,368" in text and "flops=884,736" in text
    assert "'bias_add': 16384" in text


def test_layer_cost_is_immutable() -> None:
    cost = linear((2, 3), 4)
    with pytest.raises(AttributeError):
        cost.params = 0  # type: ignore[misc]


# --- CostTable --------------------------------------------------------------------------------------------


def _notes_table() -> nncost.CostTable:
    return table(mlp((4, 5), [3, 2]), names=["fc1", "fc2"])


def test_table_totals() -> None:
    # the 5 -> 3 -> 2 MLP on a batch of 4: params 26, macs 4*21 = 84, flops 168,
    # activations 4*3 + 4*2 = 20, elementwise (bias adds) 4*3 + 4*2 = 20
    t = _notes_table()
    assert (t.params, t.macs, t.flops, t.activations, t.elementwise_ops) == (26, 84, 168, 20, 20)
    assert t.names == ("fc1", "fc2")


def test_table_rows() -> None:
    rows = _notes_table().rows()
    assert [r["name"] for r in rows] == ["fc1", "fc2", "total"]
    # fc1: 5*3 + 3 = 18 params, 4*15 = 60 macs; fc2: 3*2 + 2 = 8 params, 4*6 = 24 macs
    assert [(r["params"], r["macs"]) for r in rows] == [(18, 60), (8, 24), (26, 84)]
    assert rows[-1]["out_shape"] == (4, 2)  # the total row shows the last output


def test_table_default_names() -> None:
    t = table([linear((3,), 2), activation((2,)), linear((2,), 1)])
    assert t.names == ("layer1", "layer2", "layer3")
    # params (3*2 + 2) + 0 + (2*1 + 1) = 11; macs 6 + 0 + 2 = 8; elementwise 2 + 2 + 1 = 5
    assert (t.params, t.macs, t.elementwise_ops) == (11, 8, 5)


def test_table_accepts_a_generator() -> None:
    t = table(linear((2, n), n) for n in (1, 2))
    # macs 2*1*1 + 2*2*2 = 2 + 8 = 10
    assert t.macs == 10


def test_table_str() -> None:
    t = table([conv2d((1, 3, 32, 32), 16, 3, padding=1), pool2d((1, 16, 32, 32), 2)], names=["conv", "pool"])
    lines = str(t).splitlines()
    header = ["layer", "kind", "output", "shape", "params", "MACs", "activations", "elementwise", "ops"]
    assert lines[0].split() == header
    assert set(lines[1]) == {"-"} and set(lines[-2]) == {"-"}
    assert len(lines) == 6  # header, rule, 2 layers, rule, total
    # conv: 1x16x32x32, 448 params, 442,368 MACs, 16,384 activations and bias adds
    assert lines[2].split() == ["conv", "conv2d", "1×16×32×32", "448", "442,368", "16,384", "16,384"]
    # pool: 1x16x16x16 = 4,096 outputs, 3 comparisons each = 12,288
    assert lines[3].split() == ["pool", "maxpool2d", "1×16×16×16", "0", "0", "4,096", "12,288"]
    # total: activations 16384 + 4096 = 20,480; elementwise 16384 + 12288 = 28,672
    assert lines[-1].split() == ["total", "1×16×16×16", "448", "442,368", "20,480", "28,672"]
    assert repr(t) == str(t)
    assert len({len(line) for line in lines}) == 1  # every line as wide as the rules


class _Cells(HTMLParser):
    """The text of each row's cells, and each row's tag attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.row_attrs: list[dict[str, str | None]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
            self.row_attrs.append(dict(attrs))
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_table_html() -> None:
    t = table([linear((2, 3), 4), activation((2, 4), "relu")], names=["<fc>", "act & co"])
    html = t._repr_html_()
    assert html.startswith("<table") and html.endswith("</table>")
    assert "&lt;fc&gt;" in html and "<fc>" not in html  # names are escaped
    parser = _Cells()
    parser.feed(html)
    header, fc, act, total = parser.rows  # a header, two layers and the total
    assert header == ["layer", "kind", "output shape", "params", "MACs", "activations", "elementwise ops"]
    # linear (2, 3) -> 4: params 4*3 + 4 = 16, MACs 2*4*3 = 24, activations 8, bias adds 8
    assert fc == ["<fc>", "linear", "2×4", "16", "24", "8", "8"]
    # relu on (2, 4): 8 activations, 8 elementwise ops
    assert act == ["act & co", "relu", "2×4", "0", "0", "8", "8"]
    assert total == ["total", "", "2×4", "16", "24", "16", "16"]
    assert "bold" in (parser.row_attrs[-1].get("style") or "")  # the total row stands out


@pytest.mark.parametrize(
    "kwargs",
    [{"stride": (2,)}, {"padding": (1,)}, {"dilation": (2,)}, {"stride": (2,), "padding": (1,), "dilation": (2,)}],
)
def test_conv2d_broadcasts_one_element_tuples_like_torch(kwargs: dict) -> None:
    # torch's nn.Conv2d broadcasts a 1-tuple stride/padding/dilation to both dimensions
    import torch

    x = torch.zeros(1, 2, 9, 9)
    expected = tuple(torch.nn.Conv2d(2, 4, 3, **kwargs)(x).shape)
    assert nncost.conv2d((1, 2, 9, 9), 4, 3, **kwargs).out_shape == expected


@pytest.mark.parametrize(
    "kwargs",
    [{"kernel_size": (3,)}, {"kernel_size": 3, "stride": (2,)}, {"kernel_size": 3, "padding": (1,)},
     {"kernel_size": 3, "dilation": (2,)}],
)
def test_pool2d_broadcasts_one_element_tuples_like_torch(kwargs: dict) -> None:
    import torch

    x = torch.zeros(1, 2, 9, 9)
    expected = tuple(torch.nn.MaxPool2d(**kwargs)(x).shape)
    assert nncost.pool2d((1, 2, 9, 9), **kwargs).out_shape == expected


def test_conv2d_kernel_one_element_tuple_is_refused_like_torch() -> None:
    with pytest.raises(ValueError, match=r"^kernel_size"):
        nncost.conv2d((1, 2, 9, 9), 4, (3,))
