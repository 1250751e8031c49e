"""What a pixel of a skeleton map looks like: hue classes, joint and face-dot weights, luma, the palette,
and the map kinds (exact PNG colours or JPEG, shrunk or not) that the other steps adapt to."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np

from ..image import UNIT_FLOAT_MAX, ImageError, as_rgb_uint8
from ..pose import HAND_EDGES, NUM_BODY
from ..render import BODY_COLORS, DRAWN_LIMBS, HAND_EDGE_COLORS, LIMB_COLORS
from .geometry import window_around


BODY_HUE_STEP = 360.0 / NUM_BODY          # 20 degrees between body colours
NEXT_HUES = {part: ((part - 1) % NUM_BODY, (part + 1) % NUM_BODY) for part in range(NUM_BODY)}
"""The body parts whose colours lie one hue step either side of each part's (what JPEG confuses it with)."""
_HAND_HUE_STEP = 360.0 / len(HAND_EDGES)  # 18 degrees between hand-edge colours
BLUE = 12                                 # body colour 12 (left knee) is also the hand-dot colour

DIMMED = 0.6                              # limbs are drawn at 0.6 of their colour (render.LIMB_COLORS)
_LIMB_VALUE = (0.35, 0.78)                # limbs are drawn at V = 0.6, joints at V = 1
MIN_SATURATION = 0.4


@dataclass
class Classes:
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


def ramp(values: np.ndarray, zero: float, one: float) -> np.ndarray:
    return np.clip((values - zero) / (one - zero), 0.0, 1.0).astype(np.float32)


def hue_weight(hue: np.ndarray, centre: float, full: float = 10.0, zero: float = 20.0) -> np.ndarray:
    """1 within ``full`` degrees of ``centre`` (by default half-way to the next colour), 0 from ``zero``
    (the next colour). JPEG moves the hue of small dots by up to ~20 degrees toward what is under and
    beside them."""
    distance = np.abs((hue - centre + 180.0) % 360.0 - 180.0)
    return ramp(-distance, -zero, -full)


