"""openpose-core: fast OpenPose (PAF) pose estimation for ControlNet — body, hands, face, pose JSON, editing."""
from .detector import OpenposeDetector
from .pose import Keypoint, Person, PoseFrame
from .presets import PART_PRESETS, PRESETS, Preset
from .skeleton_image import pose_from_skeleton_image

__all__ = ["OpenposeDetector", "Keypoint", "Person", "PoseFrame", "Preset", "PRESETS", "PART_PRESETS",
           "pose_from_skeleton_image"]
__version__ = "0.1.0"
