"""``openpose-core read-map``: read OpenPose map images (or a video of maps) back into pose JSON."""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from ..image import read_image
from ..media import Input, InputError, VideoReader, find_inputs, write_atomically
from ..pose import PoseFrame
from ..skeleton_image import pose_from_skeleton_image
from ..track import track_people
from .common import (
    USER_ERRORS, Fatal, command, describe, json_bytes, keeps_existing, names_folder, output_file, print_error,
    print_note, progress_bar, writes_over_input,
)


def run_read_map(args) -> int:
    inputs, problems = find_inputs(args.maps)
    videos = [item for item in inputs if item.kind == "video"]
    if videos and (len(inputs) > 1 or problems):
        raise Fatal(f"{videos[0].path}: a video makes one JSON list on its own: read it in a run of its own")
    for problem in problems:
        print_error(problem)
    if videos:
        return _read_map_video(videos[0], args)
    maps = [item for item in inputs if item.kind == "image"]
    if not maps:
        return 1
    one = len(maps) == 1 and not args.list and not any(Path(spec).is_dir() for spec in args.maps)
    if not one and (args.output is None or names_folder(args.output)):
        raise Fatal("the maps make one JSON list of frames: name its file with -o OUT.json")
    target = _target(args, [item.path for item in maps])
    if keeps_existing(target, args.overwrite):
        return 1 if problems else 0
    frames, failed = [], 0
    for item in progress_bar(maps, unit="map", quiet=args.quiet or one):
        try:
            frames.append(_read_map(read_image(item.path, keep_alpha=True), args))
        except USER_ERRORS as error:
            print_error(describe(error, item.path))
            failed += 1
    if failed or problems:
        # a list with a frame left out would shift every later frame: write all or nothing
        raise Fatal(f"{target}: not written ({failed + len(problems)} of the inputs could not be read)")
    _write_read_maps(target, frames[0] if one else track_people(frames), args)
    return 0


def _read_map_video(item: Input, args) -> int:
    """A video (or animated image) of maps: one JSON list, a frame per video frame, people tracked."""
    target = _target(args, [item.path])
    if keeps_existing(target, args.overwrite):
        return 0
    frames: List[PoseFrame] = []
    try:
        video = VideoReader(item.path, keep_alpha=True)     # transparent means background, as for one map
    except InputError as error:
        raise Fatal(str(error)) from None
    with video, progress_bar(total=video.frame_count or None, unit="frame", quiet=args.quiet) as bar:
        for chunk in video.chunks(16):
            for image in chunk:
                try:
                    frames.append(_read_map(image, args))
                except USER_ERRORS as error:
                    raise Fatal(f"{target}: not written (frame {len(frames)}: {describe(error, item.path)})")
                bar.update(1)
    if not frames:
        raise Fatal(f"{item.path}: no frame could be decoded")
    _write_read_maps(target, track_people(frames), args)
    return 0


def _target(args, inputs: List[Path]) -> Path:
    """The JSON file to write (``-o``, by default the first input's name with .json), never an input."""
    target = output_file(args.output, inputs[0].with_suffix(".json"))
    if writes_over_input(target, inputs):
        raise Fatal(f"{target}: the output would replace the map it is read from; give another -o")
    return target


def _read_map(image: np.ndarray, args) -> PoseFrame:
    return pose_from_skeleton_image(image, hands=not args.no_hands, face=not args.no_face)


def _write_read_maps(target: Path, poses, args) -> None:
    write_atomically(target, json_bytes(poses, args.coordinates, "visibility"))
    frames = [poses] if isinstance(poses, PoseFrame) else poses
    ids = {person.person_id for frame in frames for person in frame.people}
    people = len(ids) if len(frames) > 1 and None not in ids else sum(len(frame.people) for frame in frames)
    print_note(f"wrote {target}: {len(frames)} frame{'s' * (len(frames) != 1)}, "
               f"{people} {'person' if people == 1 else 'people'}{' (tracked)' * (len(frames) > 1)}")


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


def add_read_map(commands) -> None:
    parser = command(commands, "read-map", "read OpenPose map images back into pose JSON", READ_MAP_HELP,
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
