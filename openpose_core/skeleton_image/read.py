"""The whole reading of a skeleton map, step by step (see the package docstring for the method)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from ..pose import HEAD_PARTS, NUM_BODY, Keypoint, Person, PoseFrame
from .colours import (
    BLUE, BLUE_LEG, CRISP_SHARE, EXACT_SHARE, SMALL_DOTS, SMALL_JPEG, WHOLE_DOTS, YCBCR, as_rgb,
    classify, dark_blue_weight, joint_weight, palette_parts, palette_share, require_background,
)
from .dots import Dots, LONE_DOT_FRACTION, dot_scale, find_joints, require_few_dots
from .face import find_face_dots, find_faces, group_face_dots, join_heads_under_faces
from .geometry import pairwise
from .hands import (
    MIN_LONE_HAND, among_hand_dots, attach_hands, by_hand, drop_hand_pieces, drop_thin_blue_pieces, find_blue_dots,
    label_hands, link_hand_dots,
)
from .heads import relabel_heads, untangle_heads
from .people import (
    EARS, FOREARMS, STRONG, adopt_ears, assemble, drop_stick_crumbs, join_eye_and_ear, join_neck_echoes, join_twins,
    lone_part, on_next_hue, settle_hidden, take_head_echoes,
)
from .placing import (
    add_dots_under_faces, centre_by_luma, drawn_on_pixel, drop_joints_on_hand_dots, fit_drawn_dots,
    joints_out_of_hands, wrists_on_forearms,
)
from .readings import (
    add_faint_dots, add_unseen_dots, core_rules_out, faint_loose_dots, luma_weighed_heads, name_lone_dots,
    named_alone, neighbouring_head_readings, recolour, settle_ruled_out_lone_joints,
)
from .redraw import Redraw, add_missing_joints, drop_unseen_lone_dots, grow_lone_knees, refit
from .refine import (
    add_hidden_head_dots, join_head_pieces, join_heads_to_necks, refine_limb_joints, relabel_broken_heads,
    split_eye_ear_blends,
)
from .sticks import add_stick_ends, limb_links


def pose_from_skeleton_image(image_rgb: np.ndarray, *, hands: bool = True, face: bool = True) -> PoseFrame:
    """Read an OpenPose control map (RGB, black background, standard colours) back into a PoseFrame.

    The frame's canvas is the image size; points are in its pixels with confidence 1.0. ``hands`` and
    ``face`` choose whether hand and face points are recovered. See the package docstring for the method.
    Raises ``ImageError`` for an image that is not mostly black background, or that holds far more colour
    dots than a map could (a photo, say).
    """
    image = as_rgb(image_rgb)
    height, width = image.shape[:2]
    classes = classify(image)
    require_background(classes)
    share = palette_share(image)
    exact = share >= EXACT_SHARE
    sx, sy = dot_scale(classes, exact)
    dots = Dots.make(sx, sy)
    scale = 0.5 * (sx + sy)
    # drawn at this size (then maybe JPEG-compressed): dots are disks centred on whole pixels
    native = max(abs(sx - 1.0), abs(sy - 1.0)) < (0.1 if exact else 0.06)
    # resized by sampling pixels (nearest neighbour): crisp dots, whose centres may fall between pixels
    crisp = share >= CRISP_SHARE and not native

    # body: dots and their readings, readings implied by sticks, links, people
    palette_part = palette_parts(image) if exact and (scale >= WHOLE_DOTS or crisp) else None
    joint = joint_weight(classes, scale, exact)
    joints, faint = find_joints(classes, joint, dots, exact, palette_part, exact or scale >= SMALL_JPEG, crisp)
    require_few_dots(joints, dots, height * width)
    face_dots = find_face_dots(classes, sx, sy)
    if palette_part is not None and native and len(face_dots):
        joints = add_dots_under_faces(joints, palette_part, classes, dots, face_dots)
    blue = find_blue_dots(classes, joint, dots)[:, :2]     # hand dots, left knees
    small_jpeg = not exact and scale < SMALL_JPEG
    image_ycc = None if exact else image.astype(np.float32) @ YCBCR.T.astype(np.float32)
    if small_jpeg:
        joints = recolour(joints, image_ycc, dots.radius, scale)
        joints = add_unseen_dots(joints, classes, joint, image_ycc, dots, scale)
        joints = add_faint_dots(joints, faint, blue, image_ycc, dots.radius, scale)
        joints = name_lone_dots(joints, classes, image_ycc, dots)
    if native:
        joints.xy = np.rint(joints.xy)
    joints = add_stick_ends(joints, classes, dots, scale)
    # JPEG heads: readings one hue step off, for the head search only
    colour_readings = len(joints)
    if not exact:
        joints = neighbouring_head_readings(joints, classes, dots.radius)
    points, parts = joints.xy, joints.part
    links = limb_links(joints, classes, dots, scale)
    colour_links = [link for link in links if max(link.first, link.second) < colour_readings]
    named = np.zeros(len(joints), bool) if exact else named_alone(joints, image_ycc, blue, dots.radius, scale)
    groups = assemble(joints, colour_links, dots.radius, LONE_DOT_FRACTION[0] if exact else LONE_DOT_FRACTION[1],
                      classes.black, named)
    groups = relabel_heads(groups, luma_weighed_heads(joints, classes.luma, dots.radius)
                           if not exact and scale >= SMALL_JPEG else joints, links)
    trusted = range(NUM_BODY) if not small_jpeg else frozenset(EARS) if scale >= SMALL_DOTS else ()
    strong = STRONG if small_jpeg and scale >= SMALL_DOTS else np.inf
    groups, covered = settle_hidden(groups, joints, trusted, strong)

    # blue is the hand dots' colour; JPEG moves the hue of small dots a colour step either way
    blue_like = (BLUE,) if exact else tuple(sorted(BLUE_LEG))
    bodies, lone_blue = [], []
    for group in groups:
        body = np.full((NUM_BODY, 2), np.nan)
        for index in group:
            if index in covered:
                continue
            body[parts[index]] = points[index]
        (lone_blue if len(group) == 1 and parts[group[0]] in blue_like else bodies).append(body)
    bodies = adopt_ears(bodies)
    redraw = None if exact else Redraw(image, scale)
    if redraw is not None:
        bodies = refit(redraw, bodies, rename_dots=scale < SMALL_DOTS)
        bodies = join_twins(bodies, dots.radius)

    # hands: blue dots that are not bodies' (blue-like) joints, joined by the thin coloured hand lines
    if redraw is not None:
        bodies = drop_hand_pieces(bodies, blue, blue_like, classes, joint, dots, scale)
        # a limb dot by a hand may be a blurred hand dot or line of its hue
        loose = joints.primary & (joints.score > 0) & (np.isin(joints.part, HEAD_PARTS) |
                                                       ~by_hand(joints.xy, blue, dots.radius))
        if small_jpeg:      # ... but not as a part its core colour rules out (a nose read as the neck beside it)
            loose[loose] = [not core_rules_out(image_ycc, joints.xy[index], joints.part[index], dots.radius, scale)
                            for index in np.flatnonzero(loose)]
        loose_dots = [(int(joints.part[index]), joints.xy[index]) for index in np.flatnonzero(loose)]
        if small_jpeg:
            loose_dots += faint_loose_dots(joints, faint, blue, image_ycc, dots.radius, scale)
        bodies = add_missing_joints(redraw, bodies, loose_dots, stick_ends=scale < SMALL_DOTS)
        if scale < SMALL_DOTS:      # a joint added where sticks meet may be the one two pieces lacked to join;
            # eyes and ears that the checks left on their own go to their heads, and dots read twice go
            bodies = join_eye_and_ear(refit(redraw, bodies), dots.radius)
            bodies = adopt_ears(take_head_echoes(bodies, dots.radius))
            bodies = join_neck_echoes(bodies, dots.radius)
        # a small JPEG blue dot is no brighter than its sticks, but as dark as pure blue
        bright = joint if scale >= SMALL_DOTS else np.maximum(joint, dark_blue_weight(classes, image_ycc))
        bodies = centre_by_luma(bodies, classes, bright, dots, native)
        if small_jpeg:      # the two finds of a dot found twice may now lie on one spot
            bodies = join_twins(refine_limb_joints(redraw, bodies), dots.radius)
    taken = np.array([body[part] for body in bodies for part in blue_like
                      if not np.isnan(body[part, 0])]).reshape(-1, 2)
    if len(taken) and len(blue):
        blue = blue[np.min(pairwise(blue, taken), axis=1) > 0.6 * dots.radius]
    if redraw is not None:
        bodies = drop_joints_on_hand_dots(bodies, blue, classes, joint, dots.radius)
    if native:
        blue = np.rint(blue)
    hand_links = link_hand_dots(blue, classes, dots, scale)
    found_hands = label_hands(blue, hand_links)
    # a lone blue dot is a left knee (with no hip and no ankle) unless it may be part of a hand: a dot of
    # a hand found, or a blue dot a few dot sizes from others (hand lines may hide under the dots); or
    # unless redrawing joined it to a person; or, in a shrunk map, it lies on a person's joint of the next
    # hue (that joint read twice), in a hand's tangle of blended dots, or (a knee) by a hand's blue without
    # its own sticks; in a shrunk map a lone knee kept then takes its faint ankle as redrawing added joints
    hand_dots = blue[sorted({index for _, used in found_hands for index in used})].reshape(-1, 2)
    lone_legs = []
    for body in lone_blue:
        part = lone_part(body)
        point = body[[part]]
        on_hand, joined = (len(known) and np.hypot(*(known - point).T).min() < 0.6 * dots.radius
                           for known in (hand_dots, taken))
        echo = scale < SMALL_DOTS and on_next_hue(point[0], part, bodies, 2 * dots.radius)
        if not on_hand and not joined and not echo and not by_hand(point, blue, dots.radius, own=0.6)[0] \
                and not among_hand_dots(point[0], part, classes, joint, dots, scale):
            lone_legs.append(body)
    if redraw is not None and scale < SMALL_DOTS:
        bodies = drop_stick_crumbs(grow_lone_knees(redraw, bodies, lone_legs, loose_dots), redraw.half_width)
    else:
        bodies += lone_legs
    if redraw is not None:
        bodies = joints_out_of_hands(drop_unseen_lone_dots(redraw, bodies), classes, joint, dots, scale)
        bodies = drop_thin_blue_pieces(bodies, blue_like, classes, joint, dots, scale)
        bodies, relabelled = untangle_heads(bodies, dots.radius)
        if relabelled:      # a nose that was read as an ear may join its body now
            bodies = refit(redraw, bodies)
        if small_jpeg:
            bodies = split_eye_ear_blends(redraw, relabel_broken_heads(redraw, bodies), dots.radius)
            bodies = join_head_pieces(redraw, bodies, dots.radius)
            bodies = join_heads_to_necks(redraw, bodies, blue, hidden_nose=scale < SMALL_DOTS)
            # with joints moved onto their dots and heads settled, a stick between two pieces that was
            # drawn off its place may fit now, and a joint nothing drawn explains any more goes
            bodies = refit(redraw, add_hidden_head_dots(redraw, bodies, blue))
            bodies = settle_ruled_out_lone_joints(bodies, image_ycc, dots.radius, scale)

    face_groups = group_face_dots(face_dots)
    bodies = join_heads_under_faces(bodies, face_groups)

    hand_of: Dict[Tuple[int, str], np.ndarray] = {}
    if hands and found_hands:
        hand_points = [hand for hand, _ in found_hands]
        for hand, place in zip(hand_points, attach_hands(bodies, hand_points, dots.radius, classes)):
            if place is None:
                if np.count_nonzero(~np.isnan(hand[:, 0])) < MIN_LONE_HAND:
                    continue
                bodies.append(np.full((NUM_BODY, 2), np.nan))
                place = ("left_hand", len(bodies) - 1)
            hand_of[(place[1], place[0])] = hand

    faces, lone_faces = find_faces(bodies, face_groups, dots.radius) if face else ({}, [])
    for lone_face in lone_faces:
        bodies.append(np.full((NUM_BODY, 2), np.nan))
        faces[len(bodies) - 1] = lone_face

    forearm_ends = [(joints.xy[start], joints.xy[end]) for link in links
                    for start, end in ((link.first, link.second), (link.second, link.first))
                    if (parts[start], parts[end]) in FOREARMS.values() and joints.score[end] <= 0]
    bodies = wrists_on_forearms(bodies, hand_of, forearm_ends, blue, classes, dots, scale, native)
    if palette_part is not None and native:
        bodies = fit_drawn_dots(bodies, palette_part, classes.black)
    if native:
        # renderers draw at int(x / W * W) (float64 for bodies, float32 for hands and face), which for a
        # whole x is sometimes x - 1: nudge points up to the next float that draws on their own pixel
        size = np.array([width, height], np.float64)
        bodies = [drawn_on_pixel(body, size, np.float64) for body in bodies]
        hand_of = {key: drawn_on_pixel(points, size, np.float32) for key, points in hand_of.items()}
        faces = {key: drawn_on_pixel(np.rint(points), size, np.float32) for key, points in faces.items()}

    order = sorted(range(len(bodies)), key=lambda index: -int((~np.isnan(bodies[index][:, 0])).sum()))
    people = []
    for index in order:
        person = Person(body=_to_points(bodies[index]))
        person.face = _to_points(faces[index]) if index in faces else None
        person.left_hand = _to_points(hand_of[(index, "left_hand")]) if (index, "left_hand") in hand_of else None
        person.right_hand = _to_points(hand_of[(index, "right_hand")]) if (index, "right_hand") in hand_of else None
        people.append(person)
    return PoseFrame(people, width, height)


def _to_points(xy: np.ndarray) -> List[Optional[Keypoint]]:
    return [None if np.isnan(x) else Keypoint(float(x), float(y), 1.0) for x, y in xy]
