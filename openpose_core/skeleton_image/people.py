"""People from links: readings joined best link first, lone dots kept or dropped, hidden joints settled, and
ears (whose shoulder sticks are not drawn) given to their heads."""
from __future__ import annotations

from typing import Callable, Container, Dict, List, Optional, Tuple

import numpy as np

from ..pose import HEAD_PARTS, NECK, NUM_BODY
from ..render import BODY_COLORS, DRAWN_LIMBS, LIMB_COLORS
from .colours import BLUE, BLUE_LEG, NEXT_HUES
from .dots import Joints, MIN_DOT_FRACTION
from .geometry import RING, pairwise, sample, segment_distances
from .sticks import Link


_APART_LONE_FRACTION = 0.25
"""Evidence a lone dot needs (instead of ``LONE_DOT_FRACTION``) on black with no other dot near: it cannot be
a blend of two."""
_OWN_DOT_SCORE = 0.75
"""A reading with evidence of 3/4 of a whole dot is a dot of its own, never an echo of a neighbour's."""


def assemble(joints: Joints, links: List[Link], radius: float, lone: float, black: np.ndarray,
             named: np.ndarray) -> List[List[int]]:
    """Join readings along links, best first (Kruskal-style), never putting two readings of one part in a
    person and never using two readings of one dot (a hidden joint placed by a stick end may share its
    dot). Dots left unlinked become one-point groups of their best colour when their evidence reaches
    ``lone`` (or, with no other dot near, ``_APART_LONE_FRACTION`` for a dot on ``black`` and
    ``MIN_DOT_FRACTION`` for a reading its core colour names: see :func:`named_alone`)."""
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
        if alone and float(sample(black, joints.xy[index] + (radius + 2.0) * RING, False).mean()) >= 0.75:
            needed = min(lone, _APART_LONE_FRACTION)
        elif alone and named[index]:
            needed = min(lone, MIN_DOT_FRACTION)
        if dot in claimed or dot in ambiguous or joints.score[index] < needed:
            continue
        # a second reading of a dot that is already part of someone, found a little apart, is not a joint;
        # a dot that shows most of its disk is (an l-ear whose eye is missing, on its own mostly hidden wrist)
        echo = joints.score[index] < _OWN_DOT_SCORE
        if echo and len(used) and (np.hypot(*(used - joints.xy[index]).T) < 0.8 * radius).any():
            continue
        groups.append([int(index)])
    return [sorted(group) for group in groups]


def _echo_groups(groups: List[List[int]], joints: Joints, radius: float) -> set:
    """Numbers of the groups (of two found dots or more) whose found dots all lie within 0.8 radius of a
    larger group's: JPEG may find a dot a second time, a little apart and in a neighbouring hue, and the
    echoes of two joined dots join each other along the same stick."""
    found = [[index for index in group if joints.score[index] > 0] for group in groups]
    echoes, taken = set(), np.zeros((0, 2))
    for number in sorted(range(len(groups)), key=lambda number: -len(groups[number])):
        if len(found[number]) < 2:
            continue
        xy = joints.xy[found[number]]
        if len(taken) and (pairwise(xy, taken) < 0.8 * radius).any(axis=1).all():
            echoes.add(number)
        else:
            taken = np.concatenate([taken, xy])
    return echoes


STRONG = 0.5
"""Evidence (fraction of a dot) with which a lone dot in a JPEG map from 0.62x up is its own joint, even
where a stick end put a hidden joint on it."""


def settle_hidden(groups: List[List[int]], joints: Joints, trusted: Container[int],
                  strong: float = np.inf) -> Tuple[List[List[int]], set]:
    """A joint hidden under another joint's dot (a reading placed by a stick end) joined its person, but
    its place is unknown when that dot shows as a joint itself. A dot standing alone by its colour is that
    joint when its part is ``trusted``: every part where colours are reliable. In shrunk JPEG maps the
    stick that put a hidden joint on the dot is the better witness, and the lone reading goes; near the
    drawn size ears still stand (an ear's only stick, to its eye, hides under the head dots, so ears often
    stand alone, and an arm ending by a head puts hidden joints on them), and so does a dot with ``strong``
    evidence unless it is blue, the hand dots' colour (a body's wrist hides under its hand's wrist dot).
    Returns the groups kept and the hidden readings that are covered: their dot shows as another joint."""
    hidden = joints.score <= 0
    hidden_on = {int(joints.dot[index]) for group in groups if len(group) > 1 for index in group if hidden[index]}

    def standing(group: List[int]) -> bool:
        part = int(joints.part[group[0]])
        return len(group) > 1 or part in trusted or joints.score[group[0]] >= strong and part not in BLUE_LEG

    groups = [group for group in groups if standing(group) or int(joints.dot[group[0]]) not in hidden_on]
    shown = {int(joints.dot[index]) for group in groups if standing(group) for index in group if not hidden[index]}
    # a lone blue dot standing as a knee may be a hand's wrist dot: the body's wrist under it stays too
    # (the knee goes later if a hand takes the dot)
    knees = {int(joints.dot[group[0]]) for group in groups if len(group) == 1 and joints.part[group[0]] == BLUE}
    covered = {index for group in groups for index in group if hidden[index] and int(joints.dot[index]) in shown
               and not (int(joints.part[index]) in WRISTS and int(joints.dot[index]) in knees)}
    return groups, covered


