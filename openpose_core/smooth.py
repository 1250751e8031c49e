"""Temporal clean-up of tracked poses: One Euro smoothing against jitter, and filling of short dropouts.

Both work per person id, so run :func:`openpose_core.track.track_people` first; frames with a person
without an id are refused rather than guessed at. Suggested order for a video:
``smooth_poses(fill_gaps(track_people(frames)))`` -- filling first gives the filter unbroken signals.

Smoothing never invents points: a missing point stays missing, and its filter starts afresh from the
first observation after the gap (so it is never pulled towards a stale position or towards (0, 0)). Only
:func:`fill_gaps` adds points. Confidences are passed through unchanged (filled points: see there).
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from .edit import finite_numbers, with_arrays
from .pose import PART_SIZES, Person, PoseFrame, points_to_array
from .track import MIN_SIZE_FRACTION, Progress, bbox_diagonal, check_max_gap, counted, has_track_ids, video_frames

DEFAULT_MIN_CUTOFF = 0.5
"""Hz. The cutoff for a still point: at 30 fps an exponential average giving the new sample weight 0.095,
which leaves about a third of the detector's jitter on a standing person."""

DEFAULT_BETA = 10.0
"""Cutoff increase (Hz) per unit of speed, speed in person sizes per second: a limb moving at 0.3 sizes/s
gets 3.5 Hz, a person walking at 1 size/s 10.5 Hz (weight 0.69), so motion is followed with little lag.
Chosen on simulated tracks (300-px person, 1.5 px noise, 30 fps): still-point error 0.5 px RMS; a person
walking at 0.6 sizes/s trails by ~3 px causally, ~1 px with ``bidirectional``."""

DEFAULT_D_CUTOFF = 1.0
"""Hz. Cutoff of the speed estimate (the value of the original paper)."""

DEFAULT_FILL_GAP = 3
"""Frames: detector dropouts are usually a frame or two; longer gaps are real occlusions."""


def _alpha(cutoff, fps: float):
    """Weight of the new sample in a first-order low-pass at ``cutoff`` Hz sampled at ``fps``."""
    rate = 2.0 * np.pi * np.asarray(cutoff) / fps
    return rate / (1.0 + rate)


class OneEuroFilter:
    """One Euro filter (Casiez, Roussel, Vogel, CHI 2012) over an array of independent signals.

    Each call takes the next sample of every signal (any fixed shape). A low-pass whose cutoff rises with
    the signal's speed: ``cutoff = min_cutoff + beta * |speed| / scale``, with the speed itself low-passed
    at ``d_cutoff``; ``fps`` is the sampling rate. ``min_cutoff`` trades jitter for lag when slow, ``beta``
    lag for jitter when fast. A NaN sample is missing: its output is NaN and that signal restarts (output
    = input, speed 0) at its next sample.
    """

    def __init__(self, *, fps: float = 30.0, min_cutoff: float = DEFAULT_MIN_CUTOFF, beta: float = DEFAULT_BETA,
                 d_cutoff: float = DEFAULT_D_CUTOFF):
        # a NaN or infinite setting would turn every filtered point into a missing one
        fps, min_cutoff, beta, d_cutoff = finite_numbers(fps=fps, min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff)
        if fps <= 0 or min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f"need fps, min_cutoff, d_cutoff > 0 and beta >= 0; got {fps}, {min_cutoff}, "
                             f"{d_cutoff}, {beta}")
        self.fps, self.min_cutoff, self.beta, self.d_cutoff = fps, min_cutoff, beta, d_cutoff
        self._value: Optional[np.ndarray] = None
        self._speed: Optional[np.ndarray] = None

    def __call__(self, sample, scale=1.0) -> np.ndarray:
        """The filtered sample. ``scale`` (broadcastable) divides the speed, so ``beta`` can be given in
        object-relative units."""
        sample = np.asarray(sample, dtype=float)
        if self._value is None:
            self._value, self._speed = np.full(sample.shape, np.nan), np.zeros(sample.shape)
        if sample.shape != self._value.shape:
            raise ValueError(f"sample shape {sample.shape} differs from the filter's {self._value.shape}")
        fresh = np.isnan(self._value)
        raw_speed = (sample - self._value) * self.fps
        speed = np.where(fresh, 0.0, self._speed + _alpha(self.d_cutoff, self.fps) * (raw_speed - self._speed))
        weight = _alpha(self.min_cutoff + self.beta * np.abs(speed) / scale, self.fps)
        self._value = np.where(fresh, sample, self._value + weight * (sample - self._value))
        self._speed = speed
        return self._value.copy()


