"""Property tests: nncost against real torch modules, on thousands of random configurations.

For each drawn configuration the module is built and run on a small CPU tensor. Where both torch and
nncost accept it, the output shape, the parameter count (``sum(p.numel())``) and the MACs
(``FlopCounterMode`` total / 2) must agree; nncost must refuse a configuration (``ValueError`` or
``TypeError``) exactly when torch does (an exception from the constructor or the forward pass).

The ``valid_*`` strategies build configurations torch accepts, so nearly every example is compared;
the ``any_*`` strategies draw from wide ranges (zero strides, kernels larger than the input, groups
that do not divide the channels, 'same' with a stride, bad ranks, ...) to compare acceptance.
Every compared configuration is counted in ``conftest.LOG`` (see ``conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import prod
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import nncost  # noqa: E402

# expected torch notes: 'same' padding with an even kernel may copy the input; a zero kernel has no weights
pytestmark = [
    pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning"),
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning"),
]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread here: on tensors this small its thread pool only adds overhead
    (on 2 busy cores this file took 2-4x longer with the default thread count)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def examples(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


@dataclass(frozen=True)
class Config:
    """One drawn layer: what both sides are called with."""

    layer: str  # conv1d, conv2d, maxpool2d, avgpool2d, linear, batchnorm2d
    in_shape: tuple[int, ...]
    args: dict[str, Any]  # keyword arguments understood by both torch's module and nncost (see build)


def build(cfg: Config) -> tuple[Callable[[], nn.Module], Callable[[], nncost.LayerCost]]:
    """The torch module's constructor and the nncost call for ``cfg``, both not yet called."""
    a = dict(cfg.args)
    if cfg.layer in ("conv1d", "conv2d"):
        dims = 1 if cfg.layer == "conv1d" else 2
        channels = cfg.in_shape[-dims - 1] if len(cfg.in_shape) > dims else 1
        module_type = nn.Conv1d if dims == 1 else nn.Conv2d
        nn_fn = nncost.conv1d if dims == 1 else nncost.conv2d
        return (lambda: module_type(channels, **a)), (lambda: nn_fn(cfg.in_shape, **a))
    if cfg.layer in ("maxpool2d", "avgpool2d"):
        module_type = nn.MaxPool2d if cfg.layer == "maxpool2d" else nn.AvgPool2d
        kind = cfg.layer[:3]
        return (lambda: module_type(**a)), (lambda: nncost.pool2d(cfg.in_shape, **a, kind=kind))
    if cfg.layer == "linear":
        out_features, bias = a["out_features"], a.get("bias", True)
        return (
            lambda: nn.Linear(cfg.in_shape[-1], out_features, bias=bias),
            lambda: nncost.linear(cfg.in_shape, **a),
        )
    if cfg.layer == "batchnorm2d":
        channels = cfg.in_shape[1] if len(cfg.in_shape) > 1 else 1
        return (lambda: nn.BatchNorm2d(channels, **a).eval()), (lambda: nncost.batchnorm2d(cfg.in_shape, **a))
    raise AssertionError(cfg.layer)


def check(cfg: Config, log: Any, test: str) -> bool:
    """Compare nncost with torch on ``cfg``; return whether counts were compared (both accepted)."""
    make_module, make_cost = build(cfg)
    try:
        module = make_module()
        x = torch.rand(cfg.in_shape)
        with torch.no_grad():
            y = module(x)
    except Exception as error:  # torch refuses: in the constructor or in the forward pass
        torch_error: Exception | None = error
    else:
        torch_error = None
    try:
        cost = make_cost()
    except (ValueError, TypeError) as error:
        nncost_error: Exception | None = error
    else:
        nncost_error = None

    if nncost_error is not None and not re.match(r"^[a-z_]+(\[\d+\])?: ", str(nncost_error)):
        # not one of nncost's argument checks (they name the argument): a bug, or a call this file got wrong
        raise AssertionError(f"nncost raised an unexpected error on {cfg}: {nncost_error!r}")
    if (torch_error is None) != (nncost_error is None):
        log.record_mismatch(test)
        raise AssertionError(f"acceptance differs on {cfg}:\n  torch:  {torch_error!r}\n  nncost: {nncost_error!r}")
    if torch_error is not None:
        log.record_refusal(test)  # both refuse: nothing to compare
        return False

    expected = {
        "out_shape": tuple(y.shape),
        "params": nncost.torch_params(module),
        "macs": nncost.torch_macs(module, x),
        "activations": y.numel(),
        "buffers": sum(b.numel() for b in module.buffers()),
    }
    got = {
        "out_shape": cost.out_shape,
        "params": cost.params,
        "macs": cost.macs,
        "activations": cost.activations,
        "buffers": cost.buffers,
    }
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
        expected["weight_shape"] = tuple(module.weight.shape)
        expected["bias_shape"] = None if module.bias is None else tuple(module.bias.shape)
        got["weight_shape"], got["bias_shape"] = cost.weight_shape, cost.bias_shape
    mismatch = expected != got
    log.record(test)
    if mismatch:
        log.record_mismatch(test)
    assert not mismatch, f"counts differ on {cfg}:\n  torch:  {expected}\n  nncost: {got}"
    return True


