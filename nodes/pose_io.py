"""Load Pose JSON (a file from ComfyUI's input folder, or pasted text) and Save Pose JSON (into the output
folder, numbered like Save Image)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import List

from ..openpose_core.folders import folder_files
from ..openpose_core.formats import CONFIDENCES, COORDINATES, write_poses
from . import host
from .common import CATEGORY, PoseKeypointNode, choice, pose_input
from .convert import PoseKeypoint, to_frames

NO_FILE = "none"
"""The file choice that means: read the pasted text instead."""


def input_json_files() -> List[str]:
    """``.json`` files in ComfyUI's input folder and its subfolders, as paths relative to it; and, ending
    in ``/``, each subfolder holding several (CMU OpenPose writes a video as one file per frame)."""
    root = host.folder_paths().get_input_directory()
    found = []
    for folder, _, names in os.walk(root):
        files = [os.path.relpath(os.path.join(folder, name), root) for name in names if name.lower().endswith(".json")]
        found += files
        if len(files) > 1 and folder != root:
            found.append(os.path.relpath(folder, root) + os.sep)
    return sorted(path.replace(os.sep, "/") for path in found)


def _input_path(file: str) -> Path:
    """``file`` in ComfyUI's input folder. ComfyUI only passes listed choices, but a prompt sent to its API
    is checked here too: no path may lead out of the folder (symlinks placed in it are the user's own)."""
    root = Path(os.path.abspath(host.folder_paths().get_input_directory()))
    path = Path(os.path.abspath(root / file))
    if root not in path.parents:
        raise ValueError(f"Load Pose JSON: {file!r} is not a file in ComfyUI's input folder")
    return path


class LoadPoseJSON(PoseKeypointNode):
    DESCRIPTION = ("Reads pose JSON: OpenPose/CMU files (also a folder of them, one per video frame), "
                   "sd-webui-controlnet and pose-editor exports, saved POSE_KEYPOINT lists (pixels or "
                   "normalised, one frame or many).")
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "file": choice([NO_FILE] + input_json_files(), NO_FILE,
                               "A .json file in ComfyUI's input folder, or a subfolder of one-frame files "
                               "(ending in /: read as one sequence); 'none' reads json_text instead."),
                "json_text": ("STRING", {"default": "", "multiline": True,
                                         "tooltip": "Pasted pose JSON, used when file is 'none'."}),
                "coordinates": choice(COORDINATES, "auto", "auto guesses pixels or normalised 0..1 for the "
                                                           "whole document; set it when the guess is wrong."),
            }
        }

    @classmethod
    def IS_CHANGED(cls, file: str, json_text: str, coordinates: str):
        """A file edited on disk is read again (its content is compared, as Load Image does)."""
        if file == NO_FILE:
            return json_text
        path = _input_path(file)
        files = folder_files(path, {".json"}) if path.is_dir() else [path] if path.is_file() else []
        digest = hashlib.sha256()
        for each in files:
            digest.update(each.name.encode() + b"\0" + each.read_bytes())
        return digest.hexdigest() if files else file

    def load(self, file: str, json_text: str, coordinates: str):
        if file != NO_FILE:
            source, name = _input_path(file), file
        elif json_text.strip():
            source, name = json_text, "json_text"
        else:
            raise ValueError("Load Pose JSON: choose a file or paste pose JSON into json_text")
        return (PoseKeypoint(to_frames(source, coordinates=coordinates, name=name)),)


class SavePoseJSON:
    DESCRIPTION = ("Writes all frames as one JSON list (POSE_KEYPOINT layout) to the output folder: "
                   "<prefix>_00001_.json, numbered like Save Image. BODY_25 (75-value bodies) when any person "
                   "has feet (read from a BODY_25 file), so they are kept; else COCO-18.")
    CATEGORY = CATEGORY
    FUNCTION = "save"
    RETURN_TYPES = ()
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": pose_input(),
                "filename_prefix": ("STRING", {"default": "OpenPose", "tooltip": "Like Save Image: may hold "
                                               "subfolders and %year%-style date fields."}),
                "coordinates": choice(COORDINATES[1:], "pixels", "pixels of the canvas, or normalised 0..1."),
                "confidence": choice(CONFIDENCES, "visibility", "visibility: 1.0 for every present point (what "
                                     "editors expect); score: the detector's confidences."),
            }
        }

    def save(self, pose_keypoint, filename_prefix: str, coordinates: str, confidence: str):
        frames = to_frames(pose_keypoint)
        paths = host.folder_paths()
        output = paths.get_output_directory()
        folder, filename, counter, subfolder, _ = paths.get_save_image_path(
            filename_prefix, output, frames[0].width, frames[0].height)
        name = f"{filename}_{counter:05}_.json"
        write_poses(Path(folder, name), frames, coordinates=coordinates, confidence=confidence, layout="auto")
        return {"ui": {"pose_files": [{"filename": name, "subfolder": subfolder, "type": "output"}]}}


NODE_CLASS_MAPPINGS = {"OpenPoseCoreLoadPoseJSON": LoadPoseJSON, "OpenPoseCoreSavePoseJSON": SavePoseJSON}
NODE_DISPLAY_NAME_MAPPINGS = {"OpenPoseCoreLoadPoseJSON": "Load Pose JSON",
                              "OpenPoseCoreSavePoseJSON": "Save Pose JSON"}
