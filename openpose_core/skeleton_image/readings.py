"""Naming dots in JPEG maps by their core colour: shrunk JPEG keeps about one chroma sample per dot but luma
at full resolution, so a dot's core chroma *and* luma choose between its readings, and dots the colour
filters missed (by brightness, or faint colour peaks) are added. A dot alone on black is named by its whole
blob's summed colour instead."""
from __future__ import annotations

from typing import List, Optional, Tuple

import cv2
import numpy as np

from ..pose import HEAD_PARTS, NECK, NUM_BODY
from ..render import DRAWN_LIMBS
from .colours import (
    BLUE, BODY_CHROMA_ANGLE, BODY_HUE_STEP, BODY_YCC, Classes, DIMMED, NEXT_HUES, OWN_LUMA_SHARE, SMALL_DOTS,
    core_hue, dark_blue_weight, luma_shares,
)
from .dots import Dots, Joints, LONE_DOT_FRACTION, MIN_DOT_FRACTION, windowed_peaks
from .geometry import distances_to_others, keep_apart, pairwise, window_around
from .hands import by_hand
from .people import lone_part


_SECOND_COLOUR_COST = 4.0
"""A dot found by brightness alone also gets its second best colour as a reading if it costs at most 4
more (about two standard deviations)."""
_RULED_OUT_COST = 9.0
"""A reading whose colour fits a dot's core three standard deviations worse than its best one is ruled out."""
_GOOD_FIT = 4.0
"""A dot's core fits a colour well when it costs under 4 (two standard deviations): a head dot takes a
hue-neighbouring head colour only then (worse fits are blends of touching dots: taking them broke 3 maps
of 1,540)."""
_BLEND_COST = 20.0
_BLEND_REACH = 1.5
"""A dot none of whose readings fits its core under cost 20 (4.5 standard deviations), within 1.5 dot radii of
a dot that fits well, is that dot's blend (see :func:`_blends`)."""
_ANGLE_SPREAD = 6.0
_LUMA_SPREAD = 6.0
"""How far (degrees of chroma angle, luma levels) a JPEG dot's core drifts from its palette colour: about
one standard deviation, measured on the dots of random scenes at 0.5x-1x, quality 75."""


def _core_colour_costs(image_ycc: np.ndarray, centre: np.ndarray, radius: float, scale: float,
                       brightness: float = 1.0) -> np.ndarray:
    """Per body part (18): how badly the dot at ``centre`` fits that part's colour (at ``brightness``:
    ``DIMMED`` for the limb of the same colour), as a sum of squared standardised chroma-angle and luma
    errors.

    JPEG halves the chroma resolution and quantises it coarsely: a small dot's chroma is a blend of its own
    and its surroundings' (up to ~16 degrees of hue off, past half-way to the next palette colour). So the
    ring just outside the dot is taken out of the core's chroma in proportion to the chroma footprint (half
    at 0.5x, nothing at the drawn size). Luma keeps full resolution and fine steps, and the palette's
    neighbouring colours differ in luma by 9-50 levels, so the two together name the dot."""
    window, distance = window_around(image_ycc.shape, centre[0], centre[1], radius + 3.0)
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
    return _palette_costs(np.degrees(np.arctan2(chroma[1], chroma[0])), core_colour[0], brightness)


def _palette_costs(angle: float, luma: float, brightness: float = 1.0, parts=slice(None)) -> np.ndarray:
    """How badly a colour (chroma angle in degrees, luma) fits the palette colours of ``parts`` (default: all
    18) drawn at ``brightness``: squared standardised errors, summed."""
    angle_error = (angle - BODY_CHROMA_ANGLE[parts] + 180.0) % 360.0 - 180.0
    return (angle_error / _ANGLE_SPREAD) ** 2 + ((luma - brightness * BODY_YCC[parts, 0]) / _LUMA_SPREAD) ** 2


