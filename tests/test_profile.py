"""nncost.profile: hand-derived totals, FlopCounterMode agreement, attention paths, peak memory, no side
effects, rendering and clear errors. Every expected number below is derived by hand in its comment."""

from __future__ import annotations

import copy
import sys
import time

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import nncost  # noqa: E402
from nncost.report import human  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

DEVICES = ["meta", "cpu"]


# --------------------------------------------------------------------------- small models


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def conv_stack() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2, bias=False),
    )


class Residual(nn.Module):
    """y = l2(relu(l1(x))) + x: the skip x must stay alive until the add."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.l1, self.relu, self.l2 = nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l2(self.relu(self.l1(x))) + x


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(self.block(x))


class TinyViT(nn.Module):
    """Patch embedding, a class token and positional embeddings held by the model itself, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 4, stride=4)
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))
        self.pos = nn.Parameter(torch.zeros(1, 5, 8))
        self.head = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.patch(x).flatten(2).transpose(1, 2)  # (n, 4, 8)
        z = torch.cat([self.cls.expand(x.shape[0], -1, -1), p], dim=1) + self.pos
        return self.head(z[:, 0])


class Functional(nn.Module):
    """MACs from functional calls in forward, one of each kind."""

    def __init__(self) -> None:
        super().__init__()
        self.w_conv = nn.Parameter(torch.randn(3, 2, 3, 3))
        self.w_lin = nn.Parameter(torch.randn(5, 6))
        self.a = nn.Parameter(torch.randn(2, 3, 4))
        self.b = nn.Parameter(torch.randn(2, 4, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.w_conv)  # (1, 3, 3, 3): 27 outputs × 2·3·3 = 486
        z = F.linear(torch.ones(4, 6), self.w_lin)  # 4·6·5 = 120
        m = torch.matmul(self.a, self.b[0])  # (2,3,4)@(4,5): 2·3·4·5 = 120
        n = self.a[0] @ self.b[0, :, :2]  # (3,4)@(4,2): 24
        o = torch.bmm(self.a, self.b)  # 2·3·4·5 = 120
        e = torch.einsum("bij,bjk->bik", self.a, self.b)  # 120 (a bmm)
        return y.sum() + z.sum() + m.sum() + n.sum() + o.sum() + e.sum()


class SelfAttention(nn.Module):
    def __init__(self, batch_first: bool = True, need_weights: bool = False) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 4, batch_first=batch_first)
        self.need_weights = need_weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mha(x, x, x, need_weights=self.need_weights)[0]


class SDPA(nn.Module):
    def __init__(self, causal: bool = False) -> None:
        super().__init__()
        self.qkv, self.causal = nn.Linear(16, 48), causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        q, k, v = self.qkv(x).view(n, length, 3, 4, 4).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


# --------------------------------------------------------------------------- hand-derived totals


@pytest.mark.parametrize("device", DEVICES)
def test_mlp_totals(device: str) -> None:
    r = nncost.profile(mlp(), (5, 4), device=device)
    assert r.params == 4 * 8 + 8 + 8 * 3 + 3 == 67
    assert r.trainable_params == 67
    assert r.macs == 5 * 4 * 8 + 5 * 8 * 3 == 280
    assert r.flops == 560
    assert r.elementwise == {"bias_add": 5 * 8 + 5 * 3, "relu": 5 * 8}
    assert r.activations == 40 + 40 + 15
    assert r.total_activation_bytes == 95 * 4
    assert [(row.name, row.macs) for row in r.rows] == [("", 0), ("0", 160), ("1", 0), ("2", 120)]


