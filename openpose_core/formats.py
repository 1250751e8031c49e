"""Pose JSON: read, validate and write the OpenPose-family documents ControlNet tools exchange.

Everything read becomes :class:`~.pose.PoseFrame` objects with keypoints in pixels of the frame's
canvas. Dialects read:

* CMU OpenPose ``--write_json`` files: ``version``, ``people[].person_id`` (``[-1]`` means none),
  ``pose_keypoints_2d`` in COCO-18 (54 values) or BODY_25 (75 values), real confidences, ``[]`` for
  absent parts. ``*_3d`` and ``part_candidates`` are ignored. BODY_25 is mapped to COCO-18: the six
  foot points land on ``Person.feet`` and MidHip is dropped (``Person`` has no place for it). It was
  trained as the mean of the hips, but the network detects it as a part of its own, so writing
  BODY_25 again, which recomputes it from the hips, moves it slightly, and loses it when a hip is
  missing.
* sd-webui-controlnet JSON: normalised coordinates, canvas = the padded detect size, 213-value faces,
  ``animals`` (ignored with a note: openpose-core has no animal poses).
* ComfyUI POSE_KEYPOINT: a list of frame dicts (one per image) or a single dict; pose editors' output
  (pixel coordinates, third value a 1/0 visibility flag).
* ``[[x, y, c], ...]`` triplets wherever flat ``[x, y, c, ...]`` arrays are expected.

Sources: a ``str`` (or ``bytes``) is always JSON text, never a file name (a ComfyUI widget holds text;
a string that happens to name a file must not change meaning): pass a :class:`pathlib.Path` for files.
Text may start with a UTF-8 byte order mark (Windows editors write one); bytes may be UTF-8, -16 or -32.
A ``Path`` to a folder reads its ``.json`` files, one frame each in natural name order, as one document:
what CMU OpenPose writes for a video (errors are placed at the file's name).

Decisions (each is a guess some producer forces on us; the alternatives were worse):

Pixels or normalised
    Decided once per document, never per array: normalised when every present coordinate of every
    frame lies in [-1, 2] (up to a canvas beyond each edge, for points dragged off the frame), else
    pixels. So one small array among pixel ones stays in pixels, and a normalised pose with a point at
    1.11 stays normalised. A pixel pose confined to a 2-px square would be misread:
    ``coordinates="pixels"`` or ``"normalized"`` overrides the guess.
Canvas
    ``canvas_width``/``canvas_height`` are read as the space the coordinates are in; normalised values
    are multiplied by them. ``canvas=(width, height)`` overrides the document in every frame. That is
    all we can do about the ComfyUI OpenPose node's quirk (canvas = unpadded size, coordinates
    normalised by the padded size): the padding is not in the document, so its poses come back drawn
    where that pack's own renderer draws them; pass the padded size as ``canvas`` to undo the drift.
    A frame without a canvas (CMU files) takes ``canvas``; failing that, pixel frames take the extent of
    their points (largest x and y, rounded down, plus one, over all such frames) and a note says so;
    normalised frames, or frames with no point to measure, are an error.
Confidence
    Kept as written: 0 < c < 1 is a real (CMU) confidence, not "missing" as webui's decoder decides.
    A point whose confidence is <= 0 is missing (``0, 0, 0`` in every dialect).
The reference's missing hand and face points
    webui and ComfyUI write them as (-1/W, -1/H, 1.0). In a normalised document a hand or face point
    with confidence exactly 1 and both coordinates in [-1, 0) canvas pixels (after scaling; slightly
    above -1 under the padding quirk) is read as missing. One coordinate there is not enough: our own
    writer puts a real point half a pixel left of the frame at (-0.5/W, y/H, 1.0).
Faces
    70 points; 71 points (213 values: the reference appends its background channel) lose the 71st.
    Shorter faces (the reference skips faint landmarks, which shifts every later index) are rejected.
Parts with no present point
    Hands, face and feet whose points are all missing read as ``None``, like a ``null`` part.

Errors and reports
    A malformed document raises :class:`PoseFormatError`, whose message starts with the place
    (``frames[3].people[2].hand_left_keypoints_2d: 62 values, expected 63``); no other exception type
    comes out of the readers for bad content (a missing file still raises ``OSError``). With
    ``strict=False`` the smallest broken unit is skipped instead (a hand, face or person_id; a person
    whose body is broken) and reported, except a frame: that is replaced by an empty one (no people), so
    that frame n of a video still belongs to image n. It takes the canvas it declared, if readable (or
    ``canvas``), else the canvas most frames of the document have; when no frame has one, which happens
    only when none could be read, nothing is returned. Reports (skips, an inferred canvas, ignored
    animals) go into the ``notes`` list when one is passed, else out as :class:`PoseFormatWarning`
    warnings.
Limits
    Text documents above ``MAX_DOCUMENT_BYTES`` (64 MiB) are refused before parsing; nesting deeper than
    the JSON parser's recursion limit is an error. Lists are measured before any item is read: at most
    ``MAX_FRAMES`` (100,000) frames in a document and ``MAX_PEOPLE`` (1,000) people in a frame (a larger
    frame is a broken frame), keypoint arrays of the lengths above. Numbers must be finite and within
    ``MAX_ABS_VALUE``, present normalised coordinates also once scaled to pixels; canvas sides within
    ``MAX_CANVAS_SIDE``. Parsed dicts/lists are walked only to the fixed depth of the format, and strict
    reading stops at the first error. Two limits refuse the whole document even with ``strict=False``:
    more than ``MAX_KEYPOINTS`` (1,000,000) keypoints read, or more than ``MAX_SKIPPED`` (1,000) units
    skipped. So any document within the byte limit is read or refused
    in a few seconds (parsing 64 MiB takes 1 to 4), using at most about 250 MB beyond the parsed JSON.

Writing: OpenPose layout with ``canvas_width``/``canvas_height`` always the space of the coordinates,
pixels or normalised; ``confidence="visibility"`` writes 1.0 for present points (what every existing
renderer and editor expects) or ``"score"`` the real confidences (a present point with confidence 0
then reads back as missing); missing points ``0, 0, 0``; absent parts ``null``; ``person_id`` as CMU's
``[id]`` when set (a whole number >= 0). Feet are written only in BODY_25 (``layout="body25"``, whose MidHip
is the mean of the hips, missing unless both are present: a BODY_25 document's own MidHip is not kept);
``layout="auto"`` picks it when any person written has feet, else COCO-18.
Malformed frames (a person_id that is not a whole number >= 0, a point that is not three numbers, a
missing body) raise :class:`PoseFormatError` at their place, e.g. ``frames[2].people[0].person_id``.
What is written reads back as the same frames (normalised: up to float rounding) when the reader is
told the coordinates; the guess gets them right unless a pixel pose lies within 2 px of the origin or a
normalised one reaches more than a canvas beyond the frame.
"""
from __future__ import annotations

