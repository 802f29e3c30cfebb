"""nncost.window_figures: every helper draws, shows the cells it claims, writes torch's numbers, refuses bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only: no display

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import nncost
from nncost import window_figures as wf

X1 = np.array([1, 3, 2, 0, -1, 2, 1])
K1 = np.array([1, 0, -1])
X2 = np.arange(25).reshape(5, 5) % 7 - 2
K2 = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def gids(artist: Figure | Axes, prefix: str) -> list:
    """Every artist in ``artist`` whose gid starts with ``prefix``."""
    return [a for a in artist.findobj() if (a.get_gid() or "").startswith(prefix)]


def exact(artist: Figure | Axes, gid: str) -> list:
    return [a for a in artist.findobj() if a.get_gid() == gid]


def number(text: str) -> float:
    return float(text.replace("−", "-").lstrip("×"))


def values(ax: Axes, gid: str) -> list[float]:
    return [number(t.get_text()) for t in ax.texts if t.get_gid() == gid]


def torch_conv1d(x, k, **kwargs) -> np.ndarray:
    t = F.conv1d(torch.tensor(x, dtype=torch.float64)[None, None], torch.tensor(k, dtype=torch.float64)[None, None],
                 **kwargs)
    return t[0, 0].numpy()


def torch_conv2d(x, k, **kwargs) -> np.ndarray:
    t = F.conv2d(torch.tensor(x, dtype=torch.float64)[None, None], torch.tensor(k, dtype=torch.float64)[None, None],
                 **kwargs)
    return t[0, 0].numpy()


# ----------------------------------------------------------------------------------------------- sliding 1-D


def test_sliding_1d_one_panel_per_position():
    fig = wf.draw_sliding_1d(X1, K1)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 5  # w_o = 7 - 3 + 1
    for j, ax in enumerate(fig.axes):
        assert len(exact(ax, "cell-window")) == 3
        assert len(exact(ax, "cell-kernel")) == 3
        assert len(exact(ax, "cell-output-current")) == 1
        assert len(gids(ax, "cell-output")) == 5
        assert ax.get_title().startswith(f"y[{j}] = ")


def test_sliding_1d_values_equal_torch():
    fig = wf.draw_sliding_1d(X1, K1)
    expected = torch_conv1d(X1, K1)
    last = fig.axes[-1]  # the last window: every output computed
    assert np.allclose(values(last, "value-output"), expected)
    assert values(last, "value-input") == X1.tolist()
    for j, ax in enumerate(fig.axes):
        assert np.isclose(number(ax.get_title().rsplit("= ", 1)[1]), expected[j])
        assert len(values(ax, "value-output")) == j + 1  # outputs computed so far


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(2, 1, 1), (1, 2, 2), (3, 0, 1), (2, 1, 2)])
def test_sliding_1d_stride_padding_dilation(stride, padding, dilation):
    fig = wf.draw_sliding_1d(X1, K1, stride=stride, padding=padding, dilation=dilation)
    expected = torch_conv1d(X1, K1, stride=stride, padding=padding, dilation=dilation)
    w_out = nncost.output_size(7, 3, stride, padding, dilation)
    assert len(expected) == w_out
    assert len(fig.axes) == min(w_out, 6)
    last = fig.axes[-1]
    assert np.allclose(values(last, "value-output"), expected)
    assert len(exact(last, "cell-padding")) == 2 * padding
    assert values(last, "value-padding") == [0.0] * (2 * padding)


def test_sliding_1d_positions_and_spread():
    fig = wf.draw_sliding_1d(np.arange(20), K1)  # 18 outputs: at most 6 panels, first and last included
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 6
    assert titles[0].startswith("y[0] ") and titles[-1].startswith("y[17] ")
    fig = wf.draw_sliding_1d(X1, K1, positions=[4, 1])
    assert [ax.get_title()[:4] for ax in fig.axes] == ["y[4]", "y[1]"]


def test_sliding_1d_floats_two_decimals():
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal(6), rng.standard_normal(3)
    fig = wf.draw_sliding_1d(x, k)
    assert np.allclose(values(fig.axes[-1], "value-output"), torch_conv1d(x, k), atol=0.005)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"x": np.zeros((2, 3))}, "x"),
    ({"x": []}, "x"),
    ({"x": "abc"}, "x"),
    ({"x": [1.0, np.nan, 2.0]}, "x"),
    ({"x": np.zeros(40)}, "x"),
    ({"kernel": np.ones(9)}, "kernel"),
    ({"kernel": np.ones((3, 1))}, "kernel"),
    ({"stride": 0}, "stride"),
    ({"stride": 1.5}, "stride"),
    ({"padding": -1}, "padding"),
    ({"dilation": True}, "dilation"),
    ({"positions": [5]}, "positions"),
    ({"positions": [0, 0]}, "positions"),
    ({"positions": []}, "positions"),
    ({"positions": 3}, "positions"),
])
def test_sliding_1d_rejects_bad_input(kwargs, name):
    args = {"x": X1, "kernel": K1, **kwargs}
    with pytest.raises(ValueError, match=f"^{name}"):
        wf.draw_sliding_1d(**args)


# ----------------------------------------------------------------------------------------------- sliding 2-D


def test_sliding_2d_default_panels_and_cells():
    fig = wf.draw_sliding_2d(X2, K2, padding=1)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split(":")[0] for t in titles] == ["window (0, 0)", "window (0, 1)", "window (1, 0)", "window (4, 4)"]
    for ax in fig.axes:
        assert len(gids(ax, "cell-output")) == 25
        assert len(exact(ax, "cell-output-current")) == 1
        assert len(exact(ax, "value-kernel")) == 9
        assert len(exact(ax, "cell-padding")) == 7 * 7 - 5 * 5
        assert len(exact(ax, "window")) == 1


def test_sliding_2d_values_equal_torch():
    fig = wf.draw_sliding_2d(X2, K2, padding=1)
    expected = torch_conv2d(X2, K2, padding=1)
    last = fig.axes[-1]
    assert np.allclose(values(last, "value-output"), expected.ravel())  # written in reading order
    assert values(last, "value-input") == X2.ravel().tolist()
    for ax in fig.axes:
        i, j = (int(v) for v in ax.get_title()[len("window ("):].split(")")[0].split(", "))
        assert np.isclose(number(ax.get_title().rsplit("= ", 1)[1]), expected[i, j])


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(2, 1, 1), ((1, 2), 0, 1), (1, (2, 1), 2), (2, 2, 2)])
def test_sliding_2d_stride_padding_dilation(stride, padding, dilation):
    x = np.arange(36).reshape(6, 6) % 5
    fig = wf.draw_sliding_2d(x, K2, stride=stride, padding=padding, dilation=dilation)
    expected = torch_conv2d(x, K2, stride=stride, padding=padding, dilation=dilation)
    last = fig.axes[-1]
    assert np.allclose(values(last, "value-output"), expected.ravel())
    weights = sorted(values(last, "value-kernel"))
    assert weights == sorted(K2.ravel().tolist())


def test_sliding_2d_explicit_positions():
    fig = wf.draw_sliding_2d(X2, K2, positions=[(2, 2)])
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title().startswith("window (2, 2)")


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"x": np.zeros(5)}, "x"),
    ({"x": np.zeros((13, 3))}, "x"),
    ({"kernel": np.ones(3)}, "kernel"),
    ({"kernel": np.ones((6, 6))}, "kernel"),
    ({"stride": (1, 0)}, "stride"),
    ({"stride": (1, 2, 3)}, "stride"),
    ({"padding": "same"}, "padding"),
    ({"dilation": 0}, "dilation"),
    ({"positions": [(3, 0)]}, "positions"),
    ({"positions": [(0,)]}, "positions"),
    ({"positions": [(0, 0)] * 9}, "positions"),
])
def test_sliding_2d_rejects_bad_input(kwargs, name):
    args = {"x": X2, "kernel": K2, **kwargs}
    with pytest.raises(ValueError, match=f"^{name}"):
        wf.draw_sliding_2d(**args)


# ----------------------------------------------------------------------------------------------- padding


@pytest.mark.parametrize(("h", "w", "padding"), [(5, 5, 1), (4, 6, (2, 1)), (3, 3, 0)])
def test_padding_cells(h, w, padding):
    ax = wf.draw_padding(h, w, padding)
    assert isinstance(ax, Axes)
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    assert len(exact(ax, "cell-input")) == h * w
    assert len(exact(ax, "cell-padding")) == (h + 2 * p_h) * (w + 2 * p_w) - h * w
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "label-size"]
    assert f"w + 2·{p_w} = {w + 2 * p_w}" in labels and f"h = {h}" in labels


def test_padding_into_given_axes():
    _, ax = plt.subplots()
    assert wf.draw_padding(3, 4, 1, ax=ax) is ax


@pytest.mark.parametrize(("args", "name"), [((0, 3, 1), "h"), ((3, 2.0, 1), "w"), ((3, 3, -1), "padding"),
                                            ((3, 3, (1, 2, 3)), "padding"), ((3, 3, "1"), "padding")])
def test_padding_rejects_bad_input(args, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        wf.draw_padding(*args)


# ----------------------------------------------------------------------------------------------- stride


@pytest.mark.parametrize(("size", "k", "s", "p"), [(7, 3, 2, 1), ((6, 8), 3, (1, 2), 0), (9, 2, 3, 0)])
def test_stride_marks_every_window(size, k, s, p):
    ax = wf.draw_stride(size, k, s, p)
    assert isinstance(ax, Axes)
    h, w = (size, size) if isinstance(size, int) else size
    s_h, s_w = (s, s) if isinstance(s, int) else s
    h_o, w_o = nncost.output_size(h, k, s_h, p), nncost.output_size(w, k, s_w, p)
    sampled = exact(ax, "centre-sampled")[0]
    assert len(sampled.get_offsets()) == h_o * w_o
    every = nncost.output_size(h, k, 1, p) * nncost.output_size(w, k, 1, p)
    skipped = exact(ax, "centre-skipped")
    assert (len(skipped[0].get_offsets()) if skipped else 0) == every - h_o * w_o
    assert f"{h_o}×{w_o} output" in ax.get_title()


def test_stride_matches_torch_output_size():
    ax = wf.draw_stride(7, 3, 2, 1)
    out = F.conv2d(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 3, 3), stride=2, padding=1)
    assert f"→ {out.shape[2]}×{out.shape[3]} output" in ax.get_title()


@pytest.mark.parametrize(("args", "name"), [((7, 9, 1), "kernel_size"), ((7, 3, 0), "stride"),
                                            ((0, 3, 1), "size"), ((7, 3, 1, -2), "padding")])
def test_stride_rejects_bad_input(args, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        wf.draw_stride(*args)


# ----------------------------------------------------------------------------------------------- pooling


def test_max_pooling_picks_and_values():
    x = np.array([[1, 5, 2, 0], [3, 2, 8, 1], [0, 4, 6, 7], [9, 1, 2, 3]])
    ax = wf.draw_pooling(x, 2)
    assert isinstance(ax, Axes)
    assert len(exact(ax, "window")) == 4
    assert len(exact(ax, "cell-picked")) == 4
    expected = F.max_pool2d(torch.tensor(x, dtype=torch.float64)[None, None], 2)[0, 0].numpy()
    assert np.allclose(values(ax, "value-output"), expected.ravel())
    # the picked cells sit on the maxima: their lower-left corners are inside the right input cells
    picked = sorted((round(-p.get_y() - 0.9), round(p.get_x() - 0.1)) for p in exact(ax, "cell-picked"))
    assert picked == sorted([(0, 1), (1, 2), (3, 0), (2, 3)])


def test_avg_pooling_values_and_overlap():
    x = np.arange(25).reshape(5, 5) % 6
    ax = wf.draw_pooling(x, 3, stride=2, kind="avg")
    expected = F.avg_pool2d(torch.tensor(x, dtype=torch.float64)[None, None], 3, stride=2)[0, 0].numpy()
    assert np.allclose(values(ax, "value-output"), expected.ravel(), atol=0.005)
    assert exact(ax, "cell-picked") == []
    hues = {p.get_edgecolor() for p in exact(ax, "window")}
    assert len(hues) == 4  # one hue per window


@pytest.mark.parametrize(("kwargs", "name"), [({"kind": "min"}, "kind"), ({"kernel_size": 0}, "kernel_size"),
                                              ({"kernel_size": 5}, "kernel_size"), ({"stride": -1}, "stride"),
                                              ({"x": np.zeros(4)}, "x")])
def test_pooling_rejects_bad_input(kwargs, name):
    args = {"x": np.zeros((4, 4)), "kernel_size": 2, **kwargs}
    with pytest.raises(ValueError, match=f"^{name}"):
        wf.draw_pooling(**args)


# ----------------------------------------------------------------------------------------------- receptive field


def test_receptive_field_1d_rows_and_size():
    layers = [(3, 1)] * 3
    fig = wf.draw_receptive_field(layers, 11)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    rf = nncost.receptive_field(layers)[-1].size[0]
    assert rf == 7
    seen_input = [p for p in exact(ax, "cell-seen") if abs(p.get_y()) < 1e-9]
    assert len(seen_input) == rf
    assert len(exact(ax, "cell-output-current")) == 1
    labels = [t.get_text() for t in exact(ax, "label-rf")]
    assert [lab.rsplit("sees ", 1)[1] for lab in labels] == ["3 input positions", "5 input positions",
                                                              "7 input positions"]


def test_receptive_field_1d_stride_and_dilation():
    layers = [(3, 1), (2, 2), (3, 1, 2)]
    fig = wf.draw_receptive_field(layers, 20)
    rf = nncost.receptive_field(layers)[-1].size[0]
    assert rf == 1 + 2 + 1 + 2 * 2 * 2  # 3, then +1·1 (k=2, jump 1), then +2·2·2 (k=3, d=2, jump 2)
    assert fig.axes[0].get_title().endswith(f"sees {rf} input positions")
    seen_input = [p for p in exact(fig.axes[0], "cell-seen") if abs(p.get_y()) < 1e-9]
    assert max(p.get_x() for p in seen_input) - min(p.get_x() for p in seen_input) + 1 == rf


def test_receptive_field_accepts_layer_costs():
    conv = nncost.conv2d((1, 1, 9, 9), 1, 3)
    fig = wf.draw_receptive_field([conv, conv], (9, 9))
    assert [ax.get_title() for ax in fig.axes] == ["after layer 1: 3×3", "after layer 2: 5×5"]


def test_receptive_field_2d_matches_autograd():
    """The highlighted input pixels are exactly those with a nonzero gradient for the central output."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, 3, bias=False) for _ in range(3)]).double()
    for conv in net:
        torch.nn.init.uniform_(conv.weight, 0.5, 1.5)  # positive weights: no accidental cancellation
    x = torch.zeros(1, 1, 11, 11, dtype=torch.float64, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    fig = wf.draw_receptive_field([(3, 1)] * 3, (11, 11))
    seen = exact(fig.axes[-1], "cell-seen")
    assert len(seen) == int((x.grad != 0).sum()) == 7 * 7
    cells = {(round(-p.get_y() - 1), round(p.get_x())) for p in seen}
    assert cells == {tuple(ij) for ij in (x.grad[0, 0] != 0).nonzero().tolist()}


@pytest.mark.parametrize(("layers", "size", "name"), [
    ([], 9, "layers"),
    ([(3, 1)] * 3, 5, "input_size"),
    ([(3, 1)], 0, "input_size"),
    ([((3, 3), 1)], 9, "input_size"),  # 2-D layers need an (h, w) input
    ([("a", 1)], 9, "layers"),
])
def test_receptive_field_rejects_bad_input(layers, size, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        wf.draw_receptive_field(layers, size)


# ----------------------------------------------------------------------------------------------- shared


def test_deterministic():
    a = [t.get_text() for ax in wf.draw_sliding_2d(X2, K2, padding=1).axes for t in ax.texts]
    b = [t.get_text() for ax in wf.draw_sliding_2d(X2, K2, padding=1).axes for t in ax.texts]
    assert a == b


def test_numbers_at_least_9pt():
    fig = wf.draw_sliding_2d(X2, K2, padding=1)
    sizes = {t.get_fontsize() for ax in fig.axes for t in ax.texts}
    assert min(sizes) >= 9
