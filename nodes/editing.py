"""Pose editing nodes: Edit Pose, Select People, Remove Pose Parts, Retarget Proportions, Interpolate Poses.
Each applies an ``openpose_core.edit`` / ``retarget`` function to every frame of a POSE_KEYPOINT."""
from __future__ import annotations

import math
from typing import Dict, List, Optional

import numpy as np

from ..openpose_core import edit
from ..openpose_core.pose import BODY_PARTS, FOOT_PARTS, PoseFrame
from ..openpose_core.retarget import RetargetReport, retarget
from .common import CATEGORY, MAX_RESOLUTION, POSE_KEYPOINT, PoseKeypointNode, boolean, choice, pose_input
from .convert import PoseKeypoint, to_frames

PEOPLE_TOOLTIP = ("Person numbers separated by commas (0 = first, -1 = last; or person_id values, see "
                  "people_by); blank = everyone. Numbers a frame has no person for are ignored in that frame.")
PEOPLE_BY = ("index", "person_id")
PEOPLE_BY_TOOLTIP = ("index: the people's order in each frame, which may change from frame to frame in a video; "
                     "person_id: the id that stays with each person across frames (OpenPose Estimator and "
                     "Track & Smooth Poses give them); an id that no frame has is an error.")


def parse_people(text: str) -> Optional[List[int]]:
    """``"0, 2, -1"`` -> ``[0, 2, -1]``; blank -> None (everyone)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        return None
    try:
        return [int(item) for item in items]
    except ValueError:
        raise ValueError(f"people: expected numbers separated by commas (0 is the first), got {text!r}") from None


def present(people: Optional[List[int]], frame: PoseFrame, by: Optional[str] = None) -> Optional[List[int]]:
    """The listed people this frame has, as non-negative indices without repeats (None stays everyone);
    ``by="person_id"`` reads the numbers as person ids."""
    if people is None:
        return None
    if by == "person_id":
        return [index for index, person in enumerate(frame.people) if person.person_id in people]
    count = len(frame.people)
    return list(dict.fromkeys(index % count for index in people if -count <= index < count))


def check_ids(frames: List[PoseFrame], people: Optional[List[int]], by: Optional[str]) -> None:
    """With ``by="person_id"``, ids that no frame has are a mistake (often poses that carry no ids at all), not
    an empty selection: refuse them, naming the ids there are, as the CLI's --select-id does. Frames without
    people offer nothing to choose from and are no reason to refuse."""
    if by != "person_id" or people is None or not any(frame.people for frame in frames):
        return
    ids = {person.person_id for frame in frames for person in frame.people} - {None}
    if ids.isdisjoint(people):
        there = (f"ids in these poses: {', '.join(map(str, sorted(ids)))}" if ids else "these poses carry no "
                 "person_id: use people_by index, or give the people ids with Track & Smooth Poses")
        raise ValueError(f"people_by person_id: no person has id {', '.join(map(str, people))} ({there})")


def people_input() -> tuple:
    return ("STRING", {"default": "", "tooltip": PEOPLE_TOOLTIP})


def people_by_input() -> dict:
    """The optional input that says what the people numbers are (optional, so saved workflows still load)."""
    return {"people_by": choice(PEOPLE_BY, "index", PEOPLE_BY_TOOLTIP)}


def _person_centre(frame: PoseFrame, index: int):
    """Centre of the person's bounding box (all present points); None (the canvas centre) without points."""
    points = np.concatenate(list(edit.person_arrays(frame.people[index]).values()))[:, :2]
    points = points[~np.isnan(points).any(axis=1)]
    return None if len(points) == 0 else tuple((points.min(axis=0) + points.max(axis=0)) / 2)


CANVAS_MODES = ("pad_or_crop", "stretch", "fit")


def change_canvas(frame: PoseFrame, width: int, height: int, mode: str) -> PoseFrame:
    """A new canvas size (0 keeps a side): ``pad_or_crop`` keeps the pose's size and centres it; ``stretch``
    scales the pose with the canvas; ``fit`` scales it uniformly to fit inside, then centres it."""
    width, height = width or frame.width, height or frame.height
    if mode == "stretch":
        return edit.resize(frame, width, height)
    if mode == "fit":
        factor = min(width / frame.width, height / frame.height)
        frame = edit.resize(frame, max(1, round(frame.width * factor)), max(1, round(frame.height * factor)))
    return edit.resize_canvas(frame, width, height)


