"""``openpose-core detect``: poses from images, folders, image sequences and videos, written as maps and
JSON."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np
import torch

from .. import edit
from ..detector import OpenposeDetector
from ..image import ImageError, output_size, read_image
from ..media import (
    SEQUENCE_FPS, Input, InputError, VideoReader, encode_png, find_inputs, partial_folder, remove_folder,
    replace_folder, write_atomically,
)
from ..pose import PoseFrame
from ..presets import PART_PRESETS, PRESETS, device_problem
from ..render import render_pose
from ..smooth import DEFAULT_BETA, DEFAULT_D_CUTOFF, DEFAULT_MIN_CUTOFF, fill_gaps, smooth_poses
from ..track import track_people
from ..weights import DEFAULT_REPO
from .arguments import bounded_number, non_negative_int, positive_int
from .common import (
    PROG, USER_ERRORS, Fatal, add_weights_options, command, describe, json_bytes, output_folder, print_error,
    progress_bar, skip_existing,
)


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
        return json_bytes(poses, self.args.coordinates, self.args.confidence)


def _device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    problem = device_problem(name, "auto, cpu, cuda, cuda:1, mps", "--device cpu")
    if problem:
        raise Fatal(f"--device {name}: {problem}")
    return name


def _image_outputs(item: Input, args) -> List[Path]:
    out = Path(args.output)
    return ([out / f"{item.name}.png"] if not args.no_map else []) +\
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
                print_error(describe(error, item.path))
                tally.failed += 1
                bar.update(1)
        for (item, image), frame in zip(loaded, _detect_each(work, loaded, tally)):
            if frame is not None:
                try:
                    _write_image(item, image, frame, work)
                    tally.images += 1
                    tally.people += len(frame.people)
                except USER_ERRORS as error:
                    print_error(describe(error, item.path))
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
            print_error(f"{item.path}: {message}")
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
    out = output_folder(Path(args.output))
    inputs, problems = find_inputs(args.inputs, exclude=out, sequences=args.sequence)
    for problem in problems:
        print_error(problem)
    tally = _Tally(failed=len(problems))
    work = _Detection(args)
    todo = []
    for item in inputs:
        outputs = _image_outputs(item, args) if item.kind == "image" else _video_outputs(item, args)
        if skip_existing(outputs, args.overwrite):
            tally.skipped += 1
        else:
            todo.append(item)
    images = [item for item in todo if item.kind == "image"]
    videos = [item for item in todo if item.kind == "video"]
    with progress_bar(total=len(images), unit="frame", quiet=args.quiet) as bar:
        _detect_images(images, work, tally, bar)
        for item in videos:
            try:
                _detect_video(item, work, tally, bar)
            except USER_ERRORS as error:
                print_error(describe(error, item.path))
                tally.failed += 1
    if not args.quiet:
        print(tally.line(time.perf_counter() - started), flush=True)
    return 1 if tally.failed else 0


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


def add_detect(commands) -> None:
    parser = command(commands, "detect", "detect poses in images, folders and videos", DETECT_HELP, run_detect)
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
    how.add_argument("--resolution", type=non_negative_int, default=512, metavar="N",
                     help="detect resolution: short side of the detect image, sides rounded to 64 "
                          "(default: 512; 0 keeps the input size)")
    how.add_argument("--image-resolution", type=non_negative_int, metavar="N",
                     help="map (and JSON canvas) size like the reference's image_resolution (default: the detect "
                          "image's size; 0 = the input's own size)")
    how.add_argument("--device", default="auto", help="auto (a CUDA GPU if PyTorch sees one, else cpu), cpu, cuda, "
                                                      "cuda:1, ... (default: auto)")
    how.add_argument("--batch-size", type=positive_int, default=8, metavar="N",
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
    video.add_argument("--fps", type=bounded_number(0, inclusive=False), metavar="FPS",
                       help=f"frame rate for --smooth (default: the video's; {SEQUENCE_FPS:g} for a --sequence)")
    video.add_argument("--fill-gaps", type=non_negative_int, default=0, metavar="N",
                       help="fill joints missing for up to N frames by interpolation (default: 0, off)")
    video.add_argument("--smooth", action="store_true", help="One Euro temporal smoothing (see above)")
    video.add_argument("--min-cutoff", type=bounded_number(0, inclusive=False), default=DEFAULT_MIN_CUTOFF,
                       metavar="HZ")
    video.add_argument("--beta", type=bounded_number(0, inclusive=True), default=DEFAULT_BETA, metavar="B")
    video.add_argument("--d-cutoff", type=bounded_number(0, inclusive=False), default=DEFAULT_D_CUTOFF, metavar="HZ")
    video.add_argument("--causal", action="store_true", help="smooth with past frames only")
    add_weights_options(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
