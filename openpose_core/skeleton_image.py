"""Skeleton image -> pose: read a standard OpenPose control map (black background, the limb and joint
colours of :mod:`render`) back into a :class:`PoseFrame`, so that a pose that exists only as a picture
can be edited.

``pose_from_skeleton_image(image_rgb, *, hands=True, face=True) -> PoseFrame``: the input is RGB (like
everything in the library; convert a ``cv2.imread`` BGR image first), uint8 (or anything
:func:`image.as_rgb_uint8` takes; RGBA is composited over black, transparent meaning background). The
map may have been resized (about 0.5x-2x, any interpolation) and/or JPEG-compressed; the size of its dots
is measured from the image. The frame's canvas is the image size; points are in its pixels, confidence
1.0. At the drawn size, points are the drawn pixels exactly (nudged to the float ``render`` draws on that
pixel), so a whole-pixel pose read back complete draws the same map again.

Method:

1. Colours. Pixels go to HSV. Every palette colour is fully saturated: hue names the part (18 body hues
   20 degrees apart), value separates joints (drawn at V = 1) from their 0.6-dimmed limbs; black is
   background, white a face dot. Whether a good part of the drawn pixels keep exact palette colours
   tells a PNG map (maybe resized) from a JPEG one.
2. Scale. Dots are filled disks of radius 4 at the drawn size; the most common size of the dot-shaped
   blobs of one hue (half-value threshold, which resizing preserves) gives the resize factor.
3. Joint dots. For each body hue a matched filter scores every position as a dot centre: that hue's
   bright pixels inside the disk count for it, black inside and that hue just outside the disk count
   against it, anything else (whatever later drawing put on top) is neutral. A dot partly covered by
   later limbs, joints, hands or faces is thus still centred on its visible arc. In PNG maps about the
   drawn size a dot must also show its colour exactly somewhere (a bright hand line of a nearby hue
   never does). Peaks of all hues are
   grouped into dots; a dot keeps every hue that also peaks there as an alternative *reading* (small JPEG
   dots take colour from what is under and beside them: a nose under purple eyes turns pink, a knee
   takes its thigh's green). Dots that are blends of two touching dots whose hues lie either side of
   theirs are dropped (the closest pair explains first: an overlapping l-eye and l-ear make an r-ear);
   in PNG maps about the drawn size, where a dot shows its exact colour, none is, and from 0.9x on (and
   in resized PNG maps) nor is a dot whose core shows its own luma: blending mixes chroma, not luma.
   In shrunk JPEG maps, where chroma has about one sample per dot, the readings of a dot are ranked by
   its core's chroma (less what the ring around it blends in) *and* its luma, which JPEG keeps at full
   resolution: neighbouring palette colours differ in luma by 9-50 levels; readings that fit far worse
   than the best go. Dots that no colour filter found are added, named the same way: bright ones (a
   knee on its own-coloured shin) and blue ones by luma (pure blue is darker than its sticks); so are
   faint colour peaks away from dots and hands (a hip taking its sticks' chroma) whose core colour
   names one part only and fits a dot better than a stick.
4. Stick ends. A drawn limb's stick leaving a dot ends at the dot of the limb's other joint; the dot at
   the far end of a stick of that limb's colour gets that joint as a low-priority reading. This finds
   joints whose dot is covered (the body's wrist under a hand's wrist dot) or whose hue JPEG moved.
5. People. For each of the 17 drawn limbs and each pair of readings of its two parts, the stick the
   renderer would have drawn between them (an ellipse whose long axis joins the centres, minus the two
   dots on top) is sampled: it must show the limb's colour on a good share of what later sticks leave
   uncovered, and almost never black (other colours count as covered; so does the next limb's colour
   where it crosses the stick, or where it is the blend of the stick with the stick two colours on or a
   dot drawn over it, while elsewhere a neighbouring limb's colour means the stick is that limb's; black
   where JPEG cancelled the chroma of a dark blue stick drawn over it is cover too). A link ending on a
   dot drawn over a longer stick of the same limb gives way to that stick when its far dot has nothing
   else. Dots too close for their stick to show are joined at a low score when no black lies between
   them: head dots (whose short sticks hide under them, or in JPEG take a neighbouring hue) on that
   alone, others when the limb's colour shows on the line between them (and off it: a hand line is thin).
   Links are merged best first (Kruskal style) into people that never hold two readings of one part or
   two readings of one dot; a person made only of second finds of a larger person's dots (JPEG may find a
   dot twice, a little apart in a neighbouring hue) goes. Then each person's head dots are labelled
   together: the readings of its head dots and of loose head dots it reaches (in JPEG also a neighbouring
   head colour toward which a dot's core hue drifted) whose head links sum highest, less what other heads
   lose, win; in JPEG about the drawn size a dot's other readings count for as much of its core as
   shows their luma. Ears (whose shoulder sticks are not drawn) join through their eyes, or else the
   nearest head that lacks them. Unjoined dots stand alone as one-point people if they are strong (less so with
   no dot near, where no blend of two dots can arise, when they lie on black or, in JPEG maps near the
   drawn size, when their core colour names their part away from hands) and unambiguous; a lone blue dot
   (the left knee's colour, also every hand dot's) only when no blue dot other than people's joints is
   near and it is no dot of a hand found in step 7 (a big hand's dots lie far apart).
6. Redrawing (JPEG maps: PNG maps, resized or not, keep exact colours): the people are drawn again the
   way the renderer draws them, at the map's scale, and compared with the map (:mod:`skeleton_refit`).
   Two pieces of a person whose stick between them looked too patchy are joined, and joints that nothing
   drawn explains (blends of two dots) are dropped, when the drawing they change fits the colour the map
   shows there. In shrunk maps (about one chroma sample per dot) a head whose nose was read as the pink
   l-ear or the orange neck joins its neck through that dot renamed nose, when the neck-nose stick that
   this draws fits; and, once the hand pieces below are set aside, a limb joint whose dot lost its colour
   is added where its stick, leaving the person, ends on black. In any JPEG map a dot left loose joins a
   person lacking that part: a head dot the head beside it, a limb dot (a wrist whose forearm looked too
   patchy to link) a person holding the joint its stick would join. Last, JPEG smears chroma across dot
   edges (an l-ear drawn over its l-eye pulls the eye's colour centre up to 2 px away) but keeps luma at
   full resolution: in JPEG maps from 0.62x up, each joint is re-centred, within 2 px, on the pixels with
   its luma and roughly its hue.
7. Hands (``hands``). Blue dots that are not people's left knees (in JPEG, nor their blue-ish hips and
   ankles), joined pairwise by straight thin lines of one of the 20 hand-edge hues with no other dot on
   the way, are labelled by the edges' colours (a dot on two edges of different colours is the point
   they share; labels spread along the edges), best links first while the labels stay consistent; a
   finger cut off from its palm is put back into the nearest hand. Each hand goes to the person whose
   wrist it sits on (right wrist -> right hand), else to the elbow whose forearm's colour shows on the
   way to it (the body's wrist hides under the hand's wrist dot); a hand with no person near is returned
   on a person without body. In JPEG maps a body piece made only of blue-ish joints on a hand's dots and
   lines (two hand dots joined by a hand line pass for a blue thigh) is that hand's.
8. Face (``face``). White dots (radius 3) go to the nearest head (else the nearest person) and are put
   in landmark order by fitting an approximate mean face (similarity transform + optimal matching).

Limitations (see tests/test_skeleton_image.py for the measured rates):
- A joint whose dot is mostly covered is left out (joints are never invented on purpose: they come from
  dots, or in shrunk JPEG maps from a stick ending on black); a joint whose dot is covered by another dot
  may still join its person through its sticks, and is then left out too, its place being unknown.
- Two people's same joints drawn within about a dot radius read as one dot, which only one of them
  gets; the other may then take the wrong sticks.
- Two people join only through a stick that shows: people whose shared sticks are hidden come back
  split (each piece pure), e.g. a head without its nose is a separate group.
- JPEG (quality 75) costs a few joints where dots crowd (heads: five dots of neighbouring purples and
  reds): over 300 random scenes of 1-5 people, 99.99 % of visible joints come back at the drawn size and
  99.9 % at 0.75x. Maps shrunk to half size *and* JPEG-compressed keep about one chroma sample per dot:
  a blue knee on its blue shin differs from it mostly in luma, crowded heads blend; there 97 % come back
  and 2.3 % of the joints read back name the wrong part. In JPEG, bits of hand lines next to hand dots
  can still pass for a blue-ish thigh or shin (0.7 % of joints at the drawn size with hands drawn, 2.0 %
  at 0.75x).
- Hands are read when their dots stand apart (fingers at least a dot or so apart); overlapping dots of
  small hands merge. Face landmark identities are approximate (positions are exact); faces far from
  the mean shape may come back partly out of order.
- Non-uniform resizing is handled for the dot shape only; maps drawn with other styles (ControlNet 1.0
  blending, DWPose-style widths) are not the target.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Container, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .image import ImageError, as_rgb_uint8
from .pose import HAND_EDGES, HEAD_PARTS, NUM_BODY, NUM_FACE, NUM_HAND, Keypoint, Person, PoseFrame
from .render import BODY_COLORS, DRAWN_LIMBS, HAND_EDGE_COLORS, LIMB_COLORS, STICK_WIDTH
from .skeleton_refit import Redraw, add_missing_joints, refit

# ---- colour classes -------------------------------------------------------------------------------

_BODY_HUE_STEP = 360.0 / NUM_BODY          # 20 degrees between body colours
_HAND_HUE_STEP = 360.0 / len(HAND_EDGES)   # 18 degrees between hand-edge colours
_BLUE = 12                                 # body colour 12 (left knee) is also the hand-dot colour

_DIMMED = 0.6                              # limbs are drawn at 0.6 of their colour (render.LIMB_COLORS)
_LIMB_VALUE = (0.35, 0.78)                 # limbs are drawn at V = 0.6, joints at V = 1
_MIN_SATURATION = 0.4
_DISK_AREA = 49.0                          # pixels of cv2.circle(radius 4, filled)
_FACE_DISK_AREA = 29.0                     # cv2.circle(radius 3, filled)


@dataclass
class _Classes:
    hue: np.ndarray          # degrees, float32
    saturation: np.ndarray
    value: np.ndarray
    limb: np.ndarray         # int8 nearest body colour of dimmed saturated pixels, -1 elsewhere
    hand: np.ndarray         # int8 nearest hand-edge colour of bright saturated pixels, -1 elsewhere
    background: np.ndarray   # float32 0..1: how surely a pixel is black
    black: np.ndarray        # bool: surely black (background > 0.5)
    luma: np.ndarray         # float32 0..255
    by_bright: np.ndarray    # bool: by a joint-bright pixel (V >= 0.7, above any JPEG stick) in 3 x 3
    dark_cover: np.ndarray   # int8: the latest-drawn dark limb in 3 x 3 (see _dark_cover), -1 if none


def _ramp(values: np.ndarray, zero: float, one: float) -> np.ndarray:
    return np.clip((values - zero) / (one - zero), 0.0, 1.0).astype(np.float32)


def _hue_weight(hue: np.ndarray, centre: float, full: float = 10.0, zero: float = 20.0) -> np.ndarray:
    """1 within ``full`` degrees of ``centre`` (by default half-way to the next colour), 0 from ``zero``
    (the next colour). JPEG moves the hue of small dots by up to ~20 degrees toward what is under and
    beside them."""
    distance = np.abs((hue - centre + 180.0) % 360.0 - 180.0)
    return _ramp(-distance, -zero, -full)


def _classify(image: np.ndarray) -> _Classes:
    hsv = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    hue, saturation, value = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    colourful = saturation >= _MIN_SATURATION
    body_index = (np.rint(hue / _BODY_HUE_STEP).astype(np.int16) % NUM_BODY).astype(np.int8)
    hand_index = (np.rint(hue / _HAND_HUE_STEP).astype(np.int16) % len(HAND_EDGES)).astype(np.int8)
    limb = np.where(colourful & (value >= _LIMB_VALUE[0]) & (value < _LIMB_VALUE[1]), body_index, np.int8(-1))
    hand = np.where(colourful & (value >= 0.45), hand_index, np.int8(-1))
    background = _ramp(-value, -0.3, -0.15)
    luma = image.astype(np.float32) @ _YCBCR[0].astype(np.float32)
    by_bright = cv2.dilate((value >= 0.7).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return _Classes(hue, saturation, value, limb, hand, background, background > 0.5, luma, by_bright,
                    _dark_cover(limb, by_bright))


_SMALL_DOTS = 0.62
"""JPEG dots shrunk below this scale lose brightness and colour to blur and chroma subsampling."""


def _joint_weight(classes: _Classes, scale: float, exact: bool = False) -> np.ndarray:
    """0..1: how much a pixel looks like a full-colour (joint) pixel, whatever its hue.

    Limbs are drawn at V = 0.6 and stay below ~0.7 even in JPEG; joints are drawn at V = 1, but a JPEG
    dot shrunk below ~0.6x loses brightness to blur and chroma subsampling (blue dots keep only ~0.7-0.8),
    so small dots are accepted from a lower value there. Resized maps without JPEG keep their dots'
    middles at full value, and the higher threshold keeps a dot on a stick of its own hue apart from it."""
    low, high = (0.55, 0.72) if scale < _SMALL_DOTS and not exact else (0.62, 0.76)
    return _ramp(classes.value, low, high) * _ramp(classes.saturation, 0.35, 0.6)


def _white_weight(classes: _Classes) -> np.ndarray:
    """0..1: how much a pixel looks like a (white) face dot."""
    return _ramp(classes.value, 0.6, 0.75) * _ramp(-classes.saturation, -0.35, -0.2)


def _packed(image: np.ndarray) -> np.ndarray:
    """Each pixel's RGB as one int32 (0xRRGGBB)."""
    return (image[..., 0].astype(np.int32) << 16) | (image[..., 1].astype(np.int32) << 8) | image[..., 2]