class EditPose(PoseKeypointNode):
    DESCRIPTION = ("Mirrors (swapping left/right labels), scales, rotates and moves people, then changes the "
                   "canvas, in that order, on every frame.")
    FUNCTION = "edit"

    @classmethod
    def INPUT_TYPES(cls):
        offset = {"default": 0.0, "min": -MAX_RESOLUTION, "max": MAX_RESOLUTION, "step": 1.0}
        side = {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}
        return {
            "required": {
                "pose_keypoint": pose_input(),
                "flip_horizontal": boolean(False, "Mirror left-right; left and right hands, limbs and face "
                                                  "points swap labels so the mirrored person stays anatomical."),
                "scale": ("FLOAT", {"default": 1.0, "min": 0.01, "max": 100.0, "step": 0.01,
                                    "tooltip": "Size factor."}),
                "rotate": ("FLOAT", {"default": 0.0, "min": -360.0, "max": 360.0, "step": 0.5,
                                     "tooltip": "Degrees, positive = counter-clockwise."}),
                "translate_x": ("FLOAT", {**offset, "tooltip": "Pixels to the right."}),
                "translate_y": ("FLOAT", {**offset, "tooltip": "Pixels down."}),
                "pivot": choice(("canvas", "person"), "canvas", "Flip, scale and rotate about the canvas centre "
                                                                "or about each person's own centre."),
                "people": people_input(),
                "canvas_width": ("INT", {**side, "tooltip": "New canvas width; 0 keeps it."}),
                "canvas_height": ("INT", {**side, "tooltip": "New canvas height; 0 keeps it."}),
                "canvas_mode": choice(CANVAS_MODES, "pad_or_crop", "pad_or_crop: same pose size, centred; "
                                      "stretch: scale with the canvas; fit: scale uniformly to fit, centred."),
            },
            "optional": people_by_input(),
        }

    def edit(self, pose_keypoint, flip_horizontal: bool, scale: float, rotate: float, translate_x: float,
             translate_y: float, pivot: str, people: str, canvas_width: int, canvas_height: int, canvas_mode: str,
             people_by: Optional[str] = None):
        chosen = parse_people(people)
        frames = to_frames(pose_keypoint)
        check_ids(frames, chosen, people_by)
        edited = []
        for frame in frames:
            who = present(chosen, frame, people_by)
            if pivot == "person":
                for index in range(len(frame.people)) if who is None else who:
                    centre = _person_centre(frame, index)
                    frame = self._transform(frame, [index], centre, flip_horizontal, scale, rotate)
            else:
                frame = self._transform(frame, who, None, flip_horizontal, scale, rotate)
            frame = edit.translate(frame, translate_x, translate_y, people=who)
            if canvas_width or canvas_height:
                frame = change_canvas(frame, canvas_width, canvas_height, canvas_mode)
            edited.append(frame)
        return (PoseKeypoint(edited),)

    @staticmethod
    def _transform(frame: PoseFrame, people, centre, flip: bool, factor: float, degrees: float) -> PoseFrame:
        if flip:
            frame = edit.flip_horizontal(frame, people=people)
            if centre is not None:  # mirror about the person's centre rather than the canvas centre
                frame = edit.translate(frame, 2 * centre[0] - (frame.width - 1), 0.0, people=people)
        if factor != 1.0:
            frame = edit.scale(frame, factor, center=centre, people=people)
        if degrees % 360.0:
            frame = edit.rotate(frame, degrees, center=centre, people=people)
        return frame


class SelectPeople(PoseKeypointNode):
    DESCRIPTION = "Keeps (or removes) the listed people in every frame."
    FUNCTION = "select"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": pose_input(),
                "people": ("STRING", {"default": "0", "tooltip": PEOPLE_TOOLTIP}),
                "mode": choice(("keep", "remove"), "keep", "Keep only the listed people, or remove them."),
            },
            "optional": people_by_input(),
        }

    def select(self, pose_keypoint, people: str, mode: str, people_by: Optional[str] = None):
        chosen = parse_people(people)
        frames = to_frames(pose_keypoint)
        check_ids(frames, chosen, people_by)
        if chosen is None:
            return (PoseKeypoint(frames),)
        pick = edit.select_people if mode == "keep" else edit.remove_people
        return (PoseKeypoint([pick(frame, present(chosen, frame, people_by)) for frame in frames]),)


