"""Checking a skeleton-map parse by drawing it again: the drawing follows the renderer at any scale, and
the changes it buys (joining pieces, also through a dot renamed nose, dropping joints and echoes, adding
a joint where its stick ends, a loose ear by its head or a loose wrist by its elbow, an elbow and wrist
read the wrong way round swapped back) are the right ones on maps whose truth is known. End-to-end rates
are in test_skeleton_image.py."""
from __future__ import annotations

import numpy as np
import pytest

from openpose_core.pose import NUM_BODY, Keypoint, Person, PoseFrame
from openpose_core.render import render_pose
from openpose_core.skeleton_image.redraw import (
    Redraw, _stick_tip, add_missing_joints, drop_unseen_lone_dots, grow_lone_knees, refit,
)
from openpose_core.skeleton_image.refine import (
    join_head_pieces, join_heads_to_necks, refine_limb_joints, relabel_broken_heads,
)
from tests.test_skeleton_image import degrade, drawn_position, random_scene

HEAD = [0, 14, 15, 16, 17]
NO_HANDS = np.zeros((0, 2))
UPPER = [0, 1, 2, 3, 4, 5, 6, 7, 14, 15, 16, 17]
LOWER = [8, 9, 10, 11, 12, 13]


def scene(seed: int, count: int, factor: float, jpeg=None):
    """A map of ``count`` whole-pixel people, and their bodies in its pixels (18 x 2, NaN = missing)."""
    frame = random_scene(np.random.default_rng(seed), count, (512, 512), missing=0.0)
    frame = PoseFrame([Person(body=[Keypoint(float(int(p.x)), float(int(p.y))) for p in person.body])
                       for person in frame.people], frame.width, frame.height)
    image, fx, fy = degrade(render_pose(frame, hands=False, face=False), factor, "area", jpeg)
    return image, [np.array([drawn_position(point, fx, fy) for point in person.body]) for person in frame.people]


def pieces(body: np.ndarray, parts) -> np.ndarray:
    piece = np.full_like(body, np.nan)
    piece[parts] = body[parts]
    return piece


def owner(body: np.ndarray, truth) -> set:
    """The drawn people whose joints ``body`` holds."""
    held = ~np.isnan(body[:, 0])
    return {index for index, whole in enumerate(truth) if np.allclose(body[held], whole[held])} or {-1}


@pytest.mark.parametrize("factor,lit_off", [(1.0, 0.12), (0.5, 0.03)])
def test_drawing_follows_the_renderer(factor, lit_off):
    """Drawn at sub-pixel positions with float geometry (the renderer truncates centres, axes and angles
    to whole numbers), the blurred drawing of the true people still matches the blurred map on all but a
    few of its coloured pixels."""
    image, bodies = scene(3, 2, factor)
    redraw = Redraw(image, factor)
    drawn = redraw.draw((0, 0, image.shape[1], image.shape[0]), bodies)
    lit = redraw.target.max(axis=2) > 30
    off = np.abs(drawn - redraw.target).max(axis=2) > 30
    assert off[lit].mean() < lit_off
    assert off[~lit].mean() < 0.01


@pytest.mark.parametrize("x", [2, 4])
def test_drawing_at_the_border_is_mirrored_like_the_map(x):
    """The map's blur mirrors it at its border; the drawing's does too (and shows nothing drawn past the
    border), so the true joint by the border fits as well as in the middle: it is not pulled outwards."""
    def mismatch(left: int) -> float:
        body = [None] * NUM_BODY
        body[6], body[5] = Keypoint(float(left), 80.0), Keypoint(float(left + 40), 120.0)
        image, fx, fy = degrade(render_pose(PoseFrame([Person(body=body)], 256, 256), hands=False, face=False), 0.5)
        xy = np.full((NUM_BODY, 2), np.nan)
        xy[[6, 5]] = [drawn_position(body[6], fx, fy), drawn_position(body[5], fx, fy)]
        redraw = Redraw(image, 0.5)
        return float(redraw.mismatch(redraw.box((xy[6] - 3, xy[6] + 3)), [xy]).sum())

    assert mismatch(x) < 1.1 * mismatch(60)


def test_the_true_people_gain_and_fit():
    """Drawing the true people over an empty drawing gains and fits almost perfectly; drawing them 3 px
    off, far less."""
    image, bodies = scene(5, 2, 0.75, jpeg=75)
    redraw = Redraw(image, 0.75)
    box = (0, 0, image.shape[1], image.shape[0])
    gain, fit = redraw.gain(box, [], bodies)
    shifted_gain, shifted_fit = redraw.gain(box, [], [body + 3.0 for body in bodies])
    assert gain > 0 and fit > 0.8
    assert shifted_gain < 0.5 * gain and shifted_fit < 0.5


