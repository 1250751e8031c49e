"""Person identities across video frames: every person gets a ``person_id`` that stays with them.

Each frame's people are matched to the known tracks by body-pose distance:

- **Distance** between a track and a detected person: the mean distance over the body points both have,
  divided by the person's size (the larger of the two body bounding-box diagonals, at least
  :data:`MIN_SIZE_FRACTION` of the frame diagonal), so one threshold serves near and far people. With no
  common body point the pair cannot match (a person without body points always gets a new id).
- **Motion**: a track is compared both with its last seen pose and with that pose moved on at its last
  velocity (mean displacement of the body between its last two sightings) for the frames since; the
  smaller distance counts. So people walking past each other, even overlapping or one hidden for a few
  frames, keep their ids, and a person who stopped or turned back is still found where they were.
- **Assignment**: the pairing that maximises the summed margin ``max_distance - distance`` over matched
  pairs (exact Hungarian method, :func:`openpose_core.edit.min_cost_assignment`); pairs at or beyond
  ``max_distance`` never match. A confident match is therefore not traded for two mediocre ones.
- **Memory**: a track unseen for up to ``max_gap`` frames can still be matched (same id on return); after
  that it is forgotten. Unmatched people start new tracks, numbered from 0 in order of first appearance
  (within a frame left to right by body centre, so the input order of people never matters). Ids are never
  reused.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, List, Optional, TypeVar

import numpy as np

from .edit import finite_numbers, min_cost_assignment
from .pose import NUM_BODY, PoseFrame

DEFAULT_MAX_DISTANCE = 0.5
"""Gate in person sizes: a mean body-point distance of half a body-box diagonal is no longer the same person
(people standing shoulder to shoulder are about that far apart)."""

MIN_SIZE_FRACTION = 0.02
"""Smallest person size, as a fraction of the frame diagonal, so one or two detected points don't make every
small movement look huge."""

Progress = Optional[Callable[[int, int], None]]
"""``progress(done, total)`` after each step of a long run over a video (a frame, or for
:func:`openpose_core.smooth.fill_gaps` a person); raising from it stops the run."""

Step = TypeVar("Step")


def counted(steps: Iterable[Step], progress: Progress, start: int, total: int) -> Iterator[Step]:
    """``steps``, calling ``progress(start + n, total)`` once the n-th has been dealt with (the next is asked for)."""
    for done, step in enumerate(steps, start + 1):
        yield step
        if progress is not None:
            progress(done, total)


def video_frames(frames: Iterable[PoseFrame]) -> List[PoseFrame]:
    """``frames`` as a list (a generator is read once, so it can be walked again), refusing what is not a
    sequence of PoseFrames with a ValueError naming the frame, instead of an AttributeError deep inside."""
    if isinstance(frames, (PoseFrame, dict, str, bytes)):
        raise ValueError(f"expected a video's frames (a list of PoseFrame), got one {type(frames).__name__}")
    try:
        frames = list(frames)
    except TypeError:
        raise ValueError(f"expected a video's frames (a list of PoseFrame), got {type(frames).__name__}") from None
    for index, frame in enumerate(frames):
        if not isinstance(frame, PoseFrame):
            raise ValueError(f"frame {index}: expected a PoseFrame, got {type(frame).__name__} "
                             "(formats.read_poses reads pose JSON into PoseFrames)")
    return frames


def check_max_gap(max_gap) -> None:
    """ValueError unless ``max_gap`` is a number of frames >= 0 (``inf``: no limit)."""
    if isinstance(max_gap, bool) or not isinstance(max_gap, numbers.Real) or not max_gap >= 0:
        raise ValueError(f"max_gap must be a number of frames >= 0, got {max_gap!r}")


def bbox_diagonal(points: np.ndarray) -> np.ndarray:
    """Bounding-box diagonal of the present (non-NaN) points of each ``... x N x 2`` set; 0 when none."""
    present = ~np.isnan(points).any(axis=-1, keepdims=True)
    low = np.where(present, points, np.inf).min(axis=-2)
    high = np.where(present, points, -np.inf).max(axis=-2)
    extent = np.where(present.any(axis=-2), high - low, 0.0)
    return np.hypot(extent[..., 0], extent[..., 1])


def pose_distance(tracks: np.ndarray, people: np.ndarray, min_size: float) -> np.ndarray:
    """``T x D`` size-normalised mean distance between ``T x 18 x 2`` and ``D x 18 x 2`` bodies (inf when
    they share no point)."""
    distance = np.linalg.norm(tracks[:, None] - people[None], axis=-1)  # T x D x 18, NaN unless both present
    shared = ~np.isnan(distance)
    count = shared.sum(axis=-1)
    mean = np.where(shared, distance, 0.0).sum(axis=-1) / np.maximum(count, 1)
    size = np.maximum(np.maximum(bbox_diagonal(tracks)[:, None], bbox_diagonal(people)[None]), min_size)
    return np.where(count > 0, mean / size, np.inf)


def _mean_shift(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Mean displacement of the points present in both ``18 x 2`` bodies; zero when none are."""
    shift = after - before
    shared = ~np.isnan(shift).any(axis=1)
    return shift[shared].mean(axis=0) if shared.any() else np.zeros(2)


