"""The ``openpose-core`` command: detect poses in images and videos, render, edit and convert pose files,
and prepare weights for offline use. ``openpose-core SUBCOMMAND --help`` documents each subcommand.

Conventions shared by every subcommand:

- A user mistake (a missing file, an unreadable image, a malformed pose file, unusable weights) is one
  line on stderr, ``openpose-core: error: <what>: <problem>``, never a traceback; the other inputs are
  still processed and the exit status is 1. A bad command line exits with 2, an interruption with 130.
- Outputs are written under a temporary name and renamed (:func:`openpose_core.media.write_atomically`),
  so an interrupted run leaves complete files or none; a rerun skips work whose outputs exist unless
  ``--overwrite``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from tqdm import tqdm

from . import __version__, edit
from .detector import OpenposeDetector
from .formats import PoseFormatError, frames_to_json, read_poses
from .image import ImageError, output_size, read_image
from .media import (
    SEQUENCE_FPS, Input, InputError, VideoReader, encode_png, find_inputs, partial_folder, remove_folder,
    replace_folder, write_atomically,
)
from .pose import BODY_PARTS, FOOT_PARTS, PoseFrame
from .presets import PART_PRESETS, PRESETS
from .render import FIT_MODES, render_pose
from .retarget import retarget
from .skeleton_image import pose_from_skeleton_image
from .smooth import DEFAULT_BETA, DEFAULT_D_CUTOFF, DEFAULT_MIN_CUTOFF, fill_gaps, smooth_poses
from .track import track_people
from .weights import DEFAULT_REPO, WeightsError, convert_checkpoint, load_checkpoint, resolve_checkpoint

PROG = "openpose-core"
KINDS = ("body", "hand", "face")
DRAWN_PARTS = ("body", "hands", "face")
USER_ERRORS = (InputError, ImageError, PoseFormatError, OSError, ValueError, IndexError, cv2.error)
"""What one input's processing may raise because of the input itself (or the disk): reported on one line,
then the next input. Unusable weights stop the run (``WeightsError``); anything else is a bug and keeps
its traceback."""


class Fatal(Exception):
    """A problem that stops the whole command (one line, exit status 1)."""


# --- messages ----------------------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _say(message: str) -> None:
    """A line on stderr that does not tear a running progress bar."""
    tqdm.write(_one_line(message), file=sys.stderr)


def _error(message: str) -> None:
    _say(f"{PROG}: error: {message}")


def _note(message: str) -> None:
    _say(f"{PROG}: {message}")


def _describe(error: BaseException, path: Optional[Path] = None) -> str:
    """One line for ``error``, starting with ``path`` unless the message already names it."""
    if isinstance(error, OSError) and error.strerror:
        text = f"{error.filename or path}: {error.strerror}"
    elif isinstance(error, cv2.error):
        text = f"OpenCV failed: {(error.err or str(error)).strip()}"
    else:
        text = str(error) or type(error).__name__
    if path is not None and not text.startswith(str(path)):
        text = f"{path}: {text}"
    return _one_line(text)


# --- argument types ----------------------------------------------------------------------------------------

def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _number(minimum: float, inclusive: bool) -> Callable[[str], float]:
    """A finite number above ``minimum`` (or equal to it when ``inclusive``)."""
    def parse(text: str) -> float:
        value = _floats(1)(text)[0]
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"expected a number {'>=' if inclusive else '>'} {minimum:g}, "
                                             f"got {text!r}")
        return value
    return parse


def _floats(count: int, at_least: int = 1) -> Callable[[str], List[float]]:
    """Comma-separated finite numbers, ``at_least`` to ``count`` of them (e.g. ``1.2`` or ``1.2,0.8``)."""
    def parse(text: str) -> List[float]:
        try:
            values = [float(part) for part in text.split(",")]
        except ValueError:
            values = []
        if not at_least <= len(values) <= count or not np.isfinite(values).all():
            forms = " or ".join(",".join(["N"] * length) for length in range(at_least, count + 1))
            raise argparse.ArgumentTypeError(f"expected {forms} (numbers), got {text!r}")
        return values
    return parse


def _indices(text: str) -> List[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers like 0,2, got {text!r}") from None


def _size(text: str) -> Tuple[int, int]:
    """``WIDTHxHEIGHT`` in pixels."""
    parts = text.lower().split("x")
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 512x768, got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"width and height must be >= 1, got {text!r}")
    return width, height


def _names(allowed: Sequence[str]) -> Callable[[str], List[str]]:
    def parse(text: str) -> List[str]:
        names = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(allowed)}; got {text!r}")
        return names
    return parse


def _override(text: str) -> Tuple[str, float]:
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=FACTOR like thigh=1.1, got {text!r}") from None


# --- shared file helpers -----------------------------------------------------------------------------------

def _output_folder(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise Fatal(f"{path}: exists and is not a folder (-o names the output folder)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise Fatal(_describe(error, path)) from None
    return path


def _names_folder(output: str) -> bool:
    """Whether ``-o`` names a folder: an existing one, or any path written with a trailing slash."""
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def _output_file(output: Optional[str], default: Path) -> Path:
    """The file that ``-o`` names: ``default`` without it; inside the folder, under ``default``'s name,
    when it names a folder (``-o out/``)."""
    if output is None:
        return default
    return Path(output) / default.name if _names_folder(output) else Path(output)


def _skip_existing(paths: Sequence[Path], overwrite: bool) -> bool:
    """Whether work producing ``paths`` can be skipped: all exist and ``--overwrite`` was not given."""
    return not overwrite and all(path.exists() for path in paths)


def _kept(output: Path, overwrite: bool) -> bool:
    """Whether ``output`` exists and stays (no ``--overwrite``); says so."""
    if not _skip_existing([output], overwrite):
        return False
    _note(f"skipped: {output} exists (--overwrite replaces it)")
    return True


def _json_bytes(poses, coordinates: str, confidence: str) -> bytes:
    return frames_to_json(poses, coordinates=coordinates, confidence=confidence).encode("utf-8")


def _read_pose_file(path: Path, args) -> Tuple[List[PoseFrame], bool]:
    """Frames of a pose file and whether the document is a list (a video) rather than a single pose."""
    notes: List[str] = []
    try:
        frames = read_poses(path, coordinates=args.coordinates_in, canvas=args.canvas, strict=not args.lenient,
                            notes=notes)
        is_list = path.is_dir() or _starts_list(path)
    except PoseFormatError as error:
        raise Fatal(f"{path}: {error}") from None
    except OSError as error:
        raise Fatal(_describe(error, path)) from None
    for note in notes:
        _note(f"note: {path}: {note}")
    if not frames:
        raise Fatal(f"{path}: holds no pose frames")
    return frames, is_list


def _starts_list(path: Path) -> bool:
    """Whether the file's JSON is a list (its first character is ``[``)."""
    with open(path, "rb") as handle:
        return handle.read(4096).lstrip().startswith(b"[")


