"""The hand network: 21 keypoint heatmaps plus background (single-branch CPM, six stages).

``CascadeNet`` is the architecture CMU trained for hands and reused, with 71 maps, for faces.
Module keys are ``backbone.<layer>`` and ``stages.<i>.<layer>``; the published ``hand_pose_model.pth``
stores the bare Caffe names (``conv1_1.weight``, ``Mconv7_stage6.bias``).
"""
from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn

from . import FEATURES, VGG_STEM, Row, conv_stack, refinement_rows, rename_from_published, rename_to_published

BACKBONE: Tuple[Row, ...] = VGG_STEM + (
    ("conv4_3", 512, 512), ("conv4_4", 512, 512), ("conv5_1", 512, 512), ("conv5_2", 512, 512),
    ("conv5_3_CPM", 512, FEATURES),
)


class CascadeNet(nn.Module):
    """A VGG backbone and six stages; each later stage reads [previous stage's maps, backbone features]."""

    def __init__(self, n_maps: int) -> None:
        super().__init__()
        self.backbone = conv_stack(BACKBONE)
        first = (("conv6_1_CPM", FEATURES, 512, 1), ("conv6_2_CPM", 512, n_maps, 1, False))
        later = (refinement_rows(f"_stage{stage}", n_maps + FEATURES, n_maps) for stage in range(2, 7))
        self.stages = nn.ModuleList(conv_stack(rows) for rows in (first, *later))

    def stage_outputs(self, x: torch.Tensor) -> List[torch.Tensor]:
        """The maps of all six stages, first to last."""
        features = self.backbone(x)
        maps = [self.stages[0](features)]
        for stage in self.stages[1:]:
            maps.append(stage(torch.cat([maps[-1], features], 1)))
        return maps


class HandNet(CascadeNet):
    """``N x 3 x H x W`` (BGR / 256 - 0.5) -> stage-6 heatmaps ``N x 22 x H//8 x W//8`` (21: background)."""

    def __init__(self) -> None:
        super().__init__(n_maps=22)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage_outputs(x)[-1]


def from_published(state_dict: dict) -> dict:
    """Published hand keys -> HandNet keys (``Mconv7_stage6.bias`` -> ``stages.5.Mconv7_stage6.bias``)."""
    return rename_from_published(HandNet, state_dict)


def to_published(state_dict: dict) -> dict:
    """HandNet keys -> published hand keys (the inverse of ``from_published``)."""
    return rename_to_published(state_dict)
