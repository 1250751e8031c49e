"""Checkpoints in the published OpenPose layouts, filled with fixed-seed random values.

The layouts come from our networks' ``to_published``; tests/test_models.py checks them against the
reference modules key for key and shape for shape, so these files look like the published ones: a plain
dict of float32 tensors (an OrderedDict for the face net) written with ``torch.save``.
Weights are He-scaled (uniform within sqrt(6 / fan_in)) and biases small, so activations keep an O(1)
magnitude through the 30-odd layers and comparing outputs at 1e-4 means something.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Dict

import torch
from safetensors.torch import save_file

from openpose_core.models import NETWORKS

KINDS = tuple(NETWORKS)


def published_state(kind: str, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Random tensors with the published keys, order and shapes of ``kind``'s checkpoint."""
    network = NETWORKS[kind]
    with torch.device("meta"):
        layout = network.to_published(network.build().state_dict())
    generator = torch.Generator().manual_seed(seed)
    state = OrderedDict() if kind == "face" else {}
    for key, meta in layout.items():
        bound = math.sqrt(6 / meta[0].numel()) if key.endswith(".weight") else 0.05
        state[key] = torch.empty(meta.shape).uniform_(-bound, bound, generator=generator)
    return state


def write_pth(path: Path, state: Dict[str, torch.Tensor]) -> Path:
    """Save ``state`` the way the published .pth files were saved (a pickled dict of tensors)."""
    torch.save(state, path)
    return Path(path)


def write_safetensors(path: Path, state: Dict[str, torch.Tensor]) -> Path:
    """Save ``state`` as a plain .safetensors file (no metadata, as a repo would ship it)."""
    save_file(dict(state), str(path))
    return Path(path)

SAFETENSORS_REPO = "openpose-test/with-safetensors"
"""The fake-Hub repo (tests/conftest.py) that ships the hand checkpoint as both .pth and .safetensors."""


def write_published_folder(folder: Path, seed: int = 0) -> Path:
    """A folder laid out like ``lllyasviel/Annotators``: the three published-name .pth files."""
    from openpose_core.weights import DEFAULT_FILENAMES

    for kind in KINDS:
        write_pth(Path(folder) / DEFAULT_FILENAMES[kind], published_state(kind, seed))
    return Path(folder)
