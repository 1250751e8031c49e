"""Joints of shrunk JPEG maps moved, heads relabelled, head pieces joined (to heads and to headless necks)
and hidden head dots added where drawing the people again fits the map best.

At half size a dot keeps about one JPEG chroma sample; over or beside other drawing (a knee between its
thigh and another person's shin) its colour centre, and the luma centre :func:`.placing.centre_by_luma`
finds, can lie 2-4 px off the disk. Drawing the people again (:class:`.redraw.Redraw`) judges a joint's
place with its dot and sticks together: each limb joint goes to the place within ``_REACH`` px where the
drawing fits the map best (whole-pixel steps, then half), when that removes a good share of the mismatch
over the joint's window and adds almost none anywhere in it. The second rule keeps joints that are in
place beside colour nothing drawn explains: a knee by the border whose ankle lies past it (its shin, drawn
nowhere) would slide onto that shin and fit better over all, leaving its own dot unexplained. Head joints
stay where they are: five small dots of neighbouring hues, each beside the others' unexplained colour
more often than off its own place (moving them too lost 10 scenes in 300).

Nor does drawing choose head labels in general: with the true places, the true labels draw best (239 of 240
heads), but with places read 1 px off and dots missing, other labels explain a neighbour's colour better
(choosing every head's labels so lost 40 scenes and mended 9). Only a head whose labels break the layout of
a face, which :func:`.heads.untangle_heads` left (its mends lose an eye or rename one, or tie: an r-ear
beside its r-eye read as the l-eye), takes the mend that draws best; the eye and ear a head lacks on one
side, overlapping in one dot of the hue between theirs, are split from it where that draws better; and a
head piece read apart from the body beside it joins it under the labels that keep that layout and draw best,
as does a head read in pieces up the stick of a neck (with the head dots it holds), where the stick shows
the nose. Last, a head dot the colour parse never read (half under a neighbour) is added where drawing it
with its sticks explains the map; only dots whose stick reaches the body, as a dot's colour alone is what a
neighbour's blur gives.
"""
from __future__ import annotations

import itertools
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..pose import HEAD_PARTS, NOSE, NUM_BODY
from ..render import BODY_COLORS
from .geometry import directions, distances_to_others, pairwise
from .hands import by_hand
from .heads import HEAD_CHAIN, head_labellings, held_head_parts, layout_breaks, layout_mends
from .redraw import READ_TWICE, Box, Redraw, extent_of, holds_stick_end

_LIMB_PARTS = [part for part in range(NUM_BODY) if part not in HEAD_PARTS]
_REACH = 3.0            # map pixels a joint may move along each axis
_IN_PLACE = 0.05        # share of the mismatch that no whole-pixel step along an axis removes: in place
_GAIN = 1 / 3           # share of the mismatch over the joint's window that a move must remove
_LOSS = 0.12            # mismatch a move may add at some pixels, per unit it removes at others
_PIECE_REACH = 3.0      # dot radii from a body's head or neck within which a head piece may join it
_HIDDEN_GAIN = 0.2      # share of the mismatch over a head that adding a hidden head dot must remove
_HIDDEN_FIT = 0.6       # ... drawing what the map leaves unexplained (see Redraw.gain)
_HIDDEN_CANDIDATES = 3  # places tried per missing head part
_HEAD_SPAN = 6.0        # dot radii from a body's head dots within which a hidden head dot may lie
_NECK_REACH = 16.0      # dot radii from a neck to a head piece it may take
_NECK_STEPS = 2         # hue steps a head dot may take to join such a neck
_NECK_FIT = 0.4         # ... drawing what the map leaves unexplained (see Redraw.gain)
_STEPS = (1.0, 0.5)
_DIRECTIONS = np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)], np.float64)


def refine_limb_joints(redraw: Redraw, bodies: List[np.ndarray]) -> List[np.ndarray]:
    """``bodies`` (in drawing order) with each limb joint at its best-fitting place, one joint at a time."""
    bodies = [body.copy() for body in bodies]
    for body in bodies:
        for part in _LIMB_PARTS:
            if not np.isnan(body[part, 0]):
                body[part] = _best_place(redraw, bodies, body, part)
    return bodies


