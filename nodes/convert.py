"""ComfyUI values <-> library values: IMAGE tensors <-> RGB uint8 arrays, POSE_KEYPOINT <-> PoseFrames."""
from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import List

import numpy as np
import torch

from ..openpose_core.formats import frame_to_dict, read_poses
from ..openpose_core.image import ImageError, as_rgb_uint8
from ..openpose_core.pose import PoseFrame

logger = logging.getLogger(__name__)


class ImageFrames(Sequence):
    """The frames of an IMAGE batch (``[B, H, W, C]`` float 0..1) as RGB uint8 arrays, converted when
    read, so a long video never exists twice in memory. With ``keep_alpha`` a 4-channel batch comes back
    RGBA instead of composited over white, for readers to whom transparent means something else (a
    skeleton map's black background)."""

    def __init__(self, image: torch.Tensor, keep_alpha: bool = False):
        if not isinstance(image, torch.Tensor) or image.ndim != 4:
            raise ValueError(f"expected an IMAGE batch [B, H, W, C], got {getattr(image, 'shape', type(image))}")
        if image.shape[0] == 0:
            raise ValueError(f"the IMAGE batch is empty (0 images, {image.shape[2]} x {image.shape[1]}): nothing to "
                             "read poses from; check the node that made it")
        self.image = image
        self.keep_alpha = keep_alpha and image.shape[-1] == 4

    def __len__(self) -> int:
        return self.image.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        frame = self.image[index].detach().float()
        if not torch.isfinite(frame).all():
            raise ImageError(f"image {index}: contains NaN or infinite values")
        pixels = (frame.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        return np.ascontiguousarray(pixels) if self.keep_alpha else as_rgb_uint8(pixels, f"image {index}")


def to_image(pictures: Sequence[np.ndarray]) -> torch.Tensor:
    """Equal-size RGB uint8 pictures -> IMAGE (float32 ``[B, H, W, 3]`` in 0..1, on the CPU)."""
    return torch.from_numpy(np.stack(pictures)).float().div_(255.0)


class PoseKeypoint(list):
    """POSE_KEYPOINT as the ecosystem passes it (a list of frame dicts: pixels, 1.0 for present points) that
    also keeps the PoseFrames it was written from, so our nodes get back what the JSON drops (real
    confidences, feet, person ids). The frames are used only while the dicts are exactly as written: a
    node of another pack that changed them in place is read from the dicts."""

    def __init__(self, frames: Sequence[PoseFrame]):
        frames = [frame.copy() for frame in frames]
        super().__init__(frame_to_dict(frame) for frame in frames)
        self.frames = frames
        self._written = copy.deepcopy(list(self))

    def unchanged(self) -> bool:
        return list(self) == self._written


def to_frames(pose_keypoint, *, coordinates: str = "auto", name: str = "pose_keypoint") -> List[PoseFrame]:
    """PoseFrames (pixels) of any POSE_KEYPOINT: ours, controlnet_aux OpenPose (normalised), DWPose and the
    editors (pixels), one dict or a list; what the reader skipped or guessed is logged."""
    if isinstance(pose_keypoint, PoseKeypoint) and pose_keypoint.unchanged() and coordinates == "auto":
        return [frame.copy() for frame in pose_keypoint.frames]
    if pose_keypoint is None:
        raise ValueError(f"{name}: no pose given")
    notes: List[str] = []
    frames = read_poses(pose_keypoint, coordinates=coordinates, notes=notes)
    for note in notes:
        logger.warning("%s: %s", name, note)
    if not frames:
        raise ValueError(f"{name}: holds no frames")
    return frames

