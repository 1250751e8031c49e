"""Pose edits: geometry conventions (checked against OpenCV), label mirroring, canvas bookkeeping,
selection, merging, interpolation, and that no edit changes its input."""
import copy
import itertools

import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from openpose_core import edit
from openpose_core.pose import BODY_PARTS, FOOT_PARTS, Keypoint, Person, PoseFrame

GROUPS = ("body", "left_hand", "right_hand", "face", "feet")
SIZES = {"body": 18, "left_hand": 21, "right_hand": 21, "face": 70, "feet": 6}


# -- builders and comparisons ---------------------------------------------------------------------------------

def random_points(rng, count, width, height, missing=0.2):
    return [None if rng.random() < missing else
            Keypoint(float(rng.uniform(0, width)), float(rng.uniform(0, height)), float(rng.uniform(0.05, 1.0)))
            for _ in range(count)]


def random_person(rng, width, height):
    def optional(group):
        return random_points(rng, SIZES[group], width, height) if rng.random() < 0.6 else None

    return Person(body=random_points(rng, 18, width, height), left_hand=optional("left_hand"),
                  right_hand=optional("right_hand"), face=optional("face"), feet=optional("feet"),
                  person_id=int(rng.integers(0, 10)), score=float(rng.random()))


def random_frame(rng, width=None, height=None, people=None):
    width = width or int(rng.integers(1, 2000))
    height = height or int(rng.integers(1, 2000))
    count = int(rng.integers(0, 4)) if people is None else people
    return PoseFrame([random_person(rng, width, height) for _ in range(count)], width, height)


@st.composite
def frames(draw):
    return random_frame(np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1))))


def assert_frames_close(actual, expected, atol=1e-9):
    assert (actual.width, actual.height) == (expected.width, expected.height)
    assert len(actual.people) == len(expected.people)
    for got, want in zip(actual.people, expected.people):
        assert (got.person_id, got.score) == (want.person_id, want.score)
        for group in GROUPS:
            got_points, want_points = getattr(got, group), getattr(want, group)
            assert (got_points is None) == (want_points is None), group
            for index, (g, w) in enumerate(zip(got_points or (), want_points or ())):
                assert (g is None) == (w is None), (group, index)
                if g is not None:
                    np.testing.assert_allclose(g[:2], w[:2], rtol=0, atol=atol, err_msg=f"{group}[{index}]")
                    assert g.confidence == w.confidence


def person_at(points, width=100, height=80):
    """One person whose body points are ``points`` (index -> (x, y)); the rest missing."""
    body = [None] * 18
    for index, (x, y) in points.items():
        body[index] = Keypoint(float(x), float(y), 0.9)
    return PoseFrame([Person(body=body)], width, height)


# A frontal face typed by hand in the 68-point iBUG layout (+ two pupils), symmetric about x = 0:
# image-left half first within each feature, as annotated.
SYMMETRIC_FACE = [
    (-8, -2), (-7.8, 0), (-7.4, 2), (-6.8, 4), (-6, 6), (-4.8, 7.6), (-3.4, 8.8), (-1.8, 9.6), (0, 10),  # jaw 0-8
    (1.8, 9.6), (3.4, 8.8), (4.8, 7.6), (6, 6), (6.8, 4), (7.4, 2), (7.8, 0), (8, -2),                    # jaw 9-16
    (-6.5, -5), (-5.5, -6), (-4, -6.3), (-2.8, -6), (-1.5, -5.5),                                         # brow 17-21
    (1.5, -5.5), (2.8, -6), (4, -6.3), (5.5, -6), (6.5, -5),                                              # brow 22-26
    (0, -4), (0, -3), (0, -2), (0, -1),                                                                   # bridge 27-30
    (-1.5, 0.5), (-0.8, 0.8), (0, 1), (0.8, 0.8), (1.5, 0.5),                                             # nose 31-35
    (-5, -3.5), (-4.2, -4), (-3.2, -4), (-2.4, -3.5), (-3.2, -3.1), (-4.2, -3.1),                         # eye 36-41
    (2.4, -3.5), (3.2, -4), (4.2, -4), (5, -3.5), (4.2, -3.1), (3.2, -3.1),                               # eye 42-47
    (-3, 4), (-2, 3.4), (-1, 3.1), (0, 3.3), (1, 3.1), (2, 3.4), (3, 4),                                  # lip 48-54
    (2, 4.8), (1, 5.2), (0, 5.3), (-1, 5.2), (-2, 4.8),                                                   # lip 55-59
    (-2.6, 4), (-1, 3.7), (0, 3.8), (1, 3.7), (2.6, 4), (1, 4.4), (0, 4.5), (-1, 4.4),                   # inner 60-67
    (-3.7, -3.55), (3.7, -3.55),                                                                          # pupils
]


