"""Finding dots: the resize factor from the dots' size, a matched filter for filled disks, and the dots of
the 18 body colours with every plausible reading of each (blends of two touching dots dropped)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from ..image import ImageError
from ..pose import NUM_BODY
from .colours import BLUE, BODY_HUE_STEP, Classes, MIN_SATURATION, hue_weight, shows_own_luma
from .geometry import NearPoints, any_within, directions, neighbours


_DISK_AREA = 49.0                         # pixels of cv2.circle(radius 4, filled)
FACE_DISK_AREA = 29.0                     # cv2.circle(radius 3, filled)


_DOT_PEAK = 0.85
"""Value a dot's middle keeps through resizing and JPEG; crumbs of a dot split between two hue classes, and
bits of sticks (drawn at 0.6) or blurred hand lines, mostly stay below it."""


def dot_scale(classes: Classes, exact: bool = True) -> Tuple[float, float]:
    """(sx, sy): how much the image was resized since drawing, from the complete-looking joint dots.

    A dot blurred by resizing keeps its area above half its value, so components of V >= 0.5 pixels of
    one hue class measure it. Only components that reach a dot's peak value choose the common size: in a
    map with few dots (a crop, a shrunk JPEG with hands) crumbs could outnumber them."""
    index = (np.rint(classes.hue / BODY_HUE_STEP).astype(np.int16) % NUM_BODY)
    bright = (classes.value >= 0.5) & (classes.saturation >= MIN_SATURATION)
    index = np.where(bright, index, -1)
    stats, lits = [], []
    for part in range(NUM_BODY):
        mask = index == part
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if len(rows) == 0:
            continue
        window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        count, labels, found, _ = cv2.connectedComponentsWithStats(mask[window].astype(np.uint8), connectivity=8)
        lit = np.zeros(count, bool)
        lit[labels[mask[window] & (classes.value[window] >= _DOT_PEAK)]] = True
        stats.append(found[1:])
        lits.append(lit[1:])
    if not stats:
        return 1.0, 1.0
    found = np.concatenate(stats).astype(np.float64)
    lit = np.concatenate(lits)
    area, width, height = found[:, cv2.CC_STAT_AREA], found[:, cv2.CC_STAT_WIDTH], found[:, cv2.CC_STAT_HEIGHT]
    fill, aspect = area / (width * height), width / height
    # a whole disk fills ~60-80 % of its box (49 / 81 at native size) and is about as wide as high
    complete = (area >= 4) & (fill >= 0.45) & (fill <= 0.95) & (aspect > 0.6) & (aspect < 1.67)
    if not complete.any():
        complete = area >= 4
        if not complete.any():
            return 1.0, 1.0
    # whole dots share one size: take the most common size (crumbs of JPEG'd hand lines are smaller and
    # scattered, dots merged with a stick of their own hue larger and scattered), on a log scale, among the
    # components as bright as a dot's middle; then, near it, the size most components share (JPEG leaves
    # some whole dots a little dimmer)
    order = np.argsort(area[complete], kind="stable")     # ties go to the smaller size
    sizes, voters = area[complete][order], lit[complete][order]
    if not voters.any():
        voters[:] = True
    # (compared size by size, not component by component: a photo's noise has thousands of components)
    _, first, kind = np.unique(sizes, return_index=True, return_inverse=True)
    logs = np.log(sizes)[first]
    window = np.log(1.3)
    within = np.abs(logs[:, None] - logs[None, :]) <= window
    members, voting = np.bincount(kind, minlength=len(first)), np.bincount(kind, voters, minlength=len(first))
    near = within[int(np.argmax(within @ voting))]
    centre = int(np.argmax(np.where(near, within @ members, -1)))
    common = sizes[within[centre][kind]]
    # (JPEG frays the dots' edges below half value: a higher percentile makes up for it)
    scale = float(np.sqrt(np.percentile(common, 60 if exact else 75) / _DISK_AREA))
    ratio = float(np.clip(np.median(aspect[complete]), 0.5, 2.0))
    if abs(ratio - 1.0) < 0.15:
        ratio = 1.0
    return max(scale * np.sqrt(ratio), 0.25), max(scale / np.sqrt(ratio), 0.25)


def _disk_kernel(radius_x: float, radius_y: float, half_x: int, half_y: int, supersample: int = 8,
                 shift: Tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Pixel coverage of an axis-aligned ellipse centred ``shift`` (x, y) from the middle of a
    (2 half_y + 1, 2 half_x + 1) grid."""
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    ys = np.arange(-half_y, half_y + 1)[:, None] + offsets[None, :] - shift[1]
    xs = np.arange(-half_x, half_x + 1)[:, None] + offsets[None, :] - shift[0]
    inside = ((xs[None, :, None, :] / radius_x) ** 2 + (ys[:, None, :, None] / radius_y) ** 2) <= 1.0
    return inside.mean(axis=(2, 3)).astype(np.float32)


