"""Result types shaped like controlnet-aux's ``detect_poses`` output, for code written against it.

Coordinates are normalised by the detect image's width/height like the reference (body in float64,
hands/face in float32). Unlike the reference, a missing hand/face point is ``None`` instead of
``(-1/W, -1/H)``, the face has 70 points in fixed positions (no background point), and
``total_parts`` counts the body points present.
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional

import numpy as np

from .pose import PoseFrame


class Keypoint(NamedTuple):
    x: float
    y: float
    score: float = 1.0
    id: int = -1


class BodyResult(NamedTuple):
    keypoints: List[Optional[Keypoint]]
    total_score: float
    total_parts: int


class PoseResult(NamedTuple):
    body: BodyResult
    left_hand: Optional[List[Optional[Keypoint]]]
    right_hand: Optional[List[Optional[Keypoint]]]
    face: Optional[List[Optional[Keypoint]]]


def _normalised_points(points, width: int, height: int):
    """float32 normalisation like the reference's hand/face path; None stays None."""
    if points is None:
        return None
    return [None if p is None else Keypoint(np.float32(p.x) / np.float32(width), np.float32(p.y) / np.float32(height))
            for p in points]


def to_pose_results(frame: PoseFrame) -> List[PoseResult]:
    """Reference-shaped results for every person of ``frame``."""
    width, height = frame.width, frame.height
    results = []
    for person in frame.people:
        body = [None if p is None else Keypoint(p.x / float(width), p.y / float(height)) for p in person.body]
        results.append(PoseResult(
            BodyResult(body, person.score if person.score is not None else 0.0, person.present()),
            _normalised_points(person.left_hand, width, height),
            _normalised_points(person.right_hand, width, height),
            _normalised_points(person.face, width, height),
        ))
    return results