def _best_place(redraw: Redraw, bodies: List[np.ndarray], body: np.ndarray, part: int) -> np.ndarray:
    start = body[part].copy()
    box = redraw.box((start - _REACH, start + _REACH))
    if box is None:         # off the map
        return start

    def mismatch(place: np.ndarray) -> np.ndarray:
        body[part] = place
        return redraw.mismatch(box, bodies)

    before = mismatch(start)
    total = float(before.sum())
    nearest = min(float(mismatch(start + step).sum()) for step in _DIRECTIONS[:4])
    best, least = start, total
    if total - nearest >= _IN_PLACE * total:
        best, least = _pattern_search(lambda place: float(mismatch(place).sum()), start, total)
    change = mismatch(best) - before
    body[part] = start
    worse, better = float(change[change > 0].sum()), float(-change[change < 0].sum())
    return best if total - least > _GAIN * total and worse < _LOSS * better else start


def _pattern_search(cost: Callable[[np.ndarray], float], start: np.ndarray, least: float,
                    reach: float = _REACH) -> Tuple[np.ndarray, float]:
    """Whole-pixel steps, then half, within ``reach`` of ``start`` along each axis: the first of the eight
    steps that costs less is taken, until none does."""
    best = start
    for step in _STEPS:
        improved = True
        while improved:
            improved = False
            for place in best + step * _DIRECTIONS:
                if np.abs(place - start).max() <= reach and (value := cost(place)) < least:
                    best, least, improved = place, value, True
                    break
    return best, least


def relabel_broken_heads(redraw: Redraw, bodies: List[np.ndarray]) -> List[np.ndarray]:
    """``bodies`` with each head that breaks the layout of a face relabelled by the mend (see
    :func:`.heads.layout_mends`) whose drawing fits the map best, when it fits better than the head as read."""
    bodies = [body.copy() for body in bodies]
    for number, body in enumerate(bodies):
        mends = layout_mends(body) if layout_breaks(body) else []
        box = redraw.box(extent_of(body[list(HEAD_CHAIN) + [1]])) if mends else None     # head and neck
        if box is None:
            continue

        def misfit(candidate: np.ndarray) -> float:
            bodies[number] = candidate
            return float(redraw.mismatch(box, bodies).sum())

        as_read = misfit(body)
        fits = [misfit(relabelled) for _, relabelled in mends]
        best = int(np.argmin(fits))
        bodies[number] = mends[best][1] if fits[best] < as_read else body
    return bodies


# (eye, ear, the other side's eye and ear, and the label their blend is read as: the hue between the l-eye's
# and the l-ear's is the r-ear's, that between the r-eye's and the r-ear's lies by the l-eye's)
_SIDES = ((14, 16, 15, 17, 16), (15, 17, 14, 16, 15))
_BLEND_REACH = 1.5
"""Dot radii from where a head's missing eye and ear would lie (the held ones mirrored) to a lone head dot
that may be their blend."""
_BLEND_SPREAD = 0.5     # dot radii, at least, from a blend to each of the eye and ear split from it
_SPLIT_REACH = 1.0      # map pixels the eye and ear split from a blend may move from the first guess