@dataclass
class Dots:
    """Matched filter for filled dots of one size: class pixels inside the disk count for a centre, black
    inside and class pixels in a ring just outside count against it, anything else is neutral (what later
    drawing may have put on top)."""
    radius: float            # mean radius in image pixels
    inner: np.ndarray
    outer: np.ndarray
    area: float
    pad: int
    between: Tuple[Tuple[np.ndarray, np.ndarray], ...]     # (inner, outer) centred half a pixel off

    @classmethod
    def make(cls, sx: float, sy: float, disk_area: float = _DISK_AREA) -> "Dots":
        radius = float(np.sqrt(disk_area / np.pi))
        rx, ry = radius * sx, radius * sy
        margin = max(1.5, 1.5 * min(sx, sy))
        half_x, half_y = int(np.ceil(rx + margin + 0.5)), int(np.ceil(ry + margin + 0.5))
        inner = _disk_kernel(rx, ry, half_x, half_y)
        outer = _disk_kernel(rx + margin, ry + margin, half_x, half_y)
        between = tuple((_disk_kernel(rx, ry, half_x, half_y, shift=shift),
                         _disk_kernel(rx + margin, ry + margin, half_x, half_y, shift=shift))
                        for shift in itertools.product((-0.5, 0.0, 0.5), repeat=2) if shift != (0.0, 0.0))
        return cls(0.5 * (rx + ry), inner, outer, float(inner.sum()), max(half_x, half_y) + 1, between)

    def score(self, member: np.ndarray, background: np.ndarray) -> np.ndarray:
        return self._score(member, background, self.inner, self.outer)

    def score_between(self, member: np.ndarray, background: np.ndarray) -> np.ndarray:
        """The best score of a centre half a pixel from each pixel in x, y or both: a crisp dot (resized by
        sampling pixels) may be centred between pixels, where a disk centred on a pixel leaves half a pixel
        of it outside."""
        return np.maximum.reduce([self._score(member, background, inner, outer) for inner, outer in self.between])

    @staticmethod
    def _score(member: np.ndarray, background: np.ndarray, inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
        inside = cv2.filter2D(2.0 * member - background, -1, inner, borderType=cv2.BORDER_CONSTANT)
        ring = cv2.filter2D(member, -1, outer, borderType=cv2.BORDER_CONSTANT)
        return inside - ring


MIN_DOT_FRACTION = 0.3
"""A dot centre needs net evidence worth 30 % of a whole dot."""


def _peaks(score: np.ndarray, threshold: float, min_distance: float) -> np.ndarray:
    """Sub-pixel local maxima (x, y, score) of ``score`` above ``threshold``, at least ``min_distance`` apart."""
    if score.size == 0 or score.max() < threshold:
        return np.zeros((0, 3))
    dilated = cv2.dilate(score, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero((score >= dilated) & (score >= threshold))
    values = score[ys, xs]
    kept, strengths = NearPoints(min_distance), []
    for index in np.argsort(-values, kind="stable"):
        y, x = int(ys[index]), int(xs[index])
        if kept.first_within(x, y) is not None:
            continue
        kept.add(x + vertex(score[y, max(x - 1, 0):x + 2], x > 0), y + vertex(score[max(y - 1, 0):y + 2, x], y > 0))
        strengths.append(float(values[index]))
    return np.column_stack([np.array(kept.xy, np.float64).reshape(-1, 2), strengths])


def vertex(line: np.ndarray, has_left: bool) -> float:
    """Offset of the parabola through a maximum and its two neighbours (0 at a border)."""
    if len(line) < 3 or not has_left:
        return 0.0
    left, centre, right = (float(value) for value in line)
    curvature = left - 2.0 * centre + right
    if curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))


