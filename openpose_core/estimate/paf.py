"""Part Affinity Field limb scoring and greedy person assembly (Cao et al.; reference §3.7–3.8).

Scoring is vectorised over all candidate pairs and samples of a limb; the greedy matching and the
assembly stay sequential because their outcome depends on order, exactly as in the reference.
"""
from __future__ import annotations

from typing import Callable, List, Optional

import numpy as np

from ..pose import LIMBS

LIMB_PAF_CHANNELS = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5), (6, 7), (8, 9),
    (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19), (26, 27),
)
"""PAF (x, y) channel pair of each limb in :data:`openpose_core.pose.LIMBS`."""

SAMPLES = 10
SAMPLE_THRESHOLD = 0.05
MIN_PASSING_SAMPLES = 9  # "more than 80 % of 10"
FIRST_REDUNDANT_LIMB = 17  # shoulder-ear limbs join people but never start one
MIN_PARTS, MIN_MEAN_SCORE = 4, 0.4
PAIRS_PER_CHUNK = 20_000
PROBE_ABOVE_PAIRS = 16

Sampler = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
"""``sample(channel, xs, ys)``: PAF values at detect-image positions."""


def score_limb(cand_a: np.ndarray, cand_b: np.ndarray, channels, sample: Sampler, height: int) -> np.ndarray:
    """Accepted candidate connections of one limb as rows ``(i, j, score)``, best first.

    ``cand_a``/``cand_b`` are ``n x 3`` peaks ``(x, y, score)``. A pair is scored by the mean PAF
    projection on the segment at 10 evenly spaced samples, minus a penalty for limbs longer than
    half the image height; it is accepted when at least 9 samples exceed 0.05 and the score is > 0.
    Pairs are scored in chunks of about :data:`PAIRS_PER_CHUNK`, so memory stays bounded however many
    peaks a map has.
    """
    rows_per_chunk = max(1, PAIRS_PER_CHUNK // max(len(cand_b), 1))
    accepted = [_score_pairs(cand_a[first:first + rows_per_chunk], cand_b, channels, sample, height, first)
                for first in range(0, len(cand_a), rows_per_chunk)]
    found = np.concatenate(accepted) if accepted else np.zeros((0, 3))
    return found[np.argsort(-found[:, 2], kind="stable")]


def _score_pairs(cand_a: np.ndarray, cand_b: np.ndarray, channels, sample: Sampler, height: int,
                 first_a: int) -> np.ndarray:
    """Accepted pairs ``(i, j, score)`` of a block of A candidates (``i`` counted from ``first_a``), pair order."""
    n_a, n_b = len(cand_a), len(cand_b)
    start = np.repeat(cand_a[:, :2], n_b, axis=0)  # pair order: i outer, j inner
    end = np.tile(cand_b[:, :2], (n_a, 1))
    vector = end - start
    norm = np.maximum(np.sqrt(vector[:, 0] ** 2 + vector[:, 1] ** 2), 0.001)
    unit = vector / norm[:, None]
    steps = np.arange(SAMPLES)[None, :, None] * (vector / (SAMPLES - 1))[:, None, :]
    points = start[:, None, :] + steps
    points[:, -1] = end
    projections = np.full((len(points), SAMPLES), np.nan)  # NaN = not evaluated (never counts as failing)
    alive = np.arange(len(points))
    # Two failing samples already rule a pair out (it needs 9 of 10): with many pairs, probe two middle
    # samples first and evaluate the rest only for the pairs still alive.
    middle = (SAMPLES // 2, SAMPLES // 2 - 1)
    rest = tuple(i for i in range(SAMPLES) if i not in middle)
    probes = ((middle[0],), (middle[1],), rest) if len(points) > PROBE_ABOVE_PAIRS else (middle + rest,)
    for probe in probes:
        projections[np.ix_(alive, probe)] = _project(points[alive][:, probe], unit[alive], channels, sample)
        alive = alive[(projections[alive] <= SAMPLE_THRESHOLD).sum(axis=1) <= SAMPLES - MIN_PASSING_SAMPLES]
    score = projections[alive].mean(axis=1) + np.minimum(0.5 * height / norm[alive] - 1, 0)
    passing = (projections[alive] > SAMPLE_THRESHOLD).sum(axis=1) >= MIN_PASSING_SAMPLES
    keep = passing & (score > 0)
    pairs = alive[keep]
    return np.column_stack([first_a + pairs // n_b, pairs % n_b, score[keep]])


def _project(points: np.ndarray, unit: np.ndarray, channels, sample: Sampler) -> np.ndarray:
    """PAF projections onto each pair's direction at ``points`` (pairs x samples x 2)."""
    xs, ys = points[..., 0].ravel(), points[..., 1].ravel()
    paf_x = sample(channels[0], xs, ys).reshape(points.shape[:2])
    paf_y = sample(channels[1], xs, ys).reshape(points.shape[:2])
    return paf_x * unit[:, :1] + paf_y * unit[:, 1:]


def match_greedily(candidates: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    """Take the best-scored pairs whose endpoints are both still free, up to min(n_a, n_b) of them."""
    used_a, used_b, chosen = set(), set(), []
    for row in candidates:
        i, j = int(row[0]), int(row[1])
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            chosen.append(row)
            if len(chosen) >= min(n_a, n_b):
                break
    return np.array(chosen).reshape(-1, 3)


def connect_limbs(peaks: List[np.ndarray], sample: Sampler, height: int) -> List[Optional[np.ndarray]]:
    """Per limb, the chosen connections ``(id_a, id_b, score)`` in global candidate ids; None if a part has no peaks."""
    offsets = np.cumsum([0] + [len(p) for p in peaks])
    connections = []
    for (part_a, part_b), channels in zip(LIMBS, LIMB_PAF_CHANNELS):
        cand_a, cand_b = peaks[part_a], peaks[part_b]
        if len(cand_a) == 0 or len(cand_b) == 0:
            connections.append(None)
            continue
        chosen = match_greedily(score_limb(cand_a, cand_b, channels, sample, height), len(cand_a), len(cand_b))
        chosen[:, 0] += offsets[part_a]
        chosen[:, 1] += offsets[part_b]
        connections.append(chosen)
    return connections


def assemble_people(connections: List[Optional[np.ndarray]], scores: np.ndarray) -> np.ndarray:
    """Group connections into people: rows of 18 candidate ids (-1 = none), total score, part count.

    Follows the reference's rules and order, quirks included: a connection found through its second
    part only does not fill the first; two people sharing no part are merged; a limb touching two
    people that share a part extends the first. Where the reference would crash on a connection that
    touches more than two people, the first two are used. Weak people (fewer than 4 parts or mean
    score below 0.4) are removed.
    """
    people = np.zeros((0, 20))
    for limb, chosen in enumerate(connections):
        if chosen is None:
            continue
        part_a, part_b = LIMBS[limb]
        for id_a, id_b, limb_score in chosen:
            rows = np.flatnonzero((people[:, part_a] == id_a) | (people[:, part_b] == id_b))[:2]
            if len(rows) == 1:
                row = people[rows[0]]
                if row[part_b] != id_b:
                    row[part_b] = id_b
                    row[19] += 1
                    row[18] += scores[int(id_b)] + limb_score
            elif len(rows) == 2:
                first, second = people[rows[0]], people[rows[1]]
                if not np.any((first[:18] >= 0) & (second[:18] >= 0)):
                    first[:18] += second[:18] + 1
                    first[18:] += second[18:]
                    first[18] += limb_score
                    people = np.delete(people, rows[1], axis=0)
                else:
                    first[part_b] = id_b
                    first[19] += 1
                    first[18] += scores[int(id_b)] + limb_score
            elif limb < FIRST_REDUNDANT_LIMB:
                row = np.full(20, -1.0)
                row[part_a], row[part_b] = id_a, id_b
                row[19] = 2
                row[18] = scores[int(id_a)] + scores[int(id_b)] + limb_score
                people = np.vstack([people, row])
    keep = (people[:, 19] >= MIN_PARTS) & (people[:, 18] / np.maximum(people[:, 19], 1) >= MIN_MEAN_SCORE)
    return people[keep]
