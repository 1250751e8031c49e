"""Files on disk for the command line: finding inputs, streaming videos, writing outputs safely.

- :func:`find_inputs` turns what a user typed (files, folders, glob patterns) into :class:`Input` items
  with the output name each one gets, plus one-line problems for what could not be used.
- :class:`VideoReader` streams a video's frames in chunks (OpenCV decoding; Pillow for animated GIF,
  WebP and PNG, which are clips too; a folder of frame images), so a long video never sits in memory.
- :func:`write_atomically` writes a file through a temporary name in the same folder and renames it, so an
  interrupted run leaves either the complete file or nothing; :func:`replace_folder` does the same for a
  folder of video frames.

Every problem with an input is a :class:`InputError` whose message is one line and starts with the input.
"""
from __future__ import annotations

import errno
import glob
import itertools
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .folders import folder_files, natural_key
from .image import as_rgb_uint8, pil_pixels, read_image

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".apng", ".bmp", ".dib", ".webp", ".tif", ".tiff",
                              ".gif", ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".jfif"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
                              ".ogv", ".3gp", ".ts", ".mts", ".m2ts"})
"""What a folder walk or a glob pattern picks up. Files named explicitly are probed whatever their extension."""
ANIMATED_EXTENSIONS = frozenset({".gif", ".webp", ".png", ".apng"})
"""Image formats that may hold an animation: such a file is a video (a clip of frames), not one image."""
SEQUENCE_FPS = 30.0
"""Frame rate of an image sequence (a folder of frames carries none; the CLI's ``--fps`` sets another)."""
_ANIMATION_FPS = 10.0
"""Frame rate of an animation whose frames carry no duration (browsers show such GIF frames 0.1 s each)."""

FRAME_NAME = re.compile(r"^\d{6}\.png$")
"""A video's map frames are ``000000.png``, ``000001.png``, ... (0-based, the index in the JSON list)."""


class InputError(ValueError):
    """An input that cannot be used; the one-line message starts with the input's path."""


@dataclass(frozen=True)
class Input:
    """One image or video to process and the output name (relative to the output folder, no suffix)."""

    path: Path
    kind: str  # "image" or "video"
    name: str  # posix-style, e.g. "clip" or "holiday/beach" (folder structure is kept)


# --- finding inputs ------------------------------------------------------------------------------------------

def find_inputs(specs: Sequence[str], exclude: Optional[Path] = None,
                sequences: bool = False) -> Tuple[List[Input], List[str]]:
    """The inputs named by ``specs`` and a one-line problem for each spec that yields nothing usable.

    A file is taken as it is (its kind from the extension, else probed) and named by its stem; a folder is
    walked recursively for image and video extensions (hidden files and folders skipped; natural name order,
    frame_2 before frame_10) and its files are named by their path inside it, or, with ``sequences``, is one
    video whose frames are the images in it (see :class:`VideoReader`), named by the folder; a pattern with
    ``*``, ``?`` or ``[`` that is not an existing path is expanded (``**`` included); with ``sequences`` a folder
    it matches is one video too. Files that a folder walk or a pattern finds under ``exclude`` (the output
    folder) are not inputs, unless that folder holds the walked folder or the pattern's own folder
    (``photos/`` or ``photos/*.jpg`` with ``-o .``). A file named twice is kept once. When two inputs would
    get the same name, they are named with their extension (``x.jpg``, ``x.png``); inputs still clashing
    after that are reported, not processed.
    """
    found: List[Tuple[Path, str, str]] = []  # (path, kind, name)
    problems: List[str] = []
    excluded = exclude.resolve() if exclude is not None else None
    for spec in specs:
        before = len(found)
        path = Path(spec)
        if not spec.strip():        # Path("") is the current folder: an empty name is a mistake, not "here"
            problems.append(f"{spec!r}: an empty name, not a file or folder (to read the current folder, say .)")
        elif path.is_dir():
            found.extend(_folder_inputs(path, _exclusion(path, excluded), sequences))
            if len(found) == before:
                problems.append(f"{spec}: no image{'' if sequences else ' or video'} files in this folder")
        elif path.exists() or os.path.lexists(spec):
            try:
                found.append((path, probe_kind(path), path.stem))
            except InputError as error:
                problems.append(str(error))
        elif glob.has_magic(spec):
            skipped = _exclusion(_pattern_folder(spec), excluded)
            for match in sorted(glob.glob(spec, recursive=True)):
                match_path = Path(match)
                if match_path.is_dir():
                    found.extend(_folder_inputs(match_path, skipped, sequences))
                elif _is_media_file(match_path) and not _inside(match_path, skipped):
                    found.append((match_path, _kind_from_suffix(match_path), match_path.stem))
            if len(found) == before:
                problems.append(f"{spec}: no image or video files match this pattern")
        else:
            problems.append(f"{spec}: no such file or folder")
    inputs, clashes = _name_uniquely(_unique_paths(found))
    return inputs, problems + clashes


