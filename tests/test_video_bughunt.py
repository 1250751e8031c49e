"""Video clean-up and video inputs, found by a bug hunt: fill_gaps memory, frames given as a generator,
NaN settings, errors that name the frame, folder patterns with --sequence, the output folder holding the
inputs, and the Track & Smooth node's progress bar."""
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import comfy_stub
import oracle
from openpose_core.formats import frame_to_dict
from openpose_core.image import ImageError, read_image
from openpose_core.media import find_inputs
from openpose_core.pose import Person, PoseFrame, array_to_points
from openpose_core.smooth import OneEuroFilter, fill_gaps, smooth_poses
from openpose_core.track import PoseTracker, track_people, tracked

WIDTH, HEIGHT = 640, 480


def body(x: float, y: float = 240.0, height: float = 200.0) -> list:
    points = np.ones((18, 3))
    points[:, :2] = (oracle.STANDING - 0.5) * height + [x, y]
    return array_to_points(points)


def walk(count: int = 6, person_id=None) -> list:
    return [PoseFrame([Person(body=body(200 + 5 * t), person_id=person_id)], WIDTH, HEIGHT) for t in range(count)]


# --- library -----------------------------------------------------------------------------------------------

def test_fill_gaps_memory_follows_time_on_screen_not_frames_times_ids():
    """A new id in every frame (people without body get one each frame) made fill_gaps allocate frames x ids
    x 136 points: 3.2 GB and 9 s for 600 frames. Each person's own span is all it needs."""
    frames = [PoseFrame([Person(body=body(300), person_id=time)], WIDTH, HEIGHT) for time in range(200)]
    tracemalloc.start()
    try:
        filled = fill_gaps(frames)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert filled == frames
    assert peak < 20e6, f"{peak / 1e6:.0f} MB"


def test_frames_may_come_from_a_generator():
    """tracked() read a generator twice: the second read was empty, so it returned no frames at all."""
    frames = walk()
    expected = track_people(frames)
    assert [f.people[0].person_id for f in expected] == [0] * 6
    assert tracked(frame for frame in frames) == expected
    assert tracked(frame for frame in expected) == expected
    assert smooth_poses((f for f in expected), bidirectional=True) == smooth_poses(expected, bidirectional=True)
    assert fill_gaps(f for f in expected) == fill_gaps(expected)
    assert fill_gaps([]) == [] and smooth_poses([]) == [] and track_people([]) == []


def test_not_a_list_of_frames_is_a_clear_error():
    frames = walk(person_id=0)
    for function in (track_people, tracked, smooth_poses, fill_gaps):
        with pytest.raises(ValueError, match=r"^expected a video's frames \(a list of PoseFrame\), got one PoseFrame$"):
            function(frames[0])
        with pytest.raises(ValueError, match=r"^frame 1: expected a PoseFrame, got dict"):
            function([frames[0], frame_to_dict(frames[1])])


@pytest.mark.parametrize("setting", ["fps", "min_cutoff", "beta", "d_cutoff"])
def test_smoothing_settings_must_be_finite(setting):
    """A NaN or infinite setting was accepted and every point after the first frame came back missing."""
    for value in (float("nan"), float("inf"), None):
        with pytest.raises(ValueError, match=f"^{setting} must be a finite number, got {value}$"):
            smooth_poses(walk(person_id=0), **{setting: value})
        with pytest.raises(ValueError, match=f"^{setting} must be a finite number"):
            OneEuroFilter(**{setting: value})


def test_tracking_and_filling_settings_are_checked():
    """max_distance=NaN gave every person a new id in every frame; max_gap=None was a bare TypeError."""
    with pytest.raises(ValueError, match="^max_distance must be a finite number, got nan$"):
        track_people(walk(), max_distance=float("nan"))
    with pytest.raises(ValueError, match=r"^max_distance must be > 0, got -1\.0$"):
        PoseTracker(max_distance=-1)
    for function in (track_people, fill_gaps):
        for value in (None, -1, float("nan"), True):
            with pytest.raises(ValueError, match=f"^max_gap must be a number of frames >= 0, got {value}$"):
                function(walk(person_id=0), max_gap=value)
    frames = walk(person_id=0)
    frames[2].people = []
    assert fill_gaps(frames, max_gap=float("inf"))[2].people[0].body == body(210), "inf: fill every gap"


def test_errors_name_the_frame():
    untracked = walk(person_id=0)
    untracked[3].people[0].person_id = None
    resized = walk(person_id=0)
    resized[4].width = 320
    for function in (smooth_poses, fill_gaps):
        with pytest.raises(ValueError, match=r"^frame 3: every person needs a person_id, none twice in a frame "
                                             r"\(got \[None\]\); run track_people\(\) on the frames first$"):
            function(untracked)
        with pytest.raises(ValueError, match=r"^frame 4: canvas 320 x 480 differs from the video's 640 x 480; "):
            function(resized)


