"""``nncost.measure`` and ``nncost.measure_batches``: statistics on a fake clock, bad input, no side effects.

No test asserts a speed: timings are measured by the notebooks and benchmark scripts, never checked here.
"""

from __future__ import annotations

import gc
import math
import statistics

import numpy as np
import pytest
import torch
from torch import nn

import nncost
from nncost.timing import BatchSweep, Timing, format_seconds, quantile


class FakeClock:
    """A clock that advances by the given durations: every timed call reads it twice (start, end)."""

    def __init__(self, durations: list[float]) -> None:
        self.durations = list(durations)
        self.now = 100.0
        self.reads = 0
        self.started = False

    def __call__(self) -> float:
        self.reads += 1
        if self.started:  # an end reading: advance by the next duration
            self.now += self.durations.pop(0) if self.durations else 0.0
        self.started = not self.started
        return self.now


class Counter:
    """A callable that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: object) -> None:
        self.calls += 1


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
@pytest.mark.parametrize("samples", [[3.0], [1.0, 2.0], [5.0, 1.0, 4.0, 2.0, 3.0], [0.1, 0.7, 0.2, 0.9, 0.4, 0.3]])
def test_quantile_equals_numpy(samples: list[float], q: float) -> None:
    assert quantile(samples, q) == pytest.approx(float(np.quantile(samples, q)), abs=1e-15)


def test_quantile_bad_input() -> None:
    with pytest.raises(ValueError, match="samples"):
        quantile([], 0.5)
    with pytest.raises(ValueError, match="q: must be between 0 and 1"):
        quantile([1.0], 1.5)


def test_statistics_on_known_samples() -> None:
    t = Timing((0.010, 0.011, 0.010, 0.030, 0.012), warmup=2, threads=1, batch_size=4, label="toy")
    assert t.repeats == 5
    assert t.median == 0.011
    assert t.mean == pytest.approx(0.0146)
    assert (t.min, t.max) == (0.010, 0.030)
    assert t.q1 == 0.010 and t.q3 == 0.012
    assert t.iqr == pytest.approx(0.002)
    assert t.std == pytest.approx(statistics.stdev(t.samples))
    assert t.items_per_second == pytest.approx(4 / 0.011)
    assert t.seconds_per_item == pytest.approx(0.011 / 4)
    text = str(t)
    assert text.startswith("toy: median 11 ms per call (IQR 10 ms–12 ms, min 10 ms, max 30 ms)")
    assert "over 5 repeats after 2 warm-up calls, 1 thread, batch 4: 364 items/s" in text
    assert nncost.timing.format_rate(31.42) == "31.4" and nncost.timing.format_rate(2.5e6) == "2.5 M"
    assert repr(t) == text


def test_timing_without_batch_size_has_no_throughput() -> None:
    t = Timing((1.0,), warmup=0, threads=2)
    assert t.items_per_second is None and t.seconds_per_item is None
    assert t.std == 0.0 and t.iqr == 0.0
    assert "2 threads" in str(t) and "items/s" not in str(t)


@pytest.mark.parametrize("samples", [(), (-1.0,), (math.nan,), (math.inf,)])
def test_timing_rejects_bad_samples(samples: tuple) -> None:
    with pytest.raises(ValueError, match="samples"):
        Timing(samples, warmup=0, threads=1)


@pytest.mark.parametrize(
    ("seconds", "text"), [(2.5, "2.5 s"), (0.0123, "12.3 ms"), (4.56e-6, "4.56 µs"), (7e-9, "7 ns")]
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


# --------------------------------------------------------------------------- measure on a fake clock


def test_measure_takes_the_clock_samples_exactly() -> None:
    durations = [0.004, 0.002, 0.003, 0.010, 0.001]
    clock = FakeClock(durations)
    fn = Counter()
    t = nncost.measure(fn, warmup=3, repeats=5, clock=clock, label="fake")
    assert t.samples == pytest.approx(tuple(durations))
    assert fn.calls == 3 + 5 and clock.reads == 2 * 5
    assert t.median == pytest.approx(0.003)
    assert (t.q1, t.q3) == (pytest.approx(0.002), pytest.approx(0.004))
    assert t.warmup == 3 and t.batch_size is None and t.label == "fake"


def test_measure_passes_seeded_inputs_and_the_batch_size() -> None:
    seen = []
    t = nncost.measure(lambda x, y: seen.append((x.clone(), y.shape)), [(4, 3), (4, 5)], warmup=0, repeats=2,
                       clock=FakeClock([0.5, 0.5]))
    assert t.batch_size == 4 and t.items_per_second == pytest.approx(8.0)
    assert torch.equal(seen[0][0], seen[1][0]) and seen[0][1] == (4, 5)
    expected = torch.randn((4, 3), generator=torch.Generator().manual_seed(0))
    assert torch.equal(seen[0][0], expected)
    t2 = nncost.measure(lambda x: None, (4, 3), repeats=1, batch_size=32, clock=FakeClock([2.0]))
    assert t2.batch_size == 32 and t2.items_per_second == pytest.approx(16.0)


def test_min_time_raises_the_repeats() -> None:
    clock = FakeClock([0.001] * 1000)
    t = nncost.measure(Counter(), warmup=0, repeats=3, min_time=0.05, clock=clock)
    assert t.repeats == 50  # 50 × 1 ms = 50 ms
    t = nncost.measure(Counter(), warmup=0, repeats=80, min_time=0.05, clock=FakeClock([0.001] * 1000))
    assert t.repeats == 80  # repeats already enough
    frozen = nncost.measure(Counter(), warmup=0, repeats=1, min_time=1.0, clock=lambda: 0.0)
    assert frozen.repeats == nncost.timing.MAX_REPEATS  # a clock that never advances cannot loop forever


def test_the_global_rng_is_not_touched() -> None:
    torch.manual_seed(123)
    state = torch.get_rng_state()
    nncost.measure(lambda x: None, (2, 2), repeats=1, clock=FakeClock([0.1]))
    assert torch.equal(state, torch.get_rng_state())


# --------------------------------------------------------------------------- modules: eval, threads, restored


class Probe(nn.Module):
    """Records the state it runs in: training flag, grad mode, inference mode, threads."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.drop = nn.Dropout(0.5)
        self.seen: list[tuple] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((self.training, self.drop.training, torch.is_grad_enabled(),
                          torch.is_inference_mode_enabled(), torch.get_num_threads(), gc.isenabled()))
        return self.drop(self.linear(x))


