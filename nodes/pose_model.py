"""OPENPOSE_MODEL: a detector whose networks ComfyUI's model management owns, and the cache that keeps
one per (weights, device, precision) across runs instead of reloading the weights every execution.

Each network the detector uses (body now, hand and face when first asked for) is wrapped in a ComfyUI
ModelPatcher: before a run the needed ones are loaded onto the compute device through
``comfy.model_management.load_models_gpu``; between runs ComfyUI may offload them again whenever it needs
the memory (or on "Free model and node cache"), like any model it manages.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch

from ..openpose_core.detector import OpenposeDetector
from ..openpose_core.presets import Preset, autocast_dtype, get_preset
from ..openpose_core.weights import DEFAULT_FILENAMES, DEFAULT_REPO, WeightsError, load_network
from . import host

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu")
"""``auto``: ComfyUI's compute device (respects --cpu and friends)."""

PRECISIONS = ("auto", "fp32", "half")
"""``auto``: fp32 weights, and the preset decides (only ``fast`` computes in reduced precision);
``fp32``: full precision whatever the preset; ``half``: weights stored and computed in fp16 on CUDA or
bf16 on CPUs that support it (half the memory; maps change slightly, like the ``fast`` preset)."""

HALF = Preset("half", reduced_precision=True)
"""Asks :func:`autocast_dtype` for the device's reduced-precision dtype."""


@dataclass(frozen=True)
class WeightsSource:
    """Checkpoint file names in the openpose folders, and the Hub repo that missing ones are fetched from."""

    body: str = DEFAULT_FILENAMES["body"]
    hand: str = DEFAULT_FILENAMES["hand"]
    face: str = DEFAULT_FILENAMES["face"]
    repo: str = DEFAULT_REPO


def locate(filename: str, repo: str) -> Path:
    """``filename`` (or its .safetensors conversion) in the openpose folders, else downloaded from ``repo``
    into the first of them, where it is found next time. A name from a prompt sent to ComfyUI's API may not
    lead out of the folders."""
    if Path(filename).is_absolute() or ".." in Path(filename).parts:
        raise WeightsError(f"{filename}: a weights file is named by its place in the openpose model folders")
    folders = host.openpose_folders()
    for folder in folders:
        for name in (filename, str(Path(filename).with_suffix(".safetensors"))):
            path = Path(folder, name)
            if path.is_file():
                return path
    return _download(filename, repo, Path(folders[0]))


def _download(filename: str, repo: str, folder: Path) -> Path:
    from huggingface_hub import hf_hub_download

    logger.info("downloading %s from the Hugging Face repo %s into %s", filename, repo, folder)
    try:
        return Path(hf_hub_download(repo, filename, local_dir=folder))
    except Exception as error:  # offline, no such repo or file, no network: one message saying what to do
        detail = next(iter(str(error).splitlines()), "")
        raise WeightsError(f"{filename}: not in {folder} and not downloadable from {repo} "
                           f"({type(error).__name__}: {detail}); "
                           f"download it from https://huggingface.co/{repo} and put it in {folder}") from None


class PoseModel:
    """A detector plus the devices and precision it runs with. Build one from files with
    :func:`cached_model`, or wrap any detector (tests use oracle networks)."""

    def __init__(self, detector: OpenposeDetector, *, load_device, offload_device, precision: str = "auto"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.detector = detector
        self.load_device, self.offload_device = torch.device(load_device), torch.device(offload_device)
        self.precision = precision
        self.weight_dtype = autocast_dtype(HALF, self.load_device) if precision == "half" else None
        self._patchers: Dict[str, object] = {}

    def ready(self, *, hands: bool, face: bool) -> OpenposeDetector:
        """The detector with the networks a run needs loaded (from disk the first time) and on the compute
        device, moved there by ComfyUI's model management."""
        kinds = ["body"] + ["hand"] * hands + ["face"] * face
        self.detector.device = self.offload_device  # networks loaded now start where ComfyUI keeps them
        for kind in kinds:
            if kind not in self._patchers:
                network = getattr(self.detector, f"{kind}_model")
                if self.weight_dtype is not None:
                    network.to(self.weight_dtype)
                self._patchers[kind] = host.model_patcher(network, self.load_device, self.offload_device)
        host.model_management().load_models_gpu([self._patchers[kind] for kind in kinds], force_full_load=True)
        self.detector.device = self.load_device
        return self.detector

    def preset(self, name) -> Preset:
        """The named preset with this model's precision applied (``auto`` leaves it to the preset)."""
        preset = get_preset(name)
        if self.precision == "auto":
            return preset
        return replace(preset, reduced_precision=self.precision == "half")


_CACHE: Dict[Tuple[WeightsSource, str, str], PoseModel] = {}


def cached_model(source: Optional[WeightsSource] = None, device: str = "auto", precision: str = "auto") -> PoseModel:
    """The PoseModel for these weights, device and precision: built (body weights read) the first time,
    the same object afterwards."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    source = source or WeightsSource()
    management = host.model_management()
    load_device = torch.device("cpu") if device == "cpu" else torch.device(management.get_torch_device())
    key = (source, str(load_device), precision)
    if key not in _CACHE:
        offload_device = torch.device("cpu") if device == "cpu" else torch.device(management.unet_offload_device())
        _CACHE[key] = PoseModel(_detector(source, offload_device), load_device=load_device,
                                offload_device=offload_device, precision=precision)
    return _CACHE[key]


def _detector(source: WeightsSource, device: torch.device) -> OpenposeDetector:
    """Body network read now; hand and face networks (and their downloads) only when a run needs them."""
    def loader(kind: str):
        return lambda: load_network(kind, locate(getattr(source, kind), source.repo), device=device)

    return OpenposeDetector(loader("body")(), hand_loader=loader("hand"), face_loader=loader("face"))