def _nearby_peak(score: np.ndarray, x: float, y: float, fallback: float, radius: float) -> Tuple[float, float, float]:
    """The sub-pixel maximum of ``score`` within half a radius of (x, y) if it holds at least 70 % of
    ``fallback``; else (x, y, fallback)."""
    height, width = score.shape
    reach = max(1, int(round(0.5 * radius)))
    cx, cy = int(round(x)), int(round(y))
    top, left = max(cy - reach, 0), max(cx - reach, 0)
    patch = score[top:cy + reach + 1, left:cx + reach + 1]
    if patch.size == 0 or patch.max() < 0.7 * fallback:
        return x, y, fallback
    py, px = np.unravel_index(int(np.argmax(patch)), patch.shape)
    py, px = py + top, px + left
    return (px + vertex(score[py, max(px - 1, 0):px + 2], px > 0),
            py + vertex(score[max(py - 1, 0):py + 2, px], py > 0), fallback)


def _regions(weight: np.ndarray, minimum: float, pad: int) -> List[Tuple[slice, slice]]:
    """Padded boxes around the blobs of ``weight`` > 0 (grown by a pixel) holding at least ``minimum``."""
    mask = cv2.dilate((weight >= 0.5).astype(np.uint8), np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return []
    mass = np.bincount(labels.ravel(), weights=weight.ravel(), minlength=count)
    height, width = weight.shape
    boxes = []
    for label in np.flatnonzero(mass >= minimum):
        if label == 0:
            continue
        x, y, w, h = stats[label, :4]
        boxes.append((slice(max(y - pad, 0), min(y + h + pad, height)),
                      slice(max(x - pad, 0), min(x + w + pad, width))))
    return boxes


_SECOND_DOT_FRACTION = 0.15
"""A colour that is not a dot's best fit is kept as an alternative reading above 15 % of a whole dot."""
_FAINT_DOT_FRACTION = 0.2
"""In shrunk JPEG a dot of colour evidence from 20 % of a whole dot may still be named by its core colour."""


@dataclass
class Joints:
    """Candidate joints: every plausible reading (part) of every dot found. ``dot`` says which dot a reading
    belongs to; one dot ends up as at most one joint. Arrays are parallel, one row per reading."""
    xy: np.ndarray           # n x 2, the dot's centre
    part: np.ndarray         # n, body part
    dot: np.ndarray          # n, dot id
    score: np.ndarray        # n, evidence for this colour as a fraction of a whole dot
    primary: np.ndarray      # n, bool: the dot's best colour

    def __len__(self) -> int:
        return len(self.part)

    def parts_by_dot(self) -> Dict[int, set]:
        """dot id -> the parts it is read as."""
        parts: Dict[int, set] = {}
        for dot, part in zip(self.dot, self.part):
            parts.setdefault(int(dot), set()).add(int(part))
        return parts

    def appended(self, rows: List[Tuple[np.ndarray, int, int, float, bool]]) -> "Joints":
        """These readings plus ``rows`` of (xy, part, dot, score, primary)."""
        if not rows:
            return self
        xy, part, dot, score, primary = zip(*rows)
        return Joints(np.vstack([self.xy.reshape(-1, 2), np.array(xy, np.float64).reshape(-1, 2)]),
                      np.concatenate([self.part, np.array(part, int)]), np.concatenate([self.dot, np.array(dot, int)]),
                      np.concatenate([self.score, np.array(score, np.float64)]),
                      np.concatenate([self.primary, np.array(primary, bool)]))


def find_joints(classes: Classes, joint: np.ndarray, dots: Dots, exact: bool = False,
                palette_part: Optional[np.ndarray] = None, blend_luma: bool = False,
                crisp: bool = False) -> Tuple[Joints, np.ndarray]:
    """Dots of the 18 joint colours, each with its readings; and the faint colour peaks that join no dot
    (x, y, part, evidence: at least ``_FAINT_DOT_FRACTION``, too weak to found a dot by colour alone).

    Small dots in JPEG images take colour from what is under and beside them (a nose under purple eyes
    turns pinkish, a knee takes its thigh's green), so a dot keeps every colour whose matched filter also
    peaks there; the limbs decide between them when people are assembled. ``palette_part`` (the part whose
    joint colour each pixel has exactly, for exact maps about the drawn size) asks every dot to show it.
    ``joint`` is the image's :func:`joint_weight`."""
    peaks: List[Tuple[float, int, float, float]] = []
    faint: List[Tuple[float, float, int, float]] = []
    low = _SECOND_DOT_FRACTION * dots.area
    for window in _regions(joint, 0.5 * low, dots.pad):
        weight, hue, background = joint[window], classes.hue[window], classes.background[window]
        top, left = window[0].start, window[1].start
        nearest = np.rint(hue / BODY_HUE_STEP).astype(np.int16) % NUM_BODY
        mass = np.bincount(nearest.ravel(), weights=weight.ravel(), minlength=NUM_BODY)
        mass = mass + np.roll(mass, 1) + np.roll(mass, -1)
        for part in np.flatnonzero(mass >= 0.5 * low):
            member = weight * hue_weight(hue, part * BODY_HUE_STEP)
            found = _peaks(dots.score(member, background), low, 0.9 * dots.radius)
            if len(found) and crisp:
                # a crisp dot centred between pixels: its evidence is the filter's centred there
                between = dots.score_between(member, background)
                found = [(x, y, max(score, float(between[int(round(y)), int(round(x))]))) for x, y, score in found]
            if len(found) and exact:
                # exact colours: place the dot with a narrow hue window, so that the blended rim of a
                # neighbouring colour (one step round the wheel) under or beside it does not pull it
                narrow = dots.score(weight * hue_weight(hue, part * BODY_HUE_STEP, 4.0, 12.0), background)
                found = [_nearby_peak(narrow, x, y, score, dots.radius) for x, y, score in found]
            if len(found) and palette_part is not None:
                # ... and a dot shows its palette colour exactly somewhere (a bright hand line of a
                # nearby hue, 144 degrees against a left wrist's 140, never does)
                own = palette_part[window] == part
                found = [peak for peak in found if any_within(own, peak[0], peak[1], dots.radius)]
            for x, y, score in found:
                peaks.append((score / dots.area, int(part), x + left, y + top))
    # group the peaks of all colours into dots, strongest first
    peaks.sort(key=lambda peak: -peak[0])
    centres, strengths = NearPoints(0.6 * dots.radius), []
    same_colour = [NearPoints(0.9 * dots.radius) for _ in range(NUM_BODY)]
    rows: List[Tuple[float, float, int, int, float, bool]] = []
    seen = set()
    for score, part, x, y in peaks:
        owner = centres.first_within(x, y)
        first = owner is None
        if first:
            if score < MIN_DOT_FRACTION:
                if score >= _FAINT_DOT_FRACTION:
                    faint.append((x, y, part, score))
                continue
            # same-colour dots (two people's same joint) closer than 0.9 radius are one dot
            if same_colour[part].first_within(x, y) is not None:
                continue
            owner = centres.add(x, y)
            strengths.append(score)
        elif (owner, part) in seen or score < 0.35 * strengths[owner]:
            continue
        seen.add((owner, part))
        cx, cy = centres.xy[owner]
        same_colour[part].add(cx, cy)
        rows.append((cx, cy, part, owner, score, first))
    if palette_part is None:        # a dot showing its exact palette colour is no blend of two others
        rows = _drop_blends(rows, dots.radius, classes.luma if blend_luma else None)
    faint_peaks = np.array(faint, np.float64).reshape(-1, 4)
    if not rows:
        empty = Joints(np.zeros((0, 2)), np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0, bool))
        return empty, faint_peaks
    xy = np.array([(x, y) for x, y, *_ in rows], np.float64)
    return Joints(xy, np.array([r[2] for r in rows]), np.array([r[3] for r in rows]),
                  np.array([r[4] for r in rows], np.float64), np.array([r[5] for r in rows], bool)), faint_peaks