@pytest.mark.parametrize("fail", [False, True])
def test_module_runs_in_eval_and_inference_mode_and_everything_is_restored(fail: bool) -> None:
    model = Probe().train()
    model.linear.eval()  # a mixed state must come back exactly
    modes = [(n, m.training) for n, m in model.named_modules()]
    threads = torch.get_num_threads()
    shape = (2, 4) if fail else (2, 3)  # 4 features: the Linear(3, 2) fails
    if fail:
        with pytest.raises(ValueError, match=r"measure: model Probe failed on input \(2, 4\): RuntimeError: ") as info:
            nncost.measure(model, shape, warmup=1, repeats=2, threads=1)
        assert isinstance(info.value.__cause__, RuntimeError)
    else:
        t = nncost.measure(model, shape, warmup=1, repeats=2, threads=1)
        assert t.threads == 1 and t.batch_size == 2 and t.repeats == 2
        warm, *timed = model.seen  # the garbage collector is paused for the timed calls only
        assert warm == (False, False, False, True, 1, True)
        assert timed == [(False, False, False, True, 1, False)] * 2
    assert [(n, m.training) for n, m in model.named_modules()] == modes
    assert torch.get_num_threads() == threads
    assert gc.isenabled()
    assert torch.is_grad_enabled()


def test_threads_default_is_the_current_count() -> None:
    t = nncost.measure(Counter(), repeats=1, clock=FakeClock([0.1]))
    assert t.threads == torch.get_num_threads()


def test_callable_that_fails_names_it_and_chains() -> None:
    def broken() -> None:
        raise KeyError("no such thing")

    with pytest.raises(ValueError, match=r"model broken failed on no input \(called as model\(\)\): KeyError") as info:
        nncost.measure(broken, warmup=0, repeats=1)
    assert isinstance(info.value.__cause__, KeyError)


