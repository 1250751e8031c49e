"""The ComfyUI modules the nodes use, imported only when a node runs or lists its inputs: importing the
pack must work without ComfyUI (tests, plain Python), and tests put stand-ins in their place."""
from __future__ import annotations

import os
from typing import Callable, List

OPENPOSE_FOLDER = "openpose"
"""``models/openpose/``; ``openpose: <path>`` lines in extra_model_paths.yaml add folders to it."""

WEIGHT_SUFFIXES = (".pth", ".safetensors")


def folder_paths():
    import folder_paths

    return folder_paths


def model_management():
    import comfy.model_management

    return comfy.model_management


def model_patcher(module, load_device, offload_device):
    """A ComfyUI ModelPatcher, through which model management moves ``module`` between devices."""
    import comfy.model_patcher

    return comfy.model_patcher.ModelPatcher(module, load_device=load_device, offload_device=offload_device)


def openpose_folders() -> List[str]:
    """The folders searched for weights, first one first (downloads go there). ``models/openpose/`` is
    registered on first use; folders from extra_model_paths.yaml, read before the pack loads, come first."""
    paths = folder_paths()
    paths.add_model_folder_path(OPENPOSE_FOLDER, os.path.join(paths.models_dir, OPENPOSE_FOLDER))
    return paths.get_folder_paths(OPENPOSE_FOLDER)


def weight_files() -> List[str]:
    """Checkpoint files found in the openpose folders (relative names)."""
    openpose_folders()
    return [name for name in folder_paths().get_filename_list(OPENPOSE_FOLDER)
            if name.lower().endswith(WEIGHT_SUFFIXES)]


def frame_progress(total: int) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback for ``detect_batch``: advances ComfyUI's progress bar once per
    finished frame, then raises ComfyUI's interrupt exception if the user pressed Cancel, which stops the
    batch between network batches."""
    import comfy.utils

    bar = comfy.utils.ProgressBar(total)
    management = model_management()

    def progress(done: int, _total: int) -> None:
        for _ in range(done - bar.current):
            bar.update(1)
        management.throw_exception_if_processing_interrupted()

    return progress