def _exact_colours(image: np.ndarray) -> bool:
    """Whether the drawn pixels keep exact palette colours (a PNG map, maybe resized) rather than JPEG's
    approximations. Resizing blends only the rims of dots and sticks: about half or more of the drawn
    pixels stay exact (cubic at 0.75x: ~0.5, linear: ~0.75); after JPEG almost none do (~0.5 % at quality
    75, ~2 % at 95)."""
    drawn = _packed(image)[image.max(axis=2) >= 64]
    if drawn.size == 0:
        return True
    return float(np.isin(drawn, _PALETTE).mean()) >= 0.2


_PALETTE = np.array(sorted({(r << 16) | (g << 8) | b for r, g, b in
                            BODY_COLORS + LIMB_COLORS + HAND_EDGE_COLORS + ((255, 255, 255),)}), np.int32)


_WHOLE_DOTS = 0.9
"""From about the drawn size up, the middle of a visible dot keeps its palette colour exactly under any
interpolation (smaller, cubic ringing reaches the middle of a 4-5 px dot)."""


def _palette_parts(image: np.ndarray) -> np.ndarray:
    """Per pixel: the body part whose joint colour it has exactly, else -1."""
    packed = _packed(image)
    result = np.full(packed.shape, -1, np.int8)
    for part, (r, g, b) in enumerate(BODY_COLORS):
        result[packed == ((r << 16) | (g << 8) | b)] = part
    return result


def _around(shape: Tuple[int, ...], x: float, y: float, reach: float) -> Tuple[Tuple[slice, slice], np.ndarray]:
    """The window of an image of ``shape`` holding every pixel within ``reach`` of (x, y), and each of its
    pixels' distance from (x, y)."""
    top, left = max(int(np.floor(y - reach)), 0), max(int(np.floor(x - reach)), 0)
    bottom, right = min(int(np.ceil(y + reach)) + 1, shape[0]), min(int(np.ceil(x + reach)) + 1, shape[1])
    gy, gx = np.mgrid[top:max(bottom, top), left:max(right, left)]
    return (slice(top, max(bottom, top)), slice(left, max(right, left))), np.hypot(gx - x, gy - y)


def _any_within(mask: np.ndarray, x: float, y: float, radius: float) -> bool:
    """Whether ``mask`` is set anywhere within ``radius`` of (x, y)."""
    window, distance = _around(mask.shape, x, y, radius)
    return bool((mask[window] & (distance <= radius)).any())


# ---- dot scale --------------------------------------------------------------------------------------

def _dot_scale(classes: _Classes, exact: bool = True) -> Tuple[float, float]:
    """(sx, sy): how much the image was resized since drawing, from the complete-looking joint dots.

    A dot blurred by resizing keeps its area above half its value, so components of V >= 0.5 pixels of
    one hue class measure it."""
    index = (np.rint(classes.hue / _BODY_HUE_STEP).astype(np.int16) % NUM_BODY)
    bright = (classes.value >= 0.5) & (classes.saturation >= _MIN_SATURATION)
    index = np.where(bright, index, -1)
    stats = []
    for part in range(NUM_BODY):
        mask = index == part
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if len(rows) == 0:
            continue
        crop = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.uint8)
        stats.append(cv2.connectedComponentsWithStats(crop, connectivity=8)[2][1:])
    if not stats:
        return 1.0, 1.0
    found = np.concatenate(stats).astype(np.float64)
    area, width, height = found[:, cv2.CC_STAT_AREA], found[:, cv2.CC_STAT_WIDTH], found[:, cv2.CC_STAT_HEIGHT]
    fill, aspect = area / (width * height), width / height
    # a whole disk fills ~60-80 % of its box (49 / 81 at native size) and is about as wide as high
    complete = (area >= 4) & (fill >= 0.45) & (fill <= 0.95) & (aspect > 0.6) & (aspect < 1.67)
    if not complete.any():
        complete = area >= 4
        if not complete.any():
            return 1.0, 1.0
    # whole dots share one size: take the most common size (crumbs of JPEG'd hand lines are smaller and
    # scattered, dots merged with a stick of their own hue larger and scattered), on a log scale
    sizes = np.sort(area[complete])
    logs = np.log(sizes)
    window = np.log(1.3)
    counts = np.array([np.sum(np.abs(logs - value) <= window) for value in logs])
    common = sizes[np.abs(logs - logs[int(np.argmax(counts))]) <= window]
    # (JPEG frays the dots' edges below half value: a higher percentile makes up for it)
    scale = float(np.sqrt(np.percentile(common, 60 if exact else 75) / _DISK_AREA))
    ratio = float(np.clip(np.median(aspect[complete]), 0.5, 2.0))
    if abs(ratio - 1.0) < 0.15:
        ratio = 1.0
    return max(scale * np.sqrt(ratio), 0.25), max(scale / np.sqrt(ratio), 0.25)


# ---- matched filter for dots ----------------------------------------------------------------------

def _disk_kernel(radius_x: float, radius_y: float, half_x: int, half_y: int, supersample: int = 8) -> np.ndarray:
    """Pixel coverage of an axis-aligned ellipse centred on the middle of a (2 half_y + 1, 2 half_x + 1) grid."""
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    ys = np.arange(-half_y, half_y + 1)[:, None] + offsets[None, :]
    xs = np.arange(-half_x, half_x + 1)[:, None] + offsets[None, :]
    inside = ((xs[None, :, None, :] / radius_x) ** 2 + (ys[:, None, :, None] / radius_y) ** 2) <= 1.0
    return inside.mean(axis=(2, 3)).astype(np.float32)


@dataclass
class _Dots:
    """Matched filter for filled dots of one size: class pixels inside the disk count for a centre, black
    inside and class pixels in a ring just outside count against it, anything else is neutral (what later
    drawing may have put on top)."""
    radius: float            # mean radius in image pixels
    inner: np.ndarray
    outer: np.ndarray
    area: float
    pad: int

    @classmethod
    def make(cls, sx: float, sy: float, disk_area: float = _DISK_AREA) -> "_Dots":
        radius = float(np.sqrt(disk_area / np.pi))
        rx, ry = radius * sx, radius * sy
        margin = max(1.5, 1.5 * min(sx, sy))
        half_x, half_y = int(np.ceil(rx + margin + 0.5)), int(np.ceil(ry + margin + 0.5))
        inner = _disk_kernel(rx, ry, half_x, half_y)
        outer = _disk_kernel(rx + margin, ry + margin, half_x, half_y)
        return cls(0.5 * (rx + ry), inner, outer, float(inner.sum()), max(half_x, half_y) + 1)

    def score(self, member: np.ndarray, background: np.ndarray) -> np.ndarray:
        inside = cv2.filter2D(2.0 * member - background, -1, self.inner, borderType=cv2.BORDER_CONSTANT)
        ring = cv2.filter2D(member, -1, self.outer, borderType=cv2.BORDER_CONSTANT)
        return inside - ring


_MIN_DOT_FRACTION = 0.3
"""A dot centre needs net evidence worth 30 % of a whole dot."""


def _peaks(score: np.ndarray, threshold: float, min_distance: float) -> np.ndarray:
    """Sub-pixel local maxima (x, y, score) of ``score`` above ``threshold``, at least ``min_distance`` apart."""
    if score.size == 0 or score.max() < threshold:
        return np.zeros((0, 3))
    dilated = cv2.dilate(score, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero((score >= dilated) & (score >= threshold))
    values = score[ys, xs]
    kept: List[Tuple[float, float, float]] = []
    for index in np.argsort(-values, kind="stable"):
        y, x = int(ys[index]), int(xs[index])
        if any((x - kx) ** 2 + (y - ky) ** 2 < min_distance ** 2 for kx, ky, _ in kept):
            continue
        kept.append((x + _vertex(score[y, max(x - 1, 0):x + 2], x > 0),
                     y + _vertex(score[max(y - 1, 0):y + 2, x], y > 0), float(values[index])))
    return np.array(kept, np.float64).reshape(-1, 3)


def _vertex(line: np.ndarray, has_left: bool) -> float:
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
    return (px + _vertex(score[py, max(px - 1, 0):px + 2], px > 0),
            py + _vertex(score[max(py - 1, 0):py + 2, px], py > 0), fallback)


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
        boxes.append((slice(max(y - pad, 0), min(y + h + pad, height)), slice(max(x - pad, 0), min(x + w + pad, width))))
    return boxes


_SECOND_DOT_FRACTION = 0.15
"""A colour that is not a dot's best fit is kept as an alternative reading above 15 % of a whole dot."""
_FAINT_DOT_FRACTION = 0.2
"""In shrunk JPEG a dot of colour evidence from 20 % of a whole dot may still be named by its core colour."""


@dataclass
class _Joints:
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

    def appended(self, rows: List[Tuple[np.ndarray, int, int, float, bool]]) -> "_Joints":
        """These readings plus ``rows`` of (xy, part, dot, score, primary)."""
        if not rows:
            return self
        xy, part, dot, score, primary = zip(*rows)
        return _Joints(np.vstack([self.xy.reshape(-1, 2), np.array(xy, np.float64).reshape(-1, 2)]),
                       np.concatenate([self.part, np.array(part, int)]), np.concatenate([self.dot, np.array(dot, int)]),
                       np.concatenate([self.score, np.array(score, np.float64)]),
                       np.concatenate([self.primary, np.array(primary, bool)]))


def _find_joints(classes: _Classes, joint: np.ndarray, dots: _Dots, exact: bool = False,
                 palette_part: Optional[np.ndarray] = None, blend_luma: bool = False) -> Tuple[_Joints, np.ndarray]:
    """Dots of the 18 joint colours, each with its readings; and the faint colour peaks that join no dot
    (x, y, part, evidence: at least ``_FAINT_DOT_FRACTION``, too weak to found a dot by colour alone).

    Small dots in JPEG images take colour from what is under and beside them (a nose under purple eyes
    turns pinkish, a knee takes its thigh's green), so a dot keeps every colour whose matched filter also
    peaks there; the limbs decide between them when people are assembled. ``palette_part`` (the part whose
    joint colour each pixel has exactly, for exact maps about the drawn size) asks every dot to show it.
    ``joint`` is the image's :func:`_joint_weight`."""
    peaks: List[Tuple[float, int, float, float]] = []
    faint: List[Tuple[float, float, int, float]] = []
    low = _SECOND_DOT_FRACTION * dots.area
    for window in _regions(joint, 0.5 * low, dots.pad):
        weight, hue, background = joint[window], classes.hue[window], classes.background[window]
        top, left = window[0].start, window[1].start
        nearest = np.rint(hue / _BODY_HUE_STEP).astype(np.int16) % NUM_BODY
        mass = np.bincount(nearest.ravel(), weights=weight.ravel(), minlength=NUM_BODY)
        mass = mass + np.roll(mass, 1) + np.roll(mass, -1)
        for part in np.flatnonzero(mass >= 0.5 * low):
            member = weight * _hue_weight(hue, part * _BODY_HUE_STEP)
            found = _peaks(dots.score(member, background), low, 0.9 * dots.radius)
            if len(found) and exact:
                # exact colours: place the dot with a narrow hue window, so that the blended rim of a
                # neighbouring colour (one step round the wheel) under or beside it does not pull it
                narrow = dots.score(weight * _hue_weight(hue, part * _BODY_HUE_STEP, 4.0, 12.0), background)
                found = [_nearby_peak(narrow, x, y, score, dots.radius) for x, y, score in found]
            if len(found) and palette_part is not None:
                # ... and a dot shows its palette colour exactly somewhere (a bright hand line of a
                # nearby hue, 144 degrees against a left wrist's 140, never does)
                own = palette_part[window] == part
                found = [peak for peak in found if _any_within(own, peak[0], peak[1], dots.radius)]
            for x, y, score in found:
                peaks.append((score / dots.area, int(part), x + left, y + top))
    # group the peaks of all colours into dots, strongest first
    peaks.sort(key=lambda peak: -peak[0])
    centres: List[Tuple[float, float, float]] = []
    rows: List[Tuple[float, float, int, int, float, bool]] = []
    seen = set()
    join = (0.6 * dots.radius) ** 2
    for score, part, x, y in peaks:
        owner = next((index for index, (cx, cy, _) in enumerate(centres) if (x - cx) ** 2 + (y - cy) ** 2 < join), None)
        first = owner is None
        if first:
            if score < _MIN_DOT_FRACTION:
                if score >= _FAINT_DOT_FRACTION:
                    faint.append((x, y, part, score))
                continue
            # same-colour dots (two people's same joint) closer than 0.9 radius are one dot
            if any(part == p and (x - rx) ** 2 + (y - ry) ** 2 < (0.9 * dots.radius) ** 2 for rx, ry, p, _, _, _ in rows):
                continue
            owner = len(centres)
            centres.append((x, y, score))
        elif (owner, part) in seen or score < 0.35 * centres[owner][2]:
            continue
        seen.add((owner, part))
        cx, cy, _ = centres[owner]
        rows.append((cx, cy, part, owner, score, first))
    if palette_part is None:        # a dot showing its exact palette colour is no blend of two others
        rows = _drop_blends(rows, dots.radius, classes.luma if blend_luma else None)
    faint_peaks = np.array(faint, np.float64).reshape(-1, 4)
    if not rows:
        empty = _Joints(np.zeros((0, 2)), np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0, bool))
        return empty, faint_peaks
    xy = np.array([(x, y) for x, y, *_ in rows], np.float64)
    return _Joints(xy, np.array([r[2] for r in rows]), np.array([r[3] for r in rows]),
                   np.array([r[4] for r in rows], np.float64), np.array([r[5] for r in rows], bool)), faint_peaks


