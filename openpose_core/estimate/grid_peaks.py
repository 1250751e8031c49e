"""The ``fast`` preset's parse: peaks on the network's stride-8 grid with sub-pixel refinement.

Instead of the reference's detect-resolution maps, peaks are 4-neighbour maxima of the raw grid
heatmaps refined by a parabola through each axis' neighbours, and PAFs are sampled bilinearly on the
grid. Cost no longer grows with the detect resolution; keypoints become sub-pixel floats and can differ
from the reference's by a pixel or two, and two peaks of one part closer than ~2 cells merge.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from .maps import STRIDE
from .peaks import PEAK_THRESHOLD

CELL_CENTRE = (STRIDE - 1) / 2  # OpenCV's half-pixel x8 upsampling puts cell c at net pixel 8c + 3.5


def grid_to_detect(cells: np.ndarray, net_length: int, detect_length: int) -> np.ndarray:
    """Grid cell coordinate -> detect-image pixel along one axis."""
    return (cells * STRIDE + CELL_CENTRE + 0.5) * detect_length / net_length - 0.5


def detect_to_grid(pixels: np.ndarray, net_length: int, detect_length: int) -> np.ndarray:
    """Inverse of :func:`grid_to_detect`."""
    return ((pixels + 0.5) * net_length / detect_length - 0.5 - CELL_CENTRE) / STRIDE


def _parabola_offset(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Vertex offset of the parabola through three equally spaced samples, within half a cell."""
    curvature = left - 2 * centre + right
    offset = np.divide(0.5 * (left - right), curvature, out=np.zeros_like(centre), where=curvature < 0)
    return np.clip(offset, -0.5, 0.5)


def grid_peaks(heat: np.ndarray, valid: Tuple[int, int]) -> List[np.ndarray]:
    """Per part, sub-cell peaks ``(col, row, score)`` in grid coordinates, row-major."""
    rows, cols = valid
    padded = np.zeros((heat.shape[0], rows + 2, cols + 2))
    padded[:, 1:-1, 1:-1] = heat[:, :rows, :cols]
    centre = padded[:, 1:-1, 1:-1]
    up, down = padded[:, :-2, 1:-1], padded[:, 2:, 1:-1]
    left, right = padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]
    is_peak = (centre > PEAK_THRESHOLD) & (centre >= up) & (centre >= down) & (centre >= left) & (centre >= right)
    dy = _parabola_offset(up, centre, down)
    dx = _parabola_offset(left, centre, right)
    peaks = []
    for part in range(18):
        ys, xs = np.nonzero(is_peak[part])
        peaks.append(np.column_stack([xs + dx[part, ys, xs], ys + dy[part, ys, xs], centre[part, ys, xs]]))
    return peaks


def bilinear(grid: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples of a 2-D grid at float cell coordinates, clamped to the grid."""
    xs = np.clip(xs, 0, grid.shape[1] - 1)
    ys = np.clip(ys, 0, grid.shape[0] - 1)
    x0 = np.minimum(np.floor(xs).astype(np.intp), grid.shape[1] - 2) if grid.shape[1] > 1 else np.zeros(len(xs), np.intp)
    y0 = np.minimum(np.floor(ys).astype(np.intp), grid.shape[0] - 2) if grid.shape[0] > 1 else np.zeros(len(ys), np.intp)
    x1 = np.minimum(x0 + 1, grid.shape[1] - 1)
    y1 = np.minimum(y0 + 1, grid.shape[0] - 1)
    fx, fy = xs - x0, ys - y0
    top = grid[y0, x0] * (1 - fx) + grid[y0, x1] * fx
    bottom = grid[y1, x0] * (1 - fx) + grid[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def peaks_and_sampler(detect_size, unpadded, paf: np.ndarray, heat: np.ndarray):
    """Detect-pixel peaks per part and a PAF sampler for :func:`paf.connect_limbs`."""
    (height, width), (h, w) = detect_size, unpadded
    valid = (-(-h // STRIDE), -(-w // STRIDE))
    peaks = []
    for part_peaks in grid_peaks(heat.astype(np.float64), valid):
        xs = grid_to_detect(part_peaks[:, 0], w, width)
        ys = grid_to_detect(part_peaks[:, 1], h, height)
        peaks.append(np.column_stack([xs, ys, part_peaks[:, 2]]))

    def sample(channel, xs, ys):
        return bilinear(paf[channel], detect_to_grid(xs, w, width), detect_to_grid(ys, h, height))

    return peaks, sample
