"""Proportion retargeting: give a target pose, or a whole target sequence (the action), a reference
character's bone lengths while keeping every joint angle of the target (an adult dancer's motion on a
child or a stocky character).

How: walk the kinematic tree from the neck and rescale each bone (:data:`BONES`) by
``reference length / target length``, children moving with their parents. Hands hang from the wrists,
BODY_25 feet from the ankles and the face from the nose: each part moves with its joint and is scaled
about it. The target's lengths for a sequence come from all frames, not one (see :func:`retarget`),
and one set of scales is applied to every frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np

from .edit import finite_numbers, with_arrays
from .pose import PART_SIZES, Person, PoseFrame, points_to_array

BONES: Tuple[Tuple[str, int, int], ...] = (
    ("neck", 1, 0),
    ("right_eye", 0, 14), ("left_eye", 0, 15), ("right_ear", 14, 16), ("left_ear", 15, 17),
    ("right_shoulder", 1, 2), ("right_upper_arm", 2, 3), ("right_forearm", 3, 4),
    ("left_shoulder", 1, 5), ("left_upper_arm", 5, 6), ("left_forearm", 6, 7),
    ("right_torso", 1, 8), ("right_thigh", 8, 9), ("right_shin", 9, 10),
    ("left_torso", 1, 11), ("left_thigh", 11, 12), ("left_shin", 12, 13),
)
"""The COCO-18 kinematic tree as ``(name, parent joint, child joint)``, parents before children, rooted at
the neck (1). "neck" is neck-nose; head bones are named after the joint they lead to (nose-eye, eye-ear);
the torso bones run neck-hip (COCO-18 has no mid-hip)."""

_PARENT = np.array([parent for _, parent, _ in BONES])
_CHILD = np.array([child for _, _, child in BONES])
_BONE_NAMES = tuple(name for name, _, _ in BONES)

_HEIGHT_CHAIN = (("neck",), ("right_torso", "left_torso"), ("right_thigh", "left_thigh"), ("right_shin", "left_shin"))
"""Bones summed (left and right averaged) into a standing height that does not depend on the pose."""

_ANKLES = (10, 13)


def _mean_present(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; NaN (without a warning) where nothing is present."""
    with np.errstate(invalid="ignore"):
        return np.nansum(values, axis=axis) / np.sum(~np.isnan(values), axis=axis)


def _palm_size(hands: np.ndarray) -> np.ndarray:
    """Mean wrist-to-knuckle distance per frame (``F x 21 x 2`` -> ``F``): the palm does not bend, fingers do."""
    return _mean_present(np.linalg.norm(hands[:, [5, 9, 13, 17]] - hands[:, :1], axis=-1), axis=1)


def _face_size(faces: np.ndarray) -> np.ndarray:
    """RMS distance of brows, eyes and nose (landmarks 17-47, the rigid part of the face) from their centroid."""
    rigid = faces[:, 17:48]
    spread = np.linalg.norm(rigid - _mean_present(rigid, axis=1)[:, None], axis=-1)
    return np.sqrt(_mean_present(spread ** 2, axis=1))


@dataclass(frozen=True)
class _Part:
    """A point group (or a slice of one) carried by a body joint and scaled about it."""

    name: str
    group: str
    rows: slice
    joint: int
    own_anchor: int  # pivot (index into the slice) when the joint is missing
    fallback: Tuple[str, ...]  # bones whose mean scale is used when sizes cannot be compared
    size: Optional[Callable[[np.ndarray], np.ndarray]]


_PARTS = (
    _Part("right_hand", "right_hand", slice(0, 21), 4, 0, ("right_forearm",), _palm_size),
    _Part("left_hand", "left_hand", slice(0, 21), 7, 0, ("left_forearm",), _palm_size),
    _Part("face", "face", slice(0, 70), 0, 30, ("right_eye", "left_eye", "right_ear", "left_ear"), _face_size),
    _Part("left_foot", "feet", slice(0, 3), 13, 2, ("left_shin",), None),
    _Part("right_foot", "feet", slice(3, 6), 10, 2, ("right_shin",), None),
)

_SCALE_NAMES = _BONE_NAMES + tuple(part.name for part in _PARTS)