# -- geometry -------------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(frames())
def test_flip_twice_is_identity(frame):
    assert_frames_close(edit.flip_horizontal(edit.flip_horizontal(frame)), frame)


@settings(max_examples=60, deadline=None)
@given(frames(), st.floats(-720, 720))
def test_rotate_360_is_identity_and_rotations_invert(frame, degrees):
    assert_frames_close(edit.rotate(frame, 360.0), frame, atol=0)
    assert_frames_close(edit.rotate(edit.rotate(frame, degrees), -degrees), frame, atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(frames(), st.floats(-500, 500), st.floats(-500, 500))
def test_translate_inverse(frame, dx, dy):
    moved = edit.translate(frame, dx, dy)
    assert_frames_close(edit.translate(moved, -dx, -dy), frame, atol=1e-9)
    if frame.people and frame.people[0].body[1] is not None:
        neck, moved_neck = frame.people[0].body[1], moved.people[0].body[1]
        assert moved_neck.x == pytest.approx(neck.x + dx) and moved_neck.y == pytest.approx(neck.y + dy)


def test_flip_swaps_labels_and_mirrors_about_pixel_centres():
    rng = np.random.default_rng(1)
    frame = random_frame(rng, 640, 480, people=1)
    person = frame.people[0]
    person.body = random_points(rng, 18, 640, 480, missing=0)
    person.left_hand, person.right_hand = random_points(rng, 21, 640, 480), None
    person.feet = random_points(rng, 6, 640, 480, missing=0)
    flipped = edit.flip_horizontal(frame).people[0]

    def mirrored(point):
        return Keypoint(639 - point.x, point.y, point.confidence)

    left_wrist, right_wrist = BODY_PARTS.index("left_wrist"), BODY_PARTS.index("right_wrist")
    assert flipped.body[right_wrist] == mirrored(person.body[left_wrist])
    assert flipped.body[left_wrist] == mirrored(person.body[right_wrist])
    for pair in ((2, 5), (3, 6), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17)):
        for a, b in (pair, pair[::-1]):
            assert flipped.body[a] == mirrored(person.body[b])
    assert flipped.body[0] == mirrored(person.body[0]) and flipped.body[1] == mirrored(person.body[1])
    assert flipped.left_hand is None
    assert flipped.right_hand == [None if p is None else mirrored(p) for p in person.left_hand]
    heel = {name: i for i, name in enumerate(FOOT_PARTS)}
    assert flipped.feet[heel["right_heel"]] == mirrored(person.feet[heel["left_heel"]])
    assert flipped.feet[heel["left_big_toe"]] == mirrored(person.feet[heel["right_big_toe"]])


def test_flip_matches_cv2_flip_for_pixel_centres():
    image = np.zeros((6, 9), np.uint8)
    image[4, 2] = 255
    flipped_image = cv2.flip(image, 1)
    point = edit.flip_horizontal(person_at({1: (2, 4)}, width=9, height=6)).people[0].body[1]
    assert flipped_image[int(point.y), int(point.x)] == 255
    assert (point.x, point.y) == (6.0, 4.0)


def test_flip_face_maps_a_symmetric_face_onto_itself():
    centre = 49.5  # the mirror axis of a 100-pixel-wide canvas
    face = [Keypoint(centre + 3 * x, 40 + 3 * y, i / 70) for i, (x, y) in enumerate(SYMMETRIC_FACE)]
    frame = PoseFrame([Person(face=face)], 100, 100)
    flipped = edit.flip_horizontal(frame).people[0].face
    for i, (got, want) in enumerate(zip(flipped, face)):
        assert got[:2] == pytest.approx(want[:2], abs=1e-12), i
    order = edit.MIRROR_ORDER["face"]
    assert [order[i] for i in (0, 8, 16, 17, 21, 27, 31, 33, 36, 37, 38, 39, 40, 41, 48, 51, 55, 60, 62, 65, 68)] == \
           [16, 8, 0, 26, 22, 27, 35, 33, 45, 44, 43, 42, 47, 46, 54, 51, 59, 64, 62, 67, 69]
    assert all(order[order] == np.arange(70))


