"""nncost.figures: every helper draws, returns a Figure, shows what it claims, and refuses bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only: no display

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from nncost import figures


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def gids(fig: Figure, prefix: str) -> list[str]:
    """The gids of every artist in ``fig`` that starts with ``prefix``."""
    return [a.get_gid() for a in fig.findobj() if (a.get_gid() or "").startswith(prefix)]


# ----------------------------------------------------------------------------------------------- palette


def test_palette_colours_are_distinct_and_valid():
    from matplotlib.colors import is_color_like

    names = ["input", "hidden", "weight", "bias", "output", "highlight", "neutral", "light"]
    colours = [getattr(figures.PALETTE, name) for name in names]
    assert all(is_color_like(c) for c in colours)
    assert len(set(colours)) == len(colours)


def test_palette_shares_the_book_colours():
    from nncost import style

    for name in ("input", "weight", "bias", "output", "highlight", "neutral"):
        assert figures.PALETTE[name] == getattr(figures.PALETTE, name) == style.PALETTE[name]
    with pytest.raises(KeyError, match="no colour"):
        figures.PALETTE["nonsense"]


def test_style_restores_rcparams():
    before = plt.rcParams["font.size"]
    with figures.style():
        assert plt.rcParams["font.size"] == figures.STYLE["font.size"]
    assert plt.rcParams["font.size"] == before


def test_subplots_returns_figure_and_axes():
    fig, ax = figures.subplots(figsize=(4, 3))
    assert isinstance(fig, Figure)
    assert ax.figure is fig


# ----------------------------------------------------------------------------------------------- neuron


@pytest.mark.parametrize("n_inputs", [1, 3, 8])
def test_draw_neuron_parts(n_inputs):
    fig = figures.draw_neuron(n_inputs)
    assert isinstance(fig, Figure)
    assert len(gids(fig, "node-input")) == n_inputs
    assert len(gids(fig, "edge-weight")) == n_inputs
    assert len(gids(fig, "node-bias")) == 1
    assert len(gids(fig, "node-sum")) == len(gids(fig, "node-activation")) == len(gids(fig, "node-output")) == 1
    circles = [p for p in fig.axes[0].patches if isinstance(p, Circle)]
    assert len(circles) == n_inputs + 2  # inputs, the sum, the output


def test_draw_neuron_biology_labels():
    texts = {t.get_text() for t in figures.draw_neuron(3, biology=True).axes[0].texts}
    assert {"dendrites", "synapses", "soma", "firing", "axon"} <= texts
    plain = {t.get_text() for t in figures.draw_neuron(3).axes[0].texts}
    assert "dendrites" not in plain


def test_draw_neuron_into_given_axes():
    fig, ax = plt.subplots()
    assert figures.draw_neuron(2, ax=ax) is fig


@pytest.mark.parametrize("bad", [0, -1, 9, 2.5, True, "3"])
def test_draw_neuron_rejects_bad_n_inputs(bad):
    with pytest.raises(ValueError, match="n_inputs"):
        figures.draw_neuron(bad)


def test_draw_neuron_rejects_empty_activation():
    with pytest.raises(ValueError, match="activation"):
        figures.draw_neuron(3, activation="")


# ----------------------------------------------------------------------------------------------- MLP


def test_draw_mlp_notes_network():
    fig = figures.draw_mlp((5, 3, 2))
    assert isinstance(fig, Figure)
    circles = [p for p in fig.axes[0].patches if isinstance(p, Circle)]
    assert len(circles) == 10
    assert len(gids(fig, "node-input")) == 5
    assert len(gids(fig, "node-hidden")) == 3
    assert len(gids(fig, "node-output")) == 2
    assert len(gids(fig, "edge-weight")) == 5 * 3 + 3 * 2  # one edge per weight: 21
    assert gids(fig, "edge-bias") == []


def test_draw_mlp_bias_edges_make_26_parameters():
    fig = figures.draw_mlp((5, 3, 2), show_bias=True)
    assert len(gids(fig, "node-bias")) == 2
    assert len(gids(fig, "edge-weight")) + len(gids(fig, "edge-bias")) == 26


def test_draw_mlp_shapes_text():
    texts = " ".join(t.get_text() for t in figures.draw_mlp((5, 3, 2)).axes[0].texts)
    for expected in ("$(3, 5)$", "$(2, 3)$", "$(3,)$", "$(2,)$", "$(n, 5)$", "$(n, 2)$"):
        assert expected in texts
    bare = " ".join(t.get_text() for t in figures.draw_mlp((5, 3, 2), show_shapes=False).axes[0].texts)
    assert "$(3, 5)$" not in bare


def test_draw_mlp_truncates_wide_layers():
    fig = figures.draw_mlp((784, 16, 10), max_nodes=6)
    assert len(gids(fig, "node-input")) == 5  # 4 first units, a ⋮, the last unit
    assert len(gids(fig, "node-hidden")) == 5
    assert len(gids(fig, "node-output")) == 5
    assert len(gids(fig, "edge-weight")) == 5 * 5 + 5 * 5
    assert sum(t.get_text() == "⋮" for t in fig.axes[0].texts) == 3


def test_draw_mlp_titles():
    assert figures.draw_mlp((5, 3, 2)).axes[0].get_title() == "MLP 5 → 3 → 2"
    assert figures.draw_mlp((5, 3, 2), title="").axes[0].get_title() == ""


@pytest.mark.parametrize("bad", [(), [5], (5, 0, 2), (5, -3), (5, 2.5), "532", None, (5, True), tuple(range(1, 10))])
def test_draw_mlp_rejects_bad_widths(bad):
    with pytest.raises(ValueError, match="widths"):
        figures.draw_mlp(bad)


def test_draw_mlp_rejects_bad_max_nodes():
    with pytest.raises(ValueError, match="max_nodes"):
        figures.draw_mlp((5, 3, 2), max_nodes=2)


# ----------------------------------------------------------------------------------------------- linear


def test_draw_linear_cells():
    fig = figures.draw_linear(4, 5, 3, highlight=(1, 2))
    assert isinstance(fig, Figure)
    assert len(gids(fig, "cell-input")) == 4 * 5
    assert len(gids(fig, "cell-weight")) == 5 * 3
    assert len(gids(fig, "cell-bias")) == 3
    assert len(gids(fig, "cell-output")) == 4 * 3


@pytest.mark.parametrize(("kwargs", "name"), [({"n": 0}, "n"), ({"c_in": 13}, "c_in"), ({"c_out": 0}, "c_out"),
                                              ({"highlight": (4, 0)}, "highlight"), ({"highlight": (0,)}, "highlight")])
def test_draw_linear_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        figures.draw_linear(**{"n": 4, "c_in": 5, "c_out": 3, **kwargs})


# ----------------------------------------------------------------------------------------------- activations


def test_plot_activations_one_curve_each():
    names = ("step", "sigmoid", "tanh", "relu", "gelu")
    fig = figures.plot_activations(names)
    assert isinstance(fig, Figure)
    assert gids(fig, "curve-") == [f"curve-{n}" for n in names]
    assert len(fig.axes[0].get_legend().get_texts()) == len(names)


def test_plot_activations_into_given_axes():
    fig, ax = plt.subplots()
    assert figures.plot_activations(["relu"], ax=ax) is fig
    assert len(ax.get_lines()) == 1 + 2  # the curve and the two axis lines


@pytest.mark.parametrize("bad", [(), "relu", ["swish"], ["relu", "relu"]])
def test_plot_activations_rejects_bad_names(bad):
    with pytest.raises(ValueError, match="names"):
        figures.plot_activations(bad)


def test_plot_activations_rejects_bad_xlim():
    with pytest.raises(ValueError, match="xlim"):
        figures.plot_activations(xlim=(1.0, -1.0))


def test_activations_match_torch():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    z = np.linspace(-6, 6, 1201)
    t = torch.from_numpy(z)
    reference = {
        "identity": t,
        "step": torch.heaviside(t, torch.tensor(1.0, dtype=t.dtype)),
        "sigmoid": torch.sigmoid(t),
        "tanh": torch.tanh(t),
        "relu": torch.relu(t),
        "leaky_relu": f.leaky_relu(t),
        "gelu": f.gelu(t),
        "silu": f.silu(t),
    }
    assert set(reference) == set(figures.ACTIVATIONS)
    for name, expected in reference.items():
        np.testing.assert_allclose(figures.ACTIVATIONS[name](z), expected.numpy(), atol=1e-12, err_msg=name)


def test_figures_are_deterministic():
    def pixels(fig: Figure) -> bytes:
        fig.canvas.draw()
        return bytes(fig.canvas.buffer_rgba())

    assert pixels(figures.draw_mlp((5, 3, 2))) == pixels(figures.draw_mlp((5, 3, 2)))