def test_meta_model_is_refused() -> None:
    with torch.device("meta"):
        model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="meta device"):
        nncost.measure(model, (1, 3))


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"repeats": 0}, ValueError, "repeats: must be >= 1, got 0"),
        ({"repeats": -1}, ValueError, "repeats: must be >= 1, got -1"),
        ({"repeats": 2.5}, TypeError, "repeats: must be an int"),
        ({"repeats": True}, TypeError, "repeats: must be an int"),
        ({"warmup": -1}, ValueError, "warmup: must be >= 0, got -1"),
        ({"threads": 0}, ValueError, "threads: must be >= 1, got 0"),
        ({"min_time": 0}, ValueError, "min_time: must be a finite number of seconds > 0"),
        ({"min_time": "1s"}, TypeError, "min_time"),
        ({"batch_size": 0}, ValueError, "batch_size: must be >= 1"),
        ({"dtype": "float32"}, TypeError, "dtype: must be a torch.dtype"),
        ({"clock": 3}, TypeError, "clock"),
        ({"label": 3}, TypeError, "label"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    fn = Counter()
    with pytest.raises(error, match=message):
        nncost.measure(fn, **kwargs)
    assert fn.calls == 0  # checked before anything runs


@pytest.mark.parametrize("model", [None, 3, "resnet", [1, 2]])
def test_non_callable_model(model: object) -> None:
    with pytest.raises(TypeError, match=r"model: must be a torch\.nn\.Module or a callable"):
        nncost.measure(model)


def test_bad_input_shape() -> None:
    with pytest.raises(ValueError, match=r"input_shape\[1\]: must be >= 1"):
        nncost.measure(Counter(), (1, 0))


# --------------------------------------------------------------------------- batch sweep


def test_measure_batches_on_a_fake_clock() -> None:
    # latency(b) = 2 ms + 0.5 ms × b: throughput rises while latency grows
    durations = [0.002 + 0.0005 * b for b in (1, 2, 4, 8) for _ in range(3)]
    shapes = []
    sweep = nncost.measure_batches(lambda x: shapes.append(tuple(x.shape)), (3, 8, 8), [1, 2, 4, 8], warmup=0,
                                   repeats=3, clock=FakeClock(durations), label="toy")
    assert isinstance(sweep, BatchSweep)
    assert sweep.batch_sizes == (1, 2, 4, 8)
    assert sorted(set(shapes)) == [(1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8), (8, 3, 8, 8)]
    assert sweep.latencies == pytest.approx((0.0025, 0.003, 0.004, 0.006))
    assert sweep.throughputs == pytest.approx((400.0, 2 / 0.003, 1000.0, 8 / 0.006))
    assert sweep[4].median == pytest.approx(0.004)
    text = str(sweep)
    assert text.splitlines()[0].startswith("toy: latency and throughput by batch size")
    assert text.splitlines()[4].split() == ["4", "4", "ms", "4", "ms–4", "ms", "1", "ms", "1,000"]
    assert text.splitlines()[5].split()[-1] == "1,333"
    with pytest.raises(KeyError, match="batch_size: 3 was not measured"):
        sweep[3]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (((3, 8, 8), []), ValueError, "batch_sizes: must be a non-empty list"),
        (((3, 8, 8), [1, 0]), ValueError, r"batch_sizes\[1\]: must be >= 1"),
        (("3x8x8", [1]), TypeError, "sample_shape"),
        (((3, -8), [1]), ValueError, r"sample_shape\[1\]"),
    ],
)
def test_measure_batches_bad_arguments(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nncost.measure_batches(Counter(), *args)


def test_plots_draw() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = Timing((0.01, 0.012, 0.011), warmup=1, threads=1, batch_size=1)
    fig = t.plot()
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) >= 2
    sweep = BatchSweep((1, 2), (t, Timing((0.015, 0.016), warmup=1, threads=1, batch_size=2)))
    fig2 = sweep.plot()
    assert len(fig2.axes) == 2
    plt.close("all")