_YCBCR = np.array([(0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312)])
"""RGB -> JPEG's Y, Cb, Cr (BT.601, full range, no offset)."""
_BODY_YCC = np.array(BODY_COLORS, np.float64) @ _YCBCR.T
_BODY_CHROMA_ANGLE = np.degrees(np.arctan2(_BODY_YCC[:, 2], _BODY_YCC[:, 1]))
_SMALL_JPEG = 0.9
"""Below this scale JPEG's half-resolution chroma visibly blends a dot with its surroundings; at the drawn
size the hue of a dot stays within ~4 degrees of its colour and the plain hue filters suffice."""
_SECOND_COLOUR_COST = 4.0
"""A dot found by brightness alone also gets its second best colour as a reading if it costs at most 4
more (about two standard deviations)."""
_RULED_OUT_COST = 9.0
"""A reading whose colour fits a dot's core three standard deviations worse than its best one is ruled out."""
_ANGLE_SPREAD = 6.0
_LUMA_SPREAD = 6.0
"""How far (degrees of chroma angle, luma levels) a JPEG dot's core drifts from its palette colour: about
one standard deviation, measured on the dots of random scenes at 0.5x-1x, quality 75."""


def _core_colour_costs(image_ycc: np.ndarray, centre: np.ndarray, radius: float, scale: float,
                       brightness: float = 1.0) -> np.ndarray:
    """Per body part (18): how badly the dot at ``centre`` fits that part's colour (at ``brightness``:
    ``_DIMMED`` for the limb of the same colour), as a sum of squared standardised chroma-angle and luma
    errors.

    JPEG halves the chroma resolution and quantises it coarsely: a small dot's chroma is a blend of its own
    and its surroundings' (up to ~16 degrees of hue off, past half-way to the next palette colour). So the
    ring just outside the dot is taken out of the core's chroma in proportion to the chroma footprint (half
    at 0.5x, nothing at the drawn size). Luma keeps full resolution and fine steps, and the palette's
    neighbouring colours differ in luma by 9-50 levels, so the two together name the dot."""
    window, distance = _around(image_ycc.shape, centre[0], centre[1], radius + 3.0)
    patch = image_ycc[window]
    if patch.size == 0:
        return np.zeros(NUM_BODY)
    core = distance <= max(1.0, 0.45 * radius)
    if not core.any():
        core = distance <= distance.min()
    ring = (distance > radius + 0.5) & (distance <= radius + 2.5)
    own = float(np.clip(scale, 0.5, 1.0))
    core_colour = patch[core].mean(axis=0)
    ring_colour = patch[ring].mean(axis=0) if ring.any() else np.zeros(3)
    chroma = (core_colour[1:] - (1.0 - own) * ring_colour[1:]) / own
    angle = np.degrees(np.arctan2(chroma[1], chroma[0]))
    angle_error = (angle - _BODY_CHROMA_ANGLE + 180.0) % 360.0 - 180.0
    return (angle_error / _ANGLE_SPREAD) ** 2 + ((core_colour[0] - brightness * _BODY_YCC[:, 0]) / _LUMA_SPREAD) ** 2


def _recolour(joints: _Joints, image_ycc: np.ndarray, radius: float, scale: float) -> _Joints:
    """Shrunk JPEG maps: choose between a dot's readings by its core's chroma *and* luma (see
    :func:`_core_colour_costs`): the best fitting reading becomes the dot's best one, every reading's
    evidence is weighed by how well the core fits it, and readings the core rules out go (a stick that
    ends on the dot could otherwise still join them; a covered joint there comes back as a stick end).
    Head readings stay: five touching head dots blend, and :func:`_relabel_heads` weighs them together."""
    score, primary, keep = joints.score.copy(), np.zeros(len(joints), bool), np.ones(len(joints), bool)
    for dot_id in np.unique(joints.dot):
        rows = np.flatnonzero(joints.dot == dot_id)
        costs = _core_colour_costs(image_ycc, joints.xy[rows[0]], radius, scale)[joints.part[rows]]
        score[rows] = joints.score[rows] * np.exp(-0.5 * (costs - costs.min()))
        primary[rows[int(np.argmin(costs))]] = True
        keep[rows] = (costs <= costs.min() + _RULED_OUT_COST) | np.isin(joints.part[rows], HEAD_PARTS)
    return _Joints(joints.xy[keep], joints.part[keep], joints.dot[keep], score[keep], primary[keep])


_UNSEEN_APART = 3.0
"""Dot radii between an unseen dot and every found one: nearer, a bright peak is more often a found dot's
rim or its blend with a neighbour (an elbow half under an ear reads as the orange of a neck)."""


def _add_unseen_dots(joints: _Joints, classes: _Classes, joint: np.ndarray, image_ycc: np.ndarray, dots: "_Dots",
                     scale: float) -> _Joints:
    """Small JPEG maps: dots whose colour filter found nothing, because the stick under them blends into
    the same hue (a knee on its shin), still stand out by brightness (joints are drawn at full value, limbs
    at 0.6). Bright dots of any hue ``_UNSEEN_APART`` radii away from every known dot are added, named by
    their core colour."""
    member = np.maximum(joint, _dark_blue_weight(classes, image_ycc))
    bright = _windowed_peaks(member, classes.background, dots)
    added = []
    next_dot = int(joints.dot.max()) + 1 if len(joints) else 0
    strongest_first = np.argsort(-bright[:, 2], kind="stable")
    for index in _keep_apart(bright[:, :2], strongest_first, _UNSEEN_APART * dots.radius, joints.xy):
        x, y, strength = bright[index]
        costs = _core_colour_costs(image_ycc, np.array([x, y]), dots.radius, scale)
        order = np.argsort(costs)
        for rank, candidate in enumerate(order[:2]):
            if rank and costs[candidate] > costs[order[0]] + _SECOND_COLOUR_COST:
                break
            evidence = strength / dots.area * float(np.exp(-0.5 * (costs[candidate] - costs[order[0]])))
            added.append((np.array([x, y]), int(candidate), next_dot, evidence, rank == 0))
        next_dot += 1
    return joints.appended(added)


_FAINT_DOT_APART = 1.3
"""A faint dot lies at least this many dot radii from every dot found ..."""
_ONE_STICK_PARTS = frozenset(part for part in range(NUM_BODY) if sum(part in limb for limb in DRAWN_LIMBS) == 1)
"""Wrists, ankles and ears: a faint one, which only one stick can confirm, may as well be the end of another
person's stick of that limb passing by."""
_HAND_REACH = 8.0
"""... and this many from every blue dot but its own: a hand's dots lie this close together, and the
blurred hand lines between them take every hue (a lone blue dot this close to others may be a hand's)."""


def _add_faint_dots(joints: _Joints, faint: np.ndarray, blue: np.ndarray, image_ycc: np.ndarray, radius: float,
                    scale: float) -> _Joints:
    """Small JPEG maps: a dot on its sticks (a left hip between the cyan and azure sticks) takes their
    chroma, and its colour filter finds too little of it. A faint colour peak (see :func:`_find_joints`)
    of a joint with two sticks or more, away from every dot and from hands, is still that part's dot when
    its core colour names that part (see :func:`_core_names`)."""
    faint = faint[~np.isin(faint[:, 2].astype(int), list(_ONE_STICK_PARTS))]
    faint = faint[~_by_hand(faint[:, :2], blue, radius)]
    strongest_first = np.argsort(-faint[:, 3], kind="stable")
    named = [index for index in strongest_first
             if _core_names(image_ycc, faint[index, :2], int(faint[index, 2]), radius, scale)]
    next_dot = int(joints.dot.max()) + 1 if len(joints) else 0
    kept = _keep_apart(faint[:, :2], named, _FAINT_DOT_APART * radius, joints.xy)
    return joints.appended([(faint[index, :2], int(faint[index, 2]), next_dot + number, float(faint[index, 3]), True)
                            for number, index in enumerate(kept)])


def _by_hand(points: np.ndarray, blue: np.ndarray, radius: float, own: float = 0.9) -> np.ndarray:
    """Which ``points`` lie within hand reach of a blue (hand) dot other than their own (the blue dot
    within ``own`` radii)."""
    if len(points) == 0 or len(blue) == 0:
        return np.zeros(len(points), bool)
    distance = _pairwise(points, blue)
    return ((distance > own * radius) & (distance < _HAND_REACH * radius)).any(axis=1)


def _named_alone(joints: _Joints, image_ycc: np.ndarray, blue: np.ndarray, radius: float,
                 scale: float) -> np.ndarray:
    """Which weak readings (a dot's best, with evidence below a lone dot's) name their part by their core
    colour (see :func:`_core_names`), away from hands. In a JPEG map drawn near full size such a dot may
    stand alone when no other dot is near: the weak fakes that the lone evidence keeps out are blends of
    two neighbouring dots, and the blurred rims of hand dots and lines, which take every hue. Blue is left
    out: a blue dot is barely brighter than the blue neck-nose stick (luma 29 against 17), so its core
    colour cannot tell them apart; smaller JPEG dots are too washed out to tell any dot from a stick."""
    weak = np.flatnonzero(joints.primary & (joints.score >= _MIN_DOT_FRACTION)
                          & (joints.score < _LONE_DOT_FRACTION[1]) & (joints.part != _BLUE))
    weak = weak[~_by_hand(joints.xy[weak], blue, radius)]
    named = np.zeros(len(joints), bool)
    named[[index for index in weak if _core_names(image_ycc, joints.xy[index], int(joints.part[index]), radius,
                                                  scale)]] = True
    return named


def _core_names(image_ycc: np.ndarray, centre: np.ndarray, part: int, radius: float, scale: float) -> bool:
    """Whether the core colour of a dot at ``centre`` names ``part``: it rules out every other part and fits
    the full-value colour better than any (dimmed) stick's."""
    costs = _core_colour_costs(image_ycc, centre, radius, scale)
    as_stick = _core_colour_costs(image_ycc, centre, radius, scale, _DIMMED)
    return np.delete(costs, part).min() >= costs[part] + _RULED_OUT_COST and as_stick.min() >= costs[part]


def _dark_blue_weight(classes: _Classes, image_ycc: np.ndarray) -> np.ndarray:
    """0..1: how much a pixel looks like the middle of a small blue dot in JPEG. Blue carries almost no
    luma, so JPEG's blurred chroma leaves such a dot no brighter than its blue-ish sticks (V about 0.6);
    but its luma, kept at full resolution, stays near pure blue's, darker than any stick round it."""
    luma_off = np.abs(image_ycc[..., 0] - _BODY_YCC[_BLUE, 0])
    blue = _hue_weight(classes.hue, _BLUE * _BODY_HUE_STEP)
    return blue * _ramp(-luma_off, -9.0, -5.0) * _ramp(classes.value, 0.3, 0.45)


_NEIGHBOUR_READING = 0.5
_NEIGHBOUR_DRIFT = 5.0
"""A head dot whose core hue is 5 degrees or more off its best colour, toward a neighbouring head colour,
gets that colour as a reading at half its evidence."""


def _neighbouring_head_readings(joints: _Joints, classes: _Classes, radius: float) -> _Joints:
    """JPEG maps: a head dot blends with the touching dots of neighbouring hues, so its best colour may be
    one step off. A dot whose core hue has drifted toward a neighbouring head colour gets that colour as
    a weak reading, and the head's links decide (:func:`_relabel_heads`)."""
    parts_of = joints.parts_by_dot()
    added = []
    for index in np.flatnonzero(joints.primary & np.isin(joints.part, HEAD_PARTS)):
        position = HEAD_PARTS.index(int(joints.part[index]))
        drift = _core_hue(classes, joints.xy[index], radius) - int(joints.part[index]) * _BODY_HUE_STEP
        drift = (drift + 180.0) % 360.0 - 180.0
        step = int(np.sign(drift))
        if abs(drift) < _NEIGHBOUR_DRIFT or not 0 <= position + step < len(HEAD_PARTS):
            continue
        part = HEAD_PARTS[position + step]
        if part not in parts_of[int(joints.dot[index])]:
            added.append((joints.xy[index], part, int(joints.dot[index]),
                          _NEIGHBOUR_READING * float(joints.score[index]), False))
    return joints.appended(added)


def _core_hue(classes: _Classes, centre: np.ndarray, radius: float) -> float:
    """Mean hue (degrees) of the bright pixels at the middle of the dot at ``centre``."""
    reach = max(1.0, 0.45 * radius)
    window, distance = _around(classes.hue.shape, centre[0], centre[1], reach)
    weight = (distance <= reach) * classes.value[window]
    angle = np.radians(classes.hue[window])
    return float(np.degrees(np.arctan2((weight * np.sin(angle)).sum(), (weight * np.cos(angle)).sum())))


def _between_hues(part: int, first: int, second: int) -> bool:
    """Whether colour ``part`` lies strictly inside the shorter hue arc from ``first`` to ``second``."""
    span = (second - first) % NUM_BODY
    offset = (part - first) % NUM_BODY
    if span > NUM_BODY // 2:
        span, offset = NUM_BODY - span, (first - part) % NUM_BODY
    return 0 < offset < span


_OWN_LUMA_SHARE = 0.5
"""Share of a dot's core that must show its own luma for it to count as a dot, not a blend."""