def split_eye_ear_blends(redraw: Redraw, bodies: List[np.ndarray], radius: float) -> List[np.ndarray]:
    """``bodies`` where a head with its nose and neck but neither dot of one side takes that side's eye and
    ear in place of their blend (see :func:`_blend_splits`): the split that keeps the layout of a face and
    draws best, when it fits the map better than the head as read. The two lie either side of the blend, the
    step between them searched within ``_SPLIT_REACH`` of the guess (heads are not symmetric) and kept
    ``_BLEND_SPREAD`` dot radii or more from the blend; the drawing is judged over the head and ``_REACH`` px
    around where the split may go."""
    bodies = [body.copy() for body in bodies]
    pairs = [side[:2] for side in _SIDES]
    pieces = {number: body for number, body in enumerate(bodies) if _head_piece(body) and
              (len(held_head_parts(body)) == 1 or tuple(held_head_parts(body)) in pairs)}
    for number in range(len(bodies)):
        for side in _SIDES:
            splits = list(_blend_splits(bodies[number], side, pieces, radius))
            if not splits:
                continue
            reach = max(float(np.abs(offset).max()) for *_, offset in splits) + _REACH
            box = redraw.box(extent_of(np.vstack([bodies[number][list(HEAD_CHAIN) + [1]]] +
                                                 [[blend - reach, blend + reach] for _, blend, _, _ in splits])))
            if box is None:
                continue
            best, least = None, float(redraw.mismatch(box, bodies).sum())
            for other, _, head, offset in splits:

                def with_split(shift: np.ndarray) -> List[np.ndarray]:
                    return [head(shift) if index == number else np.full_like(each, np.nan) if index == other
                            else each for index, each in enumerate(bodies)]

                def misfit(shift: np.ndarray) -> float:
                    if np.hypot(*shift) < _BLEND_SPREAD * radius:
                        return np.inf
                    after = with_split(shift)
                    return np.inf if layout_breaks(after[number]) else float(redraw.mismatch(box, after).sum())

                shift, fit = _pattern_search(misfit, offset, misfit(offset), _SPLIT_REACH)
                if fit < least:
                    best, least = (other, with_split(shift)), fit
            if best is not None:
                pieces.pop(best[0], None)
                bodies = best[1]
    return _drawn(bodies)


_Split = Tuple[Optional[int], np.ndarray, Callable[[np.ndarray], np.ndarray], np.ndarray]
_NOWHERE = np.full(2, np.nan)


def _blend_splits(body: np.ndarray, side: Tuple[int, int, int, int, int], pieces: Dict[int, np.ndarray],
                  radius: float) -> Iterator[_Split]:
    """(the head piece taken, or None; the blend's place; ``body`` split, given half the step from the missing
    eye to its ear; a first guess of that) for each place the blend of the eye and ear that ``body`` lacks, on
    the other side from ``side``, may be. Shrunk, an eye and its ear overlap into one dot of the hue between
    theirs: an l-eye and l-ear read as an r-ear, an r-eye and r-ear as an l-eye. So the blend may be:

    - the head's own dot of that label, across the neck-to-nose line from its other dot of the side (read as
      the l-eye, the l-eye then is either undrawn or where the new r-eye mirrors to across that line);
    - the only dot of the side the head holds, across the line from a piece of the side's eye and ear within
      ``_PIECE_REACH`` dot radii of the nose, which joins it;
    - a lone head dot within ``_BLEND_REACH`` dot radii of where the held eye and ear mirror to.

    The guess: the missing eye where the held one mirrors to (the missing ear where the held one does, when
    the blend was read as the held eye)."""
    eye, ear, other_eye, other_ear, read_as = side
    if np.isnan(body[[NOSE, 1, read_as], 0]).any() or not np.isnan(body[[other_eye, other_ear], 0]).all():
        return
    nose = body[NOSE]
    _, along, across = directions(body[1], nose)

    def left(point: np.ndarray) -> bool:      # of the neck-to-nose line, as drawn
        return bool((point - nose) @ across < 0)

    def mirrored(point: np.ndarray) -> np.ndarray:      # across that line
        offset = point - nose
        return nose + 2 * (offset @ along) * along - offset

    def split(blend: np.ndarray, held_eye: np.ndarray, held_ear: np.ndarray,
              mirror_eye: bool = False) -> Callable[[np.ndarray], np.ndarray]:
        def head(shift: np.ndarray) -> np.ndarray:
            new_eye = blend - shift
            placed = body.copy()
            placed[[other_eye, other_ear, eye, ear]] = \
                new_eye, blend + shift, mirrored(new_eye) if mirror_eye else held_eye, held_ear
            return placed
        return head

    def guess(blend: np.ndarray, held_eye: np.ndarray, held_ear: np.ndarray) -> np.ndarray:
        return blend - mirrored(held_eye) if read_as == ear else mirrored(held_ear) - blend

    blend = body[read_as]
    if np.isnan(body[[eye, ear], 0]).any():
        for other, piece in pieces.items():
            if tuple(held_head_parts(piece)) == (eye, ear) and \
                    left(piece[eye]) != left(blend) and \
                    pairwise(piece[[eye, ear]], body[[NOSE]]).min() <= _PIECE_REACH * radius:
                yield other, blend, split(blend, piece[eye], piece[ear]), guess(blend, piece[eye], piece[ear])
        return
    if left(body[ear]) != left(body[eye]):
        offset = guess(blend, body[eye], body[ear])
        if read_as == ear:
            yield None, blend, split(blend, body[eye], _NOWHERE), offset
        else:
            yield None, blend, split(blend, _NOWHERE, body[ear]), offset
            yield None, blend, split(blend, _NOWHERE, body[ear], mirror_eye=True), offset
    eye_mirrored = mirrored(body[eye])
    middle = 0.5 * (eye_mirrored + mirrored(body[ear]))
    for other, piece in pieces.items():
        place = piece[~np.isnan(piece[:, 0])][0]
        if len(held_head_parts(piece)) == 1 and np.hypot(*(place - middle)) < _BLEND_REACH * radius:
            yield other, place, split(place, body[eye], body[ear]), place - eye_mirrored


