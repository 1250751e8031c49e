"""Pose JSON reading, validation and writing (openpose_core.formats), over the corpus in tests/data.

The property and fuzz tests run OPENPOSE_FUZZ_EXAMPLES examples each (200 by default, a few seconds).
For a long fuzz run:  OPENPOSE_FUZZ_EXAMPLES=20000 python -m pytest tests/test_formats.py -k "property or fuzz"
"""
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from openpose_core import formats
from openpose_core.formats import (
    PoseFormatError, PoseFormatWarning, frame_to_dict, frames_to_json, read_pose, read_poses, write_poses,
)
from openpose_core.pose import Keypoint, Person, PoseFrame, array_to_points, points_to_array

DATA = Path(__file__).parent / "data"
PARTS = ("body", "left_hand", "right_hand", "face", "feet")
FUZZ = settings(max_examples=int(os.environ.get("OPENPOSE_FUZZ_EXAMPLES", "200")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CMU_CANVAS = (640, 480)
VALID = {  # corpus file -> read options
    "cmu_body25.json": {"canvas": CMU_CANVAS},
    "cmu_coco18.json": {"canvas": CMU_CANVAS},
    "webui_animals.json": {},
    "comfy_pose_keypoint.json": {},
    "editor_pixels.json": {},
    "pose_keypoint_dict.json": {},
    "mixed_small_array.json": {},
    "animalpose_ap10k.json": {},
}


def read(name, **options):
    return read_poses(DATA / name, notes=[], **options)


def canonical(frame, confidence="score", layout="body25"):
    """What a frame should read back as after writing in the given style."""
    def part(points):
        if points is None or all(point is None for point in points):
            return None
        return [None if p is None else Keypoint(p.x, p.y, 1.0 if confidence == "visibility" else p.confidence)
                for p in points]

    people = [Person(body=part(person.body) or [None] * 18, left_hand=part(person.left_hand),
                     right_hand=part(person.right_hand), face=part(person.face),
                     feet=part(person.feet) if layout == "body25" else None,
                     person_id=person.person_id if person.person_id != -1 else None)
              for person in frame.people]
    return PoseFrame(people, frame.width, frame.height)


def assert_frames_close(actual, expected, tolerance=1e-9):
    """Same people, parts and missing points; positions within ``tolerance`` x canvas (float rounding)."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert (got.width, got.height) == (want.width, want.height)
        assert len(got.people) == len(want.people)
        for person, other in zip(got.people, want.people):
            assert person.person_id == other.person_id
            for name in PARTS:
                mine, theirs = getattr(person, name), getattr(other, name)
                assert (mine is None) == (theirs is None), name
                if mine is None:
                    continue
                assert len(mine) == len(theirs), name
                a, b = points_to_array(mine, len(mine)), points_to_array(theirs, len(theirs))
                assert np.array_equal(np.isnan(a), np.isnan(b)), name
                slack = [tolerance * got.width, tolerance * got.height, 1e-12]
                assert (np.abs(a - b)[~np.isnan(a)].reshape(-1, 3) <= slack).all(), name


def at(x, y, confidence=1.0):
    """A point read from normalised values: equal up to float rounding."""
    return pytest.approx((x, y, confidence), rel=1e-12)


# --- dialects: expected values -----------------------------------------------------------------


def test_cmu_body25_maps_to_coco18_and_keeps_feet():
    notes = []
    frame = read_pose(DATA / "cmu_body25.json", canvas=CMU_CANVAS, notes=notes)
    assert notes == [] and (frame.width, frame.height) == CMU_CANVAS and len(frame.people) == 2
    first, second = frame.people
    assert first.body[8] == Keypoint(295, 270, 0.77)     # RHip = BODY_25 9: MidHip (8) is dropped
    assert first.body[11] == Keypoint(345, 270, 0.78)    # LHip = BODY_25 12
    assert first.body[13] == Keypoint(350, 430, 0.66)    # LAnkle = BODY_25 14
    assert first.body[14] == Keypoint(310, 90, 0.93)     # REye = BODY_25 15
    assert first.body[16] is None                        # REar (BODY_25 17) has confidence 0
    assert first.body[17] == Keypoint(342, 95, 0.61)     # LEar = BODY_25 18
    assert all(point is None or (point.x, point.y) != (320, 270) for point in first.body)
    assert first.feet == [Keypoint(360, 445, 0.55), Keypoint(366, 442, 0.52), Keypoint(345, 440, 0.58),
                          Keypoint(280, 445, 0.57), None, Keypoint(295, 440, 0.6)]
    assert first.person_id is None and first.face is first.left_hand is first.right_hand is None  # [-1], []
    assert second.person_id == 7 and second.feet is None  # all six feet 0,0,0
    assert len(second.face) == 70 and second.face[0].confidence == 0.4
    assert second.left_hand[20] is None and second.left_hand[0].confidence == 0.3  # real confidences kept
    assert second.body[0].confidence == 0.35                                        # < 1 is not "missing"


def test_cmu_body25_mid_hip_is_not_kept_but_written_as_the_hips_mean():
    """Person has no place for MidHip, which CMU detects as a part of its own: writing BODY_25 recomputes it
    from the hips (documented in formats; keeping it needs a Person field)."""
    document = json.loads((DATA / "cmu_body25.json").read_text())
    body = document["people"][0]["pose_keypoints_2d"]

    def written_mid_hip():
        frame = read_pose(document, canvas=CMU_CANVAS)
        return frame_to_dict(frame, layout="auto", confidence="score")["people"][0]["pose_keypoints_2d"][24:27]

    body[24:27] = [322.0, 275.0, 0.9]               # read: off the hips' mean (320, 270)
    assert written_mid_hip() == [320.0, 270.0, 0.77]
    body[38] = 0.0                                  # left hip (BODY_25 12) missing
    assert written_mid_hip() == [0, 0, 0]


def test_cmu_coco18_ignores_3d_and_candidates():
    frame = read_pose(DATA / "cmu_coco18.json", canvas=CMU_CANVAS, notes=[])
    body = frame.people[0].body
    assert body[0] == Keypoint(320, 100, 0.5) and body[17] == Keypoint(342, 95, 0.925)
    assert body[16] is None and frame.people[0].feet is None


def test_cmu_without_canvas_uses_the_points_extent_and_says_so():
    notes = []
    frame = read_pose(DATA / "cmu_body25.json", notes=notes)
    points = [p for person in frame.people for part in PARTS for p in getattr(person, part) or () if p is not None]
    assert frame.width == math.floor(max(p.x for p in points)) + 1
    assert frame.height == math.floor(max(p.y for p in points)) + 1
    assert len(notes) == 1 and f"{frame.width}x{frame.height}" in notes[0] and "canvas=(width, height)" in notes[0]
    with pytest.warns(PoseFormatWarning, match="extent"):
        read_pose(DATA / "cmu_body25.json")


def cmu_folder(tmp_path, count: int, name="clip_{:d}_keypoints.json"):
    """A folder as CMU OpenPose writes a video: one file per frame, frame k's body moved right by k px."""
    document = json.loads((DATA / "cmu_body25.json").read_text())
    folder = tmp_path / "clip"
    folder.mkdir()
    for frame in range(count):
        for person in document["people"]:
            person["pose_keypoints_2d"] = [value + (1 if index % 3 == 0 and value else 0)
                                           for index, value in enumerate(person["pose_keypoints_2d"])]
        (folder / name.format(frame)).write_text(json.dumps(document))
    return folder


def test_a_folder_of_cmu_frames_reads_as_one_sequence_in_natural_order(tmp_path):
    folder = cmu_folder(tmp_path, 12)
    (folder / "notes.txt").write_text("not a frame")
    notes = []
    frames = read_poses(folder, notes=notes)
    shifts = [frame.people[0].body[1].x - frames[0].people[0].body[1].x for frame in frames]
    assert shifts == list(range(12))                                          # clip_2 before clip_10
    # one canvas for the whole sequence: the extent over all frames, said once
    assert len({(frame.width, frame.height) for frame in frames}) == 1 and len(notes) == 1 and "12 frame" in notes[0]
    assert read_poses(folder, canvas=CMU_CANVAS)[5].people[1].person_id == 7


def test_a_folder_names_the_file_that_is_broken(tmp_path):
    folder = cmu_folder(tmp_path, 3)
    (folder / "clip_1_keypoints.json").write_text("{oops")
    with pytest.raises(PoseFormatError, match=r"^clip_1_keypoints\.json: not valid JSON"):
        read_poses(folder, canvas=CMU_CANVAS)
    notes = []
    frames = read_poses(folder, strict=False, notes=notes)
    # the broken file keeps its slot: an empty frame with the canvas the others have (their points' extent)
    assert [len(frame.people) for frame in frames] == [2, 0, 2]
    assert frames[2].people[0].body[1].x - frames[0].people[0].body[1].x == 2
    assert len({(frame.width, frame.height) for frame in frames}) == 1
    assert notes[0] == ("clip_1_keypoints.json: not valid JSON: Expecting property name enclosed in double quotes: "
                        "line 1 column 2 (char 1) (replaced clip_1_keypoints.json by an empty frame)")
    assert "2 frame(s) without canvas_width/canvas_height" in notes[1]
    (folder / "clip_1_keypoints.json").write_text("[]")
    with pytest.raises(PoseFormatError, match=r"^clip_1_keypoints\.json: expected one pose object per file"):
        read_poses(folder, canvas=CMU_CANVAS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PoseFormatError, match="holds no .json files"):
        read_poses(tmp_path / "empty")


def test_webui_normalised_padded_canvas_animals_and_213_value_face():
    notes = []
    person = read_pose(DATA / "webui_animals.json", notes=notes).people[0]
    assert notes == ["animals: 1 ignored (openpose-core has no animal poses)"]
    assert person.body[0] == at(256, 110)                     # 0.5 x 512, 0.19097 x 576
    assert person.body[16] is None and person.body[17] is None
    assert len(person.face) == 70                              # 71st (background) point dropped
    assert all(p is None or (p.x, p.y) != pytest.approx((30, 500), abs=1) for p in person.face)
    assert person.face[0] is None and person.face[16] is None  # (-1/W, -1/H, 1): the reference's missing code
    assert person.face[1].x == pytest.approx(256 - 20 * 0.6 + 40 * 0.6 / 16, abs=1e-4)
    assert person.left_hand[4] is None and person.left_hand[8] is None and person.left_hand[0] is not None
    assert person.right_hand is None


def test_comfy_pose_keypoint_list_keeps_the_padding_drift_of_its_producer():
    frames = read("comfy_pose_keypoint.json")
    assert [len(frame.people) for frame in frames] == [1, 2, 0]
    assert all((frame.width, frame.height) == (512, 680) for frame in frames)
    person = frames[0].people[0]
    # normalised by the padded 512x704 but labelled 512x680: read relative to the given canvas
    assert person.body[0] == at(250, 120 * 680 / 704)
    assert person.right_hand is None              # every point (-1/512, -1/704, 1)
    assert person.face[69] is None and person.face[68] is not None and len(person.face) == 70
    assert person.body[14] is None
    fixed = read("comfy_pose_keypoint.json", canvas=(512, 704))[0].people[0]
    assert fixed.body[0] == at(250, 120)


def test_editor_pixels_are_kept_and_invisible_points_are_missing():
    frame = read_pose(DATA / "editor_pixels.json")
    person = frame.people[0]
    assert (frame.width, frame.height) == (512, 768)
    assert person.body[0] == Keypoint(250, 160, 1.0) and person.body[9] == Keypoint(205.2, 560, 1.0)
    assert person.body[14] is None and person.body[16] is None
    assert person.left_hand[0] == Keypoint(360, 425, 1.0)
    assert person.right_hand is None and person.face is None  # keys omitted by the editor


def test_one_dict_pose_keypoint():
    frame = read_pose(DATA / "pose_keypoint_dict.json")
    assert (frame.width, frame.height) == (768, 512) and len(frame.people) == 2
    assert frame.people[0].face[0] == Keypoint(284, 60, 1.0) and frame.people[1].body[0] is None
    assert len(read_poses(DATA / "pose_keypoint_dict.json")) == 1


def test_animalpose_document_reads_as_an_empty_frame_with_a_note():
    notes = []
    assert read_poses(DATA / "animalpose_ap10k.json", notes=notes) == [PoseFrame([], 512, 512)]
    assert notes and "animals" in notes[0]


# --- pixels vs normalised ----------------------------------------------------------------------


def test_one_small_array_among_pixels_stays_in_pixels():
    person = read_pose(DATA / "mixed_small_array.json").people[0]
    assert person.left_hand[0] == Keypoint(0.1, 0.2, 1.0)
    assert person.body[0] == Keypoint(256, 90, 1.0)


def document(*bodies, canvas=(100, 200)):
    """A frame dict whose people have the given body (x, y) lists (c = 1, other points missing)."""
    def body(points):
        flat = [value for x, y in points for value in (x, y, 1.0)]
        return flat + [0.0] * (54 - len(flat))
    return {"people": [{"pose_keypoints_2d": body(points)} for points in bodies],
            "canvas_width": canvas[0], "canvas_height": canvas[1]}


def test_decision_is_per_document_across_frames():
    frames = read_poses([document([(50, 60)]), document([(0.5, 0.25)])])
    assert frames[1].people[0].body[0] == Keypoint(0.5, 0.25, 1.0)
    frames = read_poses([document([(0.5, 0.25)]), document([(0.1, 0.9)])])
    assert frames[1].people[0].body[0] == at(10, 180)


def test_points_dragged_off_a_normalised_canvas_keep_it_normalised():
    assert read_pose(document([(1.11, 0.5), (-0.2, 1.9)])).people[0].body[0] == at(111, 100)
    assert read_pose(document([(2.5, 0.5)])).people[0].body[0] == Keypoint(2.5, 0.5, 1.0)


def test_explicit_coordinates_override_the_guess():
    raw = read_pose(DATA / "webui_animals.json", coordinates="pixels", notes=[]).people[0]
    assert raw.body[0] == Keypoint(0.5, 110 / 576, 1.0)
    scaled = read_pose(document([(2.5, 0.5)]), coordinates="normalized").people[0]
    assert scaled.body[0] == at(250, 100)


def test_normalised_document_without_canvas_needs_one():
    cmu = {"version": 1.3, "people": [{"pose_keypoints_2d": [0.5, 0.5, 0.9] * 18}]}
    with pytest.raises(PoseFormatError, match=r"^document: no canvas size and normalised coordinates: pass canvas="):
        read_pose(cmu)
    assert read_pose(cmu, canvas=(640, 480)).people[0].body[3] == at(320, 240, 0.9)
    with pytest.raises(PoseFormatError, match=r"^frames\[0\]: no canvas size and no point to measure one from"):
        read_poses([{"version": 1.3, "people": []}])


def hand_document(point, canvas=(512, 576)):
    hand = list(point) + [0.0] * 60
    return {"people": [{"pose_keypoints_2d": [0.5, 0.5, 1.0] * 18, "hand_left_keypoints_2d": hand}],
            "canvas_width": canvas[0], "canvas_height": canvas[1]}


@pytest.mark.parametrize("point, missing", [
    ((-1 / 512, -1 / 576, 1.0), True),
    ((-1 / 560, -1 / 640, 1.0), True),         # normalised by a larger (padded) size
    ((-1 / 512, 0.5, 1.0), False),             # x only: a real point just left of the frame
    ((0.5, -1 / 576, 1.0), False),
    ((-1 / 512, 0.5, 0.9), False),             # a real confidence: a real point
    ((-1.5 / 512, 0.5, 1.0), False),           # more than a pixel outside
    ((0.0, 0.5, 1.0), False),
    ((0.3, 0.5, 0.0), True),                   # confidence 0
])
def test_reference_missing_hand_code(point, missing):
    hand = read_pose(hand_document(point)).people[0].left_hand
    assert hand is None if missing else hand[0] is not None


def test_real_hand_point_just_left_of_the_frame_survives_a_normalised_round_trip():
    hand = [Keypoint(100.0 + index, 100.0) for index in range(21)]
    hand[3] = Keypoint(-0.5, 300.0)
    frame = PoseFrame([Person(body=[Keypoint(100.0, 100.0)] * 18, left_hand=hand)], 512, 512)
    for coordinates in ("auto", "normalized"):
        again = read_pose(frames_to_json(frame, coordinates="normalized"), coordinates=coordinates)
        assert again.people[0].left_hand[3] == at(-0.5, 300.0)


def test_reference_missing_code_applies_only_to_normalised_documents():
    pixels = hand_document((-1.0, -1.0, 1.0))
    pixels["people"][0]["pose_keypoints_2d"] = [100, 100, 1.0] * 18
    assert read_pose(pixels).people[0].left_hand[0] == Keypoint(-1, -1, 1.0)


def test_nested_triplets_are_read_like_flat_arrays():
    flat = document([(10, 20), (30, 40)])
    nested = json.loads(json.dumps(flat))
    values = nested["people"][0]["pose_keypoints_2d"]
    nested["people"][0]["pose_keypoints_2d"] = [values[i:i + 3] for i in range(0, 54, 3)]
    assert read_pose(nested) == read_pose(flat)


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, message", [
    ("malformed_hand_length.json", "people[2].hand_left_keypoints_2d: 62 values, expected 63"),
    ("malformed_canvas_string.json", "canvas_width: expected a number, got a string"),
    ("malformed_old_cmu_keys.json", "people[0]: no 'pose_keypoints_2d': not an OpenPose person"),
    ("malformed_person_is_array.json", "people[1]: expected a person object, got a list"),
    ("malformed_several.json", "frames[1].people[0].pose_keypoints_2d[4]: not a finite number (nan)"),
])
def test_malformed_corpus_names_the_place(name, message):
    with pytest.raises(PoseFormatError) as caught:
        read_poses(DATA / name)
    assert str(caught.value) == message


