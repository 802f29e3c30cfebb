"""``nncost.roofline``: the roofline formulas on hand values, the traffic model, measured roofs on a fake clock."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nncost
from nncost.roofline import (
    Roofline,
    RooflinePoint,
    layer_bytes,
    operational_intensity,
    peak_bandwidth,
    peak_flops,
    plot_roofline,
)


class StepClock:
    """Every timed call takes ``seconds`` on this clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.now, self.end = seconds, 0.0, False

    def __call__(self) -> float:
        if self.end:
            self.now += self.seconds
        self.end = not self.end
        return self.now


MACHINE = Roofline(peak_flops=100e9, bandwidth=10e9, label="toy")


def test_ridge_point_and_attainable() -> None:
    assert MACHINE.ridge_point == 10.0
    assert MACHINE.attainable(1.0) == 10e9  # memory roof: 1 FLOP/B × 10 GB/s
    assert MACHINE.attainable(10.0) == 100e9  # at the ridge both roofs agree
    assert MACHINE.attainable(1000.0) == 100e9  # compute roof
    np.testing.assert_allclose(MACHINE.attainable(np.array([0.5, 20.0])), [5e9, 100e9])
    with pytest.raises(ValueError, match="intensity"):
        MACHINE.attainable(-1.0)


def test_predict_seconds_is_the_max_of_the_two_times() -> None:
    # a 1024^3 matmul: 2·1024^3 FLOPs, 3 matrices of 1024^2 float32 = 12,582,912 B
    flops = nncost.linear((1024, 1024), 1024, bias=False).flops
    nbytes = 3 * 1024 * 1024 * 4
    assert flops == 2 * 1024**3
    assert MACHINE.compute_seconds(flops) == pytest.approx(flops / 100e9)
    assert MACHINE.memory_seconds(nbytes) == pytest.approx(nbytes / 10e9)
    assert MACHINE.predict_seconds(flops, nbytes) == pytest.approx(0.021474836)
    assert MACHINE.bound(flops, nbytes) == "compute"
    # a ReLU on 2^20 floats: 2^20 operations, 8 MiB moved
    assert MACHINE.predict_seconds(2**20, 8 * 2**20) == pytest.approx(8 * 2**20 / 10e9)
    assert MACHINE.bound(2**20, 8 * 2**20) == "memory"
    assert "ridge point 10 FLOPs/byte" in str(MACHINE) and "peak 100 GFLOP/s" in str(MACHINE)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"peak_flops": 0, "bandwidth": 1}, ValueError, "peak_flops: must be a finite number > 0"),
        ({"peak_flops": 1, "bandwidth": -5}, ValueError, "bandwidth"),
        ({"peak_flops": "fast", "bandwidth": 1}, TypeError, "peak_flops"),
        ({"peak_flops": 1, "bandwidth": math.inf}, ValueError, "bandwidth"),
    ],
)
def test_roofline_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Roofline(**kwargs)


def test_operational_intensity() -> None:
    assert operational_intensity(100, 50) == 2.0
    assert operational_intensity(0, 50) == 0.0
    with pytest.raises(ValueError, match="nbytes"):
        operational_intensity(100, 0)
    with pytest.raises(ValueError, match="flops"):
        operational_intensity(-1, 10)


def test_layer_bytes_of_formulas_and_profile_rows() -> None:
    conv = nncost.conv2d((1, 32, 56, 56), 64, 3, padding=1, bias=False)
    elements = 32 * 56 * 56 + 64 * 32 * 9 + 64 * 56 * 56
    assert layer_bytes(conv) == 4 * elements
    assert layer_bytes(conv, bytes_per_element=2) == 2 * elements
    # depthwise 3×3 on c×h×w: I ≈ 2·9chw / (4·2chw) = 2.25 FLOPs/B for a large map
    dw = nncost.conv2d((1, 128, 64, 64), 128, 3, padding=1, groups=128, bias=False)
    assert operational_intensity(dw.flops, layer_bytes(dw)) == pytest.approx(2.25, rel=2e-3)
    from torch import nn

    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    report = nncost.profile(model, (2, 3, 8, 8))
    assert layer_bytes(report["0"]) == 4 * (2 * 3 * 8 * 8 + (8 * 3 * 9 + 8) + 2 * 8 * 6 * 6)
    assert layer_bytes(report["2"]) == 4 * (2 * 288 + 288 * 10 + 10 + 2 * 10)
    with pytest.raises(TypeError, match="layer"):
        layer_bytes(42)
    with pytest.raises(ValueError, match="bytes_per_element"):
        layer_bytes(conv, bytes_per_element=0)


def test_points() -> None:
    p = RooflinePoint("matmul", flops=2e9, nbytes=1e7, seconds=0.04)
    assert p.intensity == 200.0 and p.achieved == 5e10
    assert p.predicted(MACHINE) == pytest.approx(0.02)
    assert p.ratio(MACHINE) == pytest.approx(2.0)
    assert "intensity 200 FLOPs/B" in str(p)
    with pytest.raises(ValueError, match="seconds"):
        RooflinePoint("x", 1, 1, 0)


def test_measured_roofs_on_a_fake_clock() -> None:
    flops_per_s, timing = peak_flops(64, warmup=0, repeats=3, threads=1, clock=StepClock(0.001))
    assert flops_per_s == pytest.approx(2 * 64**3 / 0.001)
    assert timing.repeats == 3 and timing.threads == 1 and "matmul 64×64" in timing.label
    bandwidth, timing = peak_bandwidth(1, warmup=0, repeats=2, clock=StepClock(0.002))
    assert bandwidth == pytest.approx(2 * 250_000 * 4 / 0.002)  # 1 MB buffer: read once, written once
    assert timing.repeats == 2
    with pytest.raises(ValueError, match="megabytes"):
        peak_bandwidth(0)
    with pytest.raises(ValueError, match="n: must be >= 1"):
        peak_flops(0)


def test_plot_roofline() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [RooflinePoint("a", 1e6, 8e6, 1e-3, "elementwise"), RooflinePoint("b", 2e9, 1e7, 0.03, "matmul"),
              RooflinePoint("c", 2e9, 1e7, 0.04, "matmul")]
    fig = plot_roofline(MACHINE, points, label_offsets={"a": (0, 10)})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.texts][-3:] == ["a", "b", "c"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-2:] == ["elementwise", "matmul"] and legend[0].startswith("memory roof: 10 GB/s")
    fig2 = plot_roofline(MACHINE, [RooflinePoint("x", 1, 1, 1)], points_label="predicted")
    assert [t.get_text() for t in fig2.axes[0].get_legend().get_texts()][-1] == "predicted"
    plt.close("all")
