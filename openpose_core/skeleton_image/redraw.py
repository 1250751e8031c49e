"""Check a skeleton-map parse by drawing it again (analysis by synthesis).

The parse (:mod:`.read`) reads people from colour evidence one dot and one stick at a time. In shrunk JPEG
maps that evidence is weak: the stick between two pieces of a person may look too patchy to join them,
and a blend of two dots may pass for one more joint. Drawing the parsed people the way the renderer does
(at the map's scale, supersampled, then area-averaged like a resized map) and comparing the drawing with
the map, both slightly blurred against JPEG's ringing, judges such choices on everything they draw at once.

Changes are tried best first while they bring the drawing closer to the map: join two pieces of people
that hold no part twice (drawing the sticks between them), or drop a joint (its dot and sticks). Two
pieces that both hold one part may join keeping either one's: the r-shoulder's orange dot, also read as
the neck, may take the left arm away from the body that holds the real neck. In
shrunk JPEG maps (``rename_dots``), where a dot keeps about one chroma sample, a piece may also join a
body through one of its dots renamed nose: a nose under purple eyes reads as the pink l-ear (or the
orange neck), and its head then lacks the long neck-nose stick that would have joined it. Likewise a limb
dot read as its hue neighbour (an r-wrist's lime as the l-shoulder's green, a hip's azure as the knee's)
may join a body holding that part, renamed to the neighbour, when the body holds a joint it sticks to.
A change counts only when what it draws fits the colour the drawing leaves unexplained (its *fit*, see
:meth:`Redraw.gain`), so a stick is not drawn across a dot of another colour just because it lands on
colour. Last, of two people holding one part a dot radius apart (JPEG can find a dot twice), the copy
that the other person's drawing already explains goes, and so does a lone dot on another person's joint of
the next hue.

In shrunk JPEG maps a wrist or ankle dot may lose its colour altogether while the forearm or shin
leading to it still shows: :func:`add_missing_joints` (run after the hand pieces are set aside) adds such
a joint where that unexplained stick ends on black, and a joint lost between two of its sticks (a left
hip between the neck's cyan stick and the azure thigh) where they meet, joining the pieces either side.
In any JPEG map it gives a dot left loose to the person lacking that part whose drawing it completes: a
head dot (an ear, whose only stick hides under the head dots) to the head beside it, a wrist whose
forearm looked too patchy to link to the elbow's person, when the dot and sticks drawn there fit (an ear
without its eye draws no stick, and JPEG dims a small dot alone: it needs a looser fit, clear of other
joints, whose blend it might be). A limb dot still loose may then stand alone, when the dot drawn there
(under or over everyone) fits.

Limits: otherwise only joints the parse found are judged. A stick whose end joint was not found (a nose
under an elbow dot) leaves its colour unexplained, and a joint whose own stick runs under it can then
look wrong and be dropped (one scene of 300 at 0.75x). A stick ending under other drawing or at the
border adds nothing: where its joint lies is unknown.
"""
from __future__ import annotations

import itertools
import math
from typing import Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..pose import HEAD_PARTS, NECK, NOSE, NUM_BODY
from ..render import BODY_COLORS, BODY_RADIUS, DRAWN_LIMBS, LIMB_COLORS, STICK_WIDTH
from .colours import NEXT_HUES, SMALL_DOTS
from .people import EARS, beyond_eye, drop_lone, lone_part, on_next_hue

_SIGMA = 1.0            # blur of map and drawing, map pixels
_SUPERSAMPLE = 2        # drawing pixels per drawn (unscaled) pixel
_SHIFT = 4              # OpenCV fixed-point bits: sub-pixel drawing
_OUTLINE = np.linspace(0.0, 2.0 * np.pi, 72, endpoint=False)
_COS, _SIN = np.cos(_OUTLINE)[None, :, None], np.sin(_OUTLINE)[None, :, None]
_DROP_FIT = 0.2         # fit: 1 when a change draws exactly the unexplained colour, 0 for half of it
_JOIN_FIT = 0.4
_LONE_JOIN_FIT = 0.8    # one stick to a one-joint piece: another person's stick of that limb may pass there
_LONE_CLASH_FIT = 0.6   # ... in place of the body's own reading of that part, a crumb of the stick it lengthens
_NOSE_JOIN_FIT = 0.6    # renaming overrides the dot's colour: the sticks must show it
_HUE_JOIN_FIT = 0.8     # ... all the more for a limb dot, which has only sticks of its own
_NOSE_LOOKALIKES = (NECK, 17)  # the neck's orange and the l-ear's pink lie either side of the nose's red
_ECHO_COST = 0.05       # of a whole dot's drawing: what dropping an echo may cost
_HUE_ECHO_COST = 0.25   # ... an echo in the next hue, which the other dot's colour explains less well
READ_TWICE = 0.5        # dot radii: two readings (of one person, or of a head) closer are one dot read twice
_TWICE_COST = 0.1       # ... of a whole dot's drawing: what dropping the copy may cost (a true one: 0.35 up)
_ADD_FIT = 0.6          # a joint added at a stick's end: its dot and stick must draw what the map shows
_DOT_ADD_FIT = 0.4      # ... a dot drawn alone (an ear without its eye, a lone wrist): JPEG dims it on black
_CLEAR = 1.5            # dot radii from other joints of a dot added alone: nearer, it may be their blend
_STICK_HUE = 0.9        # cosine between unexplained colour and a stick's colour, to count as that stick
_STICK_LEVEL = 0.4      # ... and at least this share of its brightness
_BACKGROUND = 60.0      # brightest channel (blurred) that still counts as black beyond a stick's end
_BORDER = 2.0           # pixels from the map's border: a stick's tip nearer may run off the map
_LIMB_PARTS = range(1, 14)  # not head joints: their short sticks hide under the head dots
_LIMB_SET = frozenset(_LIMB_PARTS)
_L_KNEE, _L_ANKLE = 12, 13
_LONE_PARTS = (*range(2, 11), _L_ANKLE)  # not neck or head (blends), nor the hand dots' blue or its neighbour
_MIDDLE_JOINTS = (3, 6, 9, 12)          # elbows and knees
_BEND = (math.cos(math.radians(90.0)), math.cos(math.radians(20.0)))    # a limb bending at its middle joint
_HEAD_REACH = 5.0       # dot radii from a head's nearest dot to a loose head dot it may take
_MAX_CHANGES = 60
_SWAP_ROOM = 1.5        # dot radii about each of two joints swapped that hold no other joint
_HUE_LIMBS = [limb for limb in DRAWN_LIMBS if _LIMB_SET.issuperset(limb) and limb[1] in NEXT_HUES[limb[0]]]
_LIMB_STARTS, _LIMB_ENDS = np.array(DRAWN_LIMBS).T
_LIMB_OF = {frozenset(limb): index for index, limb in enumerate(DRAWN_LIMBS)}
_NEIGHBOURS = {part: [other for limb in DRAWN_LIMBS if part in limb for other in limb if other != part]
               for part in range(NUM_BODY)}

