"""OpenPose Estimator: IMAGE batch -> ControlNet pose maps + POSE_KEYPOINT, frames batched through the
networks, models kept loaded between runs."""
from __future__ import annotations

import json

import torch

from ..openpose_core.edit import remove_parts
from ..openpose_core.presets import PRESETS
from ..openpose_core.render import render_pose
from ..openpose_core.track import track_people
from . import host
from .common import CATEGORY, MAX_RESOLUTION, OPENPOSE_MODEL, POSE_KEYPOINT, boolean, choice, stick_scaling_input
from .convert import ImageFrames, PoseKeypoint, to_image
from .pose_model import PoseModel, cached_model

BATCH_SIZE = 8
"""Frames per network batch; Cancel takes effect between batches."""


class OpenPoseEstimator:
    DESCRIPTION = ("Detects body, hand and face keypoints of every person in every frame and draws the "
                   "OpenPose ControlNet maps (with the reference preset, those of controlnet-aux 0.0.10).")
    CATEGORY = CATEGORY
    FUNCTION = "estimate"
    RETURN_TYPES = ("IMAGE", POSE_KEYPOINT)
    RETURN_NAMES = ("pose_image", "pose_keypoint")
    OUTPUT_TOOLTIPS = ("Pose maps at the detect size (short side = resolution, sides multiples of 64).",
                       "Keypoints per frame in pixels of the pose map (canvas = its size), 1.0 for present points; "
                       "each person has a person_id that stays with them across the frames of a video.")

    @classmethod
    def INPUT_TYPES(cls):
        presets = "; ".join(f"{name}: {preset.changes}" for name, preset in PRESETS.items())
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "One image or a batch of video frames."}),
                "detect_body": boolean(True, "Draw the body and output its keypoints (it is found in any case: "
                                             "hands and face are located from it)."),
                "detect_hand": boolean(True, "Find and draw hands."),
                "detect_face": boolean(True, "Find and draw faces."),
                "resolution": ("INT", {"default": 512, "min": 64, "max": MAX_RESOLUTION, "step": 64,
                                       "tooltip": "Short side of the detect image and of the pose map."}),
                "preset": choice(PRESETS, "reference", presets),
                "scale_stick_for_xinsr_cn": stick_scaling_input(),
            },
            "optional": {
                "openpose_model": (OPENPOSE_MODEL, {"tooltip": "From OpenPose Model Loader; default: the standard "
                                                               "weights from models/openpose, on ComfyUI's device."}),
            },
        }

    def estimate(self, image: torch.Tensor, detect_body: bool, detect_hand: bool, detect_face: bool,
                 resolution: int, preset: str, scale_stick_for_xinsr_cn: bool, openpose_model: PoseModel = None):
        frames_in = ImageFrames(image)     # a bad batch is refused before any weights are read
        model = openpose_model or cached_model()
        detector = model.ready(hands=detect_hand, face=detect_face)
        frames = detector.detect_batch(frames_in, detect_resolution=resolution, include_hand=detect_hand,
                                       include_face=detect_face, preset=model.preset(preset),
                                       batch_size=BATCH_SIZE, progress=host.frame_progress(len(frames_in)))
        frames = track_people(frames)
        maps = [render_pose(frame, body=detect_body, hands=detect_hand, face=detect_face,
                            stick_scaling=scale_stick_for_xinsr_cn) for frame in frames]
        poses = PoseKeypoint(frames if detect_body else [remove_parts(frame, ["body"]) for frame in frames])
        return {"ui": {"openpose_json": [json.dumps(list(poses))]}, "result": (to_image(maps), poses)}


NODE_CLASS_MAPPINGS = {"OpenPoseCoreEstimator": OpenPoseEstimator}
NODE_DISPLAY_NAME_MAPPINGS = {"OpenPoseCoreEstimator": "OpenPose Estimator"}
