"""nncost.arch_figures: the layer diagram and the per-layer cost chart draw what nncost.profile reports."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only: no display

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text
from torch import nn

import nncost
from nncost.arch_figures import KINDS, draw_architecture, layer_kind, plot_layer_costs

torch.set_num_threads(1)

INPUT = (1, 1, 32, 32)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def small_cnn() -> nn.Sequential:
    """A LeNet-shaped Sequential: 12 layers, every kind of box but norm."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5, groups=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


class Nested(nn.Module):
    """features (6 layers) + classifier (5 layers), a BatchNorm, and a module that never runs."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, 32), nn.ReLU(),
                                        nn.Linear(32, 10))
        self.unused = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def texts(fig: Figure, gid: str) -> list[str]:
    return [t.get_text() for t in fig.findobj() if getattr(t, "get_gid", lambda: None)() == gid
            and hasattr(t, "get_text")]


def count(fig: Figure, gid: str) -> int:
    return sum(1 for a in fig.findobj() if a.get_gid() == gid)


def test_draws_a_figure_with_one_box_per_layer():
    fig = draw_architecture(small_cnn(), INPUT)
    assert isinstance(fig, Figure)
    assert count(fig, "arch-input") == 1
    assert count(fig, "arch-layer") == 12
    fig.canvas.draw()  # renders with Agg without error


def test_labels_are_the_output_shapes_nncost_profile_reports():
    model = small_cnn()
    report = nncost.profile(model, INPUT)
    expected = ["→ " + "×".join(str(d) for d in row.out_shape[1:]) for row in report.rows[1:]]
    fig = draw_architecture(model, INPUT)
    assert texts(fig, "arch-shape") == expected
    assert expected[0] == "→ 6×28×28" and expected[-1] == "→ 10"
    assert texts(fig, "arch-input-shape") == ["1×32×32"]


def test_labels_name_the_kernel_stride_and_groups():
    labels = texts(draw_architecture(small_cnn(), INPUT), "arch-label")
    assert labels[:6] == ["Conv 5×5", "Tanh", "AvgPool 2×2/2", "Conv 5×5 g2", "ReLU", "MaxPool 2×2/2"]
    assert labels[7] == "FC 400→120"
    nested = texts(draw_architecture(Nested(), INPUT), "arch-label")
    assert nested[0] == "Conv 3×3/2" and nested[1] == "BatchNorm" and nested[5] == "AdaptAvg →4×4"
    assert "Dropout p=0.5" in nested


def test_depth_chooses_the_boxes_and_skips_modules_that_never_ran():
    model = Nested()
    fig = draw_architecture(model, INPUT)
    assert count(fig, "arch-layer") == 11  # 6 + 5 layers; `unused` never ran
    assert texts(fig, "arch-name")[1:3] == ["features.0", "features.1"]
    fig1 = draw_architecture(model, INPUT, depth=1)
    assert count(fig1, "arch-layer") == 2
    assert texts(fig1, "arch-label") == ["Sequential (6 layers)", "Sequential (5 layers)"]
    assert texts(fig1, "arch-shape") == ["→ 8×4×4", "→ 10"]
    assert count(draw_architecture(model, INPUT, depth=0), "arch-layer") == 1


def test_colours_follow_the_kind_and_the_palette():
    from matplotlib.colors import to_hex

    fig = draw_architecture(small_cnn(), INPUT)
    boxes = [a for a in fig.findobj() if a.get_gid() == "arch-layer"]
    edges = [to_hex(b.get_edgecolor()) for b in boxes]
    assert edges[0] == nncost.style.PALETTE["weight"].lower()  # conv
    assert edges[2] == nncost.style.PALETTE["bias"].lower()  # pool
    assert edges[7] == nncost.style.PALETTE["output"].lower()  # linear
    assert [layer_kind(m) for m in small_cnn()][:3] == ["conv", "activation", "pool"]
    assert layer_kind(nn.LocalResponseNorm(5)) == "norm" and layer_kind(nn.Flatten()) == "other"
    assert layer_kind(nn.MultiheadAttention(8, 2)) == "other"


def test_custom_modules_choose_their_box_and_repeated_calls_are_shown():
    class Sub(nn.Module):
        arch_kind, arch_label = "pool", "Subsample 2×2"

        def forward(self, x):
            return nn.functional.avg_pool2d(x, 2)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub, self.act = Sub(), nn.ReLU()

        def forward(self, x):
            return self.act(self.sub(self.act(x)))

    fig = draw_architecture(Twice(), INPUT)
    assert texts(fig, "arch-label") == ["Subsample 2×2", "ReLU"]
    assert texts(fig, "arch-shape") == ["→ 1×16×16", "→ 1×32×32 (×2)"]  # the first call's shape
    assert "pool" in KINDS


def test_draws_into_a_given_axes_and_titles():
    fig, ax = plt.subplots(figsize=(9, 4))
    out = draw_architecture(small_cnn(), INPUT, ax=ax, title="LeNet-like")
    assert out is fig and ax.get_title() == "LeNet-like"
    default = draw_architecture(small_cnn(), INPUT)
    assert default.axes[0].get_title() == "Sequential on 1×32×32: 60.5 k parameters, 297 k MACs"
    assert draw_architecture(small_cnn(), INPUT, title="").axes[0].get_title() == ""


def test_deterministic():
    def snapshot() -> list:
        fig = draw_architecture(Nested(), INPUT)
        return [(t.get_text(), t.get_position()) for t in fig.findobj(Text)]

    assert snapshot() == snapshot()


def test_plot_layer_costs_one_bar_per_costly_layer():
    report = nncost.profile(small_cnn(), INPUT)
    fig = plot_layer_costs(report)
    assert len(fig.axes) == 2
    assert count(fig, "cost-params") == count(fig, "cost-macs") == 5  # 2 convs + 3 linears
    widths = [a.get_width() for a in fig.findobj() if a.get_gid() == "cost-params"]
    assert widths == [156, 1216, 48120, 10164, 850]
    macs = [a.get_width() for a in fig.findobj() if a.get_gid() == "cost-macs"]
    assert sum(macs) == report.macs
    assert fig.axes[0].get_yticklabels()[0].get_text() == "0 (Conv2d)"
    fig.canvas.draw()


def test_plot_layer_costs_depth_log_and_axes():
    report = nncost.profile(Nested(), INPUT)
    assert count(plot_layer_costs(report, depth=1), "cost-params") == 2
    log = plot_layer_costs(report, log=True)
    assert log.axes[0].get_xscale() == "log"
    fig, ax = plt.subplots()
    assert plot_layer_costs(report, ax=ax) is fig
    shares = [a.get_width() for a in fig.findobj() if a.get_gid() == "cost-params"]
    assert sum(shares) == pytest.approx(100 * (report.params - 12) / report.params)  # `unused` never ran
    fig2, pair = plt.subplots(1, 2)
    assert plot_layer_costs(report, ax=pair) is fig2


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"model": "not a model"}, "model"),
        ({"input_shape": "1x1x32x32"}, "input_shape"),
        ({"input_shape": ()}, "input_shape"),
        ({"input_shape": (1, 1, 32.5, 32)}, "input_shape"),
        ({"depth": -1}, "depth"),
        ({"depth": "1"}, "depth"),
        ({"depth": True}, "depth"),
        ({"title": 3}, "title"),
        ({"ax": "axes"}, "ax"),
    ],
)
def test_draw_architecture_bad_input_names_the_argument(kwargs, name):
    args = {"model": small_cnn(), "input_shape": INPUT, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name}[:\[]"):
        draw_architecture(args.pop("model"), args.pop("input_shape"), **args)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"report": "report"}, "report"),
        ({"depth": 1.5}, "depth"),
        ({"log": "yes"}, "log"),
        ({"ax": [1, 2, 3]}, "ax"),
    ],
)
def test_plot_layer_costs_bad_input_names_the_argument(kwargs, name):
    args = {"report": nncost.profile(small_cnn(), INPUT), **kwargs}
    with pytest.raises(ValueError, match=rf"^{name}:"):
        plot_layer_costs(args.pop("report"), **args)


def test_plot_layer_costs_refuses_log_on_one_axes_and_an_empty_plot():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"^log:"):
        plot_layer_costs(nncost.profile(small_cnn(), INPUT), ax=ax, log=True)
    with pytest.raises(ValueError, match=r"^report:"):
        plot_layer_costs(nncost.profile(nn.Sequential(nn.ReLU()), INPUT))