def recolour(joints: Joints, image_ycc: np.ndarray, radius: float, scale: float) -> Joints:
    """Shrunk JPEG maps: choose between a dot's readings by its core's chroma *and* luma (see
    :func:`_core_colour_costs`): the best fitting reading becomes the dot's best one, every reading's
    evidence is weighed by how well the core fits it, and readings the core rules out go (a stick that
    ends on the dot could otherwise still join them; a covered joint there comes back as a stick end).
    Head readings stay: five touching head dots blend, and :func:`relabel_heads` weighs them together.
    A head dot whose core fits a hue-neighbouring head colour well, and better than any of its readings (a
    nose found only by the l-ear's colour filter, the pink l-eye beside it pulling its hue), also gets that
    colour, as strong a reading as its best: the links decide. A neighbour's blend (see :func:`_blends`)
    goes, all its readings with it."""
    dot_ids, first = np.unique(joints.dot, return_index=True)
    centres = joints.xy[first]
    rows_of = [np.flatnonzero(joints.dot == dot_id) for dot_id in dot_ids]
    part_costs = [_core_colour_costs(image_ycc, centre, radius, scale) for centre in centres]
    reading_costs = [every_cost[joints.part[rows]] for every_cost, rows in zip(part_costs, rows_of)]
    blends = _blends(centres, np.array([costs.min() for costs in reading_costs]), radius)
    score, primary, keep = joints.score.copy(), np.zeros(len(joints), bool), np.ones(len(joints), bool)
    added = []
    for dot_id, rows, every_cost, costs, blend in zip(dot_ids, rows_of, part_costs, reading_costs, blends):
        score[rows] = joints.score[rows] * np.exp(-0.5 * (costs - costs.min()))
        best = rows[int(np.argmin(costs))]
        primary[best] = True
        keep[rows] = ~blend & ((costs <= costs.min() + _RULED_OUT_COST) | np.isin(joints.part[rows], HEAD_PARTS))
        if not blend and joints.part[best] in HEAD_PARTS:
            added += [(joints.xy[best], part, int(dot_id), float(score[best]), False)
                      for part in NEXT_HUES[int(joints.part[best])] if part in HEAD_PARTS
                      and part not in joints.part[rows] and every_cost[part] < min(costs.min(), _GOOD_FIT)]
    return Joints(joints.xy[keep], joints.part[keep], joints.dot[keep], score[keep], primary[keep]).appended(added)


def _blends(centres: np.ndarray, fits: np.ndarray, radius: float) -> np.ndarray:
    """Which dots (at ``centres``, whose best readings cost ``fits``) are a neighbour's rim read again or
    its blend with another dot: no reading fits (``_BLEND_COST``), and within ``_BLEND_REACH`` dot radii
    lies a dot that fits its colour well (an orange 'neck' between a red nose and a yellow elbow; a
    shoulder's rim read as a wrist). True dots that fit no reading this badly lie on another such dot
    (a knee on an ankle): both blend, and both stay."""
    if len(centres) < 2:
        return np.zeros(len(centres), bool)
    gaps = distances_to_others(centres)
    nearest = np.argmin(gaps, axis=1)
    return (fits > _BLEND_COST) & (gaps[np.arange(len(centres)), nearest] < _BLEND_REACH * radius) & \
        (fits[nearest] < _GOOD_FIT)


_UNSEEN_APART = 3.0
"""Dot radii between an unseen dot and every found one: nearer, a bright peak is more often a found dot's
rim or its blend with a neighbour (an elbow half under an ear reads as the orange of a neck)."""


def add_unseen_dots(joints: Joints, classes: Classes, joint: np.ndarray, image_ycc: np.ndarray, dots: Dots,
                    scale: float) -> Joints:
    """Small JPEG maps: dots whose colour filter found nothing, because the stick under them blends into
    the same hue (a knee on its shin), still stand out by brightness (joints are drawn at full value, limbs
    at 0.6). Bright dots of any hue ``_UNSEEN_APART`` radii away from every known dot are added, named by
    their core colour."""
    member = np.maximum(joint, dark_blue_weight(classes, image_ycc))
    bright = windowed_peaks(member, classes.background, dots)
    added = []
    next_dot = int(joints.dot.max()) + 1 if len(joints) else 0
    strongest_first = np.argsort(-bright[:, 2], kind="stable")
    for index in keep_apart(bright[:, :2], strongest_first, _UNSEEN_APART * dots.radius, joints.xy):
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
"""A faint dot lies at least this many dot radii from every dot found (and ``HAND_REACH`` radii from every
blue dot but its own)."""
_ONE_STICK_PARTS = [part for part in range(NUM_BODY) if sum(part in limb for limb in DRAWN_LIMBS) == 1]
"""Wrists, ankles and ears: a faint one, which only one stick can confirm, may as well be the end of another
person's stick of that limb passing by."""
_FAINT_PAIR_APART = 2.0
"""Dot radii between a faint wrist, ankle or ear and any other reading of its part: two people's wrists
side by side end two forearms that both point at either."""
_LIKE_OWN_STICK = 30.0
"""A part whose colour one of its own sticks (drawn dimmed) matches within this cost (the l-hip and its thigh:
14; the l-knee and its shin: 21; the r-eye and its stick to the r-ear: 28; every other part: 34 up)."""


