"""Counting what really runs: a ``TorchDispatchMode`` that sees every aten operation, plus module hooks.

:class:`Tracker` is installed by :func:`nncost.profile` for one forward pass. It keeps

- a **module stack**, from global forward pre/post hooks (``register_module_forward_pre_hook`` and
  ``register_module_forward_hook(always_call=True)``; the modules' own hook dicts are never touched):
  every operation is attributed to the innermost module running, and also added to every module on the
  stack (the hierarchy ``FlopCounterMode`` uses);
- the **cost of every operation**, from its argument shapes (:func:`op_cost`): MACs of ``mm``, ``addmm``,
  ``bmm``, ``baddbmm``, ``mv``, ``dot``, ``convolution`` and of the fused attention kernels
  (``_scaled_dot_product_*_attention*``, ``_native_multi_head_attention``, ``_transformer_encoder_layer_fwd``),
  and elementwise operations by kind (bias adds, activations, norms, pooling, residual adds, softmax);
  ``einsum``, ``matmul``, ``@`` and ``F.linear`` decompose into these before they reach the mode;
- the **lifetime of every storage** (views share their base's): alive from the operation that creates
  it to the last operation that reads or writes it; model inputs are alive from step 0 and model outputs
  until the end. Parameters and buffers are weights, not activations, and are left out.

Attention convention: QKᵀ and P·V cost b·h·L·S·(d_k + d_v) MACs, the full score matrix even when
``is_causal`` (what the math path computes and what FlopCounterMode's formulas count).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

aten = torch.ops.aten

try:  # torch's own formulas, used only to know which operations FlopCounterMode cannot see
    from torch.utils.flop_counter import flop_registry as _FLOP_REGISTRY
except ImportError:  # pragma: no cover - very old torch
    _FLOP_REGISTRY = {}

# Operations that cost nothing countable: views, copies, creation, gathers, random fills.
FREE_OPS = frozenset(
    """
    clone _to_copy copy_ contiguous empty empty_like empty_strided empty_permuted zeros zeros_like ones ones_like
    full full_like fill_ fill zero_ arange lift_fresh lift_fresh_copy detach alias scalar_tensor _local_scalar_dense
    embedding index_select gather index cat stack split split_with_sizes unbind chunk constant_pad_nd repeat tril
    triu bernoulli bernoulli_ uniform_ normal_ randn rand randint randperm new_empty new_zeros new_ones new_full
    new_empty_strided _unsafe_view expand view reshape flatten unflatten slice_scatter select_scatter index_put_
    index_put flip roll as_strided _reshape_alias t transpose permute squeeze squeeze_ unsqueeze unsqueeze_ select
    slice narrow diagonal unsafe_split unsafe_chunk _unsafe_index reflection_pad1d reflection_pad2d
    replication_pad1d replication_pad2d replication_pad3d sym_size sym_stride sym_numel is_same_size
    _has_compatible_shallow_copy_type resize_ set_ masked_select nonzero _efficientzerotensor item
    _nested_tensor_from_mask _nested_tensor_from_mask_left_aligned to_padded_tensor _nested_from_padded
    """.split()
)
# Operations whose output is a layer output when they run in a module's own code (beyond counted ones).
LAYER_LIKE = frozenset("cat stack embedding constant_pad_nd index_select gather".split())
# Pointwise-tagged operations that only move data.
_COPIES = frozenset("clone _to_copy copy_ lift_fresh_copy alias".split())
BLIND_NOTE = "FlopCounterMode has no formula for this operation and counts 0 for it"


@dataclass
class Part:
    """Cost of (a part of) one operation; ``anchor`` is a weight whose owner module it belongs to."""

    macs: int = 0
    elementwise: dict[str, int] = field(default_factory=dict)
    anchor: Any = None


def bind(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The operation's arguments by schema name (defaults filled in)."""
    bound: dict[str, Any] = {}
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args) and not arg.kwarg_only:
            bound[arg.name] = args[i]
        elif arg.name in kwargs:
            bound[arg.name] = kwargs[arg.name]
        elif arg.has_default_value():
            bound[arg.name] = arg.default_value
    return bound


def _numel(value: Any) -> int:
    return value.numel() if isinstance(value, torch.Tensor) else 0


def _out_numel(out: Any) -> int:
    if isinstance(out, torch.Tensor):
        return out.numel()
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0].numel()
    return 0


def _mm(a: torch.Tensor, b: torch.Tensor) -> int:
    """(m, k) @ (k, n): m·k·n MACs."""
    return a.shape[0] * a.shape[1] * b.shape[-1]


