"""Skeleton image -> pose: draw known poses with ``render_pose``, optionally resize (0.5-2x) and
JPEG-compress the map, read it back with ``pose_from_skeleton_image`` and compare.

What "right" means here:
- every visible body joint (at least 3/4 of its dot shows in the clean map) comes back within 2 px,
  scaled with the image (2 px x the resize factor, never less than 2 px);
- no joint is invented: every joint read back is a joint of that part that was drawn (partly hidden
  ones may come back too, within twice the tolerance);
- grouping: all joints of a person read back belong to one drawn person, and two visible joints joined
  by a stick that shows are in the same person read back;
- hands: the points of visible hand dots come back on the right person and side, within a few pixels.

Images shrunk to half size *and* JPEG-compressed lose the colour of small dots (a 9 px dot is 4-5 px
wide there, about two of JPEG's 4:2:0 chroma samples across); there the tests ask for high recall and
few wrong joints instead of every joint; JPEG at 0.75x-1x allows a small budget. Measured over 300
scenes (seeds 0-299): 100 % / 99.9 % / 98.9 % of visible joints come back at 1x / 0.75x / 0.5x, and
every scene of PNG maps at 0.75x-2x comes back whole (299 of 300 at 0.5x). Maps drawn on 1536-2560 px
canvases (long sticks) and PNG maps shrunk by sampling pixels (nearest neighbour) have their own cases.
"""
from __future__ import annotations

import math
import warnings
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpose_core.edit import crop
from openpose_core.image import ImageError
from openpose_core.pose import NUM_BODY, Keypoint, Person, PoseFrame
from openpose_core.render import BODY_COLORS, DRAWN_LIMBS, LIMB_COLORS, render_pose
from openpose_core.skeleton_image import pose_from_skeleton_image
from openpose_core.skeleton_image.colours import BLUE_LEG, EXACT_SHARE, classify, palette_share
from openpose_core.skeleton_image.dots import dot_scale
from openpose_core.skeleton_image.geometry import NearPoints, neighbours, pairwise

# ---- plausible random people ------------------------------------------------------------------------


def _unit(degrees: float) -> np.ndarray:
    angle = math.radians(degrees)
    return np.array([math.cos(angle), math.sin(angle)])


def _rotate(vector: np.ndarray, degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([c * vector[0] - s * vector[1], s * vector[0] + c * vector[1]])


def random_body(rng: np.random.Generator, height: float) -> np.ndarray:
    """18 x 2 COCO body of a person ``height`` px tall (nose to ankle about 0.8 of it), centred on 0,
    with realistic limb lengths: arms and legs at any plausible angle, a turned head, a slight lean and,
    now and then, a person lying or upside down."""
    body = np.zeros((NUM_BODY, 2))
    facing = rng.choice([-1, 1])
    lean = rng.normal(0, 8)
    down = _unit(90 + lean)
    right = _rotate(down, 90 * facing)           # toward the person's right side
    shoulder = 0.11 * height * rng.uniform(0.8, 1.15)
    body[2] = right * shoulder + down * rng.normal(0, 0.01 * height)
    body[5] = -right * shoulder + down * rng.normal(0, 0.01 * height)
    for start, elbow, wrist in ((2, 3, 4), (5, 6, 7)):
        upper = rng.uniform(0, 360)
        body[elbow] = body[start] + _unit(upper) * 0.16 * height * rng.uniform(0.85, 1.1)
        body[wrist] = body[elbow] + _unit(upper + rng.uniform(-150, 150)) * 0.14 * height * rng.uniform(0.85, 1.1)
    torso = 0.30 * height * rng.uniform(0.9, 1.1)
    hip = 0.05 * height * rng.uniform(0.8, 1.2)
    for side, (hip_part, knee, ankle) in ((1, (8, 9, 10)), (-1, (11, 12, 13))):
        body[hip_part] = down * torso + right * hip * side
        thigh = 90 + lean + rng.uniform(-45, 45)
        body[knee] = body[hip_part] + _unit(thigh) * 0.23 * height * rng.uniform(0.9, 1.1)
        shin = thigh + rng.uniform(-10, 70) * rng.choice([-1, 1])
        body[ankle] = body[knee] + _unit(shin) * 0.22 * height * rng.uniform(0.9, 1.1)
    up = -_rotate(down, rng.normal(0, 12))
    head_right = _rotate(up, -90 * facing)
    turn = rng.uniform(-0.6, 0.6)
    body[0] = up * 0.12 * height * rng.uniform(0.85, 1.15) + head_right * turn * 0.02 * height
    for side, (eye, ear) in ((1, (14, 16)), (-1, (15, 17))):
        spread = 1 + side * turn * 0.5
        body[eye] = body[0] + up * 0.03 * height + head_right * side * 0.025 * height * spread
        body[ear] = body[0] + up * 0.015 * height + head_right * side * 0.06 * height * spread
    tilt = rng.normal(0, 10) if rng.random() < 0.9 else rng.uniform(-180, 180)
    body = np.array([_rotate(point, tilt) for point in body])
    return body - body.mean(axis=0)


def random_hand(rng: np.random.Generator, wrist: np.ndarray, pointing: float, length: float) -> np.ndarray:
    """21 x 2 open hand: wrist at ``wrist``, fingers spread around ``pointing`` (degrees), ``length`` from
    the wrist to the middle fingertip."""
    hand = np.zeros((21, 2))
    hand[0] = wrist
    mirror = rng.choice([-1, 1])
    spread = (-55, -22, -4, 14, 32)
    palm = (0.28, 0.47, 0.47, 0.45, 0.42)
    phalanges = ((0.22, 0.18, 0.16), (0.2, 0.16, 0.14), (0.22, 0.17, 0.14), (0.2, 0.16, 0.13), (0.16, 0.12, 0.11))
    for finger in range(5):
        angle = pointing + mirror * (spread[finger] + rng.normal(0, 4))
        point = wrist + _unit(angle) * palm[finger] * length
        hand[1 + 4 * finger] = point
        curl = rng.uniform(-15, 25) * mirror
        for joint in range(3):
            angle += curl
            point = point + _unit(angle) * phalanges[finger][joint] * length
            hand[2 + 4 * finger + joint] = point
    return hand


CANVASES = ((512, 512), (640, 384), (384, 640), (768, 512))


def random_scene(rng: np.random.Generator, count: int, size: Tuple[int, int], *, missing: float = 0.1,
                 hands: bool = False, hand_length: float = 0.3) -> PoseFrame:
    """``count`` people side by side (neighbours may overlap a little), each in a slot of the canvas
    width, ``missing`` of their joints left out. With ``hands``, each forearm gets a hand of
    ``hand_length`` x the person's height, pointing on along the forearm, unless it would leave the
    canvas or come near another hand."""
    width, height = size
    slot = width / count
    people, hand_boxes = [], []
    for index in range(count):
        tall = min(height * rng.uniform(0.55, 0.85), 2.0 * slot * rng.uniform(0.8, 1.1))
        centre = np.array([(index + 0.5 + rng.uniform(-0.15, 0.15)) * slot, height * (0.5 + rng.uniform(-0.1, 0.1))])
        xy = random_body(rng, tall) + centre
        present = rng.random(NUM_BODY) >= missing
        person = Person(body=[Keypoint(float(x), float(y)) if keep else None for (x, y), keep in zip(xy, present)])
        if hands:
            for side, elbow, wrist in (("left_hand", 6, 7), ("right_hand", 3, 4)):
                if not (present[elbow] and present[wrist]):
                    continue
                forearm = xy[wrist] - xy[elbow]
                hand = random_hand(rng, xy[wrist] + rng.normal(0, 1.5, 2), math.degrees(math.atan2(forearm[1], forearm[0])),
                                   hand_length * tall)
                low, high = hand.min(axis=0) - 12, hand.max(axis=0) + 12
                inside = (low > 0).all() and (high < (width, height)).all()
                apart = all((high < other_low).any() or (low > other_high).any() for other_low, other_high in hand_boxes)
                if inside and apart:
                    hand_boxes.append((low, high))
                    setattr(person, side, [Keypoint(float(x), float(y)) for x, y in hand])
        people.append(person)
    order = rng.permutation(count)          # drawing order decides who covers whom
    return PoseFrame([people[i] for i in order], width, height)


# ---- degrading the map ------------------------------------------------------------------------------

INTERPOLATIONS = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
                  "nearest": cv2.INTER_NEAREST, "nearest-exact": cv2.INTER_NEAREST_EXACT}


def degrade(image: np.ndarray, factor: float = 1.0, interpolation: str = "area", jpeg: Optional[int] = None,
            webp: Optional[int] = None) -> Tuple[np.ndarray, float, float]:
    """Resize by ``factor`` and/or compress as JPEG or lossy WebP at the given quality (through cv2, which
    works in BGR); returns the image and the actual x and y factors."""
    height, width = image.shape[:2]
    if factor != 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        image = cv2.resize(image, size, interpolation=INTERPOLATIONS[interpolation])
    codecs = ((".jpg", cv2.IMWRITE_JPEG_QUALITY, jpeg), (".webp", cv2.IMWRITE_WEBP_QUALITY, webp))
    for extension, flag, quality in codecs:
        if quality is not None:
            ok, data = cv2.imencode(extension, np.ascontiguousarray(image[..., ::-1]), [flag, quality])
            assert ok
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(image), image.shape[1] / width, image.shape[0] / height


# ---- what should come back ---------------------------------------------------------------------------


def drawn_position(point: Keypoint, fx: float, fy: float) -> np.ndarray:
    """Where a point's dot centre is in the degraded image: the renderer draws at the truncated pixel,
    and cv2.resize maps pixel centres as (x + 0.5) * f - 0.5."""
    return np.array([(int(point.x) + 0.5) * fx - 0.5, (int(point.y) + 0.5) * fy - 0.5])


def dot_visibility(frame: PoseFrame, clean: np.ndarray) -> List[np.ndarray]:
    """Per person, per body part: the fraction of its dot that still shows its colour in the clean map."""
    disk = np.zeros((9, 9), np.uint8)
    cv2.circle(disk, (4, 4), 4, 1, -1)
    padded = np.pad(clean, ((4, 4), (4, 4), (0, 0)), constant_values=1)   # 1: no colour of ours
    result = []
    for person in frame.people:
        visible = np.zeros(NUM_BODY)
        for part, point in enumerate(person.body):
            x, y = int(point.x) if point else -99, int(point.y) if point else -99
            if point is None or not (-4 <= x < frame.width + 4 and -4 <= y < frame.height + 4):
                continue
            window = padded[max(y, 0):y + 9, max(x, 0):x + 9]
            mask = disk[max(-y, 0):max(-y, 0) + window.shape[0], max(-x, 0):max(-x, 0) + window.shape[1]]
            visible[part] = (np.all(window == BODY_COLORS[part], axis=2) & (mask > 0)).sum() / 49.0
        result.append(visible)
    return result


def stick_visible(frame: PoseFrame, clean: np.ndarray, person: Person, limb: int) -> bool:
    """Whether enough of a drawn stick (outside its end dots) still shows its colour to join its joints."""
    start, end = person.body[DRAWN_LIMBS[limb][0]], person.body[DRAWN_LIMBS[limb][1]]
    single = render_pose(PoseFrame([Person(body=[p if i in DRAWN_LIMBS[limb] else None
                                                 for i, p in enumerate(person.body)])], frame.width, frame.height))
    stick = np.all(single == LIMB_COLORS[limb], axis=2)
    shown = stick & np.all(clean == LIMB_COLORS[limb], axis=2)
    return shown.sum() >= 12 and shown.sum() >= 0.5 * max(stick.sum(), 1) and start is not None and end is not None


VISIBLE = 0.75


def compare(frame: PoseFrame, clean: np.ndarray, parsed: PoseFrame, fx: float, fy: float, *,
            strict: bool = True) -> Dict[str, list]:
    """Check ``parsed`` against the drawn ``frame``; returns the measurements (errors, misses, ...).

    With ``strict`` the per-joint rules are asserted; otherwise they are only counted."""
    tolerance = 2.0 * max(1.0, fx, fy)
    visibility = dot_visibility(frame, clean)
    truth = [(person_index, part, drawn_position(point, fx, fy), visibility[person_index][part])
             for person_index, person in enumerate(frame.people)
             for part, point in enumerate(person.body) if point is not None]
    found: Dict[Tuple[int, int], Tuple[int, float]] = {}
    report: Dict[str, list] = {"errors": [], "missed": [], "invented": [], "split": [], "mixed": []}
    for parsed_index, person in enumerate(parsed.people):
        owners = set()
        for part, point in enumerate(person.body):
            if point is None:
                continue
            options = [(float(np.hypot(*(where - (point.x, point.y)))), owner, seen)
                       for owner, other, where, seen in truth if other == part]
            distance, owner, seen = min(options, default=(np.inf, -1, 0.0))
            limit = tolerance if seen >= VISIBLE else 2 * tolerance
            if distance > limit or (owner, part) in found:      # far from any, or a second copy
                report["invented"].append((parsed_index, part, distance))
                continue
            owners.add(owner)
            found[(owner, part)] = (parsed_index, distance)
            report["errors"].append(distance)
        if len(owners) > 1:
            report["mixed"].append((parsed_index, sorted(owners)))
    for owner, part, _, seen in truth:
        if seen >= VISIBLE and (owner, part) not in found:
            report["missed"].append((owner, part, seen))
    for owner, person in enumerate(frame.people):
        for limb, (start, end) in enumerate(DRAWN_LIMBS):
            ends = (found.get((owner, start)), found.get((owner, end)))
            if None in ends or ends[0][0] == ends[1][0]:
                continue
            if visibility[owner][start] >= VISIBLE and visibility[owner][end] >= VISIBLE and \
                    stick_visible(frame, clean, person, limb):
                report["split"].append((owner, limb))
    if strict:
        assert not report["mixed"], f"people mixed up: {report['mixed']}"
        assert not report["invented"], f"joints that were not drawn: {report['invented']}"
        assert not report["missed"], f"visible joints not found: {report['missed']}"
        assert not report["split"], f"people split across a visible stick: {report['split']}"
    return report