def _like_own_stick(part: int) -> bool:
    sticks = [limb for limb, ends in enumerate(DRAWN_LIMBS) if part in ends]
    return bool(_palette_costs(BODY_CHROMA_ANGLE[part], BODY_YCC[part, 0], DIMMED, sticks).min() < _LIKE_OWN_STICK)


_STICK_LIKE_PARTS = [part for part in range(NUM_BODY) if part not in _ONE_STICK_PARTS and _like_own_stick(part)]


def add_faint_dots(joints: Joints, faint: np.ndarray, blue: np.ndarray, image_ycc: np.ndarray, radius: float,
                   scale: float) -> Joints:
    """Small JPEG maps: a dot on its sticks (a left hip between the cyan and azure sticks) takes their
    chroma, and its colour filter finds too little of it. A faint colour peak (see :func:`find_joints`)
    of a joint with two sticks or more, away from every dot and from hands, is still that part's dot when
    its core colour names that part, or the dot of the part a hue step off that its core names (see
    :func:`_named_faint`)."""
    faint = _named_faint(faint[~np.isin(faint[:, 2].astype(int), _ONE_STICK_PARTS)], joints, blue,
                         image_ycc, radius, scale)
    next_dot = int(joints.dot.max()) + 1 if len(joints) else 0
    return joints.appended([(peak[:2], int(peak[2]), next_dot + number, float(peak[3]), True)
                            for number, peak in enumerate(faint)])


def faint_loose_dots(joints: Joints, faint: np.ndarray, blue: np.ndarray, image_ycc: np.ndarray, radius: float,
                     scale: float) -> List[Tuple[int, np.ndarray]]:
    """Small JPEG maps: faint wrists, ankles and ears (a wrist on another person's stick of its own hue, an
    ear beside an elbow) named as :func:`add_faint_dots` names dots, as (part, position) loose dots: too weak
    to found a person's limb, they join one only where redrawing confirms them (see
    :func:`.redraw.add_missing_joints`). Not where another reading of the part lies near
    (``_FAINT_PAIR_APART``). A faint ear may still be a nose's rim read in the next hue (one 0.6x scene in
    300 makes one up so; six others at 0.5x gain an ear). Likewise a faint dot whose colour is its own
    stick's (``_STICK_LIKE_PARTS``: an l-hip at the end of its thigh), which :func:`add_faint_dots` leaves
    as it fits that stick's colour as well as its own: there, only redrawing tells the dot from the stick."""
    filtered_as = faint[:, 2].astype(int)
    faint = np.vstack([
        _named_faint(faint[np.isin(filtered_as, _ONE_STICK_PARTS)], joints, blue, image_ycc, radius, scale),
        _named_faint(faint[np.isin(filtered_as, _STICK_LIKE_PARTS)], joints, blue, image_ycc, radius, scale,
                     unlike_sticks=False)])
    part = faint[:, 2].astype(int)
    readings, parts = np.vstack([joints.xy, faint[:, :2]]), np.concatenate([joints.part, part])
    near = (pairwise(faint[:, :2], readings) < _FAINT_PAIR_APART * radius) & (part[:, None] == parts)
    alone = near.sum(axis=1) == 1       # each peak is near itself
    return [(int(part[index]), faint[index, :2]) for index in np.flatnonzero(alone)]