def test_truncated_json():
    with pytest.raises(PoseFormatError, match=r"^document: not valid JSON: "):
        read_poses(DATA / "malformed_truncated.json")


def person_with(**parts):
    return {"people": [{"pose_keypoints_2d": [1.0, 2.0, 1.0] * 18, **parts}], "canvas_width": 8, "canvas_height": 8}


@pytest.mark.parametrize("source, message", [
    (person_with(face_keypoints_2d=[0.0] * 207), "people[0].face_keypoints_2d: 207 values, expected 210 or 213"),
    ([person_with(), person_with(hand_right_keypoints_2d=[[1, 2, 1]] * 20)],
     "frames[1].people[0].hand_right_keypoints_2d: 20 points, expected 21"),
    (person_with(hand_right_keypoints_2d=[[1, 2, 1]] * 20 + [[1, 2]]),
     "people[0].hand_right_keypoints_2d[20]: expected [x, y, confidence], got a list"),
    (person_with(pose_keypoints_2d=[0.0] * 57), "people[0].pose_keypoints_2d: 57 values, expected 54 or 75"),
    (person_with(pose_keypoints_2d=[True] * 54),
     "people[0].pose_keypoints_2d[0]: expected a number, got a boolean"),
    (person_with(pose_keypoints_2d=[0] * 53 + ["1"]),
     "people[0].pose_keypoints_2d[53]: expected a number, got a string"),
    (person_with(pose_keypoints_2d=[10**400] + [0] * 53),
     "people[0].pose_keypoints_2d[0]: an integer of 1329 bits is beyond MAX_ABS_VALUE (1e+07)"),
    (person_with(pose_keypoints_2d=[-10**5000] + [0] * 53),
     "people[0].pose_keypoints_2d[0]: an integer of 16610 bits is beyond MAX_ABS_VALUE (1e+07)"),
    (person_with(pose_keypoints_2d=[2e7] + [0] * 53),
     "people[0].pose_keypoints_2d[0]: 20000000.0 is beyond MAX_ABS_VALUE (1e+07)"),
    (person_with(face_keypoints_2d={"x": 1}),
     "people[0].face_keypoints_2d: expected a list of numbers, got an object"),
    (person_with(person_id=[1, 2]), "people[0].person_id: expected an integer or [integer], got a list"),
    ({"people": {}, "canvas_width": 8, "canvas_height": 8}, "people: expected a list, got an object"),
    ({"people": [], "canvas_width": 8}, "canvas_height: expected a number, got null"),
    ({"people": [], "canvas_width": 8.5, "canvas_height": 8},
     "canvas_width: expected a whole number of pixels from 1 to 65536, got 8.5"),
    ({"people": [], "canvas_width": 10**6, "canvas_height": 8},
     "canvas_width: expected a whole number of pixels from 1 to 65536, got 1000000"),
    ({"canvas_width": 8, "canvas_height": 8}, "document: no 'people' list: not an OpenPose pose document"),
    ([{"people": []}, 3], "frames[1]: expected a pose object, got a number"),
    ("3", "document: expected a pose object or a list of them, got a number"),
    ('{"people": [], "canvas_width": NaN, "canvas_height": 8}', "canvas_width: not a finite number (nan)"),
    ('{"people": [{"pose_keypoints_2d": [Infinity' + ", 0" * 53 + "]}]}",
     "people[0].pose_keypoints_2d[0]: not a finite number (inf)"),
    (12, "document: expected JSON text, bytes, a path, a dict or a list, got int"),
])
def test_malformed_documents_name_the_place(source, message):
    with pytest.raises(PoseFormatError) as caught:
        read_poses(source)
    assert str(caught.value) == message