def run_case(seed: int, count: int, factor: float = 1.0, interpolation: str = "area", jpeg: Optional[int] = None,
             strict: bool = True, size: Optional[Tuple[int, int]] = None,
             webp: Optional[int] = None) -> Dict[str, list]:
    rng = np.random.default_rng(seed)
    frame = random_scene(rng, count, size or CANVASES[seed % len(CANVASES)])
    clean = render_pose(frame, hands=False, face=False)
    image, fx, fy = degrade(clean, factor, interpolation, jpeg, webp)
    parsed = pose_from_skeleton_image(image, hands=False, face=False)
    assert (parsed.width, parsed.height) == (image.shape[1], image.shape[0])
    return compare(frame, clean, parsed, fx, fy, strict=strict)


def jpeg_report(seed: int, factor: float = 0.5, strict: bool = False, cropped: bool = False,
                hands: bool = False) -> Dict[str, list]:
    """The measurements of the random scene ``seed`` (``cropped``: its cropped case, see :func:`cropped_case`;
    ``hands``: the hand scene ``seed``, see :func:`hand_scene_report`) read from its map resized by ``factor``
    (area), JPEG quality 75; ``strict``: assert that it comes back whole."""
    if hands:
        return hand_scene_report(seed, factor, "area", strict=strict)
    if cropped:
        return cropped_report(seed, factor, "area", 75, strict=strict)
    return run_case(seed, 1 + seed % 5, factor, "area", jpeg=75, strict=strict)


def missed_parts(report: Dict[str, list]) -> List[Tuple[int, int]]:
    """(person, part) of each visible joint that ``report`` says was not found."""
    return [(owner, part) for owner, part, _ in report["missed"]]


# ---- body: clean maps, any size -----------------------------------------------------------------------

SEEDS = range(12)
CLEAN = [(1.0, "area"), (0.5, "area"), (0.5, "linear"), (0.75, "cubic"), (1.5, "linear"), (2.0, "cubic")]


@pytest.mark.parametrize("factor,interpolation", CLEAN)
def test_clean_maps_come_back(factor, interpolation):
    for seed in SEEDS if factor <= 1 else SEEDS[:8]:
        run_case(seed, 1 + seed % 5, factor, interpolation)


def test_native_map_round_trips_pixel_for_pixel():
    """Points read back at the drawn size are the drawn pixels (nudged to the float that ``render`` draws
    there), also for dots partly under later ones (a nose under its eyes). So a whole-pixel pose (as the
    detector gives them) that comes back complete draws again to the same map; sticks depend on the
    points' fractions too, so only whole-pixel poses can."""
    complete = 0
    for seed in range(30):
        frame = random_scene(np.random.default_rng(100 + seed), 1, CANVASES[seed % len(CANVASES)], missing=0.0)
        body = [Keypoint(float(round(p.x)), float(round(p.y))) for p in frame.people[0].body]
        frame = PoseFrame([Person(body=body)], frame.width, frame.height)
        clean = render_pose(frame, hands=False, face=False)
        parsed = pose_from_skeleton_image(clean, hands=False, face=False)
        shown = dot_visibility(frame, clean)[0]
        for part, point in enumerate(parsed.people[0].body if parsed.people else []):
            if point is not None and shown[part] >= 0.6:     # found on its pixel exactly
                assert (int(point.x), int(point.y)) == (body[part].x, body[part].y)
        if len(parsed.people) == 1 and parsed.people[0].present() == NUM_BODY:
            assert np.array_equal(render_pose(parsed, hands=False, face=False), clean), seed
            complete += 1
    assert complete >= 15


@pytest.mark.parametrize("seed", [14, 34, 74, 114, 142, 178])
def test_partly_covered_dots_come_back_on_their_pixel(seed):
    """At the drawn size a dot partly under later drawing (a nose under its eyes, an elbow under a
    forearm) comes back on its own pixel: its visible pixels and the black around it fix its disk."""
    frame = random_scene(np.random.default_rng(seed), 1 + seed % 5, CANVASES[seed % len(CANVASES)])
    clean = render_pose(frame, hands=False, face=False)
    parsed = pose_from_skeleton_image(clean, hands=False, face=False)
    read = {(part, int(point.x), int(point.y)) for person in parsed.people
            for part, point in enumerate(person.body) if point is not None}
    covered = 0
    for person, shown in zip(frame.people, dot_visibility(frame, clean)):
        for part, point in enumerate(person.body):
            if point is not None and 0.6 <= shown[part] < 1.0:
                assert (part, int(point.x), int(point.y)) in read, (part, point)
                covered += 1
    assert covered >= 3


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 31 - 1), count=st.integers(1, 5), factor=st.sampled_from([0.5, 0.75, 1.0, 1.25, 2.0]),
       interpolation=st.sampled_from(sorted(INTERPOLATIONS)), canvas=st.sampled_from(CANVASES))
def test_clean_maps_property(seed, count, factor, interpolation, canvas):
    run_case(seed, count, factor, interpolation, size=canvas)


@pytest.mark.parametrize("seed,jpeg", [(1, None), (2, None), (3, None), (5, 75), (15, 75)])
def test_large_canvases_come_back(seed, jpeg):
    """On a 2048 x 2048 canvas a limb's stick is hundreds of pixels long, and the renderer turns it by its
    angle truncated to whole degrees: its ends lie up to 5 px off the line between its joints, beyond its
    half width. Sticks are sampled along the axis the renderer drew, so long limbs still join their
    people."""
    run_case(seed, 1 + seed % 5, jpeg=jpeg, size=(2048, 2048))


@pytest.mark.parametrize("seed,factor,interpolation", [
    (1, 0.5, "nearest-exact"), (2, 0.5, "nearest-exact"), (6, 0.5, "nearest-exact"), (4, 0.67, "nearest-exact"),
    (12, 0.67, "nearest-exact"), (2, 0.5, "nearest"), (3, 0.5, "nearest")])
def test_maps_shrunk_by_sampling_pixels_come_back(seed, factor, interpolation):
    """Nearest-neighbour resizing (ComfyUI's default "nearest-exact" upscale method) keeps every pixel's
    exact colour but leaves crisp dots whose centres may fall between pixels, where a disk centred on a
    pixel sees half a pixel of the dot outside it: shrunk, such a dot was too weak to count."""
    run_case(seed, 1 + seed % 5, factor, interpolation)


@pytest.mark.parametrize("seed,factor,interpolation,jpeg", [(0, 1.0, "area", None), (1, 1.0, "area", None),
                                                         (5, 1.0, "area", None), (55, 0.75, "linear", 75)])
def test_cropped_maps_come_back(seed, factor, interpolation, jpeg):
    """A map cropped to a window half its width and height (dots cut at the border, few left whole) still
    gives its scale and every visible joint; seed 55 (JPEG at 0.75x) was read at scale 0.32 and lost."""
    cropped_report(seed, factor, interpolation, jpeg)