FOREARMS = {"right_hand": (3, 4), "left_hand": (6, 7)}
"""hand -> (elbow, wrist) of its arm."""
WRISTS = tuple(wrist for _, wrist in FOREARMS.values())
"""The body parts a hand's wrist dot lies on."""

EARS = {16: (14, 2), 17: (15, 5)}
"""ear -> (eye, shoulder) of the same side."""


def adopt_ears(bodies: List[np.ndarray]) -> List[np.ndarray]:
    """Ears have no drawn limb but the one to their eye; an ear standing alone (its eye missing or its
    stick hidden) joins the nearest person that lacks that ear, has the same side's shoulder or a nose, and
    whose head is near: within 1.5 neck-nose lengths of the nose (or 2.5 neck-shoulder lengths of the
    neck when the nose is missing, or 2.5 nose-eye/ear lengths for a head on its own)."""
    present = [~np.isnan(body[:, 0]) for body in bodies]
    lone = [index for index, mask in enumerate(present) if mask.sum() == 1 and np.flatnonzero(mask)[0] in EARS]
    taken = set()
    for index in lone:
        ear = int(np.flatnonzero(present[index])[0])
        eye, shoulder = EARS[ear]
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


_TWIN_REACH = 1.5    # dot radii between two finds of one dot


def join_twins(bodies: List[np.ndarray], radius: float) -> List[np.ndarray]:
    """JPEG may find a dot twice, a pixel or two apart, and link the two finds to different sticks: two
    people then share parts whose points lie within 1.5 dot radii of the other's. When at least as many
    shared parts lie that close as farther apart (the second find's piece may also hold a wrong find of
    another part), they are one person (the larger one, in its place): each dot found twice midway
    between its finds, the larger one's points kept for the other shared parts. Two people who merely
    touch share one close joint and hold others apart."""
    bodies = [body.copy() for body in bodies]
    present = [~np.isnan(body[:, 0]) for body in bodies]
    joined = set()
    for index in sorted(range(len(bodies)), key=lambda index: -int(present[index].sum())):
        for other, body in enumerate(bodies):
            shared = present[index] & present[other]
            if other == index or other in joined or present[other].sum() < present[index].sum() or \
                    not shared.any():
                continue
            near = shared.copy()
            near[shared] = np.hypot(*(body[shared] - bodies[index][shared]).T) <= _TWIN_REACH * radius
            if not near.any() or near.sum() < (shared & ~near).sum():
                continue
            body[present[index] & ~shared] = bodies[index][present[index] & ~shared]
            body[near] = 0.5 * (body[near] + bodies[index][near])
            present[other] |= present[index]
            joined.add(index)
            break
    return [body for index, body in enumerate(bodies) if index not in joined]


_EYE_REACH = 4.0     # dot radii from a lone eye-and-ear piece's eye to the nose of the head it joins
_OTHER_SIDE = {14: (15, 17), 15: (14, 16)}     # eye -> (eye, ear) of the other side
_SAME_SIDE = 0.7     # cosine between two head dots' directions from the nose that puts them on one side