def join_head_pieces(redraw: Redraw, bodies: List[np.ndarray], radius: float) -> List[np.ndarray]:
    """``bodies`` with each head piece (head dots without a neck) or lone head dot by a body's head joined to
    it, under the labels that keep the layout of a face and draw best, when that fits the map better than
    the piece apart. The body's head dots and a lone dot may take a hue step; a piece of two or more dots
    keeps its labels: the stick between them named them, and renamed, a hue neighbour's dot that was never
    read (an l-eye half under its l-ear) would lure one to its label (3 scenes in 300 worse). Only when no
    face fits its labels may its dots take a hue step too (an r-eye and an l-eye read as the r-ear, beside
    a body holding the nose and the l-ear)."""
    bodies = [body.copy() for body in bodies]
    for number in range(len(bodies)):
        for other in range(len(bodies)):
            joined = _joined(redraw, bodies, number, other, radius) if other != number else None
            if joined is not None:
                bodies[number], bodies[other] = joined, np.full_like(bodies[other], np.nan)
    return _drawn(bodies)


def _joined(redraw: Redraw, bodies: List[np.ndarray], number: int, other: int, radius: float) -> Optional[np.ndarray]:
    """Body ``number`` with the head piece ``other`` joined to it (see :func:`join_head_pieces`), or None."""
    body, piece = bodies[number], bodies[other]
    held = [int(part) for part in np.flatnonzero(~np.isnan(piece[:, 0]))]
    head = held_head_parts(body)
    if np.isnan(body[1, 0]) or not _head_piece(piece) or len(head) + len(held) > len(HEAD_CHAIN) or \
            pairwise(piece[held], body[head + [1]]).min() > _PIECE_REACH * radius:
        return None
    places = np.vstack([body[head], piece[held]])
    box = redraw.box(extent_of(np.vstack([places, body[[1]]])))
    if box is None:
        return None
    steps = [1] * len(head) + [int(len(held) == 1)] * len(held)
    labellings = head_labellings(body, head + held, places, steps)
    if not labellings and len(held) > 1:        # its own labels fit no face: its dots may step too
        labellings = head_labellings(body, head + held, places, [1] * len(steps))
    best, least = None, float(redraw.mismatch(box, bodies).sum())
    for _, relabelled in labellings:
        trial = [relabelled if index == number else np.full_like(piece, np.nan) if index == other else kept
                 for index, kept in enumerate(bodies)]
        misfit = float(redraw.mismatch(box, trial).sum())
        if misfit < least:
            best, least = relabelled, misfit
    return best