class RemoveParts(PoseKeypointNode):
    DESCRIPTION = "Removes whole parts (body, hands, face, feet) or single joints from the chosen people."
    FUNCTION = "remove"
    GROUPS = ("body", "left_hand", "right_hand", "face", "feet")

    @classmethod
    def INPUT_TYPES(cls):
        joints = ", ".join(BODY_PARTS + FOOT_PARTS)
        return {
            "required": {
                "pose_keypoint": pose_input(),
                **{group: boolean(False, f"Remove the {group.replace('_', ' ')}.") for group in cls.GROUPS},
                "joints": ("STRING", {"default": "",
                                       "tooltip": f"Single joints to remove, comma-separated: {joints}."}),
                "people": people_input(),
            },
            "optional": people_by_input(),
        }

    def remove(self, pose_keypoint, body: bool, left_hand: bool, right_hand: bool, face: bool, feet: bool,
               joints: str, people: str, people_by: Optional[str] = None):
        chosen = {"body": body, "left_hand": left_hand, "right_hand": right_hand, "face": face, "feet": feet}
        parts = [group for group, on in chosen.items() if on]
        parts += [name.strip() for name in joints.split(",") if name.strip()]
        who = parse_people(people)
        frames = to_frames(pose_keypoint)
        check_ids(frames, who, people_by)
        if parts:
            frames = [edit.remove_parts(frame, parts, people=present(who, frame, people_by)) for frame in frames]
        return (PoseKeypoint(frames),)


def parse_overrides(text: str) -> Dict[str, float]:
    """``"thigh=1.2, head=0.9"`` -> ``{"thigh": 1.2, "head": 0.9}``."""
    overrides = {}
    for item in filter(None, (item.strip() for item in text.split(","))):
        name, equals, value = item.partition("=")
        try:
            overrides[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"overrides: expected name=factor pairs such as 'thigh=1.2', got {item!r}") from None
        if not equals:
            raise ValueError(f"overrides: expected name=factor pairs such as 'thigh=1.2', got {item!r}")
    return overrides


def describe(report: RetargetReport) -> str:
    """The retarget report as lines a user can read in a text preview."""
    lines = [f"{name}: x{scale:.3f} ({report.sources[name]})" for name, scale in report.scales.items()]
    if report.height_factor != 1.0:
        lines.append(f"overall height factor: x{report.height_factor:.3f}")
    if report.frames_without_person:
        lines.append(f"frames without the target person: {report.frames_without_person}")
    if report.unanchored_frames:
        lines.append(f"frames without an ankle (placed by the neck): {report.unanchored_frames}")
    return "\n".join(lines + report.notes)


class RetargetProportions:
    DESCRIPTION = ("Gives the target poses (one or a whole action sequence) the bone lengths of a reference "
                   "character, keeping every joint angle of the action.")
    CATEGORY = CATEGORY
    FUNCTION = "retarget"
    RETURN_TYPES = (POSE_KEYPOINT, "STRING")
    RETURN_NAMES = ("pose_keypoint", "report")

    @classmethod
    def INPUT_TYPES(cls):
        person = {"default": 0, "min": -64, "max": 64, "step": 1}
        return {
            "required": {
                "reference_pose": pose_input("The character whose proportions are wanted."),
                "target_pose": pose_input("The pose or action sequence to retarget."),
                "reference_frame": ("INT", {"default": 0, "min": 0, "max": 100000, "step": 1,
                                            "tooltip": "Frame of reference_pose holding the character."}),
                "reference_person": ("INT", {**person, "tooltip": "Person of that frame (0 = first)."}),
                "target_person": ("INT", {**person, "max": 100000,
                                           "tooltip": "Person retargeted in every target frame (a number, or a "
                                                      "person_id with people_by); others are kept."}),
                "height": choice(("reference", "target"), "reference", "reference: the character's size; target: "
                                 "scale the result back to the target's standing height (use when the two poses "
                                 "come from canvases of different scales)."),
                "anchor": choice(("neck", "feet"), "neck", "Keep each frame's neck in place, or its lowest ankle on "
                                                          "the target's ground line."),
                "overrides": ("STRING", {"default": "", "tooltip": "Manual factors, e.g. 'thigh=1.2, "
                                         "right_forearm=0.9, hand=1.1' (names without right_/left_ set both sides)."}),
                "percentile": ("FLOAT", {"default": 75.0, "min": 0.0, "max": 100.0, "step": 1.0,
                                         "tooltip": "Which per-frame length of a target bone counts as its length."}),
            },
            "optional": people_by_input(),
        }

    def retarget(self, reference_pose, target_pose, reference_frame: int, reference_person: int, target_person: int,
                 height: str, anchor: str, overrides: str, percentile: float, people_by: Optional[str] = None):
        references = to_frames(reference_pose, name="reference_pose")
        if reference_frame >= len(references):
            raise ValueError(f"reference_frame {reference_frame}: reference_pose has {len(references)} frame(s)")
        character = references[reference_frame]
        if not -len(character.people) <= reference_person < len(character.people):
            raise ValueError(f"reference_person {reference_person}: that frame has {len(character.people)} people")
        targets = to_frames(target_pose, name="target_pose")
        check_ids(targets, [target_person], people_by)
        result = retarget(character, targets, height=height, anchor=anchor,
                          overrides=parse_overrides(overrides), reference_person=reference_person,
                          target_person=target_person, percentile=percentile,
                          target_id=target_person if people_by == "person_id" else None)
        return (PoseKeypoint(result.frames), describe(result.report))


