"""Pose editing: pure ``PoseFrame -> PoseFrame`` functions (move, scale, rotate, mirror, canvas changes,
selection, merging, in-between interpolation). Proportion retargeting lives in ``retarget.py``.

Conventions (pixel coordinates, y pointing down):

- A pixel's centre sits at integer coordinates, so a ``width``-pixel canvas spans ``-0.5 .. width - 0.5``.
  Hence a horizontal flip maps ``x`` to ``width - 1 - x`` (pixel column ``i`` <-> ``width - 1 - i``, exactly
  what ``cv2.flip(image, 1)`` does), the canvas centre is ``((width - 1) / 2, (height - 1) / 2)`` and scaling
  the picture maps ``x`` to ``(x + 0.5) * new / old - 0.5`` (as ``cv2.resize``).
- Angles are degrees; positive turns counter-clockwise as seen on screen, as ``cv2.getRotationMatrix2D``:
  about centre ``c``, ``x' = cx + cos a (x - cx) + sin a (y - cy)``, ``y' = cy - sin a (x - cx) + cos a (y - cy)``.
- Every function returns a new frame and never changes its input. ``people`` arguments take an index or a
  collection of indices into ``frame.people`` (``None`` = everyone, negative ones count from the end); an index
  the frame does not have raises ``IndexError`` naming it. Offsets, factors, angles and centres must be finite
  numbers and scale factors positive (mirroring is :func:`flip_horizontal`, which also swaps left/right labels).
  Canvas sizes, crop windows and margins are whole numbers of pixels, sizes at least 1; canvas anchors lie in
  ``[0, 1]``. A value breaking these rules raises ``ValueError`` naming the argument.
"""
from __future__ import annotations

import numbers
from collections import Counter
from dataclasses import replace
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .pose import (
    BODY_PARTS, FOOT_PARTS, NUM_BODY, NUM_FACE, NUM_FEET, PART_SIZES, Person, PoseFrame, array_to_points,
    points_to_array,
)

Indices = Union[int, Iterable[int]]
"""One index into ``frame.people`` or several."""


def _swaps(count: int, pairs: Iterable[Tuple[int, int]]) -> np.ndarray:
    """Index order that exchanges each pair and leaves the other points in place."""
    order = np.arange(count)
    for i, j in pairs:
        order[i], order[j] = j, i
    return order


MIRROR_ORDER = {
    "body": _swaps(NUM_BODY, ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17))),
    "face": _swaps(NUM_FACE, (
        *zip(range(0, 8), range(16, 8, -1)),        # jaw: i <-> 16 - i, chin (8) stays
        *zip(range(17, 22), range(26, 21, -1)),     # brows: outer end <-> outer end
        (31, 35), (32, 34),                         # lower nose (33 and the bridge 27-30 stay)
        (36, 45), (37, 44), (38, 43), (39, 42),     # eyes: outer corner, upper lid, inner corner ...
        (40, 47), (41, 46),                         # ... and lower lid, inner <-> inner, outer <-> outer
        (48, 54), (49, 53), (50, 52), (55, 59), (56, 58),  # outer lip (51 top, 57 bottom stay)
        (60, 64), (61, 63), (65, 67),               # inner lip (62 top, 66 bottom stay)
        (68, 69),                                   # pupils
    )),
    "feet": _swaps(NUM_FEET, ((0, 3), (1, 4), (2, 5))),
}
"""For each point group, the index a mirrored point takes its label from (68-point iBUG face layout + pupils)."""


# -- point-array plumbing shared by every edit (and by retarget.py) ------------------------------------------

def person_arrays(person: Person) -> Dict[str, np.ndarray]:
    """The person's present point groups as ``N x 3`` arrays (x, y, confidence; missing points are NaN rows)."""
    return {part: points_to_array(getattr(person, part), size)
            for part, size in PART_SIZES.items() if getattr(person, part) is not None}


def with_arrays(person: Person, arrays: Dict[str, Optional[np.ndarray]]) -> Person:
    """A copy of ``person`` with the given groups replaced (``None`` removes a group); NaN rows become missing."""
    return replace(person, **{part: None if array is None else array_to_points(array)
                              for part, array in arrays.items()})


