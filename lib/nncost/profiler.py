"""``nncost.profile``: count what one forward pass of a torch model really runs, per module.

How it works (see :mod:`nncost._dispatch` for the counting itself):

1. **No copy of the model, no real weights.** Every parameter and buffer is *swapped*, for the length of
   the pass, for a stand-in of the same shape and ``requires_grad``: an empty tensor on the meta device
   by default (no memory, no arithmetic), or a copy on a real device with ``device="cpu"``. Tied weights
   stay tied (one stand-in per tensor). The originals are put back, the same objects, in a ``finally``.
   So a model larger than this machine's memory, or one built on meta, can be counted, and the cost of a
   count does not grow with the batch size or the resolution.
2. **Attribution.** Global module forward pre/post hooks keep a stack of the modules running (the
   modules' own hook dicts are not touched); a ``TorchDispatchMode`` sees every aten operation and adds
   its cost to the innermost module. Fused kernels are split by the weights they use (the FFN of a fused
   ``TransformerEncoderLayer`` goes to its ``linear1``/``linear2``), as the unfused path would attribute them.
3. **Cross-check.** For modules that map to a formula of :mod:`nncost.layers` (``nn.Linear`` →
   :func:`nncost.linear`, ``nn.Conv2d`` → :func:`nncost.conv2d`, pooling, ``nn.BatchNorm2d``, activations)
   the formula gives the row's elementwise operations, and its MACs, output shape and parameters must
   equal what the dispatch level saw (else ``AssertionError``: a bug in nncost).

Memory model (``peak_activation_bytes``): an inference pass where every activation is freed right after
the last operation that reads it. A storage (views share it) is alive from the operation that creates it
to its last reader, both included; the model's inputs from the start, its outputs to the end; weights
are not activations. Peak = max over operations of the bytes alive, so it holds at least each operation's
inputs and outputs, and a residual branch until it is added. Bytes follow the dtype (fp16 halves them).
``total_activation_bytes`` instead adds every layer's output: what training keeps for the backward pass,
as an upper bound: an in-place layer (``ReLU(inplace=True)``) or a view (``Flatten``) counts as a new output
although it shares its input's storage.

Known limits:

- An operation nncost has no formula for is listed in ``report.uncounted_ops`` (and in the table's footer),
  never silently dropped: e.g. ``aten._trilinear`` (``nn.Bilinear``) or ``aten.mkldnn_rnn_layer`` (an LSTM
  on the CPU; on meta the LSTM decomposes into ``addmm`` and is counted).
- A fused kernel (``_native_multi_head_attention``, ``_transformer_encoder_layer_fwd``) counts the MACs
  and elementwise operations of the math it replaces, but its children never run, so their rows show no
  calls and no activations: activations and ``total_activation_bytes`` differ between the fused and the
  unfused path. A nested (padding-free) input counts its real tokens, not the padding.
- Modules called through ``.forward()`` directly, or not registered as submodules, are part of their
  caller's row. A plain tensor attribute (not a parameter or buffer) stays on its device: on meta,
  register it as a buffer. A forward that reads values (``if x.sum() > 0``, ``.item()``) cannot run on
  meta: use ``device="cpu"`` on a small input.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nncost._checks import as_int
from nncost.report import LayerRow, ProfileReport

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

_SEED = 0


# --------------------------------------------------------------------------- arguments


def check_model(model: Any) -> None:
    """``TypeError`` unless ``model`` is a ``torch.nn.Module``."""
    from torch import nn

    if not isinstance(model, nn.Module):
        text = repr(model)
        text = text if len(text) <= 60 else text[:57] + "..."
        raise TypeError(f"model: must be a torch.nn.Module, got {type(model).__name__} {text}")


def parse_shapes(input_shape: Any) -> tuple[tuple[int, ...], ...]:
    """One shape ``(n, c, h, w)`` or several ``[(n, l), (n, l)]`` as a tuple of tuples of positive ints."""
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise TypeError(
            "input_shape: must be a tuple of ints such as (1, 3, 224, 224), or a list of such tuples for "
            f"several inputs, got {type(input_shape).__name__} {input_shape!r}"
        )
    if not input_shape:
        raise ValueError("input_shape: must not be empty; a shape has at least one dimension, e.g. (1, 10)")
    nested = [isinstance(s, Sequence) and not isinstance(s, (str, bytes)) for s in input_shape]
    if all(nested):
        return tuple(_one_shape(f"input_shape[{i}]", s) for i, s in enumerate(input_shape))
    if any(nested):
        raise TypeError(f"input_shape: mixes ints and tuples: {input_shape!r}; give one shape or a list of shapes")
    return (_one_shape("input_shape", input_shape),)


def _one_shape(name: str, shape: Sequence[Any]) -> tuple[int, ...]:
    if not shape:
        raise ValueError(f"{name}: must have at least one dimension, got ()")
    return tuple(as_int(f"{name}[{i}]", d) for i, d in enumerate(shape))


def parse_dtypes(dtype: Any, input_dtype: Any, count: int) -> tuple[Any, tuple[Any, ...]]:
    """The pass's floating dtype (default float32) and one dtype per input (default: that dtype)."""
    import torch

    dtype = torch.float32 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype: must be a torch.dtype such as torch.float16, got {type(dtype).__name__} {dtype!r}")
    if not dtype.is_floating_point:
        raise ValueError(
            f"dtype: must be a floating dtype (the weights' and activations' type), got {dtype}; "
            "for integer inputs such as token ids pass input_dtype=torch.long"
        )
    if input_dtype is None:
        return dtype, (dtype,) * count
    dtypes = list(input_dtype) if isinstance(input_dtype, Sequence) else [input_dtype] * count
    if len(dtypes) != count:
        raise ValueError(f"input_dtype: need one dtype per input ({count}), got {len(dtypes)}: {input_dtype!r}")
    for i, d in enumerate(dtypes):
        if not isinstance(d, torch.dtype):
            raise TypeError(f"input_dtype[{i}]: must be a torch.dtype, got {type(d).__name__} {d!r}")
    return dtype, tuple(dtypes)