def _named_faint(faint: np.ndarray, joints: Joints, blue: np.ndarray, image_ycc: np.ndarray, radius: float,
                 scale: float, unlike_sticks: bool = True) -> np.ndarray:
    """The faint peaks away from hands whose core colour names their part, or a part one hue step off (then
    named so, see :func:`_renamed_by_core`), strongest first, each apart from every dot and from the stronger
    ones kept. ``unlike_sticks``: the core must also fit no stick's colour better (see
    :func:`_core_named_part`)."""
    faint = faint[~by_hand(faint[:, :2], blue, radius)].copy()
    renamed = np.array([_renamed_by_core(int(part), _core_named_part(image_ycc, xy, radius, scale, unlike_sticks))
                        for *xy, part, _ in faint], int).reshape(-1)
    # ... but a peak near a dot may be that dot's rim, its chroma blended with a neighbour's
    near_dot = np.min(pairwise(faint[:, :2], joints.xy), axis=1, initial=np.inf) < _RENAMED_APART * radius
    faint[:, 2] = np.where((renamed != faint[:, 2]) & near_dot, -1, renamed)
    strongest_first = np.argsort(-faint[:, 3], kind="stable")
    named = [index for index in strongest_first if faint[index, 2] >= 0]
    return faint[keep_apart(faint[:, :2], named, _FAINT_DOT_APART * radius, joints.xy)].reshape(-1, 4)


_RENAMED_APART = 1.5
"""Dot radii between a faint peak renamed a hue step off and every dot (an r-elbow's peak on an r-wrist's
rim, its chroma pulled by an l-shoulder beside it, named the r-shoulder: made-up joints in 2 maps of 1,540)."""


def _renamed_by_core(part: int, named: Optional[int]) -> int:
    """The part a faint peak of ``part``'s colour is, its core colour naming ``named``: that part, if it is
    ``part`` or one hue step off (JPEG moves a small dot's chroma toward its sticks': an l-knee between its
    azure thigh and its shin peaks only in the l-hip's azure), else -1. Not to or from the neck: the orange of
    a nose's red blended with an eye or an r-shoulder names it (renamed so: made-up necks broke 2 maps of
    1,540 and added wrong joints to 3 more)."""
    if named is None or (named != part and (named not in NEXT_HUES[part] or NECK in (part, named))):
        return -1
    return named


_DRAWN_VALUE = 0.2
"""JPEG leaves the black round a dot below this value: a dot's blob is its pixels from here up."""
_LONE_BLOB_AREA = (0.8, 2.5)
_LONE_BLOB_SPAN = 1.9
"""A lone dot's blob covers 0.9-2.3 x the disk's area (JPEG widens it) and spans up to 1.8 disk diameters;
specks of JPEG noise are smaller, two touching dots larger."""
_LONE_LUMA_SPREAD = 20.0
_LONE_COST = 16.0
"""A lone dot's summed colour fits its part within 13 (chroma angle in ``_ANGLE_SPREAD``, luma in 20 levels,
squared and summed) over 1,300 lone dots of random scenes at 0.5x-0.75x: the luma, divided by the disk's
area at the scale read, takes that scale's error (up to 5 %). Its summed chroma is 0.6-1.1 x the disk's in
the part's colour; a white face dot has next to none."""
_LONE_CHROMA = 0.4