def _exclusion(searched: Path, output: Optional[Path]) -> Optional[Path]:
    """The output folder, to leave out of what is found in the ``searched`` folder; None when the output folder
    holds ``searched`` itself (``-o .``), where leaving it out would leave out every input."""
    return None if _inside(searched, output) else output


def _pattern_folder(pattern: str) -> Path:
    """The folder a glob pattern searches: its leading parts that hold no wildcard."""
    parts = Path(pattern).parts
    return Path(*itertools.takewhile(lambda part: not glob.has_magic(part), parts[:-1]))


def _folder_inputs(folder: Path, excluded: Optional[Path], sequences: bool) -> List[Tuple[Path, str, str]]:
    """A folder named or matched by a pattern: with ``sequences`` itself, one video of the images directly in
    it; else the media files found walking it."""
    if not sequences:
        return _walk(folder, excluded)
    if _inside(folder, excluded) or not folder_files(folder, IMAGE_EXTENSIONS):
        return []
    return [(folder, "video", folder.resolve().name)]


def _walk(folder: Path, excluded: Optional[Path]) -> List[Tuple[Path, str, str]]:
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted((name for name in folders if not name.startswith(".")
                             and not _inside(Path(root, name), excluded)), key=natural_key)
        for name in sorted(files, key=natural_key):
            path = Path(root, name)
            if not name.startswith(".") and _is_media_file(path):
                found.append((path, _kind_from_suffix(path), path.relative_to(folder).with_suffix("").as_posix()))
    return found


def _inside(path: Path, folder: Optional[Path]) -> bool:
    if folder is None:
        return False
    resolved = path.resolve()
    return resolved == folder or folder in resolved.parents


def _is_media_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS and path.is_file()


def _kind_from_suffix(path: Path) -> str:
    if path.suffix.lower() in VIDEO_EXTENSIONS or _is_animation(path):
        return "video"
    return "image"


def _is_animation(path: Path) -> bool:
    """Whether ``path`` is an animated GIF, WebP or PNG."""
    return path.suffix.lower() in ANIMATED_EXTENSIONS and bool(_pillow_animated(path))


