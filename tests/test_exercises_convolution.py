"""The checkers of exercise set 2 (Part II, Convolution): each accepts the right answer, derived here
independently (with torch where possible, else by hand with the arithmetic in a comment), rejects a wrong one
with "expected ..., got ..." and a hint naming the chapter, and reports a blank as "not answered yet"."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nncost.exercises import convolution as ex

ROOT = Path(__file__).resolve().parent.parent


def flop_macs(module: nn.Module, x: torch.Tensor) -> int:
    """MACs of one forward pass as torch's FlopCounterMode counts them (FLOPs / 2)."""
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def assert_wrong(verdict: ex.Verdict, expected: str, got: str, chapter: int) -> None:
    assert verdict.status == "wrong", verdict.message
    shown = re.sub(r" \(within [\d.]+%\)", "", verdict.message)  # estimates state their tolerance
    assert f"expected {expected}, got {got}" in shown, verdict.message
    assert f"chapter {chapter} (" in verdict.message, verdict.message


def assert_blank(verdict: ex.Verdict) -> None:
    assert verdict.status == "blank" and "not answered yet" in verdict.message, verdict.message
    assert "Hint" not in verdict.message


def not_written(*args: object, **kwargs: object) -> None:
    raise NotImplementedError("write your code here")


# --- The hints name sections that exist ------------------------------------------------------------------------
def headings(chapter: int) -> set[str]:
    notebook = json.loads((ROOT / "book" / ex.CHAPTERS[chapter][1]).read_text())
    found = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    found.add(line.lstrip("#").strip())
    return found


@pytest.mark.parametrize("exercise", sorted(ex.SECTIONS, key=lambda e: int(e.split(".")[1])))
def test_every_hint_names_an_existing_section(exercise: str) -> None:
    for chapter, section in [ex.SECTIONS[exercise], *([ex.ALSO[exercise]] if exercise in ex.ALSO else [])]:
        assert section in headings(chapter), f"{exercise}: no section {section!r} in chapter {chapter}"
        title = next(h for h in headings(chapter) if h.startswith(ex.CHAPTERS[chapter][0]))
        assert title, f"chapter {chapter}'s title does not start with {ex.CHAPTERS[chapter][0]!r}"
        assert f"chapter {chapter} ({ex.CHAPTERS[chapter][0]}), section '{section}'" in ex.hint(exercise)


def test_fourteen_exercises_numbered_in_order() -> None:
    assert list(ex.SECTIONS) == [f"2.{i}" for i in range(1, 15)]


# --- 2.1 ------------------------------------------------------------------------------------------------------
def test_2_1_conv1d_by_hand() -> None:
    x = torch.tensor(ex.BY_HAND_INPUT, dtype=torch.float64).reshape(1, 1, -1)
    w = torch.tensor(ex.BY_HAND_KERNEL, dtype=torch.float64).reshape(1, 1, -1)
    y = F.conv1d(x, w).flatten().tolist()  # torch: 5, -6, 7, 0, -11
    assert ex.check_conv1d_by_hand(y)
    assert ex.check_conv1d_by_hand([int(v) for v in y])
    assert ex.check_conv1d_by_hand(np.array(y)), "a NumPy array is a list of numbers"
    flipped = F.conv1d(x, w.flip(-1)).flatten().tolist()  # the kernel is symmetric: flipping changes nothing
    assert ex.check_conv1d_by_hand(flipped)
    assert_wrong(ex.check_conv1d_by_hand([5, -6, 7, 0]), "[5, -6, 7, 0, -11]", "[5, -6, 7, 0]", 4)
    assert_blank(ex.check_conv1d_by_hand(...))


# --- 2.2 ------------------------------------------------------------------------------------------------------
def test_2_2_conv1d_costs() -> None:
    conv = nn.Conv1d(12, 24, kernel_size=9)
    x = torch.randn(ex.CONV1D_INPUT)
    shape, params, macs = tuple(conv(x).shape), numel(conv), flop_macs(conv, x)
    assert ex.check_conv1d_costs(out_shape=shape, params=params, macs=macs)
    wrong = ex.check_conv1d_costs(out_shape=shape, params=24 * 12 * 9, macs=macs)  # the biases forgotten
    assert_wrong(wrong, "2,616", "2,592", 4)
    assert "✓ macs" in wrong.message
    assert_blank(ex.check_conv1d_costs(out_shape=..., params=..., macs=...))
    partly = ex.check_conv1d_costs(out_shape=shape, params=..., macs=...)
    assert partly.status == "wrong" and "params: not answered yet" in partly.message


