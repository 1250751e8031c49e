"""Proportion retargeting: bone lengths become the reference's, directions stay the target's, sequences use one
robust set of scales, anchoring, height matching, carried hands/face/feet, missing joints and overrides."""
import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from openpose_core.pose import Keypoint, Person, PoseFrame
from openpose_core.retarget import BONES, retarget

ADULT = dict(neck=40, right_eye=15, left_eye=15, right_ear=20, left_ear=20, right_shoulder=60, left_shoulder=60,
             right_upper_arm=80, left_upper_arm=80, right_forearm=70, left_forearm=70, right_torso=150,
             left_torso=150, right_thigh=120, left_thigh=120, right_shin=110, left_shin=110)
CHILD = dict(neck=35, right_eye=14, left_eye=14, right_ear=18, left_ear=18, right_shoulder=40, left_shoulder=40,
             right_upper_arm=45, left_upper_arm=46, right_forearm=40, left_forearm=41, right_torso=90,
             left_torso=92, right_thigh=65, left_thigh=66, right_shin=60, left_shin=61)
STANDING = dict(neck=-90, right_eye=-135, left_eye=-45, right_ear=180, left_ear=0, right_shoulder=180,
                left_shoulder=0, right_upper_arm=100, left_upper_arm=80, right_forearm=95, left_forearm=85,
                right_torso=95, left_torso=85, right_thigh=92, left_thigh=88, right_shin=90, left_shin=90)
"""Bone directions in degrees on screen (0 = right, 90 = down)."""
NAMES = [name for name, _, _ in BONES]


def build(lengths, angles, neck=(400.0, 200.0), palm=None, face=None, feet=False):
    """A person built bone by bone from the neck; optional hands (palm size), face (size) and BODY_25 feet."""
    xy = {1: np.array(neck, dtype=float)}
    for name, parent, child in BONES:
        angle = np.deg2rad(angles[name])
        xy[child] = xy[parent] + lengths[name] * np.array([np.cos(angle), np.sin(angle)])
    person = Person(body=[Keypoint(*xy[i], 0.5 + i / 40) for i in range(18)])
    if palm:
        spread = np.array([[0, 0]] + [[np.cos(a), np.sin(a)] for a in np.linspace(1.2, 2.0, 20)])
        reach = np.array([0] + [1.0, 1.4, 1.7, 1.9] * 5)[:, None]
        for side, wrist in (("right_hand", 4), ("left_hand", 7)):
            setattr(person, side, [Keypoint(*(xy[wrist] + palm * r * d), 0.8) for r, d in zip(reach, spread)])
    if face:
        offsets = np.random.default_rng(0).normal(size=(70, 2))
        offsets[30] = 0  # nose tip on the body's nose
        person.face = [Keypoint(*(xy[0] + face * o), 0.7) for o in offsets]
    if feet:
        person.feet = [Keypoint(*(xy[ankle] + d), 0.6) for ankle in (13, 10) for d in ((12, 8), (6, 9), (-4, 5))]
    return person


def frame_of(*people, width=1024, height=768):
    return PoseFrame(list(people), width, height)


def body_xy(person):
    return np.array([[np.nan, np.nan] if p is None else p[:2] for p in person.body])


def bone_vectors(person):
    xy = body_xy(person)
    return {name: xy[child] - xy[parent] for name, parent, child in BONES}


def lengths_of(person):
    return {name: float(np.linalg.norm(v)) for name, v in bone_vectors(person).items()}


def assert_directions_kept(result, target):
    for name, got in bone_vectors(result).items():
        want = bone_vectors(target)[name]
        np.testing.assert_allclose(got / np.linalg.norm(got), want / np.linalg.norm(want), atol=1e-9, err_msg=name)


def pose(seed):
    """Standing angles jittered by up to 40 degrees: a random but human-like pose."""
    rng = np.random.default_rng(seed)
    return {name: angle + rng.uniform(-40, 40) for name, angle in STANDING.items()}


# -- the core contract --------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_bones_take_reference_lengths_and_keep_target_directions(seed):
    rng = np.random.default_rng(seed)
    reference_lengths = {name: length * rng.uniform(0.4, 1.6) for name, length in ADULT.items()}
    target = frame_of(build(ADULT, pose(seed)))
    result = retarget(build(reference_lengths, pose(seed + 1)), target).frames[0].people[0]
    for name, length in lengths_of(result).items():
        assert length == pytest.approx(reference_lengths[name], rel=1e-6), name
    assert_directions_kept(result, target.people[0])
    assert result.body[1] == target.people[0].body[1]  # anchored at the neck
    assert [p.confidence for p in result.body] == [p.confidence for p in target.people[0].body]