Box = Tuple[int, int, int, int]                 # x0, y0, x1, y1 in map pixels, end exclusive
Extent = Optional[Tuple[np.ndarray, np.ndarray]]  # low and high corners of the points a change moves


class Change(NamedTuple):
    """("drop", person, part), ("join", person, other), ("clash", piece, body, part): join ``piece`` to
    ``body``, both holding ``part``, without the piece's; or ("rename", piece, body, part, to): join ``piece``
    to ``body`` with the piece's ``part`` renamed ``to``; or ("swap", person, part=part, to=to): the person's
    ``part`` and ``to`` trade places."""
    kind: str
    person: int
    other: int = -1
    part: int = -1
    to: int = -1


def refit(redraw: "Redraw", bodies: List[np.ndarray], rename_dots: bool = False) -> List[np.ndarray]:
    """``bodies`` (18 x 2 positions in the map, NaN = missing) checked against the map of ``redraw``:
    pieces joined (with ``rename_dots``, also through a dot renamed nose or a hue neighbour), two joints of
    a limb read the wrong way round swapped, unexplained joints dropped; returned in drawing order."""
    empty = [body for body in bodies if np.isnan(body[:, 0]).all()]
    people = {index: body for index, body in enumerate(bodies) if not np.isnan(body[:, 0]).all()}
    people, order = _improve(redraw, people, _drawing_order(redraw, people), rename_dots)
    people, order = _drop_echoes(redraw, people, order)
    return [people[index] for index in order] + empty


def add_missing_joints(redraw: "Redraw", bodies: List[np.ndarray], loose_dots: Sequence[Tuple[int, np.ndarray]],
                       stick_ends: bool = False) -> List[np.ndarray]:
    """JPEG maps, after :func:`refit` and once hand pieces are set aside: joints the colour parse could not
    place, added where the drawing says so.

    - ``stick_ends`` (shrunk maps): a limb joint whose dot lost its colour (a blue-violet ankle at half
      size) goes where its stick, leaving a joint of the person, ends on black. A stick ending under other
      drawing, or at the image border, says nothing about where its joint is, so no joint is added there,
      unless it meets the joint's other stick, leaving another piece (or the same person): the joint goes
      where they meet, and the pieces join; or, for an elbow or knee, unless the other stick leaves it
      bending and runs off the map (see :func:`_bends_before_border`).
    - A dot left loose (``loose_dots``: (part, position) readings) joins a person lacking that part: a
      head dot (mostly an ear: its only stick, to its eye, hides under the head dots) the head next to it,
      a limb dot (mostly a wrist whose forearm looked too patchy to link) a person holding a joint its
      stick would join. A limb dot still loose (not the l-knee, whose blue is the hand dots', nor the
      l-hip's azure beside it) then stands alone where the dot drawn there, wholly inside the map, explains
      it (see :func:`_stand_alone`).

    Each addition must gain, and its dot and sticks fit the colour the drawing leaves unexplained."""
    if stick_ends:
        bodies = _extend_limbs(redraw, bodies, loose_dots)
    return _stand_alone(redraw, _adopt_loose_dots(redraw, bodies, loose_dots), loose_dots)


def grow_lone_knees(redraw: "Redraw", bodies: List[np.ndarray], lone: List[np.ndarray],
                    loose_dots: Sequence[Tuple[int, np.ndarray]]) -> List[np.ndarray]:
    """Shrunk JPEG maps: ``bodies`` and the ``lone`` blue-ish dots that stay once the hands are read (not hand
    dots), each l-knee among them (a leg with no hip) with its l-ankle added as :func:`add_missing_joints` adds
    joints to ``bodies``, which ran before the hands could tell a lone knee from a hand dot: the ankle's
    blue-violet dot, faint at half size, where the shin leaving the knee ends on black, or at a loose ankle
    dot or an ankle standing alone (which then joins the knee), when drawing it there gains and fits."""
    people = bodies + lone
    shin = _LIMB_OF[frozenset((_L_KNEE, _L_ANKLE))]
    lone_ankles = [body[_L_ANKLE] for body in bodies if lone_part(body) == _L_ANKLE]
    grown = []
    for index in range(len(bodies), len(people)):
        if np.isnan(people[index][_L_KNEE, 0]):
            continue
        unexplained = _Unexplained(redraw.target - redraw.draw((0, 0, redraw.width, redraw.height), people))
        places = _stick_end_places(redraw, unexplained.sticks(shin), people[index][_L_KNEE]) + lone_ankles
        joints = _joints(people)
        places += [place for part, place in loose_dots if part == _L_ANKLE and not _held(redraw, joints, place)]
        best = None
        for place in places:
            added = people[index].copy()
            added[_L_ANKLE] = place
            best = _better_addition(redraw, people, index, added, _L_ANKLE, best)
        if best is not None:
            people = best[1]
            grown.append(people[index][_L_ANKLE])
    taken = np.array(grown).reshape(-1, 2)
    return drop_lone(people, lambda index, part, place: index < len(bodies) and part == _L_ANKLE
                     and _held(redraw, taken, place))


def _extend_limbs(redraw: "Redraw", bodies: List[np.ndarray],
                  loose_dots: Sequence[Tuple[int, np.ndarray]]) -> List[np.ndarray]:
    """Best addition first (a joint where its stick ends on black, or where its two sticks meet, the far one
    maybe leaving a loose dot), each round against the drawing of the people as they now are."""
    people = [body.copy() for body in bodies]
    for _ in range(_MAX_CHANGES):
        unexplained = _Unexplained(redraw.target - redraw.draw((0, 0, redraw.width, redraw.height), people))
        best: Optional[Tuple[float, List[np.ndarray]]] = None
        for box, after in itertools.chain(_stick_end_additions(redraw, people, unexplained),
                                          _bridges(redraw, people, _unheld(redraw, people, loose_dots), unexplained),
                                          _bends_before_border(redraw, people, unexplained)):
            gain, fit = redraw.gain(box, people, after)
            if gain > 0 and fit >= _ADD_FIT and (best is None or gain > best[0]):
                best = (gain, after)
        if best is None:
            break
        people = best[1]
    return people


