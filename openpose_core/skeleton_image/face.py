"""Face: white dots given to the nearest head and put in landmark order by fitting a mean face."""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from ..pose import NUM_FACE
from .colours import Classes, white_weight
from .dots import Dots, FACE_DISK_AREA, windowed_peaks
from .geometry import keep_apart, pairwise


def _mean_face() -> np.ndarray:
    """An approximate frontal face in the 68-landmark layout plus two pupils (70 x 2), in units of the
    face's width, centred between the eyes; image x to the right (the subject's right eye on the left),
    y down. Only used to put found dots in landmark order, so rough shapes suffice."""
    points = []
    for index in range(17):                       # jaw: subject's right ear, round the chin, left ear
        angle = np.pi * index / 16
        points.append((-0.5 * np.cos(angle), 0.05 + 0.6 * np.sin(angle)))
    for side in (-1, 1):                          # brows: outer to inner on the left, inner to outer on the right
        xs = np.linspace(-0.42, -0.08, 5) if side < 0 else np.linspace(0.08, 0.42, 5)
        for x in xs:
            points.append((x, -0.2 - 0.06 * (1 - ((abs(x) - 0.25) / 0.17) ** 2)))
    points += [(0.0, y) for y in np.linspace(-0.08, 0.2, 4)]          # nose bridge
    points += [(x, 0.26 - 0.03 * (1 - abs(x) / 0.12)) for x in np.linspace(-0.12, 0.12, 5)]   # nostrils
    for centre_x in (-0.2, 0.2):                  # eyes: corner, top two, corner, bottom two
        angles = np.radians([180, 120, 60, 0, -60, -120])
        points += [(centre_x + 0.1 * np.cos(t), -0.04 * np.sin(t)) for t in angles]
    outer = np.radians([180, 150, 120, 90, 60, 30, 0, -30, -60, -90, -120, -150])
    points += [(0.2 * np.cos(t), 0.42 - 0.08 * np.sin(t)) for t in outer]      # outer lips
    inner = np.radians([180, 135, 90, 45, 0, -45, -90, -135])
    points += [(0.13 * np.cos(t), 0.42 - 0.03 * np.sin(t)) for t in inner]     # inner lips
    points += [(-0.2, 0.0), (0.2, 0.0)]           # pupils
    return np.array(points, np.float64)


_MEAN_FACE = _mean_face()


def find_face_dots(classes: Classes, sx: float, sy: float) -> np.ndarray:
    dots = Dots.make(sx, sy, FACE_DISK_AREA)
    member = white_weight(classes)
    points = windowed_peaks(member, classes.background, dots)[:, :2]
    if not len(points):
        return points
    return points[keep_apart(points, range(len(points)), 0.9 * dots.radius)]


def find_faces(bodies: List[np.ndarray], points: np.ndarray, radius: float) -> Dict[int, np.ndarray]:
    """person -> 70 x 2 face: white dots go to the nearest head (nose, eyes, ears; else neck) within reach
    and are put in landmark order by fitting the mean face to them (similarity transform + optimal
    matching, a few rounds)."""
    from ..edit import min_cost_assignment

    heads = []
    for person, body in enumerate(bodies):
        head = body[[0, 14, 15, 16, 17]]
        head = head[~np.isnan(head[:, 0])]
        if len(head):
            size = max(float(np.max(np.hypot(*(head - head.mean(axis=0)).T))) * 2.0, 6 * radius)
            heads.append((person, head.mean(axis=0), size))
        elif not np.isnan(body[1, 0]):
            heads.append((person, body[1], 12 * radius))
    if len(points) == 0:
        return {}
    owner = np.full(len(points), -1)
    for index, point in enumerate(points):
        options = [(np.hypot(*(point - centre)) / size, person) for person, centre, size in heads]
        reach, person = min(options, default=(np.inf, -1))
        if reach <= 2.5:
            owner[index] = person
    if (owner < 0).any():
        # face dots can cover every dot of their head: the rest go to the person nearest to them all
        rest = points[owner < 0]
        options = [(float(np.nanmin(pairwise(body, rest))), person)
                   for person, body in enumerate(bodies) if not np.isnan(body[:, 0]).all()]
        if options:
            owner[owner < 0] = min(options)[1]
    faces = {}
    for person in set(owner[owner >= 0].tolist()):
        mine = points[owner == person]
        body = bodies[person]
        faces[person] = _order_face(mine, body, min_cost_assignment)
    return faces


def _order_face(points: np.ndarray, body: np.ndarray, assign) -> np.ndarray:
    template = _MEAN_FACE
    centre = points.mean(axis=0)
    spread = float(np.sqrt(((points - centre) ** 2).sum(axis=1).mean()))
    template_spread = float(np.sqrt(((template - template.mean(axis=0)) ** 2).sum(axis=1).mean()))
    if not np.isnan(body[[14, 15], 0]).any():
        across = body[15] - body[14]                 # the subject's right eye is on the image left
        angle = np.arctan2(across[1], across[0])
    elif not np.isnan(body[[0, 1], 0]).any():
        up = body[0] - body[1]
        angle = np.arctan2(up[1], up[0]) + np.pi / 2
    else:
        angle = 0.0
    scale = spread / max(template_spread, 1e-9)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shift = centre - scale * (template.mean(axis=0) @ rotation.T)
    pairs: List[Tuple[int, int]] = []
    for _ in range(8):
        placed = scale * template @ rotation.T + shift
        cost = ((placed[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
        pairs = assign(cost)
        source = template[[row for row, _ in pairs]]
        target = points[[column for _, column in pairs]]
        scale, rotation, shift = _similarity(source, target)
    face = np.full((NUM_FACE, 2), np.nan)
    for row, column in pairs:
        face[row] = points[column]
    return face


def _similarity(source: np.ndarray, target: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """Least-squares scale, rotation (no reflection) and shift taking ``source`` onto ``target``."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    a, b = source - source_mean, target - target_mean
    u, singular, vt = np.linalg.svd(b.T @ a)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ np.diag([1.0, sign]) @ vt
    variance = float((a ** 2).sum())
    scale = float((singular * np.array([1.0, sign])).sum() / variance) if variance > 0 else 1.0
    return scale, rotation, target_mean - scale * source_mean @ rotation.T
