"""The numeric mode the networks run in: the preset's reduced precision under autocast, else true fp32.

PyTorch lets cuDNN run fp32 convolutions in TF32 by default (and ComfyUI leaves that on). TF32 rounds the
body network's outputs by about 3e-3 on an H100, 30x the parity contract, and makes a frame's keypoints
depend on its place in a batch; so plain fp32 runs turn it off, only while a network runs.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator, Optional

import torch

_lock = threading.Lock()
_running = 0                 # fp32 network runs in progress (threads): the last one restores the setting
_saved: object = None


@contextmanager
def network_mode(device_type: str, autocast_dtype: Optional[torch.dtype]) -> Iterator[None]:
    """Inference mode, and autocast to ``autocast_dtype``, or with None full fp32 convolutions."""
    precision = _without_tf32() if autocast_dtype is None else torch.autocast(device_type, dtype=autocast_dtype)
    with torch.inference_mode(), precision:
        yield


@contextmanager
def _without_tf32() -> Iterator[None]:
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = _tf32_setting()
            _set_tf32(None)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                _set_tf32(_saved)


def _new_api() -> bool:
    # torch >= 2.9; mixing it with the legacy allow_tf32 flag is an error there
    return hasattr(getattr(torch.backends.cudnn, "conv", None), "fp32_precision")


def _tf32_setting() -> object:
    return torch.backends.cudnn.conv.fp32_precision if _new_api() else torch.backends.cudnn.allow_tf32


def _set_tf32(value: object) -> None:
    """Restore ``value`` (from :func:`_tf32_setting`), or with None turn TF32 off."""
    if _new_api():
        torch.backends.cudnn.conv.fp32_precision = "ieee" if value is None else value
    else:
        torch.backends.cudnn.allow_tf32 = False if value is None else value