@dataclass
class _Track:
    person_id: int
    body: np.ndarray  # 18 x 2 positions when last seen, NaN = missing
    velocity: np.ndarray  # pixels per frame
    last_seen: int


class PoseTracker:
    """Streaming tracker: feed frames in order to :meth:`update`; see the module docstring for the rules."""

    def __init__(self, *, max_gap: int = 30, max_distance: float = DEFAULT_MAX_DISTANCE):
        check_max_gap(max_gap)
        max_distance, = finite_numbers(max_distance=max_distance)   # a NaN gate would match no one, ever
        if max_distance <= 0:
            raise ValueError(f"max_distance must be > 0, got {max_distance!r}")
        self.max_gap, self.max_distance = max_gap, max_distance
        self._tracks: List[_Track] = []
        self._next_id = 0
        self._frame_index = -1

    def update(self, frame: PoseFrame) -> PoseFrame:
        """A copy of ``frame`` whose people carry their track ids (any ids they had are replaced)."""
        self._frame_index += 1
        self._tracks = [track for track in self._tracks if self._frame_index - track.last_seen - 1 <= self.max_gap]
        bodies = np.array([person.body_array()[:, :2] for person in frame.people]).reshape(-1, NUM_BODY, 2)
        matches = self._match(bodies, np.hypot(frame.width, frame.height))
        result = frame.copy()
        for person_index in range(len(bodies)):
            track = matches.get(person_index)
            if track is None:
                continue
            track.velocity = _mean_shift(track.body, bodies[person_index]) / (self._frame_index - track.last_seen)
            track.body, track.last_seen = bodies[person_index], self._frame_index
            result.people[person_index].person_id = track.person_id
        newcomers = [index for index in range(len(bodies)) if index not in matches]
        for person_index in sorted(newcomers, key=lambda index: _left_to_right(bodies[index])):
            self._tracks.append(_Track(self._next_id, bodies[person_index], np.zeros(2), self._frame_index))
            result.people[person_index].person_id = self._next_id
            self._next_id += 1
        return result

    def _match(self, bodies: np.ndarray, frame_diagonal: float) -> dict:
        """``{person index: track}`` for the people that continue a track."""
        if not self._tracks or not len(bodies):
            return {}
        last = np.array([track.body for track in self._tracks])
        elapsed = np.array([self._frame_index - track.last_seen for track in self._tracks])
        moved = last + np.array([track.velocity for track in self._tracks])[:, None] * elapsed[:, None, None]
        min_size = MIN_SIZE_FRACTION * frame_diagonal
        cost = np.minimum(pose_distance(last, bodies, min_size), pose_distance(moved, bodies, min_size))
        margin = np.minimum(cost - self.max_distance, 0.0)  # gated pairs cost the same as no match
        return {person: self._tracks[track] for track, person in min_cost_assignment(margin)
                if cost[track, person] < self.max_distance}


def _left_to_right(body: np.ndarray) -> tuple:
    """Sort key: body centre x, then y; people without body points last."""
    present = body[~np.isnan(body).any(axis=1)]
    return (0, *present.mean(axis=0)) if len(present) else (1, 0.0, 0.0)


def track_people(frames: Iterable[PoseFrame], *, max_gap: int = 30, max_distance: float = DEFAULT_MAX_DISTANCE,
                 progress: Progress = None) -> List[PoseFrame]:
    """New frames whose people carry ids that stay with each person through ``frames`` (a video, in order).

    ``max_gap``: frames a person may be missing and still get their id back; ``max_distance``: the matching
    gate in person sizes; ``progress(done, total)`` after each frame. The input frames are not changed.
    """
    tracker = PoseTracker(max_gap=max_gap, max_distance=max_distance)
    frames = video_frames(frames)
    return [tracker.update(frame) for frame in counted(frames, progress, 0, len(frames))]


def has_track_ids(frame: PoseFrame) -> bool:
    """Whether every person of ``frame`` has a ``person_id``, none twice (as :func:`track_people` gives)."""
    ids = [person.person_id for person in frame.people]
    return None not in ids and len(set(ids)) == len(ids)


def tracked(frames: Iterable[PoseFrame], *, progress: Progress = None) -> List[PoseFrame]:
    """``frames`` as they are when they carry track ids already (so ids a user selected by stay valid),
    else :func:`track_people` of them."""
    frames = video_frames(frames)
    return frames if all(has_track_ids(frame) for frame in frames) else track_people(frames, progress=progress)