import gc
import json
import math
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np

from .folders import folder_files
from .media import write_atomically
from .pose import NUM_BODY, NUM_FACE, NUM_FEET, NUM_HAND, Keypoint, Person, PoseFrame, points_to_array

__all__ = [
    "MAX_ABS_VALUE", "MAX_CANVAS_SIDE", "MAX_DOCUMENT_BYTES", "MAX_FRAMES", "MAX_KEYPOINTS", "MAX_PEOPLE",
    "MAX_SKIPPED", "PoseFormatError", "PoseFormatWarning",
    "frame_to_dict", "frames_to_json", "load_document", "read_pose", "read_poses", "write_poses",
]

MAX_DOCUMENT_BYTES = 64 * 2**20
"""Largest JSON text read (a 1000-frame video with hands and faces takes about 20 MiB)."""
MAX_CANVAS_SIDE = 65536
MAX_ABS_VALUE = 1e7
"""Bound on every keypoint number, so later integer casts (OpenCV drawing) cannot overflow."""
MAX_FRAMES = 100_000
"""Frames in a document (an hour of video at 25 fps is 90,000)."""
MAX_PEOPLE = 1000
"""People in one frame."""
MAX_KEYPOINTS = 1_000_000
"""Keypoints read from a document, missing ones included: 6,000 frames of one person with hands and face,
or 55,000 bodies. Reading costs up to 2 us and 250 bytes per keypoint, and an empty person (24 bytes of JSON)
reads as 18 keypoints, so this, not the byte size, bounds the reader: to about 2 s and 250 MB."""
MAX_SKIPPED = 1000
"""Broken units (parts, people, frames) that lenient reading skips or empties before refusing the document."""
PLAIN_NUMBERS = frozenset({int, float})
"""Types of the numbers ``json`` produces, checked all at once; anything else is looked at one by one."""

NORMALIZED_RANGE = (-1.0, 2.0)
COORDINATES = ("auto", "pixels", "normalized")
CONFIDENCES = ("visibility", "score")
LAYOUTS = ("coco18", "body25", "auto")
SKIPPED, EMPTIED = "skipped {}", "replaced {} by an empty frame"
"""What lenient reading did with a broken unit (its place fills the braces): frames keep their slot."""
CANVAS_ADVICE = "pass canvas=(width, height)"
"""How errors and notes about a missing canvas end; the command line says its own option instead."""

BODY_KEY = "pose_keypoints_2d"
FACE_KEY = "face_keypoints_2d"
LEFT_HAND_KEY = "hand_left_keypoints_2d"
RIGHT_HAND_KEY = "hand_right_keypoints_2d"
OPTIONAL_PARTS = (("face", FACE_KEY, NUM_FACE), ("left_hand", LEFT_HAND_KEY, NUM_HAND),
                  ("right_hand", RIGHT_HAND_KEY, NUM_HAND))
"""Person attribute, JSON key and point count of the parts that may be absent."""
READ_COUNTS = {FACE_KEY: (NUM_FACE, NUM_FACE + 1)}
"""Point counts read beyond the written ones: the reference's faces carry a 71st (background) point."""
PART_KEYS = {"body": BODY_KEY, "feet": BODY_KEY, **{attribute: key for attribute, key, _ in OPTIONAL_PARTS}}
"""JSON key of each ``Person`` part (BODY_25 feet are in the body's array)."""
REFERENCE_CODED = ("face", "left_hand", "right_hand")
"""Parts in which the reference writes missing points as (-1/W, -1/H, 1)."""

