"""``openpose-core render``: draw the OpenPose map of a pose file."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

from ..media import FRAME_NAME, encode_png, partial_folder, remove_folder, replace_folder, write_atomically
from ..pose import PoseFrame
from ..render import FIT_MODES, MAX_STICK_WIDTH, STICK_WIDTH, render_pose
from .arguments import name_list, positive_int, whole_number
from .common import (
    DRAWN_PARTS, POSE_ARGUMENT_HELP, Fatal, add_pose_reading_options, command, keeps_existing, output_file,
    print_note, progress_bar, read_pose_file, writes_over_input,
)


PNG_MAX_SIDE = 1_000_000
"""libpng's default limit on either side of an image, which OpenCV's PNG encoder keeps: checked before
drawing, so a map too wide for PNG is a clear error, not libpng noise after the work is done."""


def _render_size(frame: PoseFrame, width: Optional[int], height: Optional[int]) -> Tuple[int, int]:
    """Both sides given: as given; one: the other keeps the frame's aspect; none: the frame's canvas."""
    if width is None and height is None:
        return frame.width, frame.height
    if height is None:
        height = max(1, round(width * frame.height / frame.width))
    if width is None:
        width = max(1, round(height * frame.width / frame.height))
    return width, height


def run_render(args) -> int:
    source = Path(args.pose)
    frames, is_list = read_pose_file(source, args)
    if args.frame is not None:
        if not -len(frames) <= args.frame < len(frames):
            raise Fatal(f"{source}: --frame {args.frame} is out of range (the file has {len(frames)} frames)")
        frames, is_list = [frames[args.frame]], False
    parts = set(args.parts)

    def draw(frame: PoseFrame) -> bytes:
        width, height = _render_size(frame, args.width, args.height)
        if max(width, height) > PNG_MAX_SIDE:
            raise Fatal(f"{source}: a {width} x {height} map is over PNG's limit of {PNG_MAX_SIDE:,} px a side")
        try:
            canvas = render_pose(frame, width, height, body="body" in parts, hands="hands" in parts,
                                 face="face" in parts, fit=args.fit, stick_scaling=args.stick_scaling,
                                 stick_width=args.stick_width)
        except ValueError as error:     # a canvas too large for memory, a point too far off it, too wide sticks
            raise Fatal(f"{source}: {error}") from None
        return encode_png(canvas)

    # a list goes to a folder of frames, also a list of one frame, unless -o names a .png file
    if len(frames) == 1 and (not is_list or (args.output is not None and Path(args.output).suffix.lower() == ".png")):
        target = output_file(args.output, source.with_suffix(".png"))
        if target.suffix.lower() not in ("", ".png"):
            raise Fatal(f"{target}: maps are written as PNG; name the output .png")
        if writes_over_input(target, [source]):
            raise Fatal(f"{source}: the output would replace the pose file itself; give another -o")
        if keeps_existing(target, args.overwrite):
            return 0
        write_atomically(target, draw(frames[0]))
        print_note(f"wrote {target}")
        return 0
    folder = Path(args.output) if args.output else\
        source.with_name(source.name + "_maps") if source.is_dir() else source.with_suffix("")
    if folder.suffix.lower() == ".png":
        raise Fatal(f"{source}: holds {len(frames)} frames; give -o a folder, or pick one with --frame N")
    if _existing_maps(folder) and not args.overwrite:
        print_note(f"skipped: {folder}/ holds maps already (--overwrite replaces them)")
        return 0
    partial = partial_folder(folder)
    try:
        for index, frame in enumerate(progress_bar(frames, unit="map", quiet=args.quiet)):
            (partial / f"{index:06d}.png").write_bytes(draw(frame))
        replace_folder(partial, folder)
    finally:
        remove_folder(partial)
    print_note(f"wrote {len(frames)} map{'s' * (len(frames) != 1)} to {folder}/")
    return 0


def _existing_maps(folder: Path) -> List[str]:
    """The maps already in a list's output folder. It may be missing or empty; anything else in it is refused
    before drawing, as a list's maps replace a folder of maps, never other files."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise Fatal(f"{folder}: exists and is not a folder (a list's maps go into a folder)")
    names = sorted(entry.name for entry in folder.iterdir())
    others = [name for name in names if not FRAME_NAME.match(name)]
    if others:
        raise Fatal(f"{folder}: holds other files ({others[0]}, ...); give -o a new or empty folder for the maps")
    return names


RENDER_HELP = """\
Draw the ControlNet OpenPose map of a pose JSON file (OpenPose, sd-webui-controlnet or ComfyUI
POSE_KEYPOINT; pixel or normalised coordinates).

A single pose is drawn to -o, a .png file (default: the JSON's name with .png). A list of poses (a
video) is drawn to a folder of frames 000000.png, 000001.png, ... (-o, default: the JSON's name
without extension; an existing folder must be empty or hold only such maps), also a list of one
frame unless -o names a .png file; or pick one frame with --frame N. The map has the pose's canvas
size unless --width/--height say otherwise (one of them alone keeps the aspect ratio); --fit says
how the canvas is mapped onto another size: stretch (independent x/y scaling), contain (whole pose
inside, black borders), cover (fill, crop). An existing output (for a list: a folder holding maps)
is kept unless --overwrite.
"""


def add_render(commands) -> None:
    parser = command(commands, "render", "draw the OpenPose map of a pose JSON file", RENDER_HELP, run_render)
    parser.add_argument("pose", metavar="POSE.json", help=POSE_ARGUMENT_HELP)
    parser.add_argument("-o", "--output", metavar="MAP.png|FOLDER",
                        help="output map, or a folder (a list's maps; one map goes in it under the input's name)")
    parser.add_argument("--width", type=positive_int, metavar="W", help="map width in pixels")
    parser.add_argument("--height", type=positive_int, metavar="H", help="map height in pixels")
    parser.add_argument("--fit", choices=FIT_MODES, default="stretch",
                        help="how the pose canvas maps onto another size (default: stretch)")
    parser.add_argument("--parts", type=name_list(DRAWN_PARTS), default=list(DRAWN_PARTS), metavar="LIST",
                        help="what to draw, from body,hands,face (default: all three)")
    parser.add_argument("--stick-width", type=positive_int, default=STICK_WIDTH, metavar="N",
                        help=f"half thickness of the limb sticks: 2N+1 px (default: the reference's {STICK_WIDTH}, "
                             f"at most {MAX_STICK_WIDTH})")
    parser.add_argument("--stick-scaling", action="store_true",
                        help="thicker limbs on large maps (xinsir SDXL): multiplies --stick-width by 1 to 7")
    parser.add_argument("--frame", type=whole_number, metavar="N",
                        help="draw only frame N of a list (0-based; -1 is the last)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_pose_reading_options(parser)
