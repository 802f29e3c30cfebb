"""nncost: derive and verify the parameters, MACs/FLOPs and activations of neural networks.

The layer formulas are pure Python; ``torch`` is needed only by :mod:`nncost.torch_counts` and
``matplotlib`` only by :mod:`nncost.figures`.
"""

from nncost.energy import EnergyEstimate, estimate_energy
from nncost.layers import LayerCost, activation, batchnorm2d, conv1d, conv2d, linear, mlp, pool2d
from nncost.memory import model_size_bytes
from nncost.profiler import profile
from nncost.report import LayerRow, ProfileReport, ReportTable
from nncost.roofline import Roofline
from nncost.shapes import ReceptiveField, output_size, receptive_field, same_padding
from nncost.table import CostTable, table
from nncost.timing import BatchSweep, Timing, measure, measure_batches
from nncost.torch_counts import torch_macs, torch_params
from nncost.transformer import (
    attention,
    embedding,
    feed_forward,
    flops_per_token,
    kv_cache_bytes,
    lm_head,
    norm,
    training_flops_per_token,
    transformer_block,
)
from nncost.verify import VerificationError, VerifyResult, VerifyRow, verify

__version__ = "0.1.0"

__all__ = [
    "BatchSweep",
    "CostTable",
    "EnergyEstimate",
    "LayerCost",
    "LayerRow",
    "ProfileReport",
    "ReceptiveField",
    "ReportTable",
    "Roofline",
    "Timing",
    "VerificationError",
    "VerifyResult",
    "VerifyRow",
    "activation",
    "attention",
    "batchnorm2d",
    "conv1d",
    "conv2d",
    "embedding",
    "estimate_energy",
    "feed_forward",
    "flops_per_token",
    "kv_cache_bytes",
    "linear",
    "lm_head",
    "measure",
    "measure_batches",
    "mlp",
    "model_size_bytes",
    "norm",
    "output_size",
    "pool2d",
    "profile",
    "receptive_field",
    "same_padding",
    "table",
    "torch_macs",
    "torch_params",
    "training_flops_per_token",
    "transformer_block",
    "verify",
]
