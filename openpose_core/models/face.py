"""The face network: 70 landmark heatmaps plus background, on the hand network's architecture.

The published ``facenet.pth`` (an OrderedDict) is keyed by the reference module's attribute names, which
are the same bare Caffe names the hand checkpoint uses (``conv1_1.weight``, ``Mconv7_stage6.bias``).
"""
from __future__ import annotations

from typing import List

import torch

from . import rename_from_published, rename_to_published
from .hand import CascadeNet


class FaceNet(CascadeNet):
    """``N x 3 x H x W`` (BGR / 256 - 0.5) -> list of the six stages' maps, each ``N x 71 x H//8 x W//8``.

    Callers use the last; the list is kept because the reference's contract returns it.
    """

    def __init__(self) -> None:
        super().__init__(n_maps=71)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return self.stage_outputs(x)


def from_published(state_dict: dict) -> dict:
    """Published face keys -> FaceNet keys (``Mconv7_stage6.bias`` -> ``stages.5.Mconv7_stage6.bias``)."""
    return rename_from_published(FaceNet, state_dict)


def to_published(state_dict: dict) -> dict:
    """FaceNet keys -> published face keys (the inverse of ``from_published``)."""
    return rename_to_published(state_dict)