EASINGS = {"linear": lambda t: t, "ease_in_out": lambda t: (1.0 - math.cos(math.pi * t)) / 2.0}


class InterpolatePoses(PoseKeypointNode):
    DESCRIPTION = ("Turns keyframe poses into a sequence: frames_between in-between poses are added between "
                   "each pair of consecutive keyframes (people matched by person_id, else by position).")
    FUNCTION = "interpolate"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "keyframes": pose_input("Two or more keyframes (the frames of one POSE_KEYPOINT, in order)."),
                "frames_between": ("INT", {"default": 8, "min": 0, "max": 10000, "step": 1,
                                           "tooltip": "In-between poses added after each keyframe but the last."}),
                "easing": choice(EASINGS, "linear", "linear: constant speed; ease_in_out: slow at each keyframe."),
            },
            "optional": {
                "more_keyframes": pose_input("Keyframes appended after those of keyframes (e.g. a second pose)."),
            },
        }

    def interpolate(self, keyframes, frames_between: int, easing: str, more_keyframes=None):
        keys = to_frames(keyframes, name="keyframes")
        if more_keyframes is not None:
            keys += to_frames(more_keyframes, name="more_keyframes")
        if len(keys) < 2:
            raise ValueError("Interpolate Poses: needs at least two keyframes (connect more_keyframes to add one)")
        canvases = [(key.width, key.height) for key in keys]
        odd = [number for number, canvas in enumerate(canvases) if canvas != canvases[0]]
        if odd:  # in-betweens of points on different canvases would mean nothing
            raise ValueError("Interpolate Poses: keyframe {} has a {} x {} canvas, keyframe 0 a {} x {} one; give them "
                             "one canvas first (Edit Pose: canvas_width, canvas_height, canvas_mode)"
                             .format(odd[0], *canvases[odd[0]], *canvases[0]))
        ease = EASINGS[easing]
        frames = []
        for start, end in zip(keys, keys[1:]):
            frames.append(start)
            frames += [edit.interpolate(start, end, ease(step / (frames_between + 1)))
                       for step in range(1, frames_between + 1)]
        return (PoseKeypoint(frames + [keys[-1]]),)


NODE_CLASS_MAPPINGS = {
    "OpenPoseCoreEditPose": EditPose,
    "OpenPoseCoreSelectPeople": SelectPeople,
    "OpenPoseCoreRemoveParts": RemoveParts,
    "OpenPoseCoreRetargetProportions": RetargetProportions,
    "OpenPoseCoreInterpolatePoses": InterpolatePoses,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "OpenPoseCoreEditPose": "Edit Pose",
    "OpenPoseCoreSelectPeople": "Select People",
    "OpenPoseCoreRemoveParts": "Remove Pose Parts",
    "OpenPoseCoreRetargetProportions": "Retarget Pose Proportions",
    "OpenPoseCoreInterpolatePoses": "Interpolate Poses",
}
