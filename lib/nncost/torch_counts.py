"""What PyTorch itself says about a module: its parameter count and its MACs.

These are the references the book checks its formulas against. ``torch`` is imported only here,
so the layer formulas stay usable without it.
"""

from __future__ import annotations

from typing import Any


def torch_params(module: Any, *, trainable_only: bool = False) -> int:
    """``sum(p.numel() for p in module.parameters())``, optionally only those with ``requires_grad``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def torch_macs(module: Any, *inputs: Any) -> int:
    """MACs of ``module(*inputs)`` as counted by ``torch.utils.flop_counter.FlopCounterMode``.

    FlopCounterMode counts 2 FLOPs per multiply-accumulate of matmuls and convolutions and nothing
    for elementwise operations, so its total divided by 2 is the book's ``macs``.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*inputs)
    total = counter.get_total_flops()
    if total % 2:
        raise RuntimeError(f"FlopCounterMode reported an odd FLOP count ({total}); cannot halve it into MACs")
    return total // 2