def _pillow_animated(path: Path) -> Optional[bool]:
    """Whether Pillow opens ``path`` as an animation (it reads only the header to tell); None when it cannot
    open it. An image over Pillow's decompression-bomb limit is a still image: reading it says it is refused
    (the error escaped from here and stopped the whole run)."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as image:
            return bool(getattr(image, "is_animated", False))
    except Image.DecompressionBombError:
        return False
    except (UnidentifiedImageError, OSError, ValueError):
        return None         # reading it as an image says what is wrong with it


def probe_kind(path: Path) -> str:
    """"image" or "video" for a file named explicitly; its extension decides when known, else its content."""
    if not path.exists():
        raise InputError(f"{path}: no such file (a broken link?)")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied")
    if path.suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS:
        return _kind_from_suffix(path)
    animated = _pillow_animated(path)
    if animated is not None:
        return "video" if animated else "image"
    capture = cv2.VideoCapture(str(path))
    try:
        if capture.isOpened() and capture.read()[0]:
            return "video"
    finally:
        capture.release()
    raise InputError(f"{path}: neither an image nor a video that can be decoded")


def _unique_paths(found: List[Tuple[Path, str, str]]) -> List[Tuple[Path, str, str]]:
    seen, unique = set(), []
    for item in found:
        key = os.path.realpath(item[0])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _name_uniquely(found: List[Tuple[Path, str, str]]) -> Tuple[List[Input], List[str]]:
    """Names as given, or with the file extension where two names (case-insensitively) coincide."""
    def key(name: str) -> str:
        return name.casefold()  # case-insensitive file systems would merge "A" and "a"

    counts = {}
    for _, _, name in found:
        counts[key(name)] = counts.get(key(name), 0) + 1
    inputs, problems, taken = [], [], {}
    for path, kind, name in found:
        if counts[key(name)] > 1:
            name = f"{name}{path.suffix}"
        if key(name) in taken:
            problems.append(f"{path}: its outputs would have the same name as those of {taken[key(name)]}; "
                            "process it in a separate run or with another -o folder")
            continue
        taken[key(name)] = path
        inputs.append(Input(path, kind, name))
    return inputs, problems


# --- decoding ------------------------------------------------------------------------------------------------

class VideoReader:
    """A video opened with OpenCV, an animated GIF, WebP or PNG opened with Pillow, or a folder of images
    (an image sequence: its frames in natural name order, all of one size, at ``SEQUENCE_FPS``); iterate
    :meth:`chunks` for RGB frames (with ``keep_alpha``, frames with transparency come RGBA, as
    :func:`image.read_image` gives them). Use as a context manager."""

    def __init__(self, path: Path, keep_alpha: bool = False):
        self.path = Path(path)
        if self.path.is_dir():
            self._open_sequence(keep_alpha)
        elif not self.path.is_file():
            raise InputError(f"{path}: no such file")
        elif _is_animation(self.path):
            self._open_animation(keep_alpha)
        else:
            self._open_video()

    def _open_video(self) -> None:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise InputError(f"{self.path}: not a video that OpenCV can decode")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if np.isfinite(fps) and 0 < fps < 1000 else 30.0
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if np.isfinite(count) and count > 0 else 0
        """As the container says (may be approximate; 0 when unknown)."""
        self._frames = _video_frames(capture)
        self._close = capture.release

    def _open_animation(self, keep_alpha: bool) -> None:
        from PIL import Image
        animation = Image.open(self.path)
        try:
            animation.load()        # WebP says its frame duration once a frame is decoded
        except (OSError, ValueError, EOFError) as error:
            animation.close()
            raise InputError(f"{self.path}: cannot decode the animation: {error}") from None
        duration = animation.info.get("duration") or 0     # milliseconds per frame
        self.fps = 1000.0 / duration if duration > 10 else _ANIMATION_FPS
        self.frame_count = int(animation.n_frames)
        self._frames = _animation_frames(animation, str(self.path), keep_alpha)
        self._close = animation.close

    def _open_sequence(self, keep_alpha: bool) -> None:
        files = folder_files(self.path, IMAGE_EXTENSIONS)
        if not files:
            raise InputError(f"{self.path}: no image files in this folder")
        self.fps = SEQUENCE_FPS
        self.frame_count = len(files)
        self._frames = _sequence_frames(files, keep_alpha)
        self._close = lambda: None

    def chunks(self, size: int) -> Iterator[List[np.ndarray]]:
        """Lists of up to ``size`` decoded RGB uint8 frames, in order, until the video ends (or a frame
        cannot be decoded)."""
        chunk: List[np.ndarray] = []
        for frame in self._frames:
            chunk.append(frame)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def close(self) -> None:
        self._close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _video_frames(capture) -> Iterator[np.ndarray]:
    while True:
        ok, frame = capture.read()
        if not ok:
            return
        yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if frame.ndim == 3 else as_rgb_uint8(frame)


def _animation_frames(animation, name: str, keep_alpha: bool) -> Iterator[np.ndarray]:
    """Each frame as a still image of its format reads."""
    for index in range(animation.n_frames):
        try:
            animation.seek(index)
            yield pil_pixels(animation, name, keep_alpha)
        except (OSError, ValueError, EOFError):      # a truncated animation ends, as a truncated video does
            return


def _sequence_frames(files: List[Path], keep_alpha: bool) -> Iterator[np.ndarray]:
    """Each file read as an image; a file that cannot be read, or whose size differs from the first's, is
    an error naming it (a video's frames share one size)."""
    first = None
    for path in files:
        frame = read_image(path, keep_alpha=keep_alpha)
        if first is None:
            first = frame.shape[:2]
        elif frame.shape[:2] != first:
            raise InputError(f"{path}: {frame.shape[1]}x{frame.shape[0]}, but the sequence's first frame is "
                             f"{first[1]}x{first[0]}: the frames of a sequence must share one size")
        yield frame


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 image."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise OSError("PNG encoding failed")
    return data.tobytes()


# --- writing -------------------------------------------------------------------------------------------------

def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers (and a rerun after an interruption) see the complete old
    file, the complete new one, or no file: a hidden temporary file in the same folder is renamed over it.
    A symbolic link is written through (its file is replaced, the link kept); an existing path that is no
    regular file (a pipe, a device, a folder) is refused rather than replaced by one."""
    path = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    if path.exists() and not path.is_file():
        raise OSError(errno.EEXIST, "exists and is not a regular file (a pipe, device or folder); not replaced",
                      str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):      # a parent is a file: not mkdir's bare "File exists"
        raise OSError(errno.ENOTDIR, "a folder in its path is a file", str(path)) from None
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as handle:  # "x": never follows or reuses an existing name
            handle.write(data)
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        # a full disk (no file named), or a folder refusing the temporary: name the output
        if isinstance(error, OSError) and error.filename in (None, str(temporary)):
            raise OSError(error.errno, error.strerror or str(error), str(path)) from None
        raise


def partial_folder(final: Path) -> Path:
    """A fresh hidden folder beside ``final`` to fill before :func:`replace_folder` puts it in place.
    Leftovers of a killed run (``.<name>.partial-*``) are removed first."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{glob.escape(final.name)}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = final.with_name(f".{final.name}.partial-{secrets.token_hex(4)}")
    partial.mkdir()  # the usual permissions (the umask's), unlike tempfile.mkdtemp's private 0700
    return partial


def replace_folder(partial: Path, final: Path) -> None:
    """Move the finished ``partial`` folder to ``final``. An existing ``final`` is replaced only when it
    holds nothing but video map frames (never a folder of other files)."""
    partial, final = Path(partial), Path(final)
    if final.is_symlink() or final.exists():
        if not final.is_dir() or final.is_symlink():
            raise InputError(f"{final}: exists and is not a folder of video frames; not replacing it")
        strangers = [entry.name for entry in final.iterdir() if not FRAME_NAME.match(entry.name)]
        if strangers:
            raise InputError(f"{final}: holds other files ({strangers[0]}, ...); not replacing it")
        retired = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
        os.replace(final, retired / final.name)
        os.replace(partial, final)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(partial, final)


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