@pytest.mark.parametrize("factor", [0.5, 0.75])
def test_pieces_of_a_person_are_joined_and_people_stay_apart(factor):
    """Each of three people handed over in two pieces (upper and lower body) comes back whole; no
    piece joins another person."""
    image, truth = scene(11, 3, factor, jpeg=75)
    split = [piece for body in truth for piece in (pieces(body, UPPER), pieces(body, LOWER))]
    result = refit(Redraw(image, factor), split)
    assert len(result) == 3
    for body in result:
        assert len(owner(body, truth)) == 1 and -1 not in owner(body, truth)
        assert (~np.isnan(body[:, 0])).sum() == NUM_BODY


@pytest.mark.parametrize("seed", range(4))
def test_a_nose_read_as_an_ear_joins_its_head_to_its_neck(seed):
    """At half size with JPEG a nose under purple eyes reads as the pink l-ear, and its head misses the
    neck stick that would join it. Renamed nose, the dot draws that stick and the person comes back whole
    (and without the renaming, it does not); a real l-ear is not renamed."""
    image, truth = scene(seed, 2, 0.5, jpeg=75)
    body = truth[0]
    rest = pieces(body, range(1, 14))
    head = pieces(body, [14, 15, 16])
    head[17] = body[0]
    assert len(refit(Redraw(image, 0.5), [head, rest, truth[1]], rename_dots=False)) == 3
    result = refit(Redraw(image, 0.5), [head, rest, truth[1]], rename_dots=True)
    assert len(result) == 2
    whole = next(person for person in result if owner(person, truth) == {0})
    assert np.array_equal(whole[0], body[0]) and np.isnan(whole[17, 0]) and (~np.isnan(whole[:, 0])).sum() == 17
    result = refit(Redraw(image, 0.5), [pieces(body, [14, 15, 16, 17]), rest, truth[1]], rename_dots=True)
    assert any(np.array_equal(person[17], body[17]) and np.isnan(person[0, 0]) for person in result)


@pytest.mark.parametrize("seed", [7, 8])
def test_a_joint_is_added_where_its_stick_ends_on_black(seed):
    """At half size with JPEG a wrist or ankle dot may lose its colour; the forearm or shin leading to it
    still shows, and the joint comes back where that stick ends."""
    image, truth = scene(seed, 2, 0.5, jpeg=75)
    for part in (4, 7, 10, 13):
        bodies = [body.copy() for body in truth]
        bodies[0][part] = np.nan
        added = add_missing_joints(Redraw(image, 0.5), bodies, [], stick_ends=True)[0][part]
        assert np.hypot(*(added - truth[0][part])) < 1.5, part


@pytest.mark.parametrize("part", [10, 13])
def test_a_joint_is_added_where_its_stick_ends_past_a_stick_drawn_across_it(part):
    """Another person's thigh drawn across the shin cuts it in two; the shin still ends where the ankle is."""
    frame = random_scene(np.random.default_rng(8), 1, (512, 512), missing=0.0)
    body = [Keypoint(float(int(p.x)), float(int(p.y))) for p in frame.people[0].body]
    knee, ankle = (np.array([body[index].x, body[index].y]) for index in (part - 1, part))
    middle, along = (knee + ankle) / 2, (ankle - knee) / np.hypot(*(ankle - knee))
    across = np.array([-along[1], along[0]]) * 30
    thigh = [None] * NUM_BODY
    thigh[8], thigh[9] = (Keypoint(*np.rint(middle + side * across)) for side in (-1, 1))
    people = PoseFrame([Person(body=body), Person(body=thigh)], 512, 512)
    image, fx, fy = degrade(render_pose(people, hands=False, face=False), 0.5, "area", 75)
    truth = [np.array([drawn_position(point, fx, fy) if point else (np.nan, np.nan) for point in person.body])
             for person in people.people]
    without = truth[0].copy()
    without[part] = np.nan
    added = add_missing_joints(Redraw(image, 0.5), [without, truth[1]], [], stick_ends=True)[0][part]
    assert np.hypot(*(added - truth[0][part])) < 1.5