# --- 2.3 ------------------------------------------------------------------------------------------------------
def conv_output_size(h: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


def test_2_3_cases_agree_with_torch() -> None:
    for h, k, p, s, d in ex.OUTPUT_SIZE_CASES:
        y = F.conv1d(torch.zeros(1, 1, h), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
        assert conv_output_size(h, k, p, s, d) == y.shape[-1], (h, k, p, s, d)


def test_2_3_conv_output_size() -> None:
    assert ex.check_conv_output_size(conv_output_size)

    def ceil_size(h: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
        return math.ceil((h + 2 * p - d * (k - 1) - 1) / s) + 1

    def no_dilation(h: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
        return (h + 2 * p - k) // s + 1

    def true_division(h: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> float:
        return (h + 2 * p - d * (k - 1) - 1) / s + 1

    wrong = ex.check_conv_output_size(ceil_size)
    assert_wrong(wrong, "4", "5", 7)  # h = 10, k = 3, s = 2: floor(7/2) + 1 = 4, the ceiling gives 5
    assert "ceil_size(10, 3, p=0, s=2, d=1)" in wrong.message
    assert not ex.check_conv_output_size(no_dilation)
    assert_wrong(ex.check_conv_output_size(true_division), "4", "4.5", 7)  # h = 10, k = 3, s = 2: 7/2 + 1
    assert_blank(ex.check_conv_output_size(not_written))
    assert_blank(ex.check_conv_output_size(...))


# --- 2.4 ------------------------------------------------------------------------------------------------------
def test_2_4_conv2d_costs() -> None:
    conv = nn.Conv2d(3, 16, kernel_size=5, device="meta")
    x = torch.empty(ex.CONV2D_INPUT, device="meta")
    shape, params, macs = tuple(conv(x).shape), numel(conv), flop_macs(conv, x)
    assert ex.check_conv2d_costs(out_shape=list(shape), params=params, macs=macs)
    per_image = macs // 2
    assert_wrong(ex.check_conv2d_costs(out_shape=shape, params=params, macs=per_image), "6,336,000", "3,168,000", 5)
    assert_wrong(ex.check_conv2d_costs(out_shape=(2, 16, 60, 60), params=params, macs=macs),
                 "(2, 16, 60, 44)", "(2, 16, 60, 60)", 5)
    assert_blank(ex.check_conv2d_costs(out_shape=..., params=..., macs=...))


# --- 2.5 ------------------------------------------------------------------------------------------------------
def test_2_5_pool_costs() -> None:
    pool = nn.AvgPool2d(3, stride=2)
    x = torch.randn(ex.POOL_INPUT)
    out = pool(x)
    h_o = out.shape[-1]
    # Per output: 3·3 − 1 = 8 additions and one division; outputs = 32·8·8 = 2,048.
    elementwise = out.numel() * (3 * 3 - 1 + 1)
    assert ex.check_pool_costs(h_o=h_o, params=numel(pool), macs=flop_macs(pool, x), elementwise=elementwise)
    assert_wrong(ex.check_pool_costs(h_o=h_o, params=0, macs=0, elementwise=out.numel() * 9 - out.numel()),
                 "18,432", "16,384", 8)
    assert_wrong(ex.check_pool_costs(h_o=9, params=0, macs=0, elementwise=elementwise), "8", "9", 8)
    assert_blank(ex.check_pool_costs(h_o=..., params=..., macs=..., elementwise=...))


# --- 2.6 ------------------------------------------------------------------------------------------------------
def test_2_6_weight_sharing() -> None:
    x = torch.empty(1, 12, 200, device="meta")
    conv = nn.Conv1d(12, 24, kernel_size=9, device="meta")
    y = conv(x)
    dense = nn.Linear(x[0].numel(), y[0].numel(), device="meta")
    flat = torch.empty(1, x[0].numel(), device="meta")
    params_ratio = numel(dense) / numel(conv)
    macs_ratio = flop_macs(dense, flat) / flop_macs(conv, x)
    assert ex.check_weight_sharing(params_ratio=params_ratio, macs_ratio=macs_ratio)
    assert ex.check_weight_sharing(params_ratio=4229, macs_ratio=22), "within 1 %"
    wrong = ex.check_weight_sharing(params_ratio=params_ratio, macs_ratio=200 / 3)  # k_w mistaken for 3
    assert_wrong(wrong, "22.2222", "66.6667", 4)
    assert_blank(ex.check_weight_sharing(params_ratio=..., macs_ratio=...))


# --- 2.7 ------------------------------------------------------------------------------------------------------
def conv2d_macs(in_shape: tuple[int, int, int, int], out_channels: int, kernel_size: int,
                stride: int = 1, padding: int = 0) -> int:
    n, c_i, h, w = in_shape
    h_o, w_o = (conv_output_size(size, kernel_size, padding, stride) for size in (h, w))
    return n * out_channels * h_o * w_o * c_i * kernel_size**2


def test_2_7_cases_agree_with_torch() -> None:
    for shape, c_o, k, s, p in ex.CONV2D_MACS_CASES:
        conv = nn.Conv2d(shape[1], c_o, k, stride=s, padding=p, device="meta")
        assert conv2d_macs(shape, c_o, k, s, p) == flop_macs(conv, torch.empty(shape, device="meta"))


def test_2_7_conv2d_macs() -> None:
    assert ex.check_conv2d_macs(conv2d_macs)

    def per_image(in_shape: tuple[int, int, int, int], out_channels: int, kernel_size: int,
                  stride: int = 1, padding: int = 0) -> int:
        return conv2d_macs((1, *in_shape[1:]), out_channels, kernel_size, stride, padding)

    def input_size(in_shape: tuple[int, int, int, int], out_channels: int, kernel_size: int,
                   stride: int = 1, padding: int = 0) -> int:
        n, c_i, h, w = in_shape
        return n * out_channels * h * w * c_i * kernel_size**2

    wrong = ex.check_conv2d_macs(per_image)
    # (8, 64, 56, 56), 64 out, 3×3, p = 1: 8·64·56·56·64·9 = 924,844,032; one image is an eighth.
    assert_wrong(wrong, "924,844,032", "115,605,504", 5)
    assert not ex.check_conv2d_macs(input_size)
    assert_blank(ex.check_conv2d_macs(not_written))


# --- 2.8 ------------------------------------------------------------------------------------------------------
def receptive_field(layers: list[tuple[int, int, int]]) -> int:
    r, j = 1, 1
    for k, s, d in layers:
        r += d * (k - 1) * j
        j *= s
    return r


def measured_field(stack: tuple[tuple[int, int, int], ...]) -> int:
    """Rows of the input that the centre output of a stack of single-channel convolutions depends on."""
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in stack])
    for conv in net:
        nn.init.uniform_(conv.weight, 0.5, 1.5)  # positive: no cancellation
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    rows = (x.grad[0, 0] != 0).any(dim=1).nonzero()
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("stack", ex.RECEPTIVE_FIELD_CASES, ids=str)
def test_2_8_cases_agree_with_autograd(stack: tuple[tuple[int, int, int], ...]) -> None:
    assert receptive_field(list(stack)) == measured_field(stack)


def test_2_8_receptive_field() -> None:
    assert ex.check_receptive_field(receptive_field)

    def no_jump(layers: list[tuple[int, int, int]]) -> int:
        return 1 + sum(d * (k - 1) for k, _, d in layers)

    def stride_first(layers: list[tuple[int, int, int]]) -> int:
        r, j = 1, 1
        for k, s, d in layers:
            j *= s
            r += d * (k - 1) * j
        return r

    # ResNet's stem (7, 2, 1), (3, 2, 1): 1 + 6 = 7, then 7 + 2·2 = 11; without the jump 1 + 6 + 2 = 9.
    assert_wrong(ex.check_receptive_field(no_jump), "11", "9", 5)
    assert not ex.check_receptive_field(stride_first)
    assert_blank(ex.check_receptive_field(not_written))


# --- 2.9 ------------------------------------------------------------------------------------------------------
def test_2_9_even_kernel_shift_measured() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(*[nn.Conv2d(1, 1, ex.EVEN_KERNEL, padding="same", bias=False)
                          for _ in range(ex.EVEN_STACK)])
    for conv in net:
        nn.init.uniform_(conv.weight, 0.5, 1.5)
    x = torch.zeros(1, 1, 61, 61, requires_grad=True)
    with warnings.catch_warnings():  # torch warns that 'same' with an even kernel makes a padded copy
        warnings.simplefilter("ignore", UserWarning)
        y = net(x)
    centre = 30
    y[0, 0, centre, centre].backward()
    rows = (x.grad[0, 0] != 0).any(dim=1).nonzero().flatten()
    patch = int(rows.max() - rows.min() + 1)
    shift = (int(rows.max()) + int(rows.min())) / 2 - centre
    assert (patch, shift) == (19, 3.0)
    assert ex.check_even_kernel_shift(patch=patch, shift=shift)
    assert_wrong(ex.check_even_kernel_shift(patch=patch, shift=0.5), "3", "0.5", 6)
    assert_blank(ex.check_even_kernel_shift(patch=..., shift=...))


# --- 2.10 -----------------------------------------------------------------------------------------------------
def test_2_10_unread_rows_measured() -> None:
    x = torch.zeros(1, 1, ex.GAPS_SIZE, requires_grad=True)
    y = F.conv1d(x, torch.ones(1, 1, ex.GAPS_KERNEL), stride=ex.GAPS_STRIDE)
    y.sum().backward()
    unread = int((x.grad == 0).sum())  # a row no window reads gets no gradient
    assert ex.check_unread_rows(h_o=y.shape[-1], unread=unread)
    assert_wrong(ex.check_unread_rows(h_o=y.shape[-1], unread=6), "7", "6", 7)  # the gaps, not row 20
    assert_blank(ex.check_unread_rows(h_o=..., unread=...))


# --- 2.11 -----------------------------------------------------------------------------------------------------
def max_pool2d_loops(x: np.ndarray, kernel_size: int, stride: int, padding: int = 0,
                     fill: float = -np.inf) -> np.ndarray:
    n, c, h, w = x.shape
    k, s, p = kernel_size, stride, padding
    h_o, w_o = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    y = np.empty((n, c, h_o, w_o))
    for i in range(h_o):
        for j in range(w_o):
            y[:, :, i, j] = x_pad[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return y


def test_2_11_cases_agree_with_torch() -> None:
    for case, kwargs in ex.max_pool_cases():
        (x,) = case.arrays
        expected = F.max_pool2d(torch.from_numpy(x), **kwargs).numpy()
        assert np.allclose(max_pool2d_loops(x, **kwargs), expected)


def test_2_11_max_pool2d() -> None:
    assert ex.check_max_pool2d(max_pool2d_loops)

    def torch_pool(x: np.ndarray, kernel_size: int, stride: int, padding: int = 0) -> torch.Tensor:
        return F.max_pool2d(torch.from_numpy(x), kernel_size, stride, padding)

    assert ex.check_max_pool2d(torch_pool), "a tensor is as good as an array"

    def zero_padding(x: np.ndarray, kernel_size: int, stride: int, padding: int = 0) -> np.ndarray:
        return max_pool2d_loops(x, kernel_size, stride, padding, fill=0.0)

    def ceil_mode(x: np.ndarray, kernel_size: int, stride: int, padding: int = 0) -> torch.Tensor:
        return F.max_pool2d(torch.from_numpy(x), kernel_size, stride, padding, ceil_mode=True)

    wrong = ex.check_max_pool2d(zero_padding)
    assert wrong.status == "wrong" and "2 of 5 cases fail" in wrong.message
    assert "zero_padding(x (1, 4, 8, 8), kernel_size=3, stride=2, padding=1)" in wrong.message
    assert "expected an array of shape (1, 4, 4, 4) (what nncost.reference.max_pool2d gives), got values off" \
        in wrong.message
    assert "chapter 8 (Pooling)" in wrong.message
    shapes = ex.check_max_pool2d(ceil_mode)
    assert_wrong(shapes, "an array of shape (2, 3, 3, 3) (what nncost.reference.max_pool2d gives)",
                 "an array of shape (2, 3, 4, 4)", 8)
    assert_blank(ex.check_max_pool2d(not_written))
    assert_blank(ex.check_max_pool2d(...))
    none = ex.check_max_pool2d(lambda x, kernel_size, stride, padding=0: None)
    assert none.status == "wrong" and "forget to assign or `return`" in none.message


# --- 2.12 -----------------------------------------------------------------------------------------------------
def test_2_12_savings_measured() -> None:
    x = torch.empty(ex.SAVE_INPUT, device="meta")

    def block(stride: int) -> int:
        first = nn.Conv2d(32, 64, 3, stride=stride, padding=1, device="meta")
        second = nn.Conv2d(64, 64, 3, padding=1, device="meta")
        return flop_macs(first, x) + flop_macs(second, first(x))

    conv = nn.Conv2d(64, 64, 3, padding=1, device="meta")
    m = torch.empty(ex.POOL_SAVE_INPUT, device="meta")
    direct = flop_macs(conv, m)
    after = {mode: flop_macs(conv, F.max_pool2d(m, 2, ceil_mode=mode)) for mode in (False, True)}
    got = {"stride_saving": block(1) / block(ex.SAVE_STRIDE), "pool_saving": direct / after[False],
           "pool_ceil_saving": direct / after[True]}
    assert ex.check_savings(**got)
    assert got["stride_saving"] < 16 and got["pool_saving"] > 4 > got["pool_ceil_saving"]
    assert_wrong(ex.check_savings(**{**got, "stride_saving": 16}), "14.0625", "16", 7)
    assert_blank(ex.check_savings(stride_saving=..., pool_saving=..., pool_ceil_saving=...))


# --- 2.13 -----------------------------------------------------------------------------------------------------
def conv2d_loops(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0,
                 flip: bool = False, square: bool = False) -> np.ndarray:
    n, _, h, w = x.shape
    c_o, _, k_h, k_w = weight.shape
    k_h = k_w if square else k_h  # a slip: the kernel taken as square
    weight = weight[:, :, ::-1, ::-1] if flip else weight
    s, p = stride, padding
    h_o, w_o = (h + 2 * p - k_h) // s + 1, (w + 2 * p - k_w) // s + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    y = np.empty((n, c_o, h_o, w_o))
    for b in range(n):
        for o in range(c_o):
            for i in range(h_o):
                for j in range(w_o):
                    y[b, o, i, j] = np.sum(x_pad[b, :, i * s:i * s + k_h, j * s:j * s + k_w] * weight[o]) + bias[o]
    return y


def test_2_13_cases_agree_with_torch() -> None:
    for case, kwargs in ex.conv_loop_cases():
        x, weight, bias = (torch.from_numpy(a) for a in case.arrays)
        expected = F.conv2d(x, weight, bias, **kwargs).numpy()
        assert np.allclose(conv2d_loops(*case.arrays, **kwargs), expected)


def test_2_13_conv2d_loops() -> None:
    assert ex.check_conv2d_loops(conv2d_loops)

    def flipped(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1,
                padding: int = 0) -> np.ndarray:
        return conv2d_loops(x, weight, bias, stride, padding, flip=True)  # a true convolution, not torch's

    def square(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1,
               padding: int = 0) -> np.ndarray:
        return conv2d_loops(x, weight, bias, stride, padding, square=True)

    wrong = ex.check_conv2d_loops(flipped)
    assert wrong.status == "wrong" and "6 of 6 cases fail" in wrong.message
    assert "flipped(x (1, 1, 5, 5), weight (1, 1, 3, 3), bias (1,), stride=1, padding=0): expected an array of " \
           "shape (1, 1, 3, 3) (what nncost.reference.conv2d gives), got values off by up to" in wrong.message
    assert "chapter 5 (A 2-D CNN's computation)" in wrong.message
    rectangular = ex.check_conv2d_loops(square)
    assert_wrong(rectangular, "an array of shape (1, 3, 6, 7) (what nncost.reference.conv2d gives)",
                 "an array of shape (1, 3, 4, 7)", 5)
    assert_blank(ex.check_conv2d_loops(not_written))
    crash = ex.check_conv2d_loops(lambda x, weight, bias, stride=1, padding=0: x @ weight)
    assert crash.status == "wrong" and "raised ValueError" in crash.message


# --- 2.14 -----------------------------------------------------------------------------------------------------
def test_2_14_vgg_field_measured() -> None:
    """The field and the jump of the stack, measured with autograd (an average pool has the max pool's window,
    and its gradient reaches every input of the window)."""
    layers = [nn.Conv2d(1, 1, 3, padding=1, bias=False) if k == 3 else nn.AvgPool2d(k, s) for k, s in ex.VGG_STACK]
    net = nn.Sequential(*layers)
    for layer in net:
        if isinstance(layer, nn.Conv2d):
            nn.init.uniform_(layer.weight, 0.5, 1.5)
    x = torch.zeros(1, 1, 96, 96, requires_grad=True)
    y = net(x)

    def rows_seen(i: int) -> tuple[int, int]:
        x.grad = None
        y[0, 0, i, 12].backward(retain_graph=True)
        rows = (x.grad[0, 0] != 0).any(dim=1).nonzero().flatten()
        return int(rows.min()), int(rows.max())

    (top, bottom), (next_top, _) = rows_seen(12), rows_seen(13)
    field, jump = bottom - top + 1, next_top - top
    plain_layers = 20  # 2L + 1 ≥ 40 needs L ≥ 19.5
    assert ex.check_vgg_field(field=field, jump=jump, plain_layers=plain_layers)
    assert_wrong(ex.check_vgg_field(field=20, jump=jump, plain_layers=10), "40", "20", 5)  # the pooling ignored
    assert_blank(ex.check_vgg_field(field=..., jump=..., plain_layers=...))
