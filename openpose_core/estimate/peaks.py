"""Heatmap peak search, identical to the reference's rule but only where peaks can exist.

Rule (reference §3.4): smooth with a σ=3 Gaussian; a pixel is a peak when its smoothed value is
``>=`` each of its 4 axial neighbours (0 outside the image) and ``> threshold``. Peaks are listed
row-major; their score is the unsmoothed map value. We evaluate the smoothed map only on blocks whose
rows and columns can exceed the threshold (proved by :meth:`SeparableMaps.upper_bounds`).
"""
from __future__ import annotations

from typing import Iterator, List, Tuple

import numpy as np

from .maps import SeparableMaps

PEAK_THRESHOLD = 0.1


def _runs(mask: np.ndarray) -> Iterator[Tuple[int, int]]:
    """Half-open index ranges of consecutive True values."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return zip(edges[0::2], edges[1::2])


def _block_peaks(smoothed: SeparableMaps, channel: int, rows: Tuple[int, int], cols: Tuple[int, int],
                 threshold: float) -> np.ndarray:
    """Peaks (y, x) inside one candidate block; a 1-pixel margin supplies the neighbours."""
    (y0, y1), (x0, x1) = rows, cols
    top, left = max(y0 - 1, 0), max(x0 - 1, 0)
    bottom, right = min(y1 + 1, smoothed.height), min(x1 + 1, smoothed.width)
    # The zero frame stands for "outside the image"; it is read only where the block touches a border,
    # elsewhere the margin rows/columns are the neighbours.
    values = np.zeros((bottom - top + 2, right - left + 2))
    values[1:-1, 1:-1] = smoothed.block(channel, slice(top, bottom), slice(left, right))
    oy, ox = y0 - top + 1, x0 - left + 1
    core = values[oy:oy + y1 - y0, ox:ox + x1 - x0]
    is_peak = (
        (core > threshold)
        & (core >= values[oy - 1:oy - 1 + y1 - y0, ox:ox + x1 - x0])
        & (core >= values[oy + 1:oy + 1 + y1 - y0, ox:ox + x1 - x0])
        & (core >= values[oy:oy + y1 - y0, ox - 1:ox - 1 + x1 - x0])
        & (core >= values[oy:oy + y1 - y0, ox + 1:ox + 1 + x1 - x0])
    )
    ys, xs = np.nonzero(is_peak)
    return np.stack([ys + y0, xs + x0], axis=1)


def find_peaks(smoothed: SeparableMaps, plain: SeparableMaps, parts: int = 18,
               threshold: float = PEAK_THRESHOLD) -> List[np.ndarray]:
    """Per part, an ``n x 3`` float64 array of peaks ``(x, y, score)`` in row-major order."""
    peaks = []
    for part in range(parts):
        row_bound, col_bound = smoothed.upper_bounds(part)
        found = [
            _block_peaks(smoothed, part, rows, cols, threshold)
            for rows in _runs(row_bound > threshold)
            for cols in _runs(col_bound > threshold)
        ]
        yx = np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)
        yx = yx[np.lexsort((yx[:, 1], yx[:, 0]))]
        scores = plain.at(part, yx[:, 0], yx[:, 1])
        peaks.append(np.column_stack([yx[:, 1], yx[:, 0], scores]).astype(np.float64))
    return peaks
