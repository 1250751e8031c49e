"""``openpose-core edit``: flip, scale, rotate, select or retarget the poses of a JSON file."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, List, Optional

from .. import edit
from ..formats import PoseFormatError
from ..media import write_atomically
from ..pose import BODY_PARTS, FOOT_PARTS, PoseFrame
from ..retarget import retarget
from .arguments import (
    floats, indices, name_list, non_negative_int, override, pixel_size, scale_factors, whole_number,
)
from .common import (
    POSE_ARGUMENT_HELP, Fatal, add_pose_reading_options, command, json_bytes, keeps_existing, output_file,
    print_note, read_pose_file,
)


RETARGET_DEFAULTS = dict(height="reference", anchor="neck", reference_person=0, target_person=0, target_id=None,
                         override=None)
"""The options of the "retargeting" group and their defaults: any other value needs --retarget."""


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
    reference_frames, _ = read_pose_file(Path(reference_path), args)
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
    print_note(f"retarget: {len(report.scaled)} bones/parts rescaled, height factor {report.height_factor:.3f}"
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


def _check_person(frames: List[PoseFrame], index: int, where: str) -> None:
    """A target person no frame has is a typo, not a retarget of nobody: refuse it, saying how many there are."""
    most = max((len(frame.people) for frame in frames), default=0)
    if not -most <= index < most:
        raise Fatal(f"{where}: no person {index} in any frame (the frames have at most {most} people)")


def run_edit(args) -> int:
    source = Path(args.pose)
    target = output_file(args.output, source.with_name(source.name + ".json") if source.is_dir() else source)
    operations = getattr(args, "operations", None) or []
    if not operations:
        raise Fatal("nothing to do: give at least one editing option (see openpose-core edit --help)")
    unused = [name for name, default in RETARGET_DEFAULTS.items() if getattr(args, name) != default]
    if unused and not any(name == "retarget" for name, _ in operations):
        raise Fatal(f"--{unused[0].replace('_', '-')} applies to --retarget, which is not given")
    if keeps_existing(target, args.overwrite):
        return 0
    frames, is_list = read_pose_file(source, args)
    for name, value in operations:
        option = "--" + name.replace("_", "-")
        if name == "retarget":
            if args.target_id is not None:
                _check_ids(frames, [args.target_id], f"{source}: --target-id")
            else:
                _check_person(frames, args.target_person, f"{source}: --target-person")
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
        text = json_bytes(poses, args.coordinates, args.confidence)
    except PoseFormatError as error:
        raise Fatal(f"{source}: the edited poses cannot be written: {error}") from None
    write_atomically(target, text)
    print_note(f"wrote {target}")
    return 0


EDIT_HELP = """\
Edit a pose JSON file and write the result. Editing options apply in the order given, to every frame
(all people, or those chosen with --people), e.g.
  openpose-core edit pose.json -o out.json --flip --scale 0.8 --translate 0,40
Angles are degrees, counter-clockwise on screen, about the canvas centre; scale is about the canvas
centre; --resize scales picture and canvas together. --retarget REF.json gives the target person the
bone lengths of the reference's person (first frame of REF.json) while keeping the target's joint angles;
for a list of frames one set of scales is used for all. The output keeps the input's form (one pose or a
list), person ids and confidences, and BODY_25 feet: it is BODY_25 when any person has feet, else COCO-18.
An existing output is kept unless --overwrite.
"""


def add_edit(commands) -> None:
    parser = command(commands, "edit", "flip, scale, rotate, select or retarget poses in a JSON file",
                     EDIT_HELP, run_edit)
    parser.add_argument("pose", metavar="POSE.json", help=POSE_ARGUMENT_HELP)
    parser.add_argument("-o", "--output", required=True, metavar="OUT.json",
                        help="output file, or a folder to write it in under the input's name")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output (also the input)")
    ops = parser.add_argument_group("editing options (applied in the order given)")
    ops.add_argument("--flip", nargs=0, action=_Operation, help="mirror left-right (left/right labels swapped)")
    ops.add_argument("--scale", type=scale_factors, action=_Operation, metavar="S|SX,SY", help="scale about the centre")
    ops.add_argument("--rotate", type=floats(1), action=_Operation, metavar="DEGREES",
                     help="rotate about the centre, counter-clockwise")
    ops.add_argument("--translate", type=floats(2, at_least=2), action=_Operation, metavar="DX,DY",
                     help="move by DX,DY pixels")
    ops.add_argument("--resize", type=pixel_size, action=_Operation, metavar="WxH",
                     help="scale picture and canvas to W x H")
    ops.add_argument("--select", type=indices, action=_Operation, metavar="I,J",
                     help="keep only these people (0-based indices, in this order)")
    ops.add_argument("--select-id", type=indices, action=_Operation, metavar="ID,ID",
                     help="keep only the people with these person_id values")
    ops.add_argument("--remove-parts", type=name_list(("body", "left_hand", "right_hand", "hands", "face", "feet")
                                                      + BODY_PARTS + FOOT_PARTS),
                     action=_Operation, metavar="LIST", help="remove parts or joints, e.g. hands,face,left_wrist")
    ops.add_argument("--retarget", action=_Operation, metavar="REF.json",
                     help="give the target person the reference's proportions")
    parser.add_argument("--people", type=indices, metavar="I,J",
                        help="people the geometric options and --remove-parts apply to (default: everyone)")
    retarget = parser.add_argument_group("retargeting")
    retarget.add_argument("--height", choices=("reference", "target"),
                          help="keep the reference's size (default) or rescale to the target's standing height")
    retarget.add_argument("--anchor", choices=("neck", "feet"),
                          help="keep each frame's neck in place (default) or its lowest ankle's ground line")
    retarget.add_argument("--reference-person", type=whole_number, metavar="N")
    retarget.add_argument("--target-person", type=whole_number, metavar="N")
    retarget.add_argument("--target-id", type=non_negative_int, metavar="ID",
                          help="retarget the person with this person_id in every frame (a tracked video, where "
                               "the order of people may change) instead of --target-person")
    retarget.add_argument("--override", type=override, action="append", metavar="NAME=FACTOR",
                          help="scale a bone or part by FACTOR instead (e.g. thigh=1.1); repeatable")
    parser.set_defaults(**RETARGET_DEFAULTS)
    written = parser.add_argument_group("output")
    written.add_argument("--coordinates", choices=("pixels", "normalized"), default="pixels")
    written.add_argument("--confidence", choices=("score", "visibility"), default="score",
                         help="keep the confidences read (default) or write 1 for every present point")
    add_pose_reading_options(parser)
