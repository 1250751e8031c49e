"""Small geometric helpers on pixel grids and point sets, shared by the parsing steps."""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np
from scipy.spatial import cKDTree


def window_around(shape: Tuple[int, ...], x: float, y: float, reach: float) -> Tuple[Tuple[slice, slice], np.ndarray]:
    """The window of an image of ``shape`` holding every pixel within ``reach`` of (x, y), and each of its
    pixels' distance from (x, y)."""
    top, left = max(int(np.floor(y - reach)), 0), max(int(np.floor(x - reach)), 0)
    bottom, right = min(int(np.ceil(y + reach)) + 1, shape[0]), min(int(np.ceil(x + reach)) + 1, shape[1])
    gy, gx = np.mgrid[top:max(bottom, top), left:max(right, left)]
    return (slice(top, max(bottom, top)), slice(left, max(right, left))), np.hypot(gx - x, gy - y)


def any_within(mask: np.ndarray, x: float, y: float, radius: float) -> bool:
    """Whether ``mask`` is set anywhere within ``radius`` of (x, y)."""
    window, distance = window_around(mask.shape, x, y, radius)
    return bool((mask[window] & (distance <= radius)).any())


def directions(start: np.ndarray, end: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """The length from ``start`` to ``end`` and the unit vectors along and across it (zero if no length)."""
    axis = end - start
    length = float(np.hypot(*axis))
    along = axis / length if length > 0 else np.zeros(2)
    return length, along, np.array([-along[1], along[0]])


class NearPoints:
    """Points added one by one and looked up by distance through a grid of cells ``reach`` wide, so that
    grouping thousands of dots (a photo's colour noise) takes linear, not quadratic, time."""

    def __init__(self, reach: float):
        self.reach = reach
        self.xy: List[Tuple[float, float]] = []
        self._cells: Dict[Tuple[int, int], List[int]] = defaultdict(list)

    def _cell(self, x: float, y: float) -> Tuple[int, int]:
        return int(np.floor(x / self.reach)), int(np.floor(y / self.reach))

    def add(self, x: float, y: float) -> int:
        """Add (x, y); its index."""
        self.xy.append((x, y))
        self._cells[self._cell(x, y)].append(len(self.xy) - 1)
        return len(self.xy) - 1

    def first_within(self, x: float, y: float) -> Optional[int]:
        """The earliest added point closer than ``reach`` to (x, y), if any."""
        column, row = self._cell(x, y)
        close = [index for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                 for index in self._cells.get((column + dx, row + dy), ())
                 if (x - self.xy[index][0]) ** 2 + (y - self.xy[index][1]) ** 2 < self.reach ** 2]
        return min(close, default=None)


def neighbours(xy: np.ndarray, reach: float) -> List[List[int]]:
    """For each point of ``xy`` (n x 2), the others within ``reach`` of it, in index order; found through a
    k-d tree, as thousands of points (a photo's colour noise) make an n x n distance table too big."""
    pairs = np.array(sorted(cKDTree(xy).query_pairs(reach * (1 + 1e-9))), int).reshape(-1, 2)
    pairs = pairs[np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) <= reach]   # the exact test, as pairwise's
    around: List[List[int]] = [[] for _ in range(len(xy))]
    for first, second in np.vstack([pairs, pairs[:, ::-1]]).tolist():
        around[first].append(second)
    return [sorted(others) for others in around]


def pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances between every point of ``a`` (n x 2) and of ``b`` (m x 2): n x m."""
    return np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))


def distances_to_others(points: np.ndarray) -> np.ndarray:
    """:func:`pairwise` distances among ``points``, each point's to itself infinite: a row's minimum is the
    distance to the nearest other point."""
    distance = pairwise(points, points)
    np.fill_diagonal(distance, np.inf)
    return distance


def sample(grid: np.ndarray, points: np.ndarray, fill) -> np.ndarray:
    height, width = grid.shape[:2]
    xs, ys = np.rint(points[:, 0]).astype(int), np.rint(points[:, 1]).astype(int)
    valid = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    out = np.full(len(points), fill, dtype=grid.dtype)
    out[valid] = grid[ys[valid], xs[valid]]
    return out


def points_between(start: np.ndarray, end: np.ndarray, count: int) -> np.ndarray:
    """``count`` evenly spaced points strictly between each start and end (n x 2 each): n x count x 2."""
    fractions = np.linspace(0.0, 1.0, count + 2)[1:-1]
    return start[:, None, :] + fractions[None, :, None] * (end - start)[:, None, :]


RING = np.stack([np.cos(np.linspace(0, 2 * np.pi, 16, endpoint=False)),
                 np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False))], axis=1)
"""16 unit directions: a ring of samples around a dot."""


def segment_distances(point: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distances from ``point`` to each segment from ``starts`` to ``ends`` (n x 2 each)."""
    along = ends - starts
    length = np.maximum((along * along).sum(axis=1), 1e-9)
    fraction = np.clip(((point - starts) * along).sum(axis=1) / length, 0.0, 1.0)
    return np.hypot(*(starts + fraction[:, None] * along - point).T)


def keep_apart(points: np.ndarray, order, distance: float, taken: Optional[np.ndarray] = None) -> List[int]:
    """Indices of ``points`` visited in ``order``, each kept when it is at least ``distance`` from every point
    kept before it and from every point of ``taken``: one dot per place."""
    placed = np.zeros((0, 2)) if taken is None else np.asarray(taken, np.float64).reshape(-1, 2)
    kept: List[int] = []
    for index in order:
        if len(placed) and np.min(np.hypot(*(placed - points[index]).T)) < distance:
            continue
        kept.append(int(index))
        placed = np.vstack([placed, points[index]])
    return kept
