"""The book's models, written from their papers (not copied from any library).

Each constructor's docstring names the paper, the input size it expects and which variant it builds.
Parameter counts are checked against the papers' (or derived) values in ``tests/``.
"""

from nncost.zoo.alexnet import alexnet
from nncost.zoo.densenet import densenet121
from nncost.zoo.googlenet import googlenet
from nncost.zoo.inception import inception_v3
from nncost.zoo.lenet import lenet5
from nncost.zoo.mobilenet import mobilenet_v1
from nncost.zoo.resnet import resnet18, resnet34, resnet50
from nncost.zoo.vgg import vgg, vgg11, vgg16, vgg19

__all__ = [
    "alexnet",
    "densenet121",
    "googlenet",
    "inception_v3",
    "lenet5",
    "mobilenet_v1",
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg",
    "vgg11",
    "vgg16",
    "vgg19",
]
