"""Render Pose: POSE_KEYPOINT -> ControlNet pose maps, every frame, at any size."""
from __future__ import annotations

import logging
from typing import List, Optional, Tuple

from ..openpose_core.pose import PoseFrame
from ..openpose_core.render import FIT_MODES, MAX_STICK_WIDTH, STICK_WIDTH, render_pose
from . import host
from .common import CATEGORY, MAX_RESOLUTION, boolean, choice, pose_input, stick_scaling_input
from .convert import to_frames, to_image

logger = logging.getLogger(__name__)


def output_size(frames: List[PoseFrame], width: int, height: int) -> Tuple[int, int]:
    """One size for the whole batch: the first frame's canvas where width and height are 0; where only one
    of them is 0, it follows the first canvas's aspect ratio."""
    canvas_w, canvas_h = frames[0].width, frames[0].height
    if width and height:
        return width, height
    if width:
        return width, max(1, round(width * canvas_h / canvas_w))
    if height:
        return max(1, round(height * canvas_w / canvas_h)), height
    return canvas_w, canvas_h


def warn_if_distorted(frames: List[PoseFrame], size: Tuple[int, int], fit: str) -> None:
    """Stretching a batch to one size distorts the frames whose canvas has another shape than the first's;
    kept (saved workflows rely on it) but said, with the fix."""
    first = frames[0]
    distorted = [index for index, frame in enumerate(frames)
                 if frame.width * first.height != first.width * frame.height]
    if fit != "stretch" or not distorted:
        return
    listed = ", ".join(map(str, distorted[:10]))
    if len(distorted) > 10:
        listed += f" and {len(distorted) - 10} more"
    logger.warning("Render Pose: frames %s (of %d) have a canvas of another shape than frame 0's %d x %d and are "
                   "stretched out of proportion to %d x %d; set fit to contain to keep their proportions",
                   listed, len(frames), first.width, first.height, *size)


class RenderPose:
    DESCRIPTION = "Draws the OpenPose ControlNet map of every frame of a POSE_KEYPOINT (from any pack or editor)."
    CATEGORY = CATEGORY
    FUNCTION = "render"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("pose_image",)

    @classmethod
    def INPUT_TYPES(cls):
        size = {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}
        return {
            "required": {
                "pose_keypoint": pose_input(),
                "width": ("INT", {**size, "tooltip": "Map width; 0 = the pose canvas (of the first frame)."}),
                "height": ("INT", {**size, "tooltip": "Map height; 0 = the pose canvas (of the first frame)."}),
                "fit": choice(FIT_MODES, "stretch", "How a canvas of another shape maps onto the output: stretch, "
                                                    "contain (whole pose, black borders) or cover (fill, crop)."),
                "body": boolean(True, "Draw bodies."),
                "hands": boolean(True, "Draw hands."),
                "face": boolean(True, "Draw faces."),
                "scale_stick_for_xinsr_cn": stick_scaling_input(),
            },
            "optional": {   # optional, so saved workflows and API prompts without it still run
                "stick_width": ("INT", {"default": STICK_WIDTH, "min": 1, "max": MAX_STICK_WIDTH, "step": 1,
                                        "tooltip": f"Half thickness of the limb sticks: 2N+1 px (the reference's "
                                                   f"{STICK_WIDTH}); xinsir stick scaling multiplies it."}),
            },
        }

    def render(self, pose_keypoint, width: int, height: int, fit: str, body: bool, hands: bool, face: bool,
               scale_stick_for_xinsr_cn: bool, stick_width: Optional[int] = None):
        frames = to_frames(pose_keypoint)
        size = output_size(frames, width, height)
        warn_if_distorted(frames, size, fit)
        progress = host.frame_progress(len(frames))     # hundreds of video frames: report, allow Cancel
        maps = []
        for frame in frames:
            maps.append(render_pose(frame, *size, body=body, hands=hands, face=face, fit=fit,
                                    stick_scaling=scale_stick_for_xinsr_cn,
                                    stick_width=STICK_WIDTH if stick_width is None else stick_width))
            progress(len(maps), len(frames))
        return (to_image(maps),)


NODE_CLASS_MAPPINGS = {"OpenPoseCoreRenderPose": RenderPose}
NODE_DISPLAY_NAME_MAPPINGS = {"OpenPoseCoreRenderPose": "Render Pose"}
