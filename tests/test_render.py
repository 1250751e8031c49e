"""Rendering: pixel parity with controlnet-aux 0.0.10's drawing, stick scaling, fit modes."""
import copy
import importlib.util
import sys
import types
from itertools import product

import cv2
import numpy as np
import pytest

import reference_impl
from openpose_core.pose import NUM_BODY, NUM_FACE, NUM_HAND, Keypoint, Person, PoseFrame
from openpose_core.render import (
    FIT_MODES, HAND_EDGE_COLORS, LIMB_COLORS, fit_box, render_pose, stick_scale,
)

SIZES = [(512, 512), (640, 384), (333, 517), (97, 64), (1280, 720), (517, 1500)]
PARTS = [dict(body=b, hands=h, face=f) for b, h, f in product((True, False), repeat=3) if b or h or f]
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def _matplotlib_stand_in():
    """The reference's hand drawing imports matplotlib for one ``hsv_to_rgb`` call. When matplotlib is
    not installed, answer that call from our own colour table, so hand geometry is still compared
    (the colours themselves are then checked only against the documented table)."""
    colors = types.ModuleType("matplotlib.colors")
    colors.hsv_to_rgb = lambda hsv: np.array(HAND_EDGE_COLORS[round(hsv[0] * len(HAND_EDGE_COLORS))]) / 255
    matplotlib = types.ModuleType("matplotlib")
    matplotlib.colors = colors
    return {"matplotlib": matplotlib, "matplotlib.colors": colors}


@pytest.fixture(scope="module")
def ref():
    reference = reference_impl.load()
    if reference is None:
        pytest.skip("controlnet-aux 0.0.10 is not installed")
    with pytest.MonkeyPatch.context() as patch:
        if not HAVE_MATPLOTLIB:
            for name, module in _matplotlib_stand_in().items():
                patch.setitem(sys.modules, name, module)
        yield reference


# ---- random people in integer pixels, as the detector produces them ----

def _pixels(rng, count, width, height, spread):
    """``count`` integer points around a random centre, some pushed onto the edges, 0 or just outside."""
    centre = rng.uniform((0, 0), (width, height))
    xy = np.rint(centre + rng.normal(0, spread, (count, 2)) * (width, height)).astype(int)
    xy = np.clip(xy, -2, (width + 1, height + 1))
    for axis, size in ((0, width), (1, height)):
        edge = rng.random(count) < 0.1
        xy[edge, axis] = rng.choice([0, 1, size - 1, size], edge.sum())
    return xy


def _points(rng, count, width, height, spread, missing):
    xy = _pixels(rng, count, width, height, spread)
    return [None if rng.random() < missing else Keypoint(float(x), float(y), float(rng.random())) for x, y in xy]


def _person(rng, width, height):
    def maybe(count, spread):
        return _points(rng, count, width, height, spread, 0.15) if rng.random() < 0.8 else None

    return Person(body=_points(rng, NUM_BODY, width, height, 0.2, 0.2), left_hand=maybe(NUM_HAND, 0.05),
                  right_hand=maybe(NUM_HAND, 0.05), face=maybe(NUM_FACE, 0.04))


def _frame(seed, width, height):
    rng = np.random.default_rng(seed)
    return PoseFrame([_person(rng, width, height) for _ in range(rng.integers(1, 5))], width, height)


# ---- the same people as the reference holds them ----

def _reference_body(ref, points, width, height):
    """Body: float64 candidate pixels divided by float(W), float(H) (detect_poses)."""
    keypoints = [None if p is None else ref.body.Keypoint(np.float64(p.x) / float(width),
                                                          np.float64(p.y) / float(height)) for p in points]
    return ref.body.BodyResult(keypoints, total_score=1.0, total_parts=len(points))


def _reference_part(ref, points, width, height):
    """Hand/face: the float32 peak array path of detect_hands/detect_face, missing -> -1 before dividing;
    the values stay np.float32 scalars, so drawing multiplies in float32 too. No face background point."""
    if points is None:
        return None
    missing = np.array([p is None for p in points])
    peaks = np.array([(0, 0) if p is None else p[:2] for p in points], np.float32)
    peaks[:, 0] = np.where(missing, -1, peaks[:, 0]) / float(width)
    peaks[:, 1] = np.where(missing, -1, peaks[:, 1]) / float(height)
    assert peaks.dtype == np.float32
    return [ref.body.Keypoint(x=peak[0], y=peak[1]) for peak in peaks]