def parse_device(device: Any) -> Any:
    """``device`` as a ``torch.device`` (``"meta"``, ``"cpu"``, ...); ``ValueError`` naming it otherwise."""
    import torch

    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device: must be 'meta' (the default) or a real device such as 'cpu', got {device!r}"
        ) from error


# --------------------------------------------------------------------------- the swap


@dataclass
class Prepared:
    """What a counting or reference pass needs: inputs, forward kwargs and the model's bookkeeping."""

    inputs: list[Any]
    kwargs: dict[str, Any]
    names: dict[int, str]  # id(module) -> qualified name
    modules: dict[str, Any]  # qualified name -> module
    owners: dict[int, str]  # id(stand-in parameter) -> name of its first holder
    weight_storages: set[int]
    own_params: dict[str, int]
    own_trainable: dict[str, int]


def _stand_in(tensor: Any, device: Any, dtype: Any, label: str) -> Any:
    import torch

    target = dtype if tensor.is_floating_point() else tensor.dtype
    if device.type == "meta":
        return torch.empty_like(tensor, device="meta", dtype=target)
    if tensor.device.type == "meta":
        raise ValueError(
            f"device: {device.type!r} runs the model on real values, but {label} is on the meta device "
            "(it has no values); profile on meta, the default"
        )
    return tensor.detach().to(device=device, dtype=target, copy=True)