def test_a_file_name_passed_as_text_gets_a_hint():
    with pytest.raises(PoseFormatError, match=r"pass a pathlib\.Path"):
        read_poses("poses/frame_0001.json")


def test_read_pose_wants_exactly_one_frame():
    with pytest.raises(PoseFormatError, match=r"^document: 3 frames, expected one"):
        read_pose(DATA / "comfy_pose_keypoint.json")


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="coordinates"):
        read_poses(DATA / "editor_pixels.json", coordinates="normalised")
    with pytest.raises(ValueError, match="canvas"):
        read_poses(DATA / "editor_pixels.json", canvas=512)


def test_lenient_reading_skips_the_smallest_broken_unit_and_reports_it():
    notes = []
    frames = read_poses(DATA / "malformed_several.json", strict=False, notes=notes)
    assert notes == [
        "frames[1].people[0].pose_keypoints_2d[4]: not a finite number (nan) (skipped frames[1].people[0])",
        "frames[1].people[1].hand_right_keypoints_2d[7]: not a finite number (inf) "
        "(skipped frames[1].people[1].hand_right_keypoints_2d)",
        "frames[2]: expected a pose object, got a string (replaced frames[2] by an empty frame)",
        "frames[3].people[2].face_keypoints_2d: 207 values, expected 210 or 213 "
        "(skipped frames[3].people[2].face_keypoints_2d)",
        "frames[3].people[2].person_id: expected an integer or [integer], got a string "
        "(skipped frames[3].people[2].person_id)",
    ]
    assert [len(frame.people) for frame in frames] == [1, 1, 0, 3]
    assert (frames[2].width, frames[2].height) == (512, 512)
    kept = frames[3].people[2]
    assert kept.face is None and kept.person_id is None and kept.body[0] == Keypoint(256, 90, 1.0)
    assert frames[1].people[0].right_hand is None
    with pytest.warns(PoseFormatWarning) as caught:
        read_poses(DATA / "malformed_several.json", strict=False)
    assert [str(warning.message) for warning in caught] == notes