def _reference_draw(ref, frame, body=True, hands=True, face=True):
    w, h = frame.width, frame.height
    poses = [ref.PoseResult(_reference_body(ref, p.body, w, h), _reference_part(ref, p.left_hand, w, h),
                            _reference_part(ref, p.right_hand, w, h), _reference_part(ref, p.face, w, h))
             for p in frame.people]
    return ref.draw_poses(poses, h, w, draw_body=body, draw_hand=hands, draw_face=face)


def _assert_same(ours, theirs):
    assert ours.shape == theirs.shape and ours.dtype == np.uint8
    if not np.array_equal(ours, theirs):
        differing = np.argwhere((ours != theirs).any(axis=2))
        pytest.fail(f"{len(differing)} pixels differ, first at (row, col) {differing[0].tolist()}")


# ---- parity ----

@pytest.mark.parametrize("width,height", SIZES)
def test_random_people_match_reference(ref, width, height):
    for seed in range(12):
        frame = _frame(seed * 1000 + width, width, height)
        for parts in PARTS:
            _assert_same(render_pose(frame, **parts), _reference_draw(ref, frame, **parts))


@pytest.mark.parametrize("person,color,top_left", [
    (Person(body=[Keypoint(16, 27)] + [None] * (NUM_BODY - 1)), (255, 0, 0), [15 - 4, 26 - 4]),
    (Person(right_hand=[Keypoint(27, 27)] + [None] * (NUM_HAND - 1)), (0, 0, 255), [26 - 4, 26 - 4]),
])
def test_pixel_roundtrip_quirk_is_reproduced(ref, person, color, top_left):
    """(px / 49) * 49 is just below px for px = 16, 27 in float64 and px = 27 in float32: the reference
    draws those points one pixel left/up, and so must we (a naive int(px) drawing fails here)."""
    frame = PoseFrame([person], 49, 49)
    ours = render_pose(frame)
    _assert_same(ours, _reference_draw(ref, frame))
    assert np.argwhere((ours == color).all(axis=2)).min(axis=0)[::-1].tolist() == top_left


def test_face_and_hand_pixels_follow_the_installed_numpy_promotion():
    """The reference stores 11 / 100 as a float32 and draws at int(x * 100): NumPy 1 multiplies that in
    float64 (10.99999994 -> 10), NumPy 2 in float32 (-> 11.0 -> 11). We must land where it does on both."""
    expected = 11 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 10
    assert int(np.float32(11) / np.float32(100) * 100) == expected    # the reference's arithmetic
    face, hand = [Keypoint(11, 11)] + [None] * (NUM_FACE - 1), [Keypoint(11, 11)] + [None] * (NUM_HAND - 1)
    for person, color in ((Person(face=face), (255, 255, 255)), (Person(left_hand=hand), (0, 0, 255))):
        canvas = render_pose(PoseFrame([person], 100, 100))
        assert np.argwhere((canvas == color).all(axis=2)).mean(axis=0).tolist() == [expected, expected]


def test_render_does_not_mutate_frame():
    frame = _frame(7, 300, 200)
    before = copy.deepcopy(frame)
    render_pose(frame)
    render_pose(frame, 600, 300, fit="contain", stick_scaling=True)
    assert frame == before


# ---- colours ----

