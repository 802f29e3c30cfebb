"""Invalid calls: each raises the right exception type, and its message starts with the argument's name.

``ValueError`` for a value that breaks a rule, ``TypeError`` for a value of the wrong type (a float,
a string, a bool where an int is meant, an int where a bool is meant).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from nncost import batchnorm2d, conv1d, conv2d, linear, mlp, output_size, pool2d, receptive_field, same_padding, table
from nncost.transformer import (
    attention,
    embedding,
    feed_forward,
    flops_per_token,
    kv_cache_bytes,
    lm_head,
    norm,
    transformer_block,
)

X = (1, 4, 8, 8)  # a valid (n, c, h, w) input
T = (2, 5, 12)  # a valid (n, L, d) sequence input

CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    # id, call, exception, how the message starts
    # groups
    ("groups-not-dividing-in", lambda: conv2d((1, 3, 8, 8), 4, 3, groups=2), ValueError, "groups:"),
    ("groups-not-dividing-out", lambda: conv2d(X, 3, 3, groups=2), ValueError, "groups:"),
    ("conv1d-groups-not-dividing-in", lambda: conv1d((1, 6, 10), 4, 3, groups=4), ValueError, "groups:"),
    ("groups-zero", lambda: conv2d(X, 4, 3, groups=0), ValueError, "groups:"),
    # kernel larger than the padded input
    ("conv2d-kernel-too-big", lambda: conv2d((1, 1, 4, 4), 1, 7, padding=1), ValueError, "kernel_size:"),
    ("conv1d-dilated-kernel-too-big", lambda: conv1d((1, 1, 5), 1, 3, dilation=3), ValueError, "kernel_size:"),
    ("conv2d-kernel-too-big-one-dim", lambda: conv2d((1, 1, 9, 3), 1, (3, 5)), ValueError, "kernel_size:"),
    ("pool-kernel-too-big", lambda: pool2d((1, 1, 2, 2), 3), ValueError, "kernel_size:"),
    ("output-size-kernel-too-big", lambda: output_size(3, 5), ValueError, "kernel_size:"),
    # zero and negative sizes
    ("conv2d-zero-channels", lambda: conv2d((1, 0, 8, 8), 4, 3), ValueError, "in_shape[1]:"),
    ("conv2d-zero-batch", lambda: conv2d((0, 4, 8, 8), 4, 3), ValueError, "in_shape[0]:"),
    ("linear-negative-dim", lambda: linear((-1, 5), 3), ValueError, "in_shape[0]:"),
    ("linear-zero-out-features", lambda: linear((2, 5), 0), ValueError, "out_features:"),
    ("conv2d-zero-out-channels", lambda: conv2d(X, 0, 3), ValueError, "out_channels:"),
    ("pool-zero-height", lambda: pool2d((1, 1, 0, 4), 1), ValueError, "in_shape[2]:"),
    ("batchnorm-zero-width", lambda: batchnorm2d((2, 3, 4, 0)), ValueError, "in_shape[3]:"),
    ("output-size-zero-size", lambda: output_size(0, 1), ValueError, "size:"),
    ("conv2d-kernel-zero", lambda: conv2d(X, 4, 0), ValueError, "kernel_size:"),
    # stride, padding, dilation
    ("conv2d-stride-zero", lambda: conv2d(X, 4, 3, stride=0), ValueError, "stride:"),
    ("conv2d-stride-zero-in-tuple", lambda: conv2d(X, 4, 3, stride=(1, 0)), ValueError, "stride[1]:"),
    ("pool-stride-zero", lambda: pool2d(X, 2, stride=0), ValueError, "stride:"),
    ("output-size-stride-zero", lambda: output_size(8, 3, 0), ValueError, "stride:"),
    ("conv2d-negative-padding", lambda: conv2d(X, 4, 3, padding=-1), ValueError, "padding:"),
    ("conv1d-negative-padding-tuple", lambda: conv1d((1, 4, 8), 4, 3, padding=(-2,)), ValueError, "padding[0]:"),
    ("pool-negative-padding", lambda: pool2d(X, 3, padding=-1), ValueError, "padding:"),
    ("output-size-negative-right", lambda: output_size(8, 3, padding_right=-1), ValueError, "padding_right:"),
    ("conv2d-dilation-zero", lambda: conv2d(X, 4, 3, dilation=0), ValueError, "dilation:"),
    ("pool-dilation-zero", lambda: pool2d(X, 2, dilation=0), ValueError, "dilation:"),
    ("same-padding-dilation-zero", lambda: same_padding(3, 0), ValueError, "dilation:"),
    ("same-padding-kernel-zero", lambda: same_padding(0), ValueError, "kernel_size:"),
    # padding strings
    ("conv2d-same-strided", lambda: conv2d(X, 4, 3, stride=2, padding="same"), ValueError, "padding:"),
    ("conv2d-same-strided-one-dim", lambda: conv2d(X, 4, 3, stride=(1, 2), padding="same"), ValueError, "padding:"),
    ("conv1d-same-strided", lambda: conv1d((1, 4, 8), 4, 3, stride=2, padding="same"), ValueError, "padding:"),
    ("conv2d-unknown-padding-string", lambda: conv2d(X, 4, 3, padding="full"), ValueError, "padding:"),
    ("conv2d-padding-string-case", lambda: conv2d(X, 4, 3, padding="SAME"), ValueError, "padding:"),
    # input rank
    ("conv2d-on-2d", lambda: conv2d((8, 8), 4, 3), ValueError, "in_shape:"),
    ("conv2d-on-5d", lambda: conv2d((1, 1, 4, 8, 8), 4, 3), ValueError, "in_shape:"),
    ("conv1d-on-4d", lambda: conv1d(X, 4, 3), ValueError, "in_shape:"),
    ("batchnorm2d-on-3d", lambda: batchnorm2d((4, 8, 8)), ValueError, "in_shape:"),
    ("pool-on-2d", lambda: pool2d((8, 8), 2), ValueError, "in_shape:"),
    ("linear-on-empty-shape", lambda: linear((), 3), ValueError, "in_shape:"),
    ("batchnorm2d-one-value-per-channel", lambda: batchnorm2d((1, 4, 1, 1), track_running_stats=False),
     ValueError, "in_shape:"),
    # wrong types: non-integer sizes, bools as ints, ints as bools, shapes that are not sequences
    ("float-size-in-shape", lambda: conv2d((1, 4, 8.0, 8), 4, 3), TypeError, "in_shape[2]:"),
    ("string-size-in-shape", lambda: linear((2, "3"), 4), TypeError, "in_shape[1]:"),
    ("bool-in-shape", lambda: linear((True, 3), 4), TypeError, "in_shape[0]:"),
    ("shape-is-an-int", lambda: conv2d(8, 4, 3), TypeError, "in_shape:"),
    ("shape-is-a-string", lambda: batchnorm2d("1,4,8,8"), TypeError, "in_shape:"),
    ("float-kernel", lambda: conv2d(X, 4, 2.0), TypeError, "kernel_size:"),
    ("string-kernel", lambda: conv2d(X, 4, "3"), TypeError, "kernel_size:"),
    ("string-out-channels", lambda: conv2d(X, "4", 3), TypeError, "out_channels:"),
    ("float-out-features", lambda: linear((2, 3), 4.0), TypeError, "out_features:"),
    ("bool-kernel", lambda: conv2d(X, 4, True), TypeError, "kernel_size:"),
    ("bool-in-stride-tuple", lambda: conv2d(X, 4, 3, stride=(1, False)), TypeError, "stride[1]:"),
    ("bool-groups", lambda: conv2d(X, 4, 3, groups=True), TypeError, "groups:"),
    ("pool-float-padding", lambda: pool2d(X, 3, padding=0.5), TypeError, "padding:"),
    ("conv2d-bias-int", lambda: conv2d(X, 4, 3, bias=1), TypeError, "bias:"),
    ("linear-bias-int", lambda: linear((2, 3), 4, bias=0), TypeError, "bias:"),
    ("pool-ceil-mode-int", lambda: pool2d(X, 2, ceil_mode=1), TypeError, "ceil_mode:"),
    ("output-size-ceil-mode-string", lambda: output_size(8, 2, ceil_mode="yes"), TypeError, "ceil_mode:"),
    ("batchnorm-affine-string", lambda: batchnorm2d(X, affine="yes"), TypeError, "affine:"),
    ("batchnorm-track-int", lambda: batchnorm2d(X, track_running_stats=1), TypeError, "track_running_stats:"),
    # pooling rules
    ("pool-padding-over-half-kernel", lambda: pool2d(X, 2, padding=2), ValueError, "padding:"),
    ("pool-padding-over-half-kernel-one-dim", lambda: pool2d(X, (3, 2), padding=(1, 2)), ValueError, "padding:"),
    ("avgpool-with-dilation", lambda: pool2d(X, 2, dilation=2, kind="avg"), ValueError, "dilation:"),
    ("unknown-pool-kind", lambda: pool2d(X, 2, kind="min"), ValueError, "kind:"),
    # wrong tuple lengths
    ("conv2d-kernel-3-tuple", lambda: conv2d(X, 4, (3, 3, 3)), ValueError, "kernel_size:"),
    ("conv1d-kernel-2-tuple", lambda: conv1d((1, 4, 8), 4, (3, 3)), ValueError, "kernel_size:"),
    ("conv2d-padding-3-tuple", lambda: conv2d(X, 4, 3, padding=(1, 1, 1)), ValueError, "padding:"),
    ("pool-stride-3-tuple", lambda: pool2d(X, 2, stride=(2, 2, 2)), ValueError, "stride:"),
    # mlp
    ("mlp-empty-widths", lambda: mlp((5,), []), ValueError, "widths:"),
    ("mlp-widths-int", lambda: mlp((5,), 3), ValueError, "widths:"),
    ("mlp-zero-width", lambda: mlp((5,), [3, 0]), ValueError, "widths[1]:"),
    ("mlp-float-width", lambda: mlp((5,), [3.0]), TypeError, "widths[0]:"),
    ("mlp-bad-input", lambda: mlp((0, 5), [3]), ValueError, "in_shape[0]:"),
    # receptive_field
    ("receptive-field-empty", lambda: receptive_field([]), ValueError, "layers:"),
    ("receptive-field-not-a-list", lambda: receptive_field("33"), ValueError, "layers:"),
    ("receptive-field-linear-layer", lambda: receptive_field([linear((2, 3), 4)]), ValueError, "layers[0]:"),
    ("receptive-field-bad-tuple", lambda: receptive_field([(3, 1), (3,)]), ValueError, "layers[1]:"),
    ("receptive-field-zero-kernel", lambda: receptive_field([(0, 1)]), ValueError, "layers[0] kernel:"),
    ("receptive-field-zero-stride", lambda: receptive_field([(3, 0)]), ValueError, "layers[0] stride:"),
    ("receptive-field-dims-disagree", lambda: receptive_field([((3, 3), 1), ((3, 3, 3), 1)]), ValueError, "layers[0]:"),
    # table
    ("table-empty", lambda: table([]), ValueError, "layers:"),
    ("table-non-layer-cost", lambda: table([linear((2, 3), 4), "relu"]), TypeError, "layers[1]:"),
    ("table-dict", lambda: table([{"params": 1}]), TypeError, "layers[0]:"),
    ("table-names-length", lambda: table([linear((2, 3), 4)], names=["a", "b"]), ValueError, "names:"),
    # transformer formulas (nncost.transformer)
    ("attention-heads-not-dividing-d", lambda: attention((2, 5, 10), 3), ValueError, "num_heads:"),
    ("attention-kv-heads-not-dividing", lambda: attention(T, 4, num_kv_heads=3), ValueError, "num_kv_heads:"),
    ("attention-more-kv-than-q-heads", lambda: attention(T, 2, num_kv_heads=4), ValueError, "num_kv_heads:"),
    ("attention-zero-heads", lambda: attention(T, 0), ValueError, "num_heads:"),
    ("attention-zero-kv-heads", lambda: attention(T, 4, num_kv_heads=0), ValueError, "num_kv_heads:"),
    ("attention-zero-length", lambda: attention((2, 0, 12), 4), ValueError, "in_shape[1]:"),
    ("attention-zero-d", lambda: attention((5, 0), 1), ValueError, "in_shape[1]:"),
    ("attention-zero-kv-len", lambda: attention(T, 4, kv_len=0), ValueError, "kv_len:"),
    ("attention-negative-kv-len", lambda: attention(T, 4, kv_len=-3), ValueError, "kv_len:"),
    ("attention-on-4d", lambda: attention((1, 2, 5, 12), 4), ValueError, "in_shape:"),
    ("attention-unknown-causal-macs", lambda: attention(T, 4, causal=True, causal_macs="quarter"), ValueError,
     "causal_macs:"),
    ("attention-unknown-qkv", lambda: attention(T, 4, qkv="packed"), ValueError, "qkv:"),
    ("attention-causal-half-fewer-keys", lambda: attention(T, 4, kv_len=3, causal=True, causal_macs="half"),
     ValueError, "kv_len:"),
    ("attention-cache-without-kv-len", lambda: attention(T, 4, kv_cache=True), ValueError, "kv_len:"),
    ("attention-cache-shorter-than-input", lambda: attention(T, 4, kv_len=4, kv_cache=True), ValueError, "kv_len:"),
    ("attention-causal-int", lambda: attention(T, 4, causal=1), TypeError, "causal:"),
    ("attention-float-heads", lambda: attention(T, 4.0), TypeError, "num_heads:"),
    ("feed-forward-zero-width", lambda: feed_forward(T, 0), ValueError, "d_ff:"),
    ("feed-forward-gated-string", lambda: feed_forward(T, 8, gated="yes"), TypeError, "gated:"),
    ("feed-forward-empty-activation", lambda: feed_forward(T, 8, activation=""), TypeError, "activation:"),
    ("norm-unknown-kind", lambda: norm(T, kind="batchnorm"), ValueError, "kind:"),
    ("norm-zero-width", lambda: norm((2, 0)), ValueError, "in_shape[1]:"),
    ("embedding-zero-vocab", lambda: embedding((2, 5), 0, 8), ValueError, "vocab_size:"),
    ("embedding-zero-d-model", lambda: embedding((2, 5), 10, 0), ValueError, "d_model:"),
    ("embedding-on-3d", lambda: embedding(T, 10, 8), ValueError, "in_shape:"),
    ("lm-head-zero-vocab", lambda: lm_head(T, 0), ValueError, "vocab_size:"),
    ("lm-head-tied-int", lambda: lm_head(T, 10, tied=1), TypeError, "tied:"),
    ("block-heads-not-dividing-d", lambda: transformer_block((2, 5, 10), 4, 16), ValueError, "num_heads:"),
    ("block-unknown-norm", lambda: transformer_block(T, 4, 16, norm="groupnorm"), ValueError, "norm:"),
    ("block-zero-d-ff", lambda: transformer_block(T, 4, 0), ValueError, "d_ff:"),
    ("block-kv-heads-not-dividing", lambda: transformer_block(T, 4, 16, num_kv_heads=3), ValueError,
     "num_kv_heads:"),
    ("kv-cache-zero-seq-len", lambda: kv_cache_bytes(layers=2, kv_heads=2, head_dim=8, seq_len=0), ValueError,
     "seq_len:"),
    ("kv-cache-negative-layers", lambda: kv_cache_bytes(layers=-1, kv_heads=2, head_dim=8, seq_len=4), ValueError,
     "layers:"),
    ("kv-cache-zero-bytes", lambda: kv_cache_bytes(layers=2, kv_heads=2, head_dim=8, seq_len=4,
                                                   bytes_per_element=0), ValueError, "bytes_per_element:"),
    ("kv-cache-string-bytes", lambda: kv_cache_bytes(layers=2, kv_heads=2, head_dim=8, seq_len=4,
                                                     bytes_per_element="2"), TypeError, "bytes_per_element:"),
    ("flops-per-token-zero-context", lambda: flops_per_token(100, layers=1, d_model=8, context=0), ValueError,
     "context:"),
    ("flops-per-token-zero-params", lambda: flops_per_token(0, layers=1, d_model=8, context=4), ValueError,
     "params_non_embedding:"),
]


@pytest.mark.parametrize(("call", "error", "prefix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_call_raises_and_names_the_argument(
    call: Callable[[], object], error: type[Exception], prefix: str
) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    assert str(info.value).startswith(prefix), str(info.value)


def test_table_has_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)  # ids are unique

