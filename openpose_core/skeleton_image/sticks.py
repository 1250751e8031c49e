"""Limbs: the sticks the renderer draws between two joints, sampled to score links between readings, and the
readings that a stick ending on a dot implies (a joint hidden under another dot)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..pose import NUM_BODY
from ..render import DRAWN_LIMBS, STICK_WIDTH
from .colours import BLUE_LEG, BODY_YCC, Classes, DIMMED
from .dots import Dots, Joints, LONE_DOT_FRACTION, MIN_DOT_FRACTION
from .geometry import directions, points_between, sample, window_around


def add_stick_ends(joints: Joints, classes: Classes, dots: Dots, scale: float) -> Joints:
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
    for index in np.flatnonzero(joints.primary & (joints.score >= MIN_DOT_FRACTION)):
        here = int(joints.part[index])
        others = dot_ids != joints.dot[index]
        targets, ends = dot_ids[others], centres[others]
        if len(targets) == 0:
            continue
        starts = np.repeat(joints.xy[index][None, :], len(ends), axis=0)
        open_line = _dark_count(points_between(starts, ends, 7), black) <= 2
        colours = sample(classes.limb, points_between(starts, ends, 9).reshape(-1, 2), -1).reshape(len(ends), -1)
        for limb, (part_a, part_b) in enumerate(DRAWN_LIMBS):
            if here not in (part_a, part_b):
                continue
            other = part_b if here == part_a else part_a
            # quick rejection: the limb's colour must show somewhere on the line, black hardly
            hopeful = open_line & ((colours == limb).sum(axis=1) >= 2)
            found = []
            for target, end in zip(targets[hopeful], ends[hopeful]):
                pair = (joints.xy[index], end) if here == part_a else (end, joints.xy[index])
                support = _stick_support(*pair, limb, classes, black, half_width, dots.radius, margin)
                if support[0] is not None \
                        and not _stick_goes_on(joints.xy[index], end, limb, classes, dots.radius, scale):
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


def _stick_goes_on(start: np.ndarray, end: np.ndarray, limb: int, classes: Classes, radius: float,
                   scale: float) -> bool:
    """Whether the limb's colour carries on past the dot at ``end`` (then that dot only lies on the stick)."""
    length, along, across = directions(start, end)
    if length == 0:
        return False
    steps = np.arange(radius + 1.0, radius + 1.0 + max(3.0, 4.0 * scale), 0.5)
    offsets = np.array([-0.5, 0.0, 0.5]) * STICK_WIDTH * scale
    points = end + steps[:, None, None] * along + offsets[None, :, None] * across
    return float((sample(classes.limb, points.reshape(-1, 2), -1) == limb).mean()) >= 0.2


_OFF_LINE = 0.5
"""Share of a stick's half width by which a turned axis must move its ends off the line between its
joints to be tried (see :func:`_drawn_axes`): nearer, the line's samples show the stick as well."""


_POSITION_ERROR = 2.0
"""Pixels by which the joints read back at the two ends of a stick may together be off across it."""


def _drawn_axes(start: np.ndarray, end: np.ndarray, half_width: float) -> np.ndarray:
    """Unit vectors (..., 3 candidates, 2) along the long axis of the limb ellipse drawn from each
    ``start`` joint (the limb's first part) to its ``end``: the line between them first. The renderer
    turns the ellipse by the angle from end to start truncated to whole degrees, so a long stick runs up
    to a degree off that line (5 px off at the ends of a 600 px stick, more than its half width), and
    joints read back a little off can move that angle across a whole degree. So the truncated angle, and
    the neighbouring whole degree that ``_POSITION_ERROR`` reaches, are candidates too where they move
    the stick's ends ``_OFF_LINE`` of its ``half_width`` or more off the line (elsewhere they repeat the
    line)."""
    offset = np.asarray(start, np.float64) - np.asarray(end, np.float64)
    length = np.hypot(offset[..., 0], offset[..., 1])
    angle = np.degrees(np.arctan2(offset[..., 1], offset[..., 0]))
    spread = np.minimum(np.degrees(_POSITION_ERROR / np.maximum(length, 1e-9)), 1.0)
    first, low, high = np.trunc(angle), np.trunc(angle - spread), np.trunc(angle + spread)
    candidates = [angle]
    for turned in (first, np.where(low != first, low, high)):
        off_line = 0.5 * length * np.abs(np.sin(np.radians(turned - angle))) >= _OFF_LINE * half_width
        candidates.append(np.where(off_line, turned, angle))
    angles = np.radians(np.stack(candidates, axis=-1))
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def _drawn_lines(start: np.ndarray, end: np.ndarray, half_width: float, count: int) -> np.ndarray:
    """``count`` evenly spaced points strictly inside the long axis of each stick drawn from ``start`` to
    ``end`` (n x 2 each), for each candidate axis (see :func:`_drawn_axes`): n x 3 x count x 2."""
    half = 0.5 * np.hypot(*(end - start).T)
    fractions = np.linspace(-1.0, 1.0, count + 2)[1:-1]
    steps = fractions[None, None, :, None] * half[:, None, None, None]
    return ((start + end) / 2)[:, None, None, :] + steps * _drawn_axes(start, end, half_width)[:, :, None, :]


