"""Bugs found hunting the ``render``, ``edit``, ``read-map``, ``convert`` and ``download`` commands and the
detector call as diffusers users make it. Each test failed before its fix (or is an xfail naming the fix)."""
from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

import oracle
from openpose_core import OpenposeDetector, cli
from openpose_core.edit import translate
from openpose_core.formats import read_poses, write_poses
from openpose_core.media import encode_png
from openpose_core.render import render_pose
from openpose_core.weights import DEFAULT_FILENAMES
from test_cli import error_lines, listing, read_png, standing_frame, whole_pixel_bodies
from test_full_pose import ARMS_OUT


@pytest.fixture
def clip(tmp_path):
    """A list of three frames written to clip.json; returns (path, frames as read back)."""
    path = tmp_path / "clip.json"
    write_poses(path, [translate(standing_frame(), 3 * index, 0) for index in range(3)])
    return path, read_poses(path)


def assert_maps(folder, frames):
    assert listing(folder) == [f"{index:06d}.png" for index in range(len(frames))]
    for index, frame in enumerate(frames):
        assert np.array_equal(read_png(folder / f"{index:06d}.png"), render_pose(frame))


def test_render_a_list_into_an_existing_empty_folder(clip, tmp_path, capsys):
    """``mkdir maps && render clip.json -o maps`` used to print "skipped: maps exists" and draw nothing."""
    path, frames = clip
    (tmp_path / "maps").mkdir()
    assert cli.main(["render", str(path), "-o", str(tmp_path / "maps")]) == 0
    assert_maps(tmp_path / "maps", frames)
    before = (tmp_path / "maps" / "000000.png").stat().st_mtime_ns
    # a rerun skips finished work, and another list never replaces these maps without --overwrite
    longer = tmp_path / "longer.json"
    write_poses(longer, frames * 2)
    for pose in (path, longer):
        assert cli.main(["render", str(pose), "-o", str(tmp_path / "maps")]) == 0
        assert "skipped" in capsys.readouterr().err
    assert (tmp_path / "maps" / "000000.png").stat().st_mtime_ns == before and len(listing(tmp_path / "maps")) == 3


def test_render_a_one_frame_list_goes_where_any_list_goes(tmp_path, capsys):
    """A list holding one frame (a one-frame video) is still a list: its map is ``000000.png`` in the
    folder, as for longer lists, with ``-o`` naming a folder too (it used to give ``maps/clip.png`` there,
    and ``clip/000000.png`` without ``-o``); ``-o`` naming a .png file still takes the one map."""
    path = tmp_path / "clip.json"
    write_poses(path, [standing_frame()])
    frames = read_poses(path)
    assert cli.main(["render", str(path)]) == 0
    assert_maps(tmp_path / "clip", frames)
    assert cli.main(["render", str(path), "-o", str(tmp_path / "maps") + "/"]) == 0
    assert_maps(tmp_path / "maps", frames)
    assert cli.main(["render", str(path), "-o", str(tmp_path / "one.png")]) == 0
    assert np.array_equal(read_png(tmp_path / "one.png"), render_pose(frames[0]))
    capsys.readouterr()


def test_render_a_list_over_a_folder_of_other_files_or_a_file_is_a_one_line_error(clip, tmp_path, capsys):
    """It was a traceback (InputError from replace_folder) after drawing every frame, or "skipped"."""
    path, _ = clip
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    for extra in ([], ["--overwrite"]):
        assert cli.main(["render", str(path), "-o", str(other), *extra]) == 1
        assert error_lines(capsys.readouterr().err) == [
            f"openpose-core: error: {other}: holds other files (notes.txt, ...); give -o a new or empty folder "
            "for the maps"]
    assert listing(other) == ["notes.txt"] and (other / "notes.txt").read_text() == "mine"
    assert cli.main(["render", str(path), "-o", str(path), "--overwrite"]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"openpose-core: error: {path}: exists and is not a folder (a list's maps go into a folder)"]
    assert read_poses(path) == clip[1] and listing(tmp_path) == ["clip.json", "other", "other/notes.txt"]


