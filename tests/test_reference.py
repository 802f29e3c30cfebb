"""The loop-based reference implementations equal torch's on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncost import reference

SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_cases(draw: st.DrawFn) -> dict:
    groups = draw(st.sampled_from([1, 2, 3]))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("valid"), st.just("same")))
    if padding == "same":
        stride = (1, 1)
    size = [d * (kk - 1) + 1 + draw(st.integers(0, 4)) for kk, d in zip(k, dilation)]
    return dict(
        n=draw(st.integers(1, 2)), c_in=groups * draw(st.integers(1, 2)), c_out=groups * draw(st.integers(1, 2)),
        size=size, k=k, stride=stride, padding=padding, dilation=dilation, groups=groups,
        bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)),
    )


@SETTINGS
@given(conv_cases())
def test_conv2d_equals_torch(case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c_in"], *case["size"]))
    w = rng.standard_normal((case["c_out"], case["c_in"] // case["groups"], *case["k"]))
    b = rng.standard_normal(case["c_out"]) if case["bias"] else None
    args = (case["stride"], case["padding"], case["dilation"], case["groups"])
    ours = reference.conv2d(x, w, b, *args)
    theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b), *args)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


@SETTINGS
@given(conv_cases())
def test_conv1d_equals_torch(case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c_in"], case["size"][1]))
    w = rng.standard_normal((case["c_out"], case["c_in"] // case["groups"], case["k"][1]))
    b = rng.standard_normal(case["c_out"]) if case["bias"] else None
    padding = case["padding"] if isinstance(case["padding"], str) else case["padding"][1]
    args = (case["stride"][1], padding, case["dilation"][1], case["groups"])
    ours = reference.conv1d(x, w, b, *args)
    theirs = F.conv1d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b), *args)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


@st.composite
def pool_cases(draw: st.DrawFn) -> dict:
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return dict(
        k=k,
        stride=draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3)))),
        padding=(draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2))),
        dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        ceil_mode=draw(st.booleans()),
        count_include_pad=draw(st.booleans()),
        size=(draw(st.integers(4, 9)), draw(st.integers(4, 9))),
        seed=draw(st.integers(0, 2**16)),
    )


@SETTINGS
@given(pool_cases())
def test_max_pool2d_equals_torch(case: dict) -> None:
    x = np.random.default_rng(case["seed"]).standard_normal((2, 3, *case["size"]))
    args = (case["k"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])
    try:
        theirs = F.max_pool2d(torch.from_numpy(x), *args)
    except RuntimeError:
        with pytest.raises(ValueError):
            reference.max_pool2d(x, *args)
        return
    np.testing.assert_array_equal(reference.max_pool2d(x, *args), theirs.numpy())


@SETTINGS
@given(pool_cases())
def test_avg_pool2d_equals_torch(case: dict) -> None:
    x = np.random.default_rng(case["seed"]).standard_normal((2, 3, *case["size"]))
    args = (case["k"], case["stride"], case["padding"], case["ceil_mode"], case["count_include_pad"])
    theirs = F.avg_pool2d(torch.from_numpy(x), *args)
    np.testing.assert_allclose(reference.avg_pool2d(x, *args), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_reference_conv_refuses_mismatched_channels() -> None:
    with pytest.raises(ValueError, match="weight"):
        reference.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 3, 3, 3)))