def _check_frame(frame: PoseFrame, index: int, canvas: Tuple[int, int]) -> None:
    """ValueError naming frame ``index`` of a video when it was not tracked (ids missing or repeated) or its
    canvas differs from the video's ``canvas`` (positions on two canvases do not mean the same thing)."""
    if not has_track_ids(frame):
        raise ValueError(f"frame {index}: every person needs a person_id, none twice in a frame (got "
                         f"{[person.person_id for person in frame.people]}); run track_people() on the frames first")
    if (frame.width, frame.height) != canvas:
        raise ValueError(f"frame {index}: canvas {frame.width} x {frame.height} differs from the video's "
                         f"{canvas[0]} x {canvas[1]}; the frames of one video must share a canvas (edit.resize)")


def _flat(person: Person) -> np.ndarray:
    """All of the person's points (body, hands, face, feet; absent groups as NaN) as one ``N x 3`` array."""
    return np.concatenate([points_to_array(getattr(person, part), size) for part, size in PART_SIZES.items()])


def _unflat(person: Person, points: np.ndarray) -> Person:
    """``person`` with its points taken from a :func:`_flat` array; a group it lacked stays absent unless
    ``points`` has some of it."""
    groups = np.split(points, np.cumsum(list(PART_SIZES.values()))[:-1])
    return with_arrays(person, {part: None if getattr(person, part) is None and np.isnan(group).all() else group
                                for part, group in zip(PART_SIZES, groups)})


class PoseSmoother:
    """Streaming :func:`smooth_poses`: feed tracked frames in order to :meth:`update`."""

    def __init__(self, *, fps: float = 30.0, min_cutoff: float = DEFAULT_MIN_CUTOFF, beta: float = DEFAULT_BETA,
                 d_cutoff: float = DEFAULT_D_CUTOFF):
        self._settings = dict(fps=fps, min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff)
        OneEuroFilter(**self._settings)  # validates the settings now rather than at the first person
        self._filters: Dict[int, OneEuroFilter] = {}
        self._canvas: Optional[Tuple[int, int]] = None
        self._count = 0

    def update(self, frame: PoseFrame) -> PoseFrame:
        """A copy of ``frame`` with every person's points smoothed; a person absent from the previous frame
        starts afresh."""
        self._canvas = self._canvas or (frame.width, frame.height)
        _check_frame(frame, self._count, self._canvas)
        self._count += 1
        self._filters = {person.person_id: self._filters.get(person.person_id) or OneEuroFilter(**self._settings)
                         for person in frame.people}
        min_size = MIN_SIZE_FRACTION * np.hypot(frame.width, frame.height)
        people = []
        for person in frame.people:
            points = _flat(person)
            scale = max(float(bbox_diagonal(points[:, :2])), min_size)
            points[:, :2] = self._filters[person.person_id](points[:, :2], scale)
            people.append(_unflat(person, points))
        return PoseFrame(people, frame.width, frame.height)


