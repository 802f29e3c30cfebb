"""The Vision Transformer (ViT), a Transformer encoder on image patches, written from the paper.

A. Dosovitskiy, L. Beyer, A. Kolesnikov, D. Weissenborn, X. Zhai, T. Unterthiner, M. Dehghani, M. Minderer,
G. Heigold, S. Gelly, J. Uszkoreit and N. Houlsby, "An Image is Worth 16x16 Words: Transformers for Image
Recognition at Scale", ICLR 2021. Section 3.1 and equations (1)–(4):

- the image (3 × H × W) is cut into P × P patches, each flattened and projected to d by one linear map,
  which is a P × P convolution with stride P (``patch_embed``): (H/P)·(W/P) tokens;
- a learned class token ``cls_token`` is put in front, and a learned position embedding ``pos_embed``
  (one d-vector per token, 1 + HW/P² of them) is added;
- ``n_layers`` pre-LN encoder blocks ``blocks.0 …``: ``x + attn(norm1(x))``, ``x + mlp(norm2(x))``, with
  bidirectional (not causal) multi-head self-attention (fused Q/K/V ``qkv`` d → 3d and ``proj`` d → d, with
  biases) and an MLP ``fc1`` (d → d_ff), GELU, ``fc2`` (d_ff → d);
- a final layer norm ``norm`` and the classification ``head`` (d → classes) on the class token only.

The paper pre-trains with an MLP head of one hidden layer and fine-tunes with a single linear layer; this
module builds the single linear layer (the released ImageNet models'). Dropout is left out (no
parameters, no MACs). Module names follow the common ``timm`` layout.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nncost.zoo._attention import attend, check_impl

__all__ = ["VisionTransformer", "vit", "vit_b16", "vit_l16", "vit_tiny"]


class Attention(nn.Module):
    """Bidirectional multi-head self-attention: ``proj(attend(split(qkv(x))))``."""

    def __init__(self, d_model: int, n_heads: int, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.n_heads = n_heads
        self.attn_impl = check_impl(attn_impl)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: Tensor) -> Tensor:
        n, length, d = x.shape
        q, k, v = self.qkv(x).view(n, length, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        y = attend(q, k, v, causal=False, impl=self.attn_impl)
        return self.proj(y.transpose(1, 2).reshape(n, length, d))


class Mlp(nn.Module):
    """``fc2(gelu(fc1(x)))``: d → d_ff → d."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """One pre-LN encoder block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, attn_impl: str = "sdpa") -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model, eps=1e-6)
        self.attn = Attention(d_model, n_heads, attn_impl)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-6)
        self.mlp = Mlp(d_model, d_ff)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """Patch embedding, class token, positions, encoder blocks, final norm, head. See :func:`vit`."""

    def __init__(self, image_size: int = 224, patch_size: int = 16, in_channels: int = 3, num_classes: int = 1000,
                 d_model: int = 768, n_layers: int = 12, n_heads: int = 12, d_ff: int = 3072,
                 attn_impl: str = "sdpa") -> None:
        super().__init__()
        for name, value in (("image_size", image_size), ("patch_size", patch_size), ("in_channels", in_channels),
                            ("num_classes", num_classes), ("d_model", d_model), ("n_layers", n_layers),
                            ("n_heads", n_heads), ("d_ff", d_ff)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a positive int, got {value!r}")
        if image_size % patch_size:
            raise ValueError(f"image_size: must be a multiple of patch_size ({patch_size}), got {image_size}")
        if d_model % n_heads:
            raise ValueError(f"d_model: must be divisible by n_heads ({n_heads}), got {d_model}")
        self.image_size, self.patch_size = image_size, patch_size
        self.num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, d_model, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(torch.randn(1, self.num_patches + 1, d_model) * 0.02)
        self.blocks = nn.Sequential(*(Block(d_model, n_heads, d_ff, attn_impl) for _ in range(n_layers)))
        self.norm = nn.LayerNorm(d_model, eps=1e-6)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"x: expected images of {self.image_size}×{self.image_size} (the position table "
                             f"has {self.num_patches + 1} entries), got {tuple(x.shape[-2:])}")
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)  # (n, patches, d)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        z = torch.cat([cls, tokens], dim=1) + self.pos_embed
        z = self.norm(self.blocks(z))
        return self.head(z[:, 0])


def vit(image_size: int = 224, patch_size: int = 16, *, num_classes: int = 1000, d_model: int = 768,
        n_layers: int = 12, n_heads: int = 12, d_ff: int = 3072, in_channels: int = 3,
        attn_impl: str = "sdpa") -> VisionTransformer:
    """A Vision Transformer (Dosovitskiy et al., 2021, "An Image is Worth 16x16 Words").

    Input ``(n, in_channels, image_size, image_size)``; T = (image_size / patch_size)² + 1 tokens.
    Parameters: (c·P² + 1)·d (patch embedding) + d (class token) + T·d (positions)
    + layers·(4·d² + 2·d·d_ff + 9·d + d_ff) + 2·d (final norm) + (d + 1)·classes (head).
    ``attn_impl`` as in :func:`nncost.zoo.gpt2`.
    """
    return VisionTransformer(image_size, patch_size, in_channels, num_classes, d_model, n_layers, n_heads, d_ff,
                             attn_impl)


def vit_b16(num_classes: int = 1000, *, image_size: int = 224, attn_impl: str = "sdpa") -> VisionTransformer:
    """ViT-B/16 (Dosovitskiy et al., 2021, Table 1 "ViT-Base", patch 16): d = 768, 12 layers, 12 heads, MLP
    3072, on 3×224×224 (197 tokens). 86,567,656 parameters with 1000 classes (the paper says 86M)."""
    return vit(image_size, 16, num_classes=num_classes, attn_impl=attn_impl)


def vit_l16(num_classes: int = 1000, *, image_size: int = 224, attn_impl: str = "sdpa") -> VisionTransformer:
    """ViT-L/16 (Dosovitskiy et al., 2021, Table 1 "ViT-Large", patch 16): d = 1024, 24 layers, 16 heads, MLP
    4096, on 3×224×224. 304,326,632 parameters with 1000 classes (the paper says 307M)."""
    return vit(image_size, 16, num_classes=num_classes, d_model=1024, n_layers=24, n_heads=16, d_ff=4096,
               attn_impl=attn_impl)


def vit_tiny(num_classes: int = 10, *, attn_impl: str = "sdpa") -> VisionTransformer:
    """A tiny ViT for running on a CPU: 3×32×32 images, 8×8 patches (17 tokens), d = 64, 2 layers, 4 heads,
    MLP 128, 10 classes. 81,226 parameters."""
    return vit(32, 8, num_classes=num_classes, d_model=64, n_layers=2, n_heads=4, d_ff=128, attn_impl=attn_impl)
