"""OpenPose Model Loader: which weights (from models/openpose/, fetched from the Hub on first use), on which
device, in which precision. The loaded model is cached: running again, or another loader with the same
settings, reuses it."""
from __future__ import annotations

from . import host
from .common import CATEGORY, OPENPOSE_MODEL, choice
from .pose_model import DEVICES, PRECISIONS, WeightsSource, cached_model


def _file_choice(kind: str, tooltip: str) -> tuple:
    default = getattr(WeightsSource(), kind)
    return choice(sorted(set(host.weight_files()) | {default}), default, tooltip)


class OpenPoseModelLoader:
    DESCRIPTION = ("Loads the OpenPose body, hand and face networks from ComfyUI/models/openpose/ (or the "
                   "openpose paths of extra_model_paths.yaml), downloading missing files from the Hub into that "
                   "folder. Hand and face weights are read only when a run needs them.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (OPENPOSE_MODEL,)
    RETURN_NAMES = ("openpose_model",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "body_model": _file_choice("body", "Body network checkpoint (.pth or .safetensors)."),
                "hand_model": _file_choice("hand", "Hand network checkpoint."),
                "face_model": _file_choice("face", "Face network checkpoint."),
                "hub_repo": ("STRING", {"default": WeightsSource().repo,
                                        "tooltip": "Hugging Face repo that files missing from models/openpose "
                                                   "are downloaded from."}),
                "device": choice(DEVICES, "auto", "auto: ComfyUI's device (GPU unless --cpu); cpu: always the CPU."),
                "precision": choice(PRECISIONS, "auto", "auto: fp32 unless the estimator's preset is 'fast'; "
                                                        "fp32: always full precision; half: fp16 on CUDA, bf16 on CPU "
                                                        "(half the memory, slightly different maps)."),
            }
        }

    def load(self, body_model: str, hand_model: str, face_model: str, hub_repo: str, device: str, precision: str):
        repo = hub_repo.strip() or WeightsSource().repo
        source = WeightsSource(body=body_model, hand=hand_model, face=face_model, repo=repo)
        return (cached_model(source, device, precision),)


NODE_CLASS_MAPPINGS = {"OpenPoseCoreModelLoader": OpenPoseModelLoader}
NODE_DISPLAY_NAME_MAPPINGS = {"OpenPoseCoreModelLoader": "OpenPose Model Loader"}
