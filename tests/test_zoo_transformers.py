"""nncost.zoo Transformers: GPT-2 (``gpt.py``), the Llama-style decoder (``llama.py``) and ViT (``vit.py``).

- Exact parameter counts, derived in the comments from the papers' sizes and equal to ``numel`` of the
  models (the large ones built on the meta device: Llama 2 7B would take 27 GB in float32).
- Output shapes; the tied head of GPT-2 is one tensor; the K/V cache gives the same logits as a full pass,
  and holds 2·layers·n·kv_heads·seq_len·d_head numbers.
- MACs: ``nncost.profile`` equals FlopCounterMode / 2 on a real forward of the tiny models in training mode
  with explicit attention matrix products (``attn_impl="math"``), and equals the hand count; with
  ``F.scaled_dot_product_attention`` on the CPU, FlopCounterMode misses exactly the attention products
  (a known blind spot that ``nncost.verify`` reports), and on meta it sees them again.
- ``nncost.verify`` passes on every tiny model, both implementations, and on GPT-2 small on meta.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import nncost  # noqa: E402
from nncost.zoo._attention import KVCache, attend  # noqa: E402
from nncost.zoo.gpt import (  # noqa: E402
    GPT2_TINY,
    GPT2Config,
    gpt2_large,
    gpt2_medium,
    gpt2_small,
    gpt2_tiny,
    gpt2_xl,
)
from nncost.zoo.llama import (  # noqa: E402
    LLAMA_TINY,
    LlamaConfig,
    llama,
    llama2_7b,
    llama3_8b,
    llama_tiny,
    mistral_7b,
)
from nncost.zoo.vit import vit, vit_b16, vit_l16, vit_tiny  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(autouse=True)
def one_thread():
    """Many small operations: one thread is fastest on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def numel(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- derivations


def gpt2_params(vocab: int, ctx: int, d: int, layers: int) -> int:
    """GPT-2: tokens V·d + positions n_ctx·d + per block 12·d² + 13·d + final LN 2·d; the head is tied.

    Per block: ln_1 2d; c_attn d·3d + 3d; attn c_proj d² + d; ln_2 2d; c_fc d·4d + 4d; mlp c_proj 4d·d + d
    = 12·d² + 13·d.
    """
    return vocab * d + ctx * d + layers * (12 * d * d + 13 * d) + 2 * d


def llama_params(vocab: int, d: int, layers: int, heads: int, kv_heads: int, d_ff: int) -> int:
    """Llama: embedding V·d + untied output d·V + per layer (wq, wo: d² each; wk, wv: d·d_kv each with
    d_kv = kv_heads·d/heads; w1, w2, w3: d·d_ff each; two RMSNorm gains: d each) + final RMSNorm d."""
    d_kv = kv_heads * (d // heads)
    return 2 * vocab * d + layers * (2 * d * d + 2 * d * d_kv + 3 * d * d_ff + 2 * d) + d


def vit_params(image: int, patch: int, d: int, layers: int, d_ff: int, classes: int, c: int = 3) -> int:
    """ViT: patch conv (c·P²·d + d) + class token d + positions (1 + (image/P)²)·d + per block
    (2 LN 4d; qkv 3d² + 3d; proj d² + d; fc1 d·d_ff + d_ff; fc2 d_ff·d + d) + final LN 2d + head (d + 1)·classes."""
    tokens = 1 + (image // patch) ** 2
    block = 4 * d * d + 2 * d * d_ff + 9 * d + d_ff
    return (c * patch * patch + 1) * d + d + tokens * d + layers * block + 2 * d + (d + 1) * classes


# GPT-2 small: 50,257·768 = 38,597,376 (tokens) + 1024·768 = 786,432 (positions) + 12 · 7,087,872 (blocks:
# 12·768² + 13·768) = 85,054,464 + 1,536 (ln_f) = 124,439,808. Untied, the head would add 38,597,376.
# Llama 2 7B: 2·32,000·4,096 = 262,144,000 + 32 · (2·4096² + 2·4096² + 3·4096·11,008 + 2·4096 = 202,383,360)
# = 6,476,267,520 + 4,096 = 6,738,415,616. Mistral 7B: d_kv = 8·128 = 1024, d_ff 14,336: per layer
# 2·4096² + 2·4096·1024 + 3·4096·14,336 + 8192 = 218,112,000; total 262,144,000 + 6,979,584,000 + 4,096
# = 7,241,732,096. Llama 3 8B: the same layers, vocabulary 128,256: 1,050,673,152 + 6,979,584,000 + 4,096.
# ViT-B/16: 590,592 (patches) + 768 + 197·768 = 151,296 + 12 · 7,087,872 + 1,536 + 769,000 = 86,567,656.
PUBLISHED = {
    "gpt2_small": (gpt2_small, 124_439_808, gpt2_params(50257, 1024, 768, 12)),
    "gpt2_medium": (gpt2_medium, 354_823_168, gpt2_params(50257, 1024, 1024, 24)),
    "gpt2_large": (gpt2_large, 774_030_080, gpt2_params(50257, 1024, 1280, 36)),
    "gpt2_xl": (gpt2_xl, 1_557_611_200, gpt2_params(50257, 1024, 1600, 48)),
    "llama2_7b": (llama2_7b, 6_738_415_616, llama_params(32000, 4096, 32, 32, 32, 11008)),
    "mistral_7b": (mistral_7b, 7_241_732_096, llama_params(32000, 4096, 32, 32, 8, 14336)),
    "llama3_8b": (llama3_8b, 8_030_261_248, llama_params(128256, 4096, 32, 32, 8, 14336)),
    "vit_b16": (vit_b16, 86_567_656, vit_params(224, 16, 768, 12, 3072, 1000)),
    "vit_l16": (vit_l16, 304_326_632, vit_params(224, 16, 1024, 24, 4096, 1000)),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_parameter_counts_on_meta(name):
    build, published, derived = PUBLISHED[name]
    with torch.device("meta"):
        model = build()
    assert published == derived
    assert numel(model) == published
    assert all(p.is_meta for p in model.parameters())


def test_tiny_parameter_counts():
    assert numel(gpt2_tiny()) == gpt2_params(256, 64, 64, 2) == 120_576
    assert numel(llama_tiny()) == llama_params(256, 64, 2, 4, 2, 160) == 119_104
    assert numel(vit_tiny()) == vit_params(32, 8, 64, 2, 128, 10) == 81_226


def test_gpt2_small_block_and_tied_head():
    with torch.device("meta"):
        model = gpt2_small()
    assert numel(model.h[0]) == 12 * 768**2 + 13 * 768 == 7_087_872
    assert model.lm_head.weight is model.wte.weight
    assert len(list(model.parameters())) == 2 + 12 * 12 + 2  # wte, wpe; 12 tensors per block; ln_f (2)


def test_gpt2_block_equals_torch_encoder_layer_parameters():
    """GPT-2's block holds what nn.TransformerEncoderLayer(d, h, 4d, norm_first=True) holds."""
    layer = torch.nn.TransformerEncoderLayer(64, 4, 256, norm_first=True, batch_first=True)
    assert numel(gpt2_tiny().h[0]) == numel(layer) == 12 * 64**2 + 13 * 64


# --------------------------------------------------------------------------- shapes


def test_output_shapes():
    torch.manual_seed(0)
    idx = torch.randint(0, 256, (2, 10))
    assert gpt2_tiny()(idx).shape == (2, 10, 256)
    assert llama_tiny()(idx).shape == (2, 10, 256)
    assert vit_tiny()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_big_models_shapes_on_meta():
    with torch.device("meta"):
        assert gpt2_small()(torch.zeros(1, 1024, dtype=torch.long)).shape == (1, 1024, 50257)
        assert vit_b16()(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)
        assert mistral_7b()(torch.zeros(1, 8, dtype=torch.long)).shape == (1, 8, 32000)


def test_sdpa_and_math_agree():
    torch.manual_seed(0)
    idx = torch.randint(0, 256, (2, 12))
    for build, x in ((gpt2_tiny, idx), (llama_tiny, idx), (vit_tiny, torch.randn(2, 3, 32, 32))):
        a, b = build(attn_impl="sdpa"), build(attn_impl="math")
        b.load_state_dict(a.state_dict())
        assert torch.allclose(a(x), b(x), atol=1e-5)


def test_attend_causal_offset_matches_full_mask():
    """Queries that are the last L of S positions see keys 0 … S − L + i, on both paths."""
    torch.manual_seed(0)
    q, k, v = torch.randn(1, 2, 5, 8), torch.randn(1, 2, 5, 8), torch.randn(1, 2, 5, 8)
    full = attend(q, k, v, causal=True, impl="math")
    for impl in ("sdpa", "math"):
        assert torch.allclose(attend(q[:, :, 3:], k, v, causal=True, impl=impl), full[:, :, 3:], atol=1e-6)


# --------------------------------------------------------------------------- the K/V cache


@pytest.mark.parametrize("build", [gpt2_tiny, llama_tiny], ids=["gpt2", "llama"])
@pytest.mark.parametrize("impl", ["sdpa", "math"])
def test_cache_gives_the_same_logits(build, impl):
    torch.manual_seed(0)
    model = build(attn_impl=impl).eval()
    idx = torch.randint(0, 256, (2, 12))
    with torch.no_grad():
        full = model(idx)
        cache = KVCache(2)
        steps = [model(idx[:, a:b], cache) for a, b in ((0, 8), (8, 10), (10, 11), (11, 12))]
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)
    config = model.config
    kv_heads = getattr(config, "n_kv_heads", config.n_heads)
    d_head = config.d_model // config.n_heads
    assert cache.seq_len == 12
    assert cache.numel() == 2 * config.n_layers * 2 * kv_heads * 12 * d_head  # 2 (K, V) · layers · n · ...
    assert cache.nbytes() == 4 * cache.numel()


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_cache_size_mha_gqa_mqa(kv_heads):
    model = llama(LlamaConfig(vocab_size=256, d_model=64, n_layers=2, n_heads=4, n_kv_heads=kv_heads, d_ff=160,
                              max_seq_len=64)).half()
    cache = KVCache(2)
    with torch.no_grad():
        model(torch.zeros(1, 20, dtype=torch.long), cache)
    assert cache.nbytes() == 2 * 2 * kv_heads * 16 * 20 * 1 * 2  # K and V, layers, kv heads, d_head, L, n, fp16


def test_too_long_and_bad_configs():
    with pytest.raises(ValueError, match="idx"):
        gpt2_tiny()(torch.zeros(1, 65, dtype=torch.long))
    with pytest.raises(ValueError, match="n_kv_heads"):
        LlamaConfig(n_heads=32, n_kv_heads=5)
    with pytest.raises(ValueError, match="d_model"):
        GPT2Config(d_model=100, n_heads=12)
    with pytest.raises(ValueError, match="attn_impl"):
        gpt2_tiny(attn_impl="flash")
    with pytest.raises(ValueError, match="image_size"):
        vit(image_size=30, patch_size=8)


# --------------------------------------------------------------------------- MACs


def hand_macs(n: int, length: int, d: int, layers: int, vocab: int, d_ff: int, d_kv: int, gated: bool) -> int:
    """Every matrix product of a decoder on n sequences of L tokens: projections 2·d² + 2·d·d_kv, attention
    2·L·d per token and layer (the full L×L score matrix), MLP 2 or 3·d·d_ff, head d·V."""
    per_token = layers * (2 * d * d + 2 * d * d_kv + (3 if gated else 2) * d * d_ff + 2 * length * d) + d * vocab
    return n * length * per_token


def flop_counter_macs(model, x) -> int:
    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() // 2


TINY = {
    "gpt2": (gpt2_tiny, (2, 16), torch.long, hand_macs(2, 16, 64, 2, 256, 256, 64, gated=False)),
    "llama": (llama_tiny, (2, 16), torch.long, hand_macs(2, 16, 64, 2, 256, 160, 32, gated=True)),
    # ViT on 3×32×32: patch conv 16·64·(3·64) per image, 17 tokens through 2 blocks, head on 1 token
    "vit": (vit_tiny, (2, 3, 32, 32), torch.float32,
            2 * (16 * 64 * 192 + 17 * 2 * (4 * 64 * 64 + 2 * 64 * 128 + 2 * 17 * 64) + 64 * 10)),
}


def _input(shape, dtype):
    return torch.randint(0, 256, shape) if dtype == torch.long else torch.randn(shape)


@pytest.mark.parametrize("name", list(TINY))
def test_profile_equals_flop_counter_in_training_mode(name):
    """A real forward with grad enabled and explicit attention products: every MAC is visible to torch."""
    build, shape, dtype, hand = TINY[name]
    torch.manual_seed(0)
    model = build(attn_impl="math").train()
    torch_macs = flop_counter_macs(model, _input(shape, dtype))
    report = nncost.profile(model, shape, input_dtype=dtype, device="cpu", no_grad=False)
    assert report.macs == torch_macs == hand
    assert report.params == numel(model)
    assert not report.uncounted_ops


@pytest.mark.parametrize("name", list(TINY))
def test_sdpa_blind_spot_on_cpu_only(name):
    """F.scaled_dot_product_attention on the CPU: FlopCounterMode misses exactly the attention products."""
    build, shape, dtype, hand = TINY[name]
    torch.manual_seed(0)
    model = build(attn_impl="sdpa")
    layers = len(list(model.h if name == "gpt2" else model.layers if name == "llama" else model.blocks))
    tokens = shape[1] if name != "vit" else 17
    d = 64
    attention = shape[0] * layers * 2 * tokens * tokens * d  # QKᵀ and A·V over the full score matrix
    with torch.no_grad():
        seen = flop_counter_macs(model, _input(shape, dtype))
    assert seen == hand - attention
    assert nncost.profile(model, shape, input_dtype=dtype).macs == hand
    with torch.device("meta"):
        on_meta = build(attn_impl="sdpa")
    assert flop_counter_macs(on_meta, torch.empty(shape, dtype=dtype, device="meta")) == hand


@pytest.mark.parametrize("name", list(TINY))
@pytest.mark.parametrize("impl", ["sdpa", "math"])
def test_verify_tiny(name, impl):
    build, shape, dtype, _ = TINY[name]
    torch.manual_seed(0)
    result = nncost.verify(build(attn_impl=impl), shape, input_dtype=dtype)
    assert result.ok
    assert bool(result.blind_spots) == (impl == "sdpa")  # the fused CPU kernel, reported, not failed
    result = nncost.verify(build(attn_impl=impl).train(), shape, input_dtype=dtype, no_grad=False)
    assert result.ok


def test_verify_and_profile_gpt2_small_on_meta():
    with torch.device("meta"):
        model = gpt2_small()
    report = nncost.profile(model, (1, 1024), input_dtype=torch.long)
    assert report.params == 124_439_808
    # per token: 12 blocks · (12·768² + 2·1024·768) + head 768·50,257; the embeddings are lookups
    assert report.macs == 1024 * (12 * (12 * 768**2 + 2 * 1024 * 768) + 768 * 50257)
    assert nncost.verify(model, (1, 1024), input_dtype=torch.long).ok


def test_decode_step_macs_on_meta():
    """One token decoded against a cache of S − 1 tokens: weights once, attention over S keys."""
    with torch.device("meta"):
        model = llama(LLAMA_TINY)
        cache = KVCache(2)
        for i in range(2):
            cache.update(i, torch.empty(1, 2, 30, 16), torch.empty(1, 2, 30, 16))
    report = nncost.profile(model, (1, 1), input_dtype=torch.long, kwargs={"cache": cache})
    assert report.macs == hand_macs(1, 1, 64, 2, 256, 160, 32, gated=True) + 2 * 2 * 30 * 64
    assert cache.seq_len == 31


def test_configs_are_the_documented_ones():
    assert (GPT2_TINY.d_model, GPT2_TINY.n_layers, GPT2_TINY.n_heads, GPT2_TINY.d_ff) == (64, 2, 4, 256)
    assert LLAMA_TINY.d_head == 16