_MAX_DOT_DENSITY = 0.03
"""Dots of other colours than blue per (image area / dot radius^2): maps of 1-19 people (with hands), shrunk
or JPEG'd, held at most 0.015 counting every dot; smooth colour noise (a photo's colour blobs read as dots)
about 0.04-0.09. Blue dots do not count: a crowd's hands are 21 blue dots each."""
_FEW_DOTS = 100
"""Fewer dots are read whatever their density (a crop of one person is dense), and quickly."""


def require_few_dots(joints: Joints, dots: Dots, size: int) -> None:
    """Refuse an image (``size`` pixels) with more dots than a map could hold: linking and redrawing try
    every pair of dots and pieces, which for a photo's hundreds of colour blobs took minutes."""
    count = int(np.unique(joints.dot[joints.primary & (joints.part != BLUE)]).size)
    limit = max(_FEW_DOTS, int(_MAX_DOT_DENSITY * size / dots.radius ** 2))
    if count > limit:
        raise ImageError(f"not an OpenPose skeleton map: {count} colour dots, where a map this size holds at "
                         f"most {limit} (to find poses in a photo, detect them)")


def _between_hues(part: int, first: int, second: int) -> bool:
    """Whether colour ``part`` lies strictly inside the shorter hue arc from ``first`` to ``second``."""
    span = (second - first) % NUM_BODY
    offset = (part - first) % NUM_BODY
    if span > NUM_BODY // 2:
        span, offset = NUM_BODY - span, (first - part) % NUM_BODY
    return 0 < offset < span