def classify(image: np.ndarray) -> Classes:
    hsv = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    hue, saturation, value = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    colourful = saturation >= MIN_SATURATION
    body_index = (np.rint(hue / BODY_HUE_STEP).astype(np.int16) % NUM_BODY).astype(np.int8)
    hand_index = (np.rint(hue / _HAND_HUE_STEP).astype(np.int16) % len(HAND_EDGES)).astype(np.int8)
    limb = np.where(colourful & (value >= _LIMB_VALUE[0]) & (value < _LIMB_VALUE[1]), body_index, np.int8(-1))
    hand = np.where(colourful & (value >= 0.45), hand_index, np.int8(-1))
    background = ramp(-value, -0.3, -0.15)
    luma = image.astype(np.float32) @ YCBCR[0].astype(np.float32)
    by_bright = cv2.dilate((value >= 0.7).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return Classes(hue, saturation, value, limb, hand, background, background > 0.5, luma, by_bright,
                   _dark_cover(limb, by_bright))


SMALL_DOTS = 0.63
"""JPEG dots shrunk below this scale lose brightness and colour to blur and chroma subsampling. It compares
with the measured :func:`dots.dot_scale`, which comes in steps of a pixel of dot area: one in twelve maps
shrunk to 0.6x measures 0.6227, which at 0.62 was read as large dots (losing faint dots). The next steps
(0.64, 0.65) are as common at 0.65x, where reading them as small dots mended as many maps as it broke."""


def joint_weight(classes: Classes, scale: float, exact: bool = False) -> np.ndarray:
    """0..1: how much a pixel looks like a full-colour (joint) pixel, whatever its hue.

    Limbs are drawn at V = 0.6 and stay below ~0.7 even in JPEG; joints are drawn at V = 1, but a JPEG
    dot shrunk below ~0.6x loses brightness to blur and chroma subsampling (blue dots keep only ~0.7-0.8),
    so small dots are accepted from a lower value there. Resized maps without JPEG keep their dots'
    middles at full value, and the higher threshold keeps a dot on a stick of its own hue apart from it."""
    low, high = (0.55, 0.72) if scale < SMALL_DOTS and not exact else (0.62, 0.76)
    return ramp(classes.value, low, high) * ramp(classes.saturation, 0.35, 0.6)


def white_weight(classes: Classes) -> np.ndarray:
    """0..1: how much a pixel looks like a (white) face dot."""
    return ramp(classes.value, 0.6, 0.75) * ramp(-classes.saturation, -0.35, -0.2)


def _packed(image: np.ndarray) -> np.ndarray:
    """Each pixel's RGB as one int32 (0xRRGGBB)."""
    return (image[..., 0].astype(np.int32) << 16) | (image[..., 1].astype(np.int32) << 8) | image[..., 2]


def palette_share(image: np.ndarray) -> float:
    """The share of the drawn pixels that keep an exact palette colour. It tells a PNG map, maybe resized,
    from a JPEG one (``EXACT_SHARE``), and a map drawn or resized by sampling pixels (``CRISP_SHARE``):
    resizing that blends (area, linear, cubic) leaves only about half to 90 % exact, on the rims of dots
    and sticks (cubic at 0.75x: ~0.5, linear: ~0.75); nearest-neighbour sampling keeps every one; after
    JPEG almost none stay (~0.5 % at quality 75, ~2 % at 95)."""
    drawn = _packed(image)[image.max(axis=2) >= 64]
    return float(np.isin(drawn, _PALETTE).mean()) if drawn.size else 1.0


EXACT_SHARE = 0.2
CRISP_SHARE = 0.99


_PALETTE = np.array(sorted({(r << 16) | (g << 8) | b for r, g, b in
                            BODY_COLORS + LIMB_COLORS + HAND_EDGE_COLORS + ((255, 255, 255),)}), np.int32)


WHOLE_DOTS = 0.9
"""From about the drawn size up, the middle of a visible dot keeps its palette colour exactly under any
interpolation (smaller, cubic ringing reaches the middle of a 4-5 px dot)."""


def palette_parts(image: np.ndarray) -> np.ndarray:
    """Per pixel: the body part whose joint colour it has exactly, else -1."""
    packed = _packed(image)
    result = np.full(packed.shape, -1, np.int8)
    for part, (r, g, b) in enumerate(BODY_COLORS):
        result[packed == ((r << 16) | (g << 8) | b)] = part
    return result


YCBCR = np.array([(0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312)])
"""RGB -> JPEG's Y, Cb, Cr (BT.601, full range, no offset)."""
BODY_YCC = np.array(BODY_COLORS, np.float64) @ YCBCR.T
BODY_CHROMA_ANGLE = np.degrees(np.arctan2(BODY_YCC[:, 2], BODY_YCC[:, 1]))
SMALL_JPEG = 0.9
"""Below this scale JPEG's half-resolution chroma visibly blends a dot with its surroundings; at the drawn
size the hue of a dot stays within ~4 degrees of its colour and the plain hue filters suffice."""


def dark_blue_weight(classes: Classes, image_ycc: np.ndarray) -> np.ndarray:
    """0..1: how much a pixel looks like the middle of a small blue dot in JPEG. Blue carries almost no
    luma, so JPEG's blurred chroma leaves such a dot no brighter than its blue-ish sticks (V about 0.6);
    but its luma, kept at full resolution, stays near pure blue's, darker than any stick round it."""
    luma_off = np.abs(image_ycc[..., 0] - BODY_YCC[BLUE, 0])
    blue = hue_weight(classes.hue, BLUE * BODY_HUE_STEP)
    return blue * ramp(-luma_off, -9.0, -5.0) * ramp(classes.value, 0.3, 0.45)


def core_hue(classes: Classes, centre: np.ndarray, radius: float) -> float:
    """Mean hue (degrees) of the bright pixels at the middle of the dot at ``centre``."""
    reach = max(1.0, 0.45 * radius)
    window, distance = window_around(classes.hue.shape, centre[0], centre[1], reach)
    weight = (distance <= reach) * classes.value[window]
    angle = np.radians(classes.hue[window])
    return float(np.degrees(np.arctan2((weight * np.sin(angle)).sum(), (weight * np.cos(angle)).sum())))


OWN_LUMA_SHARE = 0.5
"""Share of a dot's core that must show its own luma for it to count as a dot, not a blend."""


def luma_shares(luma: np.ndarray, x: float, y: float, parts: Sequence[int], radius: float) -> np.ndarray:
    """Per part: the share of the core of the dot at (x, y) within ``LUMA_MATCH[0]`` of its luma."""
    window, distance = window_around(luma.shape, x, y, 0.6 * radius)
    core = luma[window][distance <= 0.6 * radius]
    if len(core) == 0:
        return np.zeros(len(parts))
    return np.mean(np.abs(core[None, :] - BODY_YCC[list(parts), 0][:, None]) <= LUMA_MATCH[0], axis=1)


def shows_own_luma(luma: np.ndarray, x: float, y: float, part: int, others: Tuple[int, int], radius: float) -> bool:
    """Whether most of the core of the dot at (x, y) has ``part``'s luma, and far fewer pixels either of
    ``others``'s: JPEG blends only chroma, so a blend of two dots keeps their lumas."""
    own, *rivals = luma_shares(luma, x, y, (part, *others), radius)
    return own >= OWN_LUMA_SHARE and own >= 2 * max(rivals)


def own_colour_share(point: np.ndarray, part: int, classes: Classes, joint: np.ndarray, radius: float) -> float:
    """How much of the disk of a dot of ``part`` at ``point`` shows that part's colour, dot-bright (``joint``:
    :func:`joint_weight`): 0 where another colour covers it, NaN where no pixel of the map lies within
    ``radius`` (a point read past the border), which fails every comparison."""
    window, distance = window_around(joint.shape, point[0], point[1], radius)
    own = (joint[window] * hue_weight(classes.hue[window], part * BODY_HUE_STEP))[distance <= radius]
    return float(own.mean()) if own.size else np.nan


OWN_COLOUR_SHOWS = 0.5
"""An :func:`own_colour_share` from which a dot's own colour shows: the dot is there, whatever lies over it."""


BLUE_LEG = frozenset((BLUE - 1, BLUE, BLUE + 1))


_DARK_STICK_LUMA = 50.0
_DARK_LIMBS = tuple(limb for limb in range(len(DRAWN_LIMBS)) if DIMMED * BODY_YCC[limb, 0] < _DARK_STICK_LUMA)
"""Limbs whose dimmed colour keeps so little luma that the stick turns black where JPEG cancels its chroma."""


def _dark_cover(limb: np.ndarray, by_bright: np.ndarray) -> np.ndarray:
    """Per pixel, the latest-drawn dark limb whose stick pixels (away from bright dots) touch it, -1 if none.

    Where a dark blue stick covers a stick of a far-off hue, JPEG's shared chroma cancels, and the dark
    stick's edge keeps only its own small luma (pure blue's 17): black. A blurred blue hand dot's rim takes
    the stick's colour too, hence not beside bright pixels."""
    dark = np.isin(limb, _DARK_LIMBS) & ~by_bright
    shifted = np.where(dark, limb + 1, 0).astype(np.uint8)
    return (cv2.dilate(shifted, np.ones((3, 3), np.uint8)).astype(np.int16) - 1).astype(np.int8)


_MIN_BACKGROUND = 0.3
"""Maps are mostly black background (over 80 % with five people and thick sticks, shrunk and in JPEG); a
photo has almost none, and reading its thousands of colour blobs as dots would take minutes."""


def require_background(classes: Classes) -> None:
    share = float(classes.black.mean()) if classes.black.size else 1.0
    if share < _MIN_BACKGROUND:
        raise ImageError(f"not an OpenPose skeleton map: {share:.0%} of it is black background, where a map is "
                         f"mostly black (to find poses in a photo, detect them)")


LUMA_MATCH = (6.0, 14.0)       # luma difference (of 255) that still counts fully / no longer counts


def as_rgb(image) -> np.ndarray:
    """RGB uint8 from what the library accepts; transparency means background, so RGBA (and LA, PA)
    is composited over black rather than the library's usual white."""
    if hasattr(image, "mode") and hasattr(image, "convert") and image.mode in ("RGBA", "LA", "PA", "P"):
        image = np.asarray(image.convert("RGBA"))
    array = image
    if isinstance(array, np.ndarray) and array.ndim == 3 and array.shape[2] in (2, 4):
        if np.issubdtype(array.dtype, np.integer):
            full = float(np.iinfo(array.dtype).max)
        else:
            full = 1.0 if array.max(initial=0) <= UNIT_FLOAT_MAX else 255.0     # the library's float rule
        composite = array[..., :-1].astype(np.float64) * (array[..., -1:].astype(np.float64) / full)
        array = np.rint(composite).astype(array.dtype) if np.issubdtype(array.dtype, np.integer) else composite
    return as_rgb_uint8(array, "skeleton image")
