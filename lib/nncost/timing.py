"""``nncost.measure``: time a model (or any callable) properly, and sweep the batch size.

A single ``time.time()`` around one call says little: the first calls are slow (memory allocation, kernel
selection, caches), the operating system interrupts, other programs share the cores. So :func:`measure`

1. calls the model ``warmup`` times without timing it;
2. times ``repeats`` calls one by one (raised automatically until the samples add up to ``min_time``
   seconds, if given), with Python's garbage collector paused;
3. reports the **median** and the spread (quartiles, IQR, min, max), not the mean alone, because a few
   interrupted calls pull the mean up while the median stays put;
4. runs a ``torch.nn.Module`` in ``eval()`` mode under ``torch.inference_mode()`` (no autograd
   bookkeeping), with a fixed, reported number of threads (``torch.get_num_threads()``).

Nothing is changed for good: the thread count, every module's train/eval flag and the garbage collector are
restored afterwards, even when the model raises. The inputs are made once, before the clock starts, from a
seeded generator (the global RNG is not touched).

The result is a :class:`Timing` (samples in seconds, statistics, throughput in items per second) that prints
as one line of text and plots its samples. :func:`measure_batches` repeats the measurement over batch sizes
and returns a :class:`BatchSweep`, whose plot shows latency and throughput side by side.

The clock is injectable (``clock=``, any function returning seconds), so the statistics are tested on a fake
clock, exactly; speed itself is never asserted by the tests. Quantiles interpolate linearly between order
statistics (NumPy's default, ``statistics.quantiles(..., method="inclusive")``).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nncost.report import human

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["BatchSweep", "Timing", "format_rate", "format_seconds", "measure", "measure_batches", "quantile"]

#: The most samples ``min_time`` may raise ``repeats`` to (a guard against a clock that does not advance).
MAX_REPEATS = 100_000


# --------------------------------------------------------------------------- statistics


def quantile(samples: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0 ≤ q ≤ 1) of ``samples``, interpolating linearly between order statistics.

    Equal to ``numpy.quantile(samples, q)`` (its default, "linear"): with the samples sorted as
    ``x[0] ≤ … ≤ x[n-1]`` and ``h = (n - 1) q``, it is ``x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋])``.
    """
    if not samples:
        raise ValueError("samples: need at least one value")
    if not 0 <= q <= 1:
        raise ValueError(f"q: must be between 0 and 1, got {q!r}")
    xs = sorted(samples)
    h = (len(xs) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (h - low) * (xs[high] - xs[low])


def format_seconds(seconds: float) -> str:
    """A duration with three significant digits in s, ms, µs or ns: 0.00123 → ``1.23 ms``."""
    magnitude = abs(seconds)
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if magnitude >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _threads(count: int) -> str:
    return f"{count} thread" + ("" if count == 1 else "s")


def format_rate(per_second: float) -> str:
    """A rate (items per second) for a table: ``31.4``, ``517``, ``12,345``, then ``1.23 M`` above 10^6."""
    if per_second >= 1e6:
        return human(per_second)
    return f"{per_second:,.1f}" if per_second < 100 else f"{per_second:,.0f}"


@dataclass(frozen=True)
class Timing:
    """What :func:`measure` measured: one sample per timed call, in seconds, and its statistics.

    ``samples`` are seconds per call, in the order they were taken; ``warmup`` untimed calls came first;
    ``threads`` is ``torch.get_num_threads()`` during the measurement; ``batch_size`` is the number of
    items (images, tokens, ...) one call processes, or ``None`` when unknown (then no throughput).
    """

    samples: tuple[float, ...]
    warmup: int
    threads: int
    batch_size: int | None = None
    label: str = "model"

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError("samples: a Timing needs at least one sample")
        if any(not (s >= 0 and math.isfinite(s)) for s in self.samples):
            raise ValueError(f"samples: every sample must be a finite number of seconds >= 0, got {self.samples}")

    # ---------------------------------------------------------------- statistics
    @property
    def repeats(self) -> int:
        """The number of timed calls (``len(samples)``)."""
        return len(self.samples)

    @property
    def median(self) -> float:
        """The median time per call in seconds: the book's *latency*."""
        return statistics.median(self.samples)

    @property
    def mean(self) -> float:
        """The mean time per call in seconds (pulled up by slow outliers; prefer the median)."""
        return statistics.fmean(self.samples)

    @property
    def min(self) -> float:
        """The fastest call, in seconds (what the machine can do when nothing interferes)."""
        return min(self.samples)

    @property
    def max(self) -> float:
        """The slowest call, in seconds."""
        return max(self.samples)

    @property
    def std(self) -> float:
        """The sample standard deviation in seconds (0 for a single sample)."""
        return statistics.stdev(self.samples) if len(self.samples) > 1 else 0.0

    def quantile(self, q: float) -> float:
        """The ``q``-quantile of the samples, in seconds (see :func:`nncost.timing.quantile`)."""
        return quantile(self.samples, q)

    @property
    def q1(self) -> float:
        """The first quartile (25th percentile), in seconds."""
        return self.quantile(0.25)

    @property
    def q3(self) -> float:
        """The third quartile (75th percentile), in seconds."""
        return self.quantile(0.75)

    @property
    def iqr(self) -> float:
        """The interquartile range ``q3 − q1`` in seconds: the spread of the middle half of the samples."""
        return self.q3 - self.q1

    @property
    def items_per_second(self) -> float | None:
        """Throughput: ``batch_size / median`` (items per second), or ``None`` without a batch size."""
        if self.batch_size is None:
            return None
        return self.batch_size / self.median if self.median > 0 else math.inf

    @property
    def seconds_per_item(self) -> float | None:
        """``median / batch_size``, or ``None`` without a batch size."""
        return None if self.batch_size is None else self.median / self.batch_size

    # ---------------------------------------------------------------- rendering
    def __str__(self) -> str:
        threads = _threads(self.threads)
        text = (
            f"{self.label}: median {format_seconds(self.median)} per call "
            f"(IQR {format_seconds(self.q1)}–{format_seconds(self.q3)}, min {format_seconds(self.min)}, "
            f"max {format_seconds(self.max)}) over {self.repeats} repeats after {self.warmup} warm-up calls, "
            f"{threads}"
        )
        if self.batch_size is not None:
            text += f", batch {self.batch_size}: {format_rate(self.items_per_second)} items/s"
        return text

    def __repr__(self) -> str:
        return str(self)

    def plot(self, ax: Any = None, *, color: str | None = None) -> Figure:
        """Every sample in the order taken (ms), with the median and the quartiles as lines."""
        from nncost.figures import subplots
        from nncost.style import PALETTE

        if ax is None:
            fig, ax = subplots(figsize=(7, 3.2))
        else:
            fig = ax.figure
        ms = [s * 1e3 for s in self.samples]
        ax.plot(range(1, len(ms) + 1), ms, "o", ms=4, color=color or PALETTE["input"], alpha=0.8, label="samples")
        ax.axhline(self.median * 1e3, color=PALETTE["highlight"], lw=1.8, label="median")
        ax.axhspan(self.q1 * 1e3, self.q3 * 1e3, color=PALETTE["highlight"], alpha=0.15, lw=0, label="IQR")
        ax.set_xlabel("timed call")
        ax.set_ylabel("time per call (ms)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{self.label}: {self.repeats} calls after {self.warmup} warm-up, {_threads(self.threads)}")
        ax.legend(loc="lower right")
        return fig


@dataclass(frozen=True)
class BatchSweep:
    """:func:`measure_batches`' result: one :class:`Timing` per batch size.

    ``latencies`` are the median seconds per call (per batch); ``throughputs`` the items per second.
    """

    batch_sizes: tuple[int, ...]
    timings: tuple[Timing, ...]
    label: str = "model"

    @property
    def latencies(self) -> tuple[float, ...]:
        """Median seconds per call, one per batch size."""
        return tuple(t.median for t in self.timings)

    @property
    def throughputs(self) -> tuple[float, ...]:
        """Items per second (batch size / median latency), one per batch size."""
        return tuple(float(t.items_per_second) for t in self.timings)

    def __getitem__(self, batch_size: int) -> Timing:
        """The :class:`Timing` of one batch size."""
        for b, t in zip(self.batch_sizes, self.timings):
            if b == batch_size:
                return t
        raise KeyError(f"batch_size: {batch_size!r} was not measured; batch sizes are {self.batch_sizes}")

    def __str__(self) -> str:
        threads = self.timings[0].threads
        lines = [
            f"{self.label}: latency and throughput by batch size ({_threads(threads)}, "
            f"median of {self.timings[0].repeats}+ calls)",
            f"{'batch':>6}  {'latency':>10}  {'IQR':>21}  {'per item':>10}  {'items/s':>9}",
        ]
        for b, t in zip(self.batch_sizes, self.timings):
            iqr = f"{format_seconds(t.q1)}–{format_seconds(t.q3)}"
            lines.append(
                f"{b:>6}  {format_seconds(t.median):>10}  {iqr:>21}  {format_seconds(t.median / b):>10}  "
                f"{format_rate(t.items_per_second):>9}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def plot(self, axes: Any = None) -> Figure:
        """Two panels: latency per call (ms) and throughput (items/s) against the batch size (log 2 axis).

        Error bars span the quartiles of each measurement.
        """
        from nncost.figures import subplots
        from nncost.style import PALETTE

        if axes is None:
            fig, axes = subplots(1, 2, figsize=(10, 3.8))
        else:
            fig = axes[0].figure
        left, right = axes
        b = list(self.batch_sizes)
        med = [t.median * 1e3 for t in self.timings]
        err = [[(t.median - t.q1) * 1e3 for t in self.timings], [(t.q3 - t.median) * 1e3 for t in self.timings]]
        left.errorbar(b, med, yerr=err, marker="o", color=PALETTE["highlight"], capsize=3)
        left.set_ylabel("latency per call (ms, median)")
        left.set_title("Latency grows with the batch")
        tput = list(self.throughputs)
        # throughput's quartiles: batch / q3 .. batch / q1
        terr = [
            [tp - bs / t.q3 for tp, bs, t in zip(tput, b, self.timings)],
            [bs / t.q1 - tp if t.q1 > 0 else 0.0 for tp, bs, t in zip(tput, b, self.timings)],
        ]
        right.errorbar(b, tput, yerr=terr, marker="o", color=PALETTE["output"], capsize=3)
        right.set_ylabel("throughput (items/s)")
        right.set_title("Throughput rises, then levels off")
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.set_xticks(b, [str(x) for x in b])
            ax.minorticks_off()
            ax.set_xlabel("batch size")
            ax.set_ylim(bottom=0)
        fig.suptitle(f"{self.label}, {_threads(self.timings[0].threads)}")
        return fig


# --------------------------------------------------------------------------- arguments


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: must be an int >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return value


def _check_min_time(min_time: Any) -> float | None:
    if min_time is None:
        return None
    if isinstance(min_time, bool) or not isinstance(min_time, (int, float)):
        raise TypeError(f"min_time: must be None or a number of seconds > 0, got {type(min_time).__name__}")
    if not (min_time > 0 and math.isfinite(min_time)):
        raise ValueError(f"min_time: must be a finite number of seconds > 0, got {min_time!r}")
    return float(min_time)


def _describe(model: Any) -> str:
    name = getattr(model, "__name__", None) or type(model).__name__
    return str(name)


def _shapes_text(shapes: Sequence[Sequence[int]]) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


def _parse_shapes(input_shape: Any) -> tuple[tuple[int, ...], ...]:
    from nncost.profiler import parse_shapes

    return parse_shapes(input_shape)


def _make_inputs(shapes: tuple[tuple[int, ...], ...], model: Any, dtype: Any, seed: int) -> list[Any]:
    """Seeded normal inputs on the model's device (a generator of their own: the global RNG is untouched)."""
    import torch

    device = torch.device("cpu")
    params = getattr(model, "parameters", None)
    if callable(params):
        first = next(iter(params()), None)
        if first is not None:
            device = first.device
    if device.type == "meta":
        raise ValueError(
            f"model: {_describe(model)} is on the meta device (shapes, no values); measure needs real weights: "
            "build it without torch.device('meta')"
        )
    generator = torch.Generator(device="cpu").manual_seed(seed)
    return [torch.randn(s, generator=generator, dtype=dtype).to(device) for s in shapes]


# --------------------------------------------------------------------------- measure


def measure(
    model: Callable[..., Any],
    input_shape: Sequence[int] | Sequence[Sequence[int]] | None = None,
    *,
    warmup: int = 3,
    repeats: int = 20,
    threads: int | None = None,
    min_time: float | None = None,
    batch_size: int | None = None,
    label: str | None = None,
    dtype: Any = None,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time ``model(*inputs)``: ``warmup`` untimed calls, then ``repeats`` timed ones; a :class:`Timing`.

    ``model`` is a ``torch.nn.Module`` or any callable. With ``input_shape`` (one shape ``(n, c, h, w)``
    or a list of shapes), seeded random inputs of those shapes (``dtype``, default float32) are made once,
    before timing, on the model's device; without it, ``model()`` is called with no arguments (a closure
    that does the work, e.g. ``lambda: a @ b``).

    - ``threads``: the ``torch.set_num_threads`` to measure with (default: the current count); the count
      used is reported in the result and the previous one restored afterwards.
    - ``min_time``: seconds the timed calls must add up to at least; ``repeats`` is raised until they do
      (at most :data:`MAX_REPEATS`), for operations so fast that 20 calls would be mostly noise.
    - ``batch_size``: items per call, for the throughput (default: the first dimension of the first
      input shape, or ``None`` for a callable without ``input_shape``).
    - ``clock``: the timer (default ``time.perf_counter``), injectable for tests.

    A module runs in ``eval()`` mode (its modules' train/eval flags are restored afterwards) and every call
    runs under ``torch.inference_mode()``. Python's garbage collector is paused while timing. On a CUDA
    device (inputs on the model's device) every timed call is bracketed by ``torch.cuda.synchronize()``.

    Errors: ``TypeError`` for a non-callable model or arguments of the wrong type; ``ValueError`` naming the
    argument for ``warmup < 0``, ``repeats < 1``, ``threads < 1``, ``min_time <= 0``; a model that fails on
    the input raises ``ValueError`` naming the model, the input shape and the original error (chained).
    """
    import torch

    if not callable(model):
        raise TypeError(f"model: must be a torch.nn.Module or a callable, got {type(model).__name__} {model!r}")
    warmup = _check_count("warmup", warmup, 0)
    repeats = _check_count("repeats", repeats, 1)
    if threads is not None:
        threads = _check_count("threads", threads, 1)
    min_time = _check_min_time(min_time)
    if batch_size is not None:
        batch_size = _check_count("batch_size", batch_size, 1)
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label: must be a str or None, got {type(label).__name__}")
    if not callable(clock):
        raise TypeError(f"clock: must be a function returning seconds, got {type(clock).__name__}")
    dtype = torch.float32 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype: must be a torch.dtype such as torch.float32, got {type(dtype).__name__} {dtype!r}")

    shapes = _parse_shapes(input_shape) if input_shape is not None else ()
    if batch_size is None and shapes:
        batch_size = shapes[0][0]
    name = label if label is not None else _describe(model)
    inputs = _make_inputs(shapes, model, dtype, seed) if shapes else []

    # a GPU runs asynchronously: wait for it before reading the clock, or the time is only the launch
    synchronize = torch.cuda.synchronize if any(t.device.type == "cuda" for t in inputs) else None
    is_module = isinstance(model, torch.nn.Module)
    modes = [(m, m.training) for m in model.modules()] if is_module else []
    previous_threads = torch.get_num_threads()
    gc_was_enabled = gc.isenabled()
    samples: list[float] = []
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        used_threads = torch.get_num_threads()
        if is_module:
            model.eval()
        with torch.inference_mode():
            try:
                for _ in range(warmup):
                    model(*inputs)
                gc.disable()
                total = 0.0
                while len(samples) < repeats or (
                    min_time is not None and total < min_time and len(samples) < MAX_REPEATS
                ):
                    if synchronize is not None:
                        synchronize()
                    start = clock()
                    model(*inputs)
                    if synchronize is not None:
                        synchronize()
                    elapsed = clock() - start
                    samples.append(elapsed)
                    total += elapsed
            except Exception as error:
                where = f"input {_shapes_text(shapes)}" if shapes else "no input (called as model())"
                message = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise ValueError(
                    f"measure: model {name} failed on {where}: {type(error).__name__}: {message}"
                ) from error
    finally:
        if gc_was_enabled:
            gc.enable()
        torch.set_num_threads(previous_threads)
        for module, mode in modes:
            module.training = mode
    return Timing(tuple(samples), warmup, used_threads, batch_size, name)


def measure_batches(
    model: Callable[..., Any],
    sample_shape: Sequence[int],
    batch_sizes: Sequence[int],
    *,
    warmup: int = 2,
    repeats: int = 10,
    threads: int | None = None,
    min_time: float | None = None,
    label: str | None = None,
    dtype: Any = None,
    clock: Callable[[], float] = time.perf_counter,
) -> BatchSweep:
    """:func:`measure` at every batch size: inputs of shape ``(b, *sample_shape)`` for ``b`` in ``batch_sizes``.

    ``sample_shape`` is one item's shape without the batch dimension, e.g. ``(3, 128, 128)``. Returns a
    :class:`BatchSweep` whose ``latencies`` (median seconds per call) and ``throughputs`` (items per second)
    are what the batch trades against each other; ``.plot()`` draws both.
    """
    from nncost._checks import as_int

    if isinstance(sample_shape, (str, bytes)) or not isinstance(sample_shape, Sequence):
        raise TypeError(f"sample_shape: must be a tuple of ints such as (3, 224, 224), got {sample_shape!r}")
    sample = tuple(as_int(f"sample_shape[{i}]", d) for i, d in enumerate(sample_shape))
    if isinstance(batch_sizes, (str, bytes)) or not isinstance(batch_sizes, Sequence) or not batch_sizes:
        raise ValueError(f"batch_sizes: must be a non-empty list of ints >= 1, got {batch_sizes!r}")
    sizes = tuple(as_int(f"batch_sizes[{i}]", b) for i, b in enumerate(batch_sizes))
    name = label if label is not None else _describe(model)
    timings = tuple(
        measure(model, (b, *sample), warmup=warmup, repeats=repeats, threads=threads, min_time=min_time,
                label=f"{name}, batch {b}", dtype=dtype, clock=clock)
        for b in sizes
    )
    return BatchSweep(sizes, timings, name)