def test_rotate_is_counter_clockwise_on_screen_like_cv2():
    frame = person_at({1: (60, 40), 2: (13.5, 71.25)}, width=100, height=80)
    up = edit.rotate(frame, 90, center=(50, 40)).people[0].body[1]
    assert (up.x, up.y) == (pytest.approx(50), pytest.approx(30))  # right of centre -> above it
    matrix = cv2.getRotationMatrix2D((49.5, 39.5), 33.0, 1.0)
    expected = cv2.transform(np.array([[[60, 40], [13.5, 71.25]]], np.float64), matrix)[0]
    rotated = edit.rotate(frame, 33.0).people[0].body
    np.testing.assert_allclose([rotated[1][:2], rotated[2][:2]], expected, atol=1e-9)


def test_scale_about_a_point():
    frame = person_at({1: (10, 20), 2: (30, 60)})
    body = edit.scale(frame, 2.0, 0.5, center=(10, 20)).people[0].body
    assert body[1][:2] == (10, 20) and body[2][:2] == (50, 40)
    centred = edit.scale(person_at({1: (49.5, 39.5), 2: (59.5, 39.5)}), 3.0).people[0].body
    assert centred[1][:2] == (49.5, 39.5) and centred[2][:2] == (79.5, 39.5)


def test_transforms_can_target_some_people():
    rng = np.random.default_rng(4)
    frame = random_frame(rng, 300, 200, people=3)
    moved = edit.translate(frame, 5, -7, people=[-1])
    assert moved.people[:2] == frame.people[:2]
    assert_frames_close(edit.select_people(moved, [2]), edit.translate(edit.select_people(frame, [2]), 5, -7))
    assert edit.translate(frame, 5, -7, people=-1) == moved  # a single index is accepted too
    assert edit.select_people(frame, 1).people == [frame.people[1]]


# -- canvas ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("window", [(3, 2, 7, 5), (-4, -3, 20, 15), (5, -2, 4, 12), (0, 0, 12, 9)])
def test_crop_and_pad_keep_picture_positions(window):
    width, height, margin = 12, 9, 10
    picture = np.arange(width * height).reshape(height, width) + 1
    canvas = np.pad(picture, margin)  # 0 outside the old picture
    points = dict(enumerate(itertools.product(range(0, 12, 3), range(0, 9, 2))))
    points = {i: xy for i, xy in points.items() if i < 18}
    left, top, w, h = window
    cropped = edit.crop(person_at(points, width, height), left, top, w, h)
    assert (cropped.width, cropped.height) == (w, h)
    cropped_image = canvas[top + margin: top + margin + h, left + margin: left + margin + w]
    inside = 0
    for index, (x, y) in points.items():
        point = cropped.people[0].body[index]  # kept even when it falls off the new canvas
        assert (point.x - x, point.y - y) == (-left, -top)
        if 0 <= point.x < w and 0 <= point.y < h:
            assert cropped_image[int(point.y), int(point.x)] == picture[y, x]
            inside += 1
    assert inside == sum(left <= x < left + w and top <= y < top + h for x, y in points.values())


def test_pad_and_resize_canvas_are_crops():
    frame = person_at({1: (10, 20)}, width=100, height=80)
    padded = edit.pad(frame, left=5, top=1, right=2, bottom=3)
    assert (padded.width, padded.height) == (107, 84) and padded.people[0].body[1][:2] == (15, 21)
    centred = edit.resize_canvas(frame, 104, 77)  # pad 4: 2 left; crop 3: 1 top
    assert (centred.width, centred.height) == (104, 77) and centred.people[0].body[1][:2] == (12, 19)
    corner = edit.resize_canvas(frame, 50, 50, anchor=(0, 0))
    assert corner.people[0].body[1][:2] == (10, 20)
    with pytest.raises(ValueError):
        edit.crop(frame, 0, 0, 0, 10)
    whole = edit.crop(frame, 0.0, 0, 50.0, np.int64(40))  # whole numbers of any type give an int canvas
    assert (whole.width, whole.height) == (50, 40) and type(whole.width) is type(whole.height) is int


