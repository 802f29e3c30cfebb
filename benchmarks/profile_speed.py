"""How fast and how lean ``nncost.profile`` is, measured in one run.

    python benchmarks/profile_speed.py

1. ResNet-50 (defined here from the paper's layout: He et al. 2016, Table 1, bottleneck blocks [3, 4, 6, 3],
   25,557,032 params) at batch 64 × 3 × 224 × 224: ``nncost.profile`` on meta against
   ``FlopCounterMode`` over a real CPU forward of the same input (``torch.set_num_threads(2)``, eval,
   no grad). Target: profile at least 20× faster.
2. A GPT-style decoder of ≥ 7 billion parameters (32 layers, d_model 4096, 32 heads, MLP 4×, vocab 32000)
   built directly on meta, profiled on meta at batch 1 × 2048 tokens, in a fresh subprocess so its peak
   resident memory (``resource.getrusage(...).ru_maxrss``, the whole process, torch included) is its own.
   Targets: profile < 5 s, peak resident memory < 500 MB, while its fp32 weights alone would fill tens of GB.

Parameter arithmetic of the decoder: with a plain two-matrix 4× MLP the layout above has 6.71 B parameters
(32·12·4096² + 2·32000·4096), under 7 B; so the MLP is gated (SwiGLU, three 4096×16384 matrices, as in
LLaMA), which gives 32·16·4096² + 2·32000·4096 + 2048·4096 + norms = 8.86 B.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import nncost

THREADS = 2


# --------------------------------------------------------------------------- ResNet-50 (paper layout)


class Bottleneck(nn.Module):
    """1×1 (reduce) → 3×3 → 1×1 (expand ×4), BN after each conv, ReLU after the add; projection shortcut
    (1×1 conv + BN) where the shape changes. As in the paper, the stride-2 downsampling is in the first 1×1."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + self.shortcut(x))


class ResNet50(nn.Module):
    """conv1 7×7/2 → maxpool 3×3/2 → conv2_x..conv5_x with [3, 4, 6, 3] bottlenecks → global avg pool → fc 1000."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        stages, in_channels = [], 64
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layers = []
            for i in range(blocks):
                layers.append(Bottleneck(in_channels, width, stride if i == 0 else 1))
                in_channels = width * Bottleneck.expansion
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --------------------------------------------------------------------------- GPT-style decoder


class DecoderBlock(nn.Module):
    """Pre-norm block: x + attn(ln(x)), then x + mlp(ln(x)); causal SDPA; gated (SwiGLU) MLP, no biases."""

    def __init__(self, d_model: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.proj = nn.Linear(d_model, d_model, bias=False)
        self.ln2 = nn.LayerNorm(d_model)
        self.gate = nn.Linear(d_model, hidden, bias=False)
        self.up = nn.Linear(d_model, hidden, bias=False)
        self.down = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class GPT(nn.Module):
    def __init__(self, vocab: int = 32000, d_model: int = 4096, layers: int = 32, heads: int = 32,
                 context: int = 2048) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Parameter(torch.zeros(context, d_model))  # held directly by the model
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, 4 * d_model) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tokens(idx) + self.positions[: idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def gpt_child() -> None:
    """Runs in a fresh process: build the decoder on meta, profile it, print JSON with the measurements."""
    started = time.perf_counter()
    with torch.device("meta"):
        model = GPT()
    built = time.perf_counter()
    report = nncost.profile(model, (1, 2048), input_dtype=torch.long)
    done = time.perf_counter()
    print(json.dumps({
        "params": report.params,
        "macs": report.macs,
        "peak_activation_bytes": report.peak_activation_bytes,
        "build_s": built - started,
        "profile_s": done - built,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KiB
        "vmhwm_mb": _vmhwm_mb(),
    }))


def _vmhwm_mb() -> float | None:
    """Peak resident set of this process image (Linux /proc VmHWM, not inherited across fork/exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    torch.set_num_threads(THREADS)
    print(f"torch {torch.__version__}, torch.set_num_threads({THREADS}) (CPU threads for the real forward)")
    # The decoder's subprocess starts first, while this process is small: on Linux a child's ru_maxrss
    # includes the resident size of the parent it was forked from, so it must not follow the ResNet forward.
    out = subprocess.run([sys.executable, __file__, "--gpt-child"], capture_output=True, text=True, check=True)
    gpt = json.loads(out.stdout.strip().splitlines()[-1])

    model = ResNet50().eval()
    shape = (64, 3, 224, 224)
    report = nncost.profile(model, shape)  # warm-up (imports, first-call caches)
    profile_s = best_of(3, lambda: nncost.profile(model, shape))
    x = torch.randn(shape)
    started = time.perf_counter()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    reference_s = time.perf_counter() - started
    ratio = reference_s / profile_s
    torch_macs = counter.get_total_flops() // 2
    print("\n1. ResNet-50 (paper layout), batch 64 × 3 × 224 × 224")
    print(f"   params {report.params:,}; MACs nncost {report.macs:,} / FlopCounterMode {torch_macs:,} "
          f"({'equal' if report.macs == torch_macs else 'DIFFERENT'})")
    print(f"   peak activation memory {report.peak_activation_bytes / 1e9:.2f} GB (inference), "
          f"total activation memory {report.total_activation_bytes / 1e9:.2f} GB")
    print(f"   nncost.profile on meta (best of 3):        {profile_s * 1e3:8.1f} ms")
    print(f"   FlopCounterMode over a real CPU forward:   {reference_s * 1e3:8.1f} ms")
    print(f"   ratio {ratio:.0f}× faster; target ≥ 20×: {'met' if ratio >= 20 else 'NOT met'}")

    weights_gb = gpt["params"] * 4 / 1e9
    print("\n2. GPT-style decoder on meta (fresh subprocess), batch 1 × 2048 tokens")
    print(f"   params {gpt['params']:,} ({gpt['params'] / 1e9:.2f} B; fp32 weights would be {weights_gb:.1f} GB)")
    print(f"   MACs {gpt['macs']:,} ({gpt['macs'] / 1e12:.2f} T); peak activation memory "
          f"{gpt['peak_activation_bytes'] / 1e9:.2f} GB (counted, never allocated)")
    print(f"   build on meta {gpt['build_s']:.2f} s; nncost.profile {gpt['profile_s']:.2f} s "
          f"(target < 5 s: {'met' if gpt['profile_s'] < 5 else 'NOT met'})")
    hwm = "n/a" if gpt["vmhwm_mb"] is None else f"{gpt['vmhwm_mb']:.0f} MB"
    print(f"   peak resident memory of the process (ru_maxrss) {gpt['maxrss_mb']:.0f} MB, torch included "
          f"(target < 500 MB: {'met' if gpt['maxrss_mb'] < 500 else 'NOT met'}; /proc VmHWM {hwm})")


if __name__ == "__main__":
    if "--gpt-child" in sys.argv:
        gpt_child()
    else:
        main()