# --- finding inputs ----------------------------------------------------------------------------------------

def save_images(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", (8, 8)).save(folder / name)


def test_a_pattern_matching_folders_gives_one_video_each_with_sequences(tmp_path):
    """A folder matched by a pattern was walked for separate images even with --sequence (and its frames'
    names clashed with the other folders')."""
    for clip in ("a", "b"):
        save_images(tmp_path / "clips" / clip, "f0.png", "f1.png")
    inputs, problems = find_inputs([str(tmp_path / "clips" / "*")], sequences=True)
    assert problems == []
    assert [(item.path, item.kind, item.name) for item in inputs] == [
        (tmp_path / "clips" / "a", "video", "a"), (tmp_path / "clips" / "b", "video", "b")]
    inputs, problems = find_inputs([str(tmp_path / "clips" / "*")], sequences=True, exclude=tmp_path / "clips" / "b")
    assert [item.name for item in inputs] == ["a"] and problems == [], "an output folder matched is still left out"


def test_an_output_folder_holding_the_inputs_does_not_hide_them(tmp_path, monkeypatch):
    """With -o . every file was 'under the output folder': a pattern found nothing and a folder walk lost its
    sub-folders. Only an output folder inside the searched one is left out."""
    save_images(tmp_path / "photos", "top.png")
    save_images(tmp_path / "photos" / "sub", "inner.png")
    save_images(tmp_path / "photos" / "maps", "old.png")
    monkeypatch.chdir(tmp_path)

    def names(spec, out, **options):
        inputs, problems = find_inputs([spec], exclude=Path(out), **options)
        assert problems == []
        return [item.name for item in inputs]

    assert names("photos", ".") == ["top", "maps/old", "sub/inner"]
    assert names("photos/**/*.png", ".") == ["old", "inner", "top"]
    assert names("photos/sub", ".", sequences=True) == ["sub"]
    assert names("photos", "photos/maps") == ["top", "sub/inner"]
    assert names("photos/**/*.png", "photos/maps") == ["inner", "top"]


# --- the Track & Smooth node ---------------------------------------------------------------------------------

PACK = comfy_stub.load_pack("openpose_core_pack_video_bughunt")
NODE = PACK.NODE_CLASS_MAPPINGS["OpenPoseCoreTrackAndSmoothPoses"]
CLEAN_UP = dict(fill_gaps=3, smooth=True, frame_rate=30.0, min_cutoff=0.5, beta=10.0, two_way=True)


def test_track_and_smooth_node_reports_progress_and_can_be_cancelled(tmp_path, monkeypatch):
    comfy = comfy_stub.install(monkeypatch, tmp_path / "ComfyUI")
    poses = [frame_to_dict(PoseFrame([Person(body=body(100 + 5 * t)), Person(body=body(400))], WIDTH, HEIGHT))
             for t in range(4)]
    seen = []
    comfy.utils.set_progress_bar_global_hook(lambda value, total, preview, node_id=None: seen.append((value, total)))
    cleaned, = getattr(NODE(), NODE.FUNCTION)(pose_keypoint=poses, **CLEAN_UP)
    assert [[p["person_id"] for p in frame["people"]] for frame in cleaned] == [[[0], [1]]] * 4
    assert seen == [(k, 12) for k in range(1, 13)], "4 frames x (track, fill, smooth)"
    seen.clear()
    getattr(NODE(), NODE.FUNCTION)(pose_keypoint=poses, **{**CLEAN_UP, "fill_gaps": 0, "smooth": False})
    assert seen == [(k, 4) for k in range(1, 5)]
    comfy.utils.set_progress_bar_global_hook(
        lambda value, total, preview, node_id=None: comfy.model_management.interrupt_current_processing())
    with pytest.raises(comfy.model_management.InterruptProcessingException):
        getattr(NODE(), NODE.FUNCTION)(pose_keypoint=poses, **CLEAN_UP)
    comfy.utils.set_progress_bar_global_hook(None)


def test_an_image_over_the_decompression_bomb_limit_is_one_input_not_a_crash(tmp_path, monkeypatch):
    """Telling whether a PNG, GIF or WebP is animated let Pillow's DecompressionBombError out of find_inputs:
    one 200-megapixel PNG stopped the whole run with a traceback. Reading it says it is refused."""
    save_images(tmp_path, "huge.png", "huge.gif")
    (tmp_path / "huge.scan").write_bytes((tmp_path / "huge.png").read_bytes())
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)      # 8 x 8 pixels are then over twice the limit
    inputs, problems = find_inputs([str(tmp_path / "huge.*")] + [str(tmp_path / "huge.scan")])
    assert problems == [] and [(item.path.name, item.kind) for item in inputs] == [
        ("huge.gif", "image"), ("huge.png", "image"), ("huge.scan", "image")]
    with pytest.raises(ImageError, match="huge.png: refused by Pillow's decompression-bomb limit"):
        read_image(tmp_path / "huge.png")