def _luma_shares(luma: np.ndarray, x: float, y: float, parts: Sequence[int], radius: float) -> np.ndarray:
    """Per part: the share of the core of the dot at (x, y) within ``_LUMA_MATCH[0]`` of its luma."""
    window, distance = _around(luma.shape, x, y, 0.6 * radius)
    core = luma[window][distance <= 0.6 * radius]
    if len(core) == 0:
        return np.zeros(len(parts))
    return np.mean(np.abs(core[None, :] - _BODY_YCC[list(parts), 0][:, None]) <= _LUMA_MATCH[0], axis=1)


def _shows_own_luma(luma: np.ndarray, x: float, y: float, part: int, others: Tuple[int, int], radius: float) -> bool:
    """Whether most of the core of the dot at (x, y) has ``part``'s luma, and far fewer pixels either of
    ``others``'s: JPEG blends only chroma, so a blend of two dots keeps their lumas."""
    own, *rivals = _luma_shares(luma, x, y, (part, *others), radius)
    return own >= _OWN_LUMA_SHARE and own >= 2 * max(rivals)


def _luma_weighed_heads(joints: _Joints, luma: np.ndarray, radius: float) -> _Joints:
    """JPEG about the drawn size: a head dot's other readings weighed by how much of its core shows their
    luma against its best reading's (an l-ear also read as the nose beside it, 10 luma levels darker)."""
    score = joints.score.copy()
    for index in np.flatnonzero(~joints.primary & np.isin(joints.part, HEAD_PARTS) & (joints.score > 0)):
        best = np.flatnonzero(joints.primary & (joints.dot == joints.dot[index]))
        if len(best) == 0:
            continue
        parts = (int(joints.part[best[0]]), int(joints.part[index]))
        own, this = _luma_shares(luma, *joints.xy[index], parts, radius)
        if own >= _OWN_LUMA_SHARE:
            score[index] *= min(1.0, this / own)
    return _Joints(joints.xy, joints.part, joints.dot, score, joints.primary)


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
    close = _pairwise(xy, xy) <= 2.5 * radius
    candidates = []
    for index, (_, _, part, _, score) in enumerate(best):
        around = [other for other in np.flatnonzero(close[index]) if other != index]
        for first_position, first in enumerate(around):
            for second in around[first_position + 1:]:
                length, along, across = _directions(xy[first], xy[second])
                parts, scores = (best[first][2], best[second][2]), (best[first][4], best[second][4])
                if not close[first, second] or length == 0 or not _between_hues(part, *parts):
                    continue
                if score >= min(scores) and length > 2.0 * radius or score >= _BLEND_OUTSHINE * max(scores):
                    continue
                offset = xy[index] - xy[first]
                if 0.15 < float(offset @ along) / length < 0.85 and abs(float(offset @ across)) < 0.6 * radius \
                        and not (luma is not None and _shows_own_luma(luma, *xy[index], part, parts, radius)):
                    candidates.append((length, index, first, second))
    fake = set()
    for _, index, first, second in sorted(candidates):
        if not fake & {index, first, second}:
            fake.add(index)
    dropped = {best[index][3] for index in fake}
    return [row for row in rows if row[3] not in dropped]


# ---- limbs ---------------------------------------------------------------------------------------

def _stick_ends(joints: _Joints, classes: _Classes, dots: _Dots, scale: float) -> _Joints:
    """Add readings that sticks imply: a drawn limb's stick leaving a found dot ends at the dot of the
    limb's other joint, so the found dot at the far end of a stick of that limb's colour (whatever its own
    colour reads as) may be that joint. This recovers joints whose dot is covered by another one (the
    body's wrist under a hand's wrist dot) or whose colour JPEG has moved (small dots take the hue of what
    is under them). These readings score 0 and are used only when nothing else joins them."""
    if len(joints) == 0:
        return joints
    black = classes.black
    margin = max(0.75, 0.5 * scale)
    half_width = STICK_WIDTH * scale
    added = []
    best_rows = np.flatnonzero(joints.primary)
    dot_ids, centres = joints.dot[best_rows], joints.xy[best_rows]
    dot_parts = joints.parts_by_dot()
    for index in np.flatnonzero(joints.primary & (joints.score >= _MIN_DOT_FRACTION)):
        here = int(joints.part[index])
        others = dot_ids != joints.dot[index]
        targets, ends = dot_ids[others], centres[others]
        if len(targets) == 0:
            continue
        starts = np.repeat(joints.xy[index][None, :], len(ends), axis=0)
        open_line = _dark_lines(starts, ends, black) <= 2
        line = _points_between(starts, ends, 9)
        colours = _sample(classes.limb, line.reshape(-1, 2), -1).reshape(len(ends), -1)
        for limb, (part_a, part_b) in enumerate(DRAWN_LIMBS):
            if here not in (part_a, part_b):
                continue
            other = part_b if here == part_a else part_a
            found = []
            # quick rejection: the limb's colour must show somewhere on the line
            hopeful = open_line & ((colours == limb).sum(axis=1) >= 2)
            for target, end in zip(targets[hopeful], ends[hopeful]):
                support = _stick_support(joints.xy[index], end, limb, classes, black, half_width, dots.radius, margin)
                if support[0] is not None and not _stick_goes_on(joints.xy[index], end, limb, classes, dots.radius, scale):
                    found.append((support[0], int(target), end))
            if not found:
                continue
            # the stick's own dot is the one its colour fits best (a nearer dot on the stick leaves part
            # of it out; a farther one adds what lies beyond)
            _, target, end = max(found, key=lambda item: item[0])
            if other in dot_parts[target]:
                continue
            dot_parts[target].add(other)
            added.append((end, other, target, 0.0, False))
    return joints.appended(added)


