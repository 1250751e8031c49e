"""Hand keypoints: boxes from the arms, batched multi-size crop inference, blob peaks.

Each step reproduces the reference (controlnet-aux 0.0.10, reference-behaviour.md §4) so that the same
network gives the same points. Only the organisation differs: every crop of every person and image
goes through the network together, one batch per input size, and each OpenCV resize handles many
map channels per call (bit-identical to the reference's one channel per call).
"""
from __future__ import annotations

import math
from typing import List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from ..pose import NUM_HAND, Keypoint, Points
from .crops import Peak, crop, crop_keypoints, network_device, run_network, smart_resize

HAND_SIZES = (184, 368, 552, 736)
"""The reference's four absolute network input sides (scales 0.5..2 of 368), whatever the crop size."""
FAST_HAND_SIZES = (368,)
"""Opt-in preset: one size, ~7.5x less network work than :data:`HAND_SIZES`; points can move."""

GRID = 128  # the maps of all sizes are averaged on a GRID x GRID map of the crop
STRIDE = 8
PEAK_THRESHOLD = 0.05
_PRE_BLUR_SIGMA = 0.8
_PEAK_BLUR = dict(ksize=(25, 25), sigmaX=3, borderType=cv2.BORDER_REFLECT)  # = scipy gaussian_filter(sigma=3)
_CV_MAX_AREA_CHANNELS = 4
_ARMS = ((True, (5, 6, 7)), (False, (2, 3, 4)))  # (is_left, shoulder/elbow/wrist); left first


class HandBox(NamedTuple):
    """A square crop of the detect image: top-left corner, side, and which hand (the person's left)."""

    x: int
    y: int
    size: int
    is_left: bool


def hand_boxes(body: Sequence[Optional[Keypoint]], width: int, height: int) -> List[HandBox]:
    """The reference's hand boxes for one person (left hand first).

    ``body`` is the 18 COCO body points in detect-image pixels with None for missing ones (as in
    ``Person.body``; use ``pose.array_to_points`` for a NaN-row array). A hand needs its shoulder,
    elbow and wrist. The box is centred a third of the forearm beyond the wrist, its side 1.5 x the
    longer of forearm and 0.9 x upper arm; it is clamped at the top/left edge, shrunk (staying square)
    at the bottom/right edge, dropped below 20 px, and truncated to ints, all in the reference's float
    arithmetic so boxes match it exactly.
    """
    boxes = []
    for is_left, joints in _ARMS:
        shoulder, elbow, wrist = (body[index] for index in joints)
        if shoulder is None or elbow is None or wrist is None:
            continue
        x = wrist.x + 0.33 * (wrist.x - elbow.x)
        y = wrist.y + 0.33 * (wrist.y - elbow.y)
        size = 1.5 * max(_distance(wrist, elbow), 0.9 * _distance(elbow, shoulder))
        x = max(x - size / 2, 0)
        y = max(y - size / 2, 0)
        size = min(width - x if x + size > width else size, height - y if y + size > height else size)
        if size >= 20:
            boxes.append(HandBox(int(x), int(y), int(size), is_left))
    return boxes


def _distance(a: Keypoint, b: Keypoint) -> float:
    """Euclidean distance computed as the reference does (not ``math.hypot``, which rounds differently)."""
    return math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2)


def estimate_hands(crops: Sequence[Tuple[np.ndarray, Sequence[int]]], network: torch.nn.Module, *,
                   device=None, sizes: Sequence[int] = HAND_SIZES,
                   autocast_dtype: Optional[torch.dtype] = None, chunk_size: int = 8) -> List[Points]:
    """21 hand keypoints per ``(detect image, box)`` pair, in detect-image pixels.

    ``detect image`` is BGR uint8 (what the reference's networks see); pairs may come from several
    people and images. ``network`` maps ``N x 3 x s x s`` to ``N x 22 x s/8 x s/8`` (channel 21, the
    background, is ignored). ``sizes`` are the network input sides, multiples of 8; fewer than the
    default four is a faster approximation (:data:`FAST_HAND_SIZES`). ``chunk_size`` bounds the crops
    per forward pass (memory). ``confidence`` is the size-averaged heatmap value at the peak. A point is
    None where the reference reports it missing: no map value passes the threshold, or the peak lies
    on the crop's top row or left column (see :func:`crops.crop_keypoints`).
    """
    if any(size % STRIDE for size in sizes):
        raise ValueError(f"hand network sizes must be multiples of {STRIDE}, got {tuple(sizes)}")
    if not crops:
        return []
    views = [crop(image, box) for image, box in crops]
    average = _average_maps(views, network, network_device(network, device), sizes, autocast_dtype, chunk_size)
    return [crop_keypoints(_peaks(maps, view.shape[:2]), box)
            for maps, view, (_, box) in zip(average, views, crops)]


