"""weights.py: finding, fetching, checking, converting and loading checkpoints.

Hub tests run the real huggingface_hub client against tests/fake_hub.py. Most tests use the hand
checkpoint, the smallest of the three (147 MB).
"""
from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

import pytest
import safetensors.torch
import torch

import checkpoints
import fake_hub
from openpose_core.models import NETWORKS
from openpose_core.weights import (
    DEFAULT_FILENAMES,
    DEFAULT_REPO,
    LEGACY_FILENAMES,
    LEGACY_REPO,
    WeightsError,
    convert_checkpoint,
    load_network,
    resolve_checkpoint,
)

HAND = DEFAULT_FILENAMES["hand"]
HAND_SAFETENSORS = "hand_pose_model.safetensors"


def has_weights(net, kind, state) -> bool:
    """Whether ``net``'s parameters are exactly ``state`` (published layout)."""
    published = NETWORKS[kind].to_published(net.state_dict())
    return list(published) == list(state) and all(torch.equal(published[key], state[key]) for key in state)


def weights_error(call, *args, **kwargs) -> str:
    """The message of the WeightsError ``call`` raises, checked to be one line with no chained trace."""
    with pytest.raises(WeightsError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    error = info.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


def refuse_torch_load(*args, **kwargs):
    raise AssertionError("torch.load called: this load should have come from a .safetensors file")


def snapshot_of(hf_env, repo_id: str) -> Path:
    return hf_env.cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / fake_hub.commit_of(repo_id)


# --- local files and folders ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", checkpoints.KINDS)
def test_loads_each_published_layout_from_a_file_path(kind, checkpoint_folder, published_states):
    net = load_network(kind, checkpoint_folder / DEFAULT_FILENAMES[kind])
    assert type(net) is NETWORKS[kind].build
    assert not net.training
    assert {(p.device.type, p.dtype) for p in net.parameters()} == {("cpu", torch.float32)}
    assert has_weights(net, kind, published_states[kind])


def test_a_home_folder_path_with_a_tilde(checkpoint_folder, monkeypatch):
    """``~/models/...`` (a path the shell did not expand: Python, a node's text field) is the home folder,
    not a Hub repo id."""
    monkeypatch.setenv("HOME", str(checkpoint_folder.parent))
    home_path = f"~/{checkpoint_folder.name}"
    assert resolve_checkpoint("hand", home_path) == checkpoint_folder / HAND
    assert resolve_checkpoint("hand", f"{home_path}/{HAND}") == checkpoint_folder / HAND


def test_first_load_from_a_folder_caches_a_conversion_that_later_loads_use(
        checkpoint_folder, published_states, monkeypatch):
    load_network("hand", checkpoint_folder)
    converted = checkpoint_folder / HAND_SAFETENSORS
    assert sorted(os.listdir(checkpoint_folder)) == sorted([*DEFAULT_FILENAMES.values(), HAND_SAFETENSORS])
    stored = safetensors.torch.load_file(converted)
    assert sorted(stored) == sorted(published_states["hand"])  # the published layout, not module keys
    monkeypatch.setattr(torch, "load", refuse_torch_load)
    assert has_weights(load_network("hand", checkpoint_folder), "hand", published_states["hand"])
    assert has_weights(load_network("hand", checkpoint_folder / HAND), "hand", published_states["hand"])


def test_a_conversion_of_an_older_pth_is_not_used(tmp_path, published_states, monkeypatch):
    pth = checkpoints.write_pth(tmp_path / HAND, published_states["hand"])
    load_network("hand", pth)
    changed = dict(published_states["hand"], **{"conv1_1.bias": torch.full((64,), 0.5)})
    checkpoints.write_pth(pth, changed)
    os.utime(pth, ns=(os.stat(pth).st_atime_ns, os.stat(pth).st_mtime_ns + 10**9))  # even on coarse clocks
    loads = []
    real_load = torch.load

    def counting_load(path, *args, **kwargs):
        loads.append(path)
        return real_load(path, *args, **kwargs)
    monkeypatch.setattr(torch, "load", counting_load)

    assert has_weights(load_network("hand", pth), "hand", changed)
    assert loads == [pth]
    reconverted = safetensors.torch.load_file(tmp_path / HAND_SAFETENSORS)
    assert torch.equal(reconverted["conv1_1.bias"], changed["conv1_1.bias"])


def test_a_safetensors_file_in_the_folder_is_preferred(
        tmp_path, hand_safetensors, published_states, no_torch_load):
    (tmp_path / HAND).write_bytes(b"not even a pickle")  # never read
    (tmp_path / HAND_SAFETENSORS).symlink_to(hand_safetensors)
    assert has_weights(load_network("hand", tmp_path), "hand", published_states["hand"])
    assert has_weights(load_network("hand", tmp_path / HAND), "hand", published_states["hand"])


# --- the Hub -------------------------------------------------------------------------------------------

def test_downloads_from_the_hub_once_and_never_unpickles_again(hf_env, published_states, monkeypatch):
    net = load_network("hand")
    assert has_weights(net, "hand", published_states["hand"])
    hub = hf_env.hub
    assert hub.count("HEAD", HAND_SAFETENSORS, DEFAULT_REPO) == 1  # asked first, answered 404
    assert hub.count("GET", HAND_SAFETENSORS) == 0
    assert hub.count("GET", HAND, DEFAULT_REPO) == 1
    assert hub.count("GET") == 1
    assert (snapshot_of(hf_env, DEFAULT_REPO) / HAND_SAFETENSORS).is_file()  # the conversion, beside the .pth
    monkeypatch.setattr(torch, "load", refuse_torch_load)
    hub.reset()
    assert has_weights(load_network("hand"), "hand", published_states["hand"])
    assert hub.requests == [fake_hub.Request("HEAD", DEFAULT_REPO, HAND)]  # the absent .safetensors is remembered


def test_takes_the_repos_safetensors_instead_of_its_pth(hf_env, published_states, no_torch_load):
    net = load_network("hand", checkpoints.SAFETENSORS_REPO)
    assert has_weights(net, "hand", published_states["hand"])
    assert hf_env.hub.count("GET", HAND_SAFETENSORS) == 1
    assert hf_env.hub.count(filename=HAND) == 0


def test_offline_loads_from_a_prebuilt_cache_without_requests(
        hf_env, checkpoint_dir, published_states, monkeypatch):
    fake_hub.build_hf_cache(hf_env.cache, DEFAULT_REPO, {HAND: checkpoint_dir / HAND})
    hf_env.set_offline()
    assert has_weights(load_network("hand"), "hand", published_states["hand"])
    assert (snapshot_of(hf_env, DEFAULT_REPO) / HAND_SAFETENSORS).is_file()
    monkeypatch.setattr(torch, "load", refuse_torch_load)
    assert has_weights(load_network("hand"), "hand", published_states["hand"])  # the cached conversion
    assert hf_env.hub.count() == 0


def test_cache_dir_is_where_the_client_looks(hf_env, checkpoint_dir, tmp_path):
    snapshot = fake_hub.build_hf_cache(tmp_path / "elsewhere", DEFAULT_REPO, {HAND: checkpoint_dir / HAND})
    assert resolve_checkpoint("hand", cache_dir=tmp_path / "elsewhere", local_files_only=True) == snapshot / HAND
    assert "not in the local Hugging Face cache" in weights_error(resolve_checkpoint, "hand", local_files_only=True)
    assert hf_env.hub.count() == 0


def test_legacy_repo_maps_body_and_hand_to_annotator_ckpts_and_face_to_annotators(hf_env, checkpoint_dir):
    fake_hub.build_hf_cache(hf_env.cache, LEGACY_REPO, {name: checkpoint_dir / DEFAULT_FILENAMES[kind]
                                                       for kind, name in LEGACY_FILENAMES.items()})
    fake_hub.build_hf_cache(hf_env.cache, DEFAULT_REPO, {"facenet.pth": checkpoint_dir / "facenet.pth"})
    for kind, repo_id, filename in (("body", LEGACY_REPO, "annotator/ckpts/body_pose_model.pth"),
                                    ("hand", LEGACY_REPO, "annotator/ckpts/hand_pose_model.pth"),
                                    ("face", DEFAULT_REPO, "facenet.pth")):
        path = resolve_checkpoint(kind, LEGACY_REPO, local_files_only=True)
        assert path == snapshot_of(hf_env, repo_id) / filename
    assert hf_env.hub.count() == 0


def test_offline_without_a_cached_copy_names_the_file(hf_env):
    hf_env.set_offline()
    message = weights_error(load_network, "body")
    assert message.startswith("lllyasviel/Annotators/body_pose_model.pth: not in the local Hugging Face cache")
    assert hf_env.hub.count() == 0


def test_sources_that_do_not_exist(hf_env, tmp_path):
    assert "no such Hub repo" in weights_error(load_network, "hand", "nobody/nothing")
    assert "no such file in the Hub repo" in weights_error(load_network, "hand", DEFAULT_REPO, filename="hand.pth")
    assert "not a valid Hub repo id" in weights_error(load_network, "hand", str(tmp_path / "missing" / HAND))
    assert weights_error(load_network, "hand", tmp_path) == f"{tmp_path / HAND}: no such file (nor {HAND_SAFETENSORS})"
    with pytest.raises(ValueError, match="unknown network kind 'feet'"):
        load_network("feet", tmp_path)


# --- damaged, foreign and unsafe files -----------------------------------------------------------------

def test_truncated_pth(tmp_path, checkpoint_dir):
    path = tmp_path / HAND
    path.write_bytes((checkpoint_dir / HAND).read_bytes()[: 1 << 20])
    message = weights_error(load_network, "hand", path)
    assert message.startswith(f"{path}: not a readable PyTorch checkpoint (truncated, corrupt, or another format?)")
    assert not (tmp_path / HAND_SAFETENSORS).exists()


def test_files_that_are_not_checkpoints(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("hello\n")
    assert weights_error(load_network, "hand", text).startswith(f"{text}: not a readable PyTorch checkpoint")
    listed = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listed)
    assert weights_error(load_network, "hand", listed) == f"{listed}: not a state dict (the pickle holds a list)"
    integers = tmp_path / "integers.pth"
    torch.save({"conv1_1.weight": torch.zeros(64, 3, 3, 3, dtype=torch.int64)}, integers)
    assert "entries that are not float tensors: 1 (conv1_1.weight)" in weights_error(load_network, "hand", integers)


def test_truncated_safetensors(tmp_path, hand_safetensors):
    path = tmp_path / HAND_SAFETENSORS
    path.write_bytes(hand_safetensors.read_bytes()[:1000])
    message = weights_error(load_network, "hand", path)
    assert message.startswith(f"{path}: not a readable safetensors file (truncated or corrupt?): ")


def test_another_networks_checkpoint_gives_the_shape_mismatches(tmp_path, checkpoint_dir):
    face = tmp_path / "facenet.pth"
    face.symlink_to(checkpoint_dir / "facenet.pth")
    message = weights_error(load_network, "hand", face)
    assert message == (f"{face}: not a hand checkpoint: shape mismatches: 17 ("
                       "conv6_2_CPM.weight: got (71, 512, 1, 1), expected (22, 512, 1, 1); "
                       "conv6_2_CPM.bias: got (71,), expected (22,); "
                       "Mconv1_stage2.weight: got (128, 199, 7, 7), expected (128, 150, 7, 7); ...)"
                       "; it looks like a face checkpoint")
    assert not (tmp_path / "facenet.safetensors").exists()


def test_missing_and_unexpected_keys_are_listed(tmp_path, checkpoint_dir, published_states):
    body = tmp_path / "body_pose_model.pth"
    body.symlink_to(checkpoint_dir / "body_pose_model.pth")
    message = weights_error(load_network, "hand", body)
    assert "missing keys: 84 (conv4_3.weight, conv4_3.bias, conv4_4.weight, ...)" in message
    assert "unexpected keys: 164 (conv4_3_CPM.weight, conv4_3_CPM.bias, conv4_4_CPM.weight, ...)" in message
    assert message.endswith("; it looks like a body checkpoint")

    almost = dict(published_states["hand"], extra=torch.zeros(1))
    del almost["Mconv7_stage6.bias"]
    path = checkpoints.write_safetensors(tmp_path / HAND_SAFETENSORS, almost)
    assert weights_error(load_network, "hand", path) == (
        f"{path}: not a hand checkpoint: missing keys: 1 (Mconv7_stage6.bias); unexpected keys: 1 (extra)")


class WritesMarker:
    """Unpickles by running code that creates ``marker``: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def test_a_pickle_that_would_run_code_is_refused_unrun(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / HAND
    torch.save({"conv1_1.weight": torch.zeros(64, 3, 3, 3), "conv1_1.bias": WritesMarker(marker)}, path)
    message = weights_error(load_network, "hand", path)
    assert re.match(rf"{re.escape(str(path))}: refused as unsafe: its pickle would call (builtins\.)?exec,", message)
    assert not marker.exists()
    assert not (tmp_path / HAND_SAFETENSORS).exists()
    torch.load(path, weights_only=False)  # the control: the payload is real
    assert marker.exists()


# --- conversion ----------------------------------------------------------------------------------------

def disk_full(tensors, filename, metadata=None):
    Path(filename).write_bytes(b"half a file")
    raise OSError(errno.ENOSPC, "No space left on device")


def read_only_folder(*args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied")


@pytest.mark.parametrize("fail", [disk_full, read_only_folder])
def test_a_failed_conversion_leaves_nothing_behind_and_loading_still_works(
        fail, tmp_path, checkpoint_dir, published_states, monkeypatch):
    pth = tmp_path / HAND
    pth.symlink_to(checkpoint_dir / HAND)
    if fail is disk_full:
        monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    else:
        monkeypatch.setattr(tempfile, "mkstemp", read_only_folder)

    assert has_weights(load_network("hand", tmp_path), "hand", published_states["hand"])
    assert os.listdir(tmp_path) == [HAND]
    message = weights_error(convert_checkpoint, pth)
    assert message.startswith(f"{tmp_path / HAND_SAFETENSORS}: cannot write the conversion (")
    assert os.listdir(tmp_path) == [HAND]


def test_convert_checkpoint_infers_the_kind(tmp_path, checkpoint_dir, published_states, monkeypatch):
    pth = tmp_path / "facenet.pth"
    pth.symlink_to(checkpoint_dir / "facenet.pth")
    out = convert_checkpoint(pth, tmp_path / "face-weights.safetensors")
    assert out == tmp_path / "face-weights.safetensors"
    stored = safetensors.torch.load_file(out)
    assert sorted(stored) == sorted(published_states["face"])
    assert all(torch.equal(stored[key], value) for key, value in published_states["face"].items())
    monkeypatch.setattr(torch, "load", refuse_torch_load)
    assert has_weights(load_network("face", out), "face", published_states["face"])


def test_convert_checkpoint_rejects_what_is_no_openpose_checkpoint(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv1_1.weight": torch.zeros(64, 3, 3, 3), "fc.weight": torch.zeros(10, 64)}, path)
    message = weights_error(convert_checkpoint, path)
    assert message.startswith(f"{path}: not a body, hand or face checkpoint (as a ")
    assert "unexpected keys: 1 (fc.weight)" in message
    assert os.listdir(tmp_path) == ["other.pth"]