@pytest.mark.parametrize("height", ["reference", "target"])
@pytest.mark.parametrize("anchor", ["neck", "feet"])
def test_identity_when_reference_is_target(height, anchor):
    person = build(ADULT, pose(3), palm=20, face=6, feet=True)
    target = frame_of(person, build(CHILD, pose(4)))
    result = retarget(person, target, height=height, anchor=anchor)
    assert result.frames == [target]
    assert all(scale == 1.0 for scale in result.report.scales.values())
    assert set(result.report.sources.values()) == {"measured", "from left_shin", "from right_shin"}


# -- sequences ----------------------------------------------------------------------------------------------

def dancer_sequence(foreshortened=None):
    """Six frames of the adult in different poses; in frame ``foreshortened`` the right forearm and left thigh
    point at the camera and look 40% as long."""
    frames = []
    for index in range(6):
        lengths = dict(ADULT)
        if index == foreshortened:
            lengths.update(right_forearm=0.4 * ADULT["right_forearm"], left_thigh=0.4 * ADULT["left_thigh"])
        frames.append(frame_of(build(lengths, pose(100 + index), neck=(300 + 20 * index, 200))))
    return frames


def test_one_foreshortened_frame_does_not_change_the_sequence_scales():
    character = build(CHILD, STANDING)
    clean = retarget(character, dancer_sequence())
    shortened = retarget(character, dancer_sequence(foreshortened=2))
    assert shortened.report.scales == pytest.approx(clean.report.scales, rel=1e-12)
    assert shortened.report.scales["right_forearm"] == pytest.approx(CHILD["right_forearm"] / ADULT["right_forearm"])
    single = retarget(character, dancer_sequence(foreshortened=2)[2])  # what a one-frame aligner would use
    assert single.report.scales["right_forearm"] == pytest.approx(2.5 * clean.report.scales["right_forearm"])
    for index, frame in enumerate(shortened.frames):
        got = lengths_of(frame.people[0])
        assert got["right_shin"] == pytest.approx(CHILD["right_shin"], rel=1e-9)
        expected = CHILD["right_forearm"] * (0.4 if index == 2 else 1.0)  # the frame keeps its foreshortening
        assert got["right_forearm"] == pytest.approx(expected, rel=1e-9)


def test_feet_anchor_keeps_the_lowest_ankle_on_each_frames_ground_line():
    frames = dancer_sequence()
    frames[3] = frame_of(build(ADULT, dict(STANDING, right_thigh=20, right_shin=100), neck=(500, 150)))  # a kick
    for height in ("reference", "target"):
        result = retarget(build(CHILD, STANDING), frames, anchor="feet", height=height)
        for before, after in zip(frames, result.frames):
            ground = max(before.people[0].body[10].y, before.people[0].body[13].y)
            assert max(after.people[0].body[10].y, after.people[0].body[13].y) == pytest.approx(ground, abs=1e-9)
            assert after.people[0].body[1].x == pytest.approx(before.people[0].body[1].x)
        assert result.report.unanchored_frames == []


def test_feet_anchor_without_ankles_falls_back_to_the_neck():
    person = build(ADULT, STANDING)
    person.body[10] = person.body[13] = None
    result = retarget(build(CHILD, STANDING), frame_of(person), anchor="feet")
    assert result.report.unanchored_frames == [0]
    assert result.frames[0].people[0].body[1] == person.body[1]


def standing_height(lengths):
    return lengths["neck"] + sum((lengths["right_" + b] + lengths["left_" + b]) / 2 for b in ("torso", "thigh", "shin"))


def test_height_target_keeps_the_target_height_with_reference_proportions():
    result = retarget(build(CHILD, STANDING), frame_of(build(ADULT, pose(9))), height="target")
    got = lengths_of(result.frames[0].people[0])
    assert standing_height(got) == pytest.approx(standing_height(ADULT), rel=1e-9)
    ratios = [got[name] / CHILD[name] for name in NAMES]
    assert ratios == pytest.approx([result.report.height_factor] * len(NAMES), rel=1e-9)
    assert result.report.height_factor == pytest.approx(standing_height(ADULT) / standing_height(CHILD))


@pytest.mark.parametrize("missing_joint,kept", [(6, ("left_upper_arm", "left_forearm")),
                                                 (9, ("right_thigh", "right_shin"))])
def test_height_target_leaves_kept_bones_at_the_target_length(missing_joint, kept):
    """A bone the reference lacks keeps the target's length also when the figure is brought to the target's
    height; when it is part of the height (a leg), the rescaled bones make up the rest."""
    reference = build(CHILD, STANDING)
    reference.body[missing_joint] = None
    result = retarget(reference, frame_of(build(ADULT, pose(5))), height="target")
    report, got = result.report, lengths_of(result.frames[0].people[0])
    assert set(report.kept) == set(kept)
    for name in NAMES:
        expected = ADULT[name] if name in kept else CHILD[name] * report.height_factor
        assert got[name] == pytest.approx(expected, rel=1e-9), name
        assert report.scales[name] == pytest.approx(got[name] / ADULT[name], rel=1e-9), name
    assert standing_height(got) == pytest.approx(standing_height(ADULT), rel=1e-9)