def _average_maps(views: List[np.ndarray], network, device, sizes, autocast_dtype, chunk_size) -> np.ndarray:
    """``N x GRID x GRID x 21`` float64 mean over ``sizes`` of each crop's heatmaps, as the reference sums it."""
    blurred = [cv2.GaussianBlur(view, (0, 0), _PRE_BLUR_SIGMA) for view in views]
    average = np.zeros((len(views), GRID, GRID, NUM_HAND))
    for size in sizes:
        batch = np.stack([smart_resize(image, size, size) for image in blurred])
        start = 0
        for output in run_network(network, batch, device, autocast_dtype=autocast_dtype, chunk_size=chunk_size):
            stop = start + len(output)
            average[start:stop] += _to_grid(output[:, :NUM_HAND]) / len(sizes)
            start = stop
    return average


def _to_grid(maps: torch.Tensor) -> np.ndarray:
    """``N x C x h x w`` network maps -> ``N x GRID x GRID x C`` float32: LANCZOS4 x8, then AREA.

    All maps of the chunk become channels of one image and are resized in groups of OpenCV's
    channel limit; each group is shrunk right after it is enlarged, so only one big group is alive.
    """
    n, channels, h, w = maps.shape
    stacked = maps.permute(2, 3, 0, 1).reshape(h, w, n * channels).cpu().numpy()
    groups = [smart_resize(smart_resize(np.ascontiguousarray(stacked[:, :, first:first + _CV_MAX_AREA_CHANNELS]),
                                        h * STRIDE, w * STRIDE), GRID, GRID)
              for first in range(0, n * channels, _CV_MAX_AREA_CHANNELS)]
    return np.concatenate(groups, axis=2).reshape(GRID, GRID, n, channels).transpose(2, 0, 1, 3)


def _peaks(average: np.ndarray, crop_shape: Tuple[int, int]) -> List[Peak]:
    """Per part: the heaviest blob of the smoothed map's > 0.05 region, its first maximum, in crop pixels.

    Grid cell (row, col) maps to crop pixel ``col * W // GRID`` (the cell's truncated left edge), as
    the reference does.
    """
    passing = np.ascontiguousarray(np.moveaxis(cv2.GaussianBlur(average, **_PEAK_BLUR) > PEAK_THRESHOLD, 2, 0),
                                   dtype=np.uint8)
    height, width = crop_shape
    peaks = []
    for part in range(NUM_HAND):
        peak = _blob_peak(average[:, :, part], passing[part])
        peaks.append(None if peak is None else (peak[1] * width // GRID, peak[0] * height // GRID, peak[2]))
    return peaks


def _blob_peak(values: np.ndarray, passing: np.ndarray) -> Optional[Tuple[int, int, float]]:
    """``(row, col, value)`` of the first maximum of ``values`` inside the heaviest 8-connected blob.

    Values outside the blob count as 0, as in the reference (which zeroes them before its argmax).
    """
    if not passing.any():
        return None
    count, labels = cv2.connectedComponents(passing, connectivity=8)
    blob = _heaviest_blob(values, labels) if count > 2 else 1
    kept = np.where(labels == blob, values, 0.0)
    row, col = np.unravel_index(np.argmax(kept), kept.shape)
    return int(row), int(col), float(kept[row, col])


def _heaviest_blob(values: np.ndarray, labels: np.ndarray) -> int:
    """Label of the blob with the largest sum of ``values``; ties go to the blob met first in raster
    order (the reference's labels are numbered that way, OpenCV's need not be). Each blob is summed
    as the reference sums it (numpy over the masked values), so the choice is bit-for-bit its own."""
    blobs = raster_ordered_labels(labels)
    masses = [values[labels == blob].sum() for blob in blobs]
    return int(blobs[np.argmax(masses)])


def raster_ordered_labels(labels: np.ndarray) -> np.ndarray:
    """The non-zero labels of a label image, sorted by the raster position of each blob's first pixel."""
    ids, first = np.unique(labels, return_index=True)
    return ids[ids > 0][np.argsort(first[ids > 0])]