def test_render_writes_only_png_and_never_over_its_input(tmp_path, capsys):
    """``-o map.jpg`` got PNG bytes under a JPEG name; ``-o pose.json --overwrite`` replaced the pose file (or a
    pose file without extension) with a PNG."""
    pose = tmp_path / "pose.json"
    write_poses(pose, standing_frame())
    original = pose.read_bytes()
    for name in ("map.jpg", "pose.json"):
        assert cli.main(["render", str(pose), "-o", str(tmp_path / name), "--overwrite"]) == 1
        assert error_lines(capsys.readouterr().err) == [
            f"openpose-core: error: {tmp_path / name}: maps are written as PNG; name the output .png"]
    bare = tmp_path / "pose"
    bare.write_bytes(original)
    assert cli.main(["render", str(bare), "-o", str(bare), "--overwrite"]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"openpose-core: error: {bare}: the output would replace the pose file itself; give another -o"]
    assert pose.read_bytes() == original == bare.read_bytes() and listing(tmp_path) == ["pose", "pose.json"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_render_shows_progress_over_a_list_unless_quiet(clip, tmp_path, monkeypatch):
    """Drawing a long list showed nothing until it was done (read-map and detect show a bar)."""
    path, _ = clip
    for extra, bar in (([], True), (["-q"], False)):
        terminal = FakeTerminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert cli.main(["render", str(path), "-o", str(tmp_path / "maps"), "--overwrite", *extra]) == 0
        assert ("3/3 [" in terminal.getvalue()) is bar, terminal.getvalue()


def test_read_map_never_writes_over_a_map(tmp_path, capsys):
    drawn = tmp_path / "map.png"
    drawn.write_bytes(encode_png(render_pose(whole_pixel_bodies(standing_frame(people=1)))))
    original = drawn.read_bytes()
    assert cli.main(["read-map", str(drawn), "-o", str(drawn), "--overwrite"]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"openpose-core: error: {drawn}: the output would replace the map it is read from; give another -o"]
    assert drawn.read_bytes() == original


def test_read_map_of_a_folder_of_one_frame_gives_a_list(tmp_path, capsys):
    """The help promises a list (and asks for -o) for a folder of frames; a folder holding one frame gave a
    single pose written inside the folder, frames/000000.json."""
    frames = tmp_path / "frames"
    frames.mkdir()
    frame = whole_pixel_bodies(standing_frame(people=1))
    (frames / "000000.png").write_bytes(encode_png(render_pose(frame)))
    assert cli.main(["read-map", str(frames)]) == 1
    assert error_lines(capsys.readouterr().err)[0].endswith("name its file with -o OUT.json")
    assert listing(frames) == ["000000.png"]
    assert cli.main(["read-map", str(frames), "-o", str(tmp_path / "frames.json")]) == 0
    document = json.loads((tmp_path / "frames.json").read_text())
    assert isinstance(document, list) and len(document) == 1
    assert [[(p.x, p.y) for p in person.body] for person in read_poses(tmp_path / "frames.json")[0].people] == \
        [[(p.x, p.y) for p in person.body] for person in frame.people]


def test_convert_several_checkpoints_into_a_folder(checkpoint_dir, tmp_path, capsys):
    """``convert *.pth -o weights/`` was refused: "-o names one output file"."""
    sources = []
    for name in ("first.pth", "second.pth"):
        sources.append(tmp_path / name)
        sources[-1].symlink_to(checkpoint_dir / DEFAULT_FILENAMES["hand"])
    assert cli.main(["convert", *map(str, sources), "-o", str(tmp_path / "weights") + "/"]) == 0
    assert listing(tmp_path / "weights") == ["first.safetensors", "second.safetensors"]
    assert capsys.readouterr().out.count("(hand checkpoint, 104 tensors, verified)") == 2
    assert cli.main(["convert", *map(str, sources), "-o", str(tmp_path / "one.safetensors")]) == 1
    assert "give -o a folder" in error_lines(capsys.readouterr().err)[0]


def test_download_counts_a_part_named_twice_once(checkpoint_folder, capsys):
    """``--parts hand,hand`` loaded the hand twice and reported "2 checkpoints ready"."""
    assert cli.main(["download", "--model", str(checkpoint_folder), "--parts", "hand,hand"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"hand: {checkpoint_folder / 'hand_pose_model.safetensors'}"]
    assert "1 checkpoint ready" in captured.err


def test_edit_scale_must_be_positive_and_says_how_to_mirror(tmp_path, capsys):
    """A factor <= 0 was refused after reading the file, advising the Python function ``flip_horizontal``."""
    pose = tmp_path / "pose.json"
    write_poses(pose, standing_frame())
    for bad in ("-1", "1,0"):
        with pytest.raises(SystemExit) as info:
            cli.main(["edit", str(pose), "-o", str(tmp_path / "out.json"), "--scale", bad])
        assert info.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == \
            f"openpose-core edit: error: argument --scale: expected factors > 0 (to mirror, use --flip), got '{bad}'"
    assert listing(tmp_path) == ["pose.json"]


def test_edit_refuses_retarget_options_without_retarget(clip, tmp_path, capsys):
    """``--flip --target-id 3`` flipped everyone and wrote the file: the retargeting options were ignored."""
    path, _ = clip
    for option in (["--target-id", "3"], ["--override", "thigh=1.2"], ["--anchor", "feet"]):
        assert cli.main(["edit", str(path), "-o", str(tmp_path / "out.json"), "--flip", *option]) == 1
        assert error_lines(capsys.readouterr().err) == [
            f"openpose-core: error: {option[0]} applies to --retarget, which is not given"]
    assert not (tmp_path / "out.json").exists()


def test_a_small_detect_resolution_keeps_every_joint():
    """At detect_resolution=100 (a 128 x 128 detect image) the reference finds all 18 joints of both people;
    we found a second left-elbow peak one pixel beside the first and lost person 0's left wrist."""
    skeletons = np.array([0.1 + ARMS_OUT * 0.5, [0.45, 0.3] + ARMS_OUT * 0.55])
    detector = OpenposeDetector(oracle.OracleBodyNet(skeletons))
    frame = detector.detect(np.full((480, 640, 3), 90, np.uint8), detect_resolution=100)
    assert (frame.width, frame.height) == (128, 128)
    assert [person.present() for person in frame.people] == [18, 18]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc, a folder nobody can create files in")
def test_an_unwritable_output_is_named_not_its_hidden_temporary(tmp_path, capsys):
    pose = tmp_path / "pose.json"
    write_poses(pose, standing_frame())
    assert cli.main(["edit", str(pose), "-o", "/proc/openpose-core-test.json", "--flip"]) == 1
    assert error_lines(capsys.readouterr().err) == [
        "openpose-core: error: /proc/openpose-core-test.json: No such file or directory"]


def test_an_output_under_a_file_says_so(tmp_path, capsys):
    """``-o one.json/out.json`` where one.json is a file was mkdir's bare "one.json: File exists"."""
    pose = tmp_path / "one.json"
    write_poses(pose, standing_frame())
    target = tmp_path / "one.json" / "out.json"
    assert cli.main(["edit", str(pose), "-o", str(target), "--flip"]) == 1
    assert error_lines(capsys.readouterr().err) == [f"openpose-core: error: {target}: a folder in its path is a file"]
