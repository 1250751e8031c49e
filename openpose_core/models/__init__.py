"""The three OpenPose networks and the layer tables they are built from.

Each network is a cascade of plain conv stacks described by tables of rows. Every conv keeps its Caffe
layer name as its module name, so a module key always ends in the published checkpoint's flat key
(``<layer>.weight`` / ``<layer>.bias``) and the per-model key mappings only add or drop a block prefix.
``NETWORKS`` is the registry ``weights.py`` loads by kind; it knows nothing else about the models.
"""
from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Callable, Dict, Iterable, NamedTuple, Tuple, Union

import torch
from torch import nn

POOL = "pool"
"""A table row meaning a 2x2 max-pool with stride 2 (output floor(H/2) x floor(W/2))."""


class Conv(NamedTuple):
    """A table row: a stride-1 conv with "same" padding, followed by a ReLU unless ``relu`` is False."""

    name: str
    n_in: int
    n_out: int
    kernel: int = 3
    relu: bool = True


Row = Union[str, tuple]
"""``POOL`` or a tuple read as ``Conv(*row)``, so tables stay one short tuple per layer."""

VGG_STEM: Tuple[Row, ...] = (
    ("conv1_1", 3, 64), ("conv1_2", 64, 64), POOL,
    ("conv2_1", 64, 128), ("conv2_2", 128, 128), POOL,
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), ("conv3_4", 256, 256), POOL,
    ("conv4_1", 256, 512), ("conv4_2", 512, 512),
)
"""The VGG-19 start all three backbones share (output stride 8, 512 channels)."""

FEATURES = 128
"""Channels of the backbone feature map every stage after the first sees again."""


def conv_stack(rows: Iterable[Row]) -> nn.Sequential:
    """Build one block from table rows; convs are named by their Caffe names."""
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    for index, row in enumerate(rows):
        if row == POOL:
            layers[f"pool{index}"] = nn.MaxPool2d(kernel_size=2, stride=2)
            continue
        conv = Conv(*row)
        layers[conv.name] = nn.Conv2d(conv.n_in, conv.n_out, conv.kernel, padding=conv.kernel // 2)
        if conv.relu:
            layers[f"{conv.name}_relu"] = nn.ReLU(inplace=True)
    return nn.Sequential(layers)


def refinement_rows(suffix: str, n_in: int, n_out: int, relu_out: bool = False) -> Tuple[Row, ...]:
    """Rows of a CPM refinement stage (stages 2-6): five 7x7 convs, a 1x1, then the 1x1 prediction."""
    return (
        (f"Mconv1{suffix}", n_in, 128, 7),
        *((f"Mconv{i}{suffix}", 128, 128, 7) for i in range(2, 6)),
        (f"Mconv6{suffix}", 128, 128, 1),
        (f"Mconv7{suffix}", 128, n_out, 1, relu_out),
    )


def published_key(module_key: str) -> str:
    """The flat checkpoint key of a module key: the Caffe layer name and the parameter name."""
    return ".".join(module_key.split(".")[-2:])


@functools.lru_cache(maxsize=None)
def module_keys(net_class: Callable[[], nn.Module]) -> Dict[str, str]:
    """Published key -> module key for a network, read off a parameter-free (meta-device) instance."""
    with torch.device("meta"):
        keys = list(net_class().state_dict())
    table = {published_key(key): key for key in keys}
    if len(table) != len(keys):
        raise AssertionError(f"{net_class.__name__}: Caffe layer names are not unique")
    return table


def rename_from_published(net_class: Callable[[], nn.Module], state_dict: dict) -> dict:
    """Published keys -> ``net_class`` keys; keys the network lacks pass through unchanged."""
    table = module_keys(net_class)
    return {table.get(key, key): value for key, value in state_dict.items()}


def rename_to_published(state_dict: dict) -> dict:
    """Module keys -> published keys (drop the block prefix)."""
    return {published_key(key): value for key, value in state_dict.items()}


class Network(NamedTuple):
    """What ``weights.py`` needs to load one kind of network."""

    build: Callable[[], nn.Module]
    from_published: Callable[[dict], dict]
    to_published: Callable[[dict], dict]


# The model modules build on the helpers above, so they are imported once those exist.
from . import body, face, hand  # noqa: E402
from .body import BodyNet  # noqa: E402
from .face import FaceNet  # noqa: E402
from .hand import HandNet  # noqa: E402

NETWORKS: Dict[str, Network] = {
    "body": Network(BodyNet, body.from_published, body.to_published),
    "hand": Network(HandNet, hand.from_published, hand.to_published),
    "face": Network(FaceNet, face.from_published, face.to_published),
}
"""Kind -> network, in the order the detector runs them."""

__all__ = ["BodyNet", "HandNet", "FaceNet", "NETWORKS", "Network"]
