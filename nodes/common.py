"""What every node of the pack shares: its category, the wire type names and input declarations."""
CATEGORY = "OpenPose Core"
POSE_KEYPOINT = "POSE_KEYPOINT"
"""The ecosystem's pose type (controlnet_aux, DWPose, pose editors): a list of OpenPose frame dicts."""
OPENPOSE_MODEL = "OPENPOSE_MODEL"
MAX_RESOLUTION = 16384
"""ComfyUI's own largest image side (nodes.MAX_RESOLUTION)."""


class PoseKeypointNode:
    """Base of the nodes whose one output is a POSE_KEYPOINT (ComfyUI reads these class attributes)."""

    CATEGORY = CATEGORY
    RETURN_TYPES = (POSE_KEYPOINT,)
    RETURN_NAMES = ("pose_keypoint",)


def stick_scaling_input() -> tuple:
    return boolean(False, "Thicker limbs on large maps, as xinsir's SDXL OpenPose ControlNet expects.")


def boolean(default: bool, tooltip: str) -> tuple:
    return ("BOOLEAN", {"default": default, "tooltip": tooltip})


def choice(options, default: str, tooltip: str) -> tuple:
    return (list(options), {"default": default, "tooltip": tooltip})


def pose_input(tooltip: str = "Poses from any OpenPose/DWPose node, pose editor or Load Pose JSON.") -> tuple:
    return (POSE_KEYPOINT, {"tooltip": tooltip})