Addition = Tuple[Optional[Box], List[np.ndarray]]     # the map pixels it redraws, the people after it
Gained = Tuple[float, List[np.ndarray]]               # a change's gain, the people after it


def _stick_end_additions(redraw: "Redraw", people: List[np.ndarray],
                         unexplained: "_Unexplained") -> Iterator[Addition]:
    """A person's joint added where the unexplained stick leaving its neighbour ends on black."""
    for index, body in enumerate(people):
        held = ~np.isnan(body[:, 0])
        for limb, (first, second) in enumerate(DRAWN_LIMBS):
            for start, end in ((first, second), (second, first)):
                if not held[start] or held[end] or end not in _LIMB_PARTS:
                    continue
                for place in _stick_end_places(redraw, unexplained.sticks(limb), body[start]):
                    added = body.copy()
                    added[end] = place
                    yield redraw.box(extent_of(added[_ends(added, end)])), people[:index] + [added] + people[index + 1:]


def _bridges(redraw: "Redraw", people: List[np.ndarray], loose: List[np.ndarray],
             unexplained: "_Unexplained") -> Iterator[Addition]:
    """A joint whose dot lost its colour between two of its sticks (a left hip between the neck's cyan stick
    and its azure thigh, at half size) leaves its person in two pieces, the joints either side of it in
    each, and neither stick explained: the joint added where those two sticks meet, joining the pieces
    (or completing one person holding both). The far piece may be a ``loose`` dot (one-joint bodies: a
    lone blue-violet ankle waits for the hands to be read)."""
    pieces = people + loose
    held = [~np.isnan(body[:, 0]) for body in pieces]
    for first, second in itertools.product(range(len(people)), range(len(pieces))):
        if first != second and (held[first] & held[second]).any():
            continue
        others = [body for index, body in enumerate(people) if index not in (first, second)]
        for part in _LIMB_PARTS:
            if held[first][part] or held[second][part]:
                continue
            for near, far in itertools.product(_NEIGHBOURS[part], repeat=2):
                if near == far or not (held[first][near] and held[second][far]):
                    continue
                limbs = _LIMB_OF[frozenset((near, part))], _LIMB_OF[frozenset((far, part))]
                ends = [_stick_tip(redraw, unexplained.sticks(limbs[0], limbs[1]), pieces[first][near]),
                        _stick_tip(redraw, unexplained.sticks(limbs[1], limbs[0]), pieces[second][far])]
                if None in ends or np.hypot(*(ends[0][0] - ends[1][0])) > 2.0 * redraw.radius:
                    continue
                for place in _meeting_places(redraw, ends):
                    merged = np.where(held[second][:, None], pieces[second], pieces[first])
                    merged[part] = place
                    yield redraw.box(extent_of(merged[[near, part, far]])), others + [merged]


def _bends_before_border(redraw: "Redraw", people: List[np.ndarray],
                         unexplained: "_Unexplained") -> Iterator[Addition]:
    """An elbow or knee whose dot lost its colour (an l-knee between its azure thigh and blue shin), its
    far joint beyond the map's border: the joint added where its stick from the person ends, well inside
    the map, when its other stick leaves that end bending by 20-90 degrees and runs off the map (a stick
    going on straight is the same limb cut by a stick across it; one turning back, another limb)."""
    for index, body in enumerate(people):
        held = ~np.isnan(body[:, 0])
        for part in _MIDDLE_JOINTS:
            if held[part]:
                continue
            for near, far in itertools.permutations(_NEIGHBOURS[part], 2):
                if not held[near] or held[far]:
                    continue
                limbs = _LIMB_OF[frozenset((near, part))], _LIMB_OF[frozenset((far, part))]
                end = _stick_tip(redraw, unexplained.sticks(limbs[0], limbs[1]), body[near])
                if end is None or not redraw.inside(end[0], 2.0 * (redraw.radius + redraw.half_width)):
                    continue
                onward = _stick_tip(redraw, unexplained.sticks(limbs[1], limbs[0]), end[0])
                if onward is None or redraw.inside(onward[0], _BORDER) or \
                        not _BEND[0] < float(onward[1] @ end[1]) < _BEND[1]:
                    continue
                for place in _meeting_places(redraw, [end]):
                    added = body.copy()
                    added[part] = place
                    yield redraw.box(extent_of(added[[near, part]])), people[:index] + [added] + people[index + 1:]


def _unheld(redraw: "Redraw", people: List[np.ndarray],
            loose_dots: Sequence[Tuple[int, np.ndarray]]) -> List[np.ndarray]:
    """The loose dots that are no joint of anyone's yet, as one-joint bodies."""
    pieces, joints = [], _joints(people)
    for part, place in loose_dots:
        if not _held(redraw, joints, place):
            piece = np.full((NUM_BODY, 2), np.nan)
            piece[part] = place
            pieces.append(piece)
    return pieces


def _joints(people: List[np.ndarray]) -> np.ndarray:
    """Every joint of every person (n x 2)."""
    return np.vstack([body[~np.isnan(body[:, 0])] for body in people] + [np.zeros((0, 2))])


def _held(redraw: "Redraw", joints: np.ndarray, place: np.ndarray, reach: float = 1.0) -> bool:
    """Whether one of ``joints`` (:func:`_joints`) lies on ``place`` (within ``reach`` dot radii)."""
    return bool(len(joints)) and bool(np.hypot(*(joints - place).T).min() < reach * redraw.radius)


def _meeting_places(redraw: "Redraw", ends: List[Tuple[np.ndarray, np.ndarray]]) -> List[np.ndarray]:
    """Where a joint whose two sticks end at ``ends`` ((tip, direction) each) may be: about each tip, from a
    dot radius short of it to past it (the joint's dot, which covers the tips, may take either stick's
    colour)."""
    steps = np.arange(-1.0, 2.75, 0.5) * redraw.radius
    return [tip + step * direction for tip, direction in ends for step in steps]