def test_hand_edge_colours_match_documented_table():
    assert HAND_EDGE_COLORS == (
        (255, 0, 0), (255, 77, 0), (255, 153, 0), (255, 229, 0), (204, 255, 0), (128, 255, 0), (51, 255, 0),
        (0, 255, 25), (0, 255, 102), (0, 255, 179), (0, 255, 255), (0, 178, 255), (0, 102, 255), (0, 25, 255),
        (51, 0, 255), (128, 0, 255), (204, 0, 255), (255, 0, 230), (255, 0, 153), (255, 0, 77))
    assert LIMB_COLORS[:3] == ((153, 0, 0), (153, 51, 0), (153, 102, 0))


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib (the reference's colour source) is not installed")
def test_hand_edge_colours_are_what_cv2_makes_of_the_reference_floats():
    from matplotlib import colors

    for index, expected in enumerate(HAND_EDGE_COLORS):
        canvas = np.zeros((3, 3, 3), np.uint8)
        cv2.line(canvas, (1, 1), (1, 1), colors.hsv_to_rgb([index / len(HAND_EDGE_COLORS), 1.0, 1.0]) * 255)
        assert tuple(canvas[1, 1].tolist()) == expected, index


# ---- stick scaling ----

@pytest.mark.parametrize("long_side,scale", [(64, 1), (499, 1), (500, 2), (999, 2), (1000, 3), (1999, 3),
                                             (2000, 4), (5000, 7), (6000, 7), (20000, 7)])
def test_stick_scale_rule(long_side, scale):
    assert stick_scale(long_side, 100) == stick_scale(100, long_side) == scale


def _stick_thickness(canvas, column):
    """Rows of the neck-to-right-shoulder stick (limb 0) crossing ``column``."""
    return int((canvas[:, column] == LIMB_COLORS[0]).all(axis=1).sum())


@pytest.mark.parametrize("width,height,scaled", [(1200, 800, 25), (400, 300, 9), (700, 2400, 33)])
def test_stick_scaling_thickens_only_the_sticks(width, height, scaled):
    body = [None] * NUM_BODY
    body[1], body[2] = Keypoint(width * 0.25, height / 2), Keypoint(width * 0.75, height / 2)
    person = Person(body=body, right_hand=_points(np.random.default_rng(0), NUM_HAND, width, height, 0.05, 0),
                    face=_points(np.random.default_rng(1), NUM_FACE, width, height, 0.05, 0))
    frame = PoseFrame([person], width, height)
    body_only = dict(body=True, hands=False, face=False)
    assert _stick_thickness(render_pose(frame, **body_only), width // 2) == 2 * 4 + 1
    assert _stick_thickness(render_pose(frame, stick_scaling=True, **body_only), width // 2) == scaled
    no_body = dict(body=False, hands=True, face=True)
    assert np.array_equal(render_pose(frame, stick_scaling=True, **no_body), render_pose(frame, **no_body))


def _stick_frame(width=200, height=100):
    """Neck to right shoulder: one horizontal stick across the middle of the canvas."""
    body = [None] * NUM_BODY
    body[1], body[2] = Keypoint(width * 0.25, height / 2), Keypoint(width * 0.75, height / 2)
    return PoseFrame([Person(body=body)], width, height)


def test_stick_width_sets_the_half_thickness_and_stick_scaling_multiplies_it():
    frame, body_only = _stick_frame(), dict(body=True, hands=False, face=False)
    thickness = {width: _stick_thickness(render_pose(frame, stick_width=width, **body_only), 100)
                 for width in (1, 4, 8)}
    assert thickness == {1: 3, 4: 9, 8: 17}     # 2 * stick_width + 1: the centre row plus stick_width each side
    assert thickness[8] - 1 == 2 * (thickness[4] - 1)
    assert np.array_equal(render_pose(frame, stick_width=4), render_pose(frame))
    assert np.array_equal(render_pose(frame, stick_width=8.0), render_pose(frame, stick_width=8))
    large = _stick_frame(1200, 800)     # stick_scale 3
    scaled = render_pose(large, stick_width=8, stick_scaling=True, **body_only)
    assert _stick_thickness(scaled, 600) == 2 * 8 * 3 + 1


@pytest.mark.parametrize("stick_width", [0, -4, 2.5, "8", True, None, float("nan"), 1025])
def test_bad_stick_width_is_a_clear_error(stick_width):
    with pytest.raises(ValueError, match=r"stick_width must be a whole number from 1 to 1024, got"):
        render_pose(_stick_frame(), stick_width=stick_width)


# ---- output size and fit modes ----

def _nose_frame(x, y, width, height):
    return PoseFrame([Person(body=[Keypoint(x, y)] + [None] * (NUM_BODY - 1))], width, height)


def _nose_centre(canvas):
    return np.argwhere((canvas == (255, 0, 0)).all(axis=2)).mean(axis=0)[::-1]  # (x, y)


@pytest.mark.parametrize("fit", FIT_MODES)
@pytest.mark.parametrize("target", [(800, 400), (300, 600), (400, 300), (1001, 333)])
def test_frame_centre_stays_at_canvas_centre(fit, target):
    canvas = render_pose(_nose_frame(200, 150, 400, 300), *target, fit=fit)
    assert canvas.shape == (target[1], target[0], 3)
    assert np.abs(_nose_centre(canvas) - np.array(target) / 2).max() <= 1


def test_stretch_scales_axes_independently():
    canvas = render_pose(_nose_frame(100, 75, 400, 300), 800, 900, fit="stretch")
    assert _nose_centre(canvas).tolist() == [200, 225]


def _map_points(frame, change, width=None, height=None):
    """A copy of ``frame`` (on a ``width x height`` frame, default its own size) whose present points ``p``
    of each part are replaced by ``change(part, p)``; None drops them."""
    changed = frame.copy()
    for person in changed.people:
        for part in ("body", "left_hand", "right_hand", "face"):
            points = getattr(person, part)
            if points:
                points[:] = [p if p is None else change(part, p) for p in points]
    return PoseFrame(changed.people, width or frame.width, height or frame.height)


def test_contain_is_the_aspect_kept_drawing_between_black_borders():
    """A pose clear of the frame's edges draws exactly as on a canvas of the box's size, borders black."""
    frame = _map_points(_frame(3, 400, 300), lambda part, p: p if 10 <= p.x <= 390 and 10 <= p.y <= 290 else None)
    assert fit_box((400, 300), (800, 400), "contain") == (533, 400, 133, 0)
    padded = np.zeros((400, 800, 3), np.uint8)
    padded[:, 133:666] = render_pose(frame, 533, 400)
    assert padded.any() and np.array_equal(render_pose(frame, 800, 400, fit="contain"), padded)


def test_contain_draws_over_the_frame_edge_into_the_border():
    """A dot on the frame's left edge is a whole dot reaching 4 px into the border, not a half dot cut at it."""
    canvas = render_pose(_nose_frame(0, 150, 400, 300), 800, 400, fit="contain")    # box starts at x = 133
    red = np.argwhere((canvas == (255, 0, 0)).all(axis=2))
    assert sorted(set(red[:, 1].tolist())) == list(range(133 - 4, 133 + 5))
    assert sorted(set(red[:, 0].tolist())) == list(range(200 - 4, 200 + 5))


@pytest.mark.parametrize("target,shift", [((512, 256), (128, 0)), ((256, 512), (0, 128))])
@pytest.mark.parametrize("seed", range(6))
def test_contain_at_scale_one_is_the_pose_moved_onto_the_whole_canvas(seed, target, shift):
    """Scale 1, powers of two (exact arithmetic): contain must equal the reference drawing of the same pose
    moved by the border, on the whole canvas: sticks, lines and dots past the frame's edge included. Hand
    and face points left of / above the frame's first pixel are dropped by the eps rule inside the frame's
    box, so they are left out of this comparison."""
    frame = _map_points(_frame(seed, 256, 256), lambda part, p: None if part != "body" and min(p.x, p.y) < 1 else p)
    (dx, dy), moved = shift, lambda part, p: Keypoint(p.x + dx, p.y + dy, p.confidence)
    expected = render_pose(_map_points(frame, moved, *target))
    assert np.array_equal(render_pose(frame, *target, fit="contain"), expected)
    assert expected.any(axis=2).sum() > render_pose(frame, 256, 256).any(axis=2).sum()   # it does overflow


def test_cover_is_the_aspect_kept_drawing_cropped():
    frame = _frame(4, 400, 300)
    assert fit_box((400, 300), (800, 400), "cover") == (800, 600, 0, -100)
    assert np.array_equal(render_pose(frame, 800, 400, fit="cover"), render_pose(frame, 800, 600)[100:500])


@pytest.mark.parametrize("fit", FIT_MODES)
def test_own_size_is_the_same_in_every_fit_mode(fit):
    frame = _frame(5, 320, 240)
    assert np.array_equal(render_pose(frame, 320, 240, fit=fit), render_pose(frame))


def test_bad_arguments_are_rejected():
    frame = _frame(6, 64, 64)
    with pytest.raises(ValueError):
        render_pose(frame, 128)
    with pytest.raises(ValueError):
        render_pose(frame, 128, 128, fit="zoom")
    with pytest.raises(ValueError):
        render_pose(frame, 0, 128)
    # a canvas that would not fit in memory is refused before it is allocated, also one "cover" draws larger
    with pytest.raises(ValueError, match=r"100000 x 100000 canvas is over the limit .*MAX_CANVAS_PIXELS"):
        render_pose(frame, 100_000, 100_000)
    with pytest.raises(ValueError, match=r"20000 x 1 canvas \(drawn 20000 x 20000 before cropping\)"):
        render_pose(frame, 20_000, 1, fit="cover")
    assert render_pose(frame, 16384, 1).shape == (1, 16384, 3)


@pytest.mark.parametrize("width,height,bad", [
    (100.7, 50, "width"), (100, 50.2, "height"), ("100", 50, "width"), (True, 50, "width"), (100, np.nan, "height"),
    (np.inf, 50, "width"), (-5, 10, "width"), (0, 10, "width"), (np.float64(99.5), 50, "width"),
])
def test_bad_sizes_are_clear_errors(width, height, bad):
    with pytest.raises(ValueError, match=rf"{bad} must be a whole number >= 1, got"):
        render_pose(_frame(8, 64, 64), width, height)


def test_whole_float_and_numpy_sizes_are_taken():
    frame = _frame(9, 64, 48)
    expected = render_pose(frame, 100, 50)
    assert np.array_equal(render_pose(frame, 100.0, 50.0), expected)
    assert np.array_equal(render_pose(frame, np.int64(100), np.float32(50)), expected)
    own = PoseFrame(frame.people, 64.0, 48.0)
    assert np.array_equal(render_pose(own), render_pose(frame))
    assert np.array_equal(render_pose(own, 100, 50), expected)


@pytest.mark.parametrize("canvas,bad", [((0, 64), "frame.width"), ((64, -10), "frame.height"),
                                        ((64.5, 64), "frame.width")])
@pytest.mark.parametrize("size", [(), (128, 128)])
def test_a_bad_frame_canvas_is_a_clear_error(canvas, bad, size):
    with pytest.raises(ValueError, match=rf"{bad} must be a whole number >= 1, got"):
        render_pose(PoseFrame(_frame(10, 64, 64).people, *canvas), *size)


@pytest.mark.parametrize("person", [
    Person(body=[Keypoint(1e7, 32), Keypoint(32, 32)] + [None] * (NUM_BODY - 2)),
    Person(right_hand=[Keypoint(-1e12, 32)] + [None] * (NUM_HAND - 1)),
])
def test_a_point_beyond_what_opencv_can_draw_is_a_clear_error(person):
    frame = PoseFrame([person], 64, 64)
    with pytest.raises(ValueError, match=r"lands at \(.*\) on the 16384 x 16384 drawing, beyond the "
                                         r"\+-1,073,741,824 px OpenCV can draw"):
        render_pose(frame, 16384, 16384)


@pytest.mark.parametrize("person,message", [
    (Person(left_hand=[Keypoint(5, 5)] * 12), "people[1].left_hand: 12 points, expected 21"),
    (Person(right_hand=[None] * 22), "people[1].right_hand: 22 points, expected 21"),
    (Person(face=[Keypoint(5, 5)] * 68), "people[1].face: 68 points, expected 70"),
    (Person(face=[Keypoint(5, 5)] * 71), "people[1].face: 71 points, expected 70"),
    (Person(body=[Keypoint(5, 5)] * 25), "people[1].body: 25 points, expected 18"),
    (Person(body=[Keypoint(5, 5)] * 12), "people[1].body: 12 points, expected 18"),
    (Person(left_hand=np.zeros((21, 3))), "people[1].left_hand: expected a list of 21 points, got ndarray"),
    ({"body": []}, "people[1]: expected a Person, got dict"),
])
@pytest.mark.parametrize("parts", [{}, dict(body=False, hands=False, face=False)])
def test_a_part_of_the_wrong_size_is_a_clear_error(person, message, parts):
    """Parts are checked whatever is drawn: the same frame is refused or drawn under every toggle."""
    frame = PoseFrame([Person(), person], 64, 64)
    with pytest.raises(ValueError) as caught:
        render_pose(frame, **parts)
    assert str(caught.value) == message


@pytest.mark.parametrize("point", [(10.0, 20.0), (1.0, 2.0, 1.0, 5.0), {"x": 1}, ("a", 2, 1)])
def test_a_point_that_is_not_three_numbers_is_a_clear_error(point):
    """A hand-built point given as (x, y) or a dict was numpy's broadcasting error from deep inside."""
    body = [None] * 3 + [point] + [None] * (NUM_BODY - 4)
    with pytest.raises(ValueError, match=r"^point 3: expected a Keypoint \(x, y, confidence\) or None, got "):
        render_pose(PoseFrame([Person(body=body)], 64, 64))


def test_people_that_is_not_a_list_is_a_clear_error():
    with pytest.raises(ValueError, match=r"^people: expected a list of Person, got NoneType$"):
        render_pose(PoseFrame(None, 64, 64))


def test_empty_frame_and_missing_parts_draw_black():
    assert not render_pose(PoseFrame([], 50, 40)).any()
    assert not render_pose(PoseFrame([Person(left_hand=[], face=[None] * NUM_FACE)], 50, 40)).any()
    assert not render_pose(PoseFrame([Person(body=None, right_hand=[None] * NUM_HAND)], 50, 40)).any()