def sized(x, canvas):
    """A one-person frame on ``canvas`` whose nose is at (x, 5)."""
    return {"people": [{"pose_keypoints_2d": [x, 5.0, 1.0] + [0.0] * 51}],
            "canvas_width": canvas[0], "canvas_height": canvas[1]}


def test_lenient_reading_keeps_a_broken_frames_slot_so_later_frames_stay_aligned():
    """Frame n belongs to image n: a broken frame becomes an empty one with the canvas it declared, else the
    canvas most frames have, whichever stage found it broken."""
    declared = dict(sized(3, (32, 16)), people="lost")
    unsized = {"people": [{"pose_keypoints_2d": [0.5, 0.5, 1.0] + [0.0] * 51}]}  # normalised needs a canvas
    document = [sized(1, (64, 48)), "lost", declared, sized(4, (64, 48)), unsized, sized(6, (100, 90))]
    lost = ["frames[1]: expected a pose object, got a string (replaced frames[1] by an empty frame)",
            "frames[2].people: expected a list, got a string (replaced frames[2] by an empty frame)"]
    notes = []
    frames = read_poses(document, coordinates="pixels", strict=False, notes=notes)
    assert [frame.people[0].body[0].x if frame.people else None for frame in frames] == [1, None, None, 4, 0.5, 6]
    assert [(frame.width, frame.height) for frame in frames[:4]] == [(64, 48), (64, 48), (32, 16), (64, 48)]
    assert notes[:2] == lost and "points' extent" in notes[2] and len(notes) == 3
    notes = []
    frames = read_poses(document, coordinates="normalized", strict=False, notes=notes)
    assert [len(frame.people) for frame in frames] == [1, 0, 0, 1, 0, 1]
    assert [(frame.width, frame.height) for frame in frames[1:5]] == [(64, 48), (32, 16), (64, 48), (64, 48)]
    assert notes == lost + ["frames[4]: no canvas size and normalised coordinates: pass canvas=(width, height) "
                            "(replaced frames[4] by an empty frame)"]
    frames = read_poses(document, canvas=(10, 20), coordinates="pixels", strict=False, notes=[])
    assert {(frame.width, frame.height) for frame in frames} == {(10, 20)}  # canvas= overrides every frame