def _directions(start: np.ndarray, end: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """The length from ``start`` to ``end`` and the unit vectors along and across it (zero if no length)."""
    axis = end - start
    length = float(np.hypot(*axis))
    along = axis / length if length > 0 else np.zeros(2)
    return length, along, np.array([-along[1], along[0]])


def _stick_goes_on(start: np.ndarray, end: np.ndarray, limb: int, classes: _Classes, radius: float,
                   scale: float) -> bool:
    """Whether the limb's colour carries on past the dot at ``end`` (then that dot only lies on the stick)."""
    length, along, across = _directions(start, end)
    if length == 0:
        return False
    steps = np.arange(radius + 1.0, radius + 1.0 + max(3.0, 4.0 * scale), 0.5)
    offsets = np.array([-0.5, 0.0, 0.5]) * STICK_WIDTH * scale
    points = end + steps[:, None, None] * along + offsets[None, :, None] * across
    return float((_sample(classes.limb, points.reshape(-1, 2), -1) == limb).mean()) >= 0.2


def _stick_samples(start: np.ndarray, end: np.ndarray, half_width: float, dot_radius: float,
                   margin: float) -> np.ndarray:
    """Points (n x 2) inside the limb ellipse the renderer would draw from ``start`` to ``end``, shrunk by
    ``margin``, and outside the two end dots grown by ``margin``."""
    length, along, across = _directions(start, end)
    if length < 1e-6:
        return np.zeros((0, 2))
    semi_major, semi_minor = length / 2 - margin, half_width - margin
    if semi_major <= 0 or semi_minor <= 0:
        return np.zeros((0, 2))
    steps = max(int(np.ceil(length)), 2)
    u = np.linspace(-length / 2, length / 2, steps + 1)
    v = np.linspace(-semi_minor, semi_minor, 5)
    uu, vv = np.meshgrid(u, v)
    uu, vv = uu.ravel(), vv.ravel()
    inside = (uu / semi_major) ** 2 + (vv / semi_minor) ** 2 <= 1.0
    clear = dot_radius + margin
    far = ((uu + length / 2) ** 2 + vv ** 2 > clear ** 2) & ((uu - length / 2) ** 2 + vv ** 2 > clear ** 2)
    keep = inside & far
    middle = (start + end) / 2
    return middle + uu[keep, None] * along + vv[keep, None] * across


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances between every point of ``a`` (n x 2) and of ``b`` (m x 2): n x m."""
    return np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))


def _sample(grid: np.ndarray, points: np.ndarray, fill) -> np.ndarray:
    height, width = grid.shape[:2]
    xs, ys = np.rint(points[:, 0]).astype(int), np.rint(points[:, 1]).astype(int)
    valid = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    out = np.full(len(points), fill, dtype=grid.dtype)
    out[valid] = grid[ys[valid], xs[valid]]
    return out


_LONE_DOT_FRACTION = (0.35, 0.45)
"""Evidence (fraction of a whole dot) a dot joined to no other needs to stand alone as a one-point person:
in a map with exact palette colours, and in a JPEG (where blends of neighbouring dots make weak fakes)."""

_APART_LONE_FRACTION = 0.25
"""... and a dot with no other dot near (which cannot be a blend of two)."""
_OWN_DOT_SCORE = 0.75
"""A reading with evidence of 3/4 of a whole dot is a dot of its own, never an echo of a neighbour's."""

_TOUCHING_SCORE = 0.2
"""Score of a link between touching dots whose stick cannot show: below almost every seen stick."""
_HEAD_LIMBS = frozenset(range(12, 17))
"""Neck-nose, nose-eyes and eyes-ears: the only sticks short enough to hide under their dots."""
_FEW_SAMPLES = 8
_PRIOR_SAMPLES = 6
_MIN_OWN = 0.15
_MAX_DARK = 0.12
_MAX_DARK_BLUE_LEG = 0.08
"""At most this fraction of a stick's samples may be black: JPEG rings black into a stick's edges. The
left leg's blue-ish sticks get less, because the blurred hand line between two blue hand dots takes their
colours too."""
_BLUE_LEG = frozenset((_BLUE - 1, _BLUE, _BLUE + 1))
_BLUE_LEG_LIMBS = frozenset(limb for limb, pair in enumerate(DRAWN_LIMBS) if _BLUE_LEG & set(pair))
_BLEND_COVER = 0.1
"""The share of a stick's samples showing the colour two limbs on (drawn later, over it) from which the
samples of the colour between are taken for blends of the two, not for a rival stick."""
_FIT_BONUS = 0.3
"""A link gains this much per unit of its readings' evidence: a longer stick to a dot's weaker reading
(an elbow's forearm reaching past its wrist to the touching shoulder dot) loses to the shorter one to a
dot's best reading, and the shoulder keeps its own sticks."""
_LIMB_OF = {**{pair: limb for limb, pair in enumerate(DRAWN_LIMBS)},
            **{pair[::-1]: limb for limb, pair in enumerate(DRAWN_LIMBS)}}


@dataclass
class _Link:
    score: float
    first: int
    second: int


def _stick_support(point_a: np.ndarray, point_b: np.ndarray, limb: int, classes: _Classes, black: np.ndarray,
                   half_width: float, radius: float, margin: float) -> Tuple[Optional[float], int, int, int, int]:
    """How well the stick of ``limb`` drawn between two dot centres shows: (score or None, samples, own
    colour, neighbouring colour, black). The stick must show the limb's dimmed colour on a share of what
    later drawing leaves uncovered (cover, and its blends with the stick, are neutral) and almost never
    black (black that JPEG made of the stick beside a dot aside, and on the seam of a dark stick drawn
    over it when enough of the stick shows); its score shrinks toward 0 for short sticks, whose few
    samples are weak evidence."""
    samples = _stick_samples(point_a, point_b, half_width, radius, margin)
    total = len(samples)
    if total == 0:
        return None, 0, 0, 0, 0
    dark_samples = samples[_sample(black, samples, False)]
    gaps = dark_samples[~_dimmed_beside_dot(dark_samples, limb, classes)]
    dark = len(gaps)
    colours = _sample(classes.limb, samples, -1)
    # a stick of the next colour round the wheel (JPEG moves hues) is that limb, not this one; but the
    # next limb is drawn later and may cross this stick: its colour going on outside the stick is cover
    own, rival = _limb_colour_counts(colours, limb)
    if own < 0.6 * rival:
        covering = _crossing(samples, point_a, point_b, limb + 1, classes, half_width, margin)
        own, rival = _limb_colour_counts(colours[~covering], limb)
        if own < 0.6 * rival and (colours == limb + 2).sum() >= max(2, _BLEND_COVER * total):
            # the stick two colours on covers this one: the edges between them blend to the hue between
            own, rival = _limb_colour_counts(colours[~covering & (colours != limb + 1)], limb)
        if own < 0.6 * rival:
            # ... and beside a dot drawn over it, the stick blends into the dot's hue the same way
            own, rival = _limb_colour_counts(colours[~covering & ~_sample(classes.by_bright, samples, True)], limb)
    blue_leg = limb in _BLUE_LEG_LIMBS
    max_dark = _MAX_DARK_BLUE_LEG if blue_leg else _MAX_DARK
    if dark > max(1, max_dark * total) and own >= _SEAM_MIN_OWN * total:
        dark -= int((_sample(classes.dark_cover, gaps, -1) > limb).sum())
    # own colour is needed on a share of what later sticks leave uncovered (blurred hand lines beside
    # their bright cores take every colour, the left leg's blue-ish ones among them: no cover there)
    uncovered = total
    if own < _MIN_OWN * total and not blue_leg:
        uncovered -= int(((colours > limb) & ~_sample(classes.by_bright, samples, True)).sum())
    if own >= max(2, _MIN_OWN * uncovered, 0.6 * rival) and dark <= max(1, max_dark * total):
        return (own - 2.0 * dark) / (total + _PRIOR_SAMPLES), total, own, rival, dark
    return None, total, own, rival, dark


_STICK_LUMA = 0.8 * _DIMMED
"""A stick pixel keeps at least this fraction of its colour's luma."""


def _dimmed_beside_dot(points: np.ndarray, limb: int, classes: _Classes) -> np.ndarray:
    """Which (black) ``points`` lie by a joint-bright pixel and keep the luma of the limb's dimmed colour:
    stick pixels to which JPEG gave the chroma of a dot drawn over the stick, cancelling their own (a
    pure blue stick keeps so little luma that it turns black)."""
    return _sample(classes.by_bright, points, False) & \
        (_sample(classes.luma, points, 0.0) >= _STICK_LUMA * _BODY_YCC[limb, 0])


_DARK_STICK_LUMA = 50.0
_DARK_LIMBS = tuple(limb for limb in range(len(DRAWN_LIMBS)) if _DIMMED * _BODY_YCC[limb, 0] < _DARK_STICK_LUMA)
"""Limbs whose dimmed colour keeps so little luma that the stick turns black where JPEG cancels its chroma."""
_SEAM_MIN_OWN = 0.4
"""Black on such a seam is forgiven only to a stick that shows its own colour on this fraction of its
samples: a stick that is not there, reaching across a real one and the dark stick beside it, shows less."""


def _dark_cover(limb: np.ndarray, by_bright: np.ndarray) -> np.ndarray:
    """Per pixel, the latest-drawn dark limb whose stick pixels (away from bright dots) touch it, -1 if none.

    Where a dark blue stick covers a stick of a far-off hue, JPEG's shared chroma cancels, and the dark
    stick's edge keeps only its own small luma (pure blue's 17): black. A blurred blue hand dot's rim takes
    the stick's colour too, hence not beside bright pixels."""
    dark = np.isin(limb, _DARK_LIMBS) & ~by_bright
    shifted = np.where(dark, limb + 1, 0).astype(np.uint8)
    return (cv2.dilate(shifted, np.ones((3, 3), np.uint8)).astype(np.int16) - 1).astype(np.int8)


def _points_between(start: np.ndarray, end: np.ndarray, count: int) -> np.ndarray:
    """``count`` evenly spaced points strictly between each start and end (n x 2 each): n x count x 2."""
    fractions = np.linspace(0.0, 1.0, count + 2)[1:-1]
    return start[:, None, :] + fractions[None, :, None] * (end - start)[:, None, :]


def _dark_lines(start: np.ndarray, end: np.ndarray, black: np.ndarray, count: int = 7) -> np.ndarray:
    """How many of ``count`` points strictly between each start and end are black (n)."""
    line = _points_between(start, end, count)
    return _sample(black, line.reshape(-1, 2), False).reshape(len(start), -1).sum(axis=1)


def _limb_links(joints: _Joints, classes: _Classes, dots: _Dots, scale: float) -> List[_Link]:
    """Every pair of readings that a drawn limb may join, scored by the stick between them.

    The stick is sampled where the renderer's ellipse shows between the two dots (with the reference's
    stick width: thicker xinsir sticks contain it). It must be mostly the limb's dimmed colour and
    (almost) never black. Dots too close for the stick to show (touching, or only a sliver between them)
    are joined at a lower score when there is no black between them (on the line between touching dots:
    JPEG rings their sliver of dark stick black): other limbs when their colour shows
    on the line between the dots, head dots on that alone. A head's short sticks hide under its dots, and
    in JPEG they take the hue of the five neighbouring-coloured dots around them, so close head dots are
    joined this way even when their stick shows but reads as a neighbouring colour. Readings that fit
    their dot's colour better score more (see ``_FIT_BONUS``)."""
    links: List[_Link] = []
    margin = max(0.75, 0.5 * scale)
    half_width = STICK_WIDTH * scale
    touching = 2.0 * dots.radius + 2.0 * scale      # dots this close hide their stick
    near = 2.0 * dots.radius + 6.0 * scale          # ... and this close show only a sliver of it
    black = classes.black
    for limb, (part_a, part_b) in enumerate(DRAWN_LIMBS):
        first = np.flatnonzero(joints.part == part_a)
        second = np.flatnonzero(joints.part == part_b)
        if len(first) == 0 or len(second) == 0:
            continue
        i, j = (grid.ravel() for grid in np.meshgrid(first, second, indexing="ij"))
        keep = joints.dot[i] != joints.dot[j]
        i, j = i[keep], j[keep]
        if len(i) == 0:
            continue
        # quick rejection: black on the straight line between the centres means no stick
        dark = _dark_lines(joints.xy[i], joints.xy[j], black)
        for a, b in zip(i[dark <= 2], j[dark <= 2]):
            point_a, point_b = joints.xy[a], joints.xy[b]
            # how well each dot's colour fits the reading; readings placed at stick ends (score 0) come
            # after every reading of a found dot
            bonus = _FIT_BONUS * (joints.score[a] + joints.score[b])
            virtual = joints.score[a] <= 0 or joints.score[b] <= 0
            if virtual and not (joints.primary[a] or joints.primary[b]):
                continue      # a hidden joint is joined only to a dot's best reading
            bonus -= 1.0 * virtual
            score, total, own, rival, dark_count = _stick_support(point_a, point_b, limb, classes, black, half_width,
                                                                  dots.radius, margin)
            if score is not None:
                links.append(_Link(score + bonus, int(a), int(b)))
                continue
            gap = float(np.hypot(*(point_b - point_a)))
            if (gap <= touching or total < _FEW_SAMPLES or limb in _HEAD_LIMBS) and gap <= near \
                    and (dark_count == 0 or gap <= touching) \
                    and not virtual:
                core = point_a + np.linspace(0.0, 1.0, max(int(2 * gap), 2) + 1)[:, None] * (point_b - point_a)
                if _sample(black, core, False).any():
                    continue
                if limb in _HEAD_LIMBS:
                    # what little of the stick shows between the dots still votes
                    shown = (own - rival) / (total + 2.0)
                    links.append(_Link(_TOUCHING_SCORE + 0.2 * shown + bonus, int(a), int(b)))
                elif _line_shows(core, limb, classes) and _shows_wide(core, limb, classes, 0.5 * half_width):
                    links.append(_Link(_TOUCHING_SCORE + bonus, int(a), int(b)))
    return _without_partial_sticks(links, joints, classes, dots.radius, scale)


def _without_partial_sticks(links: List[_Link], joints: _Joints, classes: _Classes, radius: float,
                            scale: float) -> List[_Link]:
    """Drop a link that ends on a dot lying on a longer stick of the same limb from the same joint when the
    limb's colour goes on past that dot, and the far dot is strong enough to stand alone and joined by
    nothing else (hidden joints, and the dot on the stick, aside): the dot on the stick, another person's
    joint, is only drawn over it, and the stick goes on to the joint's true partner."""
    half_width = STICK_WIDTH * scale
    joined: Dict[int, set] = {}
    for link in links:
        if link.score > 0 and min(joints.score[link.first], joints.score[link.second]) > 0:
            first, second = int(joints.dot[link.first]), int(joints.dot[link.second])
            joined.setdefault(first, set()).add(second)
            joined.setdefault(second, set()).add(first)
    ends: Dict[Tuple[int, int], List[Tuple[int, int]]] = {}
    for number, link in enumerate(links):
        for near, far in ((link.first, link.second), (link.second, link.first)):
            ends.setdefault((near, int(joints.part[far])), []).append((number, far))
    partial = set()
    for (near, part), others in ends.items():
        start = joints.xy[near]
        limb = _LIMB_OF[(int(joints.part[near]), part)]
        partners = [far for number, far in others if links[number].score > 0
                    and joints.score[far] >= _LONE_DOT_FRACTION[1]]
        for number, far in others:
            on_top = {int(joints.dot[near]), int(joints.dot[far])}
            if any(_on_stick(joints.xy[far], start, joints.xy[partner], half_width)
                   and joined.get(int(joints.dot[partner]), set()) <= on_top for partner in partners) \
                    and _stick_goes_on(start, joints.xy[far], limb, classes, radius, scale):
                partial.add(number)
    return [link for number, link in enumerate(links) if number not in partial]


def _on_stick(point: np.ndarray, start: np.ndarray, end: np.ndarray, half_width: float) -> bool:
    """Whether ``point`` lies on the middle line of the stick from ``start`` to ``end``, short of ``end``."""
    length, along, across = _directions(start, end)
    offset = point - start
    return float(np.hypot(*offset)) < length and float(offset @ along) > 0 \
        and abs(float(offset @ across)) <= 0.5 * half_width


def _crossing(samples: np.ndarray, start: np.ndarray, end: np.ndarray, limb: int, classes: _Classes,
              half_width: float, margin: float) -> np.ndarray:
    """Which stick samples show ``limb``'s colour that goes on just outside the stick on either side
    (the samples' projections moved out across it): a stick of that limb crossing over it."""
    colour = _sample(classes.limb, samples, -1) == limb
    if not colour.any():
        return colour
    _, _, across = _directions(start, end)
    centre = samples - ((samples - start) @ across)[:, None] * across
    reach = half_width + 2.0 * margin
    outside = [_sample(classes.limb, centre + side * reach * across, -1) == limb for side in (-1.0, 1.0)]
    return colour & (outside[0] | outside[1])


def _limb_colour_counts(colours: np.ndarray, limb: int) -> Tuple[int, int]:
    """How many of the sampled limb ``colours`` (see :attr:`_Classes.limb`) are the limb's own, and how
    many the commoner of its two neighbours round the wheel."""
    counts = np.bincount(colours + 1, minlength=NUM_BODY + 1)[1:]
    return int(counts[limb]), int(max(counts[(limb - 1) % NUM_BODY], counts[(limb + 1) % NUM_BODY]))


def _line_shows(line: np.ndarray, limb: int, classes: _Classes) -> bool:
    """Whether the limb's colour shows on the straight line between two close dots more than either
    neighbouring colour (a body stick is too wide to hide under two dots that do not touch)."""
    own, rival = _limb_colour_counts(_sample(classes.limb, line, -1), limb)
    return own > rival


def _shows_wide(line: np.ndarray, limb: int, classes: _Classes, offset: float) -> bool:
    """Whether the limb's colour also shows on a line ``offset`` to one side of ``line``: a body stick is
    wide, a hand line between two hand dots (which hand lines colour in every hue) is thin."""
    _, _, across = _directions(line[0], line[-1])
    return any(_line_shows(line + side * offset * across, limb, classes) for side in (-1.0, 1.0))


_RING = np.stack([np.cos(np.linspace(0, 2 * np.pi, 16, endpoint=False)),
                  np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False))], axis=1)
"""16 unit directions: a ring of samples around a dot."""


def _assemble(joints: _Joints, links: List[_Link], radius: float, lone: float, black: np.ndarray,
              named: np.ndarray) -> List[List[int]]:
    """Join readings along links, best first (Kruskal-style), never putting two readings of one part in a
    person and never using two readings of one dot (a hidden joint placed by a stick end may share its
    dot). Dots left unlinked become one-point groups of their best colour when their evidence reaches
    ``lone`` (or, with no other dot near, ``_APART_LONE_FRACTION`` for a dot on ``black`` and
    ``_MIN_DOT_FRACTION`` for a reading its core colour names: see :func:`_named_alone`)."""
    count = len(joints)
    owner = list(range(count))
    members: Dict[int, List[int]] = {index: [index] for index in range(count)}
    held: Dict[int, set] = {index: {int(joints.part[index])} for index in range(count)}
    claimed: Dict[int, int] = {}

    def find(index: int) -> int:
        while owner[index] != index:
            owner[index] = owner[owner[index]]
            index = owner[index]
        return index

    # a reading placed by a stick end (score 0) is a joint hidden under that dot: it neither needs nor
    # takes the dot
    hidden = joints.score <= 0
    for link in sorted(links, key=lambda link: -link.score):
        ends = [end for end in (link.first, link.second) if not hidden[end]]
        if any(claimed.get(int(joints.dot[end]), end) != end for end in ends):
            continue
        a, b = find(link.first), find(link.second)
        if a == b or held[a] & held[b]:
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        owner[b] = a
        members[a].extend(members.pop(b))
        held[a] |= held.pop(b)
        for end in ends:
            claimed[int(joints.dot[end])] = end
    # a group must hold two readings of found dots (a dot joined only to a hidden joint stands alone), and
    # not only echoes of a larger group's dots
    joined = list(members.values())
    echoes = _echo_groups(joined, joints, radius)
    groups, claimed = [], dict(claimed)
    for number, group in enumerate(joined):
        if sum(1 for index in group if not hidden[index]) >= 2 and number not in echoes:
            groups.append(group)
        else:
            for index in group:
                if claimed.get(int(joints.dot[index])) == index:
                    del claimed[int(joints.dot[index])]
    used = joints.xy[list(claimed.values())] if claimed else np.zeros((0, 2))
    best = {int(dot): score for dot, score, primary in zip(joints.dot, joints.score, joints.primary) if primary}
    ambiguous = {int(dot) for dot, score, primary in zip(joints.dot, joints.score, joints.primary)
                 if not primary and score >= 0.75 * best.get(int(dot), 0.0) and score > 0}
    centres = joints.xy[joints.primary]
    for index in np.flatnonzero(joints.primary):
        dot = int(joints.dot[index])
        # a blend of two touching dots needs a neighbour, a crumb of a stick the stick: a dot with no other
        # dot near stands alone more easily on black, or when its core colour names it
        alone = np.sum(np.hypot(*(centres - joints.xy[index]).T) < 2.5 * radius) <= 1
        needed = lone
        if alone and float(_sample(black, joints.xy[index] + (radius + 2.0) * _RING, False).mean()) >= 0.75:
            needed = min(lone, _APART_LONE_FRACTION)
        elif alone and named[index]:
            needed = min(lone, _MIN_DOT_FRACTION)
        if dot in claimed or dot in ambiguous or joints.score[index] < needed:
            continue
        # a second reading of a dot that is already part of someone, found a little apart, is not a joint;
        # a dot that shows most of its disk is (an l-ear whose eye is missing, on its own mostly hidden wrist)
        echo = joints.score[index] < _OWN_DOT_SCORE
        if echo and len(used) and (np.hypot(*(used - joints.xy[index]).T) < 0.8 * radius).any():
            continue
        groups.append([int(index)])
    return [sorted(group) for group in groups]