NUM_BODY25 = 25
COCO_IN_BODY25 = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
"""BODY_25 index of each COCO-18 point (BODY_25 inserts MidHip at 8 and appends the feet)."""
BODY25_MID_HIP, BODY25_FEET = 8, slice(19, 25)
COCO_HIPS = [8, 11]

Canvas = Tuple[int, int]
Place = Tuple[Union[str, int], ...]
"""Where a value sits, as keys and indices; see :func:`_text`."""
Source = Union[str, bytes, bytearray, os.PathLike, Mapping, list, tuple]
Poses = Union[PoseFrame, Sequence[PoseFrame]]
T = TypeVar("T")


class PoseFormatError(ValueError):
    """A pose document (or a frame being written) is malformed at ``place``, e.g.
    ``frames[3].people[2].face_keypoints_2d``; the message is ``"<place>: <problem>"``."""

    def __init__(self, place: str, problem: str):
        self.place = place or "document"
        self.problem = problem
        super().__init__(f"{self.place}: {problem}")


class _Refused(PoseFormatError):
    """A document-wide limit was passed: raised even when reading leniently, which skips only broken units."""


class PoseFormatWarning(UserWarning):
    """Something read was skipped or assumed; issued only when the caller passed no ``notes`` list."""


# ---------------------------------------------------------------------------------------------
# Reading


def read_poses(source: Source, *, coordinates: str = "auto", canvas: Optional[Canvas] = None,
               strict: bool = True, notes: Optional[List[str]] = None) -> List[PoseFrame]:
    """All frames of a pose document: JSON text (``str``/``bytes``), a ``Path``, a frame dict or a list of them.

    ``coordinates``: "auto" (decided once for the document), "pixels" or "normalized".
    ``canvas``: (width, height) the coordinates refer to, overriding the document's.
    ``strict=False`` skips broken people and parts instead of raising, and replaces a broken frame by an empty
    one, so later frames keep their index; ``notes`` collects the reports.
    """
    return _read(source, coordinates, canvas, strict, notes)


def read_pose(source: Source, *, coordinates: str = "auto", canvas: Optional[Canvas] = None,
              strict: bool = True, notes: Optional[List[str]] = None) -> PoseFrame:
    """The single frame of a one-frame document (a dict, or a list of one); see :func:`read_poses`."""
    frames = _read(source, coordinates, canvas, strict, notes)
    if len(frames) != 1:
        raise PoseFormatError("", f"{len(frames)} frames, expected one (read_poses reads several)")
    return frames[0]


@dataclass
class _Log:
    """Where the reader's tolerance lives: raise when strict, else skip the unit and note why.

    It also holds the document-wide counts behind ``MAX_KEYPOINTS`` and ``MAX_SKIPPED``, which bound the
    work whatever the document's byte size.
    """

    strict: bool
    notes: List[str]
    keypoints: int = 0
    skipped: int = 0

    def attempt(self, place: Place, read: Callable[[], T], outcome: str = SKIPPED) -> Optional[T]:
        """``read()``, or None when it found the unit at ``place`` broken (see :meth:`excuse`)."""
        try:
            return read()
        except PoseFormatError as error:
            self.excuse(error, place, outcome)
            return None

    def excuse(self, error: PoseFormatError, place: Place, outcome: str) -> None:
        """Note ``error`` and what became of the unit (``outcome``, with its place); raise it when strict."""
        if self.strict or isinstance(error, _Refused):
            raise error
        self.skipped += 1
        if self.skipped > MAX_SKIPPED:
            raise _Refused(_text(place), f"more than MAX_SKIPPED ({MAX_SKIPPED}) broken units") from None
        self.notes.append(f"{error} ({outcome.format(_text(place) or 'document')})")

    def count(self, keypoints: int, place: Place) -> None:
        """Add a person's keypoints to the document's, refusing it past ``MAX_KEYPOINTS``."""
        self.keypoints += keypoints
        if self.keypoints > MAX_KEYPOINTS:
            raise _Refused(_text(place), f"more than MAX_KEYPOINTS ({MAX_KEYPOINTS}) keypoints in the document")


@dataclass
class _RawPerson:
    """A person as found in the document: n x 3 rows per present part, by ``Person`` attribute, body first;
    coordinates not yet scaled, COCO-18 body."""

    parts: Dict[str, np.ndarray]
    person_id: Optional[int]
    place: Place


@dataclass
class _RawFrame:
    """A frame as found in the document; ``people`` is None when it is broken (read leniently), and
    ``canvas`` then the one it declared, if that could be read."""

    place: Place
    people: Optional[List[_RawPerson]]
    canvas: Optional[Canvas]


