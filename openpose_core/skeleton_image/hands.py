"""Hands: blue dots joined by thin hand lines, labelled by the lines' colours, attached to a wrist (or an
elbow whose forearm leads to them); body pieces that are really a hand's dots and lines set aside."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..pose import HAND_EDGES, NUM_HAND
from .colours import BLUE, OWN_COLOUR_SHOWS, SMALL_DOTS, Classes, hue_weight, own_colour_share
from .dots import Dots, windowed_peaks
from .geometry import keep_apart, pairwise, points_between, sample, segment_distances, window_around
from .sticks import LIMB_OF, STICK_WIDTH, line_shows, stick_pixels


_HAND_REACH = 8.0
"""Dot radii within which blue dots may be one hand's: a hand's dots lie this close together, and the
blurred hand lines between them take every hue (a lone blue dot this close to others may be a hand's)."""


def by_hand(points: np.ndarray, blue: np.ndarray, radius: float, own: float = 0.9) -> np.ndarray:
    """Which ``points`` lie within hand reach of a blue (hand) dot other than their own (the blue dot
    within ``own`` radii)."""
    if len(points) == 0 or len(blue) == 0:
        return np.zeros(len(points), bool)
    distance = pairwise(points, blue)
    return ((distance > own * radius) & (distance < _HAND_REACH * radius)).any(axis=1)


def drop_hand_pieces(bodies: List[np.ndarray], blue: np.ndarray, blue_like: Tuple[int, ...], classes: Classes,
                     joint: np.ndarray, dots: Dots, scale: float) -> List[np.ndarray]:
    """JPEG maps: two hand dots joined by a blurred hand line (hand lines run through every hue) can pass
    for a blue shin or thigh, and a bit of hand line in a blue-like hue for its other end. A body piece
    made only of blue-like parts that sits on hands is hand, not body: a point on a dot of a hand (a piece
    of three points or more, found among all blue dots), every point within two dot radii of the dots of
    any hand piece or a dot radius of their lines (JPEG may break a hand into pieces, and the body piece
    then spans two); in shrunk maps, also every point in a hand's tangle (:func:`in_hand_tangle`)."""
    labelled = label_hands(blue, link_hand_dots(blue, classes, dots, scale))
    pieces = [hand for hand, _ in labelled]
    hands = [hand for hand, used in labelled if len(used) >= 3]
    kept = []
    for body in bodies:
        present = np.flatnonzero(~np.isnan(body[:, 0]))
        blue_only = len(present) and set(present.tolist()) <= set(blue_like)
        if blue_only and ((hands and _sits_on(body[present], hands, pieces, dots.radius))
                          or in_hand_tangle(body[present], classes, joint, dots, scale)):
            continue
        kept.append(body)
    return kept


def drop_thin_blue_pieces(bodies: List[np.ndarray], blue_like: Tuple[int, ...], classes: Classes, joint: np.ndarray,
                          dots: Dots, scale: float) -> List[np.ndarray]:
    """JPEG maps: a body piece made only of blue-like parts, one of whose limbs is drawn thinner than half a
    stick, with dot-bright blue about one of its points (see :func:`blue_about`: the hand's other dots),
    is two of a hand's dots and the thin hand line between them (the ring finger's lines have the thigh's
    and shin's hues): it goes, but for a hip or ankle whose own colour shows (a hand dot is the knee's
    blue), which stays on its own; in shrunk maps blurred hand lines take those colours too, and the whole
    piece goes. A stick is two half widths and a pixel wide: along its middle (past the dots) its colour,
    or a neighbouring one, fills well over half of that even in JPEG (at 0.5x legs showed 2.9-4 of 5 px,
    a dark blue shin crossed by another stick 2.4); a hand line, under half (1.2-2.4)."""
    kept = []
    for body in bodies:
        present = np.flatnonzero(~np.isnan(body[:, 0]))
        if not _thin_blue_piece(body, present, blue_like, classes, joint, STICK_WIDTH * scale, dots.radius):
            kept.append(body)
            continue
        for part in present:
            if part != BLUE and scale >= SMALL_DOTS and \
                    own_colour_share(body[part], part, classes, joint, dots.radius) >= OWN_COLOUR_SHOWS:
                alone = np.full_like(body, np.nan)
                alone[part] = body[part]
                kept.append(alone)
    return kept


def _thin_blue_piece(body: np.ndarray, present: np.ndarray, blue_like: Tuple[int, ...], classes: Classes,
                     joint: np.ndarray, half_width: float, radius: float) -> bool:
    """Whether a piece of two joints or more, all blue-like, has a limb drawn thinner than half a stick and
    dot-bright blue about one of its points."""
    if len(present) < 2 or not set(present.tolist()) <= set(blue_like):
        return False
    limbs = [(first, second) for first, second in zip(present[:-1], present[1:]) if (first, second) in LIMB_OF]
    return any(_drawn_width(body[first], body[second], LIMB_OF[(first, second)], classes, half_width, radius)
               < half_width + 0.5 for first, second in limbs) and \
        any(blue_about(body[part], classes, joint, radius) for part in present)


def _drawn_width(start: np.ndarray, end: np.ndarray, limb: int, classes: Classes, half_width: float,
                 radius: float) -> float:
    """Pixels of the limb's colour (or a neighbouring one) within a stick's half width (and a pixel) of the
    line between two joints, past their dots, per pixel of its length."""
    _, along, length = stick_pixels(start, end, (limb - 1, limb, limb + 1), classes, half_width, radius)
    return float(np.count_nonzero(along < length - radius)) / max(length - 2 * radius, 1.0)


def _sits_on(points: np.ndarray, hands: List[np.ndarray], pieces: List[np.ndarray], radius: float) -> bool:
    """Whether one of ``points`` is a dot of ``hands`` and each lies within two dot radii of the dots of
    the hand ``pieces`` (``hands`` and smaller pieces: each 21 x 2, NaN = not found) or one dot radius of
    their lines."""
    nearest = [np.min(pairwise(points, _present(np.vstack(group))), axis=1) for group in (hands, pieces)]
    lines = np.vstack([np.stack([piece[_HAND_PARENT], piece[_HAND_CHILD]], axis=1) for piece in pieces])
    lines = lines[~np.isnan(lines).any(axis=(1, 2))]
    on_line = np.array([len(lines) and segment_distances(point, lines[:, 0], lines[:, 1]).min() < radius
                        for point in points])
    return bool(nearest[0].min() < 0.6 * radius and ((nearest[1] < 2.0 * radius) | on_line).all())


def _present(points: np.ndarray) -> np.ndarray:
    return points[~np.isnan(points[:, 0])]


MIN_LONE_HAND = 3
"""Points a hand that sits on no person needs to come back on a person of its own: two dots joined by one
line of a hand colour are more often a false link between two fingertips of a hand found already (their
labels then wrong) than a hand."""

_HAND_PARENT = np.array([start for start, _ in HAND_EDGES])
_HAND_CHILD = np.array([end for _, end in HAND_EDGES])
_BLUE_HUE = 240.0
_CROWD_REACH = (1.5, 5.0)   # dot radii: the ring about a lone blue dot where a hand's other dots would lie
_CROWD_PIXELS = 2.0         # ... and how many of its pixels (per squared dot radius) must be dot-bright blue
_SOME_PIXELS = 0.5          # ... or may be, for some blue about a point (blue_about)
_KNEE_LIMBS = (LIMB_OF[(BLUE - 1, BLUE)], LIMB_OF[(BLUE, BLUE + 1)])


def in_hand_tangle(points: np.ndarray, classes: Classes, joint: np.ndarray, dots: Dots, scale: float) -> bool:
    """Shrunk maps: whether dot-bright blue lies all about each of ``points`` (1.5 to 5 dot radii out): a
    hand's other dots, which there blend into a tangle that no dot search picks apart. A left knee alone,
    or a blue shin's joints, have black there. (At 0.75x and up hand dots are found, and this test would
    lose real knees beside them.)"""
    return scale < SMALL_DOTS and all(_bright_blue_about(point, classes, joint, dots.radius) >=
                                      _CROWD_PIXELS * dots.radius ** 2 for point in points)


def among_hand_dots(point: np.ndarray, part: int, classes: Classes, joint: np.ndarray, dots: Dots,
                    scale: float) -> bool:
    """Shrunk maps: whether a lone blue-like dot of ``part`` is a hand's, not a joint that nothing joined:
    it lies in a hand's tangle (see :func:`in_hand_tangle`); or, a left knee, some dot-bright blue shows
    about it (see :func:`blue_about`) and the colour of neither of the knee's sticks does (a knee whose
    sticks did not link still has them about it; one drawn without them has black there)."""
    if scale >= SMALL_DOTS:
        return False
    blue = _bright_blue_about(point, classes, joint, dots.radius)
    if blue >= _CROWD_PIXELS * dots.radius ** 2:
        return True
    some = _SOME_PIXELS * dots.radius ** 2
    if part != BLUE or blue < some:
        return False
    window, ring = _ring(point, joint.shape, dots.radius)
    return np.count_nonzero(np.isin(classes.limb[window][ring], _KNEE_LIMBS)) < some


def blue_about(point: np.ndarray, classes: Classes, joint: np.ndarray, radius: float) -> bool:
    """Whether some dot-bright blue lies 1.5 to 5 dot radii from ``point``: in a shrunk map, another of a
    hand's dots (there too blended to be found) or a left knee."""
    return _bright_blue_about(point, classes, joint, radius) >= _SOME_PIXELS * radius ** 2


def _ring(point: np.ndarray, shape: Tuple[int, ...], radius: float) -> Tuple[Tuple[slice, slice], np.ndarray]:
    """The window about ``point`` holding the ring ``_CROWD_REACH`` dot radii out, and the ring in it."""
    window, distance = window_around(shape, point[0], point[1], _CROWD_REACH[1] * radius)
    return window, (distance > _CROWD_REACH[0] * radius) & (distance < _CROWD_REACH[1] * radius)


def _bright_blue_about(point: np.ndarray, classes: Classes, joint: np.ndarray, radius: float) -> int:
    """Pixels of dot-bright blue (hand dots, left knees) in the ring about ``point``."""
    window, ring = _ring(point, joint.shape, radius)
    member = joint[window] * hue_weight(classes.hue[window], _BLUE_HUE)
    return int(np.count_nonzero(member[ring] > 0.5))


def find_blue_dots(classes: Classes, joint: np.ndarray, dots: Dots) -> np.ndarray:
    """Centres (x, y, score) of blue dots: hand points, and left knees (``joint``: :func:`joint_weight`)."""
    member = joint * hue_weight(classes.hue, _BLUE_HUE)
    peaks = windowed_peaks(member, classes.background, dots)
    if not len(peaks):
        return peaks
    # overlapping windows find a dot twice
    return peaks[sorted(keep_apart(peaks[:, :2], np.argsort(-peaks[:, 2], kind="stable"), 0.9 * dots.radius))]


@dataclass
class _HandLink:
    score: float
    first: int
    second: int
    edge: int


def link_hand_dots(xy: np.ndarray, classes: Classes, dots: Dots, scale: float) -> List[_HandLink]:
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
    dark = sample(black, line.reshape(-1, 2), False).reshape(len(first), -1)
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
        colours = sample(classes.hand, samples, -1)
        dark_count = int(sample(black, samples, False).sum())
        valid = colours[colours >= 0]
        if len(valid) == 0 or dark_count > 0.1 * len(samples):
            continue
        tally = np.bincount(valid, minlength=len(HAND_EDGES))
        edge = int(np.argmax(tally))
        if tally[edge] < 0.5 * len(samples):
            continue
        links.append(_HandLink(tally[edge] / (len(samples) + 3.0), int(a), int(b), edge))
    return links


def label_hands(xy: np.ndarray, links: List[_HandLink]) -> List[Tuple[np.ndarray, List[int]]]:
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
            distance = float(np.min(pairwise(hand_points[present], hand[have])))
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


def attach_hands(bodies: List[np.ndarray], hands: List[np.ndarray], radius: float, classes: Classes):
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
                if part in (3, 6) and not line_shows(points_between(body[part][None], anchor[None], 9)[0],
                                                     LIMB_OF[(part, part + 1)], classes):
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