def test_lenient_reading_of_frames_none_of_which_gives_a_canvas_returns_no_frames():
    notes = []
    assert read_poses(["lost", {"people": 1}], strict=False, notes=notes) == []
    assert notes == ["frames[0]: expected a pose object, got a string (replaced frames[0] by an empty frame)",
                     "frames[1].people: expected a list, got a number (replaced frames[1] by an empty frame)",
                     "no frame could be read and none declared canvas_width/canvas_height: the 2 empty frame(s) "
                     "are left out; pass canvas=(width, height) to keep them"]
    assert read_poses(["lost", {"people": 1}], canvas=(8, 6), strict=False, notes=[]) == [PoseFrame([], 8, 6)] * 2
    notes = []
    assert read_pose(dict(sized(1, (8, 6)), people=None), strict=False, notes=notes) == PoseFrame([], 8, 6)
    assert notes == ["people: expected a list, got null (replaced document by an empty frame)"]


# --- limits --------------------------------------------------------------------------------------


def test_document_size_is_capped_before_parsing(monkeypatch, tmp_path):
    monkeypatch.setattr(formats, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(PoseFormatError, match=r"^document: larger than MAX_DOCUMENT_BYTES \(100\)$"):
        read_poses(DATA / "editor_pixels.json")
    with pytest.raises(PoseFormatError, match="MAX_DOCUMENT_BYTES"):
        read_poses(" " * 101 + "[]")


def test_deep_nesting_and_huge_arrays_fail_fast():
    with pytest.raises(PoseFormatError, match=r"^document: nested too deeply"):
        read_poses("[" * 200_000 + "]" * 200_000)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(PoseFormatError, match=r"^frames\[0\]: expected a pose object, got a list"):
        read_poses(deep)
    # refused by its length before any value is looked at: the bad last value is never reached
    huge = person_with(hand_left_keypoints_2d=[0.5] * (10**7 - 1) + ["not a number"])
    with pytest.raises(PoseFormatError, match=r"^people\[0\]\.hand_left_keypoints_2d: 10000000 values, expected 63$"):
        read_poses(huge)
    with pytest.raises(PoseFormatError, match="not valid JSON.*digits"):
        read_poses('{"people": [], "canvas_width": ' + "9" * 5000 + "}")


def test_normalised_values_are_bounded_once_scaled_to_pixels():
    """3e6 is within MAX_ABS_VALUE as read, but 3e9 px once scaled: neither drawable nor writable."""
    far = person_with(hand_left_keypoints_2d=[0.5, 0.5, 1.0] * 20 + [3e6, 0.5, 1.0])
    far["canvas_width"] = far["canvas_height"] = 1024
    with pytest.raises(PoseFormatError) as caught:
        read_poses([document([(0.5, 0.5)]), far], coordinates="normalized")
    assert str(caught.value) == ("frames[1].people[0].hand_left_keypoints_2d: a normalised coordinate scales to "
                                 "3.072e+09 px, beyond MAX_ABS_VALUE (1e+07)")
    far["people"][0]["hand_left_keypoints_2d"][-1] = 0.0  # a missing point's coordinates are not used
    assert read_poses(far, coordinates="normalized")[0].people[0].left_hand[20] is None
    assert read_poses(far, coordinates="pixels")[0].people[0].left_hand[0] == Keypoint(0.5, 0.5, 1.0)


def crowd(frames, people, **person):
    """``frames`` frames of ``people`` people, each with a body and the given parts."""
    return [{"people": [{"pose_keypoints_2d": [1.0, 2.0, 1.0] * 18, **person}] * people,
             "canvas_width": 8, "canvas_height": 8}] * frames


def test_frames_and_people_are_counted_before_any_is_read(monkeypatch):
    monkeypatch.setattr(formats, "MAX_FRAMES", 3)
    monkeypatch.setattr(formats, "MAX_PEOPLE", 2)
    assert len(read_poses(crowd(3, 2))) == 3
    with pytest.raises(PoseFormatError, match=r"^document: 4 frames, more than MAX_FRAMES \(3\)$"):
        read_poses(crowd(3, 0) + [None])
    with pytest.raises(PoseFormatError, match=r"^frames\[0\]\.people: 3 people, more than MAX_PEOPLE \(2\)$"):
        read_poses(crowd(1, 3) + [None])
    notes = []
    assert [len(frame.people) for frame in read_poses(crowd(1, 3) + crowd(1, 1), strict=False, notes=notes)] == [0, 1]
    assert notes == ["frames[0].people: 3 people, more than MAX_PEOPLE (2) (replaced frames[0] by an empty frame)"]


def test_keypoints_and_skips_are_capped_per_document_even_when_lenient(monkeypatch):
    monkeypatch.setattr(formats, "MAX_KEYPOINTS", 3 * (18 + 21))
    assert len(read_poses(crowd(3, 1, hand_left_keypoints_2d=[1.0] * 63))) == 3
    for strict in (True, False):
        with pytest.raises(PoseFormatError, match=r"^frames\[1\]\.people\[1\]: more than MAX_KEYPOINTS \(117\) "
                                                  r"keypoints in the document$"):
            read_poses(crowd(2, 2, hand_left_keypoints_2d=[1.0] * 63), strict=strict, notes=[])
    monkeypatch.setattr(formats, "MAX_SKIPPED", 2)
    notes = []
    assert len(read_poses(crowd(1, 2, person_id="x"), strict=False, notes=notes)[0].people) == 2
    with pytest.raises(PoseFormatError, match=r"^frames\[0\]\.people\[2\]\.person_id: more than MAX_SKIPPED \(2\) "
                                              r"broken units$"):
        read_poses(crowd(1, 3, person_id="x"), strict=False, notes=notes)


# --- writing ---------------------------------------------------------------------------------------


def sample_frame():
    body = [Keypoint(10.0 + i, 20.0 + i, 0.5) for i in range(18)]
    body[11] = None  # left hip
    hand = [Keypoint(50.0, 60.0 + i, 0.25) for i in range(21)]
    feet = [Keypoint(70.0, 80.0, 0.75)] * 5 + [None]
    people = [Person(body=body, left_hand=hand, feet=feet, person_id=7),
              Person(body=[Keypoint(30.0, 40.0, 0.9)] * 18)]
    return PoseFrame(people, 200, 100)


def test_writer_visibility_score_missing_and_canvas():
    visible = frame_to_dict(sample_frame())
    first = visible["people"][0]
    assert visible["canvas_width"] == 200 and visible["canvas_height"] == 100
    assert first["person_id"] == [7] and "person_id" not in visible["people"][1]
    assert first["pose_keypoints_2d"][:3] == [10.0, 20.0, 1.0] and first["pose_keypoints_2d"][33:36] == [0, 0, 0]
    assert len(first["pose_keypoints_2d"]) == 54 and first["face_keypoints_2d"] is None
    assert first["hand_right_keypoints_2d"] is None and len(first["hand_left_keypoints_2d"]) == 63
    scored = frame_to_dict(sample_frame(), coordinates="normalized", confidence="score")
    assert scored["canvas_width"] == 200
    assert scored["people"][0]["pose_keypoints_2d"][:3] == [0.05, 0.2, 0.5]
    assert scored["people"][0]["hand_left_keypoints_2d"][:3] == [0.25, 0.6, 0.25]


def test_writer_body25_layout():
    frame = sample_frame()
    frame.people[1].body[8] = Keypoint(20.0, 30.0, 0.4)
    frame.people[1].body[11] = Keypoint(40.0, 50.0, 0.8)
    people = frame_to_dict(frame, layout="body25", confidence="score")["people"]
    first, second = (person["pose_keypoints_2d"] for person in people)
    assert len(first) == 75
    assert first[3 * 8:3 * 9] == [0, 0, 0]                 # MidHip missing: left hip missing
    assert second[3 * 8:3 * 9] == [30.0, 40.0, 0.4]        # mean of the hips, weaker confidence
    assert first[3 * 9:3 * 10] == [18.0, 28.0, 0.5]        # RHip moves from 8 to 9
    assert first[3 * 18:3 * 19] == [27.0, 37.0, 0.5]       # LEar 17 -> 18
    assert first[3 * 19:3 * 20] == [70.0, 80.0, 0.75] and first[3 * 24:] == [0, 0, 0]
    assert second[3 * 19:] == [0] * 18                     # no feet


def test_writer_auto_layout_is_body25_when_any_person_has_feet():
    with_feet, without = sample_frame(), sample_frame()
    without.people[0].feet = None
    assert len(frame_to_dict(without, layout="auto")["people"][0]["pose_keypoints_2d"]) == 54
    assert len(frame_to_dict(with_feet, layout="auto")["people"][1]["pose_keypoints_2d"]) == 75
    document = json.loads(frames_to_json([without, with_feet], layout="auto"))  # decided once for all frames
    assert {len(person["pose_keypoints_2d"]) for frame in document for person in frame["people"]} == {75}
    again = read_poses(json.dumps(document))
    assert_frames_close(again, [canonical(without, "visibility"), canonical(with_feet, "visibility")])


def test_writer_shapes_single_frame_vs_sequence():
    frame = sample_frame()
    assert isinstance(json.loads(frames_to_json(frame)), dict)
    assert isinstance(json.loads(frames_to_json([frame])), list)
    assert len(json.loads(frames_to_json([frame, frame], indent=1))) == 2


def test_writer_refuses_what_json_cannot_carry():
    frame = sample_frame()
    frame.people[0].left_hand[3] = Keypoint(math.nan, 1.0, 1.0)
    with pytest.raises(PoseFormatError, match=r"^frames\[1\]\.people\[0\]\.left_hand\[3\]\[0\]: not a finite number"):
        frames_to_json([sample_frame(), frame])
    frame.people[0].left_hand = frame.people[0].left_hand[:20]
    with pytest.raises(PoseFormatError, match=r"^people\[0\]\.left_hand: 20 points, expected 21$"):
        frame_to_dict(frame)
    with pytest.raises(ValueError, match="confidence"):
        frame_to_dict(sample_frame(), confidence="real")


def person_frame(**fields):
    return PoseFrame([Person(**{"body": [Keypoint(10.0, 20.0, 0.9)] * 18, **fields})], 64, 64)


@pytest.mark.parametrize("poses, message", [
    (person_frame(person_id=-1), "people[0].person_id: expected None or a whole number >= 0, got -1"),
    ([person_frame(), person_frame(person_id=2.7)],
     "frames[1].people[0].person_id: expected None or a whole number >= 0, got 2.7"),
    (person_frame(person_id=True), "people[0].person_id: expected None or a whole number >= 0, got True"),
    (person_frame(person_id="x"), "people[0].person_id: expected None or a whole number >= 0, got 'x'"),
    (person_frame(left_hand=[(1.0, 2.0)] * 21), "people[0].left_hand[0]: expected (x, y, confidence), got 2 values"),
    (person_frame(face=[5.0] * 70), "people[0].face[0]: expected (x, y, confidence), got a number"),
    (person_frame(body=None), "people[0].body: expected a list of 18 points, got null"),
    (PoseFrame([person_frame()], 64, 64), "people[0]: expected a Person, got PoseFrame"),
    (PoseFrame(None, 64, 64), "people: expected a list of Person, got null"),
    ([person_frame(), 2], "frames[1]: expected a PoseFrame, got a number"),
    (3, "document: expected a PoseFrame or a sequence of them, got a number"),
])
def test_writer_refuses_malformed_hand_built_frames_at_their_place(poses, message):
    with pytest.raises(PoseFormatError) as caught:
        frames_to_json(poses)
    assert str(caught.value) == message


def test_write_poses_creates_missing_folders(tmp_path):
    target = tmp_path / "new" / "deeper" / "poses.json"
    write_poses(target, sample_frame(), confidence="score")
    assert_frames_close(read_poses(target), [canonical(sample_frame(), layout="coco18")])
    assert [path.name for path in target.parent.iterdir()] == ["poses.json"]


def test_write_poses_is_atomic(tmp_path):
    target = tmp_path / "poses.json"
    target.write_text("old")
    write_poses(target, [sample_frame()], confidence="score")
    assert_frames_close(read_poses(target), [canonical(sample_frame(), layout="coco18")])
    broken = sample_frame()
    broken.people[0].body[0] = Keypoint(math.inf, 0.0, 1.0)
    before = target.read_text()
    with pytest.raises(PoseFormatError):
        write_poses(target, broken)
    assert target.read_text() == before
    assert [path.name for path in tmp_path.iterdir()] == ["poses.json"]


def test_write_poses_writes_through_links_and_refuses_pipes(tmp_path):
    """A link to a pose file stays a link (its file gets the poses); a pipe or a folder in the way is
    refused, not replaced by a file."""
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_text("old")
    link.symlink_to(real)
    write_poses(link, sample_frame(), confidence="score")
    assert link.is_symlink() and read_poses(real) == read_poses(link)
    assert_frames_close(read_poses(real), [canonical(sample_frame(), layout="coco18")])
    blockers = [tmp_path / "folder.json"]
    blockers[0].mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.json")
        blockers.append(tmp_path / "pipe.json")
    for blocker in blockers:
        with pytest.raises(OSError, match="is not a regular file") as caught:
            write_poses(blocker, sample_frame())
        assert caught.value.filename == str(blocker) and not blocker.is_file()


def test_write_poses_cleans_up_when_the_replace_fails(tmp_path, monkeypatch):
    target = tmp_path / "poses.json"
    target.write_text("old")

    def refuse(source, destination):
        raise PermissionError(destination)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError) as caught:
        write_poses(target, sample_frame())
    assert caught.value.filename == str(target)  # the error names the target, not the temporary file
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["poses.json"]