def _add_pose_reading_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reading the pose file")
    group.add_argument("--coordinates-in", choices=("auto", "pixels", "normalized"), default="auto",
                       help="how to read coordinates: guess once per file (default), or force pixels / 0..1")
    group.add_argument("--canvas", type=_size, metavar="WxH",
                       help="the canvas the coordinates refer to, overriding canvas_width/canvas_height")
    group.add_argument("--lenient", action="store_true",
                       help="skip broken people/parts/frames (each reported as a note) instead of failing")


# --- detect ------------------------------------------------------------------------------------------------

@dataclass
class _Tally:
    images: int = 0
    videos: int = 0
    frames: int = 0
    people: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self, seconds: float) -> str:
        files = self.images + self.videos
        videos = f", {self.videos} video{'s' * (self.videos != 1)} of {self.frames} frames" if self.videos else ""
        return (f"{PROG}: {files} file{'s' * (files != 1)} processed ({self.images} image"
                f"{'s' * (self.images != 1)}{videos}), {self.people} {'person' if self.people == 1 else 'people'} "
                f"found, {self.skipped} skipped (outputs exist), {self.failed} failed, {seconds:.1f} s")


class _Detection:
    """What ``detect`` does to one image or video: the networks (loaded on first use, so a rerun with
    nothing left to do loads nothing), the options, and how frames become maps and JSON."""

    def __init__(self, args):
        self.args = args
        body, hands, face = PART_PRESETS[args.mode]
        self.draw = {"body": body, "hands": hands or args.hand, "face": face or args.face}
        self._detector: Optional[OpenposeDetector] = None

    @property
    def detector(self) -> OpenposeDetector:
        if self._detector is None:
            args = self.args
            detector = OpenposeDetector.from_pretrained(args.model, cache_dir=args.cache_dir,
                                                        local_files_only=args.offline, device=_device(args.device),
                                                        preset=args.preset)
            if self.draw["hands"]:
                detector.hand_model  # noqa: B018 -- load now, so missing weights stop the run before any work
            if self.draw["face"]:
                detector.face_model  # noqa: B018
            self._detector = detector
        return self._detector

    def detect(self, images: List[np.ndarray]) -> List[PoseFrame]:
        return self.detector.detect_batch(images, detect_resolution=self.args.resolution,
                                          include_hand=self.draw["hands"], include_face=self.draw["face"],
                                          batch_size=self.args.batch_size)

    def map_size(self, frame: PoseFrame, input_size: Tuple[int, int]) -> Tuple[int, int]:
        """(width, height) of the map and of the JSON canvas: the detect size by default, the reference's
        ``image_resolution`` rule when given, the input's own size for 0."""
        resolution = self.args.image_resolution
        if resolution is None:
            return frame.width, frame.height
        if resolution == 0:
            return input_size
        height, width = output_size(frame.height, frame.width, resolution, "--image-resolution")
        return width, height

    def render(self, frame: PoseFrame, size: Tuple[int, int]) -> bytes:
        """The map as the reference makes it: drawn at the detect size, then resized (bilinear)."""
        canvas = render_pose(frame, body=self.draw["body"], hands=self.draw["hands"], face=self.draw["face"],
                             stick_scaling=self.args.stick_scaling)
        if (canvas.shape[1], canvas.shape[0]) != size:
            canvas = cv2.resize(canvas, size, interpolation=cv2.INTER_LINEAR)
        return encode_png(canvas)

    def json(self, frames, size: Tuple[int, int]) -> bytes:
        """JSON text with coordinates in the map's pixels (or normalised) and canvas = the map size."""
        def to_map(frame: PoseFrame) -> PoseFrame:
            return frame if (frame.width, frame.height) == size else edit.resize(frame, *size)
        poses = to_map(frames) if isinstance(frames, PoseFrame) else [to_map(frame) for frame in frames]
        return _json_bytes(poses, self.args.coordinates, self.args.confidence)