@contextlib.contextmanager
def prepared(
    model: nn.Module,
    shapes: tuple[tuple[int, ...], ...],
    dtype: Any,
    input_dtypes: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    device: Any,
    no_grad: bool,
) -> Iterator[Prepared]:
    """Swap every parameter and buffer for a stand-in, make the inputs, and restore everything after.

    Restored in a ``finally``: the original parameter and buffer objects, every module's ``training``
    flag, the RNG state, the grad mode. The pass runs under ``torch.no_grad()`` unless ``no_grad=False``,
    and on meta under ``torch.device("meta")`` so tensors made in ``forward`` land on meta too.
    """
    import torch
    from torch import nn

    names: dict[int, str] = {}
    modules: dict[str, Any] = {}
    for name, module in model.named_modules():
        names[id(module)] = name
        modules[name] = module
    training = [(m, m.training) for m in model.modules()]
    saved: list[tuple[dict, str, Any]] = []
    flat_weights: list[tuple[Any, Any]] = []
    memo: dict[int, Any] = {}
    owners: dict[int, str] = {}
    own_params = dict.fromkeys(modules, 0)
    own_trainable = dict.fromkeys(modules, 0)
    try:
        for name, module in modules.items():
            for pname, p in module._parameters.items():
                if p is None:
                    continue
                if isinstance(p, nn.parameter.UninitializedParameter):
                    raise ValueError(
                        f"model: {_label(name)}.{pname} is an uninitialized (lazy) parameter; run the model "
                        "once on a real input to materialise it, then profile"
                    )
                if id(p) not in memo:
                    memo[id(p)] = nn.Parameter(
                        _stand_in(p, device, dtype, f"{_label(name)}.{pname}"), requires_grad=p.requires_grad
                    )
                    owners[id(memo[id(p)])] = name
                    own_params[name] += p.numel()
                    own_trainable[name] += p.numel() if p.requires_grad else 0
                saved.append((module._parameters, pname, p))
                module._parameters[pname] = memo[id(p)]
            for bname, b in module._buffers.items():
                if b is None:
                    continue
                if id(b) not in memo:
                    memo[id(b)] = _stand_in(b, device, dtype, f"{_label(name)}.{bname}")
                saved.append((module._buffers, bname, b))
                module._buffers[bname] = memo[id(b)]
            if isinstance(module, nn.RNNBase):  # keeps its own list of weight references
                flat_weights.append((module, module._flat_weights))
                module._init_flat_weights()
        weight_storages = {t.untyped_storage()._cdata for t in memo.values()}
        inputs, fwd_kwargs = _make_inputs(shapes, input_dtypes, kwargs, device)
        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.random.fork_rng(devices=[]))
            stack.enter_context(torch.set_grad_enabled(not no_grad))
            if device.type == "meta":
                stack.enter_context(torch.device("meta"))
            yield Prepared(inputs, fwd_kwargs, names, modules, owners, weight_storages, own_params, own_trainable)
    finally:
        for store, key, original in reversed(saved):
            store[key] = original
        for module, weights in flat_weights:
            module._flat_weights = weights
        for module, mode in training:
            module.training = mode


def _make_inputs(
    shapes: tuple[tuple[int, ...], ...], dtypes: tuple[Any, ...], kwargs: dict[str, Any] | None, device: Any
) -> tuple[list[Any], dict[str, Any]]:
    """Meta: empty tensors. Real device: seeded normal values (floats) or zeros (ints, e.g. token ids)."""
    import torch

    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"kwargs: must be a dict of keyword arguments for forward, got {type(kwargs).__name__}")
    inputs = []
    generator = None if device.type == "meta" else torch.Generator(device=device).manual_seed(_SEED)
    for shape, dt in zip(shapes, dtypes):
        if device.type == "meta":
            inputs.append(torch.empty(shape, dtype=dt, device=device))
        elif dt.is_floating_point or dt.is_complex:
            inputs.append(torch.randn(shape, dtype=dt, device=device, generator=generator))
        else:
            inputs.append(torch.zeros(shape, dtype=dt, device=device))
    fwd_kwargs = {}
    for key, value in (kwargs or {}).items():
        if isinstance(value, torch.Tensor):
            value = torch.empty_like(value, device="meta") if device.type == "meta" else value.to(device)
        fwd_kwargs[key] = value
    return inputs, fwd_kwargs


def _label(name: str) -> str:
    return "model" if not name else f"model.{name}"


def _shapes_text(shapes: Sequence[Sequence[int]]) -> str:
    return ", ".join(str(tuple(s)) for s in shapes) if shapes else "()"