def _read(source: Source, coordinates: str, canvas: Optional[Canvas], strict: bool,
          notes: Optional[List[str]]) -> List[PoseFrame]:
    """Parse everything first, decide pixels vs normalised on the whole document, then convert.

    Nothing skipped or assumed passes unreported: without a ``notes`` list, each note becomes a warning.
    """
    _check_choice("coordinates", coordinates, COORDINATES)
    canvas = None if canvas is None else _canvas_argument(canvas)
    log = _Log(strict, [] if notes is None else notes)
    with _collector_paused():
        raw = [_raw_frame(item, place, log) for item, place in _source_items(source)]
        read = [frame for frame in raw if frame.people is not None]
        normalized = coordinates == "normalized" or (coordinates == "auto" and _looks_normalized(read))
        unsized = [frame for frame in read if frame.canvas is None]
        fallback = None if canvas or normalized else _extent_canvas(unsized, log)
        frames = [None if frame.people is None else
                  log.attempt(frame.place, lambda: _to_frame(frame, normalized, canvas or frame.canvas or fallback),
                              EMPTIED)
                  for frame in raw]
        frames = _slots_kept(frames, [canvas or frame.canvas for frame in raw], log)
    if notes is None:
        for note in log.notes:
            warnings.warn(note, PoseFormatWarning, stacklevel=3)  # at the caller of read_pose(s)
    return frames


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Reading makes no reference cycles (parsed JSON and the frames are trees), but the cycle collector,
    set off by every 700 new objects, walks everything already made: most of the time on a large document
    (parsing 64 MiB of small lists: 6 s of 8; reading 100,000 people: 6 s of 9). Restored after as it was
    found; another thread's cycles meanwhile wait until then."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _raw_frame(item, place: Place, log: _Log) -> _RawFrame:
    """The frame ``item`` (a value, or a folder's file); broken, when reading leniently, it keeps its slot."""
    value = None
    try:
        value = _file_frame(item, place)
        return _read_frame(value, place, log)
    except PoseFormatError as error:
        log.excuse(error, place, EMPTIED)
        return _RawFrame(place, None, _declared_canvas(value))


def _declared_canvas(value) -> Optional[Canvas]:
    """The canvas of a broken frame, when it has a readable one."""
    try:
        return _read_canvas(value, ()) if isinstance(value, Mapping) else None
    except PoseFormatError:
        return None


def _slots_kept(frames: List[Optional[PoseFrame]], canvases: List[Optional[Canvas]], log: _Log) -> List[PoseFrame]:
    """The frames with each broken one (None) replaced by an empty frame, so that frame n of a video still
    belongs to image n. Its canvas is the one it declared (``canvases``), else the one most frames have;
    when no frame has one, which happens only when none could be read, they are left out with a note."""
    sizes = Counter(size if frame is None else (frame.width, frame.height) for frame, size in zip(frames, canvases))
    sizes.pop(None, None)
    if not sizes:
        if frames:
            log.notes.append(f"no frame could be read and none declared canvas_width/canvas_height: the "
                             f"{len(frames)} empty frame(s) are left out; {CANVAS_ADVICE} to keep them")
        return []
    common = sizes.most_common(1)[0][0]  # the first seen, in a tie
    return [PoseFrame([], *(size or common)) if frame is None else frame for frame, size in zip(frames, canvases)]


def load_document(source: Source):
    """The parsed JSON of a document (text, bytes or a file's ``Path``; a dict or list is returned as it is),
    for callers that need its form, a list or one pose, before passing it to :func:`read_poses`.

    Text is size-checked before the JSON parser sees it.
    """
    if isinstance(source, (Mapping, list, tuple)):
        return source
    if isinstance(source, os.PathLike):
        text = _read_file(Path(source))
    elif isinstance(source, str):
        text = source.removeprefix("\ufeff")  # json parses bytes with a BOM, but not text
    elif isinstance(source, (bytes, bytearray)):
        text = source
    else:
        raise PoseFormatError("", f"expected JSON text, bytes, a path, a dict or a list, got {type(source).__name__}")
    if len(text) > MAX_DOCUMENT_BYTES:
        raise PoseFormatError("", f"larger than MAX_DOCUMENT_BYTES ({MAX_DOCUMENT_BYTES})")
    try:
        return json.loads(text)
    except RecursionError:
        raise PoseFormatError("", "nested too deeply to be a pose document") from None
    except ValueError as error:
        looks_like_name = isinstance(text, str) and text.lstrip()[:1] not in ("{", "[")
        hint = " (a file name? pass a pathlib.Path)" if looks_like_name else ""
        raise PoseFormatError("", f"not valid JSON: {error}{hint}") from None


def _read_file(path: Path) -> bytes:
    """At most one byte more than the limit, enough to tell that a file is too large."""
    with open(path, "rb") as handle:
        return handle.read(MAX_DOCUMENT_BYTES + 1)


def _source_items(source: Source) -> Iterator[Tuple[object, Place]]:
    """(frame value, place) pairs of a document, or (file, file name) pairs of a folder."""
    if isinstance(source, os.PathLike) and Path(source).is_dir():
        return _folder_items(Path(source))
    return _frame_items(load_document(source))


