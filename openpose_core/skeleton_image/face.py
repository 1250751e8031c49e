"""Face: white dots given to the nearest head and put in landmark order by fitting a mean face."""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from ..pose import HEAD_PARTS, NUM_BODY, NUM_FACE
from .colours import Classes, white_weight
from .dots import Dots, FACE_DISK_AREA, windowed_peaks
from .geometry import distances_to_others, keep_apart, pairwise


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


MIN_LONE_FACE = 20   # dots a group needs to be a face with no person near (fewer: stray white, e.g. JPEG)
LINK = 2.5           # x the larger nearest-dot distance of two dots that belong to one face


def group_face_dots(points: np.ndarray) -> List[np.ndarray]:
    """The white dots (n x 2) of each face, as :func:`_groups` finds them."""
    return [points[group] for group in _groups(points)]


def find_faces(bodies: List[np.ndarray], groups: List[np.ndarray],
               radius: float) -> Tuple[Dict[int, np.ndarray], List[np.ndarray]]:
    """(person -> 70 x 2 face, faces of no person) from the white dots of each face (``groups``, see
    :func:`group_face_dots`: a face's dots chain densely, two faces lie apart), so that one person never
    gets two faces' dots. Each group goes to the nearest head (nose, eyes, ears; else neck) within reach,
    else to a person it touches, else is a face on its own; its dots are put in landmark order by fitting
    the mean face to them (similarity transform + optimal matching, a few rounds)."""
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
    owned: Dict[int, List[np.ndarray]] = {}
    lone = []
    for mine in groups:
        # face dots can cover every dot of their head: then a person whose joints the face reaches
        reach, person = min(((float(np.hypot(*(mine.mean(axis=0) - centre))) / size, person)
                             for person, centre, size in heads), default=(np.inf, -1))
        if reach > 2.5:
            extent = max(float(np.max(pairwise(mine, mine))), 12 * radius)
            reach, person = min(((float(np.nanmin(pairwise(body, mine))), person) for person, body in
                                 enumerate(bodies) if not np.isnan(body[:, 0]).all()), default=(np.inf, -1))
            person = person if reach <= extent else -1
        if person >= 0:
            owned.setdefault(person, []).append(mine)
        elif len(mine) >= MIN_LONE_FACE:
            lone.append(mine)
    faces = {}
    for person, found in owned.items():
        found.sort(key=len, reverse=True)
        if sum(map(len, found)) > NUM_FACE:     # more than one face at one head: it gets the largest
            lone += [group for group in found[1:] if len(group) >= MIN_LONE_FACE]
            found = found[:1]
        faces[person] = _order_face(np.vstack(found), bodies[person], min_cost_assignment)
    no_body = np.full((NUM_BODY, 2), np.nan)
    return faces, [_order_face(group, no_body, min_cost_assignment) for group in lone]


def join_heads_under_faces(bodies: List[np.ndarray], groups: List[np.ndarray]) -> List[np.ndarray]:
    """A face's white dots hide the short sticks between the head's dots, so its eyes and ears may come
    back as pieces of their own. One face is one head: the pieces made only of head dots that lie within a
    face's dots (their box, grown by 15 %) join the one person whose neck is by that face (within a face's
    height of it, and its head dots, if any, within the face), where their parts are missing. ``groups``:
    each face's white dots (:func:`group_face_dots`)."""
    kept = list(range(len(bodies)))
    present = [~np.isnan(body[:, 0]) for body in bodies]
    for group in groups:
        low, high = group.min(axis=0), group.max(axis=0)
        low, high = low - 0.15 * (high - low).max(), high + 0.15 * (high - low).max()     # ears lie at its edge
        inside = [index for index in kept if _head_within(bodies[index], present[index], low, high)]
        pieces = [index for index in inside if not present[index][_NOT_HEAD].any()]
        necks = [index for index in kept if present[index][1] and index not in pieces
                 and _distance_to_box(bodies[index][1], low, high) <= high[1] - low[1]
                 and (index in inside or not present[index][list(HEAD_PARTS)].any())]
        if len(necks) != 1:
            continue
        owner = bodies[necks[0]]
        for piece in pieces:
            if not (present[piece] & present[necks[0]]).any():
                owner[present[piece]] = bodies[piece][present[piece]]
                present[necks[0]] |= present[piece]
                kept.remove(piece)
    return [bodies[index] for index in kept]


_NOT_HEAD = np.array([part not in HEAD_PARTS for part in range(NUM_BODY)])


def _head_within(body: np.ndarray, present: np.ndarray, low: np.ndarray, high: np.ndarray) -> bool:
    """Whether the body has head dots and all lie within the box from ``low`` to ``high``."""
    head = body[[part for part in HEAD_PARTS if present[part]]]
    return bool(len(head)) and bool(((head >= low) & (head <= high)).all())


def _distance_to_box(point: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    return float(np.hypot(*np.maximum(np.maximum(low - point, point - high), 0.0)))


def _groups(points: np.ndarray) -> List[np.ndarray]:
    """Indices of the dots of each face: dots linked when closer than LINK x the larger of their distances
    to their nearest dot (single linkage); a group of well over 70 dots is touching faces, split by
    k-means into about 70 each (up to 70 of a group's dots are then kept: the ones that fit a face)."""
    if len(points) < 2:
        return [np.arange(len(points))] if len(points) else []
    distance = distances_to_others(points)
    nearest = distance.min(axis=1)
    linked = distance <= LINK * np.maximum(nearest[:, None], nearest[None, :])
    label = np.arange(len(points))
    while True:
        spread = np.minimum(label, np.where(linked, label[None, :], len(points)).min(axis=1))
        if np.array_equal(spread, label):
            break
        label = spread
    groups = []
    for value in np.unique(label):
        group = np.flatnonzero(label == value)
        count = int(round(len(group) / NUM_FACE))
        groups += [group[part] for part in _split(points[group], count)] if count > 1 else [group]
    return groups


def _split(points: np.ndarray, count: int) -> List[np.ndarray]:
    """``count`` clusters of ``points`` by k-means from far-apart seeds."""
    centres = points[:1]
    for _ in range(count - 1):
        centres = np.vstack([centres, points[np.argmax(pairwise(points, centres).min(axis=1))]])
    for _ in range(10):
        label = np.argmin(pairwise(points, centres), axis=1)
        centres = np.array([points[label == k].mean(axis=0) if (label == k).any() else centres[k]
                            for k in range(count)])
    return [np.flatnonzero(label == k) for k in range(count) if (label == k).any()]


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