def forward_error(
    error: BaseException, failing: Any, model: Any, shapes: Sequence[Sequence[int]], device: Any
) -> BaseException:
    """The exception to raise for a forward that failed: names the innermost failing module and its input."""
    if failing is not None:
        label, kind, in_shapes = _label(failing.name), type(failing.module).__name__, failing.in_shapes
    else:
        label, kind, in_shapes = "model", type(model).__name__, tuple(shapes)
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if len(message) > 400:
        message = message[:397] + "..."
    word = "input" if len(in_shapes) <= 1 else "inputs"
    expected = _expectation(failing.module, in_shapes) if failing is not None else None
    message = f"{expected} (torch: {message})" if expected else message
    text = f"{label} ({kind}) failed on {word} {_shapes_text(in_shapes)}: {message}"
    if label != "model" or tuple(in_shapes) != tuple(shapes):
        text += f" [model input_shape: {_shapes_text(shapes)}]"
    if device.type == "meta" and "meta" in message and "device" in message:
        text += (
            " (on meta every registered parameter and buffer is replaced, but a plain tensor attribute is not: "
            "register it with register_buffer, or profile with device='cpu' on a small input)"
        )
    if device.type == "meta" and "cannot be called on meta tensors" in message:
        text += (
            " (forward reads a tensor's value, e.g. `if x.sum() > 0` or `.item()`, which has none on meta: "
            "profile with device='cpu' on a small input)"
        )
    if isinstance(error, TypeError):
        return TypeError(text)
    if isinstance(error, NotImplementedError):
        hint = " (this operation has no meta implementation: try device='cpu' on a small input)"
        return NotImplementedError(text + (hint if device.type == "meta" else ""))
    return ValueError(text)


def _expectation(module: Any, in_shapes: Sequence[Sequence[int]]) -> str | None:
    """What a common layer expected of its input, from its own attributes, when the input breaks it."""
    from torch import nn

    if not in_shapes:
        return None
    shape = tuple(in_shapes[0])
    convs = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}
    dims = next((d for t, d in convs.items() if isinstance(module, t)), None)
    if dims is not None:
        layout = "(n, c, " + ", ".join("dhw"[3 - dims:]) + ")"
        if len(shape) not in (dims + 1, dims + 2):
            return (f"expected a {dims + 2}-D input {layout} or {dims + 1}-D without n, "
                    f"got {len(shape)}-D {shape}")
        channels = shape[-dims - 1]
        if channels != module.in_channels:
            return f"expected {module.in_channels} input channels (c of {layout}), got {channels}"
        return None
    if isinstance(module, nn.Linear) and shape[-1] != module.in_features:
        return f"expected in_features = {module.in_features} in the last dimension, got {shape[-1]}"
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and (
        len(shape) < 2 or shape[1] != module.num_features
    ):
        return f"expected {module.num_features} channels in dimension 1, got shape {shape}"
    if isinstance(module, nn.Embedding):
        return "expected integer token ids (pass input_dtype=torch.long) with values < num_embeddings"
    return None


# --------------------------------------------------------------------------- closed forms

_ACTIVATIONS = {
    "ReLU": "relu", "ReLU6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh", "GELU": "gelu", "SiLU": "silu",
    "LeakyReLU": "leaky_relu", "ELU": "elu", "Hardswish": "hardswish", "Hardsigmoid": "hardsigmoid",
    "Mish": "mish", "Softplus": "softplus", "Hardtanh": "hardtanh",
}


def closed_form(module: Any, in_shape: tuple[int, ...]) -> Any:
    """nncost's formula (:mod:`nncost.layers`) for ``module`` on ``in_shape``, or ``None`` for other types.

    Only exact types map (a subclass may override ``forward``): Linear, Conv1d, Conv2d, MaxPool2d,
    AvgPool2d, BatchNorm2d and the elementwise activations.
    """
    from torch import nn

    from nncost import layers

    kind = type(module)
    if kind is nn.Linear:
        return layers.linear(in_shape, module.out_features, bias=module.bias is not None)
    if kind in (nn.Conv1d, nn.Conv2d):
        fn = layers.conv1d if kind is nn.Conv1d else layers.conv2d
        return fn(
            in_shape, module.out_channels, module.kernel_size, module.stride, module.padding, module.dilation,
            module.groups, bias=module.bias is not None,
        )
    if kind is nn.MaxPool2d:
        return layers.pool2d(
            in_shape, module.kernel_size, module.stride, module.padding, module.dilation, kind="max",
            ceil_mode=module.ceil_mode,
        )
    if kind is nn.AvgPool2d:
        return layers.pool2d(in_shape, module.kernel_size, module.stride, module.padding, kind="avg",
                             ceil_mode=module.ceil_mode)
    if kind is nn.BatchNorm2d:
        return layers.batchnorm2d(in_shape, affine=module.affine, track_running_stats=module.track_running_stats)
    if kind.__module__.startswith("torch.nn") and kind.__name__ in _ACTIVATIONS:
        return layers.activation(in_shape, _ACTIVATIONS[kind.__name__])
    return None