def _adopt_loose_dots(redraw: "Redraw", people: List[np.ndarray],
                      loose_dots: Sequence[Tuple[int, np.ndarray]]) -> List[np.ndarray]:
    """Each loose dot to the person lacking that part whose drawing it improves most: for a head dot, a
    head near it; for a limb dot, a person holding a joint its stick would join. A head dot that no head
    takes so (an l-ear's pink read as the nose's red, its head holding the nose) may be a head's missing
    ear when it lies beyond that side's eye (:func:`.people.beyond_eye`). A limb dot that no one lacking
    its part takes may take the place of a person's joint of that part (a crumb of an l-thigh read as the
    l-hip, the hip's own dot left loose), when drawing it there instead gains and fits."""
    people = list(people)
    for part, place in loose_dots:
        if _held(redraw, _joints(people), place):     # people grow as dots join them
            continue
        best = _best_addition(redraw, people, place, lambda body: part if np.isnan(body[part, 0]) else None)
        if best is None and part in HEAD_PARTS:
            best = _best_addition(redraw, people, place, lambda body: _ear_beyond_eye(body, place))
        elif best is None:
            best = _best_addition(redraw, people, place, lambda body: None if np.isnan(body[part, 0]) else part)
        if best is not None:
            people = best[1]
    return people


def _best_addition(redraw: "Redraw", people: List[np.ndarray], place: np.ndarray,
                   part_for: Callable[[np.ndarray], Optional[int]]) -> Optional[Gained]:
    """(gain, the people after) for the person that may take the dot at ``place`` and whose drawing it
    improves most (see :func:`_better_addition`), or None; ``part_for(body)``: the part a person would take
    the dot as (None: none). The person is drawn where it is or first, under everyone, whichever explains
    more: a piece of a person read apart (an arm whose forearm runs under its own neck's dot) was drawn
    with that person, its sticks under the person's dots."""
    best: Optional[Gained] = None
    for index, body in enumerate(people):
        part = part_for(body)
        if part is None or not _may_take(redraw, body, part, place):
            continue
        added = body.copy()
        added[part] = place
        best = _better_addition(redraw, people, index, added, part, best)
        if index:       # drawn first, under everyone (the first person already is)
            best = _better_addition(redraw, [body] + people[:index] + people[index + 1:], 0, added, part, best)
    return best


def _ear_beyond_eye(body: np.ndarray, place: np.ndarray) -> Optional[int]:
    """The missing ear whose place ``place`` may be: beyond that side's eye, on its side of the nose."""
    if np.isnan(body[0, 0]):
        return None
    for ear, (eye, _) in EARS.items():
        if not np.isnan(body[eye, 0]) and np.isnan(body[ear, 0]) and beyond_eye(place, body[0], body[eye]):
            return ear
    return None


def holds_stick_end(body: np.ndarray, part: int) -> bool:
    """Whether ``body`` holds a joint that a stick of ``part`` would join (drawing ``part`` draws a stick)."""
    return not np.isnan(body[_NEIGHBOURS[part], 0]).all()


def _may_take(redraw: "Redraw", body: np.ndarray, part: int, place: np.ndarray) -> bool:
    if part not in HEAD_PARTS:
        return holds_stick_end(body, part)
    head = body[list(HEAD_PARTS)]
    head = head[~np.isnan(head[:, 0])]
    return bool(len(head)) and np.hypot(*(head - place).T).min() <= _HEAD_REACH * redraw.radius


def _better_addition(redraw: "Redraw", people: List[np.ndarray], index: int, added: np.ndarray, part: int,
                     best: Optional[Gained]) -> Optional[Gained]:
    """``best`` or, when it gains more and fits, (gain, the people with person ``index`` replaced by
    ``added``: ``part`` added or moved). A dot drawn without a stick, clear of other joints, needs a looser
    fit: JPEG takes much of the colour of a small dot alone on black."""
    ends = _ends(added, part)
    box = redraw.box(extent_of(np.vstack([people[index][ends], added[ends]])))
    after = people[:index] + [added] + people[index + 1:]
    gain, fit = redraw.gain(box, people, after)
    alone = len(ends) == 1 and not _held(redraw, _joints(people), added[part], _CLEAR)
    needed = _DOT_ADD_FIT if alone else _ADD_FIT
    return (gain, after) if gain > 0 and fit >= needed and (best is None or gain > best[0]) else best


def _stand_alone(redraw: "Redraw", people: List[np.ndarray],
                 loose_dots: Sequence[Tuple[int, np.ndarray]]) -> List[np.ndarray]:
    """A loose limb dot too faint to stand alone by its colour (a wrist whose elbow is missing, half under a
    neck or an ear) is a one-joint person when drawing it there explains the map: the dot fits what the
    drawing leaves unexplained (loosely: JPEG dims a small dot alone), better drawn as its part than as any
    other, and no unexplained stick of its limbs (or of its neighbouring hues') leaves it: a joint standing
    alone has no drawn neighbour, while a joint whose link failed, or a dot named a hue step off, leaves a
    stick behind. The dot is drawn over everyone or under everyone, whichever explains more: one that other
    people's dots half cover (and so too faint) was drawn before them. Only a dot wholly inside the map:
    one that the border cuts shows too little of its colour (an r-eye's rim read as an l-ankle)."""
    given, people = people, list(people)
    unexplained: Optional[_Unexplained] = None      # what the people given leave, drawn once it is needed
    for part, place in loose_dots:
        if part not in _LONE_PARTS or _held(redraw, _joints(people), place) or not redraw.inside(place):
            continue

        def drawn_as(parts: Iterable[int]) -> Tuple[Tuple[float, float], Tuple[int, bool]]:
            """((gain, fit), (part, drawn under everyone)) of the dot drawn best as one of ``parts``."""
            options = [(other, under) for other in parts for under in (False, True)]
            afters = []
            for other, under in options:
                dot = np.full((NUM_BODY, 2), np.nan)
                dot[other] = place
                afters.append([dot] + people if under else people + [dot])
            return max(zip(redraw.gains(redraw.box((place, place)), people, afters), options))

        (gain, fit), (_, under) = drawn_as([part])      # the other parts only matter when this one fits
        if gain <= 0 or fit < _DOT_ADD_FIT or drawn_as(range(NUM_BODY))[1][0] != part:
            continue
        if unexplained is None:
            unexplained = _Unexplained(redraw.target - redraw.draw((0, 0, redraw.width, redraw.height), given))
        hues = {part, *NEXT_HUES[part]}
        if any(_stick_tip(redraw, unexplained.sticks(limb), place) is not None
               for limb, ends in enumerate(DRAWN_LIMBS) if hues & set(ends)):
            continue
        lone = np.full((NUM_BODY, 2), np.nan)
        lone[part] = place
        people = [lone] + people if under else people + [lone]
    return people


def drop_unseen_lone_dots(redraw: "Redraw", bodies: List[np.ndarray]) -> List[np.ndarray]:
    """One-joint people whose dot, drawn over everyone (it was seen, so nothing covers it), makes the drawing
    worse: a crumb of a stick read as a dot."""
    def unseen(index: int, part: int, place: np.ndarray) -> bool:
        others = bodies[:index] + bodies[index + 1:]
        return redraw.gain(redraw.box((place, place)), others, others + [bodies[index]])[0] <= 0

    return drop_lone(bodies, unseen)