def name_lone_dots(joints: Joints, classes: Classes, image_ycc: np.ndarray, dots: Dots) -> Joints:
    """Small JPEG maps: a joint whose limb neighbours are all missing is a dot alone on black, its colour
    washed out (a blue ankle keeps V = 0.7 on a few pixels) and its core too small to name it surely. But
    JPEG blends such a dot only with black, which has no chroma, and spreads its luma without losing it:
    the blob's summed chroma keeps the dot's angle and its summed luma the dot's luma times the disk's
    area. A blob of one dot's size and shape, away from the image's edges, whose sums fit one part's colour
    is that part's dot, at the blob's luma centre, in place of whatever readings were found on it."""
    labels, blobs = _lone_blobs(classes.value, dots)
    height, width = labels.shape
    on_blob = labels[np.clip(np.rint(joints.xy[:, 1]).astype(int), 0, height - 1),
                     np.clip(np.rint(joints.xy[:, 0]).astype(int), 0, width - 1)]
    keep, added = np.ones(len(joints), bool), []
    next_dot = int(joints.dot.max()) + 1 if len(joints) else 0
    for label, window in blobs:
        blob = cv2.dilate((labels[window] == label).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        colour = image_ycc[window][blob]
        part = _part_by_sums(colour, dots.area)
        if part is None:
            continue
        ys, xs = np.nonzero(blob)
        weights = np.clip(colour[:, 0], 0.0, None)
        centre = np.array([window[1].start + np.average(xs, weights=weights),
                           window[0].start + np.average(ys, weights=weights)])
        keep &= on_blob != label
        added.append((centre, part, next_dot, 1.0, True))
        next_dot += 1
    return Joints(joints.xy[keep], joints.part[keep], joints.dot[keep], joints.score[keep],
                  joints.primary[keep]).appended(added)


def _lone_blobs(value: np.ndarray, dots: Dots) -> Tuple[np.ndarray, List[Tuple[int, Tuple[slice, slice]]]]:
    """The drawn pixels' connected pieces (labels) and, of those of one dot's size away from the image's
    edges, (label, window one pixel wider than the piece)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((value >= _DRAWN_VALUE).astype(np.uint8),
                                                               connectivity=8)
    height, width = labels.shape
    left, top, span_x, span_y, area = stats[1:].T
    lone = ((area >= _LONE_BLOB_AREA[0] * dots.area) & (area <= _LONE_BLOB_AREA[1] * dots.area)
            & (np.maximum(span_x, span_y) <= _LONE_BLOB_SPAN * 2.0 * dots.radius)
            & (left > 0) & (top > 0) & (left + span_x < width) & (top + span_y < height))
    return labels, [(int(index) + 1, (slice(top[index] - 1, top[index] + span_y[index] + 1),
                                      slice(left[index] - 1, left[index] + span_x[index] + 1)))
                    for index in np.flatnonzero(lone)]


def _part_by_sums(colour: np.ndarray, disk_area: float) -> Optional[int]:
    """The part whose colour the summed YCbCr ``colour`` of a lone dot's pixels fits (see
    :func:`name_lone_dots`), or None when none fits or the blob has too little chroma (a white face dot)."""
    luma, chroma = colour[:, 0].sum() / disk_area, colour[:, 1:].sum(axis=0)
    angle_error = (np.degrees(np.arctan2(chroma[1], chroma[0])) - BODY_CHROMA_ANGLE + 180.0) % 360.0 - 180.0
    costs = (angle_error / _ANGLE_SPREAD) ** 2 + ((luma - BODY_YCC[:, 0]) / _LONE_LUMA_SPREAD) ** 2
    part = int(np.argmin(costs))
    chroma_share = np.hypot(*chroma) / disk_area / np.hypot(*BODY_YCC[part, 1:])
    return part if costs[part] <= _LONE_COST and chroma_share >= _LONE_CHROMA else None


def named_alone(joints: Joints, image_ycc: np.ndarray, blue: np.ndarray, radius: float,
                scale: float) -> np.ndarray:
    """Which weak readings (a dot's best, with evidence below a lone dot's) name their part by their core
    colour (see :func:`_core_named_part`), away from hands. In a JPEG map such a dot may stand alone when no
    other dot is near: the weak fakes that the lone evidence keeps out are blends of two neighbouring dots,
    and the blurred rims of hand dots and lines, which take every hue. From ``SMALL_DOTS`` up blue is left
    out: a blue dot is barely brighter than the blue neck-nose stick (luma 29 against 17), so its core colour
    tells them apart only narrowly (naming it at 0.75x mended one map of 600 and broke another). Below, a
    weak lone l-knee (no hip drawn, its shin running off the map) is named like any dot (3 maps of 1,540
    mended, none broken; 2 with hands made up a knee by their hand dots); the l-hip's azure-blue is left out
    there, as the blend of a blue dot or stick with a cyan one takes it (at 0.5x, of the weak readings with
    no dot near that the core colour named, 22 of 268 l-hips were an l-knee or l-ankle; none of 225 l-ankles
    was another part)."""
    unnamed = (BLUE,) if scale >= SMALL_DOTS else (BLUE - 1,)
    weak = np.flatnonzero(joints.primary & (joints.score >= MIN_DOT_FRACTION)
                          & (joints.score < LONE_DOT_FRACTION[1]) & ~np.isin(joints.part, unnamed))
    weak = weak[~by_hand(joints.xy[weak], blue, radius)]
    named = np.zeros(len(joints), bool)
    named[[index for index in weak
           if _core_named_part(image_ycc, joints.xy[index], radius, scale) == joints.part[index]]] = True
    return named


def _core_named_part(image_ycc: np.ndarray, centre: np.ndarray, radius: float, scale: float,
                     unlike_sticks: bool = True) -> Optional[int]:
    """The part the core colour of a dot at ``centre`` names, if any: one that rules out every other part and
    (``unlike_sticks``) fits the full-value colour better than any (dimmed) stick's."""
    costs = _core_colour_costs(image_ycc, centre, radius, scale)
    part = int(np.argmin(costs))
    named = np.delete(costs, part).min() >= costs[part] + _RULED_OUT_COST
    if named and unlike_sticks:
        named = _core_colour_costs(image_ycc, centre, radius, scale, DIMMED).min() >= costs[part]
    return part if named else None