def join_eye_and_ear(bodies: List[np.ndarray], radius: float) -> List[np.ndarray]:
    """Shrunk JPEG maps: an eye and its ear (or an eye alone) may come back as a piece of their own, the
    short nose-eye stick that would link them hidden under the head's dots (redrawing it gains next to
    nothing). Such a piece joins the one person that holds a nose within 4 dot radii of its eye and lacks
    the piece's parts. Failing that, where the one such person holds the eye but lacks the ear, and the
    piece's ear lies within 4 dot radii of that eye, the ear goes to it (the piece's eye was a second
    reading of another head dot). Failing that too, where the one such person's eye may be its other ear
    read a hue step off (see :func:`_ear_read_as_eye`), that eye becomes the other ear and the piece
    joins. Else the piece stays apart."""
    bodies = [body.copy() for body in bodies]
    present = [~np.isnan(body[:, 0]) for body in bodies]
    joined = set()
    for index, body in enumerate(bodies):
        held = set(np.flatnonzero(present[index]).tolist())
        pair = [(eye, ear) for ear, (eye, _) in EARS.items() if held in ({eye, ear}, {eye})]
        if not pair:
            continue
        eye, ear = pair[0]
        reach = _EYE_REACH * radius
        heads = [other for other in range(len(bodies)) if other != index and other not in joined
                 and present[other][0] and np.hypot(*(bodies[other][0] - body[eye])) < reach]
        lacking = [other for other in heads if not present[other][sorted(held)].any()]
        holding = [other for other in heads if present[other][eye] and not present[other][ear]
                   and ear in held and np.hypot(*(bodies[other][eye] - body[ear])) < reach]
        head, parts = (lacking[0], sorted(held)) if len(lacking) == 1 else \
            (holding[0], [ear]) if len(holding) == 1 else (None, [])
        mirrored = [] if head is not None else \
            [other for other in heads if _ear_read_as_eye(bodies[other], present[other], eye, held)]
        if len(mirrored) == 1:      # its eye is its other ear: moved there, the piece joins
            head, parts = mirrored[0], sorted(held)
            other_ear = _OTHER_SIDE[eye][1]
            bodies[head][other_ear] = bodies[head][eye]
            present[head][other_ear] = True
        if head is not None:
            bodies[head][parts] = body[parts]
            present[head][parts] = True
            joined.add(index)
    return [body for index, body in enumerate(bodies) if index not in joined]


_HEAD_ECHO_REACH = 5.0   # dot radii from a nose to the lone head dot that its person holds an echo of


def take_head_echoes(bodies: List[np.ndarray], radius: float) -> List[np.ndarray]:
    """Shrunk JPEG maps: one head dot read twice (l-eye and r-ear on one spot) gives its person two head
    parts within 1.5 dot radii of each other, and the real dot of one of them comes back as a piece of its
    own. That part takes the point of the one such piece (that head part alone) within 5 dot radii of the
    person's nose."""
    bodies = [body.copy() for body in bodies]
    present = [~np.isnan(body[:, 0]) for body in bodies]
    taken = set()
    for index, body in enumerate(bodies):
        if not present[index][0]:
            continue
        head = [part for part in HEAD_PARTS if present[index][part]]
        twins = {part for part in head for other in head
                 if other != part and np.hypot(*(body[part] - body[other])) < 1.5 * radius}
        reach = _HEAD_ECHO_REACH * radius
        for part in sorted(twins):
            pieces = [other for other in range(len(bodies)) if other not in taken and present[other].sum() == 1
                      and present[other][part] and np.hypot(*(bodies[other][part] - body[0])) < reach]
            if len(pieces) == 1:
                body[part] = bodies[pieces[0]][part]
                taken.add(pieces[0])
    return [body for index, body in enumerate(bodies) if index not in taken]


def _ear_read_as_eye(body: np.ndarray, present: np.ndarray, eye: int, held: set) -> bool:
    """Whether ``body``'s ``eye`` may be its other ear read a hue step off: it lies beyond the other eye,
    on that eye's side of the nose, the other ear is missing and so are the parts ``held`` but the eye."""
    other_eye, other_ear = _OTHER_SIDE[eye]
    if not present[[0, eye, other_eye]].all() or present[other_ear] or present[sorted(held - {eye})].any():
        return False
    return beyond_eye(body[eye], body[0], body[other_eye])


def beyond_eye(place: np.ndarray, nose: np.ndarray, eye: np.ndarray) -> bool:
    """Whether ``place`` lies beyond ``eye``, on its side of ``nose``: where that side's ear would be."""
    own, other = place - nose, eye - nose
    return _cosine(own, other) > _SAME_SIDE and np.hypot(*own) > np.hypot(*other)


_SHOULDERS = (2, 5)
_NOT_NECK = np.arange(NUM_BODY) != NECK