# --- how a value is passed: an int, a tuple, or (for a default) not at all -------------------------


def int_or_tuple(draw: st.DrawFn, values: list[int], default: int | None = None) -> Any:
    """``values`` (one per spatial dimension) as torch would take them: a tuple, or one int when all
    are equal; ``...`` (leave the argument out) when all equal ``default``."""
    forms = ["tuple"]
    if len(set(values)) == 1:
        forms.append("int")
        if values[0] == default:
            forms.append("omit")
    form = draw(st.sampled_from(forms))
    if form == "omit":
        return ...
    return values[0] if form == "int" else tuple(values)


def put(args: dict[str, Any], name: str, value: Any) -> None:
    if value is not ...:
        args[name] = value


def batch_dims(draw: st.DrawFn, batched: bool | None = None) -> tuple[int, ...]:
    if batched is None:
        batched = draw(st.booleans())
    return (draw(st.integers(1, 3)),) if batched else ()


# --- convolutions ---------------------------------------------------------------------------------


@st.composite
def valid_conv(draw: st.DrawFn, dims: int) -> Config:
    """A convolution torch accepts: groups dividing both channel counts, a kernel that fits."""
    groups = draw(st.sampled_from([1, 1, 1, 2, 3, 4]))
    c_in = groups * draw(st.integers(1, 8 // groups))
    c_out = groups * draw(st.integers(1, 8 // groups))
    kernel = [draw(st.integers(1, 5)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 3)) for _ in range(dims)]
    mode = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    stride = [1] * dims if mode == "same" else [draw(st.integers(1, 3)) for _ in range(dims)]
    if mode == "int":
        pads = [draw(st.integers(0, 3))] * dims
    elif mode == "tuple":
        pads = [draw(st.integers(0, 3)) for _ in range(dims)]
    else:
        pads = [0] * dims
    spatial = []
    for k, d, p in zip(kernel, dilation, pads):
        span = d * (k - 1) + 1
        extra = d * (k - 1) if mode == "same" else 2 * p
        low = max(1, span - extra)
        spatial.append(draw(st.integers(low, low + 8)))
    args: dict[str, Any] = {"out_channels": c_out, "kernel_size": int_or_tuple(draw, kernel)}
    put(args, "stride", int_or_tuple(draw, stride, default=1))
    if mode in ("same", "valid"):
        args["padding"] = mode
    else:
        put(args, "padding", pads[0] if mode == "int" else tuple(pads))
    put(args, "dilation", int_or_tuple(draw, dilation, default=1))
    if groups > 1 or draw(st.booleans()):
        args["groups"] = groups
    put(args, "bias", draw(st.sampled_from([True, False, ...])))
    shape = (*batch_dims(draw), c_in, *spatial)
    return Config(f"conv{dims}d", shape, args)


def fault(draw: st.DrawFn) -> bool:
    """Whether to make one argument invalid: about one time in twelve for each argument."""
    return draw(st.integers(0, 11)) == 0


def near_fit(draw: st.DrawFn, span: int, extra: int) -> int:
    """A size at or around the smallest that fits a window of ``span`` with ``extra`` padding."""
    low = span - extra
    return max(1, draw(st.integers(low - 2, low + 4)))


@st.composite
def any_conv(draw: st.DrawFn, dims: int) -> Config:
    """A convolution at the edge of validity: each argument is sometimes invalid, and the input size
    is drawn around the smallest that fits the kernel, so torch refuses about half of them."""
    groups = draw(st.sampled_from([0, 5])) if fault(draw) else draw(st.sampled_from([1, 1, 2, 3, 4]))
    c_in = draw(st.integers(1, 8)) if fault(draw) or groups == 0 else groups * draw(st.integers(1, 8 // groups))
    c_out = draw(st.integers(1, 8)) if fault(draw) or groups == 0 else groups * draw(st.integers(1, 8 // groups))
    kernel = [0 if fault(draw) else draw(st.integers(1, 5)) for _ in range(dims)]
    dilation = [0 if fault(draw) else draw(st.integers(1, 3)) for _ in range(dims)]
    stride = [0 if fault(draw) else draw(st.integers(1, 3)) for _ in range(dims)]
    mode = "full" if fault(draw) else draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    if mode == "same" and not fault(draw):
        stride = [1] * dims
    pads = [-1 if fault(draw) else draw(st.integers(0, 3)) for _ in range(dims)]
    if mode == "int":
        pads = pads[:1] * dims
    spatial = []
    for k, d, p in zip(kernel, dilation, pads):
        extra = d * (k - 1) if mode == "same" else 2 * p if mode in ("int", "tuple") else 0
        spatial.append(near_fit(draw, d * (k - 1) + 1, extra))
    args: dict[str, Any] = {"out_channels": c_out, "kernel_size": int_or_tuple(draw, kernel)}
    put(args, "stride", int_or_tuple(draw, stride, default=1))
    args["padding"] = mode if mode in ("same", "valid", "full") else pads[0] if mode == "int" else tuple(pads)
    put(args, "dilation", int_or_tuple(draw, dilation, default=1))
    if groups != 1 or draw(st.booleans()):
        args["groups"] = groups
    put(args, "bias", draw(st.sampled_from([True, False, ...])))
    shape = (*batch_dims(draw), c_in, *spatial)
    if fault(draw):  # a wrong rank: drop the channels or add a dimension in front
        shape = shape[1:] if len(shape) == dims + 1 else (draw(st.integers(1, 2)), *shape)
    return Config(f"conv{dims}d", shape, args)


@pytest.mark.torch_property
@examples(2000)
@given(cfg=valid_conv(2))
def test_conv2d_matches_torch(cfg: Config, torch_log: Any) -> None:
    assert check(cfg, torch_log, "conv2d"), f"torch refused a configuration drawn as valid: {cfg}"


@pytest.mark.torch_property
@examples(1200)
@given(cfg=valid_conv(1))
def test_conv1d_matches_torch(cfg: Config, torch_log: Any) -> None:
    assert check(cfg, torch_log, "conv1d"), f"torch refused a configuration drawn as valid: {cfg}"


@pytest.mark.torch_property
@examples(600)
@given(cfg=any_conv(2))
def test_conv2d_accepts_what_torch_accepts(cfg: Config, torch_log: Any) -> None:
    check(cfg, torch_log, "conv2d (wide)")


@pytest.mark.torch_property
@examples(400)
@given(cfg=any_conv(1))
def test_conv1d_accepts_what_torch_accepts(cfg: Config, torch_log: Any) -> None:
    check(cfg, torch_log, "conv1d (wide)")


# --- pooling --------------------------------------------------------------------------------------


@st.composite
def valid_pool(draw: st.DrawFn) -> Config:
    """A max or average pooling torch accepts: padding at most half the kernel, a window that fits."""
    kind = draw(st.sampled_from(["max", "avg"]))
    kernel = [draw(st.integers(1, 5)) for _ in range(2)]
    dilation = [draw(st.integers(1, 3)) for _ in range(2)] if kind == "max" else [1, 1]
    pads = [draw(st.integers(0, k // 2)) for k in kernel]
    args: dict[str, Any] = {"kernel_size": int_or_tuple(draw, kernel)}
    if draw(st.booleans()):
        args["stride"] = int_or_tuple(draw, [draw(st.integers(1, 4)) for _ in range(2)])
    elif draw(st.booleans()):
        args["stride"] = None
    put(args, "padding", int_or_tuple(draw, pads, default=0))
    if kind == "max":
        put(args, "dilation", int_or_tuple(draw, dilation, default=1))
    put(args, "ceil_mode", draw(st.sampled_from([True, False, ...])))
    spatial = []
    for k, d, p in zip(kernel, dilation, pads):
        low = max(1, d * (k - 1) + 1 - 2 * p)
        spatial.append(draw(st.integers(low, low + 10)))
    shape = (*batch_dims(draw), draw(st.integers(1, 4)), *spatial)
    return Config(f"{kind}pool2d", shape, args)


@st.composite
def any_pool(draw: st.DrawFn) -> Config:
    """A pooling at the edge of validity: zero kernels or strides, padding over half the kernel,
    sizes around the smallest that fits, wrong ranks."""
    kind = draw(st.sampled_from(["max", "avg"]))
    kernel = [0 if fault(draw) else draw(st.integers(1, 5)) for _ in range(2)]
    dilation = [0 if fault(draw) else draw(st.integers(1, 3)) for _ in range(2)] if kind == "max" else [1, 1]
    pads = [draw(st.sampled_from([-1, k // 2 + 1])) if fault(draw) else draw(st.integers(0, max(0, k // 2)))
            for k in kernel]
    args: dict[str, Any] = {"kernel_size": int_or_tuple(draw, kernel)}
    if draw(st.booleans()):
        args["stride"] = int_or_tuple(draw, [0 if fault(draw) else draw(st.integers(1, 4)) for _ in range(2)])
    put(args, "padding", int_or_tuple(draw, pads, default=0))
    if kind == "max":
        put(args, "dilation", int_or_tuple(draw, dilation, default=1))
    put(args, "ceil_mode", draw(st.sampled_from([True, False, ...])))
    spatial = [near_fit(draw, d * (k - 1) + 1, 2 * p) for k, d, p in zip(kernel, dilation, pads)]
    shape = (*batch_dims(draw), draw(st.integers(1, 4)), *spatial)
    if fault(draw):  # a wrong rank
        shape = shape[1:] if len(shape) == 3 else (1, *shape)
    return Config(f"{kind}pool2d", shape, args)


@pytest.mark.torch_property
@examples(1200)
@given(cfg=valid_pool())
def test_pool2d_matches_torch(cfg: Config, torch_log: Any) -> None:
    assert check(cfg, torch_log, "pool2d"), f"torch refused a configuration drawn as valid: {cfg}"


@pytest.mark.torch_property
@examples(600)
@given(cfg=any_pool())
def test_pool2d_accepts_what_torch_accepts(cfg: Config, torch_log: Any) -> None:
    check(cfg, torch_log, "pool2d (wide)")


# --- linear and batch norm ------------------------------------------------------------------------


@st.composite
def valid_linear(draw: st.DrawFn) -> Config:
    """``nn.Linear`` on an input with 0 to 4 leading dimensions (0: a 1-D input)."""
    leading = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(0, 4))))
    args: dict[str, Any] = {"out_features": draw(st.integers(1, 8))}
    put(args, "bias", draw(st.sampled_from([True, False, ...])))
    return Config("linear", (*leading, draw(st.integers(1, 8))), args)


@pytest.mark.torch_property
@examples(600)
@given(cfg=valid_linear())
def test_linear_matches_torch(cfg: Config, torch_log: Any) -> None:
    assert check(cfg, torch_log, "linear"), f"torch refused a configuration drawn as valid: {cfg}"


@st.composite
def batchnorm(draw: st.DrawFn, ranks: list[int]) -> Config:
    shape = tuple(draw(st.integers(1, 8 if i < 2 else 10)) for i in range(draw(st.sampled_from(ranks))))
    args: dict[str, Any] = {}
    put(args, "affine", draw(st.sampled_from([True, False, ...])))
    put(args, "track_running_stats", draw(st.sampled_from([True, False, ...])))
    return Config("batchnorm2d", shape, args)


@pytest.mark.torch_property
@examples(200)
@given(cfg=batchnorm([4]))
def test_batchnorm2d_matches_torch(cfg: Config, torch_log: Any) -> None:
    # Without running statistics, torch refuses a batch with one value per channel; nncost must too.
    refused = cfg.args.get("track_running_stats") is False and prod(cfg.in_shape) == cfg.in_shape[1]
    assert check(cfg, torch_log, "batchnorm2d") != refused, cfg


@pytest.mark.torch_property
@examples(100)
@given(cfg=batchnorm([2, 3, 4, 4, 4, 5]))
def test_batchnorm2d_accepts_what_torch_accepts(cfg: Config, torch_log: Any) -> None:
    check(cfg, torch_log, "batchnorm2d (wide)")