# --- round trips -------------------------------------------------------------------------------------

STYLES = [dict(coordinates=c, confidence=s, layout=l)
          for c in ("pixels", "normalized") for s in ("score", "visibility") for l in ("coco18", "body25")]


@pytest.mark.parametrize("name", sorted(VALID))
@pytest.mark.parametrize("style", STYLES, ids=lambda style: "-".join(style.values()))
def test_corpus_round_trip(name, style):
    frames = read(name, **VALID[name])
    again = read_poses(frames_to_json(frames, **style))
    assert_frames_close(again, [canonical(frame, style["confidence"], style["layout"]) for frame in frames])


@st.composite
def pose_frames(draw):
    """Random frames: hypothesis picks the structure and a seed, numpy fills in the (many) points."""
    width, height = draw(st.integers(16, 4096)), draw(st.integers(16, 4096))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    integral, missing = draw(st.booleans()), draw(st.sampled_from([0.0, 0.3, 1.0]))

    def part(count, low):
        """Hands and faces stay on or right of/below the origin: in a normalised document a point less
        than a pixel left of and above it reads as the reference's missing code."""
        rows = rng.uniform([low * width, low * height, 0.01], [1.5 * width, 1.5 * height, 1.0], (count, 3))
        if integral:
            rows[:, :2] = rows[:, :2].round()
        rows[rng.random(count) < missing] = np.nan
        return array_to_points(rows)

    def person():
        present = draw(st.lists(st.booleans(), min_size=4, max_size=4))
        optional = [part(count, low) if here else None
                    for here, (count, low) in zip(present, [(21, 0), (21, 0), (70, 0), (6, -0.5)])]
        return Person(part(18, -0.5), *optional, person_id=draw(st.none() | st.integers(0, 2**40)))

    return PoseFrame([person() for _ in range(draw(st.integers(0, 3)))], width, height)