def _indices(frame: PoseFrame, people: Indices) -> List[int]:
    """``people`` (one index or several) as indices into ``frame.people`` (negative ones count from the end);
    IndexError, naming the index, for one the frame does not have."""
    if isinstance(people, numbers.Integral):
        people = [people]
    try:
        people = list(people)
    except TypeError:
        raise ValueError(f"people must be an index or a collection of indices, got {people!r}") from None
    count = len(frame.people)
    chosen = []
    for index in people:
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise ValueError(f"people are whole-number indices, got {index!r}")
        if not -count <= index < count:
            raise IndexError(f"no person {index}: the frame has {count} (0 is the first, -1 the last)")
        chosen.append(index % count)
    return chosen


def _edit_people(frame: PoseFrame, edit: Callable[[Person], Person], people: Optional[Indices] = None) -> PoseFrame:
    """A copy of ``frame`` with ``edit`` applied to the chosen people."""
    result = frame.copy()
    for index in range(len(result.people)) if people is None else set(_indices(frame, people)):
        result.people[index] = edit(result.people[index])
    return result


def finite_numbers(**values) -> List[float]:
    """The values as floats; ValueError, naming the argument, for one that is not a finite number (a NaN
    would silently turn every point it touches into a missing one)."""
    result = []
    for name, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not np.isfinite(number):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        result.append(number)
    return result


def _whole_numbers(**values) -> List[int]:
    """The values as ints; ValueError, naming the argument, for one that is not a whole number (canvases and
    crop windows are made of whole pixels, so that an image edited the same way stays aligned)."""
    result = []
    for (name, value), number in zip(values.items(), finite_numbers(**values)):
        if not number.is_integer():
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        result.append(int(number))
    return result


def _canvas_size(width, height) -> Tuple[int, int]:
    """``width`` and ``height`` as whole numbers of at least 1 pixel (else ValueError naming them)."""
    width, height = _whole_numbers(width=width, height=height)
    if width < 1 or height < 1:
        raise ValueError(f"canvas must be at least 1 x 1, got width {width}, height {height}")
    return width, height


def _finite_pair(name: str, pair) -> Tuple[float, float]:
    """An ``(x, y)`` pair of finite numbers; ValueError naming ``name`` otherwise."""
    try:
        x, y = pair
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an (x, y) pair, got {pair!r}") from None
    x, y = finite_numbers(**{f"{name}_x": x, f"{name}_y": y})
    return x, y


def _map_positions(person: Person, function: Callable[[np.ndarray], np.ndarray]) -> Person:
    """``person`` with ``function`` (``N x 2`` positions -> ``N x 2``) applied to every point group."""
    arrays = person_arrays(person)
    for array in arrays.values():
        array[:, :2] = function(array[:, :2])
    return with_arrays(person, arrays)


def _affine(frame: PoseFrame, matrix: np.ndarray, people: Optional[Indices]) -> PoseFrame:
    """Apply the 2 x 3 matrix ``[A | b]`` (``p' = A p + b``) to the chosen people's points."""
    linear, offset = matrix[:, :2], matrix[:, 2]
    return _edit_people(frame, lambda person: _map_positions(person, lambda xy: xy @ linear.T + offset), people)


def _centre(frame: PoseFrame, center: Optional[Tuple[float, float]]) -> Tuple[float, float]:
    if center is None:
        return (frame.width - 1) / 2, (frame.height - 1) / 2
    return _finite_pair("center", center)


def _check_same_canvas(frames: Sequence[PoseFrame]) -> None:
    sizes = {(frame.width, frame.height) for frame in frames}
    if len(sizes) > 1:
        raise ValueError(f"frames have different canvases {sorted(sizes)}; resize() or crop() them to one first")


# -- geometry -----------------------------------------------------------------------------------------------

def translate(frame: PoseFrame, dx: float, dy: float, *, people: Optional[Indices] = None) -> PoseFrame:
    """Move points by ``(dx, dy)`` pixels (canvas unchanged)."""
    dx, dy = finite_numbers(dx=dx, dy=dy)
    return _affine(frame, np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]), people)


def scale(frame: PoseFrame, sx: float, sy: Optional[float] = None, *, center: Optional[Tuple[float, float]] = None,
          people: Optional[Indices] = None) -> PoseFrame:
    """Scale points about ``center`` (default: canvas centre) by ``sx`` horizontally and ``sy`` (default ``sx``)
    vertically; the canvas is unchanged (use :func:`resize` to scale picture and canvas together)."""
    sx, sy = finite_numbers(sx=sx, sy=sx if sy is None else sy)
    if sx <= 0 or sy <= 0:  # 0 puts every point on the centre; below 0 mirrors, leaving left parts on the right
        raise ValueError(f"scale factors must be positive, got {sx:g}, {sy:g} (to mirror, use flip_horizontal, "
                         "which also swaps the left/right labels)")
    cx, cy = _centre(frame, center)
    return _affine(frame, np.array([[sx, 0.0, cx * (1 - sx)], [0.0, sy, cy * (1 - sy)]]), people)