class _Unexplained:
    """The colour that the drawing of the people leaves unexplained (map minus drawing), and its pieces that
    a limb's stick colour explains, worked out once per limb."""

    def __init__(self, residual: np.ndarray):
        self.residual = residual
        self.level = np.linalg.norm(residual, axis=2)
        self._cosines: Dict[int, np.ndarray] = {}
        self._sticks: Dict[Tuple[int, Optional[int]], np.ndarray] = {}

    def sticks(self, limb: int, rival: Optional[int] = None) -> np.ndarray:
        """Connected pieces (labels, 0 = none) of the unexplained colour that ``limb``'s stick colour explains
        (better than the ``rival`` limb's: two touching sticks of neighbouring hues would make one piece)."""
        if (limb, rival) not in self._sticks:
            stick = (self._cosine(limb) > _STICK_HUE) & (self.level > _STICK_LEVEL * np.linalg.norm(LIMB_COLORS[limb]))
            if rival is not None:
                stick &= self._cosine(limb) > self._cosine(rival)
            self._sticks[limb, rival] = cv2.connectedComponents(stick.astype(np.uint8), connectivity=8)[1]
        return self._sticks[limb, rival]

    def _cosine(self, limb: int) -> np.ndarray:
        if limb not in self._cosines:
            colour = np.array(LIMB_COLORS[limb], np.float32)
            self._cosines[limb] = (self.residual @ colour) / (self.level * float(np.linalg.norm(colour)) + 1e-6)
        return self._cosines[limb]