def join_heads_to_necks(redraw: Redraw, bodies: List[np.ndarray], blue: np.ndarray,
                        hidden_nose: bool) -> List[np.ndarray]:
    """``bodies`` with each neck given the head pieces near it that draw best with it and its own head dots
    (see :func:`_headed`); ``blue``: the hand dots; ``hidden_nose``: whether a nose may be added too
    (half-size maps: at 0.75x the one added in 300 maps was 4.7 px off its hidden dot)."""
    bodies = [body.copy() for body in bodies]
    for number in range(len(bodies)):
        headed = _headed(redraw, bodies, number, blue if hidden_nose else None)
        if headed is not None:
            bodies[number] = headed[0]
            for other in headed[1]:
                bodies[other] = np.full_like(bodies[other], np.nan)
    return _drawn(bodies)


def _headed(redraw: Redraw, bodies: List[np.ndarray], number: int,
            blue: Optional[np.ndarray]) -> Optional[Tuple[np.ndarray, Tuple[int, ...]]]:
    """(body ``number``, a neck, with head pieces joined to it, and those pieces), or None. At half size a head
    lies 5-8 dot radii up its neck-nose stick, past :func:`join_head_pieces`' reach, and its dots may be read
    apart with hue neighbours' labels (the nose as the l-ear); the stick shows where the nose is. So each
    choice of the pieces within ``_NECK_REACH`` dot radii (a search limit), with the head dots the body holds
    (a nose and the r-eye read as the l-eye, the rest a piece whose r-ear was read as the nose: two hue steps
    off, which :func:`join_head_pieces` does not take), under each labelling that holds a nose and keeps the
    layout of a face, is drawn; the one drawing best is taken when it fits the map better than the pieces
    apart and draws what the map leaves unexplained (fit ``_NECK_FIT``: a head read whole elsewhere would take
    wrong labels). A dot may move ``_NECK_STEPS`` hue steps (an r-ear read as the nose). No choice holding one
    dot read twice is tried: with the nose hidden, one of its readings would be taken as the nose. Unless
    ``blue`` (the hand dots) is None, the pieces as read are also tried with a hidden nose added where drawing
    it fits (:func:`_hidden_dot`); relabelled too, a head's dots took shifted labels below the added nose (6
    maps of 700 worse)."""
    body = bodies[number]
    if np.isnan(body[1, 0]):
        return None
    own = held_head_parts(body)
    held = {other: held_head_parts(piece) for other, piece in enumerate(bodies) if _head_piece(piece)}
    near = [other for other, parts in held.items()
            if pairwise(bodies[other][parts], body[[1]]).min() <= _NECK_REACH * redraw.radius]
    box = redraw.box(extent_of(np.vstack([body[[1]]] + [bodies[other] for other in near]))) if near else None
    if box is None:
        return None
    best, least = None, float(redraw.mismatch(box, bodies).sum())
    choices = itertools.chain.from_iterable(itertools.combinations(near, count) for count in range(1, len(near) + 1))
    for taken in choices:
        parts = own + [part for other in taken for part in held[other]]
        places = np.vstack([body[own]] + [bodies[other][held[other]] for other in taken])
        if len(parts) > len(HEAD_CHAIN) or \
                (distances_to_others(places) < READ_TWICE * redraw.radius).any():
            continue
        for labels, head in head_labellings(body, parts, places, [_NECK_STEPS] * len(parts)):
            hidden = NOSE not in labels    # the pieces as read, with the nose their drawing adds
            if hidden and (blue is None or list(labels) != parts):
                continue
            trial = [head if index == number else np.full_like(kept, np.nan) if index in taken else kept
                     for index, kept in enumerate(bodies)]
            if hidden:
                head = _hidden_dot(redraw, trial, number, blue)
                if head is None or np.isnan(head[NOSE, 0]):
                    continue
                trial[number] = head
            misfit = float(redraw.mismatch(box, trial).sum())
            if misfit < least and redraw.gain(box, bodies, trial)[1] >= _NECK_FIT:
                best, least = (head, taken), misfit
    return best


