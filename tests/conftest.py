"""Shared fixtures: published-layout checkpoints (generated once per session), a fake Hub serving them,
and a Hugging Face environment pointed at that Hub and at a fresh cache."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

import checkpoints
import fake_hub
from openpose_core.weights import DEFAULT_FILENAMES, DEFAULT_REPO, LEGACY_FILENAMES, LEGACY_REPO

@pytest.fixture(scope="session")
def published_states():
    """{kind: state dict} in the published layout, fixed seed 0 (body 209 MB, hand 147 MB, face 154 MB)."""
    return {kind: checkpoints.published_state(kind) for kind in checkpoints.KINDS}


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory, published_states) -> Path:
    """A folder laid out like ``lllyasviel/Annotators``: the three published .pth files, nothing else.

    Shared by the whole session: read it, or link its files elsewhere (``checkpoint_folder``); never
    load from it through ``weights.py``, which would write .safetensors conversions into it.
    """
    folder = tmp_path_factory.mktemp("published")
    for kind, state in published_states.items():
        checkpoints.write_pth(folder / DEFAULT_FILENAMES[kind], state)
    return folder


@pytest.fixture(scope="session")
def hand_safetensors(tmp_path_factory, published_states) -> Path:
    """The session's hand checkpoint as a plain ``hand_pose_model.safetensors`` (no conversion metadata)."""
    path = tmp_path_factory.mktemp("safetensors") / "hand_pose_model.safetensors"
    return checkpoints.write_safetensors(path, published_states["hand"])


@pytest.fixture
def checkpoint_folder(tmp_path, checkpoint_dir) -> Path:
    """A fresh folder with symlinks to the three published .pth files (conversions land here)."""
    folder = tmp_path / "models"
    folder.mkdir()
    for name in DEFAULT_FILENAMES.values():
        (folder / name).symlink_to(checkpoint_dir / name)
    return folder


@pytest.fixture(scope="session")
def fake_hub_server(checkpoint_dir, hand_safetensors):
    """A running ``fake_hub.FakeHub`` with ``DEFAULT_REPO`` (three .pth), ``LEGACY_REPO`` (body and hand
    under annotator/ckpts/) and ``checkpoints.SAFETENSORS_REPO`` (hand as .pth and .safetensors)."""
    with fake_hub.FakeHub() as hub:
        for name in DEFAULT_FILENAMES.values():
            hub.add(DEFAULT_REPO, name, checkpoint_dir / name)
        for kind, name in LEGACY_FILENAMES.items():
            hub.add(LEGACY_REPO, name, checkpoint_dir / DEFAULT_FILENAMES[kind])
        hub.add(checkpoints.SAFETENSORS_REPO, "hand_pose_model.pth", checkpoint_dir / "hand_pose_model.pth")
        hub.add(checkpoints.SAFETENSORS_REPO, "hand_pose_model.safetensors", hand_safetensors)
        yield hub


class HubEnv(NamedTuple):
    """What ``hf_env`` set up: the fake Hub (request log cleared), HF_HOME and the cache inside it."""

    hub: fake_hub.FakeHub
    home: Path
    cache: Path
    monkeypatch: pytest.MonkeyPatch

    def set_offline(self, offline: bool = True) -> None:
        """Switch HF_HUB_OFFLINE (both the variable and the value huggingface_hub read at import)."""
        from huggingface_hub import constants
        self.monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
        self.monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture
def hf_env(tmp_path, monkeypatch, fake_hub_server) -> HubEnv:
    """HF_ENDPOINT -> the fake Hub, HF_HOME -> a fresh tmp folder, online.

    huggingface_hub copies these variables into ``huggingface_hub.constants`` at import time, so the
    derived constants are patched too (the token paths as well, so no real token reaches the fake Hub).
    """
    from huggingface_hub import constants
    home = tmp_path / "hf_home"
    cache = home / "hub"
    fake_hub_server.reset()
    for name, value in (("HF_ENDPOINT", fake_hub_server.url), ("HF_HOME", str(home)), ("HF_HUB_OFFLINE", "0"),
                        ("NO_PROXY", "127.0.0.1,localhost")):
        monkeypatch.setenv(name, value)
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (
        ("ENDPOINT", fake_hub_server.url),
        ("HUGGINGFACE_CO_URL_TEMPLATE", fake_hub_server.url + "/{repo_id}/resolve/{revision}/{filename}"),
        ("HF_HOME", str(home)),
        ("HF_HUB_CACHE", str(cache)),
        ("HF_HUB_OFFLINE", False),
        ("HF_TOKEN_PATH", str(home / "token")),
        ("HF_STORED_TOKENS_PATH", str(home / "stored_tokens")),
    ):
        monkeypatch.setattr(constants, name, value)
    return HubEnv(fake_hub_server, home, cache, monkeypatch)


@pytest.fixture
def no_torch_load(monkeypatch):
    """Make any ``torch.load`` fail the test: proves a load came from .safetensors, never a pickle."""
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError(f"torch.load called on {args[0] if args else kwargs}")
    monkeypatch.setattr(torch, "load", refuse)