def test_conv_stack_totals_and_closed_forms() -> None:
    r = nncost.profile(conv_stack(), (2, 3, 16, 16))
    # conv0: out 2·8·16·16 = 4096, 4096·3·9 MACs; pool → 2·8·8·8; conv4: ⌊(8−3)/2⌋+1 = 3 → 2·16·3·3 = 288, 288·8·9
    assert r.macs == 4096 * 27 + 288 * 72 == 131_328
    assert r.params == (8 * 27 + 8) + 16 + 16 * 8 * 9 == 1392
    assert r["0"].out_shape == (2, 8, 16, 16) and r["4"].out_shape == (2, 16, 3, 3)
    assert r["1"].elementwise == {"scale": 4096, "shift": 4096}
    assert r["3"].elementwise == {"comparisons": 1024 * 3}
    assert r["0"].closed_form == nncost.conv2d((2, 3, 16, 16), 8, 3, padding=1)
    assert r["4"].closed_form == nncost.conv2d((2, 8, 8, 8), 16, 3, stride=2, bias=False)
    assert all(row.formula_macs == row.macs for row in r.rows if row.closed_form is not None)
    assert r.closed_form_checks == 5  # every layer maps to a formula of nncost.layers
    layers = [nncost.conv2d((2, 3, 16, 16), 8, 3, padding=1), nncost.batchnorm2d((2, 8, 16, 16)),
              nncost.activation((2, 8, 16, 16)), nncost.pool2d((2, 8, 16, 16), 2),
              nncost.conv2d((2, 8, 8, 8), 16, 3, stride=2, bias=False)]
    book = nncost.table(layers)
    assert (r.macs, r.activations, r.elementwise_ops) == (book.macs, book.activations, book.elementwise_ops)


def test_residual_block_counts_the_add() -> None:
    r = nncost.profile(Residual(), (2, 16))
    assert r.macs == 2 * 2 * 16 * 16
    assert r.elementwise == {"bias_add": 2 * 32, "relu": 32, "add": 32}
    assert r[""].activations == 32  # the residual add is the block's own layer output
    assert r.activations == 4 * 32


@pytest.mark.parametrize("device", DEVICES)
def test_shared_module_called_twice(device: str) -> None:
    r = nncost.profile(Shared(), (3, 4), device=device)
    assert r.params == 20  # once
    assert r.macs == 2 * 3 * 4 * 4  # per call
    assert r["block"].calls == 2
    assert r["block"].activations == 2 * 12
    assert r["block"].formula_macs == 2 * 48


def test_frozen_layer() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    model[0].requires_grad_(False)
    r = nncost.profile(model, (1, 4))
    assert (r.params, r.trainable_params, r.frozen_params) == (58, 18, 40)
    assert (r["0"].trainable_params, r["1"].trainable_params) == (0, 18)


@pytest.mark.parametrize("device", DEVICES)
def test_class_token_and_positions_belong_to_the_model(device: str) -> None:
    r = nncost.profile(TinyViT(), (2, 3, 8, 8), device=device)
    assert r[""].params == 8 + 40  # cls (1,1,8) and pos (1,5,8), held directly
    assert r.params == (8 * 3 * 16 + 8) + 48 + (8 * 8 + 8) == 512
    assert r.macs == 2 * 8 * 2 * 2 * (3 * 16) + 2 * 8 * 8 == 3200
    assert r[""].elementwise == {"bias_add": 2 * 5 * 8}  # "+ self.pos" adds a parameter


@pytest.mark.parametrize("device", DEVICES)
def test_functional_calls_in_forward(device: str) -> None:
    r = nncost.profile(Functional(), (1, 2, 5, 5), device=device)
    assert r.macs == 486 + 120 + 120 + 24 + 120 + 120
    assert r[""].macs == r.macs  # attributed to the module whose forward ran them
    assert {"aten.convolution", "aten.mm", "aten.bmm"} <= set(r.op_macs)