def smooth_poses(frames: Iterable[PoseFrame], *, fps: float = 30.0, min_cutoff: float = DEFAULT_MIN_CUTOFF,
                 beta: float = DEFAULT_BETA, d_cutoff: float = DEFAULT_D_CUTOFF,
                 bidirectional: bool = False, progress: Progress = None) -> List[PoseFrame]:
    """New frames with each tracked person's points One-Euro filtered over time.

    ``fps``: the video's frame rate; ``min_cutoff`` (Hz): lower = steadier when still, more lag;
    ``beta`` (per person-size/s): higher = less lag in fast motion, more jitter; ``d_cutoff`` (Hz): speed
    estimate smoothing. Speeds are measured in person sizes (the bounding-box diagonal of the person's
    points) so the same ``beta`` suits near and far people. People need ids (:func:`track_people`).

    By default the filter is causal (the same as :class:`PoseSmoother`, so it lags motion a little).
    ``bidirectional=True`` averages it with the filter run backwards in time: the two lags cancel, which
    suits whole videos processed offline (about 3x less error on moving points in the simulation above).
    ``progress(done, total)`` is called after each frame of each pass (forward; backward and averaging).
    """
    frames = video_frames(frames)
    steps = len(frames) * (3 if bidirectional else 1)

    def run(sequence, start):
        smoother = PoseSmoother(fps=fps, min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff)
        return [smoother.update(frame) for frame in counted(sequence, progress, start, steps)]

    forward = run(frames, 0)
    if not bidirectional:
        return forward
    backward = run(frames[::-1], len(frames))[::-1]
    return [_average(one, other) for one, other in counted(zip(forward, backward), progress, 2 * len(frames), steps)]


def _average(first: PoseFrame, second: PoseFrame) -> PoseFrame:
    """Point-wise mean of two smoothings of the same frame (same people in the same order)."""
    people = [_unflat(one, (_flat(one) + _flat(other)) / 2) for one, other in zip(first.people, second.people)]
    return PoseFrame(people, first.width, first.height)


def _interpolate_short_gaps(series: np.ndarray, max_gap: int) -> np.ndarray:
    """``T x K x 3`` (time x signals x (x, y, confidence), NaN = missing) with every run of at most
    ``max_gap`` missing samples between two observations filled: positions linearly, confidence = the
    lower of the two observations'."""
    count = len(series)
    observed = ~np.isnan(series).any(axis=-1)
    time = np.arange(count)[:, None]
    before = np.maximum.accumulate(np.where(observed, time, -1), axis=0)
    after = np.minimum.accumulate(np.where(observed, time, count)[::-1], axis=0)[::-1]
    frame, signal = np.nonzero(~observed & (before >= 0) & (after < count) & (after - before - 1 <= max_gap))
    start, end = series[before[frame, signal], signal], series[after[frame, signal], signal]
    weight = ((frame - before[frame, signal]) / (after[frame, signal] - before[frame, signal]))[:, None]
    filled = series.copy()
    filled[frame, signal, :2] = start[:, :2] + weight * (end[:, :2] - start[:, :2])
    filled[frame, signal, 2] = np.minimum(start[:, 2], end[:, 2])
    return filled


def fill_gaps(frames: Iterable[PoseFrame], max_gap: int = DEFAULT_FILL_GAP, *,
              progress: Progress = None) -> List[PoseFrame]:
    """New frames where a tracked person's point missing for at most ``max_gap`` consecutive frames, with
    observations of it on both sides, is interpolated linearly in time.

    A filled point's confidence is the lower of its two neighbours'. Nothing is extrapolated (points missing
    at the start or end stay missing); a person absent from a frame inside such a gap is put back (appended,
    ``score=None``) with the points that could be filled. People need ids (:func:`track_people`).
    ``progress(done, total)`` is called after each person.
    """
    check_max_gap(max_gap)
    frames = video_frames(frames)
    sightings: Dict[int, Dict[int, Person]] = {}  # person id -> {frame index: person}
    for time, frame in enumerate(frames):
        _check_frame(frame, time, (frames[0].width, frames[0].height))
        for person in frame.people:
            sightings.setdefault(person.person_id, {})[time] = person
    people = [dict.fromkeys(person.person_id for person in frame.people) for frame in frames]
    for person_id in counted(sorted(sightings), progress, 0, len(sightings)):
        # only the person's own span of frames: memory grows with time on screen, not frames x every id
        seen = sightings[person_id]
        first = min(seen)
        series = np.full((max(seen) - first + 1, sum(PART_SIZES.values()), 3), np.nan)
        for time, person in seen.items():
            series[time - first] = _flat(person)
        for time, points in enumerate(_interpolate_short_gaps(series, max_gap), start=first):
            if time in seen:
                people[time][person_id] = _unflat(seen[time], points)
            elif not np.isnan(points).all():
                people[time][person_id] = _unflat(Person(person_id=person_id), points)
    return [PoseFrame(list(filled.values()), frame.width, frame.height) for filled, frame in zip(people, frames)]
