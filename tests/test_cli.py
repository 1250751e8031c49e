"""The ``openpose-core`` command line.

Subprocess tests run the real command (``python -m openpose_core.cli``, what the console script calls)
with weights served by the loopback fake Hub (tests/conftest.py): one ``download`` per session fills a
session HF_HOME, later runs use it offline. Random-weight networks find arbitrary "people", so tests that
check the people in the outputs run ``main()`` in-process with oracle body networks (tests/oracle.py)
in place of ``OpenposeDetector.from_pretrained``.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest
import torch

import oracle
from openpose_core import OpenposeDetector, cli, media
from openpose_core.edit import flip_horizontal, rotate, scale, translate
from openpose_core.formats import frame_to_dict, read_poses, write_poses
from openpose_core.image import read_image
from openpose_core.pose import NUM_BODY, Keypoint, Person, PoseFrame
from openpose_core.render import render_pose
from openpose_core.retarget import retarget
from openpose_core.weights import DEFAULT_FILENAMES, DEFAULT_REPO

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "openpose_core.cli"]
ERROR_LINE = re.compile(r"^openpose-core: error: \S.*$")


# --- helpers -----------------------------------------------------------------------------------------------

def run_cli(args: List[str], env: Dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(COMMAND + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def error_lines(stderr: str) -> List[str]:
    """The error lines of a run, checked to be well-formed one-liners; no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if "error:" in line]
    assert all(ERROR_LINE.match(line) for line in lines), lines
    return lines


def write_image(path: Path, width: int, height: int, value: int = 40) -> Path:
    assert cv2.imwrite(str(path), np.full((height, width, 3), value, np.uint8))
    return path