@dataclass(frozen=True)
class RetargetReport:
    """What :func:`retarget` did. Lengths are in pixels (NaN where unmeasurable); frame indices refer to the
    target sequence."""

    scales: Dict[str, float]
    """Factor applied to each bone and to each carried part the target has (``height_factor`` included, except
    for kept ones: they keep the target's length)."""
    sources: Dict[str, str]
    """How each factor was obtained: ``"measured"``, ``"override"``, ``"from <bones>"`` (a part whose size
    could not be compared follows those bones), or ``"kept: missing in reference|target|both"``."""
    reference_lengths: Dict[str, float]
    target_lengths: Dict[str, float]
    """Robust estimate over the whole target sequence."""
    height_factor: float
    missing: Dict[str, List[int]] = field(default_factory=dict)
    """Bone -> frames where the target lacks one of its joints (the bone is left as it is there)."""
    frames_without_person: List[int] = field(default_factory=list)
    unanchored_frames: List[int] = field(default_factory=list)
    """With ``anchor="feet"``: frames without an ankle, placed by the neck instead."""
    notes: List[str] = field(default_factory=list)

    @property
    def kept(self) -> Dict[str, str]:
        """Bones and parts left at their length for lack of measurements, with the reason."""
        return {name: source[len("kept: "):] for name, source in self.sources.items() if source.startswith("kept")}

    @property
    def scaled(self) -> List[str]:
        """Bones and parts whose length changed (measured, overridden or following their bones)."""
        return [name for name, source in self.sources.items() if not source.startswith("kept")]


@dataclass(frozen=True)
class RetargetResult:
    frames: List[PoseFrame]
    report: RetargetReport


# -- measuring ----------------------------------------------------------------------------------------------

def _stack(people: Sequence[Person]) -> Dict[str, np.ndarray]:
    """Each point group of ``people`` as one ``F x N x 3`` array (NaN where a point or group is missing)."""
    return {part: np.array([points_to_array(getattr(person, part), size) for person in people]).reshape(-1, size, 3)
            for part, size in PART_SIZES.items()}