def _fewest_dark(lines: np.ndarray, black: np.ndarray) -> np.ndarray:
    """How many points on the least dark of each stick's candidate axes (n x 3 x count x 2) are black (n)."""
    return _dark_count(lines, black).min(axis=-1)


def _dark_count(lines: np.ndarray, black: np.ndarray) -> np.ndarray:
    """How many points of each line (... x count x 2) are black (...)."""
    return sample(black, lines.reshape(-1, 2), False).reshape(lines.shape[:-1]).sum(axis=-1)


def _stick_samples(start: np.ndarray, end: np.ndarray, along: np.ndarray, half_width: float, dot_radius: float,
                   margin: float) -> np.ndarray:
    """Points (n x 2) inside the limb ellipse drawn from ``start`` to ``end`` with its long axis ``along``
    (see :func:`_drawn_axes`), shrunk by ``margin``, and outside the two end dots grown by ``margin``."""
    length = float(np.hypot(*(end - start)))
    if length < 1e-6:
        return np.zeros((0, 2))
    across = np.array([-along[1], along[0]])
    semi_major, semi_minor = length / 2 - margin, half_width - margin
    if semi_major <= 0 or semi_minor <= 0:
        return np.zeros((0, 2))
    steps = max(int(np.ceil(length)), 2)
    u = np.linspace(-length / 2, length / 2, steps + 1)
    v = np.linspace(-semi_minor, semi_minor, 5)
    uu, vv = np.meshgrid(u, v)
    uu, vv = uu.ravel(), vv.ravel()
    inside = (uu / semi_major) ** 2 + (vv / semi_minor) ** 2 <= 1.0
    points = (start + end) / 2 + uu[inside, None] * along + vv[inside, None] * across
    clear = dot_radius + margin
    far = (np.hypot(*(points - start).T) > clear) & (np.hypot(*(points - end).T) > clear)
    return points[far]


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


_BLUE_LEG_LIMBS = frozenset(limb for limb, pair in enumerate(DRAWN_LIMBS) if BLUE_LEG & set(pair))
_BLEND_COVER = 0.1
"""The share of a stick's samples showing the colour two limbs on (drawn later, over it) from which the
samples of the colour between are taken for blends of the two, not for a rival stick."""
_FIT_BONUS = 0.3
"""A link gains this much per unit of its readings' evidence: a longer stick to a dot's weaker reading
(an elbow's forearm reaching past its wrist to the touching shoulder dot) loses to the shorter one to a
dot's best reading, and the shoulder keeps its own sticks."""
LIMB_OF = {**{pair: limb for limb, pair in enumerate(DRAWN_LIMBS)},
           **{pair[::-1]: limb for limb, pair in enumerate(DRAWN_LIMBS)}}


@dataclass
class Link:
    score: float
    first: int
    second: int


def _stick_support(point_a: np.ndarray, point_b: np.ndarray, limb: int, classes: Classes, black: np.ndarray,
                   half_width: float, radius: float, margin: float) -> Tuple[Optional[float], int, int, int, int]:
    """How well the stick of ``limb`` drawn from the dot at ``point_a`` (the limb's first joint) to the one
    at ``point_b`` shows (see :func:`_support_along`), along the first of its candidate axes that shows it
    (see :func:`_drawn_axes`)."""
    axes = _drawn_axes(point_a, point_b, half_width)
    first = None
    for number, along in enumerate(axes):
        if any(np.array_equal(along, tried) for tried in axes[:number]):
            continue                                    # a candidate that repeats the line
        support = _support_along(point_a, point_b, along, limb, classes, black, half_width, radius, margin)
        if support[0] is not None:
            return support
        first = first or support
    return first