def _bmm(a: torch.Tensor, b: torch.Tensor) -> int:
    """(B, m, k) @ (B, k, n): B·m·k·n MACs."""
    return a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[int, int, int]:
    """(MACs, scores, B·H) of softmax(Q Kᵀ)·V with q (…, L, E), k (…, S, E), v (…, S, Ev): B·H·L·S·(E + Ev)."""
    bh = prod(q.shape[:-2])
    length, source = q.shape[-2], k.shape[-2]
    return bh * length * source * (q.shape[-1] + v.shape[-1]), bh * length * source, bh


def _sdpa_elementwise(q: torch.Tensor, k: torch.Tensor, scores: int, bh: int, masked: bool, causal: bool) -> dict:
    """Elementwise work of the math path: q and k scaled, softmax over the scores, mask added."""
    ew = {"mul": bh * (q.shape[-2] + k.shape[-2]) * q.shape[-1], "softmax": scores}
    if masked or causal:
        ew["add"] = scores
    if causal:
        ew["where"] = q.shape[-2] * k.shape[-2]
    return ew


def _sdpa(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    b = bind(func, args, kwargs)
    q, k, v = b["query"], b["key"], b["value"]
    macs, scores, bh = _attention(q, k, v)
    mask = b.get("attn_mask", b.get("attn_bias"))
    return [Part(macs, _sdpa_elementwise(q, k, scores, bh, isinstance(mask, torch.Tensor), bool(b.get("is_causal"))))]


def _lengths(x: torch.Tensor) -> list[int]:
    """Sequence length of every sequence of a (…, L, E) tensor; a nested (padding-free) tensor's own lengths."""
    if x.is_nested:
        return [int(n) for n in x._nested_tensor_size()[:, 0].tolist()]
    return [x.shape[-2]] * prod(x.shape[:-2])


def _attention_block(q: torch.Tensor, k: torch.Tensor, e: int, heads: int, masked: bool) -> tuple[int, dict]:
    """In-projection, softmax(QKᵀ)·V and out-projection of ``heads`` heads of width e/heads.

    With T_q = Σ L_i query tokens, T_kv = Σ S_i key tokens and P = Σ L_i·S_i query-key pairs:
    (T_q + 2·T_kv)·e² + 2·P·e + T_q·e² MACs (dense: T_q = B·L, T_kv = B·S, P = B·L·S).
    """
    lq, lk = _lengths(q), _lengths(k)
    tq, tkv, pairs = sum(lq), sum(lk), sum(a * b for a, b in zip(lq, lk))
    macs = (tq + 2 * tkv) * e * e + 2 * pairs * e + tq * e * e
    ew = {"bias_add": (tq + 2 * tkv) * e + tq * e, "mul": (tq + tkv) * e, "softmax": heads * pairs}
    if masked:
        ew["add"] = heads * pairs
    return macs, ew


def _native_mha(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    """Fused ``nn.MultiheadAttention`` (batch_first, eval, no grad): in-projection, attention, out-projection.

    q (B, L, E), k and v (B, S, E): B·(L + 2S)·E² + B·h·L·S·(2E/h) + B·L·E² MACs (see :func:`_attention_block`).
    """
    b = bind(func, args, kwargs)
    macs, ew = _attention_block(b["query"], b["key"], b["embed_dim"], b["num_head"],
                                isinstance(b.get("mask"), torch.Tensor))
    return [Part(macs, ew, anchor=b["qkv_weight"])]


def _encoder_layer(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    """Fused ``nn.TransformerEncoderLayer``: self-attention block, two norms, two FFN linears, two residual adds.

    src (B, L, E), FFN width F: 4·B·L·E² + 2·B·L²·E (attention) + 2·B·L·E·F (FFN) MACs. A nested
    (padding-free) src, made by ``nn.TransformerEncoder`` from a padding mask, counts its real tokens:
    T = Σ L_i and Σ L_i² in place of B·L and B·L² (the kernel's internal padding is not counted).
    """
    b = bind(func, args, kwargs)
    src, e = b["src"], b["embed_dim"]
    width = b["ffn_weight_1"].shape[0]
    tokens = sum(_lengths(src))
    n = tokens * e
    macs, ew = _attention_block(src, src, e, b["num_heads"], b.get("mask") is not None)
    attention = Part(macs, ew, anchor=b["qkv_weight"])

    def norm(weight: Any, bias: Any) -> Part:
        return Part(0, {"normalize": n} | ({"scale": n} if weight is not None else {})
                    | ({"shift": n} if bias is not None else {}), anchor=weight)

    return [
        attention,
        norm(b["norm_weight_1"], b["norm_bias_1"]),
        Part(tokens * e * width, {"bias_add": tokens * width}, anchor=b["ffn_weight_1"]),
        Part(0, {"gelu" if b["use_gelu"] else "relu": tokens * width, "add": 2 * n}),
        Part(tokens * width * e, {"bias_add": n}, anchor=b["ffn_weight_2"]),
        norm(b["norm_weight_2"], b["norm_bias_2"]),
    ]


def _convolution(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    """Convolution: numel(out)·(c_in/g)·Πk MACs (transposed: numel(in)·(c_out/g)·Πk); a bias add per output."""
    b = bind(func, args, kwargs)
    x, w = b["input"], b["weight"]
    per = prod(w.shape[1:])
    macs = (x.numel() if b.get("transposed") else _out_numel(out)) * per
    return [Part(macs, {"bias_add": _out_numel(out)} if b.get("bias") is not None else {})]


def _add_label(tensor: Any, is_param: Callable[[Any], bool]) -> str:
    return "bias_add" if is_param(tensor) else "add"


def _addmm(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    ew = {_add_label(args[0], is_param): _out_numel(out)}
    if func.overloadpacket is aten._addmm_activation:
        ew["gelu" if bind(func, args, kwargs).get("use_gelu") else "relu"] = _out_numel(out)
    return [Part(_mm(args[1], args[2]), ew)]


def _kernel(size: Any, dims: int) -> int:
    size = list(size)
    return size[0] ** dims if len(size) == 1 else prod(size)


def _max_pool(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    dims = int(str(func.overloadpacket).split("max_pool")[1][0])
    return [Part(0, {"comparisons": _out_numel(out) * (_kernel(args[1], dims) - 1)})]


def _avg_pool(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    dims = int(str(func.overloadpacket).split("avg_pool")[1][0])
    n = _out_numel(out)
    return [Part(0, {"adds": n * (_kernel(args[1], dims) - 1), "divisions": n})]


def _mean(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    n = _out_numel(out)
    return [Part(0, {"adds": _numel(args[0]) - n, "divisions": n})]


def _sum(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    return [Part(0, {"adds": _numel(args[0]) - _out_numel(out)})]


def _reduce_max(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    return [Part(0, {"comparisons": _numel(args[0]) - _out_numel(out)})]


def _norm(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    """Layer/group/RMS norm: one normalisation per element, plus a scale and a shift when affine."""
    b = bind(func, args, kwargs)
    n = _numel(b["input"])
    ew = {"normalize": n}
    if b.get("weight") is not None:
        ew["scale"] = n
    if b.get("bias") is not None:
        ew["shift"] = n
    return [Part(0, ew)]


def _batch_norm(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
    """Batch norm folded as at inference (as :func:`nncost.batchnorm2d`): one scale and one shift per element."""
    n = _numel(args[0])
    return [Part(0, {"scale": n, "shift": n})]


def _per_output(label: str) -> Callable[..., list[Part]]:
    def cost(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
        return [Part(0, {label: _out_numel(out)})]

    return cost


def _fixed(formula: Callable[..., int], bias_arg: int | None = None) -> Callable[..., list[Part]]:
    def cost(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part]:
        ew = {_add_label(args[bias_arg], is_param): _out_numel(out)} if bias_arg is not None else {}
        return [Part(formula(*args), ew)]

    return cost


def _packet(name: str) -> Any:
    return getattr(aten, name, None)


_COSTS: dict[Any, Callable[..., list[Part]]] = {}


def _register(names: str, cost: Callable[..., list[Part]]) -> None:
    for name in names.split():
        packet = _packet(name)
        if packet is not None:
            _COSTS[packet] = cost


_register("mm", _fixed(lambda a, b: _mm(a, b)))
_register("addmm _addmm_activation", _addmm)
_register("bmm", _fixed(lambda a, b: _bmm(a, b)))
_register("baddbmm", _fixed(lambda c, a, b, *rest: _bmm(a, b), bias_arg=0))
_register("addbmm", _fixed(lambda c, a, b, *rest: _bmm(a, b), bias_arg=0))
_register("mv", _fixed(lambda a, v: a.shape[0] * a.shape[1]))
_register("addmv", _fixed(lambda c, a, v, *rest: a.shape[0] * a.shape[1], bias_arg=0))
_register("dot vdot", _fixed(lambda a, b: a.numel()))
_register("convolution _convolution convolution_overrideable", _convolution)
_register(
    "_scaled_dot_product_flash_attention_for_cpu _scaled_dot_product_flash_attention "
    "_scaled_dot_product_efficient_attention _scaled_dot_product_cudnn_attention "
    "_scaled_dot_product_fused_attention_overrideable",
    _sdpa,
)
_register("_native_multi_head_attention", _native_mha)
_register("_transformer_encoder_layer_fwd", _encoder_layer)
_register("max_pool1d max_pool2d max_pool3d max_pool2d_with_indices max_pool3d_with_indices", _max_pool)
_register("avg_pool1d avg_pool2d avg_pool3d", _avg_pool)
_register("mean _adaptive_avg_pool2d _adaptive_avg_pool3d adaptive_avg_pool1d", _mean)
_register("sum", _sum)
_register("amax amin adaptive_max_pool2d adaptive_max_pool1d", _reduce_max)
_register("native_layer_norm native_group_norm _fused_rms_norm", _norm)
_register(
    "native_batch_norm _native_batch_norm_legit _native_batch_norm_legit_no_training "
    "_native_batch_norm_legit_functional cudnn_batch_norm miopen_batch_norm",
    _batch_norm,
)
_register("_softmax _safe_softmax", _per_output("softmax"))
_register("_log_softmax", _per_output("log_softmax"))
_register("native_dropout", _per_output("dropout"))
_register("upsample_nearest1d upsample_nearest2d upsample_bilinear2d upsample_bicubic2d", _per_output("interpolate"))

MAC_OPS = frozenset(
    _packet(n)
    for n in (
        "mm addmm _addmm_activation bmm baddbmm addbmm mv addmv dot vdot convolution _convolution "
        "convolution_overrideable _scaled_dot_product_flash_attention_for_cpu _scaled_dot_product_flash_attention "
        "_scaled_dot_product_efficient_attention _scaled_dot_product_cudnn_attention "
        "_scaled_dot_product_fused_attention_overrideable _native_multi_head_attention _transformer_encoder_layer_fwd"
    ).split()
    if _packet(n) is not None
)


def op_cost(func: Any, args: tuple, kwargs: dict, out: Any, is_param: Callable[[Any], bool]) -> list[Part] | None:
    """Cost parts of one aten call, or ``None`` when nncost has no formula (and it is not a free op)."""
    packet = func.overloadpacket
    cost = _COSTS.get(packet)
    if cost is not None:
        return cost(func, args, kwargs, out, is_param)
    name = packet.__name__
    if func.is_view or name in FREE_OPS:
        return []
    if torch.Tag.pointwise in func.tags and name not in _COPIES:
        base = name.rstrip("_")
        label = {"sub": "add", "rsub": "add"}.get(base, base)
        if label in ("add", "mul") and any(is_param(a) for a in args[:2]):
            label = "bias_add" if label == "add" else "scale"
        return [Part(0, {label: _out_numel(out)})]
    return None


# --------------------------------------------------------------------------- the tracker


@dataclass
class Frame:
    """One call of a module in progress."""

    name: str
    module: Any
    in_shapes: tuple[tuple[int, ...], ...]
    macs: int = 0
    elementwise: Counter = field(default_factory=Counter)
    own_elements: int = 0
    own_bytes: int = 0
    child_ran: bool = False


@dataclass
class Totals:
    """What one module accumulated over all its calls."""

    calls: int = 0
    in_shapes: tuple[tuple[int, ...], ...] | None = None
    out_shape: tuple[int, ...] | None = None
    macs: int = 0
    elementwise: Counter = field(default_factory=Counter)
    activations: int = 0
    activation_bytes: int = 0
    call_macs: int = 0
    blind_macs: int = 0
    closed_form: Any = None
    formula_macs: int | None = None


@dataclass
class Failure:
    name: str
    module: Any
    in_shapes: tuple[tuple[int, ...], ...]
    error: BaseException


def _shapes(value: Any) -> tuple[tuple[int, ...], ...]:
    """Shapes of the dense tensors in ``value`` (a nested tensor has no single shape and is skipped)."""
    leaves, _ = tree_flatten(value)
    return tuple(tuple(t.shape) for t in leaves if isinstance(t, torch.Tensor) and not t.is_nested)


def _tensors(value: Any) -> list[torch.Tensor]:
    leaves, _ = tree_flatten(value)
    return [t for t in leaves if isinstance(t, torch.Tensor)]


def _storage(t: torch.Tensor) -> Any:
    try:
        return t.untyped_storage()
    except (RuntimeError, NotImplementedError, TypeError):  # nested, sparse, some subclasses
        return None


class Tracker:
    """State of one counting pass: module stack, per-module totals, storage lifetimes.

    ``names`` maps ``id(module)`` to its qualified name; ``owners`` maps ``id(parameter)`` to the name of
    the first module holding it; ``weight_storages`` holds the storage keys of every parameter and buffer.
    ``closed_form(module, in_shape)`` returns nncost's :class:`~nncost.layers.LayerCost` or ``None``.
    """

    def __init__(
        self,
        names: dict[int, str],
        owners: dict[int, str],
        weight_storages: set[int],
        closed_form: Callable[[Any, tuple[int, ...]], Any],
    ) -> None:
        self.names = names
        self.owners = owners
        self.weight_storages = weight_storages
        self.closed_form = closed_form
        self.stack: list[Frame] = []
        self.totals: dict[str, Totals] = {}
        self.step = 0
        self.steps: list[tuple[str, str]] = [("inputs", "")]  # (op, module) per step
        self.storages: dict[int, list[Any]] = {}  # key -> [birth, last, nbytes, storage (kept alive)]
        self.op_counts: Counter = Counter()
        self.op_macs: Counter = Counter()
        self.baseline_error: BaseException | None = None  # an exception being handled when the pass began
        self.uncounted: Counter = Counter()
        self.failures: list[Failure] = []
        self.mismatches: list[str] = []
        self.closed_form_checks = 0

    # ------------------------------------------------------------ helpers
    def total(self, name: str) -> Totals:
        if name not in self.totals:
            self.totals[name] = Totals()
        return self.totals[name]

    def is_param(self, value: Any) -> bool:
        if not isinstance(value, torch.Tensor):
            return False
        storage = _storage(value)
        return storage is not None and storage._cdata in self.weight_storages

    def add_inputs(self, tensors: list[torch.Tensor]) -> None:
        """Model inputs are alive from step 0."""
        for t in tensors:
            self._born(t, 0)

    def mark_outputs(self, output: Any) -> None:
        """Model outputs stay alive until the end of the pass."""
        for t in _tensors(output):
            storage = _storage(t)
            if storage is not None and storage._cdata in self.storages:
                self.storages[storage._cdata][1] = max(self.storages[storage._cdata][1], self.step)

    def _born(self, t: torch.Tensor, step: int) -> None:
        storage = _storage(t)
        if storage is None:
            return
        key = storage._cdata
        if key in self.weight_storages:
            return
        if key in self.storages:
            self.storages[key][1] = step
        else:
            self.storages[key] = [step, step, storage.nbytes(), storage]

    # ------------------------------------------------------------ hooks
    def pre_hook(self, module: Any, args: Any) -> None:
        name = self.names.get(id(module))
        if name is None:  # not a registered submodule: its work belongs to the caller
            return
        if self.stack:
            self.stack[-1].child_ran = True
        self.stack.append(Frame(name, module, _shapes(args)))

    def post_hook(self, module: Any, args: Any, output: Any) -> None:
        name = self.names.get(id(module))
        if name is None:
            return
        error = sys.exc_info()[1]
        failing = output is None and error is not None and error is not self.baseline_error
        while self.stack and self.stack[-1].module is not module:
            self.stack.pop()  # frames left by an exception caught inside a forward
        if not self.stack:
            return
        frame = self.stack.pop()
        if failing:  # forward is raising (always_call hook): remember the innermost module that failed
            if not any(f.error is error for f in self.failures):
                self.failures.append(Failure(name, module, frame.in_shapes, error))
            return
        tot = self.total(name)
        tot.calls += 1
        tensors = _tensors(output)
        if tot.calls == 1:
            tot.in_shapes = frame.in_shapes
            tot.out_shape = tuple(tensors[0].shape) if tensors and not tensors[0].is_nested else None
        if frame.child_ran:  # a container: its own code's outputs are its layers
            tot.activations += frame.own_elements
            tot.activation_bytes += frame.own_bytes
        else:  # a layer: its output
            tot.activations += sum(t.numel() for t in tensors)
            tot.activation_bytes += sum(t.numel() * t.element_size() for t in tensors)
        if frame.in_shapes and not frame.child_ran:
            self._check_closed_form(name, module, frame, tensors, tot)

    def _check_closed_form(self, name: str, module: Any, frame: Frame, outs: list, tot: Totals) -> None:
        try:
            cost = self.closed_form(module, frame.in_shapes[0])
        except (ValueError, TypeError) as error:
            cost = None
            self.mismatches.append(
                f"model.{name} ({type(module).__name__}): torch ran it on input {frame.in_shapes[0]} "
                f"but nncost's formula refused it: {error}"
            )
        if cost is None:
            return
        self.closed_form_checks += 1
        out_shape = tuple(outs[0].shape) if outs and not outs[0].is_nested else None
        own_params = sum(p.numel() for p in module._parameters.values() if p is not None)
        if cost.macs != frame.macs or cost.out_shape != out_shape or cost.params != own_params:
            self.mismatches.append(
                f"model.{name} ({type(module).__name__}) on input {frame.in_shapes[0]}: formula "
                f"macs={cost.macs:,} out_shape={cost.out_shape} params={cost.params:,}; dispatch "
                f"macs={frame.macs:,} out_shape={out_shape} params={own_params:,}"
            )
        # the formula's elementwise kinds replace the dispatch tally of this call
        tot.elementwise.subtract(frame.elementwise)
        tot.elementwise.update(cost.elementwise)
        tot.closed_form = tot.closed_form or cost
        tot.formula_macs = (tot.formula_macs or 0) + cost.macs

    # ------------------------------------------------------------ operations
    def on_op(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        self.step += 1
        step = self.step
        frame = self.stack[-1] if self.stack else None
        here = frame.name if frame is not None else ""
        self.steps.append((str(func.overloadpacket), here))
        self.op_counts[str(func.overloadpacket)] += 1

        for t in _tensors((args, kwargs)):  # reads (and in-place writes) extend lifetimes
            storage = _storage(t)
            if storage is not None and storage._cdata in self.storages:
                self.storages[storage._cdata][1] = step
        outs = _tensors(out)
        if _batch_norm_inference(func, args, kwargs):
            # the saved mean and inverse std that a batch-norm kernel may also return are not kept at
            # inference: the CPU kernel returns them empty, the meta kernel full-sized
            outs = outs[:1]
        for t in outs:
            self._born(t, step)

        parts = op_cost(func, args, kwargs, out, self.is_param)
        if parts is None:
            self.uncounted[str(func.overloadpacket)] += 1
            return
        blind = func.overloadpacket not in _FLOP_REGISTRY
        op_macs = 0
        for part in parts:
            owner = self.owners.get(id(part.anchor)) if part.anchor is not None else None
            target = owner if owner is not None else here
            tot = self.total(target)
            tot.macs += part.macs
            tot.elementwise.update(part.elementwise)
            op_macs += part.macs
            if frame is not None and target == here:
                frame.macs += part.macs
                frame.elementwise.update(part.elementwise)
        if op_macs:
            self.op_macs[str(func.overloadpacket)] += op_macs
            for name in {f.name for f in self.stack}:
                tot = self.total(name)
                tot.call_macs += op_macs
                if blind and func.overloadpacket in MAC_OPS:
                    tot.blind_macs += op_macs
        if frame is not None and (parts or func.overloadpacket.__name__ in LAYER_LIKE):
            frame.own_elements += sum(t.numel() for t in outs)
            frame.own_bytes += sum(t.numel() * t.element_size() for t in outs)

    # ------------------------------------------------------------ memory
    def timeline(self) -> list[int]:
        """Bytes alive at each step 0..T: a storage counts from its birth to its last use, both included."""
        delta = [0] * (self.step + 2)
        for birth, last, nbytes, _ in self.storages.values():
            delta[birth] += nbytes
            delta[last + 1] -= nbytes
        alive, running = [], 0
        for d in delta[:-1]:
            running += d
            alive.append(running)
        return alive


def _batch_norm_inference(func: Any, args: tuple, kwargs: dict) -> bool:
    """Whether ``func`` is a batch-norm kernel running with running statistics (not training)."""
    name = func.overloadpacket.__name__
    if name == "_native_batch_norm_legit_no_training":
        return True
    if name in ("native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_functional"):
        training = kwargs.get("training", args[5] if len(args) > 5 else True)
        return training is False
    return False


class CountingMode(TorchDispatchMode):
    """Hands every aten call to a :class:`Tracker` after running it."""

    def __init__(self, tracker: Tracker) -> None:
        super().__init__()
        self.tracker = tracker

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.tracker.on_op(func, args, kwargs, out)
        return out
