"""Hand keypoints: boxes from the arms, batched multi-size crop inference, blob peaks.

Each step reproduces the reference (controlnet-aux 0.0.10, reference-behaviour.md §4) so that the same
network gives the same points. Only the organisation differs: every crop of every person and image
goes through the network together, one batch per input size, and the maps reach the averaging grid
by two small matrix products instead of OpenCV's 8x enlargement and shrink (the same linear operator,
equal within float rounding); the rare decision closer than that rounding is taken on OpenCV's own
resizes, so the points stay the reference's.
"""
from __future__ import annotations

import math
from functools import lru_cache, partial
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from ..pose import NUM_HAND, Keypoint, Points
from .crops import Peak, crop, crop_keypoints, network_device, run_network, smart_resize
from .maps import axis_matrix, resize_interpolation

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
NEAR_TIE = 2e-6
"""The fast grid's values are within ~6e-7 of OpenCV's per unit of map magnitude (measured); a decision closer
than this (times the magnitude) is redone with OpenCV's resizes."""
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
    raw = _raw_maps(views, network, network_device(network, device), sizes, autocast_dtype, chunk_size)
    average = sum(_fast_grid(maps) for maps in raw) / len(sizes)
    peaks = [_peaks(average[index], view.shape[:2], partial(_exact_channel, [maps[index] for maps in raw]))
             for index, view in enumerate(views)]
    return [crop_keypoints(found, box) for found, (_, box) in zip(peaks, crops)]


def _raw_maps(views: List[np.ndarray], network, device, sizes, autocast_dtype, chunk_size) -> List[np.ndarray]:
    """Per size, the ``N x 21 x s/8 x s/8`` float32 heatmaps of every crop (blurred, resized to ``s``)."""
    blurred = [cv2.GaussianBlur(view, (0, 0), _PRE_BLUR_SIGMA) for view in views]
    raw = []
    for size in sizes:
        batch = np.stack([smart_resize(image, size, size) for image in blurred])
        outputs = run_network(network, batch, device, autocast_dtype=autocast_dtype, chunk_size=chunk_size)
        raw.append(np.concatenate([output[:, :NUM_HAND].cpu().numpy() for output in outputs]))
    return raw


@lru_cache(maxsize=16)
def _grid_matrix(side: int) -> np.ndarray:
    """``GRID x side`` matrix of the reference's map chain along one axis: LANCZOS4 x8, then AREA to GRID."""
    upsample = axis_matrix(side, side * STRIDE, cv2.INTER_LANCZOS4)
    shrink = axis_matrix(side * STRIDE, GRID, resize_interpolation((side * STRIDE,) * 2, (GRID, GRID)))
    grid = shrink @ upsample
    grid.setflags(write=False)
    return grid


def _fast_grid(maps: np.ndarray) -> np.ndarray:
    """``N x C x h x w`` maps -> ``N x GRID x GRID x C`` float64 as two matrix products (the resizes are
    linear): :func:`_to_grid`'s values within float rounding (see :data:`NEAR_TIE`), without the 8x image."""
    n, channels, h, w = maps.shape
    columns = maps.reshape(n * channels * h, w).astype(np.float64) @ _grid_matrix(w).T
    rows = _grid_matrix(h) @ columns.reshape(n * channels, h, GRID).transpose(1, 0, 2).reshape(h, -1)
    return rows.reshape(GRID, n, channels, GRID).transpose(1, 0, 3, 2)


def _to_grid(maps: np.ndarray) -> np.ndarray:
    """``N x C x h x w`` network maps -> ``N x GRID x GRID x C`` float32: LANCZOS4 x8, then AREA, exactly as
    the reference resizes (used where :func:`_fast_grid` cannot settle a near tie).

    All maps become channels of one image and are resized in groups of OpenCV's channel limit; each
    group is shrunk right after it is enlarged, so only one big group is alive.
    """
    n, channels, h, w = maps.shape
    stacked = maps.transpose(2, 3, 0, 1).reshape(h, w, n * channels)
    groups = [smart_resize(smart_resize(np.ascontiguousarray(stacked[:, :, first:first + _CV_MAX_AREA_CHANNELS]),
                                        h * STRIDE, w * STRIDE), GRID, GRID)
              for first in range(0, n * channels, _CV_MAX_AREA_CHANNELS)]
    return np.concatenate(groups, axis=2).reshape(GRID, GRID, n, channels).transpose(2, 0, 1, 3)