def _support_along(point_a: np.ndarray, point_b: np.ndarray, along: np.ndarray, limb: int, classes: Classes,
                   black: np.ndarray, half_width: float, radius: float,
                   margin: float) -> Tuple[Optional[float], int, int, int, int]:
    """How well the stick of ``limb`` drawn between two dot centres with its long axis ``along`` shows:
    (score or None, samples, own colour, neighbouring colour, black). The stick must show the limb's
    dimmed colour on a share of what later drawing leaves uncovered (cover, and its blends with the
    stick, are neutral) and almost never black (black that JPEG made of the stick beside a dot aside, and
    on the seam of a dark stick drawn over it when enough of the stick shows); its score shrinks toward 0
    for short sticks, whose few samples are weak evidence."""
    samples = _stick_samples(point_a, point_b, along, half_width, radius, margin)
    total = len(samples)
    if total == 0:
        return None, 0, 0, 0, 0
    dark_samples = samples[sample(black, samples, False)]
    gaps = dark_samples[~_dimmed_beside_dot(dark_samples, limb, classes)]
    dark = len(gaps)
    colours = sample(classes.limb, samples, -1)
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
            own, rival = _limb_colour_counts(colours[~covering & ~sample(classes.by_bright, samples, True)], limb)
    blue_leg = limb in _BLUE_LEG_LIMBS
    max_dark = _MAX_DARK_BLUE_LEG if blue_leg else _MAX_DARK
    if dark > max(1, max_dark * total) and own >= _SEAM_MIN_OWN * total:
        dark -= int((sample(classes.dark_cover, gaps, -1) > limb).sum())
    # own colour is needed on a share of what later sticks leave uncovered (blurred hand lines beside
    # their bright cores take every colour, the left leg's blue-ish ones among them: no cover there)
    uncovered = total
    if own < _MIN_OWN * total and not blue_leg:
        uncovered -= int(((colours > limb) & ~sample(classes.by_bright, samples, True)).sum())
    if own >= max(2, _MIN_OWN * uncovered, 0.6 * rival) and dark <= max(1, max_dark * total):
        return (own - 2.0 * dark) / (total + _PRIOR_SAMPLES), total, own, rival, dark
    return None, total, own, rival, dark


_STICK_LUMA = 0.8 * DIMMED
"""A stick pixel keeps at least this fraction of its colour's luma."""


def _dimmed_beside_dot(points: np.ndarray, limb: int, classes: Classes) -> np.ndarray:
    """Which (black) ``points`` lie by a joint-bright pixel and keep the luma of the limb's dimmed colour:
    stick pixels to which JPEG gave the chroma of a dot drawn over the stick, cancelling their own (a
    pure blue stick keeps so little luma that it turns black)."""
    return sample(classes.by_bright, points, False) & \
        (sample(classes.luma, points, 0.0) >= _STICK_LUMA * BODY_YCC[limb, 0])


_SEAM_MIN_OWN = 0.4
"""Black on such a seam is forgiven only to a stick that shows its own colour on this fraction of its
samples: a stick that is not there, reaching across a real one and the dark stick beside it, shows less."""


def limb_links(joints: Joints, classes: Classes, dots: Dots, scale: float) -> List[Link]:
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
    links: List[Link] = []
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
        # quick rejection: black on the stick's axis means no stick
        dark = _fewest_dark(_drawn_lines(joints.xy[i], joints.xy[j], half_width, 7), black)
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
                links.append(Link(score + bonus, int(a), int(b)))
                continue
            gap = float(np.hypot(*(point_b - point_a)))
            if (gap <= touching or total < _FEW_SAMPLES or limb in _HEAD_LIMBS) and gap <= near \
                    and (dark_count == 0 or gap <= touching) \
                    and not virtual:
                core = point_a + np.linspace(0.0, 1.0, max(int(2 * gap), 2) + 1)[:, None] * (point_b - point_a)
                if sample(black, core, False).any():
                    continue
                if limb in _HEAD_LIMBS:
                    # what little of the stick shows between the dots still votes
                    shown = (own - rival) / (total + 2.0)
                    links.append(Link(_TOUCHING_SCORE + 0.2 * shown + bonus, int(a), int(b)))
                elif line_shows(core, limb, classes) and _shows_wide(core, limb, classes, 0.5 * half_width):
                    links.append(Link(_TOUCHING_SCORE + bonus, int(a), int(b)))
    return _without_partial_sticks(links, joints, classes, dots.radius, scale)