def cropped_case(seed: int, factor: float, interpolation: str, jpeg: Optional[int]):
    """A random scene's map cropped to a random window half its width and height, then degraded: the frame
    cropped alike, the clean crop, the degraded image and its x and y factors."""
    frame = random_scene(np.random.default_rng(seed), 1 + seed % 5, CANVASES[seed % len(CANVASES)])
    clean = render_pose(frame, hands=False, face=False)
    height, width = clean.shape[:2]
    corner = np.random.default_rng(1000 + seed).integers(0, (width // 2 + 1, height // 2 + 1))
    left, top = int(corner[0]), int(corner[1])
    clean = np.ascontiguousarray(clean[top:top + height // 2, left:left + width // 2])
    frame = crop(frame, left, top, width // 2, height // 2)
    return (frame, clean, *degrade(clean, factor, interpolation, jpeg))


def cropped_report(seed: int, factor: float, interpolation: str, jpeg: Optional[int],
                   strict: bool = True) -> Dict[str, list]:
    """The measurements of the cropped case ``seed`` (see :func:`cropped_case`) read back without hands."""
    frame, clean, image, fx, fy = cropped_case(seed, factor, interpolation, jpeg)
    return compare(frame, clean, pose_from_skeleton_image(image, hands=False, face=False), fx, fy, strict=strict)


def test_a_joint_read_past_the_border_of_a_cropped_map_warns_nothing():
    """Seed 98, cropped, at half size in JPEG: a joint placed past the border has no pixel to show its
    colour; the reading says so without numpy's warning about the mean of nothing."""
    frame, clean, image, fx, fy = cropped_case(98, 0.5, "area", 75)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = pose_from_skeleton_image(image, hands=False, face=False)
    report = compare(frame, clean, parsed, fx, fy, strict=False)
    assert report["mixed"] == [] and len(report["missed"]) <= 1, report


def test_hand_lines_in_maps_shrunk_by_sampling_pixels_are_no_joints():
    """In a map resized by sampling pixels every pixel keeps its exact colour, so a body dot must show its
    own: a crisp bit of a hand line in a hue next to a body colour is no joint."""
    invented = 0
    for seed in range(24):
        frame = random_scene(np.random.default_rng(500 + seed), 1 + seed % 2, (768, 768), hands=True, missing=0.05)
        image, fx, fy = degrade(render_pose(frame, face=False), 0.75, "nearest-exact")
        parsed = pose_from_skeleton_image(image, face=False)
        report = compare(frame, render_pose(frame, face=False), parsed, fx, fy, strict=False)
        invented += len(report["invented"])
    assert invented <= 2


def test_thick_xinsir_sticks():
    """Maps drawn with ``stick_scaling`` (sticks 2-3x thicker on large canvases) read back the same way."""
    for seed in range(6):
        rng = np.random.default_rng(seed)
        frame = random_scene(rng, 1 + seed % 5, ((1024, 1024), (1280, 720))[seed % 2])
        clean = render_pose(frame, hands=False, face=False, stick_scaling=True)
        compare(frame, clean, pose_from_skeleton_image(clean, hands=False, face=False), 1.0, 1.0)


@pytest.mark.parametrize("seed,factor,interpolation", [
    (119, 1.0, "area"),     # an ear whose eye is missing, beside a head without a neck and another body
    (274, 1.0, "area"),     # a nose hidden under an elbow: the stick end lands on an ear standing alone
    (278, 1.0, "area"),
    (9, 0.75, "cubic"),     # cubic resizing leaves only about half the drawn pixels exact
    (154, 0.75, "cubic"),
    (48, 0.5, "area"),      # an elbow dot on the neck-hip stick of its own hue
    (131, 0.5, "area"),
    (114, 0.5, "area"),     # neck and shoulder dots with only a sliver of stick between them
    (94, 0.5, "area"),
    (312, 1.0, "area"),     # a whole l-ear (its eye missing) 3 px from its own, mostly hidden, wrist: no echo
    (434, 1.0, "area"),
    (344, 1.0, "area"),     # an l-ear between its l-eye and its wrist: no blend of the two in exact colours
    (54, 0.5, "area"),      # an l-eye between its r-eye and l-ear: its luma says it is no blend of them
])
def test_clean_maps_hard_scenes(seed, factor, interpolation):
    """Scenes (found among 300 random ones) that once failed, each on a different rule."""
    run_case(seed, 1 + seed % 5, factor, interpolation)


def test_head_dots_are_labelled_together():
    """A head without neck in JPEG: the nose's colour also reads as the ear next to it, and that reading's
    touching link to the eye is (slightly) the best one. Joining best link first takes the nose as the ear
    and leaves the real ear alone; labelling the head's dots together gives one five-point head."""
    from openpose_core.skeleton_image.dots import Joints
    from openpose_core.skeleton_image.heads import relabel_heads
    from openpose_core.skeleton_image.sticks import Link

    #             15      nose: 0, 17   17 (true)  14      16
    xy = np.array([[140, 260], [145, 265], [145, 265], [133, 263], [148, 260], [153, 262]], float)
    joints = Joints(xy, np.array([15, 0, 17, 17, 14, 16]), np.array([0, 1, 1, 2, 3, 4]),
                    np.array([0.75, 0.47, 0.37, 0.75, 0.53, 0.75]), np.array([True, True, False, True, True, True]))
    links = [Link(0.363, 0, 2), Link(0.353, 0, 3), Link(0.328, 4, 5), Link(0.300, 1, 4), Link(0.272, 1, 0)]
    greedy = [[0, 2], [4, 5], [3]]         # what best-link-first joining makes of it
    relabelled = relabel_heads(greedy, joints, links)
    assert [sorted(joints.part[index] for index in group) for group in relabelled] == [[0, 14, 15, 16, 17]]
    # a head already right stays as it is
    assert relabel_heads([[0, 1, 3, 4, 5]], joints, links) == [[0, 1, 3, 4, 5]]


def _head(nose=(0, 0), r_eye=(-5, -4), l_eye=(5, -4), r_ear=(-12, -1), l_ear=(12, -1), turn=0.0):
    """A body holding only a face-on head (the person's right on the image's left), turned ``turn`` degrees."""
    body = np.full((NUM_BODY, 2), np.nan)
    for part, point in zip((0, 14, 15, 16, 17), (nose, r_eye, l_eye, r_ear, l_ear)):
        if point is not None:
            body[part] = _rotate(np.array(point, float), turn) + (200, 150)
    return body


@pytest.mark.parametrize("turn", [0.0, 75.0, 180.0])
def test_a_head_whose_labels_break_the_layout_of_a_face_is_relabelled(turn):
    """JPEG moves a small dot's hue a step: an l-ear read as the nose and the nose as the l-ear, or an l-eye
    and r-ear swapped, break the layout of a face (nose between the eyes, each ear beyond its eye). The
    fewest hue-step relabels that mend it are taken, measured along the eyes or, with an eye missing, the
    ears. Heads that keep the layout, that have no eye, or nothing to measure along, stay as they are, and
    so do tangles that two relabellings mend equally, or that only new labels for both eyes (or both ears)
    mend, and heads with a dot read twice."""
    from openpose_core.skeleton_image.heads import untangle_heads

    right = _head(turn=turn)
    nose_as_ear = _head(nose=(12, -1), l_ear=(0, 0), turn=turn)
    eye_as_ear = _head(l_eye=(-12, -1), r_ear=(5, -4), turn=turn)
    nose_as_ear_alone = _head(nose=(12, -1), l_ear=None, turn=turn)
    one_eye = _head(nose=(12, -1), l_ear=(0, 0), r_eye=None, turn=turn)
    bodies, changed = untangle_heads([nose_as_ear, right, eye_as_ear, nose_as_ear_alone, one_eye], 4.0)
    assert changed
    for body in bodies[:3]:
        assert np.allclose(body, right, equal_nan=True)
    assert np.allclose(bodies[3], _head(nose=None, l_ear=(12, -1), turn=turn), equal_nan=True)
    assert np.allclose(bodies[4], _head(r_eye=None, turn=turn), equal_nan=True)
    eyeless = _head(nose=(12, -1), l_ear=(0, 0), r_eye=None, l_eye=None, turn=turn)
    one_ear = _head(nose=(12, -1), l_ear=(0, 0), r_eye=None, r_ear=None, turn=turn)
    ears_mirrored = _head(r_eye=None, l_eye=(-5, -4), turn=turn)     # only new labels for both ears mend it
    tied = _head(nose=(3, 7), r_eye=(-12, -6), l_eye=(-10, 5), r_ear=(-1, -9), l_ear=(7, 0), turn=turn)
    unmended = _head(nose=(-20, 0), r_ear=None, l_ear=None, turn=turn)
    mirrored = _head(nose=(-12, -1), r_ear=None, l_ear=(0, 0), turn=turn)     # only new labels for both eyes mend it
    read_twice = _head(nose=None, r_eye=(6, -1), l_eye=(10, 2), r_ear=(11, 4), l_ear=(-9, -3), turn=turn)  # r-ear twice
    kept = [right, eyeless, one_ear, ears_mirrored, tied, unmended, mirrored, read_twice]
    bodies, changed = untangle_heads(kept, 4.0)
    assert not changed and all(new is old for new, old in zip(bodies, kept))


@pytest.mark.parametrize("seed,owner,parts", [(62, 2, (0, 17)), (82, 1, (0, 17)), (179, 4, (0, 17)),
                                              (218, 2, (15, 16)), (224, 4, (15, 16)), (293, 1, (15, 16)),
                                              (38, 2, (15,)), (298, 3, (17,))])
def test_half_size_jpeg_heads_read_with_hue_neighbours_labels_are_mended(seed, owner, parts):
    """At half size with JPEG the nose and the l-ear beside it (or the l-eye and r-ear) took each other's
    labels; the layout of a face puts them back, and a nose that was read as an ear joins its body (38, 298:
    heads with an eye missing, measured along the ears)."""
    report = jpeg_report(seed)
    assert [miss for miss in report["missed"] if miss[0] == owner and miss[1] in parts] == [], report


@pytest.mark.parametrize("seed,owner,part", [(47, 2, 15), (114, 4, 16), (214, 3, 16), (274, 4, 16), (294, 0, 16),
                                             (349, 1, 16), (568, 2, 14)])
def test_a_head_whose_mends_lose_an_eye_takes_the_one_that_draws_best(seed, owner, part):
    """At half size with JPEG a head dot read with a hue neighbour's label breaks the layout of a face (mostly
    an r-ear beside its r-eye read as the l-eye), and its mends lose an eye or rename one, which the layout
    alone does not decide; drawing the people again does."""
    report = jpeg_report(seed)
    assert (owner, part) not in missed_parts(report), report


@pytest.mark.parametrize("seed,owner,part", [(121, 0, 16), (140, 0, 16), (204, 3, 16), (294, 2, 16), (304, 2, 14),
                                             (549, 2, 17)])
def test_a_head_piece_by_its_body_joins_it_under_the_labels_that_draw_best(seed, owner, part):
    """At half size with JPEG a body's r-ear read as its l-eye, its true eyes and l-ear a head piece beside it
    (121); or a lone r-ear dot read as the l-eye its body holds (140): joined, with the r-ear's label back."""
    report = jpeg_report(seed)
    assert (owner, part) not in missed_parts(report), report
    assert report["mixed"] == [], report


@pytest.mark.parametrize("seed,owner,part", [(38, 1, 16), (114, 3, 14), (174, None, 15)])
def test_a_head_piece_of_two_dots_keeps_its_labels_when_it_joins(seed, owner, part):
    """An r-eye and r-ear read as a piece, their l-eye half hidden and never read: renamed the l-eye, the piece's
    r-eye (or r-ear) would draw that unread dot's colour and fit better, so a piece of two keeps its labels."""
    report = jpeg_report(seed)
    assert (owner, part) not in missed_parts(report), report
    assert [extra for extra in report["invented"] if extra[1] == 15 and extra[2] < 5] == [], report


@pytest.mark.parametrize("seed,factor", [(469, 0.5), (114, 0.75)])
def test_a_head_piece_whose_labels_fit_no_face_joins_its_body_a_hue_step_off_in_shrunk_jpeg(seed, factor):
    """A piece of an r-eye and an l-eye read as the r-ear (the r-ear undrawn) fits no face with its body's
    nose and l-ear under its own labels; one of its dots then takes a hue step, and the head comes back whole
    (at 0.75x a made-up wrist elsewhere is left)."""
    report = run_case(seed, 1 + seed % 5, factor, "area", jpeg=75, strict=False)
    assert not report["missed"] and not report["split"], report
    assert not [part for _, part, _ in report["invented"] if part in (0, 14, 15, 16, 17)], report["invented"]


@pytest.mark.parametrize("seed,owner,parts", [(38, 0, (0, 14, 16)), (209, 0, (0, 17)), (298, 0, (0, 17)),
                                              (598, 3, (0, 17)), (658, 0, (0,))])
def test_a_head_read_apart_from_its_neck_joins_it_under_the_labels_its_stick_shows(seed, owner, parts):
    """At half size with JPEG a head lies up its neck-nose stick beyond a head piece's reach, read as pieces
    with hue neighbours' labels (the nose as the l-ear; in 38 the r-ear as the nose, two hue steps off): the
    pieces join the neck under the labels that draw best (598 and 658 held out)."""
    report = jpeg_report(seed)
    assert [miss for miss in report["missed"] if miss[0] == owner and miss[1] in parts] == [], report
    assert report["mixed"] == [], report


@pytest.mark.parametrize("seed", [37, 118, 419, 573])
def test_a_head_whose_nose_is_hidden_joins_its_neck_with_the_nose_its_drawing_adds(seed):
    """At half size with JPEG a nose half under its eyes keeps no colour of its own, and its head was read as
    pieces apart from the neck: the pieces, labels as read, join the neck with the nose added where drawing
    it and its sticks fits, and the scene comes back whole (419 and 573 held out)."""
    jpeg_report(seed, strict=True)


def test_a_hidden_nose_joins_a_head_to_its_neck_only_as_read_and_at_half_size():
    """Relabelled as well, a head whose three dots were read right took shifted labels (the l-eye's as the
    r-eye's) below a nose added under them (494). At 0.75x the nose added was 4.7 px off its hidden dot (238)."""
    report = jpeg_report(494)
    assert not {(0, 15), (0, 16), (0, 17)} & set(missed_parts(report)), report
    run_case(238, 4, 0.75, "linear", jpeg=75)


@pytest.mark.parametrize("seed", [47, 198, 239, 424, 585])
def test_a_head_dot_also_takes_the_hue_neighbour_its_core_colour_names(seed):
    """At half size with JPEG a nose found only by the l-ear's colour filter (the pink l-eye beside it pulls
    its hue) was read as an l-ear alone: its core's chroma and luma name the nose, which becomes a reading
    of the dot, and the head's links take it (424 and 585 held out)."""
    jpeg_report(seed, strict=True)


def test_a_head_dot_takes_no_hue_neighbour_its_core_fits_poorly():
    """Only a neighbouring colour the core fits well is a reading: a worse fit is a blend of touching dots
    (an r-ear between its eye and the l-ear), and taking it breaks heads read whole (a crop at half size, a
    map at 0.6x and one with hands at half size)."""
    cropped_report(226, 0.5, "area", 75)
    jpeg_report(153, 0.6, strict=True)
    hand_scene_report(56, 0.5, "area")


@pytest.mark.parametrize("seed", [539, 581, 582])
def test_a_neck_holding_part_of_its_head_joins_the_rest_under_the_labels_its_stick_shows(seed):
    """At half size with JPEG a neck may hold some of its head's dots (the nose, and the r-eye read as the
    l-eye) while the rest lies beside it as a piece whose labels are two hue steps off: the neck's own dots
    and the piece take the labels that draw best together (all held out)."""
    jpeg_report(seed, strict=True)


@pytest.mark.parametrize("seed", [106, 276, 405, 467])
def test_a_dot_fitting_none_of_its_readings_beside_one_that_fits_is_that_dot_s_blend(seed):
    """At half size with JPEG a second find on a dot's rim, or the blend between two touching dots, reads
    as a colour its core does not show (a shoulder's rim as a wrist, an orange 'neck' between a red nose
    and a yellow elbow) and joins a person or stands alone; beside a dot that fits its own colour, it goes
    (405 and 467 held out)."""
    jpeg_report(seed, strict=True)


@pytest.mark.parametrize("seed,owner,part", [(189, 0, 4), (369, 0, 12)])
def test_a_true_dot_fitting_none_of_its_readings_stays(seed, owner, part):
    """A wrist drawn over another limb may fit none of its readings and still be the only dot there (189);
    a knee on an ankle fits none either, and neither does the ankle: both blend, and both stay (369)."""
    assert (owner, part) not in missed_parts(jpeg_report(seed))


@pytest.mark.parametrize("seed,factor,cropped", [(23, 0.5, False), (209, 0.5, False), (626, 0.5, False),
                                                  (63, 0.6, False), (193, 0.5, True), (296, 0.5, True)])
def test_pieces_are_checked_by_drawing_once_more_when_joints_and_heads_are_settled(seed, factor, cropped):
    """In shrunk JPEG maps joints move onto their dots and heads settle after the pieces were checked by
    drawing: the stick from a neck 2 px off its dot to a lone hip drew off its place and fits only once the
    neck has moved (a crop at half size, 193), and joints that nothing drawn explains any more go (a made-up
    nose, 209; a made-up neck and r-shoulder at 0.6x, 63)."""
    jpeg_report(seed, factor, strict=True, cropped=cropped)


@pytest.mark.parametrize("seed", [203, 253])
def test_an_ear_without_its_eye_joins_the_head_beside_it_in_half_size_jpeg(seed):
    """At half size with JPEG an l-ear whose l-eye is not drawn is a small dot alone, with no stick to
    draw: JPEG dims it, and its drawing fits the map only loosely; it joins the head beside it all the same."""
    jpeg_report(seed, strict=True)


def test_a_faint_ear_joins_the_head_beside_it_in_half_size_jpeg():
    """At half size with JPEG an l-ear without its l-eye, beside an r-elbow, is only a faint peak of its
    colour filter: named by its core colour, it is a loose dot like a faint wrist, and joins its head (259)."""
    jpeg_report(259, strict=True)


@pytest.mark.parametrize("seed,factor", [(273, 0.5), (287, 0.5), (557, 0.5), (195, 0.6)])
def test_a_faint_dot_whose_core_names_the_next_hue_is_that_part_in_shrunk_jpeg(seed, factor):
    """In shrunk JPEG maps a small dot takes the chroma of its sticks: an l-knee between its azure thigh and
    its shin peaks only in the l-hip's colour filter (273), an r-ankle at the end of its shin only in the
    r-knee's (287, 557, 195 at 0.6x). Its core colour, luma included, still names it: it is that part."""
    jpeg_report(seed, factor, strict=True)


@pytest.mark.parametrize("seed", [198, 456])
def test_a_faint_peak_is_not_renamed_to_or_from_the_neck_in_half_size_jpeg(seed):
    """The neck's orange lies between the nose's red and the r-shoulder's yellow-orange: a faint peak by a
    nose or a shoulder whose core names the neck is their blend with a neighbouring dot, no neck."""
    jpeg_report(seed, strict=True)


@pytest.mark.parametrize("seed,factor", [(118, 0.5), (273, 0.6)])
def test_a_faint_peak_beside_a_dot_keeps_its_own_colour_in_shrunk_jpeg(seed, factor):
    """A faint peak on a dot's rim takes the chroma of the dots round it: an r-elbow's peak on an r-wrist's
    rim, pulled by the l-shoulder beside it, has the r-shoulder's core colour (118). Renamed so, it made up a
    person; within 1.5 dot radii of a dot a faint peak is not renamed."""
    jpeg_report(seed, factor, strict=True)


@pytest.mark.parametrize("seed,factor,cropped", [(139, 0.6, False), (286, 0.6, False), (233, 0.5, True)])
def test_a_weak_lone_l_knee_is_named_by_its_core_colour_in_shrunk_jpeg(seed, factor, cropped):
    """Shrunk below 0.63x with JPEG an l-knee with no hip drawn, its shin running off the map or its ankle not
    drawn, is a weak blue dot alone: its core colour names it, and it stays (139, 286 at 0.6x; a crop)."""
    jpeg_report(seed, factor, strict=True, cropped=cropped)


@pytest.mark.parametrize("seed", [34, 74, 218])
def test_an_eye_and_ear_overlapping_into_one_dot_are_split_in_shrunk_jpeg(seed):
    """At 0.6x with JPEG an l-eye and its l-ear 3 px apart overlap into one dot of the r-ear's hue, between
    theirs: read as the head's own r-ear across the neck-to-nose line from its r-eye (74; 34: both above the
    nose, so not beyond it from the eye) or as a lone dot (218), it becomes the missing l-eye and l-ear,
    placed by mirroring the head's r-eye (74 keeps an unrelated split at an r-elbow)."""
    report = jpeg_report(seed, 0.6)
    assert not report["missed"] and not report["invented"], report


@pytest.mark.parametrize("seed,people,made_up", [(154, (0, 4), 1), (318, (0,), 0), (694, (0,), 0), (94, (4,), 2),
                                                  (244, (4,), 1)])
def test_an_r_eye_and_ear_read_as_one_l_eye_are_split_in_half_size_jpeg(seed, people, made_up):
    """At half size with JPEG an r-eye and its r-ear overlap into one dot that reads as the l-eye, across the
    neck-to-nose line from the l-ear: it becomes the r-eye and r-ear, and the l-eye, if drawn (154: under the
    nose's stick, never read), goes where the new r-eye mirrors to. With that blend the head's only dot of
    the side, the l-eye and l-ear read apart as a piece across the line join it (94, 244). 694's r-eye and
    r-ear across the line stay (a blend of the l-eye and l-ear reads as the r-ear, not the r-eye): the r-ear
    is split instead. ``made_up``: eye and ear dots read where none was drawn, in other heads (154: person
    3's l-ear, read apart from its head)."""
    report = jpeg_report(seed, 0.5)
    assert not [(owner, part) for owner, part in missed_parts(report) if owner in people and part >= 14], report
    assert len([part for _, part, _ in report["invented"] if part >= 14]) == made_up, report


def test_a_loose_dot_whose_core_colour_rules_out_its_part_joins_no_one_in_half_size_jpeg():
    """At half size with JPEG a nose blended with its pink l-ear is read by the neck's filter beside it: its
    core colour fits the nose's red and rules out the neck's orange, so it is not offered to the head as a
    neck (57)."""
    jpeg_report(57, strict=True)


@pytest.mark.parametrize("seed,hands", [(226, False), (509, False), (134, True)])
def test_a_lone_joint_whose_core_colour_rules_out_its_part_goes_in_half_size_jpeg(seed, hands):
    """At half size with JPEG the blend of two dots or a crumb of a stick can stand alone as a joint no one
    drew (an r-shoulder, 226 and 509; an r-eye among hands, 134): its core colour fits another part's far
    better, and it goes."""
    jpeg_report(seed, strict=True, hands=hands)


@pytest.mark.parametrize("seed,kind", [(182, "plain"), (490, "plain"), (53, "cropped"), (183, "hands")])
def test_a_lone_joint_whose_core_names_the_next_hue_is_that_part_in_half_size_jpeg(seed, kind):
    """At half size with JPEG a joint standing alone, read by the filter a hue step off its own (an r-wrist
    below its elbow read as an l-shoulder, 182), is the part its core colour names: renamed, not dropped."""
    jpeg_report(seed, strict=True, cropped=kind == "cropped", hands=kind == "hands")


@pytest.mark.parametrize("seed,factor,hands", [(59, 0.5, False), (229, 0.5, False), (388, 0.5, False),
                                                (637, 0.5, False), (208, 0.5, False), (223, 0.6, False),
                                                (179, 0.5, True)])
def test_one_dot_read_as_two_parts_of_a_person_is_one_joint_in_shrunk_jpeg(seed, factor, hands):
    """In shrunk JPEG maps one dot can be read as two parts of one person on one spot (an l-ear's pink as
    the nose too, 59; an l-elbow's green as the l-wrist too, 229; an l-ear's as the r-ear's too, 208, its two
    readings 0.85 px apart): the copy that draws next to nothing goes."""
    jpeg_report(seed, factor, strict=True, hands=hands)


@pytest.mark.parametrize("seed", [198, 202])
def test_two_joints_drawn_on_one_spot_are_both_kept_in_half_size_jpeg(seed):
    """Two joints of one person truly drawn less than a pixel apart at half size (an l-eye on the l-elbow, 198;
    an l-ear on the l-elbow, 202) each draw their own sticks: dropping either costs much, and both stay."""
    jpeg_report(seed, strict=True)


@pytest.mark.parametrize("seed,factor", [(105, 0.5), (32, 0.6)])
def test_a_lone_joint_replaces_a_crumb_of_its_stick_read_as_that_joint_in_shrunk_jpeg(seed, factor):
    """In shrunk JPEG maps a crumb of a stick can read as the joint at its end, and the person holds it (a
    crumb of a forearm where a green stick crosses it read as the r-wrist, 105); the real dot, at the stick's
    end, stands alone: it joins the person in place of the crumb."""
    jpeg_report(seed, factor, strict=True)


@pytest.mark.parametrize("seed,kind", [(129, "plain"), (67, "cropped"), (93, "cropped"), (21, "hands"),
                                       (112, "hands")])
def test_a_faint_dot_coloured_like_its_own_stick_joins_where_drawing_it_fits_in_half_size_jpeg(seed, kind):
    """At half size with JPEG an l-hip's azure dot at the end of its thigh fits the thigh's dimmed azure as
    well as its own (129): a faint peak there is a loose dot that joins a person where redrawing confirms it."""
    jpeg_report(seed, strict=True, cropped=kind == "cropped", hands=kind == "hands")


@pytest.mark.parametrize("seed,kind", [(156, "plain"), (503, "plain"), (172, "cropped")])
def test_a_loose_dot_takes_the_place_of_a_crumb_read_as_its_part_in_half_size_jpeg(seed, kind):
    """At half size with JPEG a crumb of a thigh can be read as the l-hip, and the person holds it; the real
    hip dot, a faint loose dot, takes its place where drawing it there fits (156)."""
    jpeg_report(seed, strict=True, cropped=kind == "cropped")


def test_a_faint_dot_unlike_its_own_sticks_must_fit_a_dot_better_than_a_stick_in_half_size_jpeg():
    """Only parts coloured like one of their own sticks (the l-hip, l-knee and r-eye) are offered faint and
    stick-coloured: a faint peak on a stick of another part's hue is a crumb of it (an l-elbow made up, 317)."""
    jpeg_report(317, strict=True)


def test_a_lone_wrist_is_kept_whatever_its_core_colour_in_half_size_jpeg():
    """A wrist whose elbow lies under another wrist stands alone, and JPEG blends its core with the black
    round it: its core colour rules nothing out, and it stays (189)."""
    jpeg_report(189, strict=True)


def test_a_neck_read_on_a_neck_shoulder_stick_is_that_person_s_neck_in_half_size_jpeg():
    """At half size with JPEG a crumb of the stick from a neck to its r-shoulder read as a neck gave the
    l-shoulder a neck of its own (679): the l-shoulder joins the person whose stick it is."""
    jpeg_report(679, strict=True)


@pytest.mark.parametrize("seed,factor,interpolation", [(234, 1.0, "area"), (162, 0.75, "linear")])
def test_a_faint_lone_wrist_under_another_person_s_dots_stands_alone_in_jpeg(seed, factor, interpolation):
    """A wrist whose elbow is missing, touching another dot (1x: a quarter under an ear drawn after it;
    0.75x: over the other wrist), is too faint to stand alone by its colour, but drawing it there (under
    everyone, at 1x) explains the map, and it comes back."""
    run_case(seed, 1 + seed % 5, factor, interpolation, jpeg=75)


@pytest.mark.parametrize("seed,factor,cropped", [(79, 0.6, False), (182, 0.6, False), (74, 0.5, True),
                                                 (239, 0.5, True)])
def test_a_loose_dot_joins_a_piece_drawn_under_everyone_in_shrunk_jpeg(seed, factor, cropped):
    """A piece read apart from its person (an arm whose elbow lies by its own neck) takes its loose dot (an
    r-wrist at 0.6x; an l-shoulder, an r-elbow in crops) only drawn first, under everyone: its sticks run
    under its own person's dots, which, drawn last, they would cover."""
    jpeg_report(seed, factor, strict=True, cropped=cropped)


@pytest.mark.parametrize("seed,factor,owner,part", [(315, 0.5, 0, 4), (229, 0.6, 4, 13)])
def test_a_faint_limb_dot_standing_alone_fits_loosely(seed, factor, owner, part):
    """In shrunk JPEG maps a limb dot that stands alone (an r-wrist, an l-ankle whose neighbours are not
    drawn) is dimmed by JPEG like an ear alone: its drawing fits the map loosely, and it stands all the same."""
    assert (owner, part) not in missed_parts(jpeg_report(seed, factor))


def test_a_dot_added_alone_beside_other_dots_needs_the_usual_fit():
    """A loose 'r-ear' 2.5 px from an l-eye and its l-ear is their blend: on the looser fit of a dot alone
    it would join, and pull the l-ear into a made-up piece (seed 549 at half size)."""
    report = jpeg_report(549)
    assert (2, 17) not in missed_parts(report) and len(report["invented"]) <= 1, report


@pytest.mark.parametrize("seed", [82, 200])
def test_a_lone_left_ankle_too_faint_to_name_stands_alone_where_its_drawing_explains_the_map(seed):
    """At half size with JPEG a left ankle with no knee drawn (200: on another person's shin) keeps too
    little of its blue-violet to stand alone by its colour; drawn alone there, it explains the map."""
    jpeg_report(seed, strict=True)


@pytest.mark.parametrize("seed", [88, 268, 487, 643])
def test_a_lone_left_knee_takes_its_faint_ankle_where_its_shin_ends(seed):
    """At half size with JPEG a left leg with no hip is a lone blue knee, which stays apart until the hands
    are read (blue is the hand dots' colour), and its ankle's blue-violet dot is too faint to find: once
    the knee is known, the ankle comes back where its shin ends on black (487 and 643 held out)."""
    jpeg_report(seed, strict=True)


def test_a_lone_left_knee_takes_a_faint_ankle_dot_its_shin_leads_to():
    """Its ankle's colour peak too faint to found a dot, but named by its core colour (209)."""
    assert (3, 13) not in missed_parts(jpeg_report(209))


@pytest.mark.parametrize("seed,owner", [(126, 1), (273, 0)])
def test_a_knee_whose_ankle_lies_past_the_border_comes_back_where_its_thigh_ends(seed, owner):
    """At half size with JPEG a left knee between its azure thigh and blue shin lost its colour, and its
    ankle lies beyond the map's border: the knee comes back where the thigh ends and the shin bends off
    the map."""
    assert (owner, 12) not in missed_parts(jpeg_report(seed))


def test_joints_are_not_made_up_from_dots_or_sticks_the_border_cuts():
    """Crops at half size with JPEG. A dot the border cuts shows too little of its colour to stand alone
    (91: an r-eye's purple rim read as a lone l-ankle). A knee or elbow goes where its stick ends only
    when its other stick bends off the map there: not when it goes on straight (8: a thigh cut by a stick
    across it), turns back (287: another leg's stick), or when the end lies by the border (52)."""
    for seed, part in ((91, 13), (8, 9), (287, 9), (52, 6)):
        report = cropped_report(seed, 0.5, "area", 75, strict=False)
        assert [extra for extra in report["invented"] if extra[1] == part] == [], (seed, report)


def test_a_head_joins_no_neck_through_a_dot_read_twice_or_a_drawing_that_misfits():
    """Crops at half size with JPEG. A head whose nose is hidden and whose l-eye was read twice (also as
    another piece's r-ear): either reading taken as the nose makes up a head (257). A join whose drawing fits
    the unexplained colour poorly (fit 0.34) gives a head read whole elsewhere the wrong labels (298)."""
    report = cropped_report(257, 0.5, "area", 75, strict=False)
    assert [extra for extra in report["invented"] if extra[1] in (0, 14)] == [], report
    report = cropped_report(298, 0.5, "area", 75, strict=False)
    assert not {(2, 14), (2, 16)} & set(missed_parts(report)), report


@pytest.mark.parametrize("seed", [90, 167, 248, 481, 606])
def test_a_half_hidden_head_dot_never_read_is_added_where_drawing_it_fits(seed):
    """At half size with JPEG an l-eye half under its l-ear (or a nose under the eyes) keeps no colour of its
    own to read; drawing the dot and its sticks where the map shows their colour explains the head, and the
    scene comes back whole (481 and 606 held out)."""
    jpeg_report(seed, strict=True)


def test_a_hidden_head_dot_is_added_only_where_its_stick_reaches_the_body():
    """A cropped head read as a neck and an l-ear: an r-eye has no stick to either, so only its colour speaks
    for it, and the l-eye's blurred purple passes for it; no r-eye is made up there. At 0.75x (149) an l-eye
    with no stick to its head would go on the dot of a piece holding it, which then stood apart."""
    report = cropped_report(254, 0.5, "area", 75, strict=False)
    assert [extra for extra in report["invented"] if extra[1] == 14] == [], report
    run_case(149, 5, 0.75, "area", jpeg=75)


def test_hidden_head_dots_are_not_made_up_away_from_the_head_or_by_a_hand():
    """No hidden head dot is added beyond a head's span (a nose by a neck at the border, whose head is an ear
    far above) or within reach of a hand (its lines run through every hue): both scenes stay whole."""
    cropped_report(222, 0.5, "area", 75)
    frame = scene_with_hands(177)
    clean = render_pose(frame, face=False)
    image, fx, fy = degrade(clean, 0.5, "area", 75)
    compare(frame, clean, pose_from_skeleton_image(image, face=False), fx, fy)


# ---- body: JPEG ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("factor,interpolation", [(1.5, "cubic"), (2.0, "linear")])
def test_enlarged_jpeg_maps_come_back(factor, interpolation):
    for seed in SEEDS[:8]:
        run_case(seed, 1 + seed % 5, factor, interpolation, jpeg=75)


@pytest.mark.parametrize("factor,jpeg,webp", [(1.0, 90, None), (1.0, None, 80), (1.5, None, 80)])
def test_high_quality_jpeg_and_webp_maps_come_back(factor, jpeg, webp):
    """JPEG at quality 90, and lossy WebP (which halves chroma too) at 80, keep enough colour near the drawn
    size for every joint (measured: JPEG 90 at 1x, 300 of 300 scenes perfect; WebP 80 at 1x, 299)."""
    for seed in SEEDS:
        run_case(seed, 1 + seed % 5, factor, "linear", jpeg=jpeg, webp=webp)


def _totals(cases) -> Dict[str, float]:
    totals = {"joints": 0, "missed": 0, "invented": 0, "split": 0, "mixed": 0, "visible": 0}
    for report in cases:
        for key in ("missed", "invented", "split", "mixed"):
            totals[key] += len(report[key])
        totals["joints"] += len(report["errors"]) + len(report["invented"])
    return totals


@pytest.mark.parametrize("factor,interpolation,budget", [(1.0, "area", 0.003), (0.75, "linear", 0.015), (0.75, "area", 0.015)])
def test_jpeg_maps_mostly_come_back(factor, interpolation, budget):
    """JPEG at 75 shifts the hue of small dots toward what is under and beside them; heads (five dots in
    neighbouring purples and reds within a few pixels) suffer most. No person may be mixed up, and at
    most ``budget`` of the joints may be missed, misplaced or split off."""
    reports = [run_case(seed, 1 + seed % 5, factor, interpolation, jpeg=75, strict=False) for seed in range(16)]
    totals = _totals(reports)
    assert totals["mixed"] == 0
    assert totals["missed"] + totals["invented"] + totals["split"] <= budget * totals["joints"], totals
    tolerance = 2.0 * max(1.0, factor)
    assert max(error for report in reports for error in report["errors"]) <= 2 * tolerance


@pytest.mark.parametrize("seed,factor,interpolation", [
    (293, 1.0, "area"),      # a forearm covered by the neck-hip stick of the next hue: cover, not rival
    (279, 1.0, "area"),      # a forearm reaching past its wrist to the touching shoulder's weaker reading
    (204, 1.0, "area"),      # a pure blue neck-nose stick turned black where an elbow dot lies on it
    (174, 1.0, "area"),      # a neck-shoulder sliver beside a wrist dot, blended to the next limb's hue
    (38, 0.75, "linear"),    # an l-eye half under its l-ear: their blend reads as an r-ear
    (104, 0.75, "linear"),
    (189, 0.75, "linear"),   # a wrist's reading as an elbow, which its core colour rules out
    (488, 0.75, "area"),     # an ankle lying on another person's shin
    (129, 0.75, "area"),     # two people's lone left ankles side by side: neither is a hand's dot
    (6, 0.5, "area"),        # a left hip that took its sticks' chroma: faint, named by its core colour
    (8, 0.75, "area"),       # a nose touching its r-eye, the sliver of dark purple stick between rung black
    (148, 0.5, "area"),      # a stick's edge under a blue stick, black where their chroma cancels
    (7, 0.75, "linear"),     # a neck-shoulder stick half under its upper arm: their blend is the hue between
    (126, 0.75, "linear"),   # a lone left ankle whose dot shows too little of its colour, but only its colour
    (99, 0.75, "linear"),    # an upper arm mostly under the hip and leg sticks drawn after it
    (9, 0.75, "linear"),     # a lone ear dot on which another person's forearm ends
    (138, 0.75, "linear"),   # an elbow and wrist each found twice, 2 px apart: the echoes join each other
    # redrawing the parse (skeleton_image.redraw) settles these:
    (194, 0.75, "linear"),   # a joint that a blend of two dots made up
    (229, 0.75, "area"),     # a person in two pieces whose stick between them looks too patchy
    (74, 0.75, "area"),
    (16, 0.5, "area"),
    (21, 0.5, "area"),       # two pieces, and a made-up joint
    (36, 0.5, "area"),       # a nose read as the l-ear: its head joins the neck through the dot renamed nose
    (161, 0.5, "area"),
    (60, 0.5, "area"),       # an ankle dot that lost its colour, found where its shin ends
    (96, 0.5, "area"),
    (191, 0.5, "area"),      # an ear dot left loose: it joins the head beside it
    (92, 0.5, "area"),       # a wrist dot left loose (its forearm too patchy to link) joins its elbow's person
    (125, 0.5, "area"),
    (203, 0.75, "area"),
    (104, 1.0, "area"),      # an l-eye a quarter under its l-ear: JPEG smears their chroma, luma centres it
    (594, 1.0, "area"),
    (854, 1.0, "area"),      # an l-eye between its r-eye and l-ear, weaker than both: its luma says no blend
    (374, 1.0, "area"),
    (514, 1.0, "area"),      # ... and the r-ear hue between that eye and the l-ear is the blend
    (54, 1.0, "area"),       # an l-ear (its nose hidden) also read as a nose: its luma rules the nose out
    (74, 0.75, "linear"),    # a strong lone wrist on which a stick end put a hidden neck: the dot is the wrist
    (264, 0.75, "linear"),   # an elbow half under an ear: their blend, orange, would add a made-up neck
    (14, 0.75, "area"),
    (113, 0.75, "linear"),   # a faint nose on its sticks, 1.25 dot radii from an elbow dot
    (84, 0.75, "linear"),    # a wrist dot between two echoes of itself in the hues either side: far brighter
    (233, 0.5, "area"),      # than both, so no blend of them
    (1, 0.5, "area"),        # a shoulder found twice, 1.5 px apart, each find linked to other sticks: one
    (169, 0.5, "area"),      # person holds the neck and one the arm; the two finds are one dot, they join
    (22, 0.5, "area"),       # a knee found twice, the second find's piece also holding a wrong nose
    (241, 0.5, "area"),      # a wrist standing alone (no elbow), half under a neck: too faint to stand
    (245, 0.5, "area"),      # alone by colour, but drawn alone it explains the map (245: on a hip's stick)
    (68, 0.5, "area"),       # two pieces of one person both hold a part (68: the r-shoulder dot also read
    (188, 0.5, "area"),      # as the neck; 188: a knee found twice): joined, keeping the part that draws best
    (488, 1.0, "area"),      # an ankle on another person's shin, also read as that shin's knee
    (159, 0.5, "area"),      # two pieces of one person each holding a neck, one of them misplaced (159: a
    (347, 0.5, "area"),      # neck added where the hip sticks meet): they join once the joints are added
    (162, 0.5, "area"),      # a lone r-wrist dot read as the l-shoulder its body holds (162), two lone dots
    (122, 0.5, "area"),      # both read as the r-knee (122): renamed to the hue neighbour, they join
    (152, 0.5, "area"),      # an ankle dot that lost its colour, its shin cut in two by a stick drawn across
    (93, 0.5, "area"),       # an ankle dot that lost its colour 5 px from the map's edge: its shin ends there
    (7, 0.5, "area"),        # an l-elbow dot also read as a lone l-wrist (7, 223) or an r-eye as a lone l-ankle
    (223, 0.5, "area"),      # (81): a lone dot within two dot radii of a joint of the next hue is that joint
    (81, 0.5, "area"),
    (33, 0.6, "area"),
    (46, 0.5, "area"),       # an r-eye also read as a lone blue-violet l-ankle, which waits for the hands:
    (183, 0.5, "area"),      # it lies on a joint of the next hue, so it is that joint read twice
    (3, 0.5, "area"),        # an eye and its ear come back as a piece of their own (the nose-eye stick hides
    (199, 0.5, "area"),      # under the head's dots): they join the one head whose nose is next to the eye
    (172, 0.5, "area"),      # ... and where that head has the eye already (a second reading), the ear joins
    (43, 0.5, "area"),       # an ear left alone once the pieces are checked goes to the head beside it
    (429, 0.5, "area"),      # a shin leaving its knee under another knee's dot: the ankle goes where the
    # shin, found past that dot, ends
    (303, 0.5, "area"),      # an ankle dot read 3 px off towards its brighter shin: its luma centres it
    (189, 0.5, "area"),      # a head dot read twice (an l-eye also as the r-ear, 189; a nose also as the
    (67, 0.5, "area"),       # l-ear, 67): the lone dot of that part beside the head is the real one
    (13, 0.5, "area"),       # an r-ear read as the l-eye, the real l-eye and l-ear a piece beside the head
    (111, 0.5, "area"),      # an ankle that lost its colour, its shin cut near the knee: the short piece
    # there points only roughly along the shin, but the two pieces make one straight stick from the knee
    (45, 0.5, "area"),       # where cyan and blue sticks overlap, their blend reads as a lone blue or azure
    (93, 0.6, "area"),       # dot: on another person's stick of a colour like its own, it is no joint
    (281, 0.5, "area"),      # an arm with a neck of its own on another person's r-shoulder dot
    (272, 0.5, "area"),      # an l-ear read as a second nose, beyond its head's l-eye: it is the l-ear
    (33, 0.5, "area"),       # an l-elbow and l-wrist read the wrong way round (326: the same for a piece)
    (326, 0.5, "area"),
    (63, 0.5, "area"),       # a crumb of a stick read as a lone dot (an r-shoulder on a forearm, 63; a nose
    (249, 0.5, "area"),      # on an r-ear's stick, 249): drawn over everyone, its dot makes the drawing worse
    (121, 0.5, "area"),      # a head piece or lone head dot by a body's head (the body's r-ear read as the
    (140, 0.5, "area"),      # l-eye, or the dot read so) joins it under the labels that draw best
])
def test_jpeg_hard_scenes(seed, factor, interpolation):
    """JPEG scenes that each once failed on a different rule come back whole."""
    run_case(seed, 1 + seed % 5, factor, interpolation, jpeg=75)


def test_an_eye_and_ear_piece_joins_the_one_head_beside_it():
    """Half-size JPEG: a piece of an eye and its ear (or an eye alone) joins the only person lacking them
    whose nose is within 4 dot radii of the eye; beside two such heads, or far from any, it stays apart.
    Beside a head that has that eye but not the ear, the ear alone joins when it lies within 4 dot radii of
    that eye; beside a head whose eye lies beyond its other eye, on that side, that eye is the other ear."""
    from openpose_core.skeleton_image.people import join_eye_and_ear

    def body(points):
        array = np.full((NUM_BODY, 2), np.nan)
        for part, xy in points.items():
            array[part] = xy
        return array

    head = body({0: (50, 20), 1: (50, 40), 14: (46, 17), 16: (43, 19)})
    piece = body({15: (55, 17), 17: (58, 19)})
    joined = join_eye_and_ear([head, piece], radius=2.0)
    assert len(joined) == 1
    np.testing.assert_array_equal(joined[0][[0, 14, 15, 16, 17]], [(50, 20), (46, 17), (55, 17), (43, 19), (58, 19)])
    other_head = body({0: (57, 24), 1: (57, 44)})
    assert len(join_eye_and_ear([head, piece, other_head], radius=2.0)) == 3
    assert len(join_eye_and_ear([head, body({15: (70, 17), 17: (73, 19)})], radius=2.0)) == 2
    with_eye = head.copy()
    with_eye[15] = (53, 16)                  # the piece's eye was a second reading: only its ear joins
    taken = join_eye_and_ear([with_eye, piece], radius=2.0)
    assert len(taken) == 1
    np.testing.assert_array_equal(taken[0][[15, 17]], [(53, 16), (58, 19)])
    far_ear = body({15: (55, 17), 17: (66, 19)})
    assert len(join_eye_and_ear([with_eye, far_ear], radius=2.0)) == 2
    lone_eye = join_eye_and_ear([head, body({15: (55, 17)})], radius=2.0)      # an eye alone joins likewise
    assert len(lone_eye) == 1
    np.testing.assert_array_equal(lone_eye[0][15], (55, 17))
    assert np.isnan(lone_eye[0][17]).all()
    assert len(join_eye_and_ear([with_eye, body({15: (55, 17)})], radius=2.0)) == 2
    # an r-ear read as the l-eye: beyond the r-eye, on its side of the nose; the piece holds the real l-eye
    ear_as_eye = body({0: (50, 20), 1: (50, 40), 14: (46, 17), 15: (43, 18)})
    mirrored = join_eye_and_ear([ear_as_eye, piece], radius=2.0)
    assert len(mirrored) == 1
    np.testing.assert_array_equal(mirrored[0][[14, 15, 16, 17]], [(46, 17), (55, 17), (43, 18), (58, 19)])
    between = body({0: (50, 20), 1: (50, 40), 14: (44, 16), 15: (47, 18)})  # on that side, but nearer the nose
    assert len(join_eye_and_ear([between, far_ear], radius=2.0)) == 2


def test_a_head_dot_read_twice_gives_way_to_the_lone_dot_of_that_part():
    """Half-size JPEG: a person holding two head parts on one spot (an l-eye also read as the r-ear) while
    the real dot of one of them stands alone beside the head takes that lone dot's point; with two such
    lone dots, or one far from the nose, nothing changes."""
    from openpose_core.skeleton_image.people import take_head_echoes

    head = np.full((NUM_BODY, 2), np.nan)
    head[[0, 1, 14, 15, 16]] = [(50, 20), (50, 40), (46, 17), (54, 17), (54.5, 17.5)]

    def lone(xy):
        piece = np.full((NUM_BODY, 2), np.nan)
        piece[16] = xy
        return piece

    taken = take_head_echoes([head, lone((42, 19))], radius=2.0)
    assert len(taken) == 1
    np.testing.assert_array_equal(taken[0][[14, 15, 16]], [(46, 17), (54, 17), (42, 19)])
    assert len(take_head_echoes([head, lone((42, 19)), lone((43, 23))], radius=2.0)) == 3
    far = take_head_echoes([head, lone((30, 19))], radius=2.0)
    assert len(far) == 2
    np.testing.assert_array_equal(far[0][16], (54.5, 17.5))


def test_a_lone_azure_or_blue_dot_on_a_stick_like_it_is_no_joint():
    """Half-size JPEG: where cyan and blue sticks overlap, their blend reads as an azure or blue dot standing
    alone. A lone r-ankle (azure) on another person's neck-to-l-hip stick (cyan) goes; one beside that
    stick, or a lone dot of another colour on it, stays."""
    from openpose_core.skeleton_image.people import drop_stick_crumbs

    body = np.full((NUM_BODY, 2), np.nan)
    body[[1, 11]] = [(50, 40), (60, 80)]            # the neck-to-l-hip stick runs through (55, 60)

    def lone(part, xy):
        piece = np.full((NUM_BODY, 2), np.nan)
        piece[part] = xy
        return piece

    assert len(drop_stick_crumbs([body, lone(10, (55.3, 60))], half_width=2.0)) == 1
    assert len(drop_stick_crumbs([body, lone(10, (58, 60))], half_width=2.0)) == 2
    assert len(drop_stick_crumbs([body, lone(4, (55.3, 60))], half_width=2.0)) == 2


def test_a_neck_read_on_another_persons_shoulder_dot_goes():
    """Half-size JPEG: an arm whose neck lies on the r-shoulder dot of a larger person holding a neck and
    no part of the arm, or on that person's stick from its neck to the r-shoulder, joins that person without
    its neck; beside a person without a neck it only loses the neck; a piece sharing a limb part with the
    person, or far from its shoulder and that stick, stays as it is."""
    from openpose_core.skeleton_image.people import join_neck_echoes

    body = np.full((NUM_BODY, 2), np.nan)
    body[[1, 2, 3, 4, 8, 9]] = [(50, 40), (38, 41), (35, 60), (33, 78), (42, 90), (40, 120)]
    arm = np.full((NUM_BODY, 2), np.nan)
    arm[[1, 5, 6, 7]] = [(39, 41.5), (62, 40), (66, 60), (68, 78)]
    joined = join_neck_echoes([body, arm], radius=2.0)
    assert len(joined) == 1
    np.testing.assert_array_equal(joined[0][[1, 2, 5, 6, 7]], [(50, 40), (38, 41), (62, 40), (66, 60), (68, 78)])
    neckless = body.copy()
    neckless[1] = np.nan
    kept = join_neck_echoes([neckless, arm], radius=2.0)
    assert len(kept) == 2 and np.isnan(kept[1][1]).all()
    np.testing.assert_array_equal(kept[1][[5, 6, 7]], arm[[5, 6, 7]])
    sharing = arm.copy()
    sharing[4] = (70, 90)
    assert len(join_neck_echoes([body, sharing], radius=2.0)) == 2
    on_stick = arm.copy()
    on_stick[1] = (44, 41)
    joined = join_neck_echoes([body, on_stick], radius=2.0)
    assert len(joined) == 1
    np.testing.assert_array_equal(joined[0][[1, 5, 6, 7]], [(50, 40), (62, 40), (66, 60), (68, 78)])
    far = arm.copy()
    far[1] = (44, 46)
    np.testing.assert_array_equal(join_neck_echoes([body, far], radius=2.0)[1], far)


def test_pieces_holding_the_same_dots_found_twice_join():
    """JPEG may find a dot twice, a pixel or two apart, each find linked to other sticks: pieces that share
    at least as many joints within 1.5 dot radii as farther apart are one person (those dots midway, the
    larger piece's kept for the others); pieces sharing only far joints, or more far than near, stay apart."""
    from openpose_core.skeleton_image.people import join_twins

    def body(points):
        array = np.full((NUM_BODY, 2), np.nan)
        for part, xy in points.items():
            array[part] = xy
        return array

    legs = body({1: (50, 20), 8: (40, 60), 9: (40, 90), 11: (60, 60), 12: (60, 90)})
    twins = body({11: (61, 61), 12: (61.5, 90), 13: (60, 120)})        # a hip and a knee found twice
    joined = join_twins([twins, legs], radius=2.0)
    assert len(joined) == 1
    np.testing.assert_allclose(joined[0][[11, 12, 13]], [(60.5, 60.5), (60.75, 90), (60, 120)])
    apart = body({12: (65, 90), 13: (66, 125)})                          # 5 px: another person's knee
    crossing = body({1: (50.5, 20), 8: (30, 60), 9: (45, 95), 10: (40, 120)})  # a neck near, two far
    echo = body({11: (61, 61), 12: (70, 95), 13: (60, 120)})             # a hip found twice, a wrong knee
    kept = join_twins([legs.copy(), apart, crossing, echo], radius=2.0)
    assert len(kept) == 3
    np.testing.assert_allclose(kept[0][[11, 12, 13]], [(60.5, 60.5), (60, 90), (60, 120)])


def test_blend_explanations_compete():
    """An l-eye (300 degrees) half under its l-ear (340) blends into an r-ear's hue (320) that outshines
    the eye; the eye also lies between the r-eye (280) and that fake r-ear. The closest pair explains
    first: the fake r-ear goes, and the eye, whose explanation needed the fake, stays."""
    from openpose_core.skeleton_image.dots import _drop_blends
    radius = 3.0
    rows = [(197.0, 249.0, 14, 0, 0.58, True), (189.7, 250.3, 16, 1, 0.56, True),
            (188.2, 251.9, 17, 2, 0.54, True), (192.2, 249.4, 15, 3, 0.33, True)]
    assert sorted(row[2] for row in _drop_blends(rows, radius)) == [14, 15, 17]
    # dots that do not overlap: a blend must be weaker than both
    apart = [(0.0, 0.0, 15, 0, 0.5, True), (4.0, 0.0, 16, 1, 0.6, True), (8.0, 0.0, 17, 2, 0.5, True)]
    assert _drop_blends(apart, radius) == apart


def test_a_dot_showing_its_own_luma_is_no_blend():
    """JPEG blends chroma only: a weak l-eye (luma 105) between its r-eye (80) and l-ear (86) has the hue of
    their blend, but where its core shows the l-eye's luma it is a dot, and the fake r-ear beside it (whose
    core shows the eye's and the ear's lumas, not the r-ear's 96) is the blend."""
    from openpose_core.skeleton_image.colours import BODY_YCC
    from openpose_core.skeleton_image.dots import _drop_blends
    radius = 4.0
    #         l-ear 17          l-eye 15            fake r-ear 16        r-eye 14
    rows = [(103.0, 229.0, 17, 0, 0.78, True), (109.7, 228.0, 15, 1, 0.65, True),
            (107.2, 228.1, 16, 2, 0.49, True), (113.6, 229.4, 14, 3, 0.42, True)]
    luma = np.zeros((300, 200), np.float32)
    for x, y, part, *_ in rows[:2] + rows[3:]:
        cv2.circle(luma, (round(x), round(y)), 4, float(BODY_YCC[part, 0]), -1)
    assert sorted(row[2] for row in _drop_blends(rows, radius)) == [14, 16, 17]      # by hue alone
    assert sorted(row[2] for row in _drop_blends(rows, radius, luma)) == [14, 15, 17]


def test_half_size_jpeg_maps_are_read_as_far_as_they_can_be():
    """At half size a dot is 4-5 px wide and JPEG's 4:2:0 chroma gives it about one colour sample: blue
    dots on blue sticks and crowded heads lose their colour. Still, no person is mixed up, most visible
    joints come back, and few joints are read as a part that was not there."""
    reports = [jpeg_report(seed) for seed in range(16)]
    totals = _totals(reports)
    visible = sum(len(report["errors"]) for report in reports) + totals["missed"]
    assert totals["mixed"] == 0
    assert totals["missed"] <= 0.025 * visible, totals
    assert totals["invented"] <= 0.013 * totals["joints"], totals
    assert totals["split"] <= 0.008 * totals["joints"], totals


@pytest.mark.parametrize("seed", [118, 174, 257, 274])
def test_blue_knees_in_half_size_jpeg_maps_sit_on_their_dot(seed):
    """At half size a blue knee's colour blurs into its lighter thigh's, and its colour evidence slid 2-3 px
    along the leg; its luma, as dark as pure blue and kept at full resolution, puts it back."""
    report = jpeg_report(seed)
    assert [miss for miss in report["missed"] if miss[1] == 12] == [], report
    assert [extra for extra in report["invented"] if extra[1] == 12] == [], report


@pytest.mark.parametrize("seed,part", [(14, 11), (61, 11), (99, 11), (114, 11), (153, 12)])
def test_a_joint_lost_between_its_sticks_joins_its_person_again(seed, part):
    """At half size a left hip's dot takes the colour of its two sticks (the neck's cyan, the thigh's azure)
    and is not found, leaving the leg a piece of its own: where the two sticks meet, the hip comes back and
    the pieces join. The far piece may be a loose dot (153: a left knee between its hip and a lone ankle)."""
    report = jpeg_report(seed)
    assert [miss for miss in report["missed"] if miss[1] == part] == [] and report["mixed"] == [], report


@pytest.mark.parametrize("seed,owner,part", [(126, 0, 13), (243, 0, 10), (275, 0, 14), (294, 4, 13)])
def test_a_weak_lone_dot_in_half_size_jpeg_stands_when_its_core_colour_names_it(seed, owner, part):
    """At half size a dot whose neighbours are not drawn, lying on a stick of another colour or beside a head,
    keeps a third of a dot's colour evidence, below what a dot joined to no other needs (blends of two
    dots make weak fakes). With no other dot near, its core colour naming it is enough."""
    report = jpeg_report(seed)
    assert (owner, part) not in missed_parts(report), report


@pytest.mark.parametrize("seed,owner,part", [(65, 0, 7), (89, 1, 4), (263, 2, 4), (392, 0, 4), (447, 1, 4),
                                             (320, 0, 10), (344, 2, 13)])
def test_a_faint_wrist_or_ankle_in_half_size_jpeg_joins_its_person(seed, owner, part):
    """At half size a wrist on another person's stick of its own hue (or beside a stick that tints it) keeps
    a fifth to a third of a dot's colour evidence, too little to found a dot; its core colour names it, and
    redrawing its forearm (or shin) from the person's elbow (or knee) confirms it."""
    report = jpeg_report(seed)
    assert (owner, part) not in missed_parts(report), report


def test_two_faint_wrists_side_by_side_are_not_given_to_each_others_person():
    """Two people's r-wrists 3 px apart at half size, both faint: either forearm points at either dot, so
    neither is taken rather than both swapped (which mixes the two people up)."""
    report = jpeg_report(418)
    assert report["mixed"] == [] and report["invented"] == [], report


@pytest.mark.parametrize("seed,factor,owner,part", [(66, 0.5, 1, 9), (224, 0.5, 1, 11), (247, 0.5, 1, 12),
                                                    (296, 0.5, 1, 3), (118, 0.5, 0, 11), (184, 0.5, 1, 6),
                                                    (298, 0.5, 1, 13), (24, 0.5, 4, 6), (23, 0.6, 2, 1),
                                                    (274, 0.75, 1, 3)])
def test_a_limb_joint_read_off_its_dot_in_shrunk_jpeg_moves_onto_it(seed, factor, owner, part):
    """In a shrunk JPEG map a limb dot over or beside other drawing keeps its colour (and luma) centre 2-4 px
    off its disk; drawing the people again with the joint moved there fits the map far better."""
    report = jpeg_report(seed, factor)
    assert (owner, part) not in missed_parts(report), report
    assert [extra for extra in report["invented"] if extra[1] == part and extra[2] < 5] == [], report


@pytest.mark.parametrize("seed,owner,part", [(34, 4, 12), (218, 0, 3), (404, 2, 6)])
def test_a_limb_joint_by_the_border_stays_in_place(seed, owner, part):
    """A joint by the border, moved onto the stick to a joint past the border (drawn nowhere, so its colour is
    left unexplained), would fit the map better over all; but its own dot would go unexplained, so it stays.
    Nor does the map's blur, mirrored at its border, pull a joint outwards (404: an elbow 3 px from it)."""
    report = jpeg_report(seed)
    assert (owner, part) not in missed_parts(report), report


@pytest.mark.parametrize("seed", [119, 477])
def test_a_weak_lone_azure_blue_dot_in_half_size_jpeg_is_not_named_a_left_hip(seed):
    """At half size the blend of a blue dot or stick with a cyan one takes the l-hip's azure-blue, so its
    core colour does not name an l-hip (here a blurred l-ankle and l-knee would have been)."""
    report = jpeg_report(seed)
    assert [extra for extra in report["invented"] if extra[1] == 11] == [], report


def lone_dots_report(seed: int, factor: float, jpeg: Optional[int]) -> Tuple[int, int, int]:
    """Every body colour drawn as a dot on its own (a person with one joint): (named right, missed, named
    as another part)."""
    rng = np.random.default_rng(seed)
    people = []
    for part in range(NUM_BODY):
        body: List[Optional[Keypoint]] = [None] * NUM_BODY
        body[part] = Keypoint(float(40 + part % 6 * 80 + rng.integers(0, 20)),
                              float(40 + part // 6 * 80 + rng.integers(0, 20)))
        people.append(Person(body=body))
    image, fx, fy = degrade(render_pose(PoseFrame(people, 520, 280)), factor, "area", jpeg)
    parsed = pose_from_skeleton_image(image, hands=False, face=False)
    right = missed = wrong = 0
    for part, person in enumerate(people):
        where = drawn_position(person.body[part], fx, fy)
        hits = [index for other in parsed.people for index, point in enumerate(other.body)
                if point is not None and np.hypot(point.x - where[0], point.y - where[1]) <= 2.0]
        right += hits == [part]
        missed += not hits
        wrong += bool(hits) and hits != [part]
    return right, missed, wrong


@pytest.mark.parametrize("factor,jpeg", [(1.0, 75), (0.75, 75), (0.5, None), (0.5, 75)])
def test_lone_dots_of_every_colour_are_named(factor, jpeg):
    """A dot with no stick (its neighbours missing) is named by its colour alone. At half size with JPEG a
    dot keeps about one chroma sample and its luma rings, but on black its summed colour still names it
    (12 scenes of 18 lone dots: 189 named right, 15 missed, 12 misnamed before the sums were used)."""
    for seed in range(6):
        assert lone_dots_report(seed, factor, jpeg) == (NUM_BODY, 0, 0), seed


# ---- ears, hands, face ---------------------------------------------------------------------------------

def test_an_ear_without_its_eye_joins_its_person():
    """Ears are drawn with a stick to their eye only; with the eye missing the ear still belongs to the
    person whose head is next to it (the reference joins ears to shoulders)."""
    for seed in range(8):
        rng = np.random.default_rng(300 + seed)
        frame = random_scene(rng, 1 + seed % 3, CANVASES[seed % len(CANVASES)], missing=0.0)
        person = frame.people[0]
        eye = 14 + seed % 2
        person.body[eye] = None
        clean = render_pose(frame, hands=False, face=False)
        parsed = pose_from_skeleton_image(clean, hands=False, face=False)
        report = compare(frame, clean, parsed, 1.0, 1.0)
        ear = eye + 2
        if dot_visibility(frame, clean)[0][ear] < VISIBLE:
            continue
        holder = [p for p in parsed.people if p.body[ear] is not None
                  and np.hypot(p.body[ear].x - int(person.body[ear].x), p.body[ear].y - int(person.body[ear].y)) < 1]
        assert len(holder) == 1 and holder[0].present() > 1, (seed, report)


def scene_with_hands(seed: int) -> PoseFrame:
    """1-3 people whose hands (a sixth of the body long) lie over their own and others' bodies."""
    return random_scene(np.random.default_rng(800 + seed), 1 + seed % 3,
                        CANVASES[seed % len(CANVASES)] if seed % 2 else (768, 768), hands=True, hand_length=0.15)


@pytest.mark.parametrize("factor,jpeg,budget", [(1.0, None, 0.01), (1.0, 75, 0.03), (0.75, 75, 0.06)])
def test_bodies_under_hands(factor, jpeg, budget):
    """Hands drawn over bodies (their wrist dot covers the body's wrist; blue hand dots share the left
    knee's colour; bright hand lines run through every hue): no person mixed up, every visible body joint
    found, hand lines and dots not read as body joints. In a PNG map a joint's dot shows its exact colour
    (a hand line of 144 degrees never shows a left wrist's 140); 5 of 3801 joints were still invented over
    120 scenes: a red hand line passing for a lone nose, and body wrists under their hand's dot 4.1-4.2 px
    off along their forearm (nothing shows where along it) or on a finger's dot. In JPEG two hand dots joined by a blurred hand line
    can pass for a blue shin when the rest of their hand is not found: a small budget."""
    reports = []
    for seed in range(10):
        frame = scene_with_hands(seed)
        drawn = render_pose(frame, face=False)
        image, fx, fy = degrade(drawn, factor, "linear", jpeg)
        parsed = pose_from_skeleton_image(image, face=False)
        reports.append(compare(frame, drawn, parsed, fx, fy, strict=False))
    totals = _totals(reports)
    assert totals["mixed"] == 0 and totals["missed"] == 0 and totals["split"] == 0, totals
    assert totals["invented"] <= budget * totals["joints"], totals


def _read_hand_scenes(seeds, factor: float):
    """Per hand scene resized by ``factor`` and JPEG-compressed: the people read back, the drawn positions of
    the hands' dots, and of every person's joints by part (n x 2 each)."""
    for seed in seeds:
        frame = scene_with_hands(seed)
        image, fx, fy = degrade(render_pose(frame, face=False), factor, "linear", 75)
        hand_dots = np.array([drawn_position(point, fx, fy) for person in frame.people
                              for hand in (person.left_hand, person.right_hand) if hand for point in hand if point])
        truths = {part: np.array([drawn_position(person.body[part], fx, fy) for person in frame.people
                                  if person.body[part] is not None]).reshape(-1, 2) for part in range(NUM_BODY)}
        yield pose_from_skeleton_image(image, face=False).people, hand_dots, truths


def _nearest(points: np.ndarray, point) -> float:
    return float(np.hypot(*(points - (point.x, point.y)).T).min()) if len(points) else np.inf


def _blue_pieces_on_hand_dots(seeds, factor: float) -> int:
    """People read of blue-like parts only (left hip, knee, ankle) with a joint on a hand's dot."""
    on_hands = 0
    for people, hand_dots, _ in _read_hand_scenes(seeds, factor):
        for person in people:
            held = {part: point for part, point in enumerate(person.body) if point is not None}
            if held and set(held) <= {11, 12, 13}:
                on_hands += any(_nearest(hand_dots, point) < 2.0 for point in held.values())
    return on_hands


def test_half_size_hand_dots_are_not_blue_legs():
    """At half size with JPEG a hand's 21 dots blend into a blue tangle that the dot search cannot pick
    apart: a fingertip's dot found alone looked like a left knee with no hip or ankle, two hand dots and
    the line between them like a blue shin. Blue as bright as a dot all about each of its points (where a
    knee alone, or a shin, has black) says such a piece is a hand's; so does, about a lone knee, some such
    blue and none of the knee's sticks' colour; and a limb drawn thinner than half a stick is a hand line.
    Pieces of only blue-like parts lying on a hand's dots, in these 24 scenes: 21 before (14 lone dots), 6
    with the first test (2 lone dots), 4 with the second (none lone), none now."""
    assert _blue_pieces_on_hand_dots(range(24, 48), 0.5) == 0


@pytest.mark.parametrize("factor", [0.75, 1.0])
def test_blue_legs_of_hand_lines_go(factor):
    """Two of a hand's dots and the thin hand line between them (the ring finger's lines have the thigh's
    and shin's hues) are no blue thigh or shin: a stick's colour fills well over half its width, a hand
    line's under half. In these 24 scenes such pieces were 1 at 0.75x and 2 at 1x; none now."""
    assert _blue_pieces_on_hand_dots(range(24), factor) == 0


def test_half_size_wrists_stop_at_their_forearms_end():
    """At half size with JPEG the hand's wrist dot, over the body's wrist, blends with the hand's other dots;
    the forearm's stick, read on to a dot that was found, ended deep in the hand (15-25 px out). A wrist in
    a hand's tangle far past where its forearm's colour stops goes back to that end. In these 20 scenes, 5
    body wrists were read more than 8 px from every true wrist and 47 within 2 px; now none and 52."""
    near = far = 0
    for people, _, truths in _read_hand_scenes(range(20), 0.5):
        for person in people:
            for wrist in (4, 7):
                if person.body[wrist] is None or not len(truths[wrist]):
                    continue
                distance = _nearest(truths[wrist], person.body[wrist])
                near += distance <= 2.0
                far += distance > 8.0
    assert far == 0 and near >= 52, (far, near)


def _joints_on_hand_dots(seeds, factor: float) -> int:
    """Body joints other than wrists read on a hand's dot, more than 4 px from every true joint of their
    part."""
    wrong = 0
    for people, hand_dots, truths in _read_hand_scenes(seeds, factor):
        for person in people:
            wrong += sum(point is not None and part not in (4, 7) and _nearest(hand_dots, point) < 2.0
                         and _nearest(truths[part], point) > 4.0 for part, point in enumerate(person.body))
    return wrong


def test_half_size_joints_read_on_past_a_hand_go():
    """At half size with JPEG a stick that a hand lies over is read on to one of the hand's blended dots
    (a piece's neck-hip stick ending on a finger's dot, 10-20 px from the neck). A joint whose own colour
    does not show there, with a hand's blue about it, lying more than 6 dot radii past where its limb's
    colour stops, goes: in these 6 scenes, 19 joints on hand dots before, 13 now."""
    assert _joints_on_hand_dots((2, 23, 26, 34, 82, 209), 0.5) <= 13


def test_joints_on_hand_dots_go():
    """A joint read on a blue dot that no person took (a hand's dot) whose own colour does not show is the
    end of a stick that the hand lies over (an l-shoulder 23 px short of its own, hidden under the hand):
    in these 20 scenes at 0.75x, 4 such joints before, none now."""
    assert _joints_on_hand_dots(range(20), 0.75) == 0


@pytest.mark.parametrize("factor,jpeg,found", [(1.0, None, 0.9), (1.0, 75, 0.85)])
def test_wrists_under_their_hands_wrist_dot_come_back(factor, jpeg, found):
    """A hand's wrist dot covers its body's wrist; the forearm's stick still leads there. The body's wrist
    comes back, on the forearm's axis nearest the hand's dot, so that redrawn the forearms are not lost:
    29 of 30 within 4 px (27 within 2 px) in PNG, 28 in JPEG. It stood as a left knee, the hand dot's
    colour, and 3 and 1 came back."""
    wrists, near, close = 0, 0, 0
    for seed in range(12):
        frame = scene_with_hands(seed)
        image, fx, fy = degrade(render_pose(frame, face=False), factor, "linear", jpeg)
        parsed = pose_from_skeleton_image(image, face=False)
        for person in frame.people:
            for wrist, hand in ((4, person.right_hand), (7, person.left_hand)):
                if person.body[wrist] is None or not hand:
                    continue
                truth = np.array([person.body[wrist].x, person.body[wrist].y])
                read = [np.hypot(*(np.array([other.body[wrist].x, other.body[wrist].y]) - truth))
                        for other in parsed.people if other.body[wrist] is not None]
                wrists += 1
                near += min(read, default=np.inf) <= 4.0
                close += min(read, default=np.inf) <= 2.0
    assert wrists >= 30 and near >= found * wrists, (near, wrists)
    if jpeg is None:
        assert close >= 0.75 * wrists, (close, wrists)


@pytest.mark.parametrize("seed", [15, 26, 37, 42])
def test_blue_leg_pieces_spanning_two_hand_pieces_are_hand(seed):
    """JPEG may break a hand into several pieces, and two of its dots joined by a blurred hand line, read
    as a blue thigh or shin, may lie on two of them: such a body piece is still hand (0.75x, seeds 0-119:
    invented body joints 77 -> 69)."""
    report = hand_scene_report(seed, 0.75, "linear", strict=False)
    assert not [part for _, part, _ in report["invented"] if part in BLUE_LEG], report["invented"]


@pytest.mark.parametrize("seed,factor,interpolation,hands", [(177, 0.75, "linear", True), (216, 0.75, "linear", True),
                                                             (165, 0.5, "area", False)])
def test_scale_of_maps_with_few_dots_among_crumbs(seed, factor, interpolation, hands):
    """The map's scale comes from the size most dots share. In a shrunk JPEG with few body dots, crumbs of
    dots split between two hues and of blurred hand lines could outnumber them (the scale read as 0.3-0.4,
    and every joint lost): only components as bright as a dot's middle choose the size."""
    frame = scene_with_hands(seed) if hands else random_scene(np.random.default_rng(seed), 1 + seed % 5,
                                                              CANVASES[seed % len(CANVASES)])
    drawn = render_pose(frame, face=False)
    image, fx, fy = degrade(drawn, factor, interpolation, 75)
    classes = classify(image)
    assert dot_scale(classes, palette_share(image) >= EXACT_SHARE)[0] == pytest.approx(fx, rel=0.1)
    report = compare(frame, drawn, pose_from_skeleton_image(image, face=False), fx, fy, strict=False)
    assert report["missed"] == [] and report["mixed"] == [], report


@pytest.mark.parametrize("seed", [5, 99, 241, 244])
def test_shrunk_jpeg_dots_measured_a_little_large_are_read_as_small_dots(seed):
    """Measured dot sizes come in steps of a pixel of dot area, and a 0.6x JPEG map may measure 0.6227: read
    as large dots, its dim violet l-ankle gave no dot at the large dots' brighter threshold (99)."""
    jpeg_report(seed, 0.6, strict=True)


def hand_scene_report(seed: int, factor: float, interpolation: str, strict: bool = True) -> Dict[str, list]:
    """The measurements of the hand scene ``seed`` read back from its map resized by ``factor``, JPEG 75."""
    frame = scene_with_hands(seed)
    drawn = render_pose(frame, face=False)
    image, fx, fy = degrade(drawn, factor, interpolation, 75)
    return compare(frame, drawn, pose_from_skeleton_image(image, face=False), fx, fy, strict=strict)


def _hand_points(hand) -> np.ndarray:
    return np.array([(point.x, point.y) if point is not None else (np.nan, np.nan) for point in hand])


def hand_report(seed: int, factor: float = 1.0, interpolation: str = "area", jpeg: Optional[int] = None):
    """(hands drawn, hands read back on their own person and side, visible hand points, of them found
    within the tolerance, hand points placed off their dot)."""
    rng = np.random.default_rng(500 + seed)
    frame = random_scene(rng, 1 + seed % 2, (768, 768), hands=True, missing=0.05)
    clean = render_pose(frame, face=False)
    image, fx, fy = degrade(clean, factor, interpolation, jpeg)
    parsed = pose_from_skeleton_image(image, face=False)
    tolerance = 2.0 * max(1.0, fx, fy)
    blue = np.all(clean == (0, 0, 255), axis=2)
    bodies = [np.array([drawn_position(p, fx, fy) if p is not None else (np.nan, np.nan) for p in person.body])
              for person in frame.people]
    drawn = placed = visible = found = off = 0
    for owner, person in enumerate(frame.people):
        for side in ("left_hand", "right_hand"):
            hand = getattr(person, side)
            if hand is None:
                continue
            drawn += 1
            truth = np.array([drawn_position(point, fx, fy) for point in hand])
            shown = np.array([blue[int(p.y) - 1:int(p.y) + 2, int(p.x) - 1:int(p.x) + 2].all() for p in hand])
            visible += int(shown.sum())
            # the hand read back that covers most of this one, and who holds it
            options = [(np.sum(np.hypot(*(_hand_points(getattr(p, s)) - truth).T) <= tolerance), p, s)
                       for p in parsed.people for s in ("left_hand", "right_hand") if getattr(p, s) is not None]
            if not options:
                continue
            _, holder, held_as = max(options, key=lambda option: option[0])
            distance = np.hypot(*(_hand_points(getattr(holder, held_as)) - truth).T)
            found += int((shown & (distance <= tolerance)).sum())
            off += int((distance > tolerance).sum())
            # the holder's body joints must all be this person's own (a wrist under the hand's wrist dot
            # comes back on that dot: within twice the tolerance, as hidden joints elsewhere)
            joints = _hand_points(holder.body)
            mine = [np.hypot(*(joints - body).T) <= 2 * tolerance for body in bodies]
            present = ~np.isnan(joints[:, 0])
            if held_as == side and present.any() and mine[owner][present].all():
                placed += 1
    return drawn, placed, visible, found, off


@pytest.mark.parametrize("factor,interpolation,jpeg,recall", [(1.0, "area", None, 0.93), (1.5, "linear", None, 0.93),
                                                               (1.0, "area", 75, 0.75), (0.5, "area", None, 0.93)])
def test_hands_come_back_on_their_wrists(factor, interpolation, jpeg, recall):
    """Hands big enough for their dots to stand apart: each goes to its own person and side, most points of
    visible dots come back within the tolerance, and almost none is put on another dot."""
    totals = np.sum([hand_report(seed, factor, interpolation, jpeg) for seed in range(8)], axis=0)
    drawn, placed, visible, found, off = totals
    assert placed >= 0.8 * drawn, totals
    assert found >= recall * visible, totals
    assert off <= 0.02 * visible, totals


def test_hand_fragments_on_no_person_are_no_people():
    """Two hand dots joined by one line of a hand colour, on no person, are mostly a false link between two
    fingertips of a hand found already (37 of 44 such points came back with a wrong label over 120
    scenes): they are not returned as a person of their own, while a whole hand drawn alone is."""
    frame = random_scene(np.random.default_rng(501), 2, (768, 768), hands=True, missing=0.05, hand_length=0.15)
    parsed = pose_from_skeleton_image(render_pose(frame, face=False), face=False)
    bodiless = [person for person in parsed.people if person.present() == 0]
    assert all(sum(point is not None for point in person.left_hand or person.right_hand) >= 3 for person in bodiless)
    alone = PoseFrame([Person(body=[None] * NUM_BODY, right_hand=frame.people[1].right_hand)], 768, 768)
    parsed = pose_from_skeleton_image(render_pose(alone, face=False), face=False)
    assert len(parsed.people) == 1 and parsed.people[0].present() == 0
    hand = parsed.people[0].left_hand or parsed.people[0].right_hand
    assert sum(point is not None for point in hand) >= 18


@pytest.mark.parametrize("seed,factor,interpolation,jpeg", [(1, 1.0, "area", None), (11, 1.0, "area", None),
                                                         (18, 1.0, "area", None), (27, 1.0, "area", None),
                                                         (28, 0.75, "linear", 75)])
def test_big_hands_are_not_read_as_people(seed, factor, interpolation, jpeg):
    """Dots of a big hand lie further apart than a few dot sizes: none of them comes back as a lone left
    knee (the hand-dot colour), nor two of them joined by a hand line as a blue thigh; a hand whose wrist
    dot hides the body's wrist goes to the elbow whose forearm leads to it, on that side."""
    frame = random_scene(np.random.default_rng(500 + seed), 1 + seed % 2, (768, 768), hands=True, missing=0.05)
    image, fx, fy = degrade(render_pose(frame, face=False), factor, interpolation, jpeg)
    parsed = pose_from_skeleton_image(image, face=False)
    report = compare(frame, render_pose(frame, hands=False, face=False), parsed, fx, fy, strict=False)
    assert report["invented"] == [] and report["mixed"] == []
    drawn, placed, *_ = hand_report(seed, factor, interpolation, jpeg)
    assert placed == drawn


def _face_person(rng: np.random.Generator, size: Tuple[int, int], eyes: Tuple[float, float] = (70, 90),
                 off: float = 0.0) -> Person:
    """A person with a face (by default large: eyes 70-90 px apart) whose head joints sit on its landmarks,
    or ``off`` px (standard deviation) from them, as the body and face networks disagree."""
    from openpose_core.skeleton_image.face import _MEAN_FACE

    width, height = size
    eyes = rng.uniform(*eyes)
    tilt = rng.normal(0, 8)
    centre = np.array([width / 2 + rng.uniform(-30, 30), height * 0.3])
    face = np.array([_rotate(point, tilt) for point in _MEAN_FACE * eyes / 0.4]) + centre
    face += rng.normal(0, 1.0, face.shape)
    body = random_body(rng, 0.9 * height) * 0.6 + centre + (0, 0.35 * height)
    body[1] = centre + _rotate(np.array([0.0, 2.2 * eyes]), tilt)       # below the chin
    body[0], body[14], body[15], body[16], body[17] = face[30], face[68], face[69], face[1], face[15]
    if off:
        body[[0, 14, 15, 16, 17]] += rng.normal(0, off, (5, 2))
    return Person(body=[Keypoint(float(x), float(y)) for x, y in body],
                  face=[Keypoint(float(x), float(y)) for x, y in face])


def test_face_dots_come_back_in_landmark_order():
    """White face dots go to their person, and (for a face close to the mean shape) in landmark order."""
    dots = in_order = 0
    for seed in range(4):
        rng = np.random.default_rng(700 + seed)
        frame = PoseFrame([_face_person(rng, (768, 768))], 768, 768)
        clean = render_pose(frame)
        parsed = pose_from_skeleton_image(clean, hands=False)
        holder = [p for p in parsed.people if p.face is not None]
        assert len(holder) == 1 and holder[0].present() >= 2      # face dots cover the head's own dots
        truth = np.array([drawn_position(point, 1, 1) for point in frame.people[0].face])
        got = _hand_points(holder[0].face)
        nearest = np.nanmin(np.hypot(*(got[:, None, :] - truth[None, :, :]).transpose(2, 0, 1)), axis=0)
        dots += int((nearest <= 1.0).sum())
        in_order += int((np.hypot(*(got - truth).T) <= 1.0).sum())
    assert dots >= 0.95 * 4 * NUM_FACE_POINTS
    assert in_order >= 0.9 * dots


@pytest.mark.parametrize("eyes,off,found", [((70, 90), 0.0, 1.0), ((36, 44), 2.0, 0.9), ((18, 22), 2.0, 0.5)])
def test_head_dots_under_face_dots_come_back(eyes, off, found):
    """In a full map the face's white dots, drawn last, cover the head's own dots but for a ring or crescent
    of their colour, too little for the colour filters: at the drawn size the ring's exact colour pins the
    dot (a drawn disk holds it all and no black), and head pieces whose sticks hide under the face join the
    person whose neck is by it. Head joints within 2 px (of 30): 0 -> 30 with faces 80 px between the eyes
    and the head joints on their landmarks, 15 -> 28 at 40 px and 2 px off (and 8 people -> 6), 4 -> 16
    at 20 px."""
    head = [0, 14, 15, 16, 17]
    joints = near = 0
    for seed in range(6):
        frame = PoseFrame([_face_person(np.random.default_rng(700 + seed), (768, 768), eyes, off)], 768, 768)
        parsed = pose_from_skeleton_image(render_pose(frame))
        assert len(parsed.people) == 1
        for part in head:
            truth, read = frame.people[0].body[part], parsed.people[0].body[part]
            joints += 1
            near += read is not None and math.hypot(read.x - truth.x, read.y - truth.y) <= 2.0
        for part, read in enumerate(parsed.people[0].body):
            truth = frame.people[0].body[part]
            assert read is None or math.hypot(read.x - truth.x, read.y - truth.y) <= 4.0, (seed, part)
    assert near >= found * joints, (near, joints)


def test_faces_side_by_side_and_face_alone():
    """Each of two faces side by side goes whole to its own person, and a face drawn without a body comes
    back on a person without body (dots far from every head once all went to one person, and were lost)."""
    rng = np.random.default_rng(900)
    a, b = _face_person(rng, (512, 768)), _face_person(rng, (512, 768))
    b = Person(body=[Keypoint(k.x + 512, k.y) for k in b.body], face=[Keypoint(k.x + 512, k.y) for k in b.face])
    parsed = pose_from_skeleton_image(render_pose(PoseFrame([a, b], 1024, 768)), hands=False)
    assert len(parsed.people) == 2
    for person in (a, b):
        nose = np.array([person.body[0].x, person.body[0].y])
        got = min(parsed.people, key=lambda p: np.nanmin(np.hypot(*(_hand_points(p.body) - nose).T)))
        truth = np.array([drawn_position(point, 1, 1) for point in person.face])
        face = _hand_points(got.face)
        assert np.count_nonzero(~np.isnan(face[:, 0])) == NUM_FACE_POINTS
        assert np.nanmin(np.hypot(*(face[:, None, :] - truth[None, :, :]).transpose(2, 0, 1)), axis=1).max() <= 2
    alone = pose_from_skeleton_image(render_pose(PoseFrame([Person(face=a.face)], 1024, 768)))
    assert len(alone.people) == 1 and alone.people[0].present() == 0
    assert sum(point is not None for point in alone.people[0].face) == NUM_FACE_POINTS


NUM_FACE_POINTS = 70


# ---- input handling ------------------------------------------------------------------------------------

def test_empty_and_odd_inputs():
    black = np.zeros((64, 96, 3), np.uint8)
    frame = pose_from_skeleton_image(black)
    assert frame.people == [] and (frame.width, frame.height) == (96, 64)
    # RGBA: transparent is background; float images in 0..1 are accepted
    rng = np.random.default_rng(9)
    pose = random_scene(rng, 2, (512, 512), missing=0.0)
    clean = render_pose(pose, hands=False, face=False)
    rgba = np.dstack([clean, np.where(clean.any(axis=2), 255, 0).astype(np.uint8)])
    expected = pose_from_skeleton_image(clean)
    # (a float RGBA map that resampling pushed a little over 1 is still 0..1, as the library reads floats)
    overshot = np.dstack([clean / 255.0, rgba[..., 3:] / 255.0 * 1.02]).astype(np.float32)
    for variant in (rgba, clean.astype(np.float32) / 255.0, overshot):
        again = pose_from_skeleton_image(variant)
        assert [p.body for p in again.people] == [p.body for p in expected.people]
    with pytest.raises(ValueError):
        pose_from_skeleton_image(np.zeros((4, 4, 5), np.uint8))


def test_a_photo_is_refused_quickly():
    """A photo (here smooth colour noise) is no map: its colour blobs would be read as thousands of dots,
    which took minutes; it is refused with a message saying why."""
    rng = np.random.default_rng(0)
    photo = cv2.resize(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8), (640, 480), interpolation=cv2.INTER_CUBIC)
    with pytest.raises(ImageError, match="not an OpenPose skeleton map: 1% of it is black background"):
        pose_from_skeleton_image(photo)


def test_a_letterboxed_photo_is_refused():
    """A photo between black bars passes the black-background check, but its colour blobs make hundreds of
    dots, far more than a map this size holds; linking and redrawing them took minutes."""
    rng = np.random.default_rng(0)
    image = np.zeros((256, 256, 3), np.uint8)
    image[64:192] = cv2.resize(rng.integers(0, 255, (16, 32, 3), dtype=np.uint8), (256, 128),
                               interpolation=cv2.INTER_CUBIC)
    with pytest.raises(ImageError, match="not an OpenPose skeleton map: [0-9]+ colour dots, where a map"):
        pose_from_skeleton_image(image)


def test_fine_colour_noise_is_refused():
    """Fine colour noise between black bars makes ten thousand dots; grouping them compared every dot with
    every other (minutes). It is refused for its dot count like coarser noise."""
    rng = np.random.default_rng(0)
    image = cv2.resize(rng.integers(0, 256, (192, 192, 3), dtype=np.uint8), (768, 768), interpolation=cv2.INTER_CUBIC)
    image[:153], image[-153:] = 0, 0
    with pytest.raises(ImageError, match="not an OpenPose skeleton map: 1[0-9]{4} colour dots, where a map"):
        pose_from_skeleton_image(image)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), max_size=60), st.floats(0.5, 20))
def test_grid_lookups_match_comparing_every_pair(points, reach):
    """The grid and k-d tree lookups that group dots give what comparing every pair gives."""
    index = NearPoints(reach)
    for x, y in points:
        within = [i for i, (px, py) in enumerate(index.xy) if (x - px) ** 2 + (y - py) ** 2 < reach ** 2]
        assert index.first_within(x, y) == min(within, default=None)
        index.add(x, y)
    xy = np.array(points, np.float64).reshape(-1, 2)
    distance = pairwise(xy, xy)
    expected = [[j for j in range(len(xy)) if j != i and distance[i, j] <= reach] for i in range(len(xy))]
    assert neighbours(xy, reach) == expected
