"""Pieces shared by the book's Transformers (:mod:`nncost.zoo.gpt`, :mod:`nncost.zoo.llama`, :mod:`nncost.zoo.vit`).

- :func:`attend`: softmax(QKᵀ/√d_head)·V on ``(n, heads, L, d_head)`` tensors, causal or not, either through
  ``F.scaled_dot_product_attention`` (``impl="sdpa"``, what current code uses; on the CPU it runs one fused
  kernel, ``aten._scaled_dot_product_flash_attention_for_cpu``, that ``FlopCounterMode`` counts as 0) or as
  explicit matrix products (``impl="math"``: ``q @ kᵀ``, mask, softmax, ``@ v``, two ``bmm`` that every counter
  sees). Both compute the same numbers and, for :func:`nncost.profile`, the same MACs: the full L×S score
  matrix even when causal (the masked half is computed, then thrown away).
- :class:`KVCache`: the keys and values a decoder keeps, layer by layer, to generate one token at a time.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

IMPLS = ("sdpa", "math")


def check_impl(impl: str) -> str:
    """``impl`` if it is ``"sdpa"`` or ``"math"``, else ``ValueError`` naming the argument."""
    if impl not in IMPLS:
        raise ValueError(f"attn_impl: must be 'sdpa' (F.scaled_dot_product_attention) or 'math' (explicit "
                         f"matrix products), got {impl!r}")
    return impl


def causal_mask(length: int, source: int, device: torch.device) -> Tensor:
    """Boolean ``(length, source)`` mask, True where query i (the last ``length`` of ``source`` positions) may
    look: keys ``0 … source − length + i``. Equal to the lower triangle when ``length == source``."""
    return torch.ones(length, source, dtype=torch.bool, device=device).tril(source - length)


def attend(q: Tensor, k: Tensor, v: Tensor, *, causal: bool, impl: str = "sdpa") -> Tensor:
    """softmax(q kᵀ / √d_head [+ causal mask]) v for q ``(n, h, L, d_head)``, k and v ``(n, h, S, d_head)``.

    With ``causal`` the queries are the *last* L of the S positions (a prefix of S − L tokens sits in a
    cache), so query i sees keys 0 … S − L + i: the plain lower triangle when S == L.
    MACs: n·h·L·S·d_head for q kᵀ and as many for the product with v (the full score matrix).
    """
    length, source = q.shape[-2], k.shape[-2]
    masked = causal and length > 1
    if impl == "sdpa":
        if masked and length == source:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        mask = causal_mask(length, source, q.device) if masked else None
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    if masked:
        scores = scores.masked_fill(~causal_mask(length, source, q.device), float("-inf"))
    return scores.softmax(dim=-1) @ v


class KVCache:
    """The keys and values of every token processed so far, one ``(k, v)`` pair per layer.

    Each tensor has shape ``(n, kv_heads, seq_len, d_head)``: a decoder appends the new tokens' keys and
    values at every step and attends over all of them, so it never recomputes the past. Its size is
    2 (K and V) · layers · n · kv_heads · seq_len · d_head numbers, which :meth:`numel` and :meth:`nbytes`
    return from the tensors themselves.
    """

    def __init__(self, n_layers: int) -> None:
        if not isinstance(n_layers, int) or n_layers < 1:
            raise ValueError(f"n_layers: must be a positive int, got {n_layers!r}")
        self.keys: list[Tensor | None] = [None] * n_layers
        self.values: list[Tensor | None] = [None] * n_layers

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append ``k`` and ``v`` (``(n, kv_heads, L, d_head)``) to layer ``layer``; return all keys and values."""
        if self.keys[layer] is not None:
            k = torch.cat([self.keys[layer], k], dim=2)
            v = torch.cat([self.values[layer], v], dim=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    @property
    def seq_len(self) -> int:
        """Tokens held (0 when empty)."""
        return 0 if self.keys[0] is None else self.keys[0].shape[2]

    def tensors(self) -> list[Tensor]:
        """Every K and V tensor held, layer by layer."""
        return [t for pair in zip(self.keys, self.values) for t in pair if t is not None]

    def numel(self) -> int:
        """Numbers held: Σ numel of every K and V tensor."""
        return sum(t.numel() for t in self.tensors())

    def nbytes(self) -> int:
        """Bytes held: Σ numel × element size (2 in float16)."""
        return sum(t.numel() * t.element_size() for t in self.tensors())

    def __repr__(self) -> str:
        return f"KVCache(layers={len(self.keys)}, seq_len={self.seq_len}, numel={self.numel():,})"