def _stick_tip(redraw: "Redraw", sticks: np.ndarray, start: np.ndarray) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(tip, unit direction from ``start``) of the unexplained stick leaving ``start``, if one does. A stick
    that a later stick or dot crosses goes on beyond it: pieces in line past a gap that wide belong to it,
    even past a first piece too short to be a stick on its own (JPEG leaves a stick broken by its dot's
    rim); so does a stick whose first part hides under other dots (see :func:`_hidden_start`)."""
    reach = int(math.ceil(redraw.radius + redraw.half_width + 1.0))
    x, y = int(round(start[0])), int(round(start[1]))
    labels = set(np.unique(sticks[max(y - reach, 0):y + reach + 1, max(x - reach, 0):x + reach + 1])) - {0}
    gap = 2.0 * (redraw.radius + redraw.half_width)
    if not labels:
        labels = _hidden_start(redraw, sticks, start, 2.0 * gap)
    if not labels:
        return None
    while True:
        ys, xs = np.nonzero(np.isin(sticks, list(labels)))
        distance = np.hypot(xs - start[0], ys - start[1])
        farthest = np.argsort(distance)[-5:]
        tip = np.array([xs[farthest].mean(), ys[farthest].mean()])
        length = float(np.hypot(*(tip - start)))
        if length < 1.0:
            return None
        direction = (tip - start) / length
        beyond = _pieces_in_line(redraw, sticks, labels, start, tip, direction, gap)
        if not beyond:
            return (tip, direction) if distance.max() >= 3 * redraw.radius else None
        labels |= beyond


def _hidden_start(redraw: "Redraw", sticks: np.ndarray, start: np.ndarray, reach: float) -> set:
    """Labels of stick pieces that begin within ``reach`` of ``start`` and point at it, with drawing (no
    black) between: a stick whose first part hides under other dots (a forearm leaving an elbow under a
    head)."""
    x0, y0 = max(int(start[0] - reach), 0), max(int(start[1] - reach), 0)
    window = sticks[y0:int(start[1] + reach) + 1, x0:int(start[0] + reach) + 1]
    found = set()
    for label in set(np.unique(window)) - {0}:
        piece = sticks == label
        ys, xs = np.nonzero(piece)
        distance = np.hypot(xs - start[0], ys - start[1])
        if distance.min() > reach or distance.max() < 3 * redraw.radius:
            continue
        direction = _towards_end(piece, start)
        path = start + np.arange(0.0, distance.min(), 0.5)[:, None] * direction
        rows = np.clip(np.rint(path[:, 1]).astype(int), 0, redraw.height - 1)
        cols = np.clip(np.rint(path[:, 0]).astype(int), 0, redraw.width - 1)
        drawn = redraw.target[rows, cols].max(axis=1)
        if _in_line(piece, start, direction, redraw.half_width + 1.5) and (drawn > _BACKGROUND).all():
            found.add(label)
    return found


def _pieces_in_line(redraw: "Redraw", sticks: np.ndarray, labels: set, start: np.ndarray, tip: np.ndarray,
                    direction: np.ndarray, gap: float) -> set:
    """Labels of stick pieces (each more than a stick's cross-section) that start within ``gap`` past
    ``tip`` and lie along ``direction``, or make one straight stick from ``start`` with the pieces of
    ``labels`` (a short first piece gives its direction only roughly)."""
    reach = int(math.ceil(gap + redraw.half_width + 2.0))     # the window holding every pixel near the tip
    x0, y0 = max(int(tip[0]) - reach, 0), max(int(tip[1]) - reach, 0)
    ys, xs = np.nonzero(sticks[y0:int(tip[1]) + reach + 1, x0:int(tip[0]) + reach + 1])
    ys, xs = ys + y0, xs + x0
    along, across = _along_across(xs, ys, tip, direction)
    near = (along > 0) & (along <= gap) & (across <= redraw.half_width + 1.0)
    pieces = {label: sticks == label for label in set(np.unique(sticks[ys[near], xs[near]])) - labels}
    if not pieces:
        return set()
    width = redraw.half_width + 1.5
    held = np.isin(sticks, list(labels))
    return {label for label, piece in pieces.items() if piece.sum() > 2 * redraw.half_width and (
        _in_line(piece, tip, direction, width) or _in_line(held | piece, start, _towards_end(piece, start), width))}


def _towards_end(piece: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The unit direction from ``start`` to the farthest pixel of ``piece``."""
    ys, xs = np.nonzero(piece)
    far = int(np.argmax(np.hypot(xs - start[0], ys - start[1])))
    offset = np.array([xs[far] - start[0], ys[far] - start[1]], np.float64)
    return offset / np.hypot(*offset)


def _in_line(piece: np.ndarray, tip: np.ndarray, direction: np.ndarray, width: float) -> bool:
    """Whether every pixel of ``piece`` lies ahead of ``tip`` within ``width`` of the line."""
    along, across = _along_across(*np.nonzero(piece)[::-1], tip, direction)
    return bool((along > -1.0).all() and (across <= width).all())


def _along_across(xs: np.ndarray, ys: np.ndarray, tip: np.ndarray,
                  direction: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Pixels' signed distances from ``tip`` along the unit ``direction``, and their distances from its line."""
    offset = np.stack([xs - tip[0], ys - tip[1]], axis=1)
    return offset @ direction, np.abs(offset @ np.array([-direction[1], direction[0]]))


def _stick_end_places(redraw: "Redraw", sticks: np.ndarray, start: np.ndarray) -> List[np.ndarray]:
    """Where the joint at the far end of the unexplained stick leaving ``start`` may be: the stick's tip
    (the renderer's ellipse ends at the joint's centre) and up to a dot radius back from it, since the dot
    covers the tip. No place when the stick ends on anything but black, or at the border (a tip within 2 px
    of its outermost pixels: the stick may run off the map); black past the tip is looked for inside the
    map only."""
    end = _stick_tip(redraw, sticks, start)
    if end is None:
        return []
    tip, direction = end
    size = np.array([redraw.width, redraw.height])
    beyond = [tip + direction * (redraw.radius + step) for step in (1.5, 2.5)]
    beyond = [point for point in beyond if (point >= 0).all() and (point < size - 0.5).all()]
    if not redraw.inside(tip, _BORDER) or any(
            redraw.target[int(round(point[1])), int(round(point[0]))].max() > _BACKGROUND for point in beyond):
        return []
    return [tip - back * direction for back in (0.0, 0.5 * redraw.radius, redraw.radius)]


class Redraw:
    """The blurred map (RGB uint8, drawn at ``scale``), and blurred drawings of people over windows of it.
    Made once per map: :func:`refit` and :func:`add_missing_joints` share it."""

    def __init__(self, image: np.ndarray, scale: float):
        self.target = cv2.GaussianBlur(image.astype(np.float32), (0, 0), _SIGMA)
        self.height, self.width = image.shape[:2]
        self.scale = scale
        self.radius = BODY_RADIUS * scale
        self.half_width = STICK_WIDTH * scale
        self.pad = int(math.ceil(3 * _SIGMA)) + 1
        self.supersample = max(1, math.ceil(_SUPERSAMPLE / scale))    # drawing pixels per map pixel

    def box(self, extent: Extent) -> Optional[Box]:
        """The map pixels that sticks and dots drawn within ``extent`` can touch (None: none)."""
        if extent is None:
            return None
        reach = self.radius + self.half_width + 1.0
        x0, y0 = np.maximum(np.floor(extent[0] - reach).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(extent[1] + reach).astype(int) + 1, (self.width, self.height))
        return (int(x0), int(y0), int(x1), int(y1)) if x1 > x0 and y1 > y0 else None

    def inside(self, place: np.ndarray, margin: Optional[float] = None) -> bool:
        """Whether ``place`` lies ``margin`` pixels or more inside the map (by default a dot radius: a dot
        there is whole; one the border cuts shows too little of its colour)."""
        margin = self.radius if margin is None else margin
        return bool((place >= margin).all() and (place < (self.width - 1 - margin, self.height - 1 - margin)).all())

    def draw(self, box: Box, bodies: List[np.ndarray]) -> np.ndarray:
        """The blurred drawing of ``bodies`` (in drawing order) over ``box``."""
        x0, y0, x1, y1 = box
        pad, k = self.pad, self.supersample
        origin = np.array([x0 - pad, y0 - pad], np.float64)
        size = (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)
        canvas = np.zeros((size[1] * k, size[0] * k, 3), np.uint8)
        drawn = [body for body in bodies if not np.isnan(body[:, 0]).all()]
        stacked = np.stack(drawn) if drawn else np.zeros((0, NUM_BODY, 2))
        reach = self.radius + self.half_width
        low, high = np.nanmin(stacked, axis=1) - reach, np.nanmax(stacked, axis=1) + reach
        touching = (high >= origin).all(axis=1) & (low <= origin + size).all(axis=1)
        for body in stacked[touching]:
            _draw_body(canvas, (body - origin + 0.5) * k - 0.5, self.radius * k, self.half_width * k)
        small = cv2.resize(canvas, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        # past the map's border, mirror the drawing as the map's blur mirrors the map
        left, top = max(pad - x0, 0), max(pad - y0, 0)
        right, bottom = max(x1 + pad - self.width, 0), max(y1 + pad - self.height, 0)
        if left or top or right or bottom:
            inside = small[top:size[1] - bottom, left:size[0] - right]
            small = cv2.copyMakeBorder(inside, top, bottom, left, right, cv2.BORDER_REFLECT_101)
        return cv2.GaussianBlur(small, (0, 0), _SIGMA)[pad:-pad, pad:-pad]

    def mismatch(self, box: Box, bodies: List[np.ndarray]) -> np.ndarray:
        """Per map pixel of ``box``: the squared colour distance between the map and the drawing of ``bodies``."""
        x0, y0, x1, y1 = box
        return np.square(self.target[y0:y1, x0:x1] - self.draw(box, bodies)).sum(axis=2)

    def gain(self, box: Optional[Box], before: List[np.ndarray], after: List[np.ndarray]) -> Tuple[float, float]:
        """(how much closer to the map drawing ``after`` instead of ``before`` gets over ``box``, and the
        change's fit: 2 <unexplained, change> / |change|^2 - 1, 1 when it draws just what was missing)."""
        return self.gains(box, before, [after])[0]

    def gains(self, box: Optional[Box], before: List[np.ndarray],
              afters: List[List[np.ndarray]]) -> List[Tuple[float, float]]:
        """:meth:`gain` of each of ``afters``, against one drawing of ``before``."""
        if box is None:
            return [(0.0, -1.0)] * len(afters)
        x0, y0, x1, y1 = box
        old = self.draw(box, before)
        unexplained = self.target[y0:y1, x0:x1] - old
        result = []
        for after in afters:
            change = self.draw(box, after) - old
            energy = float((change * change).sum())
            along = 2.0 * float((unexplained * change).sum())
            result.append((along - energy, along / energy - 1.0) if energy else (0.0, -1.0))
        return result

    def try_change(self, change: Change, people: Dict[int, np.ndarray], order: List[int],
                   new_id: int) -> Tuple[float, float, Optional[Box]]:
        """(gain, fit, box) of ``change``."""
        new_people, new_order, extent = _apply(change, people, order, new_id)
        box = self.box(extent)
        return (*self.gain(box, [people[i] for i in order], [new_people[i] for i in new_order]), box)


def _draw_body(canvas: np.ndarray, xy: np.ndarray, radius: float, half_width: float) -> None:
    """Sticks, then dots, as the renderer draws them, at any size and at sub-pixel positions."""
    size = np.array(canvas.shape[1::-1])
    with np.errstate(invalid="ignore"):     # NaN: missing points, drawn nowhere
        dots = ((xy > -radius) & (xy < size + radius)).all(axis=1)
        start, end = xy[_LIMB_STARTS], xy[_LIMB_ENDS]
        sticks = ((np.maximum(start, end) + half_width >= 0) & (np.minimum(start, end) - half_width < size)).all(axis=1)
    unit = float(1 << _SHIFT)
    limbs = np.flatnonzero(sticks)
    if len(limbs):
        start, end = start[limbs], end[limbs]
        along = (start - end) / 2
        across = along[:, ::-1] * (-1.0, 1.0) / np.maximum(np.hypot(*along.T), 1e-9)[:, None] * half_width
        outlines = ((start + end) / 2)[:, None] + _COS * along[:, None] + _SIN * across[:, None]
        for limb, outline in zip(limbs, np.rint(outlines * unit).astype(np.int32)):
            cv2.fillConvexPoly(canvas, outline, LIMB_COLORS[limb], cv2.LINE_8, _SHIFT)
    centres = np.rint(xy * unit)
    for part in np.flatnonzero(dots):
        cv2.circle(canvas, (int(centres[part, 0]), int(centres[part, 1])), int(round(radius * unit)), BODY_COLORS[part],
                   -1, cv2.LINE_8, _SHIFT)


def _drawing_order(redraw: Redraw, people: Dict[int, np.ndarray]) -> List[int]:
    """People ordered so that who covers whom matches the map: each overlapping pair votes for the order
    that draws its overlap better; people go in order of how many say they are drawn later."""
    later = dict.fromkeys(people, 0)
    for first, second in itertools.combinations(people, 2):
        box = redraw.box(_overlap(extent_of(people[first]), extent_of(people[second])))
        if box is not None:
            gain, _ = redraw.gain(box, [people[first], people[second]], [people[second], people[first]])
            later[first if gain > 0 else second] += 1
    return sorted(people, key=lambda index: later[index])


class _Tried(NamedTuple):
    gain: float
    fit: float
    box: Optional[Box]
    since: int          # changes applied before it was tried: a later one touching its box makes it stale


def _improve(redraw: Redraw, people: Dict[int, np.ndarray], order: List[int], rename_dots: bool):
    """Apply the change that gains most, while one gains and fits. A change's gain is kept until a change
    applied since touches its box."""
    next_id = max(people, default=-1) + 1
    tried: Dict[Change, _Tried] = {}
    applied: List[Optional[Box]] = []
    for _ in range(_MAX_CHANGES):
        best: Optional[Tuple[Change, _Tried]] = None
        for change in _changes(people, rename_dots, redraw.radius):
            entry = tried.get(change)
            if entry is None or any(_boxes_overlap(entry.box, box) for box in applied[entry.since:]):
                entry = tried[change] = _Tried(*redraw.try_change(change, people, order, next_id), len(applied))
            if entry.gain > 0 and entry.fit >= _fit_needed(change, people) and \
                    (best is None or entry.gain > best[1].gain):
                best = (change, entry)
        if best is None:
            break
        people, order, _ = _apply(best[0], people, order, next_id)
        applied.append(best[1].box)
        next_id += 1
    return people, order


def _changes(people: Dict[int, np.ndarray], rename_dots: bool, radius: float) -> Iterator[Change]:
    held = {index: ~np.isnan(body[:, 0]) for index, body in people.items()}
    for index in people:
        for part in np.flatnonzero(held[index]):
            yield Change("drop", index, part=int(part))
    for first, second in itertools.combinations(people, 2):
        shared = np.flatnonzero(held[first] & held[second])
        if len(shared) == 0:
            yield Change("join", first, second)
        elif len(shared) == 1:
            part = int(shared[0])
            for piece, body in ((first, second), (second, first)):
                yield Change("clash", piece, body, part)
                if rename_dots:    # the piece's dot may be its hue neighbour's, misread
                    yield from (Change("rename", piece, body, part, to) for to in NEXT_HUES[part]
                                if {part, to} <= _LIMB_SET and not held[piece][to] and not held[body][to]
                                and held[body][_NEIGHBOURS[to]].any())
    yield from _swaps(people, held, radius)
    if not rename_dots:
        return
    for piece, body in itertools.permutations(people, 2):
        if held[piece][NOSE] or held[body][NOSE] or not held[body][_NEIGHBOURS[NOSE]].any():
            continue
        for part in _NOSE_LOOKALIKES:
            renamed = held[piece].copy()
            renamed[[part, NOSE]] = False, True
            if held[piece][part] and not (renamed & held[body]).any():
                yield Change("rename", piece, body, part, NOSE)


def _swaps(people: Dict[int, np.ndarray], held: Dict[int, np.ndarray], radius: float) -> Iterator[Change]:
    """Two joints of one limb whose colours are hue neighbours, read the wrong way round: an elbow and wrist
    (or knee and ankle) that JPEG left only a hue step apart. Only dots with no other joint near: a dot
    under another one shows no colour of its own to decide by."""
    joints = _joints(list(people.values()))

    def free(place: np.ndarray) -> bool:
        return int(np.sum(np.hypot(*(joints - place).T) < _SWAP_ROOM * radius)) <= 1

    for index, body in people.items():
        for first, second in _HUE_LIMBS:
            if held[index][[first, second]].all() and free(body[first]) and free(body[second]):
                yield Change("swap", index, part=first, to=second)


def _fit_needed(change: Change, people: Dict[int, np.ndarray]) -> float:
    if change.kind == "drop":
        return _DROP_FIT
    if change.kind in ("rename", "swap"):
        return _NOSE_JOIN_FIT if change.to == NOSE else _HUE_JOIN_FIT
    sizes = [int((~np.isnan(people[index][:, 0])).sum()) for index in (change.person, change.other)]
    if min(sizes) > 1:
        return _JOIN_FIT
    return _LONE_CLASH_FIT if change.kind == "clash" else _LONE_JOIN_FIT


def _apply(change: Change, people: Dict[int, np.ndarray], order: List[int],
           new_id: int) -> Tuple[Dict[int, np.ndarray], List[int], Extent]:
    """The people and drawing order after ``change``, and the extent of what it draws differently."""
    people = dict(people)
    if change.kind == "drop":
        return _drop(people, order, change.person, change.part)
    if change.kind == "join":
        return _join(people, order, change.person, change.other, new_id)
    piece = people[change.person]
    changed = piece.copy()
    if change.kind == "swap":
        changed[[change.part, change.to]] = piece[[change.to, change.part]]
        people[change.person] = changed
        return people, order, extent_of(piece[_ends(piece, change.part) + _ends(piece, change.to)])
    changed[change.part] = np.nan
    if change.kind == "rename":
        changed[change.to] = piece[change.part]
    people[change.person] = changed
    people, order, extent = _join(people, order, change.person, change.other, new_id)
    moved = [piece[_ends(piece, change.part)]]      # the changed dot's sticks in the piece go
    if extent is not None:
        moved.append(np.stack(extent))
    return people, order, extent_of(np.vstack(moved))


def _join(people: Dict[int, np.ndarray], order: List[int], first: int, other: int,
          new_id: int) -> Tuple[Dict[int, np.ndarray], List[int], Extent]:
    """A joined person is drawn where the earlier of its pieces was."""
    held_first, held_second = ~np.isnan(people[first][:, 0]), ~np.isnan(people[other][:, 0])
    merged = np.where(held_first[:, None], people[first], people[other])
    new_limbs = [part for start, end in DRAWN_LIMBS for part in (start, end)
                 if (held_first[start] and held_second[end]) or (held_second[start] and held_first[end])]
    people[new_id] = merged
    place = min(order.index(first), order.index(other))
    order = [index for index in order if index not in (first, other)]
    order.insert(place, new_id)
    del people[first], people[other]
    return people, order, extent_of(merged[new_limbs]) if new_limbs else None


def _drop(people: Dict[int, np.ndarray], order: List[int], person: int,
          part: int) -> Tuple[Dict[int, np.ndarray], List[int], Extent]:
    body = people[person]
    dropped = body.copy()
    dropped[part] = np.nan
    if np.isnan(dropped[:, 0]).all():
        del people[person]
        order = [index for index in order if index != person]
    else:
        people[person] = dropped
    return people, order, extent_of(body[_ends(body, part)])


def _ends(body: np.ndarray, part: int) -> List[int]:
    """``part`` and the parts its drawn sticks in ``body`` end at."""
    return [part] + [other for other in _NEIGHBOURS[part] if not np.isnan(body[other, 0])]


def _drop_echoes(redraw: Redraw, people: Dict[int, np.ndarray], order: List[int]):
    """Of two people holding one part less than a dot radius apart, the copy whose drop costs least goes
    when that cost is next to nothing (the other's dot and sticks draw the same pixels). A lone dot on
    another person's joint of the next hue (an l-elbow's green also read as the l-wrist's) is that joint
    read twice: it goes when its drop costs little. So does, in shrunk maps, one of a person's two joints on
    one spot (:func:`_drop_dots_read_twice`)."""
    dot = np.full((NUM_BODY, 2), np.nan)
    dot[0] = (redraw.width / 2, redraw.height / 2)
    box = redraw.box((dot[0], dot[0]))
    dot_energy = float((redraw.draw(box, [dot]) ** 2).sum()) if box else 0.0
    for part in range(NUM_BODY):
        holders = [index for index in order if not np.isnan(people[index][part, 0])]
        for pair in itertools.combinations(holders, 2):
            if not all(index in people and not np.isnan(people[index][part, 0]) for index in pair) or \
                    np.hypot(*(people[pair[0]][part] - people[pair[1]][part])) >= redraw.radius:
                continue
            people, order = _cheapest_drop(redraw, people, order, [Change("drop", index, part=part) for index in pair],
                                           _ECHO_COST * dot_energy)
    if redraw.scale < SMALL_DOTS:
        people, order = _drop_dots_read_twice(redraw, people, order, dot_energy)
    for index in list(order):
        part = lone_part(people[index])
        if part is not None and on_next_hue(people[index][part], part,
                                            [people[other] for other in order if other != index], 2 * redraw.radius):
            people, order = _cheapest_drop(redraw, people, order, [Change("drop", index, part=part)],
                                           _HUE_ECHO_COST * dot_energy)
    return people, order


def _drop_dots_read_twice(redraw: Redraw, people: Dict[int, np.ndarray], order: List[int],
                          dot_energy: float) -> Tuple[Dict[int, np.ndarray], List[int]]:
    """Shrunk maps: a person's two joints less than ``READ_TWICE`` dot radii apart are one dot read as two
    parts (an l-ear's pink read as the nose too, an l-elbow's green as the l-wrist too) when one of them
    draws next to nothing the other does not: the one whose drop costs least goes, when that cost is small.
    Two joints truly drawn on one spot each draw their own sticks, and dropping either costs much."""
    for index in list(order):
        held = np.flatnonzero(~np.isnan(people[index][:, 0]))
        for pair in itertools.combinations(held, 2):
            body = people[index]
            if np.isnan(body[list(pair), 0]).any() or \
                    np.hypot(*(body[pair[0]] - body[pair[1]])) >= READ_TWICE * redraw.radius:
                continue
            people, order = _cheapest_drop(redraw, people, order,
                                           [Change("drop", index, part=int(part)) for part in pair],
                                           _TWICE_COST * dot_energy)
    return people, order


def _cheapest_drop(redraw: Redraw, people: Dict[int, np.ndarray], order: List[int], drops: List[Change],
                   most_cost: float) -> Tuple[Dict[int, np.ndarray], List[int]]:
    """The people and drawing order after the one of ``drops`` that costs least (of a tie, the later person's
    or part's), when it costs ``most_cost`` or less; else as they are."""
    gain, drop = max(((redraw.try_change(drop, people, order, -1)[0], drop) for drop in drops),
                     key=lambda tried: (tried[0], tried[1].person, tried[1].part))
    if gain > -most_cost:
        people, order, _ = _apply(drop, people, order, -1)
    return people, order


def extent_of(points: np.ndarray) -> Extent:
    """The corners of the points that are there (NaN: missing); None without any."""
    points = points[~np.isnan(points[:, 0])]
    return (points.min(axis=0), points.max(axis=0)) if len(points) else None


def _overlap(a: Extent, b: Extent) -> Extent:
    if a is None or b is None:
        return None
    low, high = np.maximum(a[0], b[0]), np.minimum(a[1], b[1])
    return (low, high) if (low <= high).all() else None


def _boxes_overlap(a: Optional[Box], b: Optional[Box]) -> bool:
    return a is not None and b is not None and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
