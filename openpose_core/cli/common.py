"""What every subcommand shares: its one-line messages, the exit-stopping ``Fatal``, output paths and
reading pose files."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
from tqdm import tqdm

from ..formats import CANVAS_ADVICE, PoseFormatError, frames_to_json, load_document, read_poses
from ..image import ImageError
from ..media import InputError
from ..pose import PoseFrame
from ..weights import DEFAULT_REPO
from .arguments import pixel_size


PROG = "openpose-core"
KINDS = ("body", "hand", "face")
DRAWN_PARTS = ("body", "hands", "face")
USER_ERRORS = (InputError, ImageError, PoseFormatError, OSError, ValueError, IndexError, cv2.error)
"""What one input's processing may raise because of the input itself (or the disk): reported on one line,
then the next input. Unusable weights stop the run (``WeightsError``); anything else is a bug and keeps
its traceback."""


class Fatal(Exception):
    """A problem that stops the whole command (one line, exit status 1)."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _say(message: str) -> None:
    """A line on stderr that does not tear a running progress bar."""
    tqdm.write(_one_line(message), file=sys.stderr)


def progress_bar(iterable=None, *, unit: str, quiet: bool, total: Optional[int] = None) -> tqdm:
    """The commands' progress bar, on stderr: hidden with --quiet, and when stderr is no terminal."""
    return tqdm(iterable, total=total, unit=unit, desc=PROG, disable=True if quiet else None, file=sys.stderr,
                dynamic_ncols=True)


def print_error(message: str) -> None:
    _say(f"{PROG}: error: {message}")


def print_note(message: str) -> None:
    _say(f"{PROG}: {message}")


def describe(error: BaseException, path: Optional[Path] = None) -> str:
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


def output_folder(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise Fatal(f"{path}: exists and is not a folder (-o names the output folder)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise Fatal(describe(error, path)) from None
    return path


def names_folder(output: str) -> bool:
    """Whether ``-o`` names a folder: an existing one, or any path written with a trailing slash."""
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def output_file(output: Optional[str], default: Path) -> Path:
    """The file that ``-o`` names: ``default`` without it; inside the folder, under ``default``'s name,
    when it names a folder (``-o out/``)."""
    if output is None:
        return default
    return Path(output) / default.name if names_folder(output) else Path(output)


def writes_over_input(output: Path, inputs: Sequence[Path]) -> bool:
    """Whether ``output`` is one of ``inputs`` (also under another name: a link, a relative path)."""
    return any(output.resolve() == Path(path).resolve() for path in inputs)


def skip_existing(paths: Sequence[Path], overwrite: bool) -> bool:
    """Whether work producing ``paths`` can be skipped: all exist and ``--overwrite`` was not given."""
    return not overwrite and all(path.exists() for path in paths)


def keeps_existing(output: Path, overwrite: bool) -> bool:
    """Whether ``output`` exists and stays (no ``--overwrite``); says so."""
    if not skip_existing([output], overwrite):
        return False
    print_note(f"skipped: {output} exists (--overwrite replaces it)")
    return True


def json_bytes(poses, coordinates: str, confidence: str) -> bytes:
    """Pose JSON as every subcommand writes it: BODY_25 when any person has feet (read from a BODY_25 file),
    so edits keep them, else COCO-18."""
    return frames_to_json(poses, coordinates=coordinates, confidence=confidence, layout="auto").encode("utf-8")


def read_pose_file(path: Path, args) -> Tuple[List[PoseFrame], bool]:
    """Frames of a pose file and whether the document is a list (a video) rather than a single pose."""
    notes: List[str] = []
    try:
        document = path if path.is_dir() else load_document(path)
        frames = read_poses(document, coordinates=args.coordinates_in, canvas=args.canvas, strict=not args.lenient,
                            notes=notes)
    except PoseFormatError as error:
        raise Fatal(f"{path}: {_our_wording(str(error))}") from None
    except OSError as error:
        raise Fatal(describe(error, path)) from None
    for note in notes:
        print_note(f"note: {path}: {_our_wording(note)}")
    if not frames:
        raise Fatal(f"{path}: holds no pose frames")
    return frames, path.is_dir() or isinstance(document, list)


def _our_wording(message: str) -> str:
    """The reader's advice about the canvas, in terms of this command's option."""
    return message.replace(CANVAS_ADVICE, "pass --canvas WxH")


def add_pose_reading_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reading the pose file")
    group.add_argument("--coordinates-in", choices=("auto", "pixels", "normalized"), default="auto",
                       help="how to read coordinates: guess once per file (default), or force pixels / 0..1")
    group.add_argument("--canvas", type=pixel_size, metavar="WxH",
                       help="the canvas the coordinates refer to, overriding canvas_width/canvas_height")
    group.add_argument("--lenient", action="store_true",
                       help="skip broken people and parts, and read a broken frame as an empty one (each "
                            "reported as a note), instead of failing")


def command(commands, name: str, help_text: str, description: str, run) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(run=run)
    return parser


def add_weights_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("weights")
    group.add_argument("--model", default=DEFAULT_REPO, metavar="REPO_OR_PATH",
                       help=f"Hub repo, local folder or checkpoint file (default: {DEFAULT_REPO})")
    group.add_argument("--cache-dir", metavar="DIR", help="Hugging Face cache folder (default: HF_HOME's)")
    group.add_argument("--offline", action="store_true", help="use cached weights only, never the network")


POSE_ARGUMENT_HELP = "a pose JSON file, or a folder of one-frame files (CMU OpenPose's output for a video)"
