"""Output sizes, 'same' padding and receptive fields: values derived by hand, and autograd as a witness."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import nncost
from nncost import ReceptiveField, output_size, receptive_field, same_padding

# --- output_size: h_o = floor((h + 2p - d(k-1) - 1)/s) + 1 -------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((32, 5), {}, 28),  # 32 - 5 + 1 = 28 (LeNet's first conv)
        ((32, 3, 1, 1), {}, 32),  # 32 + 2 - 3 + 1 = 32: 3x3 with padding 1 keeps the size
        ((7, 3, 2), {}, 3),  # floor((7 - 3)/2) + 1 = 2 + 1 = 3
        ((8, 3, 2), {}, 3),  # floor((8 - 3)/2) + 1 = floor(2.5) + 1 = 3: the last column is never a window start
        ((7, 2, 2), {}, 3),  # floor((7 - 2)/2) + 1 = floor(2.5) + 1 = 3: the 7th element is dropped
        ((6, 3, 2, 1), {}, 3),  # floor((6 + 2 - 3)/2) + 1 = floor(2.5) + 1 = 3
        ((10, 3, 1, 0, 2), {}, 6),  # dilated span 2*(3-1)+1 = 5; 10 - 5 + 1 = 6
        ((9, 3, 3, 0, 3), {}, 1),  # span 3*2+1 = 7; floor((9 - 7)/3) + 1 = 0 + 1 = 1
        ((227, 11, 4), {}, 55),  # AlexNet conv1 on 227: (227 - 11)/4 + 1 = 54 + 1 = 55
        ((224, 11, 4, 2), {}, 55),  # on 224 with padding 2: floor((224 + 4 - 11)/4) + 1 = floor(54.25) + 1 = 55
        ((224, 7, 2, 3), {}, 112),  # ResNet stem: floor((224 + 6 - 7)/2) + 1 = floor(111.5) + 1 = 112
        ((112, 3, 2, 1), {}, 56),  # ResNet max pool: floor((112 + 2 - 3)/2) + 1 = floor(55.5) + 1 = 56
        ((5, 5), {}, 1),  # the kernel exactly fits: 5 - 5 + 1 = 1
        ((3, 5, 1, 1), {}, 1),  # fits only with the padding: 3 + 2 - 5 + 1 = 1
        ((5, 4), {"padding": 1, "padding_right": 2}, 5),  # 'same' for k=4: 5 + 1 + 2 - 4 + 1 = 5
        ((5, 3), {"padding": 0, "padding_right": 2}, 5),  # only right padding: 5 + 0 + 2 - 3 + 1 = 5
    ],
)
def test_output_size(args: tuple[int, ...], kwargs: dict, expected: int) -> None:
    assert output_size(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("args", "floor", "ceil"),
    [
        # steps = h + 2p - span; floor: steps//s + 1; ceil: ceil(steps/s) + 1, then drop a last window that
        # would start in the right padding, i.e. at (out - 1)*s >= h + p.
        ((6, 3, 2), 2, 3),  # steps 3: floor 1 + 1 = 2; ceil 2 + 1 = 3; last start 4 < 6 is kept
        ((7, 3, 2), 3, 3),  # steps 4: 2 + 1 = 3 both ways (4/2 is exact)
        ((5, 2, 2, 1), 3, 3),  # steps 5: floor 3, ceil 4, but the 4th starts at 6 >= 5 + 1: dropped, 3
        ((4, 2, 2, 1), 3, 3),  # steps 4: 3 both ways; last start (3-1)*2 = 4 < 4 + 1 is kept
        ((10, 3, 3), 3, 4),  # steps 7: floor 2 + 1 = 3; ceil 3 + 1 = 4; last start 9 < 10 is kept
        ((112, 3, 2), 55, 56),  # GoogLeNet-style pool, no padding: steps 109: floor 54 + 1 = 55, ceil 55 + 1 = 56
        ((4, 5, 3, 0), None, 1),  # steps -1: floor (-1)//3 + 1 = 0 refused; ceil (-1 + 2)//3 + 1 = 1 (torch agrees)
    ],
)
def test_output_size_ceil_mode(args: tuple[int, ...], floor: int | None, ceil: int) -> None:
    if floor is None:
        with pytest.raises(ValueError, match=r"^kernel_size:"):
            output_size(*args)
    else:
        assert output_size(*args) == floor
    assert output_size(*args, ceil_mode=True) == ceil


def test_output_size_ceil_mode_matches_torch_pool() -> None:
    torch = pytest.importorskip("torch")
    for size, k, s, p, expected in [(6, 3, 2, 0, 3), (5, 2, 2, 1, 3), (112, 3, 2, 0, 56)]:
        y = torch.nn.MaxPool2d(k, s, p, ceil_mode=True)(torch.zeros(1, 1, size, size))
        assert y.shape[-1] == expected == output_size(size, k, s, p, ceil_mode=True)


def test_output_size_too_small() -> None:
    # span 5 but only 2 + 2*1 = 4 padded elements
    with pytest.raises(ValueError, match=r"^kernel_size: the kernel spans 5 .* only 4"):
        output_size(2, 5, padding=1)


# --- same_padding: total d(k-1), the odd one on the right ---------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "dilation", "expected"),
    [
        (1, 1, (0, 0)),  # total 0
        (3, 1, (1, 1)),  # total 2
        (4, 1, (1, 2)),  # total 3: 1 left, 2 right
        (5, 1, (2, 2)),  # total 4
        (3, 2, (2, 2)),  # total 2*(3-1) = 4
        (4, 3, (4, 5)),  # total 3*(4-1) = 9: 4 left, 5 right
        (2, 1, (0, 1)),  # total 1
    ],
)
def test_same_padding(kernel: int, dilation: int, expected: tuple[int, int]) -> None:
    assert same_padding(kernel, dilation) == expected
    left, right = expected
    for size in (1, 2, 7, 10):  # the padding keeps every size
        assert output_size(size, kernel, 1, left, dilation, padding_right=right) == size


# --- receptive_field: r <- r + d(k-1)*j, j <- j*s --------------------------------------------------------


def test_receptive_field_of_stacked_3x3() -> None:
    # three 3x3 convolutions, stride 1: 1 + 2 = 3, 3 + 2 = 5, 5 + 2 = 7 (VGG's argument for 3x3 stacks)
    steps = receptive_field([(3, 1), (3, 1), (3, 1)])
    assert [step.size for step in steps] == [(3,), (5,), (7,)]
    assert [step.jump for step in steps] == [(1,), (1,), (1,)]


def test_receptive_field_with_strides() -> None:
    # 2x2 stride 2, three times: r = 1 + 1*1 = 2 (j 2), 2 + 1*2 = 4 (j 4), 4 + 1*4 = 8 (j 8)
    steps = receptive_field([(2, 2)] * 3)
    assert steps == [ReceptiveField((2,), (2,)), ReceptiveField((4,), (4,)), ReceptiveField((8,), (8,))]


def test_receptive_field_alexnet() -> None:
    # conv 11/4: r = 1 + 10*1 = 11, j = 4;   pool 3/2: 11 + 2*4 = 19, j = 8;   conv 5/1: 19 + 4*8 = 51
    # pool 3/2: 51 + 2*8 = 67, j = 16;   three conv 3/1: 67 + 32 = 99, 131, 163;   pool 3/2: 163 + 2*16 = 195, j = 32
    stack = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
    assert [s.size[0] for s in receptive_field(stack)] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert receptive_field(stack)[-1].jump == (32,)


def test_receptive_field_with_dilation() -> None:
    # 3-wide kernels with dilation 1, 2, 4 (stride 1): 1 + 2 = 3, 3 + 2*2 = 7, 7 + 4*2 = 15
    steps = receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)])
    assert [s.size for s in steps] == [(3,), (7,), (15,)]


def test_receptive_field_per_dimension_tuples() -> None:
    # layer 1: kernel (3, 5), stride (1, 2): r = (3, 5), j = (1, 2)
    # layer 2: kernel 3, stride 1 for both dims: r = (3 + 2*1, 5 + 2*2) = (5, 9), j = (1, 2)
    steps = receptive_field([((3, 5), (1, 2)), (3, 1)])
    assert steps == [ReceptiveField((3, 5), (1, 2)), ReceptiveField((5, 9), (1, 2))]


def test_receptive_field_of_layer_costs() -> None:
    # conv 3x3 stride 2: r = 3, j = 2;   max pool 2x2 (stride 2 by default): 3 + 1*2 = 5, j = 4
    # conv (1, 3) dilation (1, 2): r = (5 + 0, 5 + 2*2*4) = (5, 21), j = (4, 4)
    conv = nncost.conv2d((1, 3, 32, 32), 8, 3, stride=2, padding=1)
    pool = nncost.pool2d(conv.out_shape, 2)
    conv2 = nncost.conv2d(pool.out_shape, 8, (1, 3), dilation=(1, 2))
    steps = receptive_field([conv, pool, conv2])
    assert steps == [
        ReceptiveField((3, 3), (2, 2)),
        ReceptiveField((5, 5), (4, 4)),
        ReceptiveField((5, 21), (4, 4)),
    ]


def test_receptive_field_mixes_layer_costs_and_pairs() -> None:
    # conv1d kernel 5: r = 5, j = 1;  then (3, 2): 5 + 2 = 7, j = 2
    steps = receptive_field([nncost.conv1d((1, 4, 50), 4, 5), (3, 2)])
    assert steps[-1] == ReceptiveField((7,), (2,))


def test_receptive_field_of_one_by_one_is_one() -> None:
    assert receptive_field([(1, 1), (1, 3)]) == [ReceptiveField((1,), (1,)), ReceptiveField((1,), (3,))]


# --- receptive_field against autograd ---------------------------------------------------------------------

torch_layers = st.lists(
    st.one_of(
        st.tuples(  # ("conv", kernel per dim, stride per dim, dilation per dim, padding)
            st.just("conv"),
            st.tuples(st.integers(1, 4), st.integers(1, 4)),
            st.tuples(st.integers(1, 2), st.integers(1, 3)),
            st.tuples(st.integers(1, 2), st.integers(1, 3)),
            st.integers(0, 2),
        ),
        st.tuples(  # ("pool", ...): average pooling (no dilation)
            st.just("pool"),
            st.tuples(st.integers(2, 4), st.integers(1, 3)),
            st.tuples(st.integers(1, 3), st.integers(1, 2)),
            st.just((1, 1)),
            st.integers(0, 1),
        ),
    ).map(lambda layer: layer if layer[0] == "conv" or min(layer[1]) >= 2 else (*layer[:4], 0)),  # pad <= k/2
    min_size=1,
    max_size=4,
)


def _reads(spec: list, sizes: list[tuple[int, int]], axis: int, out_index: int) -> bool:
    """Whether output position ``out_index`` (along ``axis``) of the stack reads only real input: walking
    back layer by layer, the positions [lo, hi] it depends on never reach into a layer's padding."""
    lo = hi = out_index
    for (_, kernel, stride, dilation, padding), size in zip(reversed(spec), reversed(sizes)):
        k, s, d = kernel[axis], stride[axis], dilation[axis]
        lo, hi = lo * s - padding, hi * s - padding + d * (k - 1)
        if lo < 0 or hi > size[axis] - 1:
            return False
    return True


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(spec=torch_layers)
def test_receptive_field_matches_autograd(spec: list) -> None:
    """One output position's gradient reaches exactly its receptive field.

    With all-ones kernels, average pools and a positive input nothing cancels, so the input positions
    with a nonzero gradient are those the output position reads. Their extent along each axis is the
    receptive field's size, and shifting the output by one moves them by the jump. (With dilation, or a
    stride larger than the kernel, the field has holes, so counting positions gives less than the size);
    where no layer skips positions they fill the whole size_h x size_w window, which is also checked.)
    """
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    rf = receptive_field([(k, s, d) for _, k, s, d, _ in spec])[-1]
    jump, margin = [1, 1], [0, 0]  # margin: how far the paddings can shift the field, sum of p * jump
    for _, _, s, _, p in spec:
        margin = [m + p * j for m, j in zip(margin, jump)]
        jump = [j * si for j, si in zip(jump, s)]
    size = tuple(4 * r + 8 * j + 4 * m for r, j, m in zip(rf.size, rf.jump, margin))  # a central output is not clipped

    # the same stack as nncost LayerCosts, whose windows must give the same receptive field
    shape, sizes, layers = (1, 1, *size), [], []
    for kind, k, s, d, p in spec:
        sizes.append(shape[-2:])
        if kind == "conv":
            layers.append(nncost.conv2d(shape, 1, k, stride=s, padding=p, dilation=d, bias=False))
        else:
            layers.append(nncost.pool2d(shape, k, stride=s, padding=p, kind="avg"))
        shape = layers[-1].out_shape
    assert receptive_field(layers)[-1] == rf

    x = (torch.rand(1, 1, *size, dtype=torch.float64) + 0.5).requires_grad_(True)
    y = x
    for kind, k, s, d, p in spec:
        if kind == "conv":
            y = F.conv2d(y, torch.ones(1, 1, *k, dtype=torch.float64), stride=s, padding=p, dilation=d)
        else:
            y = F.avg_pool2d(y, k, stride=s, padding=p)
    assert tuple(y.shape) == shape

    center = (shape[-2] // 2, shape[-1] // 2)
    following = (center[0] + 1, center[1] + 1)
    for axis in (0, 1):
        assume(following[axis] < shape[-2 + axis])
        assume(_reads(spec, sizes, axis, center[axis]) and _reads(spec, sizes, axis, following[axis]))

    def reached(out: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mask of input positions with a nonzero gradient, and its nonzero rows and columns."""
        (grad,) = torch.autograd.grad(y[0, 0, out[0], out[1]], x, retain_graph=True)
        mask = grad[0, 0] != 0
        return mask, mask.any(dim=1).nonzero().flatten(), mask.any(dim=0).nonzero().flatten()

    mask, rows, cols = reached(center)
    _, next_rows, next_cols = reached(following)
    extent = (int(rows[-1] - rows[0]) + 1, int(cols[-1] - cols[0]) + 1)
    shift = (int(next_rows[0] - rows[0]), int(next_cols[0] - cols[0]))
    assert extent == rf.size, (spec, extent, rf)
    assert shift == rf.jump, (spec, shift, rf)
    if all(d == (1, 1) and all(si <= ki for si, ki in zip(s, k)) for _, k, s, d, _ in spec):
        assert int(mask.sum()) == rf.size[0] * rf.size[1], (spec, int(mask.sum()), rf)