def _measurable(sizes: np.ndarray) -> np.ndarray:
    """``sizes`` with 0 (and anything not finite) made NaN: a bone or part collapsed onto one point has no size
    to compare, and a ratio with it would be 0 or infinite."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(sizes) & (sizes > 0), sizes, np.nan)


def _bone_lengths(body: np.ndarray) -> np.ndarray:
    """``F x 18 x 3`` -> ``F x bones`` lengths; NaN when a joint is missing or the bone has no length."""
    return _measurable(np.linalg.norm(body[:, _CHILD, :2] - body[:, _PARENT, :2], axis=-1))


def _robust_length(samples: np.ndarray, percentile: float) -> np.ndarray:
    """Per column, the ``percentile`` of the present samples (NaN when none)."""
    columns = [column[~np.isnan(column)] for column in samples.T]
    return np.array([np.percentile(column, percentile) if len(column) else np.nan for column in columns])


def _part_sizes(posed: Dict[str, np.ndarray], percentile: float) -> np.ndarray:
    """Robust size of each carried part that has a size measure (NaN otherwise, and for frames where the part
    has no size: too few points, or all on one spot)."""
    frames = len(posed["body"])
    sizes = [part.size(posed[part.group][:, part.rows, :2]) if part.size else np.full(frames, np.nan)
             for part in _PARTS]
    return _robust_length(_measurable(np.array(sizes).T), percentile)


def _ratios(reference: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, List[str]]:
    """``reference / target`` where both are measured (1 elsewhere) and the source of each."""
    measured = np.isfinite(reference) & np.isfinite(target)
    where = {(True, True): "both", (True, False): "reference", (False, True): "target"}
    sources = ["measured" if ok else "kept: missing in " + where[(bool(np.isnan(r)), bool(np.isnan(t)))]
               for ok, r, t in zip(measured, reference, target)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(measured, reference / target, 1.0), sources


def _resolve_overrides(overrides: Optional[Dict[str, float]]) -> Dict[str, float]:
    """Expand side-less names (``"thigh"`` -> both thighs, ``"hand"`` -> both hands); exact names win."""
    resolved: Dict[str, float] = {}
    for key, value in sorted((overrides or {}).items(), key=lambda item: item[0] in _SCALE_NAMES):
        names = [key] if key in _SCALE_NAMES else [f"{side}_{key}" for side in ("right", "left")
                                                   if f"{side}_{key}" in _SCALE_NAMES]
        if not names:
            raise ValueError(f"unknown override {key!r}; use one of {_SCALE_NAMES} or a name without right_/left_")
        [factor] = finite_numbers(**{f"override {key!r}": value})   # NaN would drop the joints below the bone
        if factor <= 0:                                                 # and 0 or less fold it back
            raise ValueError(f"override {key!r} must be a positive factor, got {value!r}")
        resolved.update(dict.fromkeys(names, factor))
    return resolved


def _standing_height(lengths: Dict[str, float]) -> float:
    """neck-nose + torso + thigh + shin (left/right averaged): a height from bone lengths, so one crouching
    or foreshortened frame cannot change it. Unmeasured terms are left out (0 when nothing is measured)."""
    terms = [_mean_present(np.array([lengths[name] for name in names]), axis=0) for names in _HEIGHT_CHAIN]
    return float(sum(term for term in terms if np.isfinite(term)))


# -- applying -----------------------------------------------------------------------------------------------

def _joint_shifts(body: np.ndarray, bone_scales: np.ndarray) -> np.ndarray:
    """``F x 18 x 2`` displacement of every joint when each bone is scaled about its parent, walking from the
    neck (which stays). A missing joint gets its parent's displacement, so whatever hangs below it still moves
    with the rest of the limb; a bone with a missing end keeps its length."""
    xy = body[..., :2]
    shift = np.zeros_like(xy)
    for bone, (_, parent, child) in enumerate(BONES):
        offset = xy[:, child] - xy[:, parent]
        moved = shift[:, parent] + (bone_scales[bone] - 1) * offset
        shift[:, child] = np.where(np.isnan(offset), shift[:, parent], moved)
    return shift


def _carry(points: np.ndarray, joint_xy: np.ndarray, joint_shift: np.ndarray, anchor: int, factor: float) -> np.ndarray:
    """Move a part (``F x N x 2``) with its joint and scale it about the joint (or, when the joint is missing,
    about the part's own anchor point, else its centroid)."""
    pivot = np.where(np.isnan(joint_xy), points[:, anchor], joint_xy)
    pivot = np.where(np.isnan(pivot), _mean_present(points, axis=1), pivot)
    return points + joint_shift[:, None] + (factor - 1) * (points - pivot[:, None])


def _apply(posed: Dict[str, np.ndarray], scales: Dict[str, float]) -> Dict[str, np.ndarray]:
    """The retargeted point groups (``F x N x 3``, confidences unchanged)."""
    body = posed["body"]
    shift = _joint_shifts(body, np.array([scales[name] for name in _BONE_NAMES]))
    result = {part: array.copy() for part, array in posed.items()}
    result["body"][..., :2] += shift
    for part in _PARTS:
        moved = result[part.group][:, part.rows, :2]  # a view: written in place
        moved[...] = _carry(moved, body[:, part.joint, :2], shift[:, part.joint], part.own_anchor, scales[part.name])
    return result


def _lowest_ankle(body: np.ndarray) -> np.ndarray:
    """Per frame, the largest ankle y (y points down); NaN without ankles."""
    return np.fmax(body[:, _ANKLES[0], 1], body[:, _ANKLES[1], 1])


def _ground(posed: Dict[str, np.ndarray], result: Dict[str, np.ndarray]) -> np.ndarray:
    """Shift each frame vertically so its lowest ankle is where the target's was; returns the unanchored frames."""
    drop = _lowest_ankle(posed["body"]) - _lowest_ankle(result["body"])
    unanchored = np.isnan(drop)
    for array in result.values():
        array[..., 1] += np.where(unanchored, 0.0, drop)[:, None]
    return unanchored


# -- the entry point ----------------------------------------------------------------------------------------

def retarget(reference: Union[Person, PoseFrame, None], target: Union[PoseFrame, Sequence[PoseFrame]], *,
             height: str = "reference", anchor: str = "neck", overrides: Optional[Dict[str, float]] = None,
             reference_person: int = 0, target_person: int = 0, target_id: Optional[int] = None,
             percentile: float = 75.0) -> RetargetResult:
    """Give ``target`` (one frame or a sequence) the bone lengths of ``reference`` keeping the target's angles.

    - ``reference``: the character, a :class:`Person` or a frame (its ``reference_person``, which must be
      there); ``None`` applies only ``overrides``. ``target_person`` is retargeted in every target frame; other
      people are untouched.
      ``target_id`` instead picks the person with that ``person_id`` (:func:`openpose_core.track.track_people`)
      in each frame, which stays the same person through a video while the order of people may not.
    - Target lengths: in 2-D a bone only ever looks shorter than it is (foreshortening), so for each bone the
      ``percentile`` (default 75th, about the median of the longer half) of its per-frame lengths is taken:
      a frame with a limb pointing at the camera cannot shrink the estimate, and a few too-long
      mis-detections cannot inflate it. With one frame this is simply that frame's length. Hands use the palm
      size (wrist to knuckles), the face the spread of brows, eyes and nose, estimated the same way.
    - Scale per bone = reference length / target length, one set for all frames. A bone whose joints are
      missing in either pose (or coincide) keeps its length (reported). A part whose size cannot be compared
      (missing, or collapsed onto one point) uses its bones' scale (hand: forearm; face: nose-eye and eye-ear
      bones; feet: shin).
    - ``overrides``: name -> scale factor, replacing the computed one (names from :data:`BONES` and
      ``right_hand``, ``left_hand``, ``face``, ``right_foot``, ``left_foot``; a name without ``right_``/``left_``,
      e.g. ``"thigh"``, sets both sides); factors must be positive numbers.
    - ``height="reference"`` keeps the scaled (reference) size; ``"target"`` then rescales the figure about the
      neck so its standing height (neck-nose + torso + thigh + shin, from bone lengths) equals the target's.
      Kept bones and parts keep the target's length here too, so the rescaled ones make up the difference.
    - ``anchor="neck"`` keeps each frame's neck in place; ``"feet"`` then moves each frame vertically so its
      lowest ankle sits on that target frame's ground line (its lowest ankle).
    """
    if height not in ("reference", "target"):
        raise ValueError(f"height must be 'reference' or 'target', got {height!r}")
    if anchor not in ("neck", "feet"):
        raise ValueError(f"anchor must be 'neck' or 'feet', got {anchor!r}")
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be within [0, 100], got {percentile!r}")
    frames = [target] if isinstance(target, PoseFrame) else list(target)
    if isinstance(reference, PoseFrame):
        reference = _reference_person(reference, reference_person)
    chosen = _target_people(frames, target_person, target_id)
    rows = sorted(chosen)
    posed = _stack([frames[index].people[chosen[index]] for index in rows])
    reference_posed = _stack([] if reference is None else [reference])

    target_samples = _bone_lengths(posed["body"])
    target_lengths = _robust_length(target_samples, percentile)
    reference_lengths = _robust_length(_bone_lengths(reference_posed["body"]), percentile)
    scales, sources = _scales(target_lengths, reference_lengths, _part_sizes(posed, percentile),
                              _part_sizes(reference_posed, percentile), _resolve_overrides(overrides))
    kept = {name for name, source in sources.items() if source.startswith("kept")}
    height_factor, notes = 1.0, []
    if height == "target":
        height_factor, notes = _height_factor(dict(zip(_BONE_NAMES, target_lengths)), scales, kept)
    scales = {name: value if name in kept else value * height_factor for name, value in scales.items()}

    result = _apply(posed, scales)
    unanchored = _ground(posed, result) if anchor == "feet" else np.zeros(len(rows), dtype=bool)
    out = [frame.copy() for frame in frames]
    for k, index in enumerate(rows):
        person = frames[index].people[chosen[index]]
        present = [part for part in PART_SIZES if getattr(person, part) is not None]
        out[index].people[chosen[index]] = with_arrays(person, {part: result[part][k] for part in present})

    found = set(rows)
    shown = [part.name for part in _PARTS if not np.isnan(posed[part.group][:, part.rows]).all()]
    reported = list(_BONE_NAMES) + shown  # parts the target never has get no entry
    report = RetargetReport(
        scales={name: float(scales[name]) for name in reported}, sources={name: sources[name] for name in reported},
        target_lengths=dict(zip(_BONE_NAMES, map(float, target_lengths))),
        reference_lengths=dict(zip(_BONE_NAMES, map(float, reference_lengths))), height_factor=float(height_factor),
        missing={name: [rows[k] for k in np.flatnonzero(np.isnan(target_samples[:, bone]))]
                 for bone, name in enumerate(_BONE_NAMES) if np.isnan(target_samples[:, bone]).any()},
        frames_without_person=[index for index in range(len(frames)) if index not in found],
        unanchored_frames=[rows[k] for k in np.flatnonzero(unanchored)], notes=notes)
    return RetargetResult(out, report)


def _reference_person(frame: PoseFrame, index: int) -> Person:
    """The reference frame's person ``index``; ValueError naming ``reference_person`` when there is none."""
    count = len(frame.people)
    if not -count <= index < count:
        raise ValueError(f"reference_person: no person {index} in the reference frame (it has {count})")
    return frame.people[index]


def _target_people(frames: List[PoseFrame], index: int, person_id: Optional[int]) -> Dict[int, int]:
    """Frame number -> the retargeted person's index in it, for the frames that have that person."""
    if person_id is None:
        return {number: index % len(frame.people) for number, frame in enumerate(frames)
                if -len(frame.people) <= index < len(frame.people)}
    return {number: ids.index(person_id) for number, ids in
            enumerate([person.person_id for person in frame.people] for frame in frames) if person_id in ids}


def _scales(target_lengths: np.ndarray, reference_lengths: np.ndarray, target_sizes: np.ndarray,
            reference_sizes: np.ndarray, manual: Dict[str, float]) -> Tuple[Dict[str, float], Dict[str, str]]:
    """Scale and source of every bone, then of every carried part (which may follow its bones' final scales);
    overrides replace computed values."""
    bone_scales, bone_sources = _ratios(reference_lengths, target_lengths)
    scales, sources = dict(zip(_BONE_NAMES, bone_scales)), dict(zip(_BONE_NAMES, bone_sources))
    for name in _BONE_NAMES:
        if name in manual:
            scales[name], sources[name] = manual[name], "override"
    part_scales, part_sources = _ratios(reference_sizes, target_sizes)
    for part, value, source in zip(_PARTS, part_scales, part_sources):
        if part.name in manual:
            scales[part.name], sources[part.name] = manual[part.name], "override"
        else:
            scales[part.name], sources[part.name] = _part_scale(part, value, source, scales, sources)
    return scales, sources


def _part_scale(part: _Part, value: float, source: str, scales: Dict[str, float],
                sources: Dict[str, str]) -> Tuple[float, str]:
    """A part's own size ratio when measured, else the mean scale of those of its bones that were not kept."""
    if source == "measured":
        return float(value), source
    bones = [bone for bone in part.fallback if not sources[bone].startswith("kept")]
    if bones:
        return float(np.mean([scales[bone] for bone in bones])), "from " + ", ".join(bones)
    return 1.0, source if part.size else sources[part.fallback[0]]


def _height_factor(target_lengths: Dict[str, float], scales: Dict[str, float],
                   kept: Set[str]) -> Tuple[float, List[str]]:
    """Uniform factor for the scaled bones that brings the figure's standing height back to the target's.
    Kept bones stay at the target's length, so the height is ``factor * scaled part + kept part``."""
    def height_of(chosen: Set[str]) -> float:  # 0 * length keeps NaN (unmeasured) terms out of the height
        return _standing_height({name: length * (scales[name] if name in chosen else 0.0)
                                 for name, length in target_lengths.items()})

    scaled = set(target_lengths) - kept
    scaled_height, kept_height = height_of(scaled), height_of(kept)
    if scaled_height <= 0:
        return 1.0, ["height: no neck, torso or leg bone measured in the target was rescaled; height not matched"]
    return (_standing_height(target_lengths) - kept_height) / scaled_height, []