def _exact_channel(raw: List[np.ndarray], part: int) -> np.ndarray:
    """One part's ``GRID x GRID`` map of one crop through the reference's own resizes, summed as it sums them."""
    exact = np.zeros((GRID, GRID))
    for maps in raw:
        exact += _to_grid(maps[None, part:part + 1])[0, :, :, 0] / len(raw)
    return exact


def _peaks(average: np.ndarray, crop_shape: Tuple[int, int],
           exact_channel: Optional[Callable[[int], np.ndarray]] = None) -> List[Peak]:
    """Per part: the heaviest blob of the smoothed map's > 0.05 region, its first maximum, in crop pixels.

    Grid cell (row, col) maps to crop pixel ``col * W // GRID`` (the cell's truncated left edge), as
    the reference does. ``average`` may be the fast grid; then a part whose decision is closer than
    its precision (a smoothed value at the threshold, two blob masses or two top values within
    :data:`NEAR_TIE` times the maps' magnitude) is decided again on ``exact_channel(part)``.
    """
    smoothed = cv2.GaussianBlur(average, **_PEAK_BLUR)
    margin = NEAR_TIE * max(1.0, float(np.abs(average).max())) if exact_channel else 0.0
    height, width = crop_shape
    peaks = []
    for part in range(NUM_HAND):
        try:
            peak = _blob_peak(average[:, :, part], smoothed[:, :, part], margin)
        except _NearTie:
            values = exact_channel(part)
            peak = _blob_peak(values, cv2.GaussianBlur(values, **_PEAK_BLUR), 0.0)
        peaks.append(None if peak is None else (peak[1] * width // GRID, peak[0] * height // GRID, peak[2]))
    return peaks


class _NearTie(Exception):
    """A peak decision closer than the fast grid's precision."""


def _blob_peak(values: np.ndarray, smoothed: np.ndarray, margin: float) -> Optional[Tuple[int, int, float]]:
    """``(row, col, value)`` of the first maximum of ``values`` inside the heaviest 8-connected blob of
    ``smoothed > 0.05``; raises :class:`_NearTie` for a decision within ``margin``.

    Values outside the blob count as 0, as in the reference (which zeroes them before its argmax).
    """
    if margin and (np.abs(smoothed - PEAK_THRESHOLD) <= margin).any():
        raise _NearTie
    passing = np.ascontiguousarray(smoothed > PEAK_THRESHOLD, dtype=np.uint8)
    if not passing.any():
        return None
    count, labels = cv2.connectedComponents(passing, connectivity=8)
    blob = _heaviest_blob(values, labels, margin) if count > 2 else 1
    kept = np.where(labels == blob, values, 0.0)
    if margin and _too_close(kept.ravel(), margin):
        raise _NearTie
    row, col = np.unravel_index(np.argmax(kept), kept.shape)
    return int(row), int(col), float(kept[row, col])


def _heaviest_blob(values: np.ndarray, labels: np.ndarray, margin: float) -> int:
    """Label of the blob with the largest sum of ``values``; ties go to the blob met first in raster
    order (the reference's labels are numbered that way, OpenCV's need not be). Each blob is summed
    as the reference sums it (numpy over the masked values), so the choice is bit-for-bit its own."""
    blobs = raster_ordered_labels(labels)
    masses = np.array([values[labels == blob].sum() for blob in blobs])
    if margin and _too_close(masses, margin * labels.size):
        raise _NearTie
    return int(blobs[np.argmax(masses)])


def _too_close(values: np.ndarray, margin: float) -> bool:
    """Whether the largest of ``values`` is within ``margin`` of the next."""
    return np.count_nonzero(values >= values.max() - margin) > 1


def raster_ordered_labels(labels: np.ndarray) -> np.ndarray:
    """The non-zero labels of a label image, sorted by the raster position of each blob's first pixel."""
    ids, first = np.unique(labels, return_index=True)
    return ids[ids > 0][np.argsort(first[ids > 0])]
