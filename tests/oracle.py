"""Oracle networks: stand-ins with the body net's contract that emit exact maps for known skeletons.

Skeletons are given in image fractions ``(u, v)`` (a detect-image pixel ``x = u * W - 0.5``). On each
call the oracle finds the unpadded content from the padding (tests use images whose colour differs
from the pad grey), converts the skeletons to its stride-8 output grid exactly like the network's
receptive geometry (cell c is centred on net-input pixel 8c + 3.5) and renders:
  - heatmaps: exp(-d^2 / sigma^2) per person, max over people (paper eqs. 7-8), background = 1 - max;
  - PAFs: the limb's unit vector on cells within ``limb_width`` of the segment, averaged over the
    people present at that cell (eqs. 9-10).
"""
from __future__ import annotations

import numpy as np
import torch

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openpose_core.estimate.paf import LIMB_PAF_CHANNELS  # noqa: E402
from openpose_core.pose import LIMBS  # noqa: E402

STANDING = np.array([
    (0.50, 0.10), (0.50, 0.22), (0.34, 0.22), (0.28, 0.38), (0.25, 0.52), (0.66, 0.22), (0.72, 0.38),
    (0.75, 0.52), (0.41, 0.55), (0.40, 0.75), (0.40, 0.95), (0.59, 0.55), (0.60, 0.75), (0.60, 0.95),
    (0.46, 0.07), (0.54, 0.07), (0.41, 0.09), (0.59, 0.09),
])
"""A person facing the camera in a unit box (COCO-18 order; their right side on the image's left)."""


BORDER_CELLS = 2.5
"""Keep joints this many grid cells from the image border: there the reference's Lanczos chain (with
clamped borders) itself pulls peaks outwards by more than half a cell."""


def grid_of_people(count: int, columns: int, rows: int, aspect: float = 1.0, seed: int = 0) -> np.ndarray:
    """``count x 18 x 2`` skeletons in image fractions, one per cell of a columns x rows layout.

    ``aspect`` is the image's width / height; the layout keeps :data:`BORDER_CELLS` from the borders of
    the reference's 184-px-tall net input.
    """
    rng = np.random.default_rng(seed)
    border_y = BORDER_CELLS * 8 / 184
    border_x = border_y / aspect
    people = []
    for index in range(count):
        col, row = index % columns, index // columns
        box = STANDING + rng.uniform(-0.02, 0.02, STANDING.shape)
        x = (col + 0.1 + box[:, 0] * 0.8) / columns
        y = (row + 0.05 + box[:, 1] * 0.9) / rows
        people.append(np.stack([border_x + x * (1 - 2 * border_x), border_y + y * (1 - 2 * border_y)], axis=1))
    return np.array(people).reshape(count, 18, 2)


def content_size(batch: torch.Tensor) -> tuple:
    """(h, w) of the unpadded image: padding is exactly 0 after the /256 - 0.5 normalisation."""
    content = (batch[0].abs() > 1e-6).any(dim=0)
    rows = torch.nonzero(content.any(dim=1)).max().item() + 1
    cols = torch.nonzero(content.any(dim=0)).max().item() + 1
    return rows, cols