def rotate(frame: PoseFrame, degrees: float, *, center: Optional[Tuple[float, float]] = None,
           people: Optional[Indices] = None) -> PoseFrame:
    """Rotate points about ``center`` (default: canvas centre); positive ``degrees`` turn counter-clockwise on
    screen (y down), like ``cv2.getRotationMatrix2D``. Whole turns are exact (the angle is reduced mod 360)."""
    radians = np.deg2rad(finite_numbers(degrees=degrees)[0] % 360.0)
    cos, sin = np.cos(radians), np.sin(radians)
    cx, cy = _centre(frame, center)
    matrix = np.array([[cos, sin, cx - cos * cx - sin * cy], [-sin, cos, cy + sin * cx - cos * cy]])
    return _affine(frame, matrix, people)


def flip_horizontal(frame: PoseFrame, *, people: Optional[Indices] = None) -> PoseFrame:
    """Mirror left-right (``x -> width - 1 - x``, matching ``cv2.flip(image, 1)``) and swap left/right labels:
    body joints, BODY_25 feet, the two hands and the face landmarks, so a mirrored person is still anatomically
    labelled (the old left wrist becomes the right wrist)."""
    def mirror(person: Person) -> Person:
        arrays = person_arrays(person)
        for array in arrays.values():
            array[:, 0] = frame.width - 1 - array[:, 0]
        mirrored: Dict[str, Optional[np.ndarray]] = {
            part: array[MIRROR_ORDER[part]] if part in MIRROR_ORDER else array for part, array in arrays.items()}
        mirrored["left_hand"], mirrored["right_hand"] = arrays.get("right_hand"), arrays.get("left_hand")
        return with_arrays(person, mirrored)

    return _edit_people(frame, mirror, people)


# -- canvas -------------------------------------------------------------------------------------------------

def crop(frame: PoseFrame, left: int, top: int, width: int, height: int) -> PoseFrame:
    """Make the canvas the window ``[left, left + width) x [top, top + height)`` of the old one, points keeping
    their place in the picture. Negative ``left``/``top`` or a window reaching past the old canvas pads.
    Points that end up off the canvas are kept (off-canvas coordinates are valid in pose JSON)."""
    left, top = _whole_numbers(left=left, top=top)
    width, height = _canvas_size(width, height)
    moved = translate(frame, -left, -top)
    return PoseFrame(moved.people, width, height)


def pad(frame: PoseFrame, left: int = 0, top: int = 0, right: int = 0, bottom: int = 0) -> PoseFrame:
    """Add margins (negative margins crop); points keep their place in the picture."""
    left, top, right, bottom = _whole_numbers(left=left, top=top, right=right, bottom=bottom)
    return crop(frame, -left, -top, frame.width + left + right, frame.height + top + bottom)


def resize_canvas(frame: PoseFrame, width: int, height: int, *, anchor: Tuple[float, float] = (0.5, 0.5)) -> PoseFrame:
    """Change the canvas size without scaling the picture (pad or crop). ``anchor`` is the fraction of the size
    change taken at the left and top: ``(0.5, 0.5)`` keeps the picture centred, ``(0, 0)`` pins its top-left
    corner. Offsets are rounded down to whole pixels so an image padded the same way stays aligned."""
    width, height = _canvas_size(width, height)
    anchor_x, anchor_y = _finite_pair("anchor", anchor)
    if not (0 <= anchor_x <= 1 and 0 <= anchor_y <= 1):
        raise ValueError(f"anchor must be fractions within [0, 1], got {anchor!r}")
    left = int(np.floor((frame.width - width) * anchor_x))
    top = int(np.floor((frame.height - height) * anchor_y))
    return crop(frame, left, top, width, height)


