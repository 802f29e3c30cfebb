"""``nncost.memory``: model size from parameters and bit width, and byte units spelled out."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import nncost
from nncost.memory import UNITS, format_bytes


@pytest.mark.parametrize(("bits", "expected"), [(32, 4_000), (16, 2_000), ("fp16", 2_000), ("int8", 1_000),
                                                ("int4", 500), (3, 375)])
def test_model_size(bits: int | str, expected: int) -> None:
    assert nncost.model_size_bytes(1_000, bits) == expected


def test_odd_bit_counts_give_fractions() -> None:
    assert nncost.model_size_bytes(3, 4) == 1.5


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_equals_what_torch_stores(dtype: torch.dtype) -> None:
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Linear(16, 10)).to(dtype)
    stored = sum(p.numel() * p.element_size() for p in model.parameters())
    params = sum(p.numel() for p in model.parameters())
    assert nncost.model_size_bytes(params, dtype.itemsize * 8) == stored


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [((-1, 32), ValueError, "params: must be >= 0"), ((1.5, 32), TypeError, "params"), ((10, 0), ValueError, "bits"),
     ((10, "fp8"), ValueError, "bits: unknown format"), ((10, 2.0), TypeError, "bits")],
)
def test_bad_arguments(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nncost.model_size_bytes(*args)


def test_units() -> None:
    assert UNITS["MB"] == 10**6 and UNITS["MiB"] == 2**20 and UNITS["KiB"] == 1024 and UNITS["kB"] == 1000
    assert format_bytes(46_758_048, "MiB") == "44.59 MiB"
    assert format_bytes(46_758_048, "MB") == "46.76 MB"
    assert format_bytes(1536, "KiB", 1) == "1.5 KiB"
    assert format_bytes(1234567, "B") == "1,234,567 B"
    with pytest.raises(ValueError, match="unit"):
        format_bytes(1, "mb")


def test_layer_activations_add_up_and_run_in_order() -> None:
    from nncost.memory import layer_activations

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.relu = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.relu(self.conv(x)) + x  # the add belongs to the block's own code

    model = nn.Sequential(nn.Conv2d(3, 4, 1), Residual(), nn.Flatten())
    report = nncost.profile(model, (2, 3, 5, 5))
    rows = layer_activations(report)
    assert [name for name, _ in rows] == ["model.0", "model.1.conv", "model.1.relu", "model.1", "model.2"]
    assert sum(b for _, b in rows) == report.total_activation_bytes == 5 * 2 * 4 * 25 * 4


def test_plot_activation_memory() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nncost.memory import plot_activation_memory

    reports = {"a": nncost.profile(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), (1, 3, 16, 16))}
    fig = plot_activation_memory(reports, unit="KiB")
    left, right = fig.axes
    assert "Σ = " in left.get_legend().get_texts()[0].get_text()
    peak = reports["a"].peak_activation_bytes / 1024
    assert right.get_legend().get_texts()[0].get_text() == f"a: peak {peak:,.1f} KiB"
    with pytest.raises(ValueError, match="unit"):
        plot_activation_memory(reports, unit="kb")
    with pytest.raises(ValueError, match="reports"):
        plot_activation_memory({})
    plt.close("all")