def _without_partial_sticks(links: List[Link], joints: Joints, classes: Classes, radius: float,
                            scale: float) -> List[Link]:
    """Drop a link that ends on a dot lying on a longer stick of the same limb from the same joint when the
    limb's colour goes on past that dot, and the far dot is strong enough to stand alone and joined by
    nothing else (hidden joints, and the dot on the stick, aside): the dot on the stick, another person's
    joint, is only drawn over it, and the stick goes on to the joint's true partner. When the link takes
    a dot on the stick by a reading other than its best (an ankle on another person's shin also read as
    the knee), the far dot may be joined to others too."""
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
        limb = LIMB_OF[(int(joints.part[near]), part)]
        partners = [far for number, far in others if links[number].score > 0
                    and joints.score[far] >= LONE_DOT_FRACTION[1]]
        for number, far in others:
            on_top = {int(joints.dot[near]), int(joints.dot[far])}
            if any(_on_stick(joints.xy[far], start, joints.xy[partner], half_width)
                   and (not joints.primary[far] or joined.get(int(joints.dot[partner]), set()) <= on_top)
                   for partner in partners) \
                    and _stick_goes_on(start, joints.xy[far], limb, classes, radius, scale):
                partial.add(number)
    return [link for number, link in enumerate(links) if number not in partial]


def _on_stick(point: np.ndarray, start: np.ndarray, end: np.ndarray, half_width: float) -> bool:
    """Whether ``point`` lies on the middle line of the stick from ``start`` to ``end``, short of ``end``."""
    length, along, across = directions(start, end)
    offset = point - start
    return float(np.hypot(*offset)) < length and float(offset @ along) > 0 \
        and abs(float(offset @ across)) <= 0.5 * half_width


def _crossing(samples: np.ndarray, start: np.ndarray, end: np.ndarray, limb: int, classes: Classes,
              half_width: float, margin: float) -> np.ndarray:
    """Which stick samples show ``limb``'s colour that goes on just outside the stick on either side
    (the samples' projections moved out across it): a stick of that limb crossing over it."""
    colour = sample(classes.limb, samples, -1) == limb
    if not colour.any():
        return colour
    _, _, across = directions(start, end)
    centre = samples - ((samples - start) @ across)[:, None] * across
    reach = half_width + 2.0 * margin
    outside = [sample(classes.limb, centre + side * reach * across, -1) == limb for side in (-1.0, 1.0)]
    return colour & (outside[0] | outside[1])


def _limb_colour_counts(colours: np.ndarray, limb: int) -> Tuple[int, int]:
    """How many of the sampled limb ``colours`` (see :attr:`Classes.limb`) are the limb's own, and how
    many the commoner of its two neighbours round the wheel."""
    counts = np.bincount(colours + 1, minlength=NUM_BODY + 1)[1:]
    return int(counts[limb]), int(max(counts[(limb - 1) % NUM_BODY], counts[(limb + 1) % NUM_BODY]))


def stick_pixels(start: np.ndarray, end: np.ndarray, limbs: Tuple[int, ...], classes: Classes, half_width: float,
                 radius: float) -> Tuple[np.ndarray, np.ndarray, float]:
    """The pixels of the ``limbs``' colours on the line from the dot at ``start`` toward ``end`` (within a
    stick's half width and a pixel of it, past the start's dot): their offsets from ``start``, their
    distances along the line, and its length."""
    length, along, across = directions(start, end)
    (rows, columns), _ = window_around(classes.limb.shape, *((start + end) / 2), length / 2 + half_width + 1)
    ys, xs = np.nonzero(np.isin(classes.limb[rows, columns], limbs))
    offsets = np.column_stack([xs + columns.start, ys + rows.start]) - start
    on_line = (np.abs(offsets @ across) <= half_width + 1) & (offsets @ along > radius)
    return offsets[on_line], offsets[on_line] @ along, length


def line_shows(line: np.ndarray, limb: int, classes: Classes) -> bool:
    """Whether the limb's colour shows on the straight line between two close dots more than either
    neighbouring colour (a body stick is too wide to hide under two dots that do not touch)."""
    own, rival = _limb_colour_counts(sample(classes.limb, line, -1), limb)
    return own > rival


def _shows_wide(line: np.ndarray, limb: int, classes: Classes, offset: float) -> bool:
    """Whether the limb's colour also shows on a line ``offset`` to one side of ``line``: a body stick is
    wide, a hand line between two hand dots (which hand lines colour in every hue) is thin."""
    _, _, across = directions(line[0], line[-1])
    return any(line_shows(line + side * offset * across, limb, classes) for side in (-1.0, 1.0))