# -- carried parts ------------------------------------------------------------------------------------------

def test_hands_face_and_feet_move_with_their_joints_and_take_the_reference_size():
    target = build(ADULT, pose(11), palm=30, face=8, feet=True)
    reference = build(CHILD, STANDING, palm=18, face=6)
    result = retarget(reference, frame_of(target)).frames[0].people[0]
    scales = retarget(reference, frame_of(target)).report.scales
    assert scales["right_hand"] == pytest.approx(18 / 30) and scales["face"] == pytest.approx(6 / 8)
    assert scales["left_foot"] == pytest.approx(CHILD["left_shin"] / ADULT["left_shin"])

    def check(points, old_points, joint, old_joint, factor):
        offsets = np.array([p[:2] for p in points]) - np.array(joint[:2])
        old_offsets = np.array([p[:2] for p in old_points]) - np.array(old_joint[:2])
        np.testing.assert_allclose(offsets, factor * old_offsets, atol=1e-9)

    check(result.right_hand, target.right_hand, result.body[4], target.body[4], 18 / 30)
    check(result.left_hand, target.left_hand, result.body[7], target.body[7], 18 / 30)
    check(result.face, target.face, result.body[0], target.body[0], 6 / 8)
    check(result.feet[:3], target.feet[:3], result.body[13], target.body[13], scales["left_foot"])
    check(result.feet[3:], target.feet[3:], result.body[10], target.body[10], scales["right_foot"])


def test_hands_follow_the_forearm_when_the_reference_has_no_hands():
    result = retarget(build(CHILD, STANDING), frame_of(build(ADULT, STANDING, palm=30)))
    report = result.report
    assert report.sources["left_hand"] == "from left_forearm"
    assert report.scales["left_hand"] == pytest.approx(CHILD["left_forearm"] / ADULT["left_forearm"])
    assert "face" not in report.scales and "right_foot" not in report.sources  # the target has neither


def collapse_right_hand(person):
    wrist = person.body[4]
    person.right_hand = [Keypoint(wrist.x, wrist.y, 0.5)] * 21


def keep_jaw_and_nose_tip(person):
    person.face = [point if index <= 16 or index == 30 else None for index, point in enumerate(person.face)]


HEAD = ("right_eye", "left_eye", "right_ear", "left_ear")


@pytest.mark.parametrize("spoil,part,joint,bones", [(collapse_right_hand, "right_hand", 4, ("right_forearm",)),
                                                    (keep_jaw_and_nose_tip, "face", 0, HEAD)])
@pytest.mark.parametrize("spoiled", ["target", "reference"])
def test_a_part_without_a_size_follows_its_bones(spoil, part, joint, bones, spoiled):
    """A hand collapsed onto its wrist, or a face with one point of the brows, eyes and nose, has size 0: no ratio
    to take (it would be 0 or infinite), so the part takes its bones' scale, as one without points would."""
    reference = build(CHILD, STANDING, palm=12, face=4)
    target = build(ADULT, pose(5), palm=20, face=6)
    spoil(reference if spoiled == "reference" else target)
    result = retarget(reference, frame_of(target))
    factor = np.mean([CHILD[bone] / ADULT[bone] for bone in bones])
    assert result.report.sources[part] == "from " + ", ".join(bones)
    assert result.report.scales[part] == pytest.approx(factor)
    after = result.frames[0].people[0]
    old, new = getattr(target, part), getattr(after, part)
    assert [point is None for point in new] == [point is None for point in old]
    offsets = np.array([point[:2] for point in new if point is not None]) - np.array(after.body[joint][:2])
    old_offsets = np.array([point[:2] for point in old if point is not None]) - np.array(target.body[joint][:2])
    np.testing.assert_allclose(offsets, factor * old_offsets, atol=1e-9)


# -- missing joints, overrides, selection -------------------------------------------------------------------