def _folder_items(folder: Path) -> Iterator[Tuple[object, Place]]:
    """A folder of one-frame files (CMU OpenPose's ``--write_json`` output for a video): its ``.json``
    files in natural name order (``frame_2`` before ``frame_10``), each read when its turn comes."""
    files = folder_files(folder, {".json"})
    if not files:
        raise PoseFormatError("", f"the folder {folder} holds no .json files")
    if len(files) > MAX_FRAMES:
        raise PoseFormatError("", f"{len(files)} files, more than MAX_FRAMES ({MAX_FRAMES})")
    return ((path, (path.name,)) for path in files)


def _file_frame(item, place: Place):
    """A folder's file parsed (its one frame), errors placed at its name; any other item as it is."""
    if not isinstance(item, Path):
        return item
    try:
        document = load_document(item)
    except PoseFormatError as error:
        raise _error(place, error.problem) from None
    if not isinstance(document, Mapping):
        raise _error(place, f"expected one pose object per file of a folder, got {_kind(document)}")
    return document


def _frame_items(document) -> Iterator[Tuple[object, Place]]:
    """(frame value, place) pairs, made one at a time so a bad first frame is refused at once: a dict is
    one frame, a list holds one frame per image."""
    if isinstance(document, Mapping):
        return iter([(document, ())])
    if not isinstance(document, (list, tuple)):
        raise PoseFormatError("", f"expected a pose object or a list of them, got {_kind(document)}")
    if len(document) > MAX_FRAMES:
        raise PoseFormatError("", f"{len(document)} frames, more than MAX_FRAMES ({MAX_FRAMES})")
    return ((item, ("frames", index)) for index, item in enumerate(document))


def _read_frame(value, place: Place, log: _Log) -> _RawFrame:
    if not isinstance(value, Mapping):
        raise _error(place, f"expected a pose object, got {_kind(value)}")
    animals = value.get("animals")
    if "people" not in value and animals is None:
        raise _error(place, "no 'people' list: not an OpenPose pose document")
    if isinstance(animals, (list, tuple)) and animals:
        log.notes.append(f"{_text(place + ('animals',))}: {len(animals)} ignored (openpose-core has no animal poses)")
    people, where = value.get("people", []), place + ("people",)
    if not isinstance(people, (list, tuple)):
        raise _error(where, f"expected a list, got {_kind(people)}")
    if len(people) > MAX_PEOPLE:
        raise _error(where, f"{len(people)} people, more than MAX_PEOPLE ({MAX_PEOPLE})")
    canvas = _read_canvas(value, place)
    persons = []
    for index, item in enumerate(people):
        at = where + (index,)
        person = log.attempt(at, lambda: _read_person(item, at, log))
        if person is not None:
            log.count(sum(len(rows) for rows in person.parts.values()), at)
            persons.append(person)
    return _RawFrame(place, persons, canvas)


def _read_canvas(frame: Mapping, place: Place) -> Optional[Canvas]:
    width, height = frame.get("canvas_width"), frame.get("canvas_height")
    if width is None and height is None:
        return None
    return _side(width, place + ("canvas_width",)), _side(height, place + ("canvas_height",))


def _side(value, place: Place) -> int:
    """A canvas side: a whole number of pixels (512.0 is accepted: some writers use floats)."""
    problem = _number_problem(value)
    if problem:
        raise _error(place, problem)
    if value != int(value) or not 1 <= value <= MAX_CANVAS_SIDE:
        raise _error(place, f"expected a whole number of pixels from 1 to {MAX_CANVAS_SIDE}, got {value}")
    return int(value)


def _canvas_argument(canvas) -> Canvas:
    if not isinstance(canvas, (tuple, list)) or len(canvas) != 2:
        raise ValueError(f"canvas={canvas!r}: expected (width, height)")
    return _side(canvas[0], ("canvas", 0)), _side(canvas[1], ("canvas", 1))


def _read_person(value, place: Place, log: _Log) -> _RawPerson:
    if not isinstance(value, Mapping):
        raise _error(place, f"expected a person object, got {_kind(value)}")
    if BODY_KEY not in value:
        raise _error(place, f"no {BODY_KEY!r}: not an OpenPose person")
    body = _rows(value[BODY_KEY], place + (BODY_KEY,), (NUM_BODY, NUM_BODY25))
    if body is None:
        parts = {"body": np.zeros((NUM_BODY, 3))}
    elif len(body) == NUM_BODY25:
        parts = {"body": body[COCO_IN_BODY25], "feet": body[BODY25_FEET]}
    else:
        parts = {"body": body}
    for attribute, key, count in OPTIONAL_PARTS:
        where = place + (key,)
        rows = log.attempt(where, lambda: _rows(value.get(key), where, READ_COUNTS.get(key, (count,))))
        if rows is not None:
            parts[attribute] = rows[:count]
    where = place + ("person_id",)
    return _RawPerson(parts, log.attempt(where, lambda: _person_id(value.get("person_id"), where)), place)