@pytest.mark.parametrize(
    ("model", "shape"),
    [(mlp, (5, 4)), (conv_stack, (2, 3, 16, 16)), (Residual, (2, 16)), (Shared, (3, 4)), (TinyViT, (2, 3, 8, 8)),
     (Functional, (1, 2, 5, 5)),
     (lambda: nn.Sequential(nn.Conv2d(4, 8, 3, groups=4), nn.ConvTranspose2d(8, 2, 3, stride=2)), (1, 4, 6, 6)),
     (lambda: nn.Sequential(nn.Conv1d(2, 4, 3, dilation=2), nn.Flatten(), nn.Linear(4 * 6, 3)), (2, 2, 10)),
     (lambda: SelfAttention(need_weights=True).train(), (2, 5, 16)),
     (lambda: nn.TransformerEncoderLayer(16, 4, 32, batch_first=True).train(), (2, 5, 16))],
)
def test_equals_flop_counter_mode_without_fused_attention(model, shape) -> None:
    module = model()
    x = torch.randn(shape)
    expected = nncost.torch_macs(module, x)
    assert nncost.profile(module, shape).macs == expected
    assert nncost.profile(module, shape, device="cpu").macs == expected


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_closed_forms_agree_with_dispatch_and_torch_on_random_stacks(data: st.DataObject) -> None:
    n, c, size = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)), data.draw(st.integers(6, 14))
    shape = (n, c, size, size)
    layers: list[nn.Module] = []
    for _ in range(2):
        groups = data.draw(st.sampled_from([g for g in (1, 2) if c % g == 0]))
        out = groups * data.draw(st.integers(1, 3))
        k, stride, dilation = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
        padding = min(data.draw(st.integers(0, 2)), k // 2 + 1)
        if size + 2 * padding < dilation * (k - 1) + 1:
            padding = dilation * (k - 1)
        layers.append(nn.Conv2d(c, out, k, stride, padding, dilation, groups, bias=data.draw(st.booleans())))
        size, c = (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1, out
        layers.append(data.draw(st.sampled_from([nn.ReLU(), nn.BatchNorm2d(c).eval(), nn.Identity()])))
        if size >= 2 and data.draw(st.booleans()):
            ceil = data.draw(st.booleans())
            layers.append(data.draw(st.sampled_from([nn.MaxPool2d, nn.AvgPool2d]))(2, ceil_mode=ceil))
            size = -(-size // 2) if ceil else size // 2
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * size * size, data.draw(st.integers(1, 5))))
    report = nncost.profile(model, shape)  # raises AssertionError if a closed form disagrees with the dispatch
    assert report.closed_form_checks >= 3
    assert report.macs == nncost.torch_macs(model, torch.randn(shape))
    assert report.params == sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- attention, every path

MHA_MACS = 3 * 3 * 5 * 16 * 16 + 3 * 4 * 5 * 5 * (4 + 4) + 3 * 5 * 16 * 16  # in-proj + QKᵀ,PV + out-proj
assert MHA_MACS == 17_760


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("no_grad", [True, False])
@pytest.mark.parametrize("device", DEVICES)
def test_multihead_attention_every_path(need_weights: bool, train: bool, no_grad: bool, device: str) -> None:
    model = SelfAttention(need_weights=need_weights).train(train)
    r = nncost.profile(model, (3, 5, 16), device=device, no_grad=no_grad)
    assert r.macs == MHA_MACS
    assert r["mha"].macs == MHA_MACS and r.params == 3 * 16 * 16 + 48 + 16 * 16 + 16
    fused = device == "cpu" and not train and no_grad  # the fast path: batch_first, eval, no grad
    assert ("aten._native_multi_head_attention" in r.op_counts) == fused


def test_multihead_attention_sequence_first_and_cross_attention() -> None:
    r = nncost.profile(SelfAttention(batch_first=False).eval(), (5, 3, 16), device="cpu")
    assert r.macs == MHA_MACS  # (L, N, E) layout: same L = 5, N = 3
    cross = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    r = nncost.profile(cross, [(3, 5, 16), (3, 7, 16), (3, 7, 16)], device="cpu")
    # q-proj 3·5·16², k and v proj 2·3·7·16², QKᵀ and PV 3·4·5·7·(4+4), out-proj 3·5·16²
    assert r.macs == 3 * 5 * 256 + 2 * 3 * 7 * 256 + 3 * 4 * 5 * 7 * 8 + 3 * 5 * 256 == 21_792


@pytest.mark.parametrize("fused", [True, False])
def test_transformer_encoder_layer(fused: bool) -> None:
    layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True).train(not fused)
    meta = nncost.profile(layer, (3, 5, 16))
    cpu = nncost.profile(layer, (3, 5, 16), device="cpu")
    # attention block 17,760 + FFN 3·5·16·32 twice
    assert meta.macs == cpu.macs == MHA_MACS + 2 * 3 * 5 * 16 * 32 == 33_120
    assert ("aten._transformer_encoder_layer_fwd" in cpu.op_counts) == fused
    for report in (meta, cpu):  # the fused kernel is split by the weights it uses, like the math path
        assert (report["self_attn"].macs, report["linear1"].macs, report["linear2"].macs) == (17_760, 7680, 7680)
    if fused and not layer.training:
        assert cpu.elementwise == meta.elementwise