def test_resize_scales_like_cv2_resize():
    frame = person_at({1: (0, 0), 2: (99, 79), 3: (49.5, 39.5), 4: (20, 10)}, width=100, height=80)
    resized = edit.resize(frame, 300, 40)
    body = resized.people[0].body
    assert (resized.width, resized.height) == (300, 40)
    assert body[1][:2] == (1.0, -0.25) and body[2][:2] == (298.0, 39.25) and body[3][:2] == (149.5, 19.5)
    image = np.zeros((80, 100), np.float32)
    image[10, 20] = 1
    big = cv2.resize(image, (300, 240), interpolation=cv2.INTER_NEAREST)
    ys, xs = np.nonzero(big)
    point = edit.resize(frame, 300, 240).people[0].body[4]
    assert (point.x, point.y) == (xs.mean(), ys.mean())
    assert_frames_close(edit.resize(resized, 100, 80), frame)


# -- selection, removal, merging ------------------------------------------------------------------------------

def test_select_and_remove_people():
    frame = random_frame(np.random.default_rng(2), 200, 100, people=4)
    assert edit.select_people(frame, [2, 0]).people == [frame.people[2], frame.people[0]]
    assert edit.remove_people(frame, [1, -1]).people == [frame.people[0], frame.people[2]]
    with pytest.raises(IndexError, match=r"^no person 4: the frame has 4"):
        edit.remove_people(frame, [4])
    with pytest.raises(IndexError, match=r"^no person -5: the frame has 4"):
        edit.select_people(frame, [-5])
    with pytest.raises(IndexError, match=r"^no person 7: the frame has 4"):
        edit.flip_horizontal(frame, people=[0, 7])
    with pytest.raises(ValueError, match=r"whole-number indices, got 1.5"):
        edit.select_people(frame, [1.5])


@pytest.mark.parametrize("call,message", [
    (lambda frame: edit.scale(frame, float("nan")), r"^sx must be a finite number, got nan"),
    (lambda frame: edit.scale(frame, 1.0, 0.0), r"^scale factors must be positive, got 1, 0"),
    (lambda frame: edit.scale(frame, -1), r"^scale factors must be positive, got -1, -1 \(to mirror, use flip_horiz"),
    (lambda frame: edit.rotate(frame, float("inf")), r"^degrees must be a finite number, got inf"),
    (lambda frame: edit.rotate(frame, 30, center=(10, None)), r"^center_y must be a finite number, got None"),
    (lambda frame: edit.translate(frame, "left", 0), r"^dx must be a finite number, got 'left'"),
    (lambda frame: edit.translate(frame, 1, 0, people=1.5), r"^people must be an index or a collection of indices"),
    (lambda frame: edit.interpolate(frame, frame, "half"), r"^t must be a finite number, got 'half'"),
    (lambda frame: edit.resize(frame, float("nan"), 100), r"^width must be a finite number, got nan"),
    (lambda frame: edit.resize(frame, 100, float("inf")), r"^height must be a finite number, got inf"),
    (lambda frame: edit.resize(frame, 50.5, 100), r"^width must be a whole number, got 50.5"),
    (lambda frame: edit.crop(frame, 0, 0, 10, float("nan")), r"^height must be a finite number, got nan"),
    (lambda frame: edit.crop(frame, float("nan"), 0, 10, 10), r"^left must be a finite number, got nan"),
    (lambda frame: edit.crop(frame, 0, 2.5, 10, 10), r"^top must be a whole number, got 2.5"),
    (lambda frame: edit.pad(frame, right=float("nan")), r"^right must be a finite number, got nan"),
    (lambda frame: edit.resize_canvas(frame, 50.5, 40), r"^width must be a whole number, got 50.5"),
    (lambda frame: edit.resize_canvas(frame, 50, 40, anchor=(float("nan"), 0)), r"^anchor_x must be a finite"),
    (lambda frame: edit.resize_canvas(frame, 50, 40, anchor=(0, 2)), r"^anchor must be fractions within \[0, 1\]"),
    (lambda frame: edit.resize_canvas(frame, 50, 40, anchor=0.5), r"^anchor must be an \(x, y\) pair, got 0.5"),
])
def test_geometry_refuses_numbers_that_would_lose_the_points(call, message):
    """A NaN or infinite offset, factor, angle or canvas size would turn every point it touches into a missing
    (or infinite) one, a zero factor would put them all on one spot and a negative one mirror them without
    swapping labels, and a canvas is whole pixels: refused, naming the argument."""
    frame = random_frame(np.random.default_rng(3), 200, 100, people=2)
    with pytest.raises(ValueError, match=message):
        call(frame)