def _rows(value, place: Place, counts: Tuple[int, ...]) -> Optional[np.ndarray]:
    """A keypoint array, flat or as [x, y, c] triplets, as n x 3 floats; ``null`` and ``[]`` are None.

    The length is checked before any value is touched, so a huge array costs nothing.
    """
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return None
    if not isinstance(value, (list, tuple)):
        raise _error(place, f"expected a list of numbers, got {_kind(value)}")
    nested = isinstance(value[0], (list, tuple))
    if len(value) not in (counts if nested else [3 * count for count in counts]):
        expected = " or ".join(str(count if nested else 3 * count) for count in counts)
        raise _error(place, f"{len(value)} {'points' if nested else 'values'}, expected {expected}")
    if not nested:
        return _numbers(value, place).reshape(-1, 3)
    for index, triplet in enumerate(value):
        if not isinstance(triplet, (list, tuple)) or len(triplet) != 3:
            raise _error(place + (index,), f"expected [x, y, confidence], got {_kind(triplet)}")
    rows = _plain_numbers([number for triplet in value for number in triplet])
    if rows is not None:
        return rows.reshape(-1, 3)
    return np.stack([_numbers(triplet, place + (index,)) for index, triplet in enumerate(value)])


def _numbers(values: Sequence, place: Place) -> np.ndarray:
    """``values`` as floats; when the check of all at once fails, one by one to name the first bad value."""
    array = _plain_numbers(values)
    if array is not None:
        return array
    for index, value in enumerate(values):
        problem = _number_problem(value)
        if problem:
            raise _error(place + (index,), problem)
    return np.array(values, dtype=np.float64)


def _plain_numbers(values: Sequence) -> Optional[np.ndarray]:
    """``values`` as floats when all are plain ints and floats within ``MAX_ABS_VALUE``, else None.

    Checked at once with builtins: value by value, or in numpy, the check was most of the reading time.
    """
    if not PLAIN_NUMBERS.issuperset(map(type, values)):
        return None
    try:
        finite = math.isfinite(sum(values))  # an infinity or NaN anywhere makes the sum one
    except OverflowError:  # an integer beyond float range
        return None
    if not (finite and -MAX_ABS_VALUE <= min(values) and max(values) <= MAX_ABS_VALUE):
        return None
    return np.array(values, dtype=np.float64)


def _number_problem(value) -> Optional[str]:
    """Why ``value`` is not a usable number, or None. Booleans and numeric strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return f"expected a number, got {_kind(value)}"
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return f"not a finite number ({value})"
    if abs(value) > MAX_ABS_VALUE:  # exact for integers of any size
        return f"{_short(value)} is beyond MAX_ABS_VALUE ({MAX_ABS_VALUE:g})"
    return None


def _person_id(value, place: Place) -> Optional[int]:
    """CMU writes ``[id]`` with -1 for "no id"; a bare integer is accepted too."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _error(place, f"expected an integer or [integer], got {_kind(value)}")
    return None if value == -1 else int(value)


def _present_coordinates(frames: List[_RawFrame]) -> np.ndarray:
    """n x 2 (x, y) of every point with a positive confidence, as written."""
    rows = [rows for frame in frames for person in frame.people for rows in person.parts.values()]
    if not rows:
        return np.zeros((0, 2))
    rows = np.concatenate(rows)
    return rows[rows[:, 2] > 0, :2]


def _looks_normalized(frames: List[_RawFrame]) -> bool:
    """The once-per-document guess: every present coordinate within ``NORMALIZED_RANGE``."""
    coordinates = _present_coordinates(frames)
    low, high = NORMALIZED_RANGE
    return coordinates.size > 0 and bool(low <= coordinates.min() and coordinates.max() <= high)


def _extent_canvas(frames: List[_RawFrame], log: _Log) -> Optional[Canvas]:
    """Canvas for pixel frames that carry none: the points' extent, with a note that it was guessed."""
    coordinates = _present_coordinates(frames)
    if coordinates.size == 0:
        return None
    width, height = (min(MAX_CANVAS_SIDE, max(1, math.floor(value) + 1)) for value in coordinates.max(axis=0))
    log.notes.append(f"{len(frames)} frame(s) without canvas_width/canvas_height: using the points' extent "
                     f"{width}x{height}; {CANVAS_ADVICE} to set it")
    return width, height


def _to_frame(frame: _RawFrame, normalized: bool, canvas: Optional[Canvas]) -> PoseFrame:
    if canvas is None:
        why = "normalised coordinates" if normalized else "no point to measure one from"
        raise _error(frame.place, f"no canvas size and {why}: {CANVAS_ADVICE}")
    parts = [(person, name, rows) for person in frame.people for name, rows in person.parts.items()]
    points = iter(_keypoints(parts, normalized, canvas))
    return PoseFrame([_to_person(person, points) for person in frame.people], *canvas)


def _keypoints(parts: List[Tuple[_RawPerson, str, np.ndarray]], normalized: bool,
               canvas: Canvas) -> List[Optional[Keypoint]]:
    """The rows of all ``(person, attribute, rows)`` parts as Keypoints in pixels; confidence <= 0 (and, in
    hands and faces, the reference's code) -> None. One pass for the whole frame: numpy's fixed cost per call,
    paid per part, was most of the reading time of a crowd."""
    if not parts:
        return []
    rows = np.concatenate([rows for *_, rows in parts])
    points = rows * (canvas[0], canvas[1], 1.0) if normalized else rows
    missing = rows[:, 2] <= 0
    if normalized:
        _check_scaled(parts, points, missing)
        coded = np.repeat([name in REFERENCE_CODED for _, name, _ in parts], [len(rows) for *_, rows in parts])
        just_outside = ((points[:, :2] >= -1.001) & (points[:, :2] < 0)).all(axis=1)
        missing |= coded & (rows[:, 2] == 1) & just_outside
    values = iter(points.ravel().tolist())
    triplets = zip(values, values, values)  # not .tolist() by row: a list per point cost a third more time
    # tuple.__new__ is what Keypoint._make calls, less a Python frame per point (another third)
    return [None if gone else tuple.__new__(Keypoint, point) for point, gone in zip(triplets, missing.tolist())]


