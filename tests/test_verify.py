"""nncost.verify: agreement with FlopCounterMode and numel per module, the reference's known blind spots
(measured here, torch 2.13 on CPU), mismatches raising a readable VerificationError, no side effects."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import nncost  # noqa: E402
from nncost.verify import BLIND, MISMATCH, OK, flop_counter_names  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class SelfAttention(nn.Module):
    def __init__(self, need_weights: bool = False) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 4, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mha(x, x, x, need_weights=self.need_weights)[0]


class SDPA(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(16, 48)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        q, k, v = self.qkv(x).view(n, length, 3, 4, 4).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v)


class Vectors(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mv(self.w, x) + torch.dot(x, x)  # 12 + 4 MACs


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + x)


class SmallResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(Block(), Block())
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb, self.mid, self.head = nn.Embedding(10, 4), nn.Linear(4, 4), nn.Linear(4, 10, bias=False)
        self.again = self.mid  # one module reachable under two names
        self.head.weight = self.emb.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.again(self.mid(self.emb(tokens))))


# --------------------------------------------------------------------------- the reference's blind spots


def flop_counter_macs(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() // 2


def ops_run(fn) -> set[str]:
    from torch.utils._python_dispatch import TorchDispatchMode

    seen: set[str] = set()

    class Spy(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.add(str(func.overloadpacket))
            return func(*args, **(kwargs or {}))

    with Spy():
        fn()
    return seen


def test_flop_counter_blind_spots_on_this_machine() -> None:
    """Measured, not assumed: FlopCounterMode counts 0 for these CPU kernels in this torch (2.13)."""
    x = torch.randn(3, 5, 16)
    q = torch.randn(2, 4, 5, 8)
    mha = SelfAttention().eval()
    layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True).eval()
    cases = {
        "aten._scaled_dot_product_flash_attention_for_cpu": lambda: F.scaled_dot_product_attention(q, q, q),
        "aten._native_multi_head_attention": lambda: mha(x),
        "aten._transformer_encoder_layer_fwd": lambda: layer(x),
        "aten.mv": lambda: torch.mv(torch.ones(3, 4), torch.ones(4)),
        "aten.dot": lambda: torch.dot(torch.ones(4), torch.ones(4)),
    }
    with torch.no_grad():
        for op, fn in cases.items():
            assert op in ops_run(fn), op
            assert flop_counter_macs(fn) == 0, op
    # with grad enabled the attention modules take the unfused path, which FlopCounterMode sees
    assert flop_counter_macs(lambda: mha(x)) == 17_760 - 3 * 4 * 5 * 5 * 8  # bmm-free SDPA: still blind
    assert flop_counter_macs(lambda: SelfAttention(need_weights=True).eval()(x)) == 17_760


@pytest.mark.parametrize(
    ("model", "shape", "blind_op", "macs"),
    [
        (lambda: SelfAttention().eval(), (3, 5, 16), "aten._native_multi_head_attention", 17_760),
        (lambda: SelfAttention(need_weights=True).eval(), (3, 5, 16), "aten._native_multi_head_attention", 17_760),
        (lambda: SelfAttention().train(), (3, 5, 16), "aten._scaled_dot_product_flash_attention_for_cpu", 17_760),
        (lambda: nn.TransformerEncoderLayer(16, 4, 32, batch_first=True).eval(), (3, 5, 16),
         "aten._transformer_encoder_layer_fwd", 33_120),
        (SDPA, (2, 5, 16), "aten._scaled_dot_product_flash_attention_for_cpu", 2 * 5 * 16 * 48 + 2 * 4 * 5 * 5 * 8),
        (Vectors, (4,), "aten.mv", 16),
    ],
)
def test_known_blind_spots_are_reported_not_failed(model, shape, blind_op, macs) -> None:
    result = nncost.verify(model(), shape)
    assert result.ok and result.device == "cpu"
    root = result["model"]
    assert root.status == BLIND and root.nncost_macs == macs  # nncost counts the fused kernel exactly
    assert root.torch_macs == macs - root.blind_macs
    assert blind_op in result.blind_ops
    text = str(result)
    assert "known blind spot" in text and blind_op in text and MISMATCH not in text
    assert "color:#E69F00" in result._repr_html_()


def test_no_grad_off_takes_the_path_torch_sees() -> None:
    result = nncost.verify(SelfAttention(need_weights=True).eval(), (3, 5, 16), no_grad=False)
    assert [r.status for r in result.rows] == [OK] * 3 and not result.blind_ops


@pytest.mark.parametrize(
    "model",
    [lambda: SelfAttention().eval(), lambda: nn.TransformerEncoderLayer(16, 4, 32, batch_first=True).eval(), SDPA],
)
def test_on_meta_flop_counter_sees_everything(model) -> None:
    result = nncost.verify(model(), (3, 5, 16), device="meta")
    assert all(r.status == OK for r in result.rows) and not result.blind_ops
    assert result["model"].torch_macs == result["model"].nncost_macs > 0


# --------------------------------------------------------------------------- agreement


@pytest.mark.parametrize(
    ("model", "shape", "kwargs"),
    [
        (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), (5, 4), {}),
        (SmallResNet, (2, 3, 8, 8), {}),
        (lambda: SmallResNet().eval(), (2, 3, 8, 8), {}),
        (lambda: nn.Sequential(nn.Conv1d(2, 4, 3, groups=2), nn.MaxPool1d(2), nn.Flatten(), nn.LazyLinear(3)),
         (2, 2, 11), {"prime": True}),
        (Tied, (2, 3), {"input_dtype": torch.long}),
    ],
)
def test_agrees_module_by_module(model, shape, kwargs) -> None:
    module = model()
    if kwargs.pop("prime", False):  # materialise the lazy layer first
        module(torch.randn(shape))
    result = nncost.verify(module, shape, **kwargs)
    assert all(r.status == OK for r in result.rows), str(result)
    assert result["model"].nncost_params == sum(p.numel() for p in module.parameters())
    for row in result.rows:
        if row.formula_macs is not None:  # nncost.layers' closed form = torch's count
            assert row.formula_macs == row.torch_macs
    meta = nncost.verify(module, shape, device="meta", **kwargs)
    assert [r.nncost_macs for r in meta.rows] == [r.nncost_macs for r in result.rows]


def test_result_renders() -> None:
    result = nncost.verify(SmallResNet(), (2, 3, 8, 8))
    text = str(result)
    assert text.splitlines()[0] == "nncost.verify: SmallResNet on cpu: all modules agree"
    assert "model.blocks.0.conv1" in text and "FlopCounterMode MACs" in text and "numel" in text
    html = result._repr_html_()
    assert "<table" in html and "color:#009E73" in html
    assert len(result.table(depth=1).body) == 5  # model, stem, blocks, pool, fc


def test_tied_weights_and_a_module_under_two_names() -> None:
    result = nncost.verify(Tied(), (2, 3), input_dtype=torch.long)
    assert result["head"].nncost_params == result["head"].torch_params == 40  # the tied embedding matrix
    assert result["mid"].nncost_macs == 2 * 2 * 3 * 16  # called twice (once as "again")


def test_flop_counter_names_match_torch() -> None:
    model = Tied()
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(2, 3, dtype=torch.long))
    names = flop_counter_names(model)
    assert set(counter.get_flop_counts()) - {"Global"} <= set(names.values())
    assert names[id(model.head)] == "Tied.head"


# --------------------------------------------------------------------------- mismatches and misuse


class MatmulInForward(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 3))
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.mm(x, self.w))


def test_mismatch_raises_a_readable_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    import nncost._dispatch as dispatch

    right = dispatch._COSTS[torch.ops.aten.mm]

    def off_by_one(*args):
        parts = right(*args)
        parts[0].macs += 1
        return parts

    monkeypatch.setitem(dispatch._COSTS, torch.ops.aten.mm, off_by_one)
    with pytest.raises(nncost.VerificationError) as caught:
        nncost.verify(MatmulInForward(), (5, 4))
    message = str(caught.value)
    assert isinstance(caught.value, AssertionError)
    assert "nncost and torch disagree" in message and "MISMATCH: MACs differ by 1" in message
    # torch: mm 5·4·3 = 60 plus fc 5·3·2 = 30; nncost one more
    assert "model   MatmulInForward           91                    90" in message
    assert "model.fc" not in message  # only the modules that disagree


def test_verify_has_no_side_effects() -> None:
    model = SmallResNet().train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    ids = [id(p) for p in model.parameters()]
    nncost.verify(model, (2, 3, 8, 8))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())  # running stats untouched
    assert ids == [id(p) for p in model.parameters()] and model.training


def test_verify_bad_input_and_default_device() -> None:
    with pytest.raises(TypeError, match=r"model: must be a torch\.nn\.Module, got str"):
        nncost.verify("resnet", (1, 3))
    with pytest.raises(ValueError, match=r"model\.0 \(Linear\) failed on input \(1, 3\)"):
        nncost.verify(nn.Sequential(nn.Linear(4, 2)), (1, 3))
    with torch.device("meta"):
        model = SmallResNet()
    assert nncost.verify(model, (2, 3, 8, 8)).device == "meta"  # a meta model is checked on meta
    assert issubclass(nncost.VerificationError, AssertionError)
