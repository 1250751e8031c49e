"""Track & Smooth Poses: the video clean-up of the CLI's ``detect`` (person ids, filled dropouts, One Euro
smoothing) for a POSE_KEYPOINT holding a video's frames."""
from __future__ import annotations

from typing import Callable, Iterator

from ..openpose_core.smooth import DEFAULT_BETA, DEFAULT_FILL_GAP, DEFAULT_MIN_CUTOFF, smooth_poses
from ..openpose_core.smooth import fill_gaps as fill_short_gaps
from ..openpose_core.track import tracked
from . import host
from .common import PoseKeypointNode, boolean, pose_input
from .convert import PoseKeypoint, to_frames


class TrackAndSmoothPoses(PoseKeypointNode):
    DESCRIPTION = ("Cleans up a video's poses: gives each person an id that stays with them (person_id), fills "
                   "joints missing for a few frames, and removes jitter with the One Euro filter.")
    FUNCTION = "clean"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pose_keypoint": pose_input("The poses of a video's frames, in order."),
                "fill_gaps": ("INT", {"default": DEFAULT_FILL_GAP, "min": 0, "max": 10000, "step": 1,
                                      "tooltip": "Interpolate a person's joint missing for at most this many frames "
                                                 "between two frames that have it; 0 = off."}),
                "smooth": boolean(True, "One Euro smoothing against jitter."),
                "frame_rate": ("FLOAT", {"default": 30.0, "min": 0.1, "max": 1000.0, "step": 0.1,
                                         "tooltip": "The video's frames per second (the filter's cutoffs are in Hz)."}),
                "min_cutoff": ("FLOAT", {"default": DEFAULT_MIN_CUTOFF, "min": 0.001, "max": 100.0, "step": 0.01,
                                         "tooltip": "Hz; lower = steadier when still, more lag."}),
                "beta": ("FLOAT", {"default": DEFAULT_BETA, "min": 0.0, "max": 1000.0, "step": 0.1,
                                   "tooltip": "Cutoff increase per unit of speed (person sizes per second); "
                                              "higher = less lag on fast motion, more jitter."}),
                "two_way": boolean(True, "Filter forward and backward in time and average, so the lag cancels "
                                         "(the whole clip is here); off = past frames only."),
            }
        }

    def clean(self, pose_keypoint, fill_gaps: int, smooth: bool, frame_rate: float, min_cutoff: float,
              beta: float, two_way: bool):
        frames = to_frames(pose_keypoint)
        stages = stage_progress(len(frames), 1 + bool(fill_gaps) + bool(smooth))
        frames = tracked(frames, progress=next(stages))
        if fill_gaps:
            frames = fill_short_gaps(frames, fill_gaps, progress=next(stages))
        if smooth:
            frames = smooth_poses(frames, fps=frame_rate, min_cutoff=min_cutoff, beta=beta, bidirectional=two_way,
                                  progress=next(stages))
        return (PoseKeypoint(frames),)


def stage_progress(frames: int, stages: int) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback for each stage of the clean-up, each moving its equal share of one
    ComfyUI progress bar; like the other video nodes', every step lets Cancel stop the work (a long clip's
    smoothing takes a while)."""
    report = host.frame_progress(stages * frames)
    for stage in range(stages):
        yield lambda done, total, first=stage * frames: report(first + done * frames // total, stages * frames)


NODE_CLASS_MAPPINGS = {"OpenPoseCoreTrackAndSmoothPoses": TrackAndSmoothPoses}
NODE_DISPLAY_NAME_MAPPINGS = {"OpenPoseCoreTrackAndSmoothPoses": "Track & Smooth Poses"}
