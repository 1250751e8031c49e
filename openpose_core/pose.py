"""The pose data types every module, node, CLI command and JSON file shares.

Keypoints are in pixels of the frame they were detected in (or of the canvas they were read from);
``canvas`` width/height always describe that space. A missing point is ``None``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import List, NamedTuple, Optional, Sequence

import numpy as np

BODY_PARTS = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
"""COCO-18 body order used by OpenPose's COCO model and every ControlNet OpenPose map."""

FOOT_PARTS = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
"""BODY_25 points 19..24, kept when a BODY_25 document is read (COCO-18 has no feet)."""

NUM_BODY, NUM_HAND, NUM_FACE, NUM_FEET = 18, 21, 70, 6
PART_SIZES = {"body": NUM_BODY, "left_hand": NUM_HAND, "right_hand": NUM_HAND, "face": NUM_FACE, "feet": NUM_FEET}
"""The point groups of a :class:`Person` and their sizes."""
NOSE, NECK = 0, 1
"""COCO-18 indices of the two parts every head and trunk meet at."""
HEAD_PARTS = (14, 15, 16, 17, 0)
"""Eyes, ears and nose (COCO-18 indices) in palette order: neighbouring entries have neighbouring hues."""

LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
    (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17),
)
"""The 19 body limbs (0-based part pairs) in the order connection search, assembly and drawing use.
The last two (shoulder-ear) take part in assembly only; they are never drawn."""

HAND_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (11, 12),
    (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20),
)
"""Hand skeleton: wrist, then thumb, index, middle, ring, little finger (base to tip)."""


class Keypoint(NamedTuple):
    """One detected point: pixel position and the detector's confidence (1.0 when unknown)."""

    x: float
    y: float
    confidence: float = 1.0


Points = List[Optional[Keypoint]]


_MISSING = (np.nan, np.nan, np.nan)


def points_to_array(points: Optional[Sequence[Optional[Keypoint]]], count: int) -> np.ndarray:
    """``count x 3`` float64 array (x, y, confidence); missing points (or a missing part) are NaN rows."""
    rows = [_MISSING if point is None else point for point in list(points or ())[:count]]
    array = np.full((count, 3), np.nan)
    try:
        if rows:
            array[:len(rows)] = rows
    except (TypeError, ValueError):
        raise ValueError(_bad_point(rows)) from None
    return array


def _bad_point(rows: list) -> str:
    """What is wrong with the first of ``rows`` that is not three numbers (a Keypoint, or None for missing):
    said plainly instead of numpy's broadcasting error."""
    for index, row in enumerate(rows):
        try:
            if len(np.asarray(row, np.float64).reshape(-1)) == 3 and np.ndim(row) == 1:
                continue
        except (TypeError, ValueError):
            pass
        return f"point {index}: expected a Keypoint (x, y, confidence) or None, got {row!r}"
    return "points: expected Keypoints (x, y, confidence) or None"


def array_to_points(array: np.ndarray) -> Points:
    """Inverse of :func:`points_to_array`: rows containing NaN become ``None``."""
    missing = np.isnan(array).any(axis=1).tolist()
    return [None if gone else Keypoint(x, y, confidence)
            for gone, (x, y, confidence) in zip(missing, np.asarray(array, np.float64)[:, :3].tolist())]


@dataclass
class Person:
    """One person: 18 body points, optional 21-point hands, a 70-point face and BODY_25 feet."""

    body: Points = field(default_factory=lambda: [None] * NUM_BODY)
    left_hand: Optional[Points] = None
    right_hand: Optional[Points] = None
    face: Optional[Points] = None
    feet: Optional[Points] = None
    person_id: Optional[int] = None
    score: Optional[float] = None
    """Total assembly score (sum of part and limb scores), as the reference's subset column 18."""

    def body_array(self) -> np.ndarray:
        return points_to_array(self.body, NUM_BODY)

    def present(self) -> int:
        """Number of body points present."""
        return sum(point is not None for point in self.body)


@dataclass
class PoseFrame:
    """All people found in one image; ``width`` x ``height`` is the coordinate space of their points."""

    people: List[Person]
    width: int
    height: int

    def copy(self) -> "PoseFrame":
        """A copy whose point lists can be changed without touching this frame."""

        def copied(points):
            return None if points is None else list(points)

        people = [
            replace(person, body=list(person.body), left_hand=copied(person.left_hand),
                    right_hand=copied(person.right_hand), face=copied(person.face), feet=copied(person.feet))
            for person in self.people
        ]
        return PoseFrame(people, self.width, self.height)