def _check_scaled(parts: List[Tuple[_RawPerson, str, np.ndarray]], points: np.ndarray, missing: np.ndarray) -> None:
    """Normalised values were bounded as read, before the document's coordinates were decided; present points
    must stay within ``MAX_ABS_VALUE`` once scaled to pixels too (3e6 x a 1024 canvas cannot be drawn)."""
    beyond = (np.abs(points[:, :2]).max(axis=1) > MAX_ABS_VALUE) & ~missing
    if not beyond.any():
        return
    row = int(beyond.argmax())
    ends = np.cumsum([len(rows) for *_, rows in parts])
    person, name, _ = parts[int(np.searchsorted(ends, row, side="right"))]
    largest = np.abs(points[row, :2]).max()
    raise _error(person.place + (PART_KEYS[name],),
                 f"a normalised coordinate scales to {largest:.6g} px, beyond MAX_ABS_VALUE ({MAX_ABS_VALUE:g})")


def _to_person(person: _RawPerson, points: Iterator[Optional[Keypoint]]) -> Person:
    """The person's parts, taken in order from its frame's keypoints; a part other than the body with no
    present point is None."""
    found = {name: list(islice(points, len(rows))) for name, rows in person.parts.items()}
    body = found.pop("body")
    others = {name: part if any(point is not None for point in part) else None for name, part in found.items()}
    return Person(body=body, **others, person_id=person.person_id)


def _error(place: Place, problem: str) -> PoseFormatError:
    return PoseFormatError(_text(place), problem)


def _text(place: Place) -> str:
    """``("frames", 3, "people", 2, "face_keypoints_2d")`` -> ``frames[3].people[2].face_keypoints_2d``.

    Places travel as tuples and become text only for a message: most values read are never reported.
    """
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in place).lstrip(".")


def _kind(value) -> str:
    """A value's JSON type, for messages."""
    if value is None:
        return "null"
    for types, name in ((bool, "a boolean"), (str, "a string"), (Mapping, "an object"), ((list, tuple), "a list"),
                        ((int, float, np.number), "a number")):
        if isinstance(value, types):
            return name
    return type(value).__name__


def _short(value) -> str:
    """A value for a message, cut short; Python refuses to print integers of more than 4300 digits."""
    if isinstance(value, (int, np.integer)) and abs(value) > 2**64:
        return f"an integer of {int(value).bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:20]}...({len(text)} characters)"


# ---------------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True)
class _Style:
    coordinates: str
    confidence: str
    layout: str

    def __post_init__(self):
        _check_choice("coordinates", self.coordinates, COORDINATES[1:])
        _check_choice("confidence", self.confidence, CONFIDENCES)
        _check_choice("layout", self.layout, LAYOUTS)


def frame_to_dict(frame: PoseFrame, *, coordinates: str = "pixels", confidence: str = "visibility",
                  layout: str = "coco18") -> dict:
    """One frame as an OpenPose-layout dict (a ComfyUI POSE_KEYPOINT element).

    ``coordinates``: "pixels" or "normalized" (divided by the canvas, which is written either way).
    ``confidence``: "visibility" (1.0 for present points) or "score" (the real confidences).
    ``layout``: "coco18", "body25" (the only layout that carries the feet) or "auto" (body25 when a person
    has feet, so none are lost).
    """
    return _frame_dicts([frame], [()], _Style(coordinates, confidence, layout))[0]


def frames_to_json(poses: Poses, *, coordinates: str = "pixels", confidence: str = "visibility",
                   layout: str = "coco18", indent: Optional[int] = None) -> str:
    """JSON text: a PoseFrame writes as one object, a sequence of frames as a list (POSE_KEYPOINT).

    Options as for :func:`frame_to_dict`; ``layout="auto"`` decides once for all frames, so a list of frames
    is all BODY_25 when any person of any frame has feet.
    """
    style = _Style(coordinates, confidence, layout)
    if isinstance(poses, PoseFrame):
        document = _frame_dicts([poses], [()], style)[0]
    elif isinstance(poses, Iterable) and not isinstance(poses, (str, bytes, Mapping)):
        frames = list(poses)
        document = _frame_dicts(frames, [("frames", index) for index in range(len(frames))], style)
    else:
        raise PoseFormatError("", f"expected a PoseFrame or a sequence of them, got {_kind(poses)}")
    return json.dumps(document, indent=indent, allow_nan=False)


