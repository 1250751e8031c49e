"""The body network: COCO-18 part heatmaps and part-affinity fields (two-branch CPM, six stages).

Module keys are ``backbone.<layer>``, ``paf_stages.<i>.<layer>`` and ``heatmap_stages.<i>.<layer>``;
the published ``body_pose_model.pth`` stores the bare Caffe names (``conv1_1.weight``,
``Mconv7_stage6_L2.bias``): the reference drops its block names when loading (``util.transfer``).
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from . import FEATURES, VGG_STEM, Row, conv_stack, refinement_rows, rename_from_published, rename_to_published

N_PAFS = 38
"""PAF channels: x and y for each of the 19 limbs (branch L1)."""
N_HEATMAPS = 19
"""Heatmap channels: 18 parts plus background (branch L2)."""

BACKBONE: Tuple[Row, ...] = VGG_STEM + (("conv4_3_CPM", 512, 256), ("conv4_4_CPM", 256, FEATURES))


def stage_rows(stage: int, branch: int) -> Tuple[Row, ...]:
    """Rows of one branch (1 = PAFs, 2 = heatmaps) of one stage (1-6)."""
    n_out = N_PAFS if branch == 1 else N_HEATMAPS
    if stage == 1:
        suffix = f"_CPM_L{branch}"
        return (
            *((f"conv5_{i}{suffix}", FEATURES, 128) for i in (1, 2, 3)),
            (f"conv5_4{suffix}", 128, 512, 1),
            (f"conv5_5{suffix}", 512, n_out, 1, False),
        )
    # The reference's no-ReLU list names Mconv7_stage6_L1 twice and omits Mconv7_stage6_L2, so its final
    # heatmaps pass through a ReLU. Kept: the published weights were always run that way.
    final_heatmaps = stage == 6 and branch == 2
    return refinement_rows(f"_stage{stage}_L{branch}", N_PAFS + N_HEATMAPS + FEATURES, n_out, final_heatmaps)


class BodyNet(nn.Module):
    """``N x 3 x H x W`` (BGR / 256 - 0.5) -> (PAFs ``N x 38 x h x w``, heatmaps ``N x 19 x h x w``), h = H // 8.

    Each later stage reads [previous PAFs, previous heatmaps, backbone features] (185 channels).
    """

    def __init__(self) -> None:
        super().__init__()
        self.backbone = conv_stack(BACKBONE)
        self.paf_stages = nn.ModuleList(conv_stack(stage_rows(stage, 1)) for stage in range(1, 7))
        self.heatmap_stages = nn.ModuleList(conv_stack(stage_rows(stage, 2)) for stage in range(1, 7))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        features = self.backbone(x)
        pafs = heatmaps = None
        for paf_stage, heatmap_stage in zip(self.paf_stages, self.heatmap_stages):
            stage_input = features if pafs is None else torch.cat([pafs, heatmaps, features], 1)
            pafs, heatmaps = paf_stage(stage_input), heatmap_stage(stage_input)
        return pafs, heatmaps


def from_published(state_dict: dict) -> dict:
    """Published body keys -> BodyNet keys (``Mconv7_stage6_L2.bias`` -> ``heatmap_stages.5.<same>``)."""
    return rename_from_published(BodyNet, state_dict)


def to_published(state_dict: dict) -> dict:
    """BodyNet keys -> published body keys (the inverse of ``from_published``)."""
    return rename_to_published(state_dict)