style_strategy = st.sampled_from(STYLES)


@FUZZ
@given(st.lists(pose_frames(), min_size=1, max_size=3), style_strategy)
def test_property_round_trip(frames, style):
    again = read_poses(frames_to_json(frames, **style), coordinates=style["coordinates"])
    assert_frames_close(again, [canonical(frame, style["confidence"], style["layout"]) for frame in frames])


@FUZZ
@given(pose_frames(), style_strategy)
def test_property_round_trip_auto(frame, style):
    """The guess recovers what was written whenever some point lies beyond 2 px (else it cannot)."""
    written = canonical(frame, layout=style["layout"])
    coordinates = [value for person in written.people for part in PARTS
                   for point in getattr(person, part) or () if point is not None for value in point[:2]]
    assume(any(abs(value) > 2 for value in coordinates) or not coordinates)
    again = read_pose(frames_to_json(frame, **style))
    assert_frames_close([again], [canonical(frame, style["confidence"], style["layout"])])


# --- fuzz: only PoseFormatError, always with a place ------------------------------------------------

KEYS = ["people", "canvas_width", "canvas_height", "animals", "version", "person_id", "pose_keypoints_2d",
        "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "pose_keypoints_3d"]
huge_ints = st.sampled_from([1, -1]).map(lambda sign: sign * 10**5000)  # too long to print: not JSON text
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-10**400, 10**400) | huge_ints | st.floats()
           | st.text(max_size=8) | st.sampled_from([0.5, 1.0, -1 / 512, 512, 0]))