def write_video(path: Path, count: int, width: int, height: int, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for _ in range(count):
        writer.write(np.full((height, width, 3), 40, np.uint8))
    writer.release()
    return path


def read_png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image[:, :, ::-1]


def listing(folder: Path) -> List[str]:
    """Every file and folder under ``folder`` (hidden ones included), relative, sorted."""
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


def body_points(person: dict) -> np.ndarray:
    return np.array(person["pose_keypoints_2d"], dtype=float).reshape(18, 3)


def standing_frame(width: int = 320, height: int = 240, people: int = 2) -> PoseFrame:
    """A frame with ``people`` standing skeletons (with a right hand), coordinates in pixels."""
    skeletons = oracle.grid_of_people(people, people, 1, aspect=width / height)
    persons = []
    for skeleton in skeletons:
        body = [Keypoint(x * width, y * height, 0.9) for x, y in skeleton]
        wrist = body[4]
        hand = [Keypoint(wrist.x + 2 * (k % 5), wrist.y + 2 * (k // 5), 0.7) for k in range(21)]
        persons.append(Person(body=body, right_hand=hand))
    return PoseFrame(persons, width, height)


# --- fixtures ----------------------------------------------------------------------------------------------

def hub_env(hub_url: str, home: Path, offline: bool) -> Dict[str, str]:
    """Environment for a subprocess using the fake Hub and ``home`` as HF_HOME (no real token)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HF_", "HUGGINGFACE_")) and key != "PYTHONPATH"}
    env.update(HF_ENDPOINT=hub_url, HF_HOME=str(home), HF_HUB_OFFLINE="1" if offline else "0",
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1", NO_PROXY="127.0.0.1,localhost",
               PYTHONPATH=str(ROOT))
    return env


@dataclass
class HubSession:
    home: Path
    work: Path
    readme: subprocess.CompletedProcess
    readme_gets: Dict[str, int]
    download: subprocess.CompletedProcess
    offline_env: Dict[str, str]


@pytest.fixture(scope="session")
def hub_session(fake_hub_server, tmp_path_factory) -> HubSession:
    """One fresh HF_HOME for the session's subprocess runs: the README's first command, verbatim (the body
    weights download on first use), then ``openpose-core download`` (fetches the rest for offline use)."""
    home, work = tmp_path_factory.mktemp("cli_hf_home"), tmp_path_factory.mktemp("cli_readme")
    (work / "workflows").symlink_to(ROOT / "workflows")
    online = hub_env(fake_hub_server.url, home, offline=False)
    before = {name: fake_hub_server.count("GET", name, DEFAULT_REPO) for name in DEFAULT_FILENAMES.values()}
    readme = run_cli("detect workflows/example_person.jpg -o out/".split(), online, cwd=work)
    gets = {name: fake_hub_server.count("GET", name, DEFAULT_REPO) - before[name] for name in before}
    download = run_cli(["download"], online, cwd=work)
    return HubSession(home, work, readme, gets, download, hub_env(fake_hub_server.url, home, offline=True))


@pytest.fixture
def use_detector(monkeypatch):
    """``use_detector(body_net)``: from_pretrained returns a detector on that network; returns the calls."""
    calls = []

    def install(body_net):
        def from_pretrained(cls, *args, **kwargs):
            calls.append((args, kwargs))
            return OpenposeDetector(body_net)
        monkeypatch.setattr(OpenposeDetector, "from_pretrained", classmethod(from_pretrained))
        return calls
    return install


class FrameOracle(torch.nn.Module):
    """Body-net oracle for a sequence: the k-th image it ever sees shows ``per_frame[k]`` (fractions)."""

    def __init__(self, per_frame):
        super().__init__()
        self.nets = [oracle.OracleBodyNet(skeletons) for skeletons in per_frame]
        self.seen = 0
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, batch):
        outputs = [self.nets[self.seen + index](batch[index:index + 1]) for index in range(batch.shape[0])]
        self.seen += batch.shape[0]
        return torch.cat([paf for paf, _ in outputs]), torch.cat([heat for _, heat in outputs])


# --- the real command, in subprocesses ---------------------------------------------------------------------

def test_readme_command_downloads_the_body_weights_on_first_use(hub_session):
    """README: ``pip install . && openpose-core detect workflows/example_person.jpg -o out/``."""
    result = hub_session.readme
    assert result.returncode == 0, result.stderr
    assert error_lines(result.stderr) == []
    out = hub_session.work / "out"
    assert listing(out) == ["example_person.json", "example_person.png"]
    assert read_png(out / "example_person.png").shape == (512, 512, 3)
    assert json.loads((out / "example_person.json").read_text())["canvas_width"] == 512
    assert hub_session.readme_gets == {DEFAULT_FILENAMES["body"]: 1, DEFAULT_FILENAMES["hand"]: 0,
                                       DEFAULT_FILENAMES["face"]: 0}  # body only by default
    assert re.fullmatch(r"openpose-core: 1 file processed \(1 image\), \d+ (people|person) found, 0 skipped "
                        r"\(outputs exist\), 0 failed, [\d.]+ s\n", result.stdout)


def test_download_fetches_and_converts_every_checkpoint(hub_session):
    result = hub_session.download
    assert result.returncode == 0, result.stderr
    assert error_lines(result.stderr) == []
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["body", "hand", "face"]
    for line, kind in zip(lines, ("body", "hand", "face")):
        path = Path(line.split(": ", 1)[1])
        assert path.name == Path(DEFAULT_FILENAMES[kind]).with_suffix(".safetensors").name and path.is_file()
        assert hub_session.home in path.parents
    assert "ready" in result.stderr


def test_detect_over_mixed_inputs_skips_done_work_and_reports_bad_ones(hub_session, fake_hub_server, tmp_path):
    # Tall narrow inputs of one size: the body net always sees 184 rows, so a narrow image is a cheap network
    # run, and equal sizes share it (one run for the images, one for the video).
    env = hub_session.offline_env
    write_image(tmp_path / "one.png", 32, 128)
    folder = tmp_path / "batch"
    folder.mkdir()
    write_image(folder / "two.jpg", 32, 128, value=70)
    (folder / "notes.txt").write_text("not an input")
    write_video(tmp_path / "clip.avi", 3, 32, 128)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG")
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    requests_before = len(fake_hub_server.requests)

    result = run_cli(["detect", "one.png", "batch", "clip.avi", "broken.jpg", "broken.mp4", "missing.png",
                      "nothing*.png", "-o", "out", "--resolution", "64"], env, cwd=tmp_path)

    assert result.returncode == 1
    errors = error_lines(result.stderr)
    assert len(errors) == 4
    for name in ("broken.jpg", "broken.mp4", "missing.png", "nothing*.png"):
        assert sum(f"error: {name}: " in line for line in errors) == 1, errors
    assert "moov atom" not in result.stderr     # FFmpeg's own lines are kept quiet
    out = tmp_path / "out"
    assert listing(out) == ["clip", "clip.json", "clip/000000.png", "clip/000001.png", "clip/000002.png",
                            "one.json", "one.png", "two.json", "two.png"]
    for stem, size in (("one", (64, 256)), ("two", (64, 256))):
        document = json.loads((out / f"{stem}.json").read_text())
        assert (document["canvas_width"], document["canvas_height"]) == size
        assert read_png(out / f"{stem}.png").shape == (size[1], size[0], 3)
        for person in document["people"]:
            assert len(person["pose_keypoints_2d"]) == 54 and person["hand_left_keypoints_2d"] is None
    frames = json.loads((out / "clip.json").read_text())
    assert isinstance(frames, list) and len(frames) == 3
    assert all((frame["canvas_width"], frame["canvas_height"]) == (64, 256) for frame in frames)
    assert all(len(person["person_id"]) == 1 for frame in frames for person in frame["people"])
    assert "3 files processed (2 images, 1 video of 3 frames)" in result.stdout and "4 failed" in result.stdout
    assert len(fake_hub_server.requests) == requests_before  # offline after `download`

    # A rerun finds everything done: nothing is rewritten (and no network is loaded).
    stamps = {name: (out / name).stat().st_mtime_ns for name in listing(out)}
    again = run_cli(["detect", "one.png", "batch", "clip.avi", "-o", "out", "--resolution", "64"], env, cwd=tmp_path)
    assert again.returncode == 0 and error_lines(again.stderr) == []
    assert "3 skipped" in again.stdout and "0 files processed" in again.stdout
    assert {name: (out / name).stat().st_mtime_ns for name in listing(out)} == stamps


def test_console_script_is_declared():
    import tomllib
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["openpose-core"].partition(":")
    assert (module, function) == ("openpose_core.cli", "main") and callable(cli.main)


# --- detect in-process, with oracle networks ---------------------------------------------------------------

def test_detect_writes_the_people_and_their_map(use_detector, tmp_path, capsys):
    skeletons = oracle.grid_of_people(2, 2, 1, aspect=704 / 512)
    calls = use_detector(oracle.OracleBodyNet(skeletons))
    image = write_image(tmp_path / "photo.png", 256, 192)

    assert cli.main(["detect", str(image), "-o", str(tmp_path / "out"), "--device", "cpu", "--preset", "fast_hands",
                     "--model", "some/repo"]) == 0
    assert calls == [(("some/repo",), {"cache_dir": None, "local_files_only": False, "device": "cpu",
                                       "preset": "fast_hands"})]
    document = json.loads((tmp_path / "out" / "photo.json").read_text())
    assert (document["canvas_width"], document["canvas_height"]) == (704, 512)
    found = sorted((body_points(person) for person in document["people"]), key=lambda points: points[1, 0])
    assert len(found) == 2
    for points, truth in zip(found, skeletons):
        assert (points[:, 2] == 1).all()  # visibility flags by default
        assert np.abs(points[:, :2] - (truth * [704, 512] - 0.5)).max() < 4 * 512 / 184
    frame = read_poses(tmp_path / "out" / "photo.json")[0]
    assert np.array_equal(read_png(tmp_path / "out" / "photo.png"), render_pose(frame, hands=False, face=False))
    assert "1 file processed (1 image), 2 people found" in capsys.readouterr().out


def test_detect_map_and_json_at_the_input_size(use_detector, tmp_path):
    skeletons = oracle.grid_of_people(1, 1, 1, aspect=704 / 512)
    use_detector(oracle.OracleBodyNet(skeletons))
    image = write_image(tmp_path / "photo.png", 256, 192)
    assert cli.main(["detect", str(image), "-o", str(tmp_path / "out"), "--image-resolution", "0",
                     "--coordinates", "normalized", "--confidence", "score", "-q"]) == 0
    document = json.loads((tmp_path / "out" / "photo.json").read_text())
    assert (document["canvas_width"], document["canvas_height"]) == (256, 192)
    points = body_points(document["people"][0])
    assert np.abs(points[:, :2] - skeletons[0]).max() < 0.02  # normalised, in the input's frame
    assert (points[:, 2] < 1.5).all() and len(set(points[:, 2].round(6))) > 1  # real confidences
    assert read_png(tmp_path / "out" / "photo.png").shape == (192, 256, 3)


def moving_people(count: int, jitter: float = 0.0, seed: int = 0):
    """Per-frame skeletons: two people walking right, a third entering at frame 4; person 0's right wrist is
    missing in frame 3."""
    rng = np.random.default_rng(seed)
    base = oracle.grid_of_people(3, 3, 1, aspect=384 / 256) * [0.9, 1.0]
    frames = []
    for index in range(count):
        people = base[:2 if index < 4 else 3] + [0.008 * index, 0.0]
        people = people + rng.normal(0, jitter, people.shape) if jitter else people.copy()
        if index == 3:
            people[0, 4] = np.nan
        frames.append(people)
    return frames


def detect_video(use_detector, tmp_path: Path, name: str, per_frame, *options) -> List[dict]:
    use_detector(FrameOracle(per_frame))
    video = write_video(tmp_path / f"{name}.avi", len(per_frame), 192, 128)
    out = tmp_path / "out"
    assert cli.main(["detect", str(video), "-o", str(out), "--resolution", "256", "--batch-size", "4", "-q",
                     *options]) == 0
    assert listing(out / name) == [f"{index:06d}.png" for index in range(len(per_frame))]
    return json.loads((out / f"{name}.json").read_text())


def by_id(frame: dict) -> Dict[int, np.ndarray]:
    return {person["person_id"][0]: body_points(person) for person in frame["people"]}


def test_video_people_keep_their_ids_and_gaps_stay_unless_filled(use_detector, tmp_path):
    per_frame = moving_people(6)
    plain = detect_video(use_detector, tmp_path, "walk", per_frame)
    assert [sorted(by_id(frame)) for frame in plain] == [[0, 1]] * 4 + [[0, 1, 2]] * 2
    for frame in plain:
        necks = {person_id: points[1, 0] for person_id, points in by_id(frame).items()}
        assert sorted(necks, key=necks.get) == sorted(necks)  # ids follow the people, left to right
    first_neck = [by_id(frame)[0][1, 0] for frame in plain]
    assert np.all(np.diff(first_neck) > 0)  # person 0 walks right and keeps id 0
    assert by_id(plain[3])[0][4].tolist() == [0, 0, 0]  # the missing wrist is not invented

    filled = detect_video(use_detector, tmp_path, "walk_filled", per_frame, "--fill-gaps", "2")
    wrist = [by_id(frame)[0][4] for frame in filled]
    assert wrist[3][2] == 1 and np.allclose(wrist[3][:2], (wrist[2][:2] + wrist[4][:2]) / 2)
    for frame_plain, frame_filled in zip(plain, filled):
        for person_id, points in by_id(frame_plain).items():
            present = points[:, 2] > 0
            assert np.array_equal(by_id(frame_filled)[person_id][present], points[present])


def test_video_smoothing_removes_jitter(use_detector, tmp_path):
    rng = np.random.default_rng(3)
    still = oracle.grid_of_people(2, 2, 1, aspect=384 / 256)
    per_frame = [still + rng.normal(0, 0.006, still.shape) for _ in range(8)]  # standing still, jittering
    raw = detect_video(use_detector, tmp_path, "raw", per_frame)
    smooth = detect_video(use_detector, tmp_path, "smooth", per_frame, "--smooth", "--min-cutoff", "0.5")

    def jitter(frames):
        track = np.array([[by_id(frame)[person_id][:, :2] for person_id in (0, 1)] for frame in frames])
        return np.abs(np.diff(track, axis=0)).mean()

    assert jitter(smooth) < 0.7 * jitter(raw)


def test_animated_images_are_clips(use_detector, tmp_path):
    """An animated GIF, WebP or PNG holds a clip: every frame gets a map and a JSON entry, its frame
    duration gives the frame rate, and the frames are the pictures shown; a one-frame GIF stays an image."""
    from PIL import Image
    shades = [40, 90, 140, 190]
    frames = [Image.fromarray(np.full((128, 192, 3), shade, np.uint8)) for shade in shades]
    for suffix, duration in ((".gif", 40), (".webp", 50), (".png", 125)):
        frames[0].save(tmp_path / f"dance{suffix}", save_all=True, append_images=frames[1:], duration=duration)
        with media.VideoReader(tmp_path / f"dance{suffix}") as clip:
            assert (clip.frame_count, clip.fps) == (4, 1000 / duration)
            pictures = [frame for chunk in clip.chunks(3) for frame in chunk]
        assert [int(np.median(picture)) for picture in pictures] == shades, suffix
    frames[0].save(tmp_path / "still.gif")
    inputs, problems = media.find_inputs([str(tmp_path)])
    assert problems == [] and {item.path.name: item.kind for item in inputs} == {
        "dance.gif": "video", "dance.webp": "video", "dance.png": "video", "still.gif": "image"}

    per_frame = moving_people(4)
    use_detector(FrameOracle(per_frame))
    out = tmp_path / "out"
    assert cli.main(["detect", str(tmp_path / "dance.gif"), "-o", str(out), "--resolution", "256", "-q"]) == 0
    assert listing(out) == ["dance", "dance.json"] + [f"dance/{index:06d}.png" for index in range(4)]
    assert [sorted(by_id(frame)) for frame in json.loads((out / "dance.json").read_text())] == [[0, 1]] * 4


def test_an_empty_input_name_is_a_mistake_not_the_current_folder(tmp_path, monkeypatch, capsys):
    """Path("") is the current folder: `read-map ""` (an unset shell variable) read every map there."""
    monkeypatch.chdir(tmp_path)
    cv2.imwrite(str(tmp_path / "m.png"), np.zeros((64, 64, 3), np.uint8))
    inputs, problems = media.find_inputs(["", " "])
    assert inputs == [] and problems == [
        "'': an empty name, not a file or folder (to read the current folder, say .)",
        "' ': an empty name, not a file or folder (to read the current folder, say .)"]
    assert cli.main(["read-map", "", "-o", str(tmp_path / "out.json")]) == 1
    assert "an empty name" in capsys.readouterr().err and not (tmp_path / "out.json").exists()


def test_a_folder_of_frames_is_one_video_with_sequence(use_detector, tmp_path, capsys):
    """--sequence: a folder's images, in natural name order (frame_2 before frame_10), are one video's
    frames: tracked ids, one JSON list, maps like a video's; without it they are separate pictures."""
    frames = tmp_path / "frames"
    frames.mkdir()
    for index in range(12):
        write_image(frames / f"frame_{index}.png", 192, 128, value=10 + 10 * index)
    (frames / "notes.txt").write_text("not a frame")
    with media.VideoReader(frames) as clip:
        assert (clip.frame_count, clip.fps) == (12, media.SEQUENCE_FPS)
        shades = [int(picture[0, 0, 0]) for chunk in clip.chunks(5) for picture in chunk]
    assert shades == [10 + 10 * index for index in range(12)]

    use_detector(FrameOracle(moving_people(12)))
    out = tmp_path / "out"
    assert cli.main(["detect", str(frames), "-o", str(out), "--sequence", "--resolution", "256", "-q"]) == 0
    assert listing(out) == ["frames", "frames.json"] + [f"frames/{index:06d}.png" for index in range(12)]
    poses = json.loads((out / "frames.json").read_text())
    assert [sorted(by_id(frame)) for frame in poses] == [[0, 1]] * 4 + [[0, 1, 2]] * 8

    write_image(frames / "frame_12.png", 96, 64)
    use_detector(FrameOracle(moving_people(13)))
    assert cli.main(["detect", str(frames), "-o", str(tmp_path / "again"), "--sequence", "-q"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.endswith("frame_12.png: 96x64, but the sequence's first frame is 192x128: the frames of a sequence "
                         "must share one size")


# --- errors, interruptions, atomic writes ------------------------------------------------------------------

def test_interrupted_run_leaves_no_partial_output_and_a_rerun_finishes(use_detector, tmp_path, monkeypatch, capsys):
    use_detector(oracle.OracleBodyNet(oracle.grid_of_people(1, 1, 1)))
    images = [str(write_image(tmp_path / f"{name}.png", 128, 96)) for name in ("a", "b")]
    out = tmp_path / "out"
    real_replace, renames = os.replace, []

    def interrupted_replace(source, target):  # Ctrl-C arrives while the second file is being put in place
        renames.append(target)
        if len(renames) == 2:
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    assert cli.main(["detect", *images, "-o", str(out), "--batch-size", "1", "-q"]) == 130
    assert listing(out) == ["a.png"]  # the map made it; the JSON's temporary file is gone
    assert error_lines(capsys.readouterr().err) == [
        "openpose-core: error: interrupted; finished outputs are kept (run the same command again to continue)"]

    monkeypatch.setattr(os, "replace", real_replace)
    assert cli.main(["detect", *images, "-o", str(out), "--batch-size", "1"]) == 0
    assert listing(out) == ["a.json", "a.png", "b.json", "b.png"]
    assert "2 files processed" in capsys.readouterr().out  # a was not finished, so it was redone


def test_a_write_failing_midway_leaves_nothing_behind(use_detector, tmp_path, monkeypatch, capsys):
    use_detector(oracle.OracleBodyNet(oracle.grid_of_people(1, 1, 1)))
    image = write_image(tmp_path / "a.png", 128, 96)

    class HalfWrites:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[:len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()

    monkeypatch.setattr(media, "open", lambda *args, **kwargs: HalfWrites(open(*args, **kwargs)), raising=False)
    assert cli.main(["detect", str(image), "-o", str(tmp_path / "out"), "-q"]) == 1
    assert listing(tmp_path / "out") == []
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith(f"openpose-core: error: {image}: ") and line.endswith("a.png: No space left on device")


def test_bad_inputs_are_one_line_errors_and_the_rest_is_processed(use_detector, tmp_path, capsys):
    use_detector(oracle.OracleBodyNet(oracle.grid_of_people(1, 1, 1)))
    good = write_image(tmp_path / "good.png", 128, 96)
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    thin = write_image(tmp_path / "thin.png", 4000, 2)  # no usable detect size
    (tmp_path / "empty_folder").mkdir()
    status = cli.main(["detect", str(tmp_path / "text.jpg"), str(good), str(thin), str(tmp_path / "empty.mp4"),
                       str(tmp_path / "empty_folder"), str(tmp_path / "nope.png"), "-o", str(tmp_path / "out")])
    assert status == 1
    captured = capsys.readouterr()
    errors = error_lines(captured.err)
    assert len(errors) == 5
    for name in ("text.jpg", "thin.png", "empty.mp4", "empty_folder", "nope.png"):
        assert sum(f"error: {tmp_path / name}: " in line for line in errors) == 1, (name, errors)
    assert listing(tmp_path / "out") == ["good.json", "good.png"]
    assert "1 file processed" in captured.out and "5 failed" in captured.out


def test_same_stems_get_distinct_names_and_the_output_folder_is_not_an_input(use_detector, tmp_path, capsys):
    use_detector(oracle.OracleBodyNet(oracle.grid_of_people(1, 1, 1)))
    for name in ("x.png", "x.jpg", "sub/y.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        write_image(tmp_path / name, 96, 96)
    out = tmp_path / "out"
    assert cli.main(["detect", str(tmp_path), "-o", str(out), "-q"]) == 0
    assert cli.main(["detect", str(tmp_path), str(tmp_path / "x.png"), "-o", str(out)]) == 0  # named twice
    assert listing(out) == ["sub", "sub/y.json", "sub/y.png", "x.jpg.json", "x.jpg.png", "x.png.json", "x.png.png"]
    assert "3 skipped" in capsys.readouterr().out

    # --overwrite redoes what it is given, and only that.
    stamps = {name: (out / name).stat().st_mtime_ns for name in listing(out)}
    assert cli.main(["detect", str(tmp_path / "sub"), "-o", str(out / "sub"), "--overwrite"]) == 0
    assert "1 file processed" in capsys.readouterr().out
    assert listing(out) == sorted(stamps)
    changed = [name for name in stamps if (out / name).is_file() and (out / name).stat().st_mtime_ns != stamps[name]]
    assert changed == ["sub/y.json", "sub/y.png"]


def test_weights_and_device_problems_stop_with_one_line(hf_env, tmp_path, capsys):
    image = str(write_image(tmp_path / "a.png", 64, 64))
    assert cli.main(["detect", image, "-o", str(tmp_path / "out"), "--model", "no-such/repo"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert "no-such/repo/body_pose_model.pth" in line and "no such Hub repo" in line
    if not torch.cuda.is_available():
        assert cli.main(["detect", image, "-o", str(tmp_path / "out"), "--device", "cuda"]) == 1
        assert "--device cuda: PyTorch sees 0 CUDA GPU(s) here (use --device cpu)" in \
            error_lines(capsys.readouterr().err)[0]
    assert cli.main(["detect", image, "-o", image]) == 1
    assert "not a folder" in error_lines(capsys.readouterr().err)[0]
    assert cli.main(["download", "--model", "no-such/repo", "--parts", "hand"]) == 1
    assert "no such Hub repo" in error_lines(capsys.readouterr().err)[0]


def test_command_line_mistakes_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["detect", "a.png"])  # no -o
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["detect", "a.png", "-o", "out", "--batch-size", "0"])
    assert info.value.code == 2
    assert cli.main([]) == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["detect", "--help"])
    assert info.value.code == 0
    help_text = capsys.readouterr().out
    for promise in ("OUT/photo.png", "OUT/clip/000000.png", "OUT/clip.json", "person_id", "--overwrite",
                    "--min-cutoff", "exit status"):
        assert promise in help_text


# --- render, edit, convert ---------------------------------------------------------------------------------

def test_render_single_pose_sizes_fits_and_parts(tmp_path, capsys):
    pose = tmp_path / "pose.json"
    write_poses(pose, standing_frame(), coordinates="normalized")
    frame = read_poses(pose)[0]  # as read back (normalised coordinates round)
    assert cli.main(["render", str(pose)]) == 0
    assert np.array_equal(read_png(tmp_path / "pose.png"), render_pose(frame))
    assert cli.main(["render", str(pose), "-o", str(tmp_path / "wide.png"), "--width", "640"]) == 0
    assert np.array_equal(read_png(tmp_path / "wide.png"), render_pose(frame, 640, 480))
    assert cli.main(["render", str(pose), "-o", str(tmp_path / "fit.png"), "--width", "200", "--height", "300",
                     "--fit", "contain", "--parts", "body"]) == 0
    expected = render_pose(frame, 200, 300, fit="contain", hands=False, face=False)
    assert np.array_equal(read_png(tmp_path / "fit.png"), expected)

    before = (tmp_path / "pose.png").stat().st_mtime_ns
    assert cli.main(["render", str(pose), "--parts", "hands"]) == 0  # exists: kept
    assert (tmp_path / "pose.png").stat().st_mtime_ns == before
    assert "skipped" in capsys.readouterr().err
    assert cli.main(["render", str(pose), "--parts", "hands", "--overwrite"]) == 0
    assert np.array_equal(read_png(tmp_path / "pose.png"), render_pose(frame, body=False))


def test_render_a_list_to_a_folder_or_one_frame(tmp_path, capsys):
    frames = [standing_frame(people=1), flip_horizontal(standing_frame(people=2))]
    poses = tmp_path / "clip.json"
    write_poses(poses, frames)
    assert cli.main(["render", str(poses)]) == 0
    assert listing(tmp_path / "clip") == ["000000.png", "000001.png"]
    assert np.array_equal(read_png(tmp_path / "clip" / "000001.png"), render_pose(frames[1]))
    assert cli.main(["render", str(poses), "--frame", "1", "-o", str(tmp_path / "one.png")]) == 0
    assert np.array_equal(read_png(tmp_path / "one.png"), render_pose(frames[1]))
    assert cli.main(["render", str(poses), "-o", str(tmp_path / "all.png")]) == 1
    assert "--frame" in error_lines(capsys.readouterr().err)[0]


def test_render_and_edit_a_folder_of_one_frame_files(tmp_path, capsys):
    """CMU OpenPose writes a video as one JSON file per frame: the folder is the sequence."""
    frames = [translate(standing_frame(people=2), 4 * index, 0) for index in range(11)]
    folder = tmp_path / "clip"
    folder.mkdir()
    for index, frame in enumerate(frames):
        write_poses(folder / f"clip_{index}_keypoints.json", frame)
    assert cli.main(["render", str(folder)]) == 0
    maps = tmp_path / "clip_maps"
    assert listing(maps) == [f"{index:06d}.png" for index in range(11)]
    assert np.array_equal(read_png(maps / "000010.png"), render_pose(frames[10]))     # clip_10 last
    assert cli.main(["edit", str(folder), "-o", str(tmp_path / "out") + "/", "--flip"]) == 0
    edited = read_poses(tmp_path / "out" / "clip.json")
    flipped = flip_horizontal(frames[3])
    assert len(edited) == 11 and all(np.allclose(got.body_array()[:, :2], want.body_array()[:, :2], equal_nan=True)
                                     for got, want in zip(edited[3].people, flipped.people))
    capsys.readouterr()


def test_render_malformed_or_missing_files_are_one_line_errors(tmp_path, capsys):
    malformed = ROOT / "tests" / "data" / "malformed_hand_length.json"
    assert cli.main(["render", str(malformed), "-o", str(tmp_path / "x.png")]) == 1
    [line] = error_lines(capsys.readouterr().err)
    place = r"people\[\d+\]\.hand_left_keypoints_2d"
    assert re.match(rf"openpose-core: error: {re.escape(str(malformed))}: {place}: ", line)
    assert cli.main(["render", str(tmp_path / "nothing.json")]) == 1
    assert "nothing.json" in error_lines(capsys.readouterr().err)[0]
    # a size too large for memory: one line, not numpy's MemoryError
    pose = tmp_path / "pose.json"
    write_poses(pose, standing_frame())
    assert cli.main(["render", str(pose), "--width", "100000", "--height", "100000"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line == f"openpose-core: error: {pose}: a 100000 x 100000 canvas is over the limit of 268,435,456 " \
                   "pixels (MAX_CANVAS_PIXELS)"
    assert listing(tmp_path) == ["pose.json"]


def test_render_stick_width(tmp_path, capsys):
    pose = tmp_path / "pose.json"
    write_poses(pose, standing_frame())
    frame = read_poses(pose)[0]
    assert cli.main(["render", str(pose), "--stick-width", "8", "--stick-scaling", "--width", "1024"]) == 0
    expected = render_pose(frame, 1024, 768, stick_width=8, stick_scaling=True)
    assert np.array_equal(read_png(tmp_path / "pose.png"), expected)
    assert not np.array_equal(expected, render_pose(frame, 1024, 768, stick_scaling=True))
    for bad in ("0", "2.5"):
        with pytest.raises(SystemExit) as info:
            cli.main(["render", str(pose), "--stick-width", bad, "--overwrite"])
        assert info.value.code == 2 and "--stick-width: expected a whole number" in capsys.readouterr().err
    assert cli.main(["render", str(pose), "--stick-width", "1025", "--overwrite"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line == f"openpose-core: error: {pose}: stick_width must be a whole number from 1 to 1024, got 1025"


def test_render_a_point_too_far_for_opencv_is_a_one_line_error(tmp_path, capsys):
    pose = tmp_path / "pose.json"
    body = [Keypoint(32, 32), Keypoint(1e7, 32)] + [None] * (NUM_BODY - 2)
    write_poses(pose, PoseFrame([Person(body=body)], 64, 64))
    assert cli.main(["render", str(pose), "--width", "16384"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith(f"openpose-core: error: {pose}: a point at (1e+07, 32) of the 64 x 64 pose lands at "
                           "(2.56e+09, 8192) on the 16384 x 16384 drawing, beyond the +-1,073,741,824 px")
    assert listing(tmp_path) == ["pose.json"]


def test_render_a_map_over_the_png_size_limit_is_a_one_line_error(tmp_path, capsys):
    pose = tmp_path / "pose.json"
    write_poses(pose, standing_frame())
    assert cli.main(["render", str(pose), "--width", "1000001", "--height", "1"]) == 1
    err = capsys.readouterr().err
    assert "libpng" not in err and error_lines(err) == [
        f"openpose-core: error: {pose}: a 1000001 x 1 map is over PNG's limit of 1,000,000 px a side"]
    assert cli.main(["render", str(pose), "--width", "1000000", "--height", "1"]) == 0
    assert read_png(tmp_path / "pose.png").shape == (1, 1_000_000, 3)


def whole_pixel_bodies(frame: PoseFrame) -> PoseFrame:
    """The frame's bodies only, on whole pixels (what a map can give back exactly)."""
    people = [Person(body=[Keypoint(float(round(p.x)), float(round(p.y))) for p in person.body])
              for person in frame.people]
    return PoseFrame(people, frame.width, frame.height)


def test_read_map_gives_back_the_drawn_poses(tmp_path, capsys):
    frames = [whole_pixel_bodies(standing_frame(people=1)), whole_pixel_bodies(standing_frame(people=2))]
    poses = tmp_path / "clip.json"
    write_poses(poses, frames)
    assert cli.main(["render", str(poses)]) == 0
    # one map -> one pose beside it; the points are the drawn pixels
    assert cli.main(["read-map", str(tmp_path / "clip" / "000001.png")]) == 0
    [frame] = read_poses(tmp_path / "clip" / "000001.json")
    assert (frame.width, frame.height) == (frames[1].width, frames[1].height)
    got = sorted(tuple(int(p.x) for p in person.body) for person in frame.people)
    assert got == sorted(tuple(int(p.x) for p in person.body) for person in frames[1].people)
    # a folder of frames -> one list in frame order
    capsys.readouterr()
    assert cli.main(["read-map", str(tmp_path / "clip"), "--no-hands", "--no-face", "-o", str(tmp_path / "back.json")]) == 0
    assert "2 frames, 2 people (tracked)" in capsys.readouterr().err
    back = read_poses(tmp_path / "back.json")
    assert [len(f.people) for f in back] == [1, 2]
    assert json.loads((tmp_path / "back.json").read_text())[0]["people"][0]["pose_keypoints_2d"][2] == 1.0


def test_read_map_lists_a_folder_of_frames_in_natural_order(tmp_path, capsys):
    """frame_2 comes before frame_10, as a sequence's frames are meant (not as text sorts them)."""
    start = whole_pixel_bodies(standing_frame(people=1))
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(12):
        cv2.imwrite(str(folder / f"frame_{index}.png"), render_pose(translate(start, 4 * index, 0))[:, :, ::-1])
    assert cli.main(["read-map", str(folder), "-o", str(tmp_path / "walk.json")]) == 0
    assert "12 frames, 1 person (tracked)" in capsys.readouterr().err
    necks = [frame.people[0].body[1].x for frame in read_poses(tmp_path / "walk.json")]
    assert np.allclose(np.diff(necks), 4)


def test_read_map_reads_a_video_of_maps(tmp_path, capsys):
    """A video (or animated GIF) of maps gives one JSON list, a frame per video frame, with the people
    tracked; a video is read on its own."""
    from PIL import Image
    start = whole_pixel_bodies(standing_frame(people=2))
    frames = [translate(start, 6 * index, 0) for index in range(4)]
    maps = [render_pose(frame) for frame in frames]
    pictures = [Image.fromarray(picture) for picture in maps]
    pictures[0].save(tmp_path / "dance.gif", save_all=True, append_images=pictures[1:], duration=40)
    writer = cv2.VideoWriter(str(tmp_path / "dance.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25, (320, 240))
    for picture in maps:
        writer.write(np.ascontiguousarray(picture[:, :, ::-1]))
    writer.release()
    for name, tolerance in (("dance.gif", 0.0), ("dance.avi", 2.0)):
        capsys.readouterr()
        assert cli.main(["read-map", str(tmp_path / name), "-q"]) == 0, capsys.readouterr().err
        assert "4 frames, 2 people (tracked)" in capsys.readouterr().err
        back = read_poses((tmp_path / name).with_suffix(".json"))
        assert len(back) == 4
        for drawn, read in zip(frames, back):
            assert [person.person_id for person in read.people] == [0, 1] or \
                [person.person_id for person in read.people] == [1, 0]
            ids = {person.person_id: person for person in read.people}
            for person_id, person in enumerate(sorted(drawn.people, key=lambda person: person.body[1].x)):
                got = np.array([(p.x, p.y) for p in ids[person_id].body])
                assert np.abs(got - [(p.x, p.y) for p in person.body]).max() <= tolerance, (name, person_id)
        (tmp_path / name).with_suffix(".json").unlink()
    # transparent means background, as in a single map (a transparent pixel over white is no black)
    clear = [np.dstack([picture, np.where(picture.any(axis=2), 255, 0).astype(np.uint8)]) for picture in maps]
    for picture in clear:
        picture[..., :3][picture[..., 3] == 0] = 255
    clear = [Image.fromarray(picture, "RGBA") for picture in clear]
    clear[0].save(tmp_path / "clear.png", save_all=True, append_images=clear[1:], duration=40)
    assert cli.main(["read-map", str(tmp_path / "clear.png"), "-q"]) == 0
    def points(poses):
        return [[(p.x, p.y) for person in frame.people for p in person.body] for frame in poses]

    assert points(read_poses(tmp_path / "clear.json")) == points(frames)
    write_image(tmp_path / "still.png", 32, 32, 0)
    assert cli.main(["read-map", str(tmp_path / "dance.gif"), str(tmp_path / "still.png"), "-o",
                     str(tmp_path / "all.json")]) == 1
    assert "a video makes one JSON list on its own" in error_lines(capsys.readouterr().err)[0]
    assert not (tmp_path / "all.json").exists()
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    assert cli.main(["read-map", str(tmp_path / "broken.mp4")]) == 1
    assert error_lines(capsys.readouterr().err) == [f"openpose-core: error: {tmp_path / 'broken.mp4'}: not a video "
                                                    "that OpenCV can decode"]


def test_read_map_transparent_background_and_errors(tmp_path, capsys):
    frame = whole_pixel_bodies(standing_frame(people=1))
    drawn = render_pose(frame)
    rgba = np.dstack([drawn, np.where(drawn.any(axis=2), 255, 0).astype(np.uint8)])
    rgba[..., :3][rgba[..., 3] == 0] = 255          # transparent white: background, not a white face dot
    cv2.imwrite(str(tmp_path / "map.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    assert np.array_equal(read_image(tmp_path / "map.png", keep_alpha=True), rgba)
    assert read_image(tmp_path / "map.png").shape[2] == 3
    assert cli.main(["read-map", str(tmp_path / "map.png"), "-o", str(tmp_path / "map.json")]) == 0
    [back] = read_poses(tmp_path / "map.json")
    assert [[(p.x, p.y) for p in person.body] for person in back.people] == \
        [[(p.x, p.y) for p in person.body] for person in frame.people]
    # several maps need -o; an unreadable map writes nothing and names itself
    (tmp_path / "broken.png").write_bytes(b"not a png")
    capsys.readouterr()
    assert cli.main(["read-map", str(tmp_path / "map.png"), str(tmp_path / "broken.png")]) == 1
    assert "-o" in error_lines(capsys.readouterr().err)[0]
    assert cli.main(["read-map", str(tmp_path / "map.png"), str(tmp_path / "broken.png"), "-o",
                     str(tmp_path / "both.json")]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines[0].startswith(f"openpose-core: error: {tmp_path / 'broken.png'}: not an image file")
    assert "not written" in lines[1] and not (tmp_path / "both.json").exists()


def test_an_output_folder_gets_the_file_under_the_input_name(tmp_path, capsys):
    """``-o`` naming a folder (an existing one, or any path with a trailing slash) puts the one output file
    in it under the input's name, rather than writing a file called like the folder, or skipping because
    the folder "exists"."""
    poses = tmp_path / "pose.json"
    write_poses(poses, whole_pixel_bodies(standing_frame(people=1)))
    (tmp_path / "old").mkdir()
    new = str(tmp_path / "new") + os.sep
    assert cli.main(["render", str(poses), "-o", str(tmp_path / "old")]) == 0
    drawn = tmp_path / "old" / "pose.png"
    assert np.array_equal(read_png(drawn), render_pose(read_poses(poses)[0]))
    assert cli.main(["read-map", str(drawn), "-o", str(tmp_path / "old")]) == 0
    assert cli.main(["read-map", str(drawn), "-o", new]) == 0
    assert read_poses(tmp_path / "old" / "pose.json") == read_poses(tmp_path / "new" / "pose.json")
    assert cli.main(["edit", str(poses), "-o", new, "--flip", "--overwrite"]) == 0
    assert read_poses(tmp_path / "new" / "pose.json") == [flip_horizontal(read_poses(poses)[0])]
    assert sorted(listing(tmp_path)) == ["new", "new/pose.json", "old", "old/pose.json", "old/pose.png", "pose.json"]
    # several maps make one list: its file needs a name
    capsys.readouterr()
    second = tmp_path / "second.png"
    second.write_bytes(drawn.read_bytes())
    assert cli.main(["read-map", str(drawn), str(second), "-o", new]) == 1
    assert error_lines(capsys.readouterr().err)[0].endswith("name its file with -o OUT.json")
    # a missing input is an error even when the output for the others is already there
    assert cli.main(["read-map", str(drawn), str(drawn.with_name("missing.png")), "-o", new]) == 1


def test_edit_applies_options_in_order_and_keeps_the_document_form(tmp_path):
    frame = standing_frame()
    source = tmp_path / "pose.json"
    write_poses(source, frame, confidence="score")
    original = read_poses(source)[0]
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "a.json"), "--flip", "--scale", "0.5",
                     "--translate", "10,-4", "--rotate", "30", "--people", "1"]) == 0
    expected = rotate(translate(scale(flip_horizontal(original, people=[1]), 0.5, people=[1]), 10, -4, people=[1]),
                      30, people=[1])
    document = json.loads((tmp_path / "a.json").read_text())
    assert isinstance(document, dict)
    result = read_poses(tmp_path / "a.json")[0]
    for got, want in zip(result.people, expected.people):
        assert np.allclose(got.body_array(), want.body_array())
        for hand in ("left_hand", "right_hand"):  # the flip moved person 1's hand to the other side
            assert np.allclose(*(np.array(getattr(person, hand) or []) for person in (got, want)))
    assert result.people[1].left_hand is not None and result.people[1].right_hand is None
    assert np.array_equal(result.people[0].body_array(), original.people[0].body_array())  # untouched, scores kept

    assert cli.main(["edit", str(source), "-o", str(tmp_path / "b.json"), "--translate", "10,0", "--scale", "0.5"]) == 0
    swapped = read_poses(tmp_path / "b.json")[0]
    assert np.allclose(swapped.people[0].body_array(), scale(translate(original, 10, 0), 0.5).people[0].body_array())


def test_edit_select_and_retarget_over_a_list(tmp_path, capsys):
    frames = [standing_frame(), standing_frame()]
    for index, frame in enumerate(frames):
        for person_id, person in enumerate(frame.people):
            person.person_id = 7 + person_id
        frames[index] = translate(frame, 3 * index, 0)
    source, reference = tmp_path / "clip.json", tmp_path / "ref.json"
    write_poses(source, frames)
    write_poses(reference, scale(standing_frame(people=1), 1.3))
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "one.json"), "--select-id", "8"]) == 0
    selected = json.loads((tmp_path / "one.json").read_text())
    assert isinstance(selected, list) and [[p["person_id"] for p in f["people"]] for f in selected] == [[[8]]] * 2

    assert cli.main(["edit", str(source), "-o", str(tmp_path / "re.json"), "--retarget", str(reference)]) == 0
    expected = retarget(read_poses(reference)[0], read_poses(source)).frames
    for got, want in zip(read_poses(tmp_path / "re.json"), expected):
        assert all(np.allclose(g.body_array(), w.body_array(), equal_nan=True) for g, w in zip(got.people, want.people))
    assert "retarget:" in capsys.readouterr().err
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "id.json"), "--retarget", str(reference),
                     "--target-id", "8"]) == 0
    expected = retarget(read_poses(reference)[0], read_poses(source), target_id=8).frames
    for got, want, before in zip(read_poses(tmp_path / "id.json"), expected, read_poses(source)):
        assert np.allclose(got.people[1].body_array(), want.people[1].body_array(), equal_nan=True)
        assert not np.allclose(got.people[1].body_array(), before.people[1].body_array(), equal_nan=True)
        assert np.allclose(got.people[0].body_array(), before.people[0].body_array(), equal_nan=True)
    capsys.readouterr()

    assert cli.main(["edit", str(source), "-o", str(tmp_path / "bad.json"), "--select", "0,5"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert str(source) in line and "frame 0" in line and "no such person" in line
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "none.json")]) == 1
    capsys.readouterr()
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "typo.json"), "--select-id", "9"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.endswith("--select-id: no person has id 9 (ids in the file: 7, 8)")
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "typo.json"), "--retarget", str(reference),
                     "--target-id", "9"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.endswith("--target-id: no person has id 9 (ids in the file: 7, 8)")
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "typo.json"), "--retarget", str(reference),
                     "--target-person", "5"]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.endswith("--target-person: no person 5 in any frame (the frames have at most 2 people)")
    assert not any((tmp_path / name).exists() for name in ("bad.json", "none.json", "typo.json"))


def body25_values(shift_x: float = 0.0, shift_y: float = 0.0) -> List[float]:
    """A CMU BODY_25 body (feet at 19..24) with every point distinct, moved by the shift."""
    return [value for index in range(25) for value in (100.0 + index + shift_x, 200.0 + index + shift_y, 0.9)]


def test_edit_keeps_body25_feet(tmp_path):
    source = tmp_path / "body25.json"
    person = {"person_id": [-1], "pose_keypoints_2d": body25_values()}
    source.write_text(json.dumps({"version": 1.3, "people": [person], "canvas_width": 640, "canvas_height": 480}))
    assert cli.main(["edit", str(source), "-o", str(tmp_path / "moved.json"), "--translate", "10,-5"]) == 0
    moved = json.loads((tmp_path / "moved.json").read_text())["people"][0]["pose_keypoints_2d"]
    assert len(moved) == 75 and moved[3 * 19:] == body25_values(10, -5)[3 * 19:]
    assert cli.main(["edit", str(tmp_path / "moved.json"), "-o", str(tmp_path / "no_feet.json"),
                     "--remove-parts", "feet"]) == 0
    assert len(json.loads((tmp_path / "no_feet.json").read_text())["people"][0]["pose_keypoints_2d"]) == 54


def test_edit_output_form_follows_the_document_past_a_bom_or_long_whitespace(tmp_path):
    frame = frame_to_dict(whole_pixel_bodies(standing_frame(people=1)))
    marked, padded = tmp_path / "marked.json", tmp_path / "padded.json"
    marked.write_bytes(b"\xef\xbb\xbf" + json.dumps([frame]).encode())
    padded.write_text(" " * 5000 + json.dumps([frame]))
    for source in (marked, padded):
        assert cli.main(["edit", str(source), "-o", str(tmp_path / "out.json"), "--flip", "--overwrite"]) == 0
        assert isinstance(json.loads((tmp_path / "out.json").read_text()), list)


def test_canvas_advice_names_the_option(tmp_path, capsys):
    pose = tmp_path / "cmu.json"
    pose.write_text(json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": body25_values()}]}))
    assert cli.main(["edit", str(pose), "-o", str(tmp_path / "out.json"), "--flip"]) == 0
    assert "using the points' extent 125x225; pass --canvas WxH to set it" in capsys.readouterr().err
    pose.write_text(json.dumps({"people": [{"pose_keypoints_2d": [0.5, 0.5, 1.0] * 18}]}))
    assert cli.main(["render", str(pose), "-o", str(tmp_path / "map.png")]) == 1
    [line] = error_lines(capsys.readouterr().err)
    assert line.endswith(": no canvas size and normalised coordinates: pass --canvas WxH")


def test_convert_writes_a_verified_safetensors_and_refuses_other_files(checkpoint_dir, published_states, tmp_path,
                                                                       capsys):
    import safetensors.torch
    source = tmp_path / "hand.pth"
    source.symlink_to(checkpoint_dir / DEFAULT_FILENAMES["hand"])
    target = tmp_path / "hand.safetensors"
    assert cli.main(["convert", str(source)]) == 0
    assert f"{source} -> {target} (hand checkpoint, " in capsys.readouterr().out
    stored = safetensors.torch.load_file(target)
    assert sorted(stored) == sorted(published_states["hand"])
    assert all(torch.equal(stored[key], value) for key, value in published_states["hand"].items())
    assert cli.main(["convert", str(source)]) == 0
    assert "skipped" in capsys.readouterr().err
    # -o: a new folder is created for it; a name that load_checkpoint would not read as safetensors is refused
    assert cli.main(["convert", str(source), "-o", str(tmp_path / "weights") + os.sep]) == 0
    assert torch.equal(safetensors.torch.load_file(tmp_path / "weights" / "hand.safetensors")["conv1_1.weight"],
                       stored["conv1_1.weight"])
    assert cli.main(["convert", str(source), "-o", str(tmp_path / "hand_copy")]) == 1
    assert error_lines(capsys.readouterr().err)[-1].endswith("must end in .safetensors (checkpoints are read by "
                                                            "their extension)")
    assert not (tmp_path / "hand_copy").exists()
    shutil.rmtree(tmp_path / "weights")

    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"definitely not a checkpoint")
    assert cli.main(["convert", str(junk), str(tmp_path / "absent.pth")]) == 1
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 2 and str(junk) in errors[0] and str(tmp_path / "absent.pth") in errors[1]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hand.pth", "hand.safetensors", "junk.pth"]