def test_missing_joints_keep_their_bones_and_are_reported():
    reference = build(CHILD, STANDING)
    reference.body[6] = None  # no left elbow in the character
    frames = dancer_sequence()
    frames[1].people[0].body[9] = None  # no right knee in one target frame
    result = retarget(reference, frames)
    report = result.report
    assert report.kept == {"left_upper_arm": "missing in reference", "left_forearm": "missing in reference"}
    assert "left_upper_arm" not in report.scaled and "right_thigh" in report.scaled
    assert report.missing == {"right_thigh": [1], "right_shin": [1]}
    for before, after in zip(frames, result.frames):
        assert lengths_of(after.people[0])["left_forearm"] == pytest.approx(ADULT["left_forearm"])
    ankle_shift = np.subtract(result.frames[1].people[0].body[10][:2], frames[1].people[0].body[10][:2])
    hip_shift = np.subtract(result.frames[1].people[0].body[8][:2], frames[1].people[0].body[8][:2])
    np.testing.assert_allclose(ankle_shift, hip_shift, atol=1e-9)  # the lower leg rides with the hip
    assert result.frames[1].people[0].body[9] is None


def test_overrides_replace_scales_and_work_without_a_reference():
    target = frame_of(build(ADULT, pose(5)))
    result = retarget(None, target, overrides={"thigh": 1.5, "right_thigh": 2.0})
    got = lengths_of(result.frames[0].people[0])
    assert got["right_thigh"] == pytest.approx(2.0 * ADULT["right_thigh"])
    assert got["left_thigh"] == pytest.approx(1.5 * ADULT["left_thigh"])
    assert got["right_shin"] == pytest.approx(ADULT["right_shin"])
    assert result.report.sources["left_thigh"] == "override"
    assert_directions_kept(result.frames[0].people[0], target.people[0])
    with pytest.raises(ValueError, match="elbow"):
        retarget(None, target, overrides={"elbow": 2.0})
    # a NaN factor would drop the joints below the bone, 0 or less fold it back: refused
    for factor, problem in ((float("nan"), "a finite number"), ("big", "a finite number"), (0.0, "a positive factor"),
                            (-1.0, "a positive factor")):
        with pytest.raises(ValueError, match=rf"^override 'thigh' must be {problem}, got"):
            retarget(None, target, overrides={"thigh": factor})
    with pytest.raises(ValueError):
        retarget(None, target, anchor="hips")


def test_only_the_chosen_person_changes_and_absent_frames_are_reported():
    bystander = build(ADULT, STANDING, neck=(800, 200))
    frames = [frame_of(bystander, build(ADULT, pose(1))), frame_of(bystander)]
    reference = frame_of(build(CHILD, STANDING), build(ADULT, STANDING))
    result = retarget(reference, frames, target_person=1)
    assert result.frames[0].people[0] == bystander and result.frames[1] == frames[1]
    assert lengths_of(result.frames[0].people[1])["right_shin"] == pytest.approx(CHILD["right_shin"])
    assert result.report.frames_without_person == [1]
    assert retarget(reference, frames[0], reference_person=1).frames[0] == frames[0]


def test_target_id_follows_the_person_whose_place_in_the_list_changes():
    """In a tracked video the dancer (id 7) is listed first, then second: target_id retargets them in every
    frame and leaves the bystander (id 3) alone; frames without the dancer are reported."""
    dancer = [build(ADULT, pose(seed), neck=(300, 200)) for seed in range(3)]
    bystander = build(ADULT, STANDING, neck=(800, 200))
    for person in dancer:
        person.person_id = 7
    bystander.person_id = 3
    frames = [frame_of(dancer[0], bystander), frame_of(bystander, dancer[1]), frame_of(bystander), frame_of(dancer[2])]
    result = retarget(build(CHILD, STANDING), frames, target_id=7)
    where = [0, 1, None, 0]
    for frame, index, original in zip(result.frames, where, frames):
        for k, person in enumerate(frame.people):
            if k == index:
                assert person.person_id == 7
                assert lengths_of(person)["right_forearm"] == pytest.approx(CHILD["right_forearm"])
            else:
                assert person == original.people[k]
    assert result.report.frames_without_person == [2]


def test_a_missing_reference_person_or_a_bad_percentile_is_a_value_error():
    target = frame_of(build(ADULT, STANDING))
    with pytest.raises(ValueError, match=r"^reference_person: no person 0 in the reference frame \(it has 0\)"):
        retarget(frame_of(), target)
    with pytest.raises(ValueError, match=r"^reference_person: no person -2 in the reference frame \(it has 1\)"):
        retarget(frame_of(build(CHILD, STANDING)), target, reference_person=-2)
    for percentile in (150, float("nan")):
        with pytest.raises(ValueError, match=r"^percentile must be within \[0, 100\], got"):
            retarget(None, target, percentile=percentile)


def test_retarget_never_changes_its_inputs():
    reference = build(CHILD, STANDING, palm=10, face=5)
    frames = [frame_of(build(ADULT, pose(i), palm=20, face=8, feet=True)) for i in range(3)]
    before = copy.deepcopy((reference, frames))
    result = retarget(reference, frames, height="target", anchor="feet")
    result.frames[0].people[0].body[0] = None
    result.frames[0].people[0].left_hand[0] = None
    assert (reference, frames) == before