def join_neck_echoes(bodies: List[np.ndarray], radius: float) -> List[np.ndarray]:
    """Shrunk JPEG maps: a shoulder's orange dot also read as the neck's, a hue step off, gives a piece (an
    arm, say) a neck of its own on the shoulder dot of a larger person that shares no other part with it; so
    does a crumb of that person's stick from its neck to a shoulder (an l-shoulder joined a 'neck' read on
    the r-shoulder's stick). The piece's neck is that shoulder or stick: when the one such person holds a
    neck, the piece joins it without its own; else the piece just loses its neck."""
    bodies = [body.copy() for body in bodies]
    present = [~np.isnan(body[:, 0]) for body in bodies]
    joined = set()
    for index, piece in enumerate(bodies):
        if not present[index][NECK] or index in joined:
            continue
        limbs = present[index] & _NOT_NECK
        hosts = [other for other, body in enumerate(bodies) if other != index and other not in joined
                 and present[other].sum() > present[index].sum() and not (present[other] & limbs).any()
                 and _echoes_shoulder(piece[NECK], body, present[other], radius)]
        if len(hosts) != 1:
            continue
        if present[hosts[0]][NECK]:
            bodies[hosts[0]][limbs] = piece[limbs]
            present[hosts[0]] |= limbs
            joined.add(index)
        elif limbs.any():
            piece[NECK] = np.nan
            present[index][NECK] = False
    return [body for index, body in enumerate(bodies) if index not in joined]


def _echoes_shoulder(neck: np.ndarray, host: np.ndarray, held: np.ndarray, radius: float) -> bool:
    """Whether ``neck`` lies on a shoulder dot of ``host`` (holding the parts ``held``), or within a dot
    radius of its stick from its neck to a shoulder."""
    for shoulder in _SHOULDERS:
        if not held[shoulder]:
            continue
        on_dot = np.hypot(*(host[shoulder] - neck)) < 1.5 * radius
        on_stick = held[NECK] and segment_distances(neck, host[[NECK]], host[[shoulder]])[0] < radius
        if on_dot or on_stick:
            return True
    return False


def _cosine(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b) / (float(np.linalg.norm(a) * np.linalg.norm(b)) + 1e-9)


_CRUMB_LIMBS = {part: [limb for limb, colour in enumerate(LIMB_COLORS) if _cosine(colour, BODY_COLORS[part]) > 0.9]
                for part in (10, 11, 12)}
"""Azure to blue dots (r-ankle, l-hip, l-knee), which the blend of overlapping cyan and blue sticks can pass
for, and the limbs whose stick colour is like theirs (cosine over 0.9)."""


def drop_stick_crumbs(bodies: List[np.ndarray], half_width: float) -> List[np.ndarray]:
    """Shrunk JPEG maps: where cyan and blue sticks overlap or cross, their blend can read as an azure or
    blue dot standing alone. A lone r-ankle, l-hip or l-knee on another person's stick of a colour like
    its own (within half a stick width of the stick's line) is that stick, not a joint."""
    return drop_lone(bodies, lambda index, part, place: part in _CRUMB_LIMBS and any(
        _on_limbs(place, _CRUMB_LIMBS[part], other, 0.5 * half_width)
        for number, other in enumerate(bodies) if number != index))


def drop_lone(bodies: List[np.ndarray], stray: Callable[[int, int, np.ndarray], bool]) -> List[np.ndarray]:
    """``bodies`` without the one-joint people that ``stray(index, part, place)`` says are no joint."""
    kept = []
    for index, body in enumerate(bodies):
        part = lone_part(body)
        if part is None or not stray(index, part, body[part]):
            kept.append(body)
    return kept


def lone_part(body: np.ndarray) -> Optional[int]:
    """The part of a one-joint person; None for any other."""
    held = np.flatnonzero(~np.isnan(body[:, 0]))
    return int(held[0]) if len(held) == 1 else None


def _on_limbs(place: np.ndarray, limbs: List[int], body: np.ndarray, reach: float) -> bool:
    """Whether ``place`` lies within ``reach`` of the line of one of ``limbs`` that ``body`` holds."""
    ends = np.array([DRAWN_LIMBS[limb] for limb in limbs])
    ends = ends[~np.isnan(body[ends, 0]).any(axis=1)]
    return bool(len(ends)) and bool(segment_distances(place, body[ends[:, 0]], body[ends[:, 1]]).min() < reach)


def on_next_hue(place: np.ndarray, part: int, others: List[np.ndarray], reach: float) -> bool:
    """Whether one of ``others`` holds a joint of a hue next to ``part`` within ``reach`` of ``place``: a dot
    there may be that joint read a hue step off (JPEG)."""
    return any(np.hypot(*(other[neighbour] - place)) < reach for other in others for neighbour in NEXT_HUES[part])