def test_encoder_with_padding_mask_counts_real_tokens_on_the_nested_path() -> None:
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 2).eval()
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[:, 3:] = True
    mask[0, 2:] = True  # sequence lengths 2, 3, 3
    r = nncost.profile(encoder, (3, 5, 16), device="cpu", kwargs={"src_key_padding_mask": mask})
    assert r.op_counts["aten._transformer_encoder_layer_fwd"] == 2  # the fused kernel on a nested tensor
    tokens, pairs = 2 + 3 + 3, 2 * 2 + 3 * 3 + 3 * 3
    per_layer = 4 * tokens * 16 * 16 + 2 * pairs * 16 + 2 * tokens * 16 * 32
    assert r.macs == 2 * per_layer == 34_176
    padded = nncost.profile(encoder.train(), (3, 5, 16), kwargs={"src_key_padding_mask": mask})
    assert padded.macs == 2 * 33_120  # the unfused path computes every padded position


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("device", DEVICES)
def test_scaled_dot_product_attention_counts_the_full_score_matrix(causal: bool, device: str) -> None:
    r = nncost.profile(SDPA(causal), (2, 5, 16), device=device)
    attention = 2 * 4 * 5 * 5 * (4 + 4)  # b·h·L·S·(d_k + d_v), full even when causal (the book's convention)
    assert r.macs == 2 * 5 * 16 * 48 + attention
    if device == "cpu":
        assert r.op_macs["aten._scaled_dot_product_flash_attention_for_cpu"] == attention


# --------------------------------------------------------------------------- peak activation memory


def test_peak_of_a_chain_of_linears() -> None:
    chain = nn.Sequential(nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16))
    r = nncost.profile(chain, (2, 16))
    # each tensor is 2·16 floats = 128 B; at every matmul only its input and output are alive
    assert r.peak_activation_bytes == 2 * 128
    assert r.total_activation_bytes == 3 * 128
    assert r.memory_timeline()[0] == {"step": 0, "op": "inputs", "module": "model", "alive_bytes": 128}


@pytest.mark.parametrize("device", DEVICES)
def test_peak_of_a_residual_block_keeps_the_skip(device: str) -> None:
    r = nncost.profile(Residual(), (2, 16), device=device)
    # x stays alive until "+ x": at relu, l2 and the add three 128 B tensors are alive
    assert r.peak_activation_bytes == 3 * 128
    assert r.peak_op in ("aten.relu", "aten.addmm", "aten.add")


def test_peak_in_fp16_is_half() -> None:
    fp32 = nncost.profile(Residual(), (2, 16))
    fp16 = nncost.profile(Residual(), (2, 16), dtype=torch.float16)
    assert fp16.peak_activation_bytes * 2 == fp32.peak_activation_bytes == 384
    assert fp16.total_activation_bytes * 2 == fp32.total_activation_bytes
    assert fp16.macs == fp32.macs and fp16.dtype == "float16"


def test_peak_of_the_mlp_and_the_timeline() -> None:
    r = nncost.profile(mlp(), (5, 4))
    # x 80 B + h 160 B at the first addmm; h 160 B + relu(h) 160 B at the ReLU; 160 + 60 at the last addmm
    assert r.peak_activation_bytes == 320
    timeline = r.memory_timeline()
    assert max(t["alive_bytes"] for t in timeline) == 320
    assert timeline[-1]["op"] == "aten.addmm" and timeline[-1]["alive_bytes"] == 160 + 60  # last read of h


def test_inplace_ops_and_views_share_storage() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(inplace=True), nn.Flatten(0), nn.Linear(16, 4))
    r = nncost.profile(model, (2, 8))
    # x (64 B) and h (64 B) at the first matmul; relu_ and the flatten view reuse h; h + out (16 B) at the last
    assert r.peak_activation_bytes == 128


# --------------------------------------------------------------------------- meta, scale, dtypes, inputs


def test_model_built_on_meta_is_counted() -> None:
    with torch.device("meta"):
        model = conv_stack()
    assert nncost.profile(model, (2, 3, 16, 16)).macs == 131_328
    assert all(p.device.type == "meta" for p in model.parameters())


