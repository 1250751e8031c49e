"""Final joint positions: JPEG joints re-centred on their luma, joints read on into hands put back on
their forearms or left out, PNG joints fitted to their exact drawn pixels (and PNG head dots under face
dots found by them), and whole-pixel points nudged to the float the renderer draws on that pixel."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .colours import (
    BLUE_LEG, BODY_HUE_STEP, BODY_YCC, OWN_COLOUR_SHOWS, SMALL_DOTS, Classes, LUMA_MATCH, hue_weight,
    own_colour_share, ramp,
)
from ..pose import NUM_BODY
from ..render import DRAWN_LIMBS
from .dots import Dots, Joints, MIN_DOT_FRACTION, vertex
from .geometry import window_around
from .hands import blue_about, in_hand_tangle
from .people import FOREARMS, WRISTS
from .sticks import LIMB_OF, STICK_WIDTH, stick_pixels


_LOOSE_HUE = (25.0, 40.0)       # hue difference (degrees) that still counts fully / no longer counts
_RECENTRE_REACH = 2             # pixels a joint may move
_BLUE_RECENTRE_REACH = 3        # ... a blue-ish leg joint: JPEG blends its dark dot with its brighter sticks


def centre_by_luma(bodies: List[np.ndarray], classes: Classes, joint: np.ndarray, dots: Dots,
                   native: bool) -> List[np.ndarray]:
    """JPEG keeps luma at full resolution but smears chroma across dot edges: a dot half under a later
    dot of a neighbouring hue (an l-eye under its l-ear) reads off-centre by colour alone. Each joint is
    re-centred, within ``_RECENTRE_REACH``, on the matched filter of the pixels with its luma and (loosely)
    its hue, unless another person holds that part within 2.5 dot radii: the same colour and luma, the
    two would pull together. A blue-ish leg dot, nearly as dark as black, may read up to 3 px off towards
    its brighter sticks, so it may move that far."""
    result = []
    for index, body in enumerate(bodies):
        body = body.copy()
        for part in np.flatnonzero(~np.isnan(body[:, 0])):
            others = np.array([other[part] for number, other in enumerate(bodies) if number != index]).reshape(-1, 2)
            if not (np.hypot(*(others - body[part]).T) < 2.5 * dots.radius).any():
                body[part] = _luma_centre(int(part), body[part], classes, joint, dots, native)
        result.append(body)
    return result


def _luma_centre(part: int, point: np.ndarray, classes: Classes, joint: np.ndarray, dots: Dots,
                 native: bool) -> np.ndarray:
    reach = _BLUE_RECENTRE_REACH if part in BLUE_LEG else _RECENTRE_REACH
    (rows, columns), _ = window_around(joint.shape, point[0], point[1], reach + dots.pad + 1)
    luma = ramp(-np.abs(classes.luma[rows, columns] - BODY_YCC[part, 0]), -LUMA_MATCH[1], -LUMA_MATCH[0])
    hue = hue_weight(classes.hue[rows, columns], part * BODY_HUE_STEP, *_LOOSE_HUE)
    member = joint[rows, columns] * hue * luma
    score = dots.score(member, classes.background[rows, columns])
    cx, cy = int(round(point[0])) - columns.start, int(round(point[1])) - rows.start
    top, left = max(cy - reach, 0), max(cx - reach, 0)
    window = score[top:cy + reach + 1, left:cx + reach + 1]
    if window.size == 0 or window.max() < MIN_DOT_FRACTION * dots.area:
        return point
    y, x = np.unravel_index(int(np.argmax(window)), window.shape)
    y, x = y + top, x + left
    if not native:
        x, y = x + vertex(score[y, max(x - 1, 0):x + 2], x > 0), y + vertex(score[max(y - 1, 0):y + 2, x], y > 0)
    return np.array([x + columns.start, y + rows.start], np.float64)


_DRAWN_STENCIL = cv2.circle(np.zeros((9, 9), np.uint8), (4, 4), 4, 1, -1) > 0
"""A body dot as the renderer draws it at the drawn size (radius 4 about the middle pixel)."""
_DRAWN_DOT = np.argwhere(_DRAWN_STENCIL) - 4
_DOT_SLACK = 2      # pixels a dot's fitted centre may lie from the filter's


def wrists_on_forearms(bodies: List[np.ndarray], hand_of: Dict[Tuple[int, str], np.ndarray],
                       forearm_ends: List[Tuple[np.ndarray, np.ndarray]], blue: np.ndarray, classes: Classes,
                       dots: Dots, scale: float, native: bool) -> List[np.ndarray]:
    """A body's wrist hidden under its hand's wrist dot was read at that dot's centre, or not at all when
    the dot stood as a knee (blue): then, when the body's hand went to its elbow and one of the
    ``forearm_ends`` (elbow, end of its forearm's stick) leads from that elbow to the hand's wrist dot, it
    is put there. Detectors put that dot a pixel or two off the body's wrist, which lies on its forearm's
    axis: the wrist moves to the point of that axis (from the elbow through the middle of the forearm's
    visible pixels) nearest to the hand's dot (the nearest whole pixel in a map at its drawn size)."""
    result = []
    for index, body in enumerate(bodies):
        body = body.copy()
        for side, (elbow, wrist) in FOREARMS.items():
            hand = hand_of.get((index, side))
            if np.isnan(body[wrist, 0]) and hand is not None and any(
                    np.hypot(*(start - body[elbow])) <= dots.radius and np.hypot(*(end - hand[0])) <= 0.6 * dots.radius
                    for start, end in forearm_ends):
                body[wrist] = hand[0]
            if np.isnan(body[[elbow, wrist], 0]).any() or not len(blue) or \
                    np.hypot(*(blue - body[wrist]).T).min() > 0.5:
                continue
            axis = _forearm_axis(body[elbow], body[wrist], LIMB_OF[(elbow, wrist)], classes,
                                 STICK_WIDTH * scale, dots.radius)
            if axis is not None:
                moved = body[elbow] + axis * float((body[wrist] - body[elbow]) @ axis)
                body[wrist] = np.rint(moved) if native else moved
        result.append(body)
    return result


def _forearm_axis(elbow: np.ndarray, wrist: np.ndarray, limb: int, classes: Classes, half_width: float,
                  radius: float) -> Optional[np.ndarray]:
    """The unit vector from the elbow to the middle of the limb's visible pixels between the two joints'
    dots; None where fewer than a dot's worth show."""
    offsets, along, length = stick_pixels(elbow, wrist, (limb,), classes, half_width, radius)
    on_stick = along < length - radius
    if np.count_nonzero(on_stick) < np.pi * radius ** 2:
        return None
    middle = offsets[on_stick].mean(axis=0)
    return middle / np.hypot(*middle)


_OVERRUN = 6.0
"""Dot radii past the end of a limb's colour from which a joint (its colour not showing, a hand's blue
about it) is one of a hand's dots (right wrists, whose hand may lie over the forearm's end, were found up
to 5.2 out)."""
_OWN_DOT = (0.3, OWN_COLOUR_SHOWS)
"""Share of a joint's disk in its own colour (dot-bright) below which its dot does not show (right joints
by hands showed 0.32 and more; wrong ones on hand dots mostly none); for a wrist, hand lines of nearly
its hue leave its hand's wrist dot, and its own colour must show more."""
_HIDDEN_TIP = 2.0
"""Dot radii by which a forearm's colour stops short of its wrist in a shrunk JPEG map: the hand's wrist
dot hides the last radius, and the stick's tapered tip, too thin to keep its hue, about another."""
_LIMB_DIRECTIONS = [(near, far) for limb in DRAWN_LIMBS for near, far in (limb, limb[::-1])]


def joints_out_of_hands(bodies: List[np.ndarray], classes: Classes, joint: np.ndarray, dots: Dots,
                        scale: float) -> List[np.ndarray]:
    """JPEG maps: a stick read on past a hand lying over it ends on one of the hand's dots (which in shrunk
    maps blend into a tangle that no dot search picks apart). A joint whose own colour does not show, with
    a hand's blue about it (see :func:`blue_about`), lying far past where the colour of its limb from
    another joint of its person stops, is not there, and goes (the hand covers its stick's middle). A
    wrist is under its hand's wrist dot, at its forearm's end: in a shrunk map, when it lies in the hand's
    tangle (see :func:`in_hand_tangle`), it moves back to 2 dot radii past where the forearm's colour
    stops, on the axis through the forearm's visible pixels (larger, a hand lying over the forearm's end
    hides it as well: see :func:`wrists_on_forearms`)."""
    result = []
    for body in bodies:
        body = body.copy()
        for near, far in _LIMB_DIRECTIONS:
            if np.isnan(body[[near, far], 0]).any():
                continue
            wrist = (near, far) in FOREARMS.values()
            if wrist and scale >= SMALL_DOTS:
                continue
            in_hand = in_hand_tangle(body[[far]], classes, joint, dots, scale) if wrist else \
                blue_about(body[far], classes, joint, dots.radius)
            if not in_hand or own_colour_share(body[far], far, classes, joint, dots.radius) >= _OWN_DOT[wrist]:
                continue
            offsets, along, length = stick_pixels(body[near], body[far], (LIMB_OF[(near, far)],), classes,
                                                  STICK_WIDTH * scale, dots.radius)
            # the colour's far end, past a stray pixel or two (none: the limb's colour stops at once)
            end = np.sort(along)[-3] if len(along) >= 3 else 0.0
            if length - end <= _OVERRUN * dots.radius:
                continue
            if wrist and end > 0:
                middle = offsets[along <= end].mean(axis=0)
                body[far] = body[near] + middle / np.hypot(*middle) * (end + _HIDDEN_TIP * dots.radius)
            else:
                body[far] = np.nan
        result.append(body)
    return result


def drop_joints_on_hand_dots(bodies: List[np.ndarray], blue: np.ndarray, classes: Classes, joint: np.ndarray,
                             radius: float) -> List[np.ndarray]:
    """JPEG maps: a joint lying on a blue dot that no person took (a hand's dot) whose own colour does not
    show was read at the end of a stick that a hand lies over: it goes. (A wrist lies under its hand's
    wrist dot: see :func:`wrists_on_forearms`.)"""
    result = []
    for body in bodies:
        body = body.copy()
        for part in np.flatnonzero(~np.isnan(body[:, 0])):
            if part not in WRISTS and len(blue) and np.hypot(*(blue - body[part]).T).min() <= 0.6 * radius \
                    and own_colour_share(body[part], part, classes, joint, radius) < _OWN_DOT[0]:
                body[part] = np.nan
        result.append(body)
    return result


def fit_drawn_dots(bodies: List[np.ndarray], palette_part: np.ndarray, black: np.ndarray) -> List[np.ndarray]:
    """PNG maps at the drawn size: a dot partly under later drawing is centred by the matched filter on
    its visible part, up to a pixel off. Its exact pixels pin it down: the drawn disk must hold every
    visible pixel of the dot and no black one. Of the centres near the filter's that do, the nearest wins
    (usually the only one)."""
    fitted = []
    for body in bodies:
        body = body.copy()
        for part in np.flatnonzero(~np.isnan(body[:, 0])):
            x, y = int(round(body[part, 0])), int(round(body[part, 1]))
            (rows, columns), _ = window_around(palette_part.shape, x, y, _DOT_SLACK + 5)
            shown = _component_at(palette_part[rows, columns] == part, y - rows.start, x - columns.start)
            if shown is not None:
                centres = _centres_explaining(shown + (rows.start, columns.start), black, np.array([y, x]))
                if len(centres):
                    body[part] = centres[0, ::-1]
        fitted.append(body)
    return fitted


def _slack_offsets(slack: int) -> np.ndarray:
    """(dy, dx) offsets of up to ``slack`` pixels each way, nearest first."""
    return np.array(sorted(((dy, dx) for dy in range(-slack, slack + 1) for dx in range(-slack, slack + 1)),
                           key=lambda d: d[0] ** 2 + d[1] ** 2))


_SLACK_OFFSETS = _slack_offsets(_DOT_SLACK)


def _centres_explaining(shown: np.ndarray, black: np.ndarray, centre: np.ndarray,
                       offsets: np.ndarray = _SLACK_OFFSETS) -> np.ndarray:
    """The (y, x) centres ``centre`` + ``offsets`` (nearest first) whose drawn dot covers every ``shown``
    pixel and no black one."""
    centres = centre + offsets
    offsets = shown[None, :, :] - centres[:, None, :] + 4
    within = ((offsets >= 0) & (offsets <= 8)).all(axis=2)
    covers = (within & _DRAWN_STENCIL[np.clip(offsets[..., 0], 0, 8), np.clip(offsets[..., 1], 0, 8)]).all(axis=1)
    disks = centres[:, None, :] + _DRAWN_DOT[None, :, :]
    inside = ((disks >= 0) & (disks < black.shape)).all(axis=2)
    on_black = inside & black[np.clip(disks[..., 0], 0, black.shape[0] - 1),
                              np.clip(disks[..., 1], 0, black.shape[1] - 1)]
    return centres[covers & ~on_black.any(axis=1)]


_UNDER_FACE_REACH = _slack_offsets(4)
"""Where the middle of a dot may lie from the middle of what shows of it: a crescent's is up to 3 px off."""
_MIN_UNDER_FACE = 6
"""Pixels of its exact colour a dot under a face must show (a ring one pixel wide shows about 16)."""


def add_dots_under_faces(joints: Joints, palette_part: np.ndarray, classes: Classes, dots: Dots,
                         face_dots: np.ndarray) -> Joints:
    """PNG maps at the drawn size with faces: the face's white dots (radius 3), drawn last, cover the head's
    own dots (radius 4) but for a ring or crescent of their exact colour, too little for the colour filters.
    A piece of a joint colour away from that part's dots is a dot when some drawn disk holds all of it and
    no black pixel, and what else of that disk shows is mostly white. Looked for about the ``face_dots``."""
    low = np.maximum(np.floor(face_dots.min(axis=0) - 3 * dots.radius).astype(int), 0)
    high = np.ceil(face_dots.max(axis=0) + 3 * dots.radius).astype(int) + 1
    window = (slice(low[1], high[1]), slice(low[0], high[0]))
    palette_part, black = palette_part[window], classes.black[window]
    white = (classes.saturation[window] < 0.05) & (classes.value[window] > 0.95)
    added = []
    next_dot = int(joints.dot.max()) + 1 if len(joints) else 0
    for part in range(NUM_BODY):
        count, labels, stats, middles = cv2.connectedComponentsWithStats((palette_part == part).astype(np.uint8),
                                                                         connectivity=8)
        found = [xy - low for xy in joints.xy[joints.part == part]]
        for label in np.argsort(-stats[:, cv2.CC_STAT_AREA], kind="stable"):     # arcs of one ring: the longest
            x, y, width, height, area = stats[label]
            if label == 0 or area < _MIN_UNDER_FACE:
                continue
            shown = np.argwhere(labels[y:y + height, x:x + width] == label) + (y, x)
            middle = np.rint(middles[label][::-1]).astype(int)
            centres = _centres_explaining(shown, black, middle, _UNDER_FACE_REACH)
            if not len(centres):
                continue
            centre = np.rint(centres.mean(axis=0)).astype(int)
            if found and np.hypot(*(np.array(found) - centre[::-1]).T).min() < 2 * dots.radius:
                continue        # that part's dot, found already
            disk = np.clip(centre + _DRAWN_DOT, 0, np.array(white.shape) - 1)
            covered = palette_part[disk[:, 0], disk[:, 1]] != part
            if covered.any() and white[disk[covered, 0], disk[covered, 1]].mean() >= 0.5:
                added.append((centre[::-1] + low, part, next_dot, area / dots.area, True))
                found.append(centre[::-1])
                next_dot += 1
    return joints.appended(added)


def _component_at(mask: np.ndarray, y: int, x: int) -> Optional[np.ndarray]:
    """The (y, x) pixels of the 8-connected piece of ``mask`` nearest to (y, x), or None."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return None
    pixels = np.argwhere(labels > 0)
    nearest = pixels[np.argmin(np.hypot(*(pixels - (y, x)).T))]
    return np.argwhere(labels == labels[nearest[0], nearest[1]])


def drawn_on_pixel(xy: np.ndarray, size: np.ndarray, dtype) -> np.ndarray:
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