def test_no_joint_is_added_where_its_stick_leaves_the_image():
    """A shin running off the bottom of the map says nothing about where its ankle is."""
    frame = random_scene(np.random.default_rng(8), 1, (512, 512), missing=0.0)
    body = [Keypoint(float(int(p.x)), float(int(p.y))) for p in frame.people[0].body]
    drop = 512 - body[10].y + 15                            # the right ankle 15 px below the map
    moved = PoseFrame([Person(body=[Keypoint(p.x, p.y + drop) for p in body])], 512, 512)
    image, fx, fy = degrade(render_pose(moved, hands=False, face=False), 0.5, "area", 75)
    truth = np.array([drawn_position(point, fx, fy) for point in moved.people[0].body])
    assert truth[10, 1] > image.shape[0] and truth[9, 1] < image.shape[0] - 20
    without = truth.copy()
    without[10] = np.nan
    assert np.isnan(add_missing_joints(Redraw(image, 0.5), [without], [], stick_ends=True)[0][10]).all()


def test_a_stick_is_followed_from_a_joint_on_the_map_s_last_pixel():
    """A dot's centre may lie half a pixel past the last pixel's centre: following a stick whose first part
    hides under other dots from there looks at the map's pixels only."""
    redraw = Redraw(np.zeros((64, 64, 3), np.uint8), 0.5)
    sticks = np.zeros((64, 64), np.int32)
    sticks[32, 40:56] = 1
    assert _stick_tip(redraw, sticks, np.array([63.5, 32.0])) is None


@pytest.mark.parametrize("knee,ankle", [((48, 477), (61, 537)), ((300, 300), (280, 358))])
def test_a_lone_left_knee_joins_the_ankle_standing_alone_at_its_shin_s_end(knee, ankle):
    """At half size with JPEG a left leg with no hip may be read as two one-joint people: the ankle, faint,
    standing alone where its drawing explains the map, and the blue knee, kept once the hands are read.
    The knee whose shin leads to that ankle takes it, and the ankle alone goes."""
    body = [None] * NUM_BODY
    body[12], body[13] = Keypoint(*knee), Keypoint(*ankle)
    frame = PoseFrame([Person(body=body)], 512, 640)
    image, fx, fy = degrade(render_pose(frame, hands=False, face=False), 0.5, "area", 75)
    truth = np.array([drawn_position(point, fx, fy) if point else (np.nan, np.nan) for point in body])
    people = grow_lone_knees(Redraw(image, 0.5), [pieces(truth, [13])], [pieces(truth, [12])], [])
    assert len(people) == 1
    assert np.allclose(people[0][[12, 13]], truth[[12, 13]])


@pytest.mark.parametrize("factor", [0.5, 0.75, 1.0])
def test_a_loose_ear_joins_the_head_beside_it(factor):
    """An ear's only stick, to its eye, hides under the head dots: an ear dot the parse left loose joins
    the head next to it that lacks that ear; one on black far from any head joins nothing."""
    for seed in range(4):
        image, truth = scene(seed, 2, factor, jpeg=75)
        for ear in (16, 17):
            bodies = [body.copy() for body in truth]
            bodies[0][ear] = np.nan
            corner = np.array([2.0, 2.0])
            result = add_missing_joints(Redraw(image, factor), bodies, [(ear, truth[0][ear]), (ear, corner)])
            assert np.array_equal(result[0][ear], truth[0][ear]), (seed, ear)
            assert not any(np.allclose(body[ear], corner) for body in result)
            assert np.isnan(add_missing_joints(Redraw(image, factor), bodies, [])[0][ear]).all()


@pytest.mark.parametrize("factor", [0.5, 0.75, 1.0])
def test_a_loose_limb_dot_joins_the_person_its_stick_leads_to(factor):
    """A wrist or ankle dot whose stick looked too patchy to link joins the person holding the elbow or
    knee its stick leads to; a dot of that part on black, where no stick leads, joins nobody, and nobody
    takes a dot whose stick's other end the person lacks."""
    corner = np.array([2.0, 2.0])
    for seed in range(4):
        image, truth = scene(seed, 2, factor, jpeg=75)
        for part, neighbour in ((4, 3), (7, 6), (10, 9), (13, 12)):
            bodies = [body.copy() for body in truth]
            bodies[0][part] = np.nan
            result = add_missing_joints(Redraw(image, factor), bodies, [(part, truth[0][part]), (part, corner)])
            assert np.array_equal(result[0][part], truth[0][part]), (seed, part)
            assert not any(np.allclose(body[part], corner) for body in result)
            bodies[0][neighbour] = np.nan
            result = add_missing_joints(Redraw(image, factor), bodies, [(part, truth[0][part])])
            assert not any(np.allclose(body[part], truth[0][part]) for body in result), (seed, part)