def core_rules_out(image_ycc: np.ndarray, centre: np.ndarray, part: int, radius: float, scale: float) -> bool:
    """Whether the core colour of the dot at ``centre`` rules out ``part``: it fits another part's colour
    ``_RULED_OUT_COST`` better (a nose's red blended with its l-ear's pink, read by the neck's filter)."""
    costs = _core_colour_costs(image_ycc, centre, radius, scale)
    return bool(costs[part] > costs.min() + _RULED_OUT_COST)


def settle_ruled_out_lone_joints(bodies: List[np.ndarray], image_ycc: np.ndarray, radius: float,
                                 scale: float) -> List[np.ndarray]:
    """Shrunk JPEG maps: a one-joint person whose core colour rules out its part is the part a hue step off
    that its core names, when it names one (an r-wrist below its elbow read by the l-shoulder's filter: JPEG
    moved its chroma); else it is the blend of two dots or a crumb of a stick (an r-shoulder made up where an
    arm crosses another) and goes. Not a wrist, ankle or ear: a limb end alone (its neighbour covered or not
    drawn) takes the black round it into its core (see :func:`name_lone_dots`; ruling them out too lost an
    r-wrist whose elbow lies under another wrist)."""
    settled = []
    for body in bodies:
        part = lone_part(body)
        ruled_out = part is not None and part not in _ONE_STICK_PARTS and \
            core_rules_out(image_ycc, body[part], part, radius, scale)
        if not ruled_out:
            settled.append(body)
            continue
        named = _renamed_by_core(part, _core_named_part(image_ycc, body[part], radius, scale))
        if named >= 0:
            renamed = np.full_like(body, np.nan)
            renamed[named] = body[part]
            settled.append(renamed)
    return settled


_NEIGHBOUR_READING = 0.5
_NEIGHBOUR_DRIFT = 5.0
"""A head dot whose core hue is 5 degrees or more off its best colour, toward a neighbouring head colour,
gets that colour as a reading at half its evidence."""


def neighbouring_head_readings(joints: Joints, classes: Classes, radius: float) -> Joints:
    """JPEG maps: a head dot blends with the touching dots of neighbouring hues, so its best colour may be
    one step off. A dot whose core hue has drifted toward a neighbouring head colour gets that colour as
    a weak reading, and the head's links decide (:func:`relabel_heads`)."""
    parts_of = joints.parts_by_dot()
    added = []
    for index in np.flatnonzero(joints.primary & np.isin(joints.part, HEAD_PARTS)):
        position = HEAD_PARTS.index(int(joints.part[index]))
        drift = core_hue(classes, joints.xy[index], radius) - int(joints.part[index]) * BODY_HUE_STEP
        drift = (drift + 180.0) % 360.0 - 180.0
        step = int(np.sign(drift))
        if abs(drift) < _NEIGHBOUR_DRIFT or not 0 <= position + step < len(HEAD_PARTS):
            continue
        part = HEAD_PARTS[position + step]
        if part not in parts_of[int(joints.dot[index])]:
            added.append((joints.xy[index], part, int(joints.dot[index]),
                          _NEIGHBOUR_READING * float(joints.score[index]), False))
    return joints.appended(added)


def luma_weighed_heads(joints: Joints, luma: np.ndarray, radius: float) -> Joints:
    """JPEG about the drawn size: a head dot's other readings weighed by how much of its core shows their
    luma against its best reading's (an l-ear also read as the nose beside it, 10 luma levels darker)."""
    score = joints.score.copy()
    for index in np.flatnonzero(~joints.primary & np.isin(joints.part, HEAD_PARTS) & (joints.score > 0)):
        best = np.flatnonzero(joints.primary & (joints.dot == joints.dot[index]))
        if len(best) == 0:
            continue
        parts = (int(joints.part[best[0]]), int(joints.part[index]))
        own, this = luma_shares(luma, *joints.xy[index], parts, radius)
        if own >= OWN_LUMA_SHARE:
            score[index] *= min(1.0, this / own)
    return Joints(joints.xy, joints.part, joints.dot, score, joints.primary)