def write_poses(path: Union[str, os.PathLike], poses: Poses, *, coordinates: str = "pixels",
                confidence: str = "visibility", layout: str = "coco18", indent: Optional[int] = None) -> None:
    """Write :func:`frames_to_json` to ``path`` atomically (readers see the old file or the whole new one),
    creating missing folders."""
    text = frames_to_json(poses, coordinates=coordinates, confidence=confidence, layout=layout, indent=indent)
    write_atomically(Path(path), text.encode("utf-8"))


def _frame_dicts(frames: List[PoseFrame], places: List[Place], style: _Style) -> List[dict]:
    """The frames checked first, since ``layout="auto"`` looks at all of their people, then written."""
    for frame, place in zip(frames, places):
        _check_frame(frame, place)
    if style.layout == "auto":
        feet = any(person.feet is not None for frame in frames for person in frame.people)
        style = replace(style, layout="body25" if feet else "coco18")
    return [_frame_dict(frame, place, style) for frame, place in zip(frames, places)]


def _check_frame(frame: PoseFrame, place: Place) -> None:
    """Refuse what is not a PoseFrame of Persons at its place, not as an AttributeError deep in the writer."""
    if not isinstance(frame, PoseFrame):
        raise _error(place, f"expected a PoseFrame, got {_kind(frame)}")
    if not isinstance(frame.people, (list, tuple)):
        raise _error(place + ("people",), f"expected a list of Person, got {_kind(frame.people)}")
    for index, person in enumerate(frame.people):
        if not isinstance(person, Person):
            raise _error(place + ("people", index), f"expected a Person, got {_kind(person)}")


def _frame_dict(frame: PoseFrame, place: Place, style: _Style) -> dict:
    canvas = _side(frame.width, place + ("width",)), _side(frame.height, place + ("height",))
    people = [_person_dict(person, place + ("people", index), canvas, style)
              for index, person in enumerate(frame.people)]
    return {"people": people, "canvas_width": canvas[0], "canvas_height": canvas[1]}


def _person_dict(person: Person, place: Place, canvas: Canvas, style: _Style) -> dict:
    written = {} if person.person_id is None else {"person_id": [_written_id(person.person_id, place)]}
    body = _point_rows(person.body, NUM_BODY, place + ("body",))
    if style.layout == "body25":
        body = _body25(body, _point_rows(person.feet or [None] * NUM_FEET, NUM_FEET, place + ("feet",)))
    written[BODY_KEY] = _flat(body, canvas, style)
    for attribute, key, count in OPTIONAL_PARTS:
        points = getattr(person, attribute)
        rows = None if points is None else _point_rows(points, count, place + (attribute,))
        written[key] = None if rows is None else _flat(rows, canvas, style)
    return written


def _written_id(person_id, place: Place) -> int:
    """Only whole numbers >= 0 read back as written: CMU's ``[-1]`` reads as "no id", and 2.7 or True would be
    written as another number."""
    if isinstance(person_id, bool) or not isinstance(person_id, (int, np.integer)) or person_id < 0:
        raise _error(place + ("person_id",), f"expected None or a whole number >= 0, got {_short(person_id)}")
    return int(person_id)


def _point_rows(points: Sequence, count: int, place: Place) -> np.ndarray:
    """Points -> count x 3 rows (NaN = missing), refusing what JSON could not carry back."""
    if not isinstance(points, (list, tuple)):
        raise _error(place, f"expected a list of {count} points, got {_kind(points)}")
    if len(points) != count:
        raise _error(place, f"{len(points)} points, expected {count}")
    for index, point in enumerate(points):
        if point is not None:
            _check_point(point, place + (index,))
    return points_to_array(points, count)


def _check_point(point, place: Place) -> None:
    """A point is three finite numbers, as a Keypoint (x, y, confidence) or any list or array of them."""
    triple = isinstance(point, (tuple, list)) or (isinstance(point, np.ndarray) and point.ndim == 1)
    if not triple or len(point) != 3:
        got = f"{len(point)} values" if triple else _kind(point)
        raise _error(place, f"expected (x, y, confidence), got {got}")
    _numbers(point, place)


def _body25(body: np.ndarray, feet: np.ndarray) -> np.ndarray:
    """COCO-18 rows + feet -> BODY_25 rows; MidHip is the hips' mean (missing unless both are present),
    whatever MidHip the document read had: ``Person`` does not keep it."""
    rows = np.full((NUM_BODY25, 3), np.nan)
    rows[COCO_IN_BODY25] = body
    hips = body[COCO_HIPS]
    rows[BODY25_MID_HIP] = [*hips[:, :2].mean(axis=0), hips[:, 2].min()]
    rows[BODY25_FEET] = feet
    return rows


def _flat(rows: np.ndarray, canvas: Canvas, style: _Style) -> List[float]:
    """Rows -> flat [x, y, c, ...] with missing points 0, 0, 0."""
    present = ~np.isnan(rows).any(axis=1)
    written = np.zeros_like(rows)
    written[present] = rows[present]
    if style.confidence == "visibility":
        written[present, 2] = 1.0
    if style.coordinates == "normalized":
        written[:, :2] /= canvas
    return written.ravel().tolist()


def _check_choice(name: str, value, options: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(map(repr, options))}")
