"""Pose From Skeleton Image: a drawn OpenPose map (from a pose library, an editor's PNG, another render)
read back into keypoints, so it can be edited, retargeted or re-rendered."""
from __future__ import annotations

from ..openpose_core.image import ImageError
from ..openpose_core.skeleton_image import pose_from_skeleton_image
from ..openpose_core.track import track_people
from . import host
from .common import PoseKeypointNode, boolean
from .convert import ImageFrames, PoseKeypoint


class PoseFromSkeletonImage(PoseKeypointNode):
    DESCRIPTION = ("Reads keypoints back from OpenPose skeleton images (coloured sticks on black), frame by frame; "
                   "people get a person_id that stays with them across the frames of a video.")
    FUNCTION = "read"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "skeleton_image": ("IMAGE", {"tooltip": "OpenPose maps, one or a batch."}),
                "hands": boolean(True, "Read hands too."),
                "face": boolean(True, "Read faces too."),
            }
        }

    def read(self, skeleton_image, hands: bool, face: bool):
        frames = ImageFrames(skeleton_image, keep_alpha=True)   # a transparent map's background is black
        progress = host.frame_progress(len(frames))     # a video's maps take a while: report, allow Cancel
        poses = []
        for number, picture in enumerate(frames):
            try:
                poses.append(pose_from_skeleton_image(picture, hands=hands, face=face))
            except ImageError as error:         # which of a video's frames it was
                raise ImageError(f"image {number}: {error}") from None
            progress(len(poses), len(frames))
        return (PoseKeypoint(track_people(poses)),)


NODE_CLASS_MAPPINGS = {"OpenPoseCorePoseFromSkeletonImage": PoseFromSkeletonImage}
NODE_DISPLAY_NAME_MAPPINGS = {"OpenPoseCorePoseFromSkeletonImage": "Pose From Skeleton Image"}