long_arrays = st.integers(0, 10_000).map(lambda n: [0.5] * n)
garbage = st.recursive(scalars | long_arrays,
                       lambda inner: st.lists(inner, max_size=6)
                       | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5),
                       max_leaves=40)


def paths(value, prefix=()):
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from paths(child, prefix + (key,))


@st.composite
def mutated_documents(draw):
    """Valid documents with a few values replaced by garbage, deleted, or lists cut short."""
    frames = draw(st.lists(pose_frames(), min_size=1, max_size=2))
    document = json.loads(frames_to_json(frames if draw(st.booleans()) else frames[0], **draw(style_strategy)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(document))))
        if not path:
            return draw(garbage)
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "truncate"]))
        if action == "delete" or (action == "truncate" and not isinstance(parent[path[-1]], list)):
            del parent[path[-1]]
        elif action == "truncate":
            del parent[path[-1]][draw(st.integers(0, len(parent[path[-1]]))):]
        else:
            parent[path[-1]] = draw(garbage)
    return document


def as_text(value):
    """JSON text (NaN and Infinity literals included); Python will not print a 5000-digit integer, so a
    value holding one becomes a document with such a literal."""
    try:
        return json.dumps(value)
    except ValueError:
        return '{"people": [], "canvas_width": ' + "9" * 5000 + "}"


def assert_only_format_errors(source):
    for strict in (True, False):
        notes = []
        try:
            frames = read_poses(source, strict=strict, notes=notes)
        except PoseFormatError as error:
            assert error.place and str(error).startswith(error.place + ": ")
            assert re.match(r"^(document|frames\[\d+\]|people|canvas_)", error.place)
            continue
        assert all(isinstance(note, str) and note for note in notes)
        for frame in frames:
            assert isinstance(frame, PoseFrame) and frame.width >= 1 and frame.height >= 1
            for person in frame.people:
                for part in PARTS:
                    points = getattr(person, part) or ()
                    assert all(math.isfinite(value) for point in points if point is not None for value in point)


@FUZZ
@given(garbage)
def test_fuzz_garbage_values(value):
    assert_only_format_errors(value)
    assert_only_format_errors(as_text(value))


@FUZZ
@given(mutated_documents())
def test_fuzz_mutated_documents(document):
    assert_only_format_errors(document)
    assert_only_format_errors(as_text(document).encode())


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200).map(bytes))
def test_fuzz_text(text):
    assert_only_format_errors(text)