_BLEND_OUTSHINE = 1.35
"""A blend of two overlapping dots may outshine the one underneath, but not both by this factor."""


def _drop_blends(rows: list, radius: float, luma: Optional[np.ndarray] = None) -> list:
    """Remove dots that are blends: where two touching dots of different colours meet, JPEG's shared
    chroma paints the in-between hue (an l-eye and an l-ear make an r-ear colour between them). Such a
    dot lies on the line between them and its colour lies between theirs; it is weaker than both, or the
    two overlap (then the blend can outshine the dot underneath, though not both of them by far: a dot
    whose rim JPEG pushed a hue step either way is found again there, weaker, on each side).
    Explanations compete: the closest pair explains first, and a dot found to be a blend explains nothing
    else (an l-eye half under its l-ear is not a blend of the r-eye and of the fake r-ear beside it). With
    ``luma`` (the image's), a dot whose core shows its own luma, unlike either of the pair's, is no blend
    of them."""
    best = [(x, y, part, dot, score) for x, y, part, dot, score, primary in rows if primary]
    if len(best) < 3:
        return rows
    xy = np.array([(x, y) for x, y, *_ in best])
    close = neighbours(xy, 2.5 * radius)
    candidates = []
    for index, (_, _, part, _, score) in enumerate(best):
        around = close[index]
        for first_position, first in enumerate(around):
            for second in around[first_position + 1:]:
                length, along, across = directions(xy[first], xy[second])
                parts, scores = (best[first][2], best[second][2]), (best[first][4], best[second][4])
                if second not in close[first] or length == 0 or not _between_hues(part, *parts):
                    continue
                if score >= min(scores) and length > 2.0 * radius or score >= _BLEND_OUTSHINE * max(scores):
                    continue
                offset = xy[index] - xy[first]
                if 0.15 < float(offset @ along) / length < 0.85 and abs(float(offset @ across)) < 0.6 * radius \
                        and not (luma is not None and shows_own_luma(luma, *xy[index], part, parts, radius)):
                    candidates.append((length, index, first, second))
    fake = set()
    for _, index, first, second in sorted(candidates):
        if not fake & {index, first, second}:
            fake.add(index)
    dropped = {best[index][3] for index in fake}
    return [row for row in rows if row[3] not in dropped]


LONE_DOT_FRACTION = (0.35, 0.45)
"""Evidence (fraction of a whole dot) a dot joined to no other needs to stand alone as a one-point person:
in a map with exact palette colours, and in a JPEG (where blends of neighbouring dots make weak fakes)."""


def windowed_peaks(member: np.ndarray, background: np.ndarray, dots: Dots) -> np.ndarray:
    """Dot centres (x, y, score) found window by window over the regions where ``member`` is dense;
    overlapping windows may report a dot twice (callers merge them)."""
    threshold = MIN_DOT_FRACTION * dots.area
    found = [np.zeros((0, 3))]
    for window in _regions(member, 0.5 * threshold, dots.pad):
        peaks = _peaks(dots.score(member[window], background[window]), threshold, 0.9 * dots.radius)
        peaks[:, 0] += window[1].start
        peaks[:, 1] += window[0].start
        found.append(peaks)
    return np.concatenate(found)