def resize(frame: PoseFrame, width: int, height: int) -> PoseFrame:
    """Scale picture and canvas to ``width x height`` (aspect may change): ``x -> (x + 0.5) * width / old - 0.5``,
    the pixel-centre mapping of ``cv2.resize``. (Going through normalised 0..1 JSON, ``x / old * width``, differs
    by less than half a pixel.)"""
    width, height = _canvas_size(width, height)
    sx, sy = width / frame.width, height / frame.height
    scaled = _affine(frame, np.array([[sx, 0.0, (sx - 1) / 2], [0.0, sy, (sy - 1) / 2]]), None)
    return PoseFrame(scaled.people, width, height)


# -- selection ----------------------------------------------------------------------------------------------

def select_people(frame: PoseFrame, indices: Indices) -> PoseFrame:
    """Keep only the listed people, in the order listed."""
    return PoseFrame([frame.people[i] for i in _indices(frame, indices)], frame.width, frame.height).copy()


def remove_people(frame: PoseFrame, indices: Indices) -> PoseFrame:
    """Drop the listed people, keeping the others in order."""
    dropped = set(_indices(frame, indices))
    return select_people(frame, [i for i in range(len(frame.people)) if i not in dropped])


def remove_parts(frame: PoseFrame, parts: Union[str, Iterable[str]], *, people: Optional[Indices] = None) -> PoseFrame:
    """Remove point groups (``"left_hand"``, ``"right_hand"``, ``"hands"``, ``"face"``, ``"feet"``, ``"body"``)
    and/or single joints named as in ``BODY_PARTS`` or ``FOOT_PARTS`` (e.g. ``"left_wrist"``, ``"right_heel"``);
    one name or several."""
    names = {parts} if isinstance(parts, str) else set(parts)  # set("face") would be its letters
    unknown = names - set(PART_SIZES) - {"hands"} - set(BODY_PARTS) - set(FOOT_PARTS)
    if unknown:
        groups = [name for name in PART_SIZES if name != "body"] + ["hands", "body"]
        raise ValueError(f"unknown parts {sorted(unknown)}; known: {', '.join(groups)}, or a joint: "
                         f"{', '.join(BODY_PARTS + FOOT_PARTS)}")
    groups = (names & set(PART_SIZES)) | ({"left_hand", "right_hand"} if "hands" in names else set())

    def without_joints(points: List, labels: Sequence[str]) -> List:
        return [None if label in names else point for label, point in zip(labels, points)]

    def remove(person: Person) -> Person:
        body = [None] * NUM_BODY if "body" in groups else without_joints(person.body, BODY_PARTS)
        feet = None if person.feet is None or "feet" in groups else without_joints(person.feet, FOOT_PARTS)
        return replace(person, body=body, feet=feet, **{group: None for group in groups - {"body", "feet"}})

    return _edit_people(frame, remove, people)


def merge(frames: Sequence[PoseFrame]) -> PoseFrame:
    """All people of ``frames``, in order, on their common canvas (canvases must match, so that positions mean
    the same thing; :func:`resize` or :func:`crop` first)."""
    if not frames:
        raise ValueError("nothing to merge")
    _check_same_canvas(frames)
    return PoseFrame([person for frame in frames for person in frame.people], frames[0].width, frames[0].height).copy()


# -- interpolation ------------------------------------------------------------------------------------------

def _centroid(person: Person) -> np.ndarray:
    """Mean of the present body points (of any points when the body is empty); NaN when there are none."""
    arrays = person_arrays(person)
    for points in (arrays["body"], np.concatenate(list(arrays.values()))):
        present = points[~np.isnan(points).any(axis=1), :2]
        if len(present):
            return present.mean(axis=0)
    return np.full(2, np.nan)


