"""Network maps as separable linear operators, evaluated only where they are needed.

The reference turns each stride-8 network map into a full detect-resolution float64 map (OpenCV
Lanczos x8, crop the padding, resize to the detect size) and, for heatmaps, smooths it with a
Gaussian. Every one of those steps is linear and separable, so the full map is ``Ay @ M @ Ax.T``
for small per-axis matrices built once per image geometry by running OpenCV's own resize on an
identity matrix (identical coefficients and borders; values agree with the reference's to ~1e-6).
That lets us evaluate a map at chosen pixels or blocks instead of materialising 57 full maps.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import List, Sequence, Tuple

import cv2
import numpy as np

STRIDE = 8
GAUSSIAN_SIGMA = 3.0
GAUSSIAN_RADIUS = 12  # scipy's gaussian_filter default truncate=4 -> radius int(4 * 3 + 0.5)


def resize_interpolation(size_in: Tuple[float, float], size_out: Tuple[float, float]) -> int:
    """The reference's ``smart_resize`` rule, one choice for both axes: AREA when (h + w) shrinks, else LANCZOS4."""
    return cv2.INTER_AREA if (size_out[0] + size_out[1]) / (size_in[0] + size_in[1]) < 1 else cv2.INTER_LANCZOS4


def axis_matrix(n_in: int, n_out: int, interpolation: int) -> np.ndarray:
    """``n_out x n_in`` matrix equal to ``cv2.resize`` along one axis (columns are untouched at scale 1)."""
    eye = np.eye(n_in, dtype=np.float32)
    return cv2.resize(eye, (n_in, n_out), interpolation=interpolation).astype(np.float64)


def gaussian_kernel(sigma: float = GAUSSIAN_SIGMA, radius: int = GAUSSIAN_RADIUS) -> np.ndarray:
    """Normalised 1-D Gaussian taps, as scipy.ndimage.gaussian_filter builds them."""
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * offsets**2 / sigma**2)
    return taps / taps.sum()


def reflect_indices(indices: np.ndarray, n: int) -> np.ndarray:
    """Half-sample symmetric reflection (scipy 'reflect', cv2 BORDER_REFLECT), valid for any overhang."""
    period = np.mod(indices, 2 * n)
    return np.where(period >= n, 2 * n - 1 - period, period)


def gaussian_along_rows(matrix: np.ndarray) -> np.ndarray:
    """Apply the σ=3 reference Gaussian along axis 0 of ``matrix`` (reflect boundary)."""
    n = matrix.shape[0]
    taps = gaussian_kernel()
    source = reflect_indices(np.arange(n)[:, None] + np.arange(-GAUSSIAN_RADIUS, GAUSSIAN_RADIUS + 1), n)
    return np.einsum("nk,nkc->nc", np.broadcast_to(taps, source.shape), matrix[source])


@lru_cache(maxsize=64)
def upsampling_matrices(grid: int, unpadded: int, detect: int, interpolation: int) -> Tuple[np.ndarray, np.ndarray]:
    """(plain, smoothed) ``detect x grid`` matrices for one axis of the reference's map chain.

    ``grid`` is the network output length, ``unpadded`` the net-input length before padding and
    ``detect`` the detect-image length. Chain: Lanczos x8, keep the first ``unpadded`` samples,
    resize to ``detect`` with ``interpolation`` (see :func:`resize_interpolation`); the smoothed variant adds
    the σ=3 Gaussian the reference applies to heatmaps before peak search.
    """
    upsample = axis_matrix(grid, grid * STRIDE, cv2.INTER_LANCZOS4)[:unpadded]
    plain = axis_matrix(unpadded, detect, interpolation) @ upsample
    plain.setflags(write=False)
    smoothed = gaussian_along_rows(plain)
    smoothed.setflags(write=False)
    return plain, smoothed


@dataclass(frozen=True)
class Term:
    """One scale's contribution ``weight * Ay @ maps[c] @ Ax.T``."""

    maps: np.ndarray  # C x h x w float32 network output
    rows: np.ndarray  # H x h
    cols: np.ndarray  # W x w
    weight: float = 1.0


class SeparableMaps:
    """A stack of detect-resolution maps kept as a sum of separable terms (one per network scale)."""

    def __init__(self, terms: Sequence[Term]):
        self.terms: List[Term] = list(terms)
        self.height = self.terms[0].rows.shape[0]
        self.width = self.terms[0].cols.shape[0]
        self._columns_applied = None

    def columns_applied(self) -> List[np.ndarray]:
        """Per term, ``maps @ cols.T`` for every channel (C x grid rows x detect columns), computed once."""
        if self._columns_applied is None:
            self._columns_applied = [np.matmul(term.maps.astype(np.float64), term.cols.T) for term in self.terms]
        return self._columns_applied

    def at(self, channel: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Map values at integer pixels ``(ys[i], xs[i])``."""
        total = np.zeros(len(ys))
        for term, applied in zip(self.terms, self.columns_applied()):
            total += term.weight * (term.rows[ys] * applied[channel][:, xs].T).sum(axis=1)
        return total

    def tile_bounds(self, channels: int, tile: int) -> np.ndarray:
        """Upper bound of the first ``channels`` maps on each ``tile x tile`` pixel tile (C x tile rows x tile cols)."""
        n_rows, n_cols = -(-self.height // tile), -(-self.width // tile)
        return np.stack([self._tile_bound(channel, tile, n_rows, n_cols) for channel in range(channels)])

    def _tile_bound(self, channel: int, tile: int, n_rows: int, n_cols: int) -> np.ndarray:
        bounds = np.zeros((self.height, n_cols))
        for term, applied in zip(self.terms, self.columns_applied()):
            padded = np.pad(applied[channel], ((0, 0), (0, n_cols * tile - self.width)), mode="edge")
            tiles = padded.reshape(len(padded), n_cols, tile)
            high, low = tiles.max(axis=2), tiles.min(axis=2)
            bounds += term.weight * (np.maximum(term.rows, 0) @ high + np.minimum(term.rows, 0) @ low)
        bounds = np.pad(bounds, ((0, n_rows * tile - self.height), (0, 0)), mode="edge")
        return bounds.reshape(n_rows, tile, n_cols).max(axis=1)

    def windows(self, channels: np.ndarray, origins: np.ndarray, size: int) -> np.ndarray:
        """Dense float32 ``size x size`` windows of ``channels[i]`` with top-left pixels ``origins[i]`` (y, x).

        Pixels outside the image read as 0 (the reference's peak rule treats them so). float32 is 4x
        faster here; the few neighbours it cannot order (near ties) are compared again with :meth:`at`.
        """
        span = np.arange(size)
        total = np.zeros((len(origins), size, size), dtype=np.float32)
        for term, applied in zip(self.terms, self.columns_applied()):
            rows = np.pad(term.rows.astype(np.float32), ((size, size), (0, 0)))[origins[:, :1] + span + size]
            columns = np.pad(applied.astype(np.float32), ((0, 0), (0, 0), (size, size)))
            cols = columns[channels[:, None], :, origins[:, 1:] + span + size]  # n x size x grid rows
            total += term.weight * np.matmul(rows, cols.transpose(0, 2, 1))
        return total