# --------------------------------------------------------------------------- profile


def profile(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    *,
    dtype: torch.dtype | None = None,
    input_dtype: torch.dtype | Sequence[torch.dtype] | None = None,
    kwargs: dict[str, Any] | None = None,
    device: str | torch.device = "meta",
    no_grad: bool = True,
) -> ProfileReport:
    """Parameters, MACs, elementwise operations and activation memory of ``model(*inputs, **kwargs)``.

    ``input_shape`` is one shape ``(n, c, h, w)`` or a list of shapes (one per positional input). The pass
    runs in ``dtype`` (default float32: the floating inputs, and on meta the floating weights, as
    ``model.to(dtype)`` would); ``input_dtype`` overrides the inputs' dtype (``torch.long`` for token ids).
    ``device="meta"`` (default) counts without arithmetic or weight memory; a real device (``"cpu"``)
    runs the model on a copy of its weights and seeded random inputs. ``no_grad`` (default) profiles an
    inference pass.

    Conventions: MAC = one multiply-accumulate (conv, linear, matmul/bmm, attention; FLOPs = 2·MACs);
    attention QKᵀ and P·V cost b·h·L·S·(d_k + d_v) MACs, the full score matrix even when causal;
    elementwise operations are counted separately by kind. ``activations`` = Σ elements output by layers;
    ``total_activation_bytes`` = the same in bytes; ``peak_activation_bytes`` = max over the pass of the
    bytes of activations alive at once (see the module docstring for the memory model).

    The model is left exactly as it was: same parameter and buffer objects and values, hooks, train/eval
    modes and ``requires_grad`` flags, even if ``forward`` raises. A forward that fails raises
    ``ValueError`` (``TypeError`` for a call with wrong arguments) naming the innermost failing module,
    e.g. ``model.features.3 (Conv2d) failed on input (1, 3, 32, 32): ...``.
    """
    check_model(model)
    shapes = parse_shapes(input_shape)
    dtype, input_dtypes = parse_dtypes(dtype, input_dtype, len(shapes))
    device = parse_device(device)
    if not isinstance(no_grad, bool):
        raise TypeError(f"no_grad: must be a bool, got {type(no_grad).__name__} {no_grad!r}")
    return _profile(model, shapes, dtype, input_dtypes, kwargs, device, no_grad)