def test_a_joint_that_is_not_drawn_is_dropped():
    """A wrist placed on black, and a whole one-joint person placed on black, go; the drawn people stay."""
    image, truth = scene(7, 2, 0.5, jpeg=75)
    wrong = truth[0].copy()
    wrong[4] = (5.0, 5.0)
    stray = np.full((NUM_BODY, 2), np.nan)
    stray[9] = (image.shape[1] - 6.0, 6.0)
    result = refit(Redraw(image, 0.5), [wrong, truth[1], stray])
    assert len(result) == 2
    kept = next(body for body in result if owner(body, truth) == {0})
    assert np.isnan(kept[4, 0]) and (~np.isnan(kept[:, 0])).sum() == NUM_BODY - 1


@pytest.mark.parametrize("seed", [7, 9])
def test_a_lone_dot_that_its_drawing_does_not_explain_is_dropped(seed):
    """A one-joint person on a forearm's stick (a crumb of the stick that JPEG tinted orange) goes: its dot,
    drawn over everyone as a dot that was seen must be, makes the drawing worse. A wrist drawn there as a
    one-joint person stays, and so do people of more joints."""
    image, truth = scene(seed, 2, 0.5, jpeg=75)
    crumb = np.full((NUM_BODY, 2), np.nan)
    crumb[2] = (truth[0][3] + truth[0][4]) / 2
    wrist = pieces(truth[1], [4])
    rest = truth[1].copy()
    rest[4] = np.nan
    result = drop_unseen_lone_dots(Redraw(image, 0.5), [truth[0], crumb, rest, wrist])
    assert len(result) == 3
    assert all(np.array_equal(kept, given, equal_nan=True) for kept, given in zip(result, [truth[0], rest, wrist]))


def test_an_echo_of_a_joint_is_dropped():
    """A second, one-point person holding a person's elbow 1 px off (JPEG finding a dot twice) goes."""
    image, truth = scene(13, 2, 0.75, jpeg=75)
    echo = np.full((NUM_BODY, 2), np.nan)
    echo[6] = truth[1][6] + (1.0, 0.0)
    result = refit(Redraw(image, 0.75), truth + [echo])
    assert len(result) == 2
    assert all(len(owner(body, truth)) == 1 and -1 not in owner(body, truth) for body in result)


def test_people_without_joints_pass_through():
    empty = np.full((NUM_BODY, 2), np.nan)
    image, truth = scene(2, 1, 1.0)
    result = refit(Redraw(image, 1.0), [empty, truth[0]])
    assert len(result) == 2 and np.array_equal(result[0], truth[0], equal_nan=True)
    assert np.isnan(result[1]).all()


@pytest.mark.parametrize("seed", [0, 3, 5])
@pytest.mark.parametrize("pair", [(6, 7), (12, 13), (3, 4)])
def test_two_joints_of_a_limb_read_the_wrong_way_round_trade_places(seed, pair):
    """JPEG leaves an elbow and its wrist (or a knee and its ankle) a hue step apart, so their dots may be
    read the wrong way round; the upper arm then ends at the wrist. Drawn again, the swap explains the map
    and is undone; the true labels stay as they are."""
    image, truth = scene(seed, 1, 0.5, jpeg=75)
    body = truth[0]
    swapped = body.copy()
    swapped[list(pair)] = body[list(pair[::-1])]
    for handed in (swapped, body):
        result = refit(Redraw(image, 0.5), [handed])
        assert len(result) == 1 and np.allclose(result[0], body, equal_nan=True), (seed, pair)


@pytest.mark.parametrize("factor", [0.5, 0.75])
def test_limb_joints_read_off_their_dot_move_back(factor):
    """True people, with one limb joint each read 3 px off its dot: drawing again puts it back within a
    pixel, while the joints in place and the head joints stay where they are."""
    image, bodies = scene(8, 3, factor, jpeg=75)
    offsets = ((3.0, 0.0), (0.0, -3.0), (-2.0, 2.0))
    parts = (9, 6, 12)
    read = [body.copy() for body in bodies]
    for body, part, offset in zip(read, parts, offsets):
        body[part] += offset
    refined = refine_limb_joints(Redraw(image, factor), read)
    for body, truth, part in zip(refined, bodies, parts):
        assert np.hypot(*(body[part] - truth[part])) < 1.0, (part, body[part], truth[part])
        others = [other for other in range(NUM_BODY) if other != part]
        assert np.abs(body[others] - truth[others]).max() <= 0.5