def test_remove_parts_groups_and_single_joints():
    rng = np.random.default_rng(3)
    frame = random_frame(rng, 200, 100, people=2)
    for person in frame.people:
        person.body = random_points(rng, 18, 200, 100, missing=0)
        person.left_hand = person.right_hand = random_points(rng, 21, 200, 100)
        person.feet = random_points(rng, 6, 200, 100, missing=0)
        person.face = random_points(rng, 70, 200, 100)
    result = edit.remove_parts(frame, ["hands", "left_wrist", "right_heel"], people=[1])
    kept, changed = result.people
    assert kept == frame.people[0]
    assert changed.left_hand is None and changed.right_hand is None and changed.face == frame.people[1].face
    assert changed.body[7] is None and changed.body[:7] == frame.people[1].body[:7]
    assert changed.feet[5] is None and changed.feet[:5] == frame.people[1].feet[:5]
    emptied = edit.remove_parts(frame, ["body", "face", "feet"]).people[0]
    assert emptied.body == [None] * 18 and emptied.face is None and emptied.feet is None
    with pytest.raises(ValueError, match=r"unknown parts \['elbow'\]; known: left_hand, .*, or a joint: .*left_elbow"):
        edit.remove_parts(frame, ["elbow"])     # a misspelt name lists the names there are
    assert edit.remove_parts(frame, "face") == edit.remove_parts(frame, ["face"])  # one name, not its letters


def test_merge():
    rng = np.random.default_rng(5)
    a, b = random_frame(rng, 64, 32, people=2), random_frame(rng, 64, 32, people=1)
    merged = edit.merge([a, b])
    assert merged.people == a.people + b.people and (merged.width, merged.height) == (64, 32)
    with pytest.raises(ValueError, match="canvas"):
        edit.merge([a, random_frame(rng, 65, 32, people=1)])


# -- interpolation --------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_interpolation_endpoints_equal_inputs(seed):
    rng = np.random.default_rng(seed)
    a = random_frame(rng, 640, 480)
    b = random_frame(rng, 640, 480)
    assert edit.interpolate(a, b, 0.0) == a
    assert edit.interpolate(a, b, 1.0) == b


def test_interpolation_matches_people_by_position_and_moves_linearly():
    rng = np.random.default_rng(6)
    a = random_frame(rng, 1000, 1000, people=2)
    a.people[0] = edit.translate(PoseFrame([a.people[0]], 1000, 1000), -300, 0).people[0]
    b = edit.translate(a, 40, -20)
    b.people.reverse()  # order must not matter: matching is by position
    middle = edit.interpolate(a, b, 0.25)
    assert_frames_close(middle, edit.translate(a, 10, -5), atol=1e-9)
    late = edit.interpolate(a, b, 0.75)
    assert_frames_close(late, edit.translate(b, -10, 5), atol=1e-9)


def test_interpolation_pairs_tracked_people_by_id_when_they_swap_places():
    """Two dancers trade places between keyframes: by position each would stay put; their ids say who is who."""
    left, right = person_at({1: (100, 100), 8: (100, 200)}), person_at({1: (500, 100), 8: (500, 200)})
    a = edit.merge([left, right])       # dancer 3 on the left, dancer 9 on the right
    b = edit.merge([right, left])       # dancer 3 now on the right, dancer 9 on the left
    for person_a, person_b, person_id in zip(a.people, b.people, (3, 9)):
        person_a.person_id = person_b.person_id = person_id
    assert edit.match_people(a.people, b.people) == [(0, 0), (1, 1)]
    middle = edit.interpolate(a, b, 0.5)
    assert [person.body[1][0] for person in middle.people] == [300, 300]      # both cross the middle
    b.people[0].person_id = None        # id 9 still pairs its dancer; the rest pair up among themselves
    assert edit.match_people(a.people, b.people) == [(0, 0), (1, 1)]
    b.people[1].person_id = None        # no id in common: by position
    assert edit.match_people(a.people, b.people) == [(0, 1), (1, 0)]


