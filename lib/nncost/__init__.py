"""nncost: derive and verify the parameters, MACs/FLOPs and activations of neural networks.

The layer formulas are pure Python; ``torch`` is needed only by :mod:`nncost.torch_counts` and
``matplotlib`` only by :mod:`nncost.figures`.
"""

from nncost.layers import LayerCost, activation, batchnorm2d, conv1d, conv2d, linear, mlp, pool2d
from nncost.profiler import profile
from nncost.report import LayerRow, ProfileReport, ReportTable
from nncost.shapes import ReceptiveField, output_size, receptive_field, same_padding
from nncost.table import CostTable, table
from nncost.torch_counts import torch_macs, torch_params
from nncost.verify import VerificationError, VerifyResult, VerifyRow, verify

__version__ = "0.1.0"

__all__ = [
    "CostTable",
    "LayerCost",
    "LayerRow",
    "ProfileReport",
    "ReceptiveField",
    "ReportTable",
    "VerificationError",
    "VerifyResult",
    "VerifyRow",
    "activation",
    "batchnorm2d",
    "conv1d",
    "conv2d",
    "linear",
    "mlp",
    "output_size",
    "pool2d",
    "profile",
    "receptive_field",
    "same_padding",
    "table",
    "torch_macs",
    "torch_params",
    "verify",
]
