"""The node registry. Each node module is imported on its own, so a missing dependency (or any import
error) disables only the nodes that need it, with a log line naming it, instead of the whole pack."""
from __future__ import annotations

import importlib
import logging
from typing import Dict

logger = logging.getLogger(__name__)

MODULES = ("estimator", "loader", "render", "pose_io", "editing", "skeleton", "video")

PIP_NAMES = {"cv2": "opencv-python-headless", "PIL": "pillow", "huggingface_hub": "huggingface-hub",
             "safetensors": "safetensors", "torch": "torch", "numpy": "numpy"}
"""pip package of each third-party module the library imports, for the "install it" hint."""

NODE_CLASS_MAPPINGS: Dict[str, type] = {}
NODE_DISPLAY_NAME_MAPPINGS: Dict[str, str] = {}
LOAD_ERRORS: Dict[str, str] = {}
"""Node module -> why it did not load."""


def _why(error: Exception) -> str:
    missing = getattr(error, "name", None)
    if isinstance(error, ModuleNotFoundError) and missing:
        top = missing.split(".")[0]
        if top in PIP_NAMES:
            return f"missing dependency {top!r}: pip install {PIP_NAMES[top]}"
        return f"missing module {missing!r}"
    return f"{type(error).__name__}: {error}"


def _register(name: str) -> None:
    try:
        module = importlib.import_module(f".{name}", __name__)
    except Exception as error:  # never let one module take ComfyUI or the other nodes down
        LOAD_ERRORS[name] = _why(error)
        logger.error("openpose-core: the %s nodes are unavailable (%s)", name, LOAD_ERRORS[name],
                     exc_info=not isinstance(error, ImportError))
        return
    NODE_CLASS_MAPPINGS.update(module.NODE_CLASS_MAPPINGS)
    NODE_DISPLAY_NAME_MAPPINGS.update(module.NODE_DISPLAY_NAME_MAPPINGS)


for _name in MODULES:
    _register(_name)