def render_maps(skeletons: np.ndarray, grid_shape, net_size, sigma: float = 1.0, limb_width: float = 0.8):
    """(PAF 38 x gh x gw, heatmaps 19 x gh x gw) for skeletons in image fractions (NaN = missing)."""
    gh, gw = grid_shape
    h, w = net_size
    cell_x = (skeletons[..., 0] * w - 0.5 - 3.5) / 8
    cell_y = (skeletons[..., 1] * h - 0.5 - 3.5) / 8
    points = np.stack([cell_x, cell_y], axis=-1)  # people x 18 x 2 in grid cells
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float64)
    heat = np.zeros((19, gh, gw))
    for part in range(18):
        for person in points:
            if not np.isnan(person[part]).any():
                d2 = (xx - person[part, 0]) ** 2 + (yy - person[part, 1]) ** 2
                heat[part] = np.maximum(heat[part], np.exp(-d2 / sigma**2))
    heat[18] = 1 - heat[:18].max(axis=0)
    paf = np.zeros((38, gh, gw))
    for (a, b), (cx, cy) in zip(LIMBS, LIMB_PAF_CHANNELS):
        total = np.zeros((2, gh, gw))
        count = np.zeros((gh, gw))
        for person in points:
            if np.isnan(person[[a, b]]).any():
                continue
            vector = person[b] - person[a]
            length = np.linalg.norm(vector)
            if length < 1e-9:
                continue
            unit = vector / length
            along = (xx - person[a, 0]) * unit[0] + (yy - person[a, 1]) * unit[1]
            across = np.abs((xx - person[a, 0]) * unit[1] - (yy - person[a, 1]) * unit[0])
            on_limb = (along >= -limb_width) & (along <= length + limb_width) & (across <= limb_width)
            total[0] += on_limb * unit[0]
            total[1] += on_limb * unit[1]
            count += on_limb
        paf[cx] = np.divide(total[0], count, out=np.zeros_like(count), where=count > 0)
        paf[cy] = np.divide(total[1], count, out=np.zeros_like(count), where=count > 0)
    return paf, heat


class OracleBodyNet(torch.nn.Module):
    """Body-net stand-in returning exact maps for ``skeletons`` (people x 18 x 2, image fractions)."""

    def __init__(self, skeletons, sigma: float = 1.0, limb_width: float = 0.8):
        super().__init__()
        self.skeletons = [np.asarray(s, dtype=np.float64).reshape(-1, 18, 2) for s in
                          (skeletons if isinstance(skeletons, list) else [skeletons])]
        self.sigma, self.limb_width = sigma, limb_width
        self.calls = 0
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # gives the module a device

    def forward(self, batch: torch.Tensor):
        self.calls += 1
        gh, gw = batch.shape[2] // 8, batch.shape[3] // 8
        pafs, heats = [], []
        for index in range(batch.shape[0]):
            skeletons = self.skeletons[index % len(self.skeletons)]
            paf, heat = render_maps(skeletons, (gh, gw), content_size(batch[index:index + 1]), self.sigma, self.limb_width)
            pafs.append(paf)
            heats.append(heat)
        as_tensor = lambda maps: torch.from_numpy(np.stack(maps)).float().to(batch.device)  # noqa: E731
        return as_tensor(pafs), as_tensor(heats)


class NoisyNet(torch.nn.Module):
    """Wraps a body net and adds fixed-seed noise to its maps (clutter for differential tests)."""

    def __init__(self, network: torch.nn.Module, amplitude: float = 0.15, seed: int = 0):
        super().__init__()
        self.network, self.amplitude, self.seed = network, amplitude, seed

    def forward(self, batch):
        paf, heat = self.network(batch)
        generator = torch.Generator().manual_seed(self.seed)
        noise = lambda maps: self.amplitude * torch.randn(maps.shape, generator=generator)  # noqa: E731
        return paf + noise(paf), torch.relu(heat + noise(heat))


def crowd(count: int, seed: int = 0, scale=(0.35, 0.7)) -> np.ndarray:
    """``count`` overlapping people at random places and sizes (image fractions)."""
    rng = np.random.default_rng(seed)
    people = []
    for _ in range(count):
        size = rng.uniform(*scale)
        origin = rng.uniform(0.05, 0.95 - size, 2)
        people.append(origin + (STANDING + rng.uniform(-0.03, 0.03, STANDING.shape)) * size)
    return np.array(people)


class Standardised(torch.nn.Module):
    """Wraps a random-weight body net: per-channel standardised maps with real contrast.

    Fresh random networks emit nearly constant maps (values ~0.1 with 1e-9 ripples), whose peaks are
    decided by float rounding alone; standardising keeps the network's structure but makes it matter.
    """

    def __init__(self, network: torch.nn.Module, spread: float = 0.25):
        super().__init__()
        self.network, self.spread = network, spread

    def forward(self, batch):
        def standardise(maps):
            mean = maps.mean(dim=(2, 3), keepdim=True)
            std = maps.std(dim=(2, 3), keepdim=True).clamp_min(1e-12)
            return (maps - mean) / std * self.spread

        paf, heat = self.network(batch)
        return standardise(paf), torch.relu(standardise(heat))