def _echo_groups(groups: List[List[int]], joints: _Joints, radius: float) -> set:
    """Numbers of the groups (of two found dots or more) whose found dots all lie within 0.8 radius of a
    larger group's: JPEG may find a dot a second time, a little apart and in a neighbouring hue, and the
    echoes of two joined dots join each other along the same stick."""
    found = [[index for index in group if joints.score[index] > 0] for group in groups]
    echoes, taken = set(), np.zeros((0, 2))
    for number in sorted(range(len(groups)), key=lambda number: -len(groups[number])):
        if len(found[number]) < 2:
            continue
        xy = joints.xy[found[number]]
        if len(taken) and (_pairwise(xy, taken) < 0.8 * radius).any(axis=1).all():
            echoes.add(number)
        else:
            taken = np.concatenate([taken, xy])
    return echoes


_MAX_HEAD_CHOICES = 4096
"""Head dots are relabelled together only while their readings give at most this many combinations."""
_MISFIT = 0.75
"""A head reading costs this much per unit of evidence (fraction of a dot) it has less than its dot's best
reading: colour still counts when the links decide."""


class _LinkTable:
    """The best link score between any two readings, and who links to whom."""

    def __init__(self, links: List[_Link]):
        self.score: Dict[Tuple[int, int], float] = {}
        for link in links:
            key = (min(link.first, link.second), max(link.first, link.second))
            self.score[key] = max(link.score, self.score.get(key, -np.inf))
        self.neighbours: Dict[int, List[int]] = {}
        for a, b in self.score:
            self.neighbours.setdefault(a, []).append(b)
            self.neighbours.setdefault(b, []).append(a)

    def joined(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.score

    def value(self, readings: List[int], others: Tuple[int, ...] = ()) -> float:
        """Sum of the (positive) link scores among ``readings`` and between them and ``others``."""
        total = 0.0
        for position, first in enumerate(readings):
            for second in list(readings[position + 1:]) + list(others):
                total += max(self.score.get((min(first, second), max(first, second)), 0.0), 0.0)
        return total


def _relabel_heads(groups: List[List[int]], joints: _Joints, links: List[_Link]) -> List[List[int]]:
    """Choose the readings of a person's head dots together rather than one link at a time.

    Five head dots of neighbouring purples and reds touch, and JPEG blends them: joining best link first
    may take an eye as the ear beside it (its colour is between theirs) and leave the true ear alone. For
    each person (bodies first, then heads on their own), its head dots and the head dots it reaches through
    head links (loose ones, and heads without a body) get the readings whose links sum highest, less what
    the heads they are taken from lose. Every chosen reading must be joined to the person, and the person
    keeps all of its own head dots."""
    table = _LinkTable(links)
    real = joints.score > 0
    head = np.isin(joints.part, HEAD_PARTS) & real
    best_score = np.zeros(int(joints.dot.max()) + 1 if len(joints) else 0)
    np.maximum.at(best_score, joints.dot, joints.score)
    readings_of: Dict[int, List[int]] = {}
    for index in np.flatnonzero(head):
        readings_of.setdefault(int(joints.dot[index]), []).append(int(index))
    groups = [list(group) for group in groups]
    owner = {int(joints.dot[index]): number for number, group in enumerate(groups) for index in group if real[index]}
    has_body = [any(real[index] and not head[index] for index in group) for group in groups]
    order = sorted(range(len(groups)), key=lambda number: (not has_body[number], -len(groups[number])))
    settled = set()
    for number in order:
        group = groups[number]
        if not has_body[number] and len(group) < 2:
            continue
        fixed = [index for index in group if not head[index]]
        current = [index for index in group if head[index]]
        own = {int(joints.dot[index]) for index in current}
        dots = _reachable_head_dots(group, table, readings_of, joints, owner, has_body, number, settled)
        options = [readings_of[dot] + ([] if dot in own else [None]) for dot in dots]
        if not dots or np.prod([len(option) for option in options]) > _MAX_HEAD_CHOICES:
            continue
        settled.update(dots)
        best, best_gain = None, 0.0
        base = _head_value(current, fixed, joints, table, best_score)
        for choice in itertools.product(*options):
            chosen = [index for index in choice if index is not None]
            gain = _head_value(chosen, fixed, joints, table, best_score) - base \
                - _donor_loss(chosen, groups, owner, number, joints, table)
            if gain > best_gain + 1e-9:
                best, best_gain = chosen, gain
        if best is None:
            continue
        for index in best:
            dot = int(joints.dot[index])
            previous = owner.get(dot)
            if previous is not None and previous != number:
                groups[previous] = [other for other in groups[previous] if joints.dot[other] != dot]
            owner[dot] = number
        groups[number] = sorted(fixed + best)
    return [group for group in groups if group]


def _reachable_head_dots(group: List[int], table: _LinkTable, readings_of: Dict[int, List[int]], joints: _Joints,
                         owner: Dict[int, int], has_body: List[bool], number: int, settled: set) -> List[int]:
    """Head dots joined to ``group`` through head links, passing only dots that no other body holds and
    that no earlier person settled."""
    frontier, found = list(group), []
    seen = set()
    while frontier:
        index = frontier.pop()
        for other in table.neighbours.get(index, ()):
            dot = int(joints.dot[other])
            if dot in seen or dot not in readings_of or dot in settled:
                continue
            holder = owner.get(dot)
            if holder is not None and holder != number and has_body[holder]:
                continue
            seen.add(dot)
            found.append(dot)
            frontier.extend(readings_of[dot])
    return sorted(found)


def _head_value(chosen: List[int], fixed: List[int], joints: _Joints, table: _LinkTable,
                best_score: np.ndarray) -> float:
    """Link scores among ``chosen`` head readings and between them and the person's ``fixed`` readings,
    less how much worse each chosen reading fits its dot than the dot's best one; -inf when a part repeats
    or a chosen reading is not joined to the person."""
    parts = [int(joints.part[index]) for index in fixed + chosen]
    if len(set(parts)) < len(parts):
        return -np.inf
    joined = set(fixed) if fixed else set(chosen[:1])
    pending = [index for index in chosen if index not in joined]
    grew = True
    while pending and grew:
        grew = False
        for index in list(pending):
            if any(table.joined(index, other) for other in joined):
                joined.add(index)
                pending.remove(index)
                grew = True
    if pending:
        return -np.inf
    misfit = float(np.sum(best_score[joints.dot[chosen]] - joints.score[chosen]))
    return table.value(chosen, tuple(fixed)) - _MISFIT * misfit


def _donor_loss(chosen: List[int], groups: List[List[int]], owner: Dict[int, int], number: int, joints: _Joints,
                table: _LinkTable) -> float:
    """What the other groups whose dots ``chosen`` takes lose in link scores."""
    taken: Dict[int, set] = {}
    for index in chosen:
        dot = int(joints.dot[index])
        if owner.get(dot, number) != number:
            taken.setdefault(owner[dot], set()).add(dot)
    loss = 0.0
    for donor, dots in taken.items():
        kept = [index for index in groups[donor] if int(joints.dot[index]) not in dots]
        loss += table.value(groups[donor]) - table.value(kept)
    return loss


_STRONG = 0.5
"""Evidence (fraction of a dot) with which a lone dot in a JPEG map from 0.62x up is its own joint, even
where a stick end put a hidden joint on it."""


def _settle_hidden(groups: List[List[int]], joints: _Joints, trusted: Container[int],
                   strong: float = np.inf) -> Tuple[List[List[int]], set]:
    """A joint hidden under another joint's dot (a reading placed by a stick end) joined its person, but
    its place is unknown when that dot shows as a joint itself. A dot standing alone by its colour is that
    joint when its part is ``trusted``: every part where colours are reliable. In shrunk JPEG maps the
    stick that put a hidden joint on the dot is the better witness, and the lone reading goes; near the
    drawn size ears still stand (an ear's only stick, to its eye, hides under the head dots, so ears often
    stand alone, and an arm ending by a head puts hidden joints on them), and so does a dot with ``strong``
    evidence unless it is blue, the hand dots' colour (a body's wrist hides under its hand's wrist dot).
    Returns the groups kept and the dots that show."""
    hidden = joints.score <= 0
    hidden_on = {int(joints.dot[index]) for group in groups if len(group) > 1 for index in group if hidden[index]}

    def standing(group: List[int]) -> bool:
        part = int(joints.part[group[0]])
        return len(group) > 1 or part in trusted or joints.score[group[0]] >= strong and part not in _BLUE_LEG

    groups = [group for group in groups if standing(group) or int(joints.dot[group[0]]) not in hidden_on]
    shown = {int(joints.dot[index]) for group in groups if standing(group) for index in group if not hidden[index]}
    return groups, shown


# ---- public ------------------------------------------------------------------------------------------

def pose_from_skeleton_image(image_rgb: np.ndarray, *, hands: bool = True, face: bool = True) -> PoseFrame:
    """Read an OpenPose control map (RGB, black background, standard colours) back into a PoseFrame.

    The frame's canvas is the image size; points are in its pixels with confidence 1.0. ``hands`` and
    ``face`` choose whether hand and face points are recovered. See the module docstring for the method.
    Raises ``ImageError`` for an image that is not mostly black background (a photo, say).
    """
    image = _as_rgb(image_rgb)
    height, width = image.shape[:2]
    classes = _classify(image)
    _require_background(classes)
    exact = _exact_colours(image)
    sx, sy = _dot_scale(classes, exact)
    dots = _Dots.make(sx, sy)
    scale = 0.5 * (sx + sy)
    # drawn at this size (then maybe JPEG-compressed): dots are disks centred on whole pixels
    native = max(abs(sx - 1.0), abs(sy - 1.0)) < (0.1 if exact else 0.06)

    # body: dots and their readings, readings implied by sticks, links, people
    palette_part = _palette_parts(image) if exact and scale >= _WHOLE_DOTS else None
    joint = _joint_weight(classes, scale, exact)
    joints, faint = _find_joints(classes, joint, dots, exact, palette_part, exact or scale >= _SMALL_JPEG)
    blue = _find_blue_dots(classes, joint, dots)[:, :2]     # hand dots, left knees
    small_jpeg = not exact and scale < _SMALL_JPEG
    image_ycc = None if exact else image.astype(np.float32) @ _YCBCR.T.astype(np.float32)
    if small_jpeg:
        joints = _recolour(joints, image_ycc, dots.radius, scale)
        joints = _add_unseen_dots(joints, classes, joint, image_ycc, dots, scale)
        joints = _add_faint_dots(joints, faint, blue, image_ycc, dots.radius, scale)
    if native:
        joints.xy = np.rint(joints.xy)
    joints = _stick_ends(joints, classes, dots, scale)
    # JPEG heads: readings one hue step off, for the head search only
    colour_readings = len(joints)
    if not exact:
        joints = _neighbouring_head_readings(joints, classes, dots.radius)
    points, parts = joints.xy, joints.part
    links = _limb_links(joints, classes, dots, scale)
    colour_links = [link for link in links if max(link.first, link.second) < colour_readings]
    named = _named_alone(joints, image_ycc, blue, dots.radius, scale) if not exact and scale >= _SMALL_DOTS \
        else np.zeros(len(joints), bool)
    groups = _assemble(joints, colour_links, dots.radius, _LONE_DOT_FRACTION[0] if exact else _LONE_DOT_FRACTION[1],
                       classes.black, named)
    groups = _relabel_heads(groups, _luma_weighed_heads(joints, classes.luma, dots.radius)
                            if not exact and scale >= _SMALL_JPEG else joints, links)
    trusted = range(NUM_BODY) if not small_jpeg else frozenset(_EARS) if scale >= _SMALL_DOTS else ()
    strong = _STRONG if small_jpeg and scale >= _SMALL_DOTS else np.inf
    groups, shown = _settle_hidden(groups, joints, trusted, strong)

    # blue is the hand dots' colour; JPEG moves the hue of small dots a colour step either way
    blue_like = (_BLUE,) if exact else tuple(sorted(_BLUE_LEG))
    bodies, lone_blue = [], []
    for group in groups:
        body = np.full((NUM_BODY, 2), np.nan)
        for index in group:
            if joints.score[index] <= 0 and int(joints.dot[index]) in shown:
                continue
            body[parts[index]] = points[index]
        (lone_blue if len(group) == 1 and parts[group[0]] in blue_like else bodies).append(body)
    bodies = _adopt_ears(bodies)
    redraw = None if exact else Redraw(image, scale)
    if redraw is not None:
        bodies = refit(redraw, bodies, rename_noses=scale < _SMALL_DOTS)

    # hands: blue dots that are not bodies' (blue-like) joints, joined by the thin coloured hand lines
    if redraw is not None:
        bodies = _drop_hand_pieces(bodies, blue, blue_like, classes, dots, scale)
        # a limb dot by a hand may be a blurred hand dot or line of its hue
        loose = joints.primary & (joints.score > 0) & (np.isin(joints.part, HEAD_PARTS) |
                                                        ~_by_hand(joints.xy, blue, dots.radius))
        loose_dots = [(int(joints.part[index]), joints.xy[index]) for index in np.flatnonzero(loose)]
        bodies = add_missing_joints(redraw, bodies, loose_dots, stick_ends=scale < _SMALL_DOTS)
        if scale >= _SMALL_DOTS:
            bodies = _centre_by_luma(bodies, classes, joint, dots, native)
    taken = np.array([body[part] for body in bodies for part in blue_like
                      if not np.isnan(body[part, 0])]).reshape(-1, 2)
    if len(taken) and len(blue):
        blue = blue[np.min(_pairwise(blue, taken), axis=1) > 0.6 * dots.radius]
    if native:
        blue = np.rint(blue)
    hand_links = _hand_links(blue, classes, dots, scale)
    found_hands = _label_hands(blue, hand_links)
    # a lone blue dot is a left knee (with no hip and no ankle) unless it may be part of a hand: a dot of
    # a hand found, or a blue dot a few dot sizes from others (hand lines may hide under the dots)
    hand_dots = blue[sorted({index for _, used in found_hands for index in used})].reshape(-1, 2)
    for body in lone_blue:
        point = body[~np.isnan(body[:, 0])][:1]
        on_hand = len(hand_dots) and np.hypot(*(hand_dots - point).T).min() < 0.6 * dots.radius
        if not on_hand and not _by_hand(point, blue, dots.radius, own=0.6)[0]:
            bodies.append(body)

    hand_of: Dict[Tuple[int, str], np.ndarray] = {}
    if hands and found_hands:
        hand_points = [hand for hand, _ in found_hands]
        for hand, place in zip(hand_points, _attach_hands(bodies, hand_points, dots.radius, classes)):
            if place is None:
                bodies.append(np.full((NUM_BODY, 2), np.nan))
                place = ("left_hand", len(bodies) - 1)
            hand_of[(place[1], place[0])] = hand

    faces = _faces(bodies, _find_face_dots(classes, sx, sy), dots.radius) if face else {}

    if palette_part is not None and native:
        bodies = _fit_drawn_dots(bodies, palette_part, classes.black)
    if native:
        # renderers draw at int(x / W * W) (float64 for bodies, float32 for hands and face), which for a
        # whole x is sometimes x - 1: nudge points up to the next float that draws on their own pixel
        size = np.array([width, height], np.float64)
        bodies = [_drawn_on_pixel(body, size, np.float64) for body in bodies]
        hand_of = {key: _drawn_on_pixel(points, size, np.float32) for key, points in hand_of.items()}
        faces = {key: _drawn_on_pixel(np.rint(points), size, np.float32) for key, points in faces.items()}

    order = sorted(range(len(bodies)), key=lambda index: -int((~np.isnan(bodies[index][:, 0])).sum()))
    people = []
    for index in order:
        person = Person(body=_to_points(bodies[index]))
        person.face = _to_points(faces[index]) if index in faces else None
        person.left_hand = _to_points(hand_of[(index, "left_hand")]) if (index, "left_hand") in hand_of else None
        person.right_hand = _to_points(hand_of[(index, "right_hand")]) if (index, "right_hand") in hand_of else None
        people.append(person)
    return PoseFrame(people, width, height)


_MIN_BACKGROUND = 0.3
"""Maps are mostly black background (over 80 % with five people and thick sticks, shrunk and in JPEG); a
photo has almost none, and reading its thousands of colour blobs as dots would take minutes."""


def _require_background(classes: _Classes) -> None:
    share = float(classes.black.mean()) if classes.black.size else 1.0
    if share < _MIN_BACKGROUND:
        raise ImageError(f"not an OpenPose skeleton map: {share:.0%} of it is black background, where a map is "
                         f"mostly black (to find poses in a photo, detect them)")


_LUMA_MATCH = (6.0, 14.0)       # luma difference (of 255) that still counts fully / no longer counts
_LOOSE_HUE = (25.0, 40.0)       # hue difference (degrees) that still counts fully / no longer counts
_RECENTRE_REACH = 2             # pixels a joint may move


def _centre_by_luma(bodies: List[np.ndarray], classes: _Classes, joint: np.ndarray, dots: _Dots,
                    native: bool) -> List[np.ndarray]:
    """JPEG keeps luma at full resolution but smears chroma across dot edges: a dot half under a later
    dot of a neighbouring hue (an l-eye under its l-ear) reads off-centre by colour alone. Each joint is
    re-centred, within ``_RECENTRE_REACH``, on the matched filter of the pixels with its luma and (loosely)
    its hue, unless another person holds that part within 2.5 dot radii: the same colour and luma, the
    two would pull together."""
    result = []
    for index, body in enumerate(bodies):
        body = body.copy()
        for part in np.flatnonzero(~np.isnan(body[:, 0])):
            others = np.array([other[part] for number, other in enumerate(bodies) if number != index]).reshape(-1, 2)
            if not (np.hypot(*(others - body[part]).T) < 2.5 * dots.radius).any():
                body[part] = _luma_centre(int(part), body[part], classes, joint, dots, native)
        result.append(body)
    return result


def _luma_centre(part: int, point: np.ndarray, classes: _Classes, joint: np.ndarray, dots: _Dots,
                 native: bool) -> np.ndarray:
    reach = _RECENTRE_REACH
    (rows, columns), _ = _around(joint.shape, point[0], point[1], reach + dots.pad + 1)
    luma = _ramp(-np.abs(classes.luma[rows, columns] - _BODY_YCC[part, 0]), -_LUMA_MATCH[1], -_LUMA_MATCH[0])
    hue = _hue_weight(classes.hue[rows, columns], part * _BODY_HUE_STEP, *_LOOSE_HUE)
    member = joint[rows, columns] * hue * luma
    score = dots.score(member, classes.background[rows, columns])
    cx, cy = int(round(point[0])) - columns.start, int(round(point[1])) - rows.start
    top, left = max(cy - reach, 0), max(cx - reach, 0)
    window = score[top:cy + reach + 1, left:cx + reach + 1]
    if window.size == 0 or window.max() < _MIN_DOT_FRACTION * dots.area:
        return point
    y, x = np.unravel_index(int(np.argmax(window)), window.shape)
    y, x = y + top, x + left
    if not native:
        x, y = x + _vertex(score[y, max(x - 1, 0):x + 2], x > 0), y + _vertex(score[max(y - 1, 0):y + 2, x], y > 0)
    return np.array([x + columns.start, y + rows.start], np.float64)


_DRAWN_STENCIL = cv2.circle(np.zeros((9, 9), np.uint8), (4, 4), 4, 1, -1) > 0
"""A body dot as the renderer draws it at the drawn size (radius 4 about the middle pixel)."""
_DRAWN_DOT = np.argwhere(_DRAWN_STENCIL) - 4
_DOT_SLACK = 2      # pixels a dot's fitted centre may lie from the filter's


def _fit_drawn_dots(bodies: List[np.ndarray], palette_part: np.ndarray, black: np.ndarray) -> List[np.ndarray]:
    """PNG maps at the drawn size: a dot partly under later drawing is centred by the matched filter on
    its visible part, up to a pixel off. Its exact pixels pin it down: the drawn disk must hold every
    visible pixel of the dot and no black one. Of the centres near the filter's that do, the nearest wins
    (usually the only one)."""
    fitted = []
    for body in bodies:
        body = body.copy()
        for part in np.flatnonzero(~np.isnan(body[:, 0])):
            x, y = int(round(body[part, 0])), int(round(body[part, 1]))
            (rows, columns), _ = _around(palette_part.shape, x, y, _DOT_SLACK + 5)
            shown = _component_at(palette_part[rows, columns] == part, y - rows.start, x - columns.start)
            if shown is not None:
                centres = _centres_explaining(shown + (rows.start, columns.start), black, np.array([y, x]))
                if len(centres):
                    body[part] = centres[0, ::-1]
        fitted.append(body)
    return fitted


_SLACK_OFFSETS = np.array(sorted(((dy, dx) for dy in range(-_DOT_SLACK, _DOT_SLACK + 1)
                                  for dx in range(-_DOT_SLACK, _DOT_SLACK + 1)), key=lambda d: d[0] ** 2 + d[1] ** 2))


def _centres_explaining(shown: np.ndarray, black: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The (y, x) centres within the slack of ``centre``, nearest first, whose drawn dot covers every
    ``shown`` pixel and no black one."""
    centres = centre + _SLACK_OFFSETS
    offsets = shown[None, :, :] - centres[:, None, :] + 4
    within = ((offsets >= 0) & (offsets <= 8)).all(axis=2)
    covers = (within & _DRAWN_STENCIL[np.clip(offsets[..., 0], 0, 8), np.clip(offsets[..., 1], 0, 8)]).all(axis=1)
    disks = centres[:, None, :] + _DRAWN_DOT[None, :, :]
    inside = ((disks >= 0) & (disks < black.shape)).all(axis=2)
    on_black = inside & black[np.clip(disks[..., 0], 0, black.shape[0] - 1), np.clip(disks[..., 1], 0, black.shape[1] - 1)]
    return centres[covers & ~on_black.any(axis=1)]


def _component_at(mask: np.ndarray, y: int, x: int) -> Optional[np.ndarray]:
    """The (y, x) pixels of the 8-connected piece of ``mask`` nearest to (y, x), or None."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return None
    pixels = np.argwhere(labels > 0)
    nearest = pixels[np.argmin(np.hypot(*(pixels - (y, x)).T))]
    return np.argwhere(labels == labels[nearest[0], nearest[1]])


def _drop_hand_pieces(bodies: List[np.ndarray], blue: np.ndarray, blue_like: Tuple[int, ...], classes: _Classes,
                      dots: _Dots, scale: float) -> List[np.ndarray]:
    """JPEG maps: two hand dots joined by a blurred hand line (hand lines run through every hue) can pass
    for a blue shin or thigh, and a bit of hand line in a blue-like hue for its other end. A body piece
    made only of blue-like parts that sits on a hand (three points or more, found among all blue dots):
    a point on one of its dots, every point within two dot radii of them or a dot radius of its lines, is
    that hand, not a body."""
    hands = [hand for hand, used in _label_hands(blue, _hand_links(blue, classes, dots, scale)) if len(used) >= 3]
    kept = []
    for body in bodies:
        present = np.flatnonzero(~np.isnan(body[:, 0]))
        blue_only = len(present) and set(present.tolist()) <= set(blue_like)
        if blue_only and any(_sits_on(body[present], hand, dots.radius) for hand in hands):
            continue
        kept.append(body)
    return kept


def _sits_on(points: np.ndarray, hand: np.ndarray, radius: float) -> bool:
    """Whether one of ``points`` is a dot of ``hand`` (21 x 2, NaN = not found) and each lies within two
    dot radii of its dots or one of its lines."""
    nearest = np.min(_pairwise(points, hand[~np.isnan(hand[:, 0])]), axis=1)
    drawn = ~np.isnan(hand[_HAND_PARENT, 0] + hand[_HAND_CHILD, 0])
    starts, ends = hand[_HAND_PARENT[drawn]], hand[_HAND_CHILD[drawn]]
    on_line = np.array([len(starts) and _segment_distances(point, starts, ends).min() < radius for point in points])
    return bool(nearest.min() < 0.6 * radius and ((nearest < 2.0 * radius) | on_line).all())


def _segment_distances(point: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distances from ``point`` to each segment from ``starts`` to ``ends`` (n x 2 each)."""
    along = ends - starts
    length = np.maximum((along * along).sum(axis=1), 1e-9)
    fraction = np.clip(((point - starts) * along).sum(axis=1) / length, 0.0, 1.0)
    return np.hypot(*(starts + fraction[:, None] * along - point).T)


def _drawn_on_pixel(xy: np.ndarray, size: np.ndarray, dtype) -> np.ndarray:
    """The smallest values >= ``xy`` (whole pixels) that ``render`` draws on pixel ``xy``."""
    values = xy.astype(dtype)
    target = np.floor(xy)
    extent = size.astype(dtype)
    for _ in range(8):
        low = ~np.isnan(values) & (np.floor(values / extent * extent) < target)
        if not low.any():
            break
        values[low] = np.nextafter(values[low], dtype(np.inf))
    return values.astype(np.float64)


def _to_points(xy: np.ndarray) -> List[Optional[Keypoint]]:
    return [None if np.isnan(x) else Keypoint(float(x), float(y), 1.0) for x, y in xy]


_EARS = {16: (14, 2), 17: (15, 5)}
"""ear -> (eye, shoulder) of the same side."""


def _adopt_ears(bodies: List[np.ndarray]) -> List[np.ndarray]:
    """Ears have no drawn limb but the one to their eye; an ear standing alone (its eye missing or its
    stick hidden) joins the nearest person that lacks that ear, has the same side's shoulder or a nose, and
    whose head is near: within 1.5 neck-nose lengths of the nose (or 2.5 neck-shoulder lengths of the
    neck when the nose is missing, or 2.5 nose-eye/ear lengths for a head on its own)."""
    present = [~np.isnan(body[:, 0]) for body in bodies]
    lone = [index for index, mask in enumerate(present) if mask.sum() == 1 and np.flatnonzero(mask)[0] in _EARS]
    taken = set()
    for index in lone:
        ear = int(np.flatnonzero(present[index])[0])
        eye, shoulder = _EARS[ear]
        point = bodies[index][ear]
        best, best_distance = None, np.inf
        for other, body in enumerate(bodies):
            mask = present[other]
            if other == index or mask.sum() < 2 or mask[ear]:
                continue
            head, reach = _head_reach(body, mask)
            if head is None or not (mask[shoulder] or mask[0]):
                continue
            distance = float(np.hypot(*(point - head)))
            if distance <= reach and distance < best_distance:
                best, best_distance = other, distance
        if best is not None:
            bodies[best][ear] = point
            present[best][ear] = True
            taken.add(index)
    return [body for index, body in enumerate(bodies) if index not in taken]


def _head_reach(body: np.ndarray, mask: np.ndarray) -> Tuple[Optional[np.ndarray], float]:
    """Where a person's head is and how far from it an ear may be: measured from the neck and shoulders,
    or for a head without them, from its eyes and ears."""
    if mask[0] and mask[1]:
        return body[0], 1.5 * float(np.hypot(*(body[0] - body[1])))
    lengths = [float(np.hypot(*(body[1] - body[side]))) for side in (2, 5) if mask[1] and mask[side]]
    if mask[0] and lengths:
        return body[0], 1.5 * max(lengths)
    if mask[1] and lengths:
        return body[1], 2.5 * max(lengths)
    spans = [float(np.hypot(*(body[0] - body[part]))) for part in HEAD_PARTS[:-1] if mask[0] and mask[part]]
    if spans:
        return body[0], 2.5 * max(spans)
    return None, 0.0


# ---- hands -------------------------------------------------------------------------------------------

_HAND_PARENT = np.array([start for start, _ in HAND_EDGES])
_HAND_CHILD = np.array([end for _, end in HAND_EDGES])
_BLUE_HUE = 240.0


def _windowed_peaks(member: np.ndarray, background: np.ndarray, dots: "_Dots") -> np.ndarray:
    """Dot centres (x, y, score) found window by window over the regions where ``member`` is dense;
    overlapping windows may report a dot twice (callers merge them)."""
    threshold = _MIN_DOT_FRACTION * dots.area
    found = [np.zeros((0, 3))]
    for window in _regions(member, 0.5 * threshold, dots.pad):
        peaks = _peaks(dots.score(member[window], background[window]), threshold, 0.9 * dots.radius)
        peaks[:, 0] += window[1].start
        peaks[:, 1] += window[0].start
        found.append(peaks)
    return np.concatenate(found)


def _keep_apart(points: np.ndarray, order, distance: float, taken: Optional[np.ndarray] = None) -> List[int]:
    """Indices of ``points`` visited in ``order``, each kept when it is at least ``distance`` from every point
    kept before it and from every point of ``taken``: one dot per place."""
    placed = np.zeros((0, 2)) if taken is None else np.asarray(taken, np.float64).reshape(-1, 2)
    kept: List[int] = []
    for index in order:
        if len(placed) and np.min(np.hypot(*(placed - points[index]).T)) < distance:
            continue
        kept.append(int(index))
        placed = np.vstack([placed, points[index]])
    return kept


def _find_blue_dots(classes: _Classes, joint: np.ndarray, dots: _Dots) -> np.ndarray:
    """Centres (x, y, score) of blue dots: hand points, and left knees (``joint``: :func:`_joint_weight`)."""
    member = joint * _hue_weight(classes.hue, _BLUE_HUE)
    peaks = _windowed_peaks(member, classes.background, dots)
    if not len(peaks):
        return peaks
    # overlapping windows find a dot twice
    return peaks[sorted(_keep_apart(peaks[:, :2], np.argsort(-peaks[:, 2], kind="stable"), 0.9 * dots.radius))]


@dataclass
class _HandLink:
    score: float
    first: int
    second: int
    edge: int


def _hand_links(xy: np.ndarray, classes: _Classes, dots: _Dots, scale: float) -> List[_HandLink]:
    """Pairs of blue dots joined by a straight thin line of one hand-edge colour, not passing another dot."""
    count = len(xy)
    if count < 2:
        return []
    black = classes.black
    first, second = np.triu_indices(count, 1)
    start, end = xy[first], xy[second]
    gap = np.hypot(*(end - start).T)
    clear = dots.radius + max(0.75, 0.5 * scale)
    keep = gap > 2 * clear
    # quick rejection: black anywhere on the line (hand lines are only ~3 px wide)
    fractions = np.linspace(0.0, 1.0, 13)[1:-1]
    line = start[:, None, :] + fractions[None, :, None] * (end - start)[:, None, :]
    dark = _sample(black, line.reshape(-1, 2), False).reshape(len(first), -1)
    keep &= dark.sum(axis=1) == 0
    links: List[_HandLink] = []
    for a, b, length in zip(first[keep], second[keep], gap[keep]):
        direction = (xy[b] - xy[a]) / length
        # another dot on the way means this is two edges, not one
        offsets = xy - xy[a]
        along = offsets @ direction
        across = np.abs(offsets @ np.array([-direction[1], direction[0]]))
        between = (along > 0.5 * dots.radius) & (along < length - 0.5 * dots.radius) & (across < 0.8 * dots.radius)
        between[[a, b]] = False
        if between.any():
            continue
        steps = np.arange(clear, length - clear + 1e-9, 0.5)
        if len(steps) == 0:
            continue
        samples = xy[a] + steps[:, None] * direction
        colours = _sample(classes.hand, samples, -1)
        dark_count = int(_sample(black, samples, False).sum())
        valid = colours[colours >= 0]
        if len(valid) == 0 or dark_count > 0.1 * len(samples):
            continue
        tally = np.bincount(valid, minlength=len(HAND_EDGES))
        edge = int(np.argmax(tally))
        if tally[edge] < 0.5 * len(samples):
            continue
        links.append(_HandLink(tally[edge] / (len(samples) + 3.0), int(a), int(b), edge))
    return links


def _label_hands(xy: np.ndarray, links: List[_HandLink]) -> List[Tuple[np.ndarray, List[int]]]:
    """Hands (21 x 2, NaN = not found) and the dots they use, from the coloured links between dots.

    Links are taken best first and kept only while every dot of a hand can still be one hand point:
    the points an edge joins are fixed by its colour, so a dot touching two edges of different colours
    is the point they share (the wrist touches edges 0, 4, 8, 12 and 16), and labels spread along the
    edges from there. An edge whose two dots touch nothing else is oriented with its parent nearer the
    hand's wrist."""
    owner = list(range(len(xy)))

    def find(index: int) -> int:
        while owner[index] != index:
            owner[index] = owner[owner[index]]
            index = owner[index]
        return index

    accepted: Dict[int, List[_HandLink]] = {}
    for link in sorted(links, key=lambda link: -link.score):
        a, b = find(link.first), find(link.second)
        group = (accepted.get(a, []) + (accepted.get(b, []) if a != b else [])) + [link]
        if any(existing.edge == link.edge for existing in group[:-1]) or _hand_labels(xy, group) is None:
            continue
        owner[b] = a
        accepted.pop(b, None)
        accepted[a] = group
    pieces = []
    for group in accepted.values():
        labels = _hand_labels(xy, group)
        hand = np.full((NUM_HAND, 2), np.nan)
        for dot, label in labels.items():
            hand[label] = xy[dot]
        pieces.append((hand, sorted(labels)))
    return _join_pieces(pieces)


def _join_pieces(pieces: List[Tuple[np.ndarray, List[int]]]) -> List[Tuple[np.ndarray, List[int]]]:
    """A finger whose link to the palm is hidden comes out as a piece of its own: put each piece without
    a wrist into the nearest hand (with a wrist) that lacks all its points and is within the hand's size."""
    pieces.sort(key=lambda piece: -len(piece[1]))
    hands = [piece for piece in pieces if not np.isnan(piece[0][0, 0])]
    rest = [piece for piece in pieces if np.isnan(piece[0][0, 0])]
    for hand_points, dots in rest:
        present = ~np.isnan(hand_points[:, 0])
        best, best_distance = None, np.inf
        for index, (hand, _) in enumerate(hands):
            have = ~np.isnan(hand[:, 0])
            if (have & present).any():
                continue
            span = float(np.max(np.hypot(*(hand[have] - hand[have][0]).T)))
            distance = float(np.min(_pairwise(hand_points[present], hand[have])))
            if distance <= max(span, 1.0) and distance < best_distance:
                best, best_distance = index, distance
        if best is None:
            hands.append((hand_points, dots))
        else:
            hand, used = hands[best]
            hand[present] = hand_points[present]
            hands[best] = (hand, sorted(used + dots))
    return hands


def _hand_labels(xy: np.ndarray, group: List[_HandLink]) -> Optional[Dict[int, int]]:
    """dot -> hand point for a set of links, or None when they cannot all hold in one hand."""
    options: Dict[int, set] = {}
    for link in group:
        pair = {int(_HAND_PARENT[link.edge]), int(_HAND_CHILD[link.edge])}
        for dot in (link.first, link.second):
            options[dot] = options[dot] & pair if dot in options else set(pair)
            if not options[dot]:
                return None
    labels = {dot: next(iter(choice)) for dot, choice in options.items() if len(choice) == 1}
    pending = [link for link in group]
    while pending:
        progress = False
        for link in list(pending):
            parent, child = int(_HAND_PARENT[link.edge]), int(_HAND_CHILD[link.edge])
            a, b = labels.get(link.first), labels.get(link.second)
            if a is None and b is None:
                continue
            if a is None:
                labels[link.first] = parent if b == child else child
            elif b is None:
                labels[link.second] = parent if a == child else child
            if {labels[link.first], labels[link.second]} != {parent, child}:
                return None
            pending.remove(link)
            progress = True
        if not progress:
            # an edge on its own: its parent is the end nearer the wrist (or the hand's middle)
            link = pending[0]
            wrist = next((xy[dot] for dot, label in labels.items() if label == 0), None)
            if wrist is None:
                wrist = np.mean([xy[dot] for dot in options], axis=0)
            parent, child = int(_HAND_PARENT[link.edge]), int(_HAND_CHILD[link.edge])
            nearer = np.hypot(*(xy[link.first] - wrist)) <= np.hypot(*(xy[link.second] - wrist))
            labels[link.first], labels[link.second] = (parent, child) if nearer else (child, parent)
    if len(set(labels.values())) != len(labels):
        return None
    return labels


def _attach_hands(bodies: List[np.ndarray], hands: List[np.ndarray], radius: float, classes: _Classes):
    """(side, person) per hand: to the nearest wrist (right wrist -> right hand), else the nearest
    elbow whose forearm's colour shows on the way to the hand, within reach of the hand's size; None when
    no person is near."""
    choices = []
    for index, hand in enumerate(hands):
        present = ~np.isnan(hand[:, 0])
        anchor = hand[0] if present[0] else np.nanmean(hand, axis=0)
        span = float(np.nanmax(np.hypot(*(hand[present] - anchor).T))) if present.any() else 0.0
        for person, body in enumerate(bodies):
            # a hand's wrist point lies on (or next to) the body's wrist; with the wrist missing, the
            # forearm reaches from the elbow
            for part, side, reach, weight in ((4, "right_hand", 0.25 * span + 4 * radius, 1.0),
                                              (7, "left_hand", 0.25 * span + 4 * radius, 1.0),
                                              (3, "right_hand", 2 * span + 6 * radius, 2.0),
                                              (6, "left_hand", 2 * span + 6 * radius, 2.0)):
                if np.isnan(body[part, 0]):
                    continue
                distance = float(np.hypot(*(body[part] - anchor)))
                if part in (3, 6) and not _line_shows(_points_between(body[part][None], anchor[None], 9)[0],
                                                      _LIMB_OF[(part, part + 1)], classes):
                    continue        # the elbow's forearm leads elsewhere (the wrist hides under a hand dot)
                if distance <= reach:
                    choices.append((weight * distance, index, person, side))
    result: List[Optional[Tuple[str, int]]] = [None] * len(hands)
    used = set()
    for _, index, person, side in sorted(choices):
        if result[index] is None and (person, side) not in used:
            result[index] = (side, person)
            used.add((person, side))
    return result


# ---- face ---------------------------------------------------------------------------------------------

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


def _find_face_dots(classes: _Classes, sx: float, sy: float) -> np.ndarray:
    dots = _Dots.make(sx, sy, _FACE_DISK_AREA)
    member = _white_weight(classes)
    points = _windowed_peaks(member, classes.background, dots)[:, :2]
    if not len(points):
        return points
    return points[_keep_apart(points, range(len(points)), 0.9 * dots.radius)]


def _faces(bodies: List[np.ndarray], points: np.ndarray, radius: float) -> Dict[int, np.ndarray]:
    """person -> 70 x 2 face: white dots go to the nearest head (nose, eyes, ears; else neck) within reach
    and are put in landmark order by fitting the mean face to them (similarity transform + optimal
    matching, a few rounds)."""
    from .edit import min_cost_assignment

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
        options = [(float(np.nanmin(_pairwise(body, rest))), person)
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


def _as_rgb(image) -> np.ndarray:
    """RGB uint8 from what the library accepts; transparency means background, so RGBA (and LA, PA)
    is composited over black rather than the library's usual white."""
    if hasattr(image, "mode") and hasattr(image, "convert") and image.mode in ("RGBA", "LA", "PA", "P"):
        image = np.asarray(image.convert("RGBA"))
    array = image
    if isinstance(array, np.ndarray) and array.ndim == 3 and array.shape[2] in (2, 4):
        if np.issubdtype(array.dtype, np.integer):
            full = float(np.iinfo(array.dtype).max)
        else:
            full = 1.0 if array.max(initial=0) <= 1.0 else 255.0
        composite = array[..., :-1].astype(np.float64) * (array[..., -1:].astype(np.float64) / full)
        array = np.rint(composite).astype(array.dtype) if np.issubdtype(array.dtype, np.integer) else composite
    return as_rgb_uint8(array, "skeleton image")