def _device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise Fatal(f"--device {name}: not a device name (auto, cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise Fatal(f"--device {name}: PyTorch sees no CUDA GPU here (use --device cpu)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise Fatal(f"--device {name}: MPS is not available here (use --device cpu)")
    return name


def _image_outputs(item: Input, args) -> List[Path]:
    out = Path(args.output)
    return ([out / f"{item.name}.png"] if not args.no_map else []) + \
           ([out / f"{item.name}.json"] if not args.no_json else [])


def _video_outputs(item: Input, args) -> List[Path]:
    out = Path(args.output)
    return ([out / item.name] if not args.no_map else []) + ([out / f"{item.name}.json"] if not args.no_json else [])


def _detect_images(items: List[Input], work: _Detection, tally: _Tally, bar) -> None:
    """Images in chunks of ``--batch-size``: decode, detect together, write each one's map and JSON."""
    args = work.args
    for start in range(0, len(items), args.batch_size):
        loaded: List[Tuple[Input, np.ndarray]] = []
        for item in items[start:start + args.batch_size]:
            try:
                loaded.append((item, read_image(item.path)))
            except USER_ERRORS as error:
                _error(_describe(error, item.path))
                tally.failed += 1
                bar.update(1)
        for (item, image), frame in zip(loaded, _detect_each(work, loaded, tally)):
            if frame is not None:
                try:
                    _write_image(item, image, frame, work)
                    tally.images += 1
                    tally.people += len(frame.people)
                except USER_ERRORS as error:
                    _error(_describe(error, item.path))
                    tally.failed += 1
            bar.update(1)


def _detect_each(work: _Detection, loaded: List[Tuple[Input, np.ndarray]], tally: _Tally) -> List[Optional[PoseFrame]]:
    """Frames for the loaded images, batched; if the batch fails on an image, each is retried alone so the
    error names its file and the others still get their poses."""
    if not loaded:
        return []
    try:
        return work.detect([image for _, image in loaded])
    except ImageError:
        pass
    frames: List[Optional[PoseFrame]] = []
    for item, image in loaded:
        try:
            frames.append(work.detect([image])[0])
        except ImageError as error:
            message = str(error)
            message = message.split(": ", 1)[1] if message.startswith("image ") else message
            _error(f"{item.path}: {message}")
            tally.failed += 1
            frames.append(None)
    return frames


def _write_image(item: Input, image: np.ndarray, frame: PoseFrame, work: _Detection) -> None:
    """Map first, JSON last: an image counts as done only when every output exists."""
    args = work.args
    size = work.map_size(frame, (image.shape[1], image.shape[0]))
    out = Path(args.output)
    if not args.no_map:
        write_atomically(out / f"{item.name}.png", work.render(frame, size))
    if not args.no_json:
        write_atomically(out / f"{item.name}.json", work.json(frame, size))


def _detect_video(item: Input, work: _Detection, tally: _Tally, bar) -> None:
    """Stream the frames through the networks in batches, then track (``person_id``), optionally fill gaps
    and smooth, then write the frame maps (a folder, put in place when complete) and the JSON list."""
    args = work.args
    frames: List[PoseFrame] = []
    input_size = None
    with VideoReader(item.path) as video:
        bar.total = (bar.total or 0) + video.frame_count
        bar.refresh()
        for chunk in video.chunks(args.batch_size):
            input_size = (chunk[0].shape[1], chunk[0].shape[0])
            frames.extend(work.detect(chunk))
            bar.update(len(chunk))
        fps = args.fps or video.fps
    if not frames:
        raise InputError(f"{item.path}: no frame could be decoded")
    frames = track_people(frames)
    if args.fill_gaps:
        frames = fill_gaps(frames, args.fill_gaps)
    if args.smooth:
        frames = smooth_poses(frames, fps=fps, min_cutoff=args.min_cutoff, beta=args.beta, d_cutoff=args.d_cutoff,
                              bidirectional=not args.causal)
    size = work.map_size(frames[0], input_size)
    out = Path(args.output)
    if not args.no_map:
        folder = partial_folder(out / item.name)
        try:
            for index, frame in enumerate(frames):
                (folder / f"{index:06d}.png").write_bytes(work.render(frame, size))
            replace_folder(folder, out / item.name)
        finally:
            remove_folder(folder)  # gone already when it was put in place
    if not args.no_json:
        write_atomically(out / f"{item.name}.json", work.json(frames, size))
    tally.videos += 1
    tally.frames += len(frames)
    tally.people += len({person.person_id for frame in frames for person in frame.people})


def run_detect(args) -> int:
    started = time.perf_counter()
    if args.no_map and args.no_json:
        raise Fatal("--no-map and --no-json together leave nothing to write")
    out = _output_folder(Path(args.output))
    inputs, problems = find_inputs(args.inputs, exclude=out, sequences=args.sequence)
    for problem in problems:
        _error(problem)
    tally = _Tally(failed=len(problems))
    work = _Detection(args)
    todo = []
    for item in inputs:
        outputs = _image_outputs(item, args) if item.kind == "image" else _video_outputs(item, args)
        if _skip_existing(outputs, args.overwrite):
            tally.skipped += 1
        else:
            todo.append(item)
    images = [item for item in todo if item.kind == "image"]
    videos = [item for item in todo if item.kind == "video"]
    with tqdm(total=len(images), unit="frame", desc=PROG, disable=True if args.quiet else None,
              file=sys.stderr, dynamic_ncols=True) as bar:
        _detect_images(images, work, tally, bar)
        for item in videos:
            try:
                _detect_video(item, work, tally, bar)
            except USER_ERRORS as error:
                _error(_describe(error, item.path))
                tally.failed += 1
    if not args.quiet:
        print(tally.line(time.perf_counter() - started), flush=True)
    return 1 if tally.failed else 0


# --- render ------------------------------------------------------------------------------------------------

def _render_size(frame: PoseFrame, width: Optional[int], height: Optional[int]) -> Tuple[Optional[int], Optional[int]]:
    """Both sides given: as given; one: the other keeps the frame's aspect; none: the frame's canvas."""
    if width is None and height is None:
        return None, None
    if height is None:
        height = max(1, round(width * frame.height / frame.width))
    if width is None:
        width = max(1, round(height * frame.width / frame.height))
    return width, height


def run_render(args) -> int:
    source = Path(args.pose)
    frames, is_list = _read_pose_file(source, args)
    if args.frame is not None:
        if not -len(frames) <= args.frame < len(frames):
            raise Fatal(f"{source}: --frame {args.frame} is out of range (the file has {len(frames)} frames)")
        frames, is_list = [frames[args.frame]], False
    parts = set(args.parts)

    def draw(frame: PoseFrame) -> bytes:
        width, height = _render_size(frame, args.width, args.height)
        try:
            canvas = render_pose(frame, width, height, body="body" in parts, hands="hands" in parts,
                                 face="face" in parts, fit=args.fit, stick_scaling=args.stick_scaling)
        except ValueError as error:     # a canvas too large for memory
            raise Fatal(f"{source}: {error}") from None
        return encode_png(canvas)

    if len(frames) == 1 and not (is_list and args.output is None):
        target = _output_file(args.output, source.with_suffix(".png"))
        if _kept(target, args.overwrite):
            return 0
        write_atomically(target, draw(frames[0]))
        _note(f"wrote {target}")
        return 0
    folder = Path(args.output) if args.output else \
        source.with_name(source.name + "_maps") if source.is_dir() else source.with_suffix("")
    if folder.suffix.lower() == ".png":
        raise Fatal(f"{source}: holds {len(frames)} frames; give -o a folder, or pick one with --frame N")
    if _kept(folder, args.overwrite):
        return 0
    partial = partial_folder(folder)
    try:
        for index, frame in enumerate(frames):
            (partial / f"{index:06d}.png").write_bytes(draw(frame))
        replace_folder(partial, folder)
    finally:
        remove_folder(partial)
    _note(f"wrote {len(frames)} maps to {folder}/")
    return 0


# --- read-map ----------------------------------------------------------------------------------------------

def run_read_map(args) -> int:
    inputs, problems = find_inputs(args.maps)
    videos = [item for item in inputs if item.kind == "video"]
    if videos and (len(inputs) > 1 or problems):
        raise Fatal(f"{videos[0].path}: a video makes one JSON list on its own: read it in a run of its own")
    for problem in problems:
        _error(problem)
    if videos:
        return _read_map_video(videos[0], args)
    maps = [item for item in inputs if item.kind == "image"]
    if not maps:
        return 1
    one = len(maps) == 1 and not args.list
    if not one and (args.output is None or _names_folder(args.output)):
        raise Fatal(f"{len(maps)} maps make one JSON list of frames: name its file with -o OUT.json")
    target = _output_file(args.output, maps[0].path.with_suffix(".json"))
    if _kept(target, args.overwrite):
        return 1 if problems else 0
    frames, failed = [], 0
    for item in tqdm(maps, unit="map", desc=PROG, disable=True if args.quiet or one else None, file=sys.stderr,
                     dynamic_ncols=True):
        try:
            frames.append(_read_map(read_image(item.path, keep_alpha=True), args))
        except USER_ERRORS as error:
            _error(_describe(error, item.path))
            failed += 1
    if failed or problems:
        # a list with a frame left out would shift every later frame: write all or nothing
        raise Fatal(f"{target}: not written ({failed + len(problems)} of the inputs could not be read)")
    _write_read_maps(target, frames[0] if one else track_people(frames), args)
    return 0


def _read_map_video(item: Input, args) -> int:
    """A video (or animated image) of maps: one JSON list, a frame per video frame, people tracked."""
    target = _output_file(args.output, item.path.with_suffix(".json"))
    if _kept(target, args.overwrite):
        return 0
    frames: List[PoseFrame] = []
    try:
        video = VideoReader(item.path, keep_alpha=True)     # transparent means background, as for one map
    except InputError as error:
        raise Fatal(str(error)) from None
    with video, tqdm(total=video.frame_count or None, unit="frame", desc=PROG, file=sys.stderr,
                     disable=True if args.quiet else None, dynamic_ncols=True) as bar:
        for chunk in video.chunks(16):
            for image in chunk:
                try:
                    frames.append(_read_map(image, args))
                except USER_ERRORS as error:
                    raise Fatal(f"{target}: not written (frame {len(frames)}: {_describe(error, item.path)})")
                bar.update(1)
    if not frames:
        raise Fatal(f"{item.path}: no frame could be decoded")
    _write_read_maps(target, track_people(frames), args)
    return 0


def _read_map(image: np.ndarray, args) -> PoseFrame:
    return pose_from_skeleton_image(image, hands=not args.no_hands, face=not args.no_face)


def _write_read_maps(target: Path, poses, args) -> None:
    write_atomically(target, _json_bytes(poses, args.coordinates, "visibility"))
    frames = [poses] if isinstance(poses, PoseFrame) else poses
    ids = {person.person_id for frame in frames for person in frame.people}
    people = len(ids) if len(frames) > 1 and None not in ids else sum(len(frame.people) for frame in frames)
    _note(f"wrote {target}: {len(frames)} frame{'s' * (len(frames) != 1)}, "
          f"{people} {'person' if people == 1 else 'people'}{' (tracked)' * (len(frames) > 1)}")


# --- edit --------------------------------------------------------------------------------------------------

class _Operation(argparse.Action):
    """Collects editing options in command-line order into ``args.operations`` as (name, value)."""

    def __call__(self, parser, namespace, values, option_string=None):
        operations = list(getattr(namespace, "operations", None) or [])
        operations.append((self.dest, values))
        namespace.operations = operations


def _frame_edit(name: str, value, people: Optional[List[int]]) -> Callable[[PoseFrame], PoseFrame]:
    """The per-frame function of one editing option."""
    if name == "flip":
        return lambda frame: edit.flip_horizontal(frame, people=people)
    if name == "scale":
        return lambda frame: edit.scale(frame, value[0], value[-1], people=people)
    if name == "rotate":
        return lambda frame: edit.rotate(frame, value[0], people=people)
    if name == "translate":
        return lambda frame: edit.translate(frame, value[0], value[1], people=people)
    if name == "resize":
        return lambda frame: edit.resize(frame, *value)
    if name == "select":
        return lambda frame: edit.select_people(frame, value)
    if name == "select_id":
        wanted = set(value)
        return lambda frame: edit.select_people(
            frame, [index for index, person in enumerate(frame.people) if person.person_id in wanted])
    if name == "remove_parts":
        return lambda frame: edit.remove_parts(frame, value, people=people)
    raise AssertionError(name)


def _apply_retarget(frames: List[PoseFrame], reference_path: str, args) -> List[PoseFrame]:
    reference_frames, _ = _read_pose_file(Path(reference_path), args)
    reference = reference_frames[0]
    if not -len(reference.people) <= args.reference_person < len(reference.people):
        raise Fatal(f"{reference_path}: no person {args.reference_person} in its first frame "
                    f"(it has {len(reference.people)})")
    result = retarget(reference, frames, height=args.height, anchor=args.anchor, overrides=dict(args.override or []),
                      reference_person=args.reference_person, target_person=args.target_person,
                      target_id=args.target_id)
    report = result.report
    kept = list(report.kept)
    listed = ", ".join(kept[:4]) + (", ..." if len(kept) > 4 else "")
    _note(f"retarget: {len(report.scaled)} bones/parts rescaled, height factor {report.height_factor:.3f}"
          + (f"; {len(kept)} kept at their length for lack of joints ({listed})" if kept else "")
          + (f"; target person missing in {len(report.frames_without_person)} frames"
             if report.frames_without_person else ""))
    return result.frames


def _check_ids(frames: List[PoseFrame], wanted: List[int], where: str) -> None:
    """An id that no frame has is a typo, not an empty selection: refuse it, listing the ids there are."""
    ids = {person.person_id for frame in frames for person in frame.people if person.person_id is not None}
    if not set(wanted) & ids:
        listed = ", ".join(str(number) for number in sorted(ids)) or "none"
        raise Fatal(f"{where}: no person has id {', '.join(map(str, wanted))} (ids in the file: {listed})")


def run_edit(args) -> int:
    source = Path(args.pose)
    target = _output_file(args.output, source.with_name(source.name + ".json") if source.is_dir() else source)
    operations = getattr(args, "operations", None) or []
    if not operations:
        raise Fatal("nothing to do: give at least one editing option (see openpose-core edit --help)")
    if _kept(target, args.overwrite):
        return 0
    frames, is_list = _read_pose_file(source, args)
    for name, value in operations:
        option = "--" + name.replace("_", "-")
        if name == "retarget":
            if args.target_id is not None:
                _check_ids(frames, [args.target_id], f"{source}: --target-id")
            try:
                frames = _apply_retarget(frames, value, args)
            except ValueError as error:
                raise Fatal(f"{source}: {option}: {error}") from None
            continue
        if name == "select_id":
            _check_ids(frames, value, f"{source}: {option}")
        change = _frame_edit(name, value, args.people)
        for index, frame in enumerate(frames):
            where = f"{source}: frame {index}: " if is_list else f"{source}: "
            try:
                frames[index] = change(frame)
            except IndexError:
                raise Fatal(f"{where}{option}: no such person (the frame has {len(frame.people)})") from None
            except ValueError as error:
                raise Fatal(f"{where}{option}: {error}") from None
    poses = frames if is_list or len(frames) != 1 else frames[0]
    try:
        text = _json_bytes(poses, args.coordinates, args.confidence)
    except PoseFormatError as error:
        raise Fatal(f"{source}: the edited poses cannot be written: {error}") from None
    write_atomically(target, text)
    _note(f"wrote {target}")
    return 0


# --- convert and download ----------------------------------------------------------------------------------

def _verify_conversion(source: Path, converted: Path, kind: Optional[str]) -> Tuple[str, int]:
    """Read the conversion back, check it against the network's layout and compare every tensor with
    the original; returns (kind, tensor count)."""
    state, found = None, None
    for candidate in ([kind] if kind else KINDS):
        try:
            state, found = load_checkpoint(converted, candidate), candidate
            break
        except WeightsError:
            continue
    if state is None:
        raise WeightsError(f"{converted}: the conversion does not load as a body, hand or face checkpoint")
    original = torch.load(source, map_location="cpu", weights_only=True)
    if set(original) != set(state) or any(not torch.equal(original[key].to(torch.float32), state[key])
                                          for key in state):
        raise WeightsError(f"{converted}: verification failed: its tensors differ from {source}")
    return found, len(state)


def run_convert(args) -> int:
    if args.output and len(args.checkpoints) > 1:
        raise Fatal("-o names one output file; convert one checkpoint at a time with -o")
    failed = 0
    for name in args.checkpoints:
        source = Path(name)
        target = _output_file(args.output, source.with_suffix(".safetensors"))
        if target.resolve() == source.resolve():
            _error(f"{source}: the output would replace the checkpoint itself; give another -o")
            failed += 1
            continue
        if _kept(target, args.overwrite):
            continue
        try:
            written = convert_checkpoint(source, target, args.kind)
            kind, count = _verify_conversion(source, written, args.kind)
        except ValueError as error:         # an output name without .safetensors
            raise Fatal(str(error)) from None
        except WeightsError as error:
            _error(_describe(error, source))
            failed += 1
            continue
        print(f"{source} -> {written} ({kind} checkpoint, {count} tensors, verified)", flush=True)
    return 1 if failed else 0


def run_download(args) -> int:
    failed = 0
    for kind in args.parts:
        try:
            path = resolve_checkpoint(kind, args.model, cache_dir=args.cache_dir, local_files_only=args.offline)
            load_checkpoint(path, kind)  # checks it, and writes the .safetensors copy later loads use
        except WeightsError as error:
            _error(str(error))
            failed += 1
            continue
        converted = path.with_suffix(".safetensors")
        print(f"{kind}: {converted if converted.is_file() else path}", flush=True)
    if not failed:
        _note(f"{len(args.parts)} checkpoint{'s' * (len(args.parts) != 1)} ready; later runs work offline "
              "(--offline or HF_HUB_OFFLINE=1)")
    return 1 if failed else 0


# --- the parser --------------------------------------------------------------------------------------------

DETECT_HELP = f"""\
Detect people in images and videos and write the ControlNet OpenPose map and the pose JSON of each.

inputs: image files, folders (searched recursively for images and videos; hidden files and the output
folder are skipped) and glob patterns ('photos/**/*.jpg', quoted so the shell leaves them alone). Videos
are decoded with OpenCV; animated GIF, WebP and PNG files are videos too (every frame, decoded with
Pillow; the frame duration gives the frame rate). By default only bodies are detected, like the
reference preprocessor ("openpose"); --hand, --face or --mode add hands and faces.

outputs, in the -o folder (a folder input keeps its sub-folders):
  photo.jpg  ->  OUT/photo.png    the map (ControlNet OpenPose colours)
                 OUT/photo.json   OpenPose JSON: {{"people": [...], "canvas_width": W, "canvas_height": H}}
  clip.mp4   ->  OUT/clip/000000.png, 000001.png, ...   one map per frame (0-based, the JSON list index)
                 OUT/clip.json    a list with one pose object per frame; each person carries a
                                  "person_id" that stays with them across frames
  Inputs that would get the same name (a.jpg and a.png) are named with their extension
  (OUT/a.jpg.png, OUT/a.jpg.json, ...).
  JSON coordinates are pixels of the map (canvas_width/canvas_height = the map size) or, with
  --coordinates normalized, fractions of it. The map is the detect image's size by default (short
  side --resolution, sides rounded to multiples of 64, like the reference).

Outputs are written under temporary names and renamed, so an interrupted run leaves no partial file;
an input whose outputs all exist is skipped (--overwrite redoes it), so rerunning the same command
finishes an interrupted job. A video counts as done when its JSON (and frame folder) exist.

image sequences: with --sequence, each folder given is one video whose frames are the images in it
(not in its sub-folders), in natural name order (frame_2 before frame_10), all of one size:
  frames/    ->  OUT/frames/000000.png, ...  and  OUT/frames.json, like a video file
Without it, a folder's images are separate pictures.

video clean-up: people are tracked by keypoint distance (ids as "person_id"). --fill-gaps N fills a
joint missing for up to N frames by interpolating between the frames around the gap (off by default:
missing joints are never invented otherwise). --smooth applies the One Euro filter to remove jitter:
  --min-cutoff HZ  cutoff for still points; lower = steadier, more lag when slow (default {DEFAULT_MIN_CUTOFF})
  --beta B         cutoff increase per unit of speed (person sizes per second); higher = less lag on
                   fast motion, more jitter (default {DEFAULT_BETA})
  --d-cutoff HZ    cutoff of the speed estimate (default {DEFAULT_D_CUTOFF})
By default the filter runs forwards and backwards and the two are averaged, which cancels its lag
(the whole video is available); --causal uses only past frames, like a live filter.

weights: downloaded from the Hugging Face Hub (--model, default {DEFAULT_REPO}) on first use and
cached (HF_HOME); --model also takes a local folder or checkpoint file; `{PROG} download` fetches
them ahead of time, then --offline (or HF_HUB_OFFLINE=1) never touches the network.

exit status: 0 every input done or skipped; 1 some input failed (each named on one line on stderr,
the others still processed) or the weights could not be loaded; 2 bad command line; 130 interrupted.
"""

RENDER_HELP = """\
Draw the ControlNet OpenPose map of a pose JSON file (OpenPose, sd-webui-controlnet or ComfyUI
POSE_KEYPOINT; pixel or normalised coordinates).

A single pose is drawn to -o (default: the JSON's name with .png). A list of poses (a video) is drawn
to a folder of frames 000000.png, 000001.png, ... (-o, default: the JSON's name without extension),
or pick one with --frame N. The map has the pose's canvas size unless --width/--height say otherwise
(one of them alone keeps the aspect ratio); --fit says how the canvas is mapped onto another size:
stretch (independent x/y scaling), contain (whole pose inside, black borders), cover (fill, crop).
An existing output is kept unless --overwrite.
"""

READ_MAP_HELP = """\
Read OpenPose map images (black background, the standard limb and joint colours, as `render` and
ControlNet preprocessors draw them) back into pose JSON, so that a pose that exists only as a picture
can be edited. Maps may have been resized (about 0.5x-2x) or saved as JPEG; transparent pixels count
as background. Points are in the map's pixels, confidence 1 (see openpose_core.skeleton_image for the
method and its measured limits).

One map gives one pose (-o, default: the map's name with .json). Several maps, or a folder of frames
(000000.png, 000001.png, ... in name order), give one JSON list of frames, -o required; if any map
cannot be read nothing is written. A video of maps (or an animated GIF, WebP or PNG), read on its own,
gives one JSON list with a frame per video frame (-o, default: its name with .json). In a list, each
person carries a "person_id" that stays with them across frames. An existing output is kept unless
--overwrite.
"""

EDIT_HELP = """\
Edit a pose JSON file and write the result. Editing options apply in the order given, to every frame
(all people, or those chosen with --people), e.g.
  openpose-core edit pose.json -o out.json --flip --scale 0.8 --translate 0,40
Angles are degrees, counter-clockwise on screen, about the canvas centre; scale is about the canvas
centre; --resize scales picture and canvas together. --retarget REF.json gives the target person the
bone lengths of the reference's person (first frame of REF.json) while keeping the target's joint angles;
for a list of frames one set of scales is used for all. The output keeps the input's form (one pose or a
list), person ids and confidences. An existing output is kept unless --overwrite.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Fast OpenPose (body, hands, face) for ControlNet: detect, render, edit and "
                               "convert poses.",
        epilog=f"'{PROG} COMMAND --help' describes a command. Example: {PROG} detect photos/ -o out/")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_detect(commands)
    _add_render(commands)
    _add_edit(commands)
    _add_read_map(commands)
    _add_convert(commands)
    _add_download(commands)
    return parser


def _command(commands, name: str, help_text: str, description: str, run) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(run=run)
    return parser


def _add_weights_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("weights")
    group.add_argument("--model", default=DEFAULT_REPO, metavar="REPO_OR_PATH",
                       help=f"Hub repo, local folder or checkpoint file (default: {DEFAULT_REPO})")
    group.add_argument("--cache-dir", metavar="DIR", help="Hugging Face cache folder (default: HF_HOME's)")
    group.add_argument("--offline", action="store_true", help="use cached weights only, never the network")


def _add_detect(commands) -> None:
    parser = _command(commands, "detect", "detect poses in images, folders and videos", DETECT_HELP, run_detect)
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image, video, folder or glob pattern")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder (created if needed)")
    parser.add_argument("--overwrite", action="store_true", help="redo inputs whose outputs exist")
    parts = parser.add_argument_group("what to detect")
    parts.add_argument("--mode", choices=tuple(PART_PRESETS), default="openpose",
                       help="sd-webui-controlnet preprocessor name: which parts are detected and drawn "
                            "(default: openpose = body only)")
    parts.add_argument("--hand", action="store_true", help="also detect and draw hands")
    parts.add_argument("--face", action="store_true", help="also detect and draw faces")
    how = parser.add_argument_group("how")
    how.add_argument("--preset", choices=tuple(PRESETS), default="reference",
                     help="speed/accuracy trade-off; only 'reference' reproduces controlnet-aux exactly "
                          "(default: reference)")
    how.add_argument("--resolution", type=_non_negative_int, default=512, metavar="N",
                     help="detect resolution: short side of the detect image, sides rounded to 64 "
                          "(default: 512; 0 keeps the input size)")
    how.add_argument("--image-resolution", type=_non_negative_int, metavar="N",
                     help="map (and JSON canvas) size like the reference's image_resolution (default: the detect "
                          "image's size; 0 = the input's own size)")
    how.add_argument("--device", default="auto", help="auto (a CUDA GPU if PyTorch sees one, else cpu), cpu, cuda, "
                                                      "cuda:1, ... (default: auto)")
    how.add_argument("--batch-size", type=_positive_int, default=8, metavar="N",
                     help="images or video frames per network batch (default: 8)")
    written = parser.add_argument_group("outputs")
    written.add_argument("--no-map", action="store_true", help="write the JSON only")
    written.add_argument("--no-json", action="store_true", help="write the map only")
    written.add_argument("--coordinates", choices=("pixels", "normalized"), default="pixels",
                         help="JSON coordinates in map pixels (default) or as 0..1 fractions of the map")
    written.add_argument("--confidence", choices=("visibility", "score"), default="visibility",
                         help="third JSON value per point: 1 for present points, what pose editors expect "
                              "(default), or the detector's real confidence")
    written.add_argument("--stick-scaling", action="store_true",
                         help="thicker limbs on large maps (for xinsir's SDXL OpenPose ControlNet)")
    video = parser.add_argument_group("videos")
    video.add_argument("--sequence", action="store_true",
                       help="a folder given is one video: its images, in natural name order, are the frames")
    video.add_argument("--fps", type=_number(0, inclusive=False), metavar="FPS",
                       help=f"frame rate for --smooth (default: the video's; {SEQUENCE_FPS:g} for a --sequence)")
    video.add_argument("--fill-gaps", type=_non_negative_int, default=0, metavar="N",
                       help="fill joints missing for up to N frames by interpolation (default: 0, off)")
    video.add_argument("--smooth", action="store_true", help="One Euro temporal smoothing (see above)")
    video.add_argument("--min-cutoff", type=_number(0, inclusive=False), default=DEFAULT_MIN_CUTOFF, metavar="HZ")
    video.add_argument("--beta", type=_number(0, inclusive=True), default=DEFAULT_BETA, metavar="B")
    video.add_argument("--d-cutoff", type=_number(0, inclusive=False), default=DEFAULT_D_CUTOFF, metavar="HZ")
    video.add_argument("--causal", action="store_true", help="smooth with past frames only")
    _add_weights_options(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")


POSE_ARGUMENT_HELP = "a pose JSON file, or a folder of one-frame files (CMU OpenPose's output for a video)"


def _add_render(commands) -> None:
    parser = _command(commands, "render", "draw the OpenPose map of a pose JSON file", RENDER_HELP, run_render)
    parser.add_argument("pose", metavar="POSE.json", help=POSE_ARGUMENT_HELP)
    parser.add_argument("-o", "--output", metavar="MAP.png|FOLDER",
                        help="output map, or a folder (a list's maps; one map goes in it under the input's name)")
    parser.add_argument("--width", type=_positive_int, metavar="W", help="map width in pixels")
    parser.add_argument("--height", type=_positive_int, metavar="H", help="map height in pixels")
    parser.add_argument("--fit", choices=FIT_MODES, default="stretch",
                        help="how the pose canvas maps onto another size (default: stretch)")
    parser.add_argument("--parts", type=_names(DRAWN_PARTS), default=list(DRAWN_PARTS), metavar="LIST",
                        help="what to draw, from body,hands,face (default: all three)")
    parser.add_argument("--stick-scaling", action="store_true", help="thicker limbs on large maps (xinsir SDXL)")
    parser.add_argument("--frame", type=_int, metavar="N", help="draw only frame N of a list (0-based; -1 is the last)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    _add_pose_reading_options(parser)


def _add_edit(commands) -> None:
    parser = _command(commands, "edit", "flip, scale, rotate, select or retarget poses in a JSON file",
                      EDIT_HELP, run_edit)
    parser.add_argument("pose", metavar="POSE.json", help=POSE_ARGUMENT_HELP)
    parser.add_argument("-o", "--output", required=True, metavar="OUT.json",
                        help="output file, or a folder to write it in under the input's name")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output (also the input)")
    ops = parser.add_argument_group("editing options (applied in the order given)")
    ops.add_argument("--flip", nargs=0, action=_Operation, help="mirror left-right (left/right labels swapped)")
    ops.add_argument("--scale", type=_floats(2), action=_Operation, metavar="S|SX,SY", help="scale about the centre")
    ops.add_argument("--rotate", type=_floats(1), action=_Operation, metavar="DEGREES",
                     help="rotate about the centre, counter-clockwise")
    ops.add_argument("--translate", type=_floats(2, at_least=2), action=_Operation, metavar="DX,DY",
                     help="move by DX,DY pixels")
    ops.add_argument("--resize", type=_size, action=_Operation, metavar="WxH",
                     help="scale picture and canvas to W x H")
    ops.add_argument("--select", type=_indices, action=_Operation, metavar="I,J",
                     help="keep only these people (0-based indices, in this order)")
    ops.add_argument("--select-id", type=_indices, action=_Operation, metavar="ID,ID",
                     help="keep only the people with these person_id values")
    ops.add_argument("--remove-parts", type=_names(("body", "left_hand", "right_hand", "hands", "face", "feet")
                                                   + BODY_PARTS + FOOT_PARTS),
                     action=_Operation, metavar="LIST", help="remove parts or joints, e.g. hands,face,left_wrist")
    ops.add_argument("--retarget", action=_Operation, metavar="REF.json",
                     help="give the target person the reference's proportions")
    parser.add_argument("--people", type=_indices, metavar="I,J",
                        help="people the geometric options and --remove-parts apply to (default: everyone)")
    retarget = parser.add_argument_group("retargeting")
    retarget.add_argument("--height", choices=("reference", "target"), default="reference",
                          help="keep the reference's size (default) or rescale to the target's standing height")
    retarget.add_argument("--anchor", choices=("neck", "feet"), default="neck",
                          help="keep each frame's neck in place (default) or its lowest ankle's ground line")
    retarget.add_argument("--reference-person", type=_int, default=0, metavar="N")
    retarget.add_argument("--target-person", type=_int, default=0, metavar="N")
    retarget.add_argument("--target-id", type=_non_negative_int, metavar="ID",
                          help="retarget the person with this person_id in every frame (a tracked video, where "
                               "the order of people may change) instead of --target-person")
    retarget.add_argument("--override", type=_override, action="append", metavar="NAME=FACTOR",
                          help="scale a bone or part by FACTOR instead (e.g. thigh=1.1); repeatable")
    written = parser.add_argument_group("output")
    written.add_argument("--coordinates", choices=("pixels", "normalized"), default="pixels")
    written.add_argument("--confidence", choices=("score", "visibility"), default="score",
                         help="keep the confidences read (default) or write 1 for every present point")
    _add_pose_reading_options(parser)


def _add_read_map(commands) -> None:
    parser = _command(commands, "read-map", "read OpenPose map images back into pose JSON", READ_MAP_HELP,
                      run_read_map)
    parser.add_argument("maps", nargs="+", metavar="MAP", help="map image, folder of maps, glob pattern or video")
    parser.add_argument("-o", "--output", metavar="OUT.json",
                        help="output file (default for one map: its name with .json, also inside a folder given)")
    parser.add_argument("--list", action="store_true", help="write a list of frames even for one map")
    parser.add_argument("--no-hands", action="store_true", help="read the body (and face) only")
    parser.add_argument("--no-face", action="store_true", help="read the body (and hands) only")
    parser.add_argument("--coordinates", choices=("pixels", "normalized"), default="pixels",
                        help="JSON coordinates in map pixels (default) or as 0..1 fractions of the map")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_convert(commands) -> None:
    parser = _command(
        commands, "convert", "convert .pth checkpoints to verified .safetensors",
        "Convert OpenPose .pth checkpoints (body, hand or face; loaded without running pickled code) to "
        ".safetensors, then read the result back and compare every tensor with the original.\n"
        "Default output: beside the checkpoint with the .safetensors extension, where loading looks for it.",
        run_convert)
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT.pth")
    parser.add_argument("-o", "--output", metavar="OUT.safetensors",
                        help="output file (one checkpoint only), or a folder to write it in")
    parser.add_argument("--kind", choices=KINDS, help="expected network (default: recognised from the keys)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def _add_download(commands) -> None:
    parser = _command(
        commands, "download", "fetch the weights now, for offline use later",
        "Download the body, hand and face checkpoints into the Hugging Face cache (HF_HOME or --cache-dir), "
        "check them and store the .safetensors copies later loads use. Afterwards `openpose-core detect "
        "--offline` (or HF_HUB_OFFLINE=1) works without a network.", run_download)
    parser.add_argument("--parts", type=_names(KINDS), default=list(KINDS), metavar="LIST",
                        help="which networks, from body,hand,face (default: all three)")
    _add_weights_options(parser)


# --- entry point -------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _termination_interrupts():
    """Let SIGTERM unwind like Ctrl-C, so temporary files are removed on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    # FFmpeg's own lines for a broken video ("moov atom not found") would crowd our one-line errors
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    with _termination_interrupts():
        try:
            return args.run(args)
        except KeyboardInterrupt:
            _error("interrupted; finished outputs are kept (run the same command again to continue)")
            return 130
        except (Fatal, WeightsError, PoseFormatError) as error:
            _error(str(error))
            return 1
        except OSError as error:  # an output that cannot be written (permissions, a full disk, ...)
            _error(_describe(error))
            return 1


if __name__ == "__main__":
    sys.exit(main())