def _drawn(bodies: List[np.ndarray]) -> List[np.ndarray]:
    """``bodies`` without those left empty by joins."""
    return [body for body in bodies if not np.isnan(body[:, 0]).all()]


def _head_piece(body: np.ndarray) -> bool:
    """Whether ``body`` holds head dots and nothing else."""
    held = ~np.isnan(body[:, 0])
    return bool(held.any()) and not held[_LIMB_PARTS].any()


def add_hidden_head_dots(redraw: Redraw, bodies: List[np.ndarray], blue: np.ndarray) -> List[np.ndarray]:
    """``bodies`` with head dots the colour parse never read (half under a neighbour: an l-eye under its
    l-ear, a nose under the eyes) added, best first, where drawing them fits the map (see
    :func:`_hidden_dot`); ``blue``: the hand dots."""
    bodies = [body.copy() for body in bodies]
    for number in range(len(bodies)):
        while (added := _hidden_dot(redraw, bodies, number, blue)) is not None:
            bodies[number] = added
    return bodies


def _hidden_dot(redraw: Redraw, bodies: List[np.ndarray], number: int, blue: np.ndarray) -> Optional[np.ndarray]:
    """Body ``number`` (holding a neck and a head dot) with the missing head dot added that gains most over
    its head, or None. The dot and its sticks must remove ``_HIDDEN_GAIN`` of the mismatch there, draw what
    the map leaves unexplained, and keep the layout of a face; where it may go, see :func:`_hidden_places`."""
    body = bodies[number]
    head = held_head_parts(body)
    box = None if np.isnan(body[1, 0]) or not head else redraw.box(extent_of(body[head + [1]]))
    if box is None:
        return None
    x0, y0, x1, y1 = box
    unexplained = redraw.target[y0:y1, x0:x1] - redraw.draw(box, bodies)
    best, most = None, _HIDDEN_GAIN * float(np.square(unexplained).sum())
    for part, place in _hidden_places(redraw, bodies, number, blue, unexplained, box):
        added = body.copy()
        added[part] = place
        if layout_breaks(added):
            continue
        gain, fit = redraw.gain(box, bodies, bodies[:number] + [added] + bodies[number + 1:])
        if gain > most and fit >= _HIDDEN_FIT:
            best, most = added, gain
    return best


def _hidden_places(redraw: Redraw, bodies: List[np.ndarray], number: int, blue: np.ndarray,
                   unexplained: np.ndarray, box: Box) -> Iterator[Tuple[int, np.ndarray]]:
    """(part, place) where body ``number`` may have a head dot it lacks: the few pixels over ``box`` that show
    most ``unexplained`` colour of the part's hue, within ``_HEAD_SPAN`` dot radii of the body's head dots.
    Only parts whose stick reaches a joint the body holds: a dot drawn without a stick has only its colour,
    which the blur of a hue neighbour explains as well (8 of 11 such dots added were made up). Not within
    reach of a hand, whose lines run through every hue."""
    body = bodies[number]
    head = held_head_parts(body)
    for part in HEAD_CHAIN:
        if part in head or not holds_stick_end(body, part):
            continue
        colour = np.array(BODY_COLORS[part], np.float32)
        along = unexplained @ (colour / np.linalg.norm(colour))
        for flat in np.argsort(along, axis=None)[::-1][:_HIDDEN_CANDIDATES]:
            row, column = divmod(int(flat), along.shape[1])
            place = np.array([[box[0] + column, box[1] + row]], np.float64)
            if pairwise(place, body[head]).min() <= _HEAD_SPAN * redraw.radius and \
                    not by_hand(place, blue, redraw.radius)[0]:
                yield part, place[0]
