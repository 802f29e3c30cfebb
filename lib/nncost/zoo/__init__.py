"""The book's models, written from their papers (not copied from any library).

Each constructor's docstring names the paper, the input size it expects and which variant it builds.
Parameter counts are checked against the papers' (or derived) values in ``tests/``.
"""

from nncost.zoo.alexnet import alexnet
from nncost.zoo.densenet import densenet121
from nncost.zoo.googlenet import googlenet
from nncost.zoo.gpt import KVCache, gpt2, gpt2_large, gpt2_medium, gpt2_small, gpt2_tiny, gpt2_xl
from nncost.zoo.inception import inception_v3
from nncost.zoo.lenet import lenet5
from nncost.zoo.llama import llama, llama2_7b, llama3_8b, llama_tiny, mistral_7b
from nncost.zoo.mobilenet import mobilenet_v1
from nncost.zoo.resnet import resnet18, resnet34, resnet50
from nncost.zoo.vgg import vgg, vgg11, vgg16, vgg19
from nncost.zoo.vit import vit, vit_b16, vit_l16, vit_tiny

__all__ = [
    "KVCache",
    "alexnet",
    "densenet121",
    "googlenet",
    "gpt2",
    "gpt2_large",
    "gpt2_medium",
    "gpt2_small",
    "gpt2_tiny",
    "gpt2_xl",
    "inception_v3",
    "lenet5",
    "llama",
    "llama2_7b",
    "llama3_8b",
    "llama_tiny",
    "mistral_7b",
    "mobilenet_v1",
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg",
    "vgg11",
    "vgg16",
    "vgg19",
    "vit",
    "vit_b16",
    "vit_l16",
    "vit_tiny",
]
