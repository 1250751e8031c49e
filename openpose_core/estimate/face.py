"""Face keypoints: the box from the head points, one batched network run, per-landmark maxima.

Reproduces the reference (controlnet-aux 0.0.10, reference-behaviour.md §5) with two deliberate fixes:
the background channel is not reported as a 71st point, and a landmark too faint to report keeps its
index as None instead of shifting the later landmarks down.
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..pose import NUM_FACE, Keypoint, Points
from .crops import Peak, crop, crop_keypoints, network_device, run_network, smart_resize

FACE_INPUT = 384  # every face crop is resized to 384 x 384 for the network
PEAK_THRESHOLD = 0.05
_REACH = ((14, 3.0), (15, 3.0), (16, 1.5), (17, 1.5))  # eyes reach 3x, ears 1.5x their distance to the nose


class FaceBox(NamedTuple):
    """Top-left corner and side of a face crop in detect-image pixels (it may reach past the image)."""

    x: int
    y: int
    size: int


def face_box(body: Sequence[Optional[Keypoint]], width: int, height: int) -> Optional[FaceBox]:
    """The reference's face box for one person, or None.

    ``body`` is the 18 COCO body points in detect-image pixels with None for missing ones (as in
    ``Person.body``). It needs the nose and at least one eye or ear. The half side is the largest of
    3 x (eye's) and 1.5 x (ear's) Chebyshev distance to the nose; the box is centred on the nose and
    clamped at the top/left edge. Overflow quirk kept for parity: the bottom/right test compares
    ``x + half`` (not ``x + 2 * half``) with the image, so a box can reach past the image; the crop is
    then cut at the border and is not square (:func:`crops.crop`). Boxes under 20 px are dropped.
    """
    nose = body[0]
    reaches = [] if nose is None else [factor * max(abs(nose.x - body[index].x), abs(nose.y - body[index].y))
                                       for index, factor in _REACH if body[index] is not None]
    if not reaches:
        return None
    half = max(reaches)
    x = max(nose.x - half, 0)
    y = max(nose.y - half, 0)
    size = min(width - x if x + half > width else 2 * half, height - y if y + half > height else 2 * half)
    return FaceBox(int(x), int(y), int(size)) if size >= 20 else None


def estimate_faces(crops: Sequence[Tuple[np.ndarray, Sequence[int]]], network: torch.nn.Module, *,
                   device=None, autocast_dtype: Optional[torch.dtype] = None, chunk_size: int = 8) -> List[Points]:
    """70 face keypoints per ``(detect image, box)`` pair, in detect-image pixels, at fixed indices.

    ``detect image`` is BGR uint8; pairs may come from several people and images. ``network`` maps
    ``N x 3 x 384 x 384`` to ``N x 71 x 48 x 48`` (or a list of stage outputs, the last one used);
    channel 70, the background, is ignored. ``chunk_size`` bounds the crops per forward pass. Each
    landmark is the first maximum of its map upsampled to the crop (bilinear, corners aligned), kept
    when above 0.05, with that value as confidence. A point is None when its map stays at or below the
    threshold or its peak lies on the crop's top row or left column (see :func:`crops.crop_keypoints`).
    A face whose points are all None is still a list of 70 Nones (the reference returns no face when
    no channel, background included, passes); deciding ``Person.face = None`` is the caller's choice.
    """
    if not crops:
        return []
    views = [crop(image, box) for image, box in crops]
    batch = np.stack([smart_resize(view, FACE_INPUT, FACE_INPUT) for view in views])
    outputs = (maps for chunk in run_network(network, batch, network_device(network, device),
                                             autocast_dtype=autocast_dtype, chunk_size=chunk_size)
               for maps in chunk)
    return [crop_keypoints(_peaks(maps, view.shape[:2]), box)
            for maps, view, (_, box) in zip(outputs, views, crops)]


def _peaks(maps: torch.Tensor, crop_shape: Tuple[int, int]) -> List[Peak]:
    """First row-major maximum of each landmark map upsampled to the crop, as the reference finds it.

    The interpolation call is the reference's own (all 71 channels, contiguous layout): torch's
    rounding can depend on the tensor's shape and layout, and a first maximum on bit-identical
    values is then the same pixel. (A cheaper exact search, interpolating only the columns that can
    hold the maximum, was not bit-identical: torch rounds a column differently with the row width.)
    """
    height, width = crop_shape
    upsampled = F.interpolate(maps[None], (height, width), mode="bilinear", align_corners=True)[0, :NUM_FACE]
    flat = upsampled.flatten(1)
    index = flat.argmax(dim=1)
    value = flat.gather(1, index[:, None])[:, 0]
    found = (value > PEAK_THRESHOLD).tolist()
    return [(i % width, i // width, v) if ok else None
            for i, v, ok in zip(index.tolist(), value.tolist(), found)]