@pytest.mark.parametrize("seed", [3, 7, 8])
def test_an_l_eye_read_on_the_r_ear_takes_the_r_ear_label_back_when_that_draws_better(seed):
    """A person whose r-ear dot was read as the l-eye, its own l-eye read as a piece of its own: the head breaks
    the layout of a face, and its one mend (the r-ear back) draws better, so it is taken. With the l-eye read
    nowhere, the l-eye's stick drawn from the r-ear to the l-ear explains more than the mend: the head stays
    as read. Heads read right are left as they are."""
    image, bodies = scene(seed, 1, 0.5, jpeg=75)
    redraw = Redraw(image, 0.5)
    misread = bodies[0].copy()
    misread[15], misread[16] = misread[16], np.nan
    mended = bodies[0].copy()
    mended[15] = np.nan
    l_eye = pieces(bodies[0], [15])
    assert np.array_equal(relabel_broken_heads(redraw, [misread, l_eye])[0], mended, equal_nan=True)
    assert np.array_equal(relabel_broken_heads(redraw, [misread])[0], misread, equal_nan=True)
    assert np.array_equal(relabel_broken_heads(redraw, bodies)[0], bodies[0], equal_nan=True)


@pytest.mark.parametrize("seed", [2, 12, 20])
def test_a_head_piece_joins_the_body_beside_it(seed):
    """Two people. One's r-eye and r-ear read as a piece of their own (within 3 dot radii of its head) join its
    body as they are; a lone dot on its r-ear read as the l-eye (which the body holds) joins as the r-ear.
    The other person's head dots stay with it, and a piece by no body's head stays apart."""
    image, (first, second) = scene(seed, 2, 0.5, jpeg=75)
    redraw = Redraw(image, 0.5)
    body = first.copy()
    body[[14, 16]] = np.nan
    joined = join_head_pieces(redraw, [body, pieces(first, [14, 16]), second], redraw.radius)
    assert len(joined) == 2 and np.array_equal(joined[0], first, equal_nan=True)
    assert np.array_equal(joined[1], second, equal_nan=True)
    body = first.copy()
    body[16] = np.nan
    lone = np.full_like(first, np.nan)
    lone[15] = first[16]
    assert np.array_equal(join_head_pieces(redraw, [body, lone], redraw.radius)[0], first, equal_nan=True)
    far = np.full_like(first, np.nan)
    far[[14, 16]] = first[[14, 16]] + (0.0, 40.0)
    assert len(join_head_pieces(redraw, [first, far], redraw.radius)) == 2


@pytest.mark.parametrize("seed", [2, 12, 20])
def test_a_head_read_apart_from_its_neck_joins_it_where_the_neck_stick_shows_the_nose(seed):
    """Two people. One's head read as two pieces apart from its neck (beyond a head piece's reach), its nose
    and l-ear taking each other's labels: the pieces join the neck under the true labels. A head whose nose is
    read twice by its l-eye (a hidden nose's place taken by a dot of the head) does not join; nor does a head
    far from the neck. A neck holding some of its head's dots (the ears) takes the piece with the rest too."""
    image, (first, second) = scene(seed, 2, 0.5, jpeg=75)
    redraw = Redraw(image, 0.5)
    neck = first.copy()
    neck[HEAD] = np.nan
    swapped = pieces(first, [0, 17])
    swapped[[0, 17]] = first[[17, 0]]
    bodies = [neck, swapped, pieces(first, [14, 15, 16]), second]
    joined = join_heads_to_necks(redraw, bodies, NO_HANDS, hidden_nose=True)
    assert len(joined) == 2 and np.array_equal(joined[0], first, equal_nan=True)
    assert np.array_equal(joined[1], second, equal_nan=True)
    twice = pieces(first, [15, 16, 17])
    twice[0] = first[15] + 0.3
    assert len(join_heads_to_necks(redraw, [neck, twice, pieces(first, [14])], NO_HANDS, hidden_nose=True)) == 3
    far = pieces(first, HEAD)
    far[HEAD] += (0.0, 80.0)
    assert len(join_heads_to_necks(redraw, [neck, far, second], NO_HANDS, hidden_nose=True)) == 3
    eyes_apart = first.copy()
    eyes_apart[[0, 14, 15]] = np.nan
    whole = join_heads_to_necks(redraw, [eyes_apart, pieces(first, [0, 14, 15])], NO_HANDS, hidden_nose=True)
    assert len(whole) == 1 and np.array_equal(whole[0], first, equal_nan=True)