def test_interpolation_matches_repeated_ids_by_position():
    """Two tracked clips merged: both numbered their dancer 0, so id 0 says nothing about who is who."""
    a = edit.merge([person_at({1: (100, 100)}), person_at({1: (500, 100)})])
    for person in a.people:
        person.person_id = 0
    assert edit.interpolate(a, a, 0.25) == a
    middle = edit.interpolate(a, edit.translate(a, 10, 0), 0.25)
    assert [person.body[1][:2] for person in middle.people] == [(102.5, 100), (502.5, 100)]
    # an id unique in both frames still pairs its people, wherever they are; the repeated ones go by position
    a = edit.merge([person_at({1: (x, 100)}) for x in (100, 500, 300)])
    b = edit.merge([person_at({1: (x, 100)}) for x in (520, 110, 290)])
    for frame in (a, b):
        for person, person_id in zip(frame.people, (4, 4, 9) if frame is a else (9, 4, 4)):
            person.person_id = person_id
    assert edit.match_people(a.people, b.people) == [(0, 1), (1, 2), (2, 0)]


def test_interpolation_points_in_one_pose_follow_the_nearer_pose():
    a = person_at({1: (10, 10), 2: (20, 20)})
    b = person_at({1: (30, 10), 3: (50, 50)})
    b.people[0].left_hand = [Keypoint(1, 1, 1)] * 21
    early, late = edit.interpolate(a, b, 0.4).people[0], edit.interpolate(a, b, 0.6).people[0]
    assert early.body[1][:2] == pytest.approx((18, 10)) and late.body[1][:2] == pytest.approx((22, 10))
    assert early.body[2][:2] == (20, 20) and early.body[3] is None and early.left_hand is None
    assert late.body[2] is None and late.body[3][:2] == (50, 50) and late.left_hand == [Keypoint(1, 1, 1)] * 21
    extra = edit.merge([b, person_at({1: (900, 900)})])
    assert len(edit.interpolate(a, extra, 0.4).people) == 1 and len(edit.interpolate(a, extra, 0.5).people) == 2
    with pytest.raises(ValueError):
        edit.interpolate(a, b, 1.5)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2 ** 32 - 1))
def test_min_cost_assignment_is_optimal(rows, cols, seed):
    cost = np.random.default_rng(seed).integers(0, 20, (rows, cols)).astype(float)
    pairs = edit.min_cost_assignment(cost)
    assert len(pairs) == min(rows, cols)
    assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
    if rows <= cols:
        best = min(sum(cost[r, c] for r, c in enumerate(p)) for p in itertools.permutations(range(cols), rows))
    else:
        best = min(sum(cost[r, c] for c, r in enumerate(p)) for p in itertools.permutations(range(rows), cols))
    assert sum(cost[r, c] for r, c in pairs) == best


# -- purity ---------------------------------------------------------------------------------------------------

EDITS = {
    "translate": lambda f: edit.translate(f, 3, 4),
    "scale": lambda f: edit.scale(f, 1.5),
    "rotate": lambda f: edit.rotate(f, 30),
    "flip": edit.flip_horizontal,
    "crop": lambda f: edit.crop(f, -2, 3, 50, 60),
    "pad": lambda f: edit.pad(f, 1, 2, 3, 4),
    "resize_canvas": lambda f: edit.resize_canvas(f, 30, 30),
    "resize": lambda f: edit.resize(f, 20, 30),
    "select": lambda f: edit.select_people(f, [0, 0]),
    "remove_people": lambda f: edit.remove_people(f, [1]),
    "remove_parts": lambda f: edit.remove_parts(f, ["face", "hands", "feet", "nose"]),
    "merge": lambda f: edit.merge([f, f]),
    "interpolate": lambda f: edit.interpolate(f, edit.translate(f, 5, 5), 0.3),
}


@pytest.mark.parametrize("name", EDITS)
def test_edits_never_change_their_input_or_share_lists(name):
    frame = random_frame(np.random.default_rng(7), 100, 100, people=2)
    before = copy.deepcopy(frame)
    result = EDITS[name](frame)
    assert frame == before
    for person in result.people:
        person.body[0] = Keypoint(-1, -1, 0)
        for group in ("left_hand", "right_hand", "face", "feet"):
            if getattr(person, group) is not None:
                getattr(person, group)[0] = Keypoint(-1, -1, 0)
    assert frame == before