def _profile(
    model: Any, shapes: tuple, dtype: Any, input_dtypes: tuple, kwargs: Any, device: Any, no_grad: bool
) -> ProfileReport:
    import torch.nn.modules.module as module_hooks

    from nncost._dispatch import CountingMode, Tracker

    with prepared(model, shapes, dtype, input_dtypes, kwargs, device, no_grad) as prep:
        tracker = Tracker(prep.names, prep.owners, prep.weight_storages, closed_form)
        tracker.baseline_error = sys.exc_info()[1]
        tracker.add_inputs([*prep.inputs, *_tensor_values(prep.kwargs)])
        pre = module_hooks.register_module_forward_pre_hook(tracker.pre_hook)
        post = module_hooks.register_module_forward_hook(tracker.post_hook, always_call=True)
        try:
            with CountingMode(tracker):
                output = model(*prep.inputs, **prep.kwargs)
        except Exception as error:
            failing = next((f for f in tracker.failures if f.error is error), None)
            raise forward_error(error, failing, model, shapes, device) from error
        finally:
            pre.remove()
            post.remove()
        tracker.mark_outputs(output)
        own_params, own_trainable = prep.own_params, prep.own_trainable
        module_types = {name: type(m).__name__ for name, m in prep.modules.items()}

    if tracker.mismatches:
        raise AssertionError(
            "nncost.profile: the dispatch-level count disagrees with nncost's closed-form formula "
            "(a bug in nncost, please report it):\n  " + "\n  ".join(tracker.mismatches)
        )
    rows = _rows(tracker, module_types, own_params, own_trainable)
    alive = tracker.timeline()
    peak_step = max(range(len(alive)), key=alive.__getitem__)
    steps = tracker.steps
    return ProfileReport(
        model=type(model).__name__,
        input_shapes=shapes,
        input_dtypes=tuple(str(d).removeprefix("torch.") for d in input_dtypes),
        dtype=str(dtype).removeprefix("torch."),
        device=str(device),
        rows=rows,
        peak_activation_bytes=alive[peak_step],
        peak_step=peak_step,
        peak_op=steps[peak_step][0],
        peak_module=_label(steps[peak_step][1]),
        timeline=tuple((i, op, _label(mod), alive[i]) for i, (op, mod) in enumerate(steps)),
        op_counts=dict(tracker.op_counts),
        op_macs=dict(tracker.op_macs),
        uncounted_ops=dict(tracker.uncounted),
        closed_form_checks=tracker.closed_form_checks,
    )


def _tensor_values(kwargs: dict[str, Any]) -> list[Any]:
    import torch

    return [v for v in kwargs.values() if isinstance(v, torch.Tensor)]


def _parent(name: str) -> str:
    return name.rpartition(".")[0]


def _rows(tracker: Any, types: dict[str, str], own_params: dict, own_trainable: dict) -> tuple[LayerRow, ...]:
    from nncost._dispatch import Totals

    names = list(types)  # pre-order, root first
    children = {name: False for name in names}
    for name in names[1:]:
        children[_parent(name)] = True
    sub: dict[str, dict[str, Any]] = {}
    for name in reversed(names):  # children before parents
        tot = tracker.totals.get(name, Totals())
        acc = sub.setdefault(name, _zero())
        acc["params"] += own_params[name]
        acc["trainable"] += own_trainable[name]
        acc["macs"] += tot.macs
        acc["elementwise"].update(tot.elementwise)
        acc["activations"] += tot.activations
        acc["bytes"] += tot.activation_bytes
        if name:
            parent = sub.setdefault(_parent(name), _zero())
            for key in ("params", "trainable", "macs", "activations", "bytes"):
                parent[key] += acc[key]
            parent["elementwise"].update(acc["elementwise"])
    rows = []
    for name in names:
        tot, acc = tracker.totals.get(name, Totals()), sub[name]
        rows.append(
            LayerRow(
                name=name,
                type=types[name],
                depth=0 if not name else name.count(".") + 1,
                calls=tot.calls,
                in_shapes=tot.in_shapes,
                out_shape=tot.out_shape,
                params=own_params[name],
                trainable_params=own_trainable[name],
                macs=tot.macs,
                elementwise=_positive(tot.elementwise),
                activations=tot.activations,
                activation_bytes=tot.activation_bytes,
                has_children=children[name],
                total_params=acc["params"],
                total_trainable_params=acc["trainable"],
                total_macs=acc["macs"],
                total_elementwise=_positive(acc["elementwise"]),
                total_activations=acc["activations"],
                total_activation_bytes=acc["bytes"],
                call_macs=tot.call_macs,
                blind_macs=tot.blind_macs,
                closed_form=tot.closed_form,
                formula_macs=tot.formula_macs,
            )
        )
    return tuple(rows)


def _zero() -> dict[str, Any]:
    from collections import Counter

    return {"params": 0, "trainable": 0, "macs": 0, "elementwise": Counter(), "activations": 0, "bytes": 0}


def _positive(counter: Any) -> dict[str, int]:
    return {k: v for k, v in sorted(counter.items()) if v}