def test_cost_does_not_grow_with_the_input() -> None:
    model = conv_stack()
    started = time.perf_counter()
    huge = nncost.profile(model, (100_000, 3, 224, 224))  # 60 GB of input alone, never allocated
    assert time.perf_counter() - started < 10
    small = nncost.profile(model, (1, 3, 224, 224))
    assert huge.macs == 100_000 * small.macs
    stats = 2 * 8 * 4  # batch norm's saved mean and inverse std: per channel, not per sample
    assert huge.peak_activation_bytes - stats == 100_000 * (small.peak_activation_bytes - stats)


def test_several_inputs_kwargs_and_token_ids() -> None:
    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb, self.proj = nn.Embedding(10, 4), nn.Linear(3, 4)

        def forward(self, tokens: torch.Tensor, feats: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
            out = self.emb(tokens) + self.proj(feats)
            return out * scale if scale is not None else out

    r = nncost.profile(Two(), [(2, 5), (2, 5, 3)], input_dtype=[torch.long, torch.float32],
                       kwargs={"scale": torch.ones(1)})
    assert r.input_shapes == ((2, 5), (2, 5, 3)) and r.input_dtypes == ("int64", "float32")
    assert r.macs == 2 * 5 * 3 * 4
    assert r[""].elementwise == {"add": 40, "mul": 40}
    cpu = nncost.profile(Two(), [(2, 5), (2, 5, 3)], input_dtype=[torch.long, torch.float32], device="cpu")
    assert cpu.macs == r.macs


def test_uncounted_operations_are_reported() -> None:
    r = nncost.profile(nn.Bilinear(4, 5, 3), [(2, 4), (2, 5)], device="cpu")
    assert "aten._trilinear" in r.uncounted_ops
    assert "not counted" in str(r)


# --------------------------------------------------------------------------- no side effects


class Everything(nn.Module):
    """Batch norm in train mode (would update its running stats), dropout, an eval child, a frozen and a tied
    parameter, user hooks; ``fail`` makes forward raise half-way."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(4, 4)
        self.tied = nn.Linear(4, 4)
        self.tied.weight = self.head.weight
        self.frozen = nn.Linear(4, 4).requires_grad_(False).eval()
        self.fail = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(self.bn(self.conv(x))).mean((2, 3))
        if self.fail:
            raise RuntimeError("boom")
        return self.frozen(self.tied(self.head(y)))


def snapshot(model: nn.Module) -> dict:
    return {
        "params": [(n, id(p), p.detach().clone(), p.requires_grad, p.device) for n, p in model.named_parameters()],
        "buffers": [(n, id(b), b.clone()) for n, b in model.named_buffers()],
        "modes": [(n, m.training) for n, m in model.named_modules()],
        "hooks": [(n, list(m._forward_hooks.items()), list(m._forward_pre_hooks.items()),
                   dict(m._forward_hooks_always_called)) for n, m in model.named_modules()],
        "globals": (len(nn.modules.module._global_forward_hooks), len(nn.modules.module._global_forward_pre_hooks),
                    len(nn.modules.module._global_forward_hooks_always_called)),
        "rng": torch.get_rng_state(),
        "grad": torch.is_grad_enabled(),
    }


def assert_same(before: dict, after: dict) -> None:
    for (n, i, v, rg, dev), (n2, i2, v2, rg2, dev2) in zip(before["params"], after["params"]):
        assert (n, i, rg, dev) == (n2, i2, rg2, dev2) and torch.equal(v, v2)
    for (n, i, v), (n2, i2, v2) in zip(before["buffers"], after["buffers"]):
        assert (n, i) == (n2, i2) and torch.equal(v, v2)
    assert before["modes"] == after["modes"] and before["hooks"] == after["hooks"]
    assert before["globals"] == after["globals"] and before["grad"] == after["grad"]
    assert torch.equal(before["rng"], after["rng"])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fail", [False, True])
def test_no_side_effects(device: str, fail: bool) -> None:
    model = Everything().train()
    model.frozen.eval()
    model.head.register_forward_hook(lambda m, i, o: None)
    model.conv.register_forward_pre_hook(lambda m, i: None)
    model.fail = fail
    before = snapshot(model)
    reference = copy.deepcopy(model.state_dict())
    if fail:
        with pytest.raises(ValueError, match=r"model \(Everything\) failed on input \(2, 3, 8, 8\): boom"):
            nncost.profile(model, (2, 3, 8, 8), device=device)
    else:
        r = nncost.profile(model, (2, 3, 8, 8), device=device)
        assert r.params == sum(p.numel() for p in model.parameters())
        assert r.trainable_params == r.params - 20
    assert_same(before, snapshot(model))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in reference.items())
    assert model.tied.weight is model.head.weight


def test_no_side_effects_with_fused_attention_and_lstm() -> None:
    for model, shape in ((SelfAttention().eval(), (2, 5, 16)), (nn.LSTM(4, 3), (2, 1, 4))):
        before = snapshot(model)
        flat = getattr(model, "_flat_weights", None)
        nncost.profile(model, shape)
        nncost.profile(model, shape, device="cpu")
        assert_same(before, snapshot(model))
        assert getattr(model, "_flat_weights", None) is flat


# --------------------------------------------------------------------------- bad input


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 3, 1), nn.ReLU(), nn.Identity(), nn.Conv2d(4, 8, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


@pytest.mark.parametrize("device", DEVICES)
def test_error_names_the_failing_module(device: str) -> None:
    with pytest.raises(ValueError, match=r"model\.features\.3 \(Conv2d\) failed on input \(1, 3, 32, 32\): "
                                         r"expected 4 input channels"):
        nncost.profile(Net(), (1, 3, 32, 32), device=device)
    with pytest.raises(ValueError, match=r"model\.features\.0 \(Conv2d\) failed on input \(3, 32\): expected a 4-D"):
        nncost.profile(Net(), (3, 32), device=device)
    with pytest.raises(ValueError, match=r"model\.1 \(Linear\) failed on input \(2, 5\): expected in_features = 4"):
        nncost.profile(nn.Sequential(nn.Linear(4, 5), nn.Linear(4, 2)), (2, 4), device=device)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": [nn.Linear(2, 2)]}, TypeError, r"model: must be a torch\.nn\.Module, got list"),
        ({"model": None}, TypeError, r"model: must be a torch\.nn\.Module, got NoneType"),
        ({"input_shape": "1,4"}, TypeError, r"input_shape: must be a tuple of ints .* got str"),
        ({"input_shape": (1, 4.0)}, TypeError, r"input_shape\[1\]: must be an int, got float 4\.0"),
        ({"input_shape": (1, 0)}, ValueError, r"input_shape\[1\]: must be >= 1, got 0"),
        ({"input_shape": ()}, ValueError, r"input_shape: must not be empty"),
        ({"input_shape": [(1, 4), 4]}, TypeError, r"input_shape: mixes ints and tuples"),
        ({"input_shape": [(1, 4), ()]}, ValueError, r"input_shape\[1\]: must have at least one dimension"),
        ({"input_shape": [(1, 4), (1, 4)]}, TypeError, r"model \(Linear\) failed on inputs \(1, 4\), \(1, 4\)"),
        ({"dtype": torch.long}, ValueError, r"dtype: must be a floating dtype .* input_dtype=torch\.long"),
        ({"dtype": "float16"}, TypeError, r"dtype: must be a torch\.dtype"),
        ({"input_dtype": [torch.float32] * 2}, ValueError, r"input_dtype: need one dtype per input \(1\), got 2"),
        ({"device": "nowhere"}, ValueError, r"device: must be 'meta' .* got 'nowhere'"),
        ({"kwargs": [1]}, TypeError, r"kwargs: must be a dict"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    args = {"model": nn.Linear(4, 2), "input_shape": (1, 4)} | kwargs
    with pytest.raises(error, match=message):
        nncost.profile(args.pop("model"), args.pop("input_shape"), **args)


def test_bad_device_for_a_meta_model_and_lazy_and_embedding() -> None:
    with torch.device("meta"):
        model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match=r"device: 'cpu' .* model\.weight is on the meta device"):
        nncost.profile(model, (1, 4), device="cpu")
    with pytest.raises(ValueError, match=r"model\.weight is an uninitialized \(lazy\) parameter"):
        nncost.profile(nn.LazyLinear(3), (1, 4))
    with pytest.raises(ValueError, match=r"model \(Embedding\) failed on input \(2, 3\): .*input_dtype=torch\.long"):
        nncost.profile(nn.Embedding(10, 4), (2, 3))


def test_plain_tensor_attribute_on_meta_gets_a_hint() -> None:
    class Masked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mask = torch.ones(4)  # not a buffer: stays on the CPU

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.mask

    with pytest.raises(ValueError, match="register_buffer"):
        nncost.profile(Masked(), (2, 4))
    assert nncost.profile(Masked(), (2, 4), device="cpu").elementwise == {"mul": 8}


def test_data_dependent_forward_on_meta_gets_a_hint() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.fc(x)
            return y if y.sum() > 0 else -y

    with pytest.raises(ValueError, match=r"model \(Branchy\) failed on input \(2, 4\): .* device='cpu'"):
        nncost.profile(Branchy(), (2, 4))
    assert nncost.profile(Branchy(), (2, 4), device="cpu").macs == 32


def test_closed_form_disagreement_is_an_assertion(monkeypatch: pytest.MonkeyPatch) -> None:
    profile_module = sys.modules["nncost.profiler"]

    monkeypatch.setattr(profile_module, "closed_form", lambda m, s: nncost.linear(s, 99))
    message = r"(?s)closed-form formula .*model\.0 \(Linear\) on input \(5, 4\): formula macs=1,980"
    with pytest.raises(AssertionError, match=message):
        nncost.profile(mlp(), (5, 4))


# --------------------------------------------------------------------------- rendering and records


def test_human_units() -> None:
    assert [human(v) for v in (512, 1234, 25_557_032, 4_500_000_000, 10**12)] == [
        "512", "1.23 k", "25.6 M", "4.5 G", "1 T"]
    assert human(2_000_000, "B") == "2 MB"


def test_text_html_depth_sort_records() -> None:
    model = nn.Sequential(conv_stack(), nn.Flatten(), nn.Linear(144, 10))
    r = nncost.profile(model, (2, 3, 16, 16))
    text = str(r)
    assert "model.0.4" in text and "Conv2d" in text and "peak activation memory" in text
    assert "134 k" in text  # human units: 131,328 + 2·144·10 = 134,208 MACs
    html = r._repr_html_()
    assert html.startswith('<div class="nncost-report"><table')
    assert 'title="110,592"' in html  # the first conv's exact MACs
    folded = r.table(depth=1)
    assert "model.0.4" not in str(folded) and "Sequential (folded)" in str(folded)
    assert "134,208" in str(r.table(depth=1, exact=True))
    for depth in (0, 1, 2, None):
        records = r.records(depth)
        for key in ("params", "macs", "activations", "activation_bytes", "elementwise_ops"):
            total = getattr(r, key if key != "activation_bytes" else "total_activation_bytes")
            assert sum(rec[key] for rec in records) == total, (depth, key)
    assert len(r.records(0)) == 1 and r.records(0)[0]["folded"]
    by_macs = r.table(sort="macs")
    first = by_macs.body[0]
    assert first[0].text == "model.0.0"  # the first conv has most MACs
    with pytest.raises(ValueError, match="sort: must be None or one of"):
        r.table(sort="speed")
    with pytest.raises(ValueError, match="depth: must be >= 0"):
        r.table(depth=-1)
    with pytest.raises(TypeError, match="depth: must be an int"):
        r.records(depth="2")


def test_to_dataframe_is_optional() -> None:
    r = nncost.profile(mlp(), (5, 4))
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"needs pandas.*report\.records"):
            r.to_dataframe()
    else:
        assert len(r.to_dataframe()) == len(r.records())


def test_batch_norm_inference_peak_is_the_same_on_meta_and_cpu() -> None:
    # eval BN: input (1·4·2·2 = 16 floats = 64 B) and output (64 B) alive at once = 128 B; the meta kernel's
    # extra saved-mean/inv-std outputs (8·C bytes) are not activations at inference
    bn = nn.BatchNorm2d(4).eval()
    assert nncost.profile(bn, (1, 4, 2, 2)).peak_activation_bytes == 128
    assert nncost.profile(bn, (1, 4, 2, 2), device="cpu").peak_activation_bytes == 128