def min_cost_assignment(cost: np.ndarray) -> List[Tuple[int, int]]:
    """Optimal one-to-one matching of rows to columns (``min(n, m)`` pairs, least total cost), as sorted
    ``(row, column)`` pairs. Hungarian method with row/column potentials, O(n^2 m); exact, and small enough
    that scipy need not be a runtime dependency."""
    cost = np.asarray(cost, dtype=float)
    rows, cols = cost.shape
    if rows > cols:
        return sorted((r, c) for c, r in min_cost_assignment(cost.T))
    # 1-based with a dummy column 0, as in the textbook formulation: owner[c] is the row holding column c.
    padded = np.zeros((rows + 1, cols + 1))
    padded[1:, 1:] = cost
    row_potential, col_potential = np.zeros(rows + 1), np.zeros(cols + 1)
    owner, came_from = np.zeros(cols + 1, dtype=int), np.zeros(cols + 1, dtype=int)
    for row in range(1, rows + 1):
        owner[0], column = row, 0
        slack, visited = np.full(cols + 1, np.inf), np.zeros(cols + 1, dtype=bool)
        while owner[column]:  # grow alternating paths until a free column is reached
            visited[column] = True
            current = owner[column]
            reduced = padded[current] - row_potential[current] - col_potential
            open_columns = ~visited
            open_columns[0] = False
            improved = open_columns & (reduced < slack)
            slack[improved], came_from[improved] = reduced[improved], column
            column_next = int(np.argmin(np.where(open_columns, slack, np.inf)))
            delta = slack[column_next]
            row_potential[owner[visited]] += delta
            col_potential[visited] -= delta
            slack[open_columns] -= delta
            column = column_next
        while column:  # flip the path
            previous = came_from[column]
            owner[column] = owner[previous]
            column = previous
    return sorted((int(owner[c]) - 1, c - 1) for c in range(1, cols + 1) if owner[c])


def _unique_ids(people: Sequence[Person]) -> Dict[int, int]:
    """``person_id`` -> index for the ids only one of ``people`` has: a repeated id (merged clips both
    numbering from 0) does not say who is who."""
    counts = Counter(person.person_id for person in people)
    return {person.person_id: index for index, person in enumerate(people)
            if person.person_id is not None and counts[person.person_id] == 1}


def match_people(first: Sequence[Person], second: Sequence[Person]) -> List[Tuple[int, int]]:
    """Pairs ``(i, j)`` matching people of two frames: a ``person_id`` each frame gives to exactly one person
    pairs those two (tracking knows who is who, also when two people swap places); the others by least total
    body-centroid distance (optimal assignment), people without any point last, arbitrarily."""
    first_ids, second_ids = _unique_ids(first), _unique_ids(second)
    pairs = [(i, second_ids[person_id]) for person_id, i in first_ids.items() if person_id in second_ids]
    paired_first, paired_second = {i for i, _ in pairs}, {j for _, j in pairs}
    rest_first = [i for i in range(len(first)) if i not in paired_first]
    rest_second = [j for j in range(len(second)) if j not in paired_second]
    if rest_first and rest_second:
        a = np.array([_centroid(first[i]) for i in rest_first])
        b = np.array([_centroid(second[j]) for j in rest_second])
        distance = np.linalg.norm(a[:, None] - b[None], axis=-1)
        pairs += [(rest_first[i], rest_second[j]) for i, j in min_cost_assignment(np.nan_to_num(distance, nan=1e12))]
    return sorted(pairs)


def _blend(near: Person, far: Optional[Person], near_weight: float, far_weight: float) -> Person:
    """``near`` moved towards ``far``: points (and confidences) both have are mixed linearly; a point or group
    only ``near`` has is held; one only ``far`` has stays missing."""
    far_arrays = {} if far is None else person_arrays(far)
    blended = {}
    for part, points in person_arrays(near).items():
        other = far_arrays.get(part)
        blended[part] = points if other is None else np.where(
            np.isnan(other), points, near_weight * points + far_weight * other)
    return with_arrays(near, blended)


def interpolate(a: PoseFrame, b: PoseFrame, t: float) -> PoseFrame:
    """The in-between pose a fraction ``t`` (0..1) of the way from ``a`` to ``b`` (same canvas).

    People are matched by id where it is unique, else by body-centroid distance (:func:`match_people`). Matched
    points move linearly (``(1 - t) a + t b``, so ``t = 0`` and ``t = 1`` give exactly ``a`` and ``b``). Whatever
    exists in only one frame (a person, a hand, a point) follows the nearer frame: it is shown, held still, while
    ``t < 0.5`` if it is ``a``'s, from ``t >= 0.5`` if it is ``b``'s, and is missing otherwise. People keep the
    nearer frame's order, ids and scores.
    """
    [t] = finite_numbers(t=t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must be within [0, 1], got {t}")
    _check_same_canvas([a, b])
    a_is_near = t < 0.5
    near, far = (a, b) if a_is_near else (b, a)
    weights = (1.0 - t, t) if a_is_near else (t, 1.0 - t)
    partner = dict(match_people(near.people, far.people))
    people = [_blend(person, far.people[partner[i]] if i in partner else None, *weights)
              for i, person in enumerate(near.people)]
    return PoseFrame(people, a.width, a.height)
