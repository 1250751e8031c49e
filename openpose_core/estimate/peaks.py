"""Heatmap peak search, identical to the reference's rule but only where peaks can exist.

Rule (reference §3.4): smooth with a σ=3 Gaussian; a pixel is a peak when its smoothed value is
``>=`` each of its 4 axial neighbours (0 outside the image) and ``> threshold``. Peaks are listed
row-major; their score is the unsmoothed map value. We evaluate the smoothed map only on tiles where
it can exceed the threshold (proved by :meth:`SeparableMaps.tile_bounds`).
"""
from __future__ import annotations

from typing import List

import numpy as np

from .maps import SeparableMaps

PEAK_THRESHOLD = 0.1
TILE = 16
TILES_PER_CHUNK = 4096  # bounds memory (~20 MB of windows) when a map passes the threshold almost everywhere


NEAR_TIE = 1e-5
"""Neighbours closer than this (relative) may be ordered wrongly by the float32 windows: decided in float64."""


def _tile_peaks(smoothed: SeparableMaps, tiles: np.ndarray, threshold: float) -> np.ndarray:
    """(part, y, x) rows of the peaks inside ``tiles`` (part, tile row, tile col)."""
    origins = tiles[:, 1:] * TILE
    values = smoothed.windows(tiles[:, 0], origins - 1, TILE + 2)
    core = values[:, 1:-1, 1:-1]
    # peaks, and pixels that float32 may have put just below a neighbour (core > threshold > 0)
    slack = core * (1 + NEAR_TIE)
    candidate = core > threshold
    for neighbour in (values[:, :-2, 1:-1], values[:, 2:, 1:-1], values[:, 1:-1, :-2], values[:, 1:-1, 2:]):
        candidate &= slack >= neighbour
    tile, ys, xs = np.nonzero(candidate)
    neighbours = np.stack([values[tile, ys, xs + 1], values[tile, ys + 2, xs + 1],
                           values[tile, ys + 1, xs], values[tile, ys + 1, xs + 2]])
    near = (neighbours > core[tile, ys, xs] * (1 - NEAR_TIE)).any(axis=0)
    peak = ~near
    peak[near] = _exact_peaks(smoothed, tiles[tile[near], 0], origins[tile[near], 0] + ys[near],
                              origins[tile[near], 1] + xs[near], threshold)
    tile, ys, xs = tile[peak], ys[peak], xs[peak]
    return np.stack([tiles[tile, 0], origins[tile, 0] + ys, origins[tile, 1] + xs])


def _exact_peaks(smoothed: SeparableMaps, parts: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                 threshold: float) -> np.ndarray:
    """The peak rule at pixels ``(parts[i], ys[i], xs[i])`` on float64 values (0 outside the image)."""
    result = np.zeros(len(ys), bool)
    for part in np.unique(parts):
        mine = parts == part
        values = []
        for dy, dx in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)):
            y, x = ys[mine] + dy, xs[mine] + dx
            inside = (y >= 0) & (y < smoothed.height) & (x >= 0) & (x < smoothed.width)
            value = np.zeros(len(y))
            value[inside] = smoothed.at(part, y[inside], x[inside])
            values.append(value)
        centre = values[0]
        result[mine] = (centre > threshold) & np.all([centre >= value for value in values[1:]], axis=0)
    return result


def find_peaks(smoothed: SeparableMaps, plain: SeparableMaps, parts: int = 18,
               threshold: float = PEAK_THRESHOLD) -> List[np.ndarray]:
    """Per part, an ``n x 3`` float64 array of peaks ``(x, y, score)`` in row-major order.

    Only tiles whose upper bound passes the threshold are evaluated, each with a 1-pixel halo for
    the neighbour test. A neighbour outside every evaluated tile is <= threshold, so it can never beat
    a pixel that passes; that is why skipping it is exact.
    """
    tiles = np.argwhere(smoothed.tile_bounds(parts, TILE) > threshold)  # (part, tile row, tile col)
    found = [_tile_peaks(smoothed, tiles[first:first + TILES_PER_CHUNK], threshold)
             for first in range(0, len(tiles), TILES_PER_CHUNK)]
    part, ys, xs = np.concatenate(found, axis=1) if found else np.zeros((3, 0), dtype=np.intp)
    order = np.lexsort((xs, ys, part))
    part, ys, xs = part[order], ys[order], xs[order]
    peaks = []
    for index in range(parts):
        mine = part == index
        scores = plain.at(index, ys[mine], xs[mine])
        peaks.append(np.column_stack([xs[mine], ys[mine], scores]).astype(np.float64))
    return peaks
