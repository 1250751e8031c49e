"""Find, fetch, check and load OpenPose checkpoints without ever running pickled code.

A checkpoint comes from an explicit file, a local folder, or a Hub repo through ``huggingface_hub``
(so HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE, ``cache_dir`` and ``local_files_only`` behave as
everywhere else). A ``.safetensors`` file with the same name is preferred to a ``.pth``. A ``.pth`` is read
only with ``torch.load(weights_only=True)``; once it has been read and checked, a ``.safetensors`` copy is
written next to it (atomically; skipped silently where that folder cannot be written) and later loads use
that copy, so the pickle is unpickled at most once. Files are kept in the published layout (flat Caffe
keys); each model's ``from_published`` maps them onto its module. Every failure to use a file is a
``WeightsError`` whose one-line message names the file and says what is wrong with it.
"""
from __future__ import annotations

import functools
import logging
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import safetensors
import safetensors.torch
import torch
from huggingface_hub import hf_hub_download, try_to_load_from_cache
from huggingface_hub.utils import (
    EntryNotFoundError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
)
from torch import nn

from .models import NETWORKS, Network
from .presets import check_device

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_REPO = "lllyasviel/Annotators"
"""The Hub repo the reference (controlnet-aux) README and presets load from."""

DEFAULT_FILENAMES = {"body": "body_pose_model.pth", "hand": "hand_pose_model.pth", "face": "facenet.pth"}
"""Published checkpoint file per kind, in ``DEFAULT_REPO`` or any folder laid out like it."""

LEGACY_REPO = "lllyasviel/ControlNet"
"""Accepted like the reference does: body and hand under ``annotator/ckpts/``, face from ``DEFAULT_REPO``."""

LEGACY_FILENAMES = {"body": "annotator/ckpts/body_pose_model.pth", "hand": "annotator/ckpts/hand_pose_model.pth"}

_CONVERTED_FROM = "openpose_core.converted_from"
"""safetensors metadata key marking a file as our conversion of ``<name>:<size>:<mtime_ns>``."""


class WeightsError(Exception):
    """A checkpoint could not be found, read or matched to its network (one-line message naming the file)."""


def load_network(
    kind: str,
    pretrained_model_or_path: PathLike = DEFAULT_REPO,
    filename: Optional[str] = None,
    cache_dir: Optional[PathLike] = None,
    local_files_only: bool = False,
    device: Union[str, torch.device] = "cpu",
) -> nn.Module:
    """The ``kind`` network ("body", "hand" or "face") with checked weights, in eval mode on ``device``.

    ``pretrained_model_or_path`` is a checkpoint file, a folder holding ``filename``, or a Hub repo id;
    ``filename`` defaults to the published name (``DEFAULT_FILENAMES``, or the ``LEGACY_REPO`` layout).
    The module is built on the meta device and takes the loaded tensors as its parameters, so no time is
    spent on a random initialisation that would be overwritten. A ``device`` this PyTorch cannot use is a
    ValueError, raised before anything is read or downloaded.
    """
    network = _network(kind)
    device = check_device(device)  # before the download, not after it
    path = resolve_checkpoint(kind, pretrained_model_or_path, filename, cache_dir, local_files_only)
    state = load_checkpoint(path, kind)
    with torch.device("meta"):
        net = network.build()
    net.load_state_dict(network.from_published(state), assign=True)
    return net.to(device).eval()


def resolve_checkpoint(
    kind: str,
    pretrained_model_or_path: PathLike = DEFAULT_REPO,
    filename: Optional[str] = None,
    cache_dir: Optional[PathLike] = None,
    local_files_only: bool = False,
) -> Path:
    """Local path of the checkpoint ``load_network`` would use (downloading it from the Hub if needed).

    An existing file is returned as is (``filename`` is ignored); ``~`` is the home folder. In a folder,
    ``filename`` is used and its ``.safetensors`` sibling is taken when only that exists
    (``load_checkpoint`` prefers the sibling in any case). On the Hub the ``.safetensors`` name is tried
    first and the ``.pth`` fetched only if the repo has none; in offline mode both come from the local cache.
    """
    _network(kind)
    source = os.path.expanduser(os.fspath(pretrained_model_or_path))    # no repo id starts with ~
    if os.path.isfile(source):
        return Path(source)
    repo_id, filename = _repo_and_filename(kind, source, filename)
    if os.path.isdir(source):
        candidates = [Path(source, filename), Path(source, filename).with_suffix(".safetensors")]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise WeightsError(f"{candidates[0]}: no such file (nor {candidates[1].name})")
        return found
    return _download(repo_id, filename, cache_dir, local_files_only)


def load_checkpoint(path: PathLike, kind: str) -> Dict[str, torch.Tensor]:
    """The float32 tensors of a checkpoint in the published layout, checked against ``kind``'s network.

    For a ``.pth`` the ``.safetensors`` next to it is read instead when there is one, unless it is a
    conversion we wrote from an earlier version of that ``.pth``; otherwise the ``.pth`` is read and the
    conversion (re)written for next time.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        return _checked(path, _read_safetensors(path), kind)
    converted = path.with_suffix(".safetensors")
    if converted.is_file() and _stands_in_for(converted, path):
        return _checked(converted, _read_safetensors(converted), kind)
    state = _checked(path, _read_pickle(path), kind)
    try:
        _save_atomically(state, converted, path)
        logger.info("converted %s to %s", path, converted.name)
    except OSError as err:
        logger.debug("not caching %s as safetensors: %s", path, err)
    return state


def convert_checkpoint(
    pth_path: PathLike, out_path: Optional[PathLike] = None, kind: Optional[str] = None
) -> Path:
    """Write a checked ``.safetensors`` copy of a ``.pth`` checkpoint and return its path.

    ``out_path`` defaults to the ``.pth`` path with a ``.safetensors`` suffix (where ``load_checkpoint``
    looks for it); it must end in ``.safetensors`` (a checkpoint is read by its extension), and its folder
    is created if needed. ``kind`` is inferred from the keys and shapes when not given.
    """
    source = Path(pth_path)
    out = Path(out_path) if out_path is not None else source.with_suffix(".safetensors")
    if out.suffix != ".safetensors":
        raise ValueError(f"{out}: the conversion's name must end in .safetensors (checkpoints are read by "
                         f"their extension)")
    state = _read_pickle(source)
    if kind is None:
        kind = _matching_kind(state)
        if kind is None:
            closest = _closest_kind(state)
            raise WeightsError(f"{source}: not a body, hand or face checkpoint "
                               f"(as a {closest} checkpoint: {_mismatch(state, closest)})")
    state = _checked(source, state, kind)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _save_atomically(state, out, source)
    except OSError as err:
        raise WeightsError(f"{out}: cannot write the conversion ({err.strerror or err})") from None
    return out


def _network(kind: str) -> Network:
    if kind not in NETWORKS:
        raise ValueError(f"unknown network kind {kind!r}; expected one of {', '.join(NETWORKS)}")
    return NETWORKS[kind]


def _repo_and_filename(kind: str, source: str, filename: Optional[str]) -> Tuple[str, str]:
    """The reference's naming rules, including the ``LEGACY_REPO`` layout (face always from ``DEFAULT_REPO``)."""
    if source == LEGACY_REPO:
        if kind == "face":
            return DEFAULT_REPO, filename or DEFAULT_FILENAMES[kind]
        return source, filename or LEGACY_FILENAMES[kind]
    return source, filename or DEFAULT_FILENAMES[kind]


def _download(repo_id: str, filename: str, cache_dir: Optional[PathLike], local_files_only: bool) -> Path:
    """Fetch ``filename`` from the Hub (or its cache), taking the ``.safetensors`` name instead if it exists.

    Asking for that name costs one HEAD request when it is absent. The client records the Hub's "no such
    file" in its cache, and later calls skip the question: with the Hub unreachable (and offline mode not
    set) the client would otherwise retry it for ~20 s before falling back to the cached ``.pth``.
    """
    def fetch(name: str) -> Path:
        return Path(hf_hub_download(repo_id, name, cache_dir=cache_dir, local_files_only=local_files_only))

    where = f"{repo_id}/{filename}"
    preferred = Path(filename).with_suffix(".safetensors").as_posix()
    try:
        cached = try_to_load_from_cache(repo_id, preferred, cache_dir=cache_dir)
        known_absent = cached is not None and not isinstance(cached, str)  # the client's "no such file" mark
        if preferred != filename and not known_absent:
            try:
                return fetch(preferred)
            except EntryNotFoundError:  # not in the repo, or (LocalEntryNotFoundError) not cached while offline
                pass
        return fetch(filename)
    except LocalEntryNotFoundError:
        raise WeightsError(f"{where}: not in the local Hugging Face cache, and the Hub cannot be used "
                           "(offline mode, local_files_only, or no connection)") from None
    except EntryNotFoundError:
        raise WeightsError(f"{where}: no such file in the Hub repo") from None
    except RepositoryNotFoundError:
        raise WeightsError(f"{where}: no such Hub repo (or it is private or gated)") from None
    except HFValidationError:
        raise WeightsError(f"{repo_id}: no such file or folder, and not a valid Hub repo id") from None
    except Exception as err:  # lost connection, short or inconsistent transfer, HTTP error, full disk, ...
        raise WeightsError(f"{where}: download failed ({_first_line(err)}); nothing was cached, try again") from None


def _read_pickle(path: Path) -> Mapping:
    """``torch.load(weights_only=True)``, with every failure turned into a one-line ``WeightsError``."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except Exception as err:  # damaged or foreign files: RuntimeError, UnpicklingError, EOFError, KeyError, ...
        refused = isinstance(err, pickle.UnpicklingError) and re.search(r"GLOBAL ([\w.]+)", str(err))
        if refused:
            raise WeightsError(f"{path}: refused as unsafe: its pickle would call {refused[1]}, which could run "
                               "code; only plain tensor checkpoints are loaded") from None
        detail = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)", str(err))
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint (truncated, corrupt, or another format?): "
                           f"{detail[1] if detail else _first_line(err)}") from None
    if not isinstance(state, Mapping):
        raise WeightsError(f"{path}: not a state dict (the pickle holds a {type(state).__name__})")
    return state


def _read_safetensors(path: Path) -> Dict[str, torch.Tensor]:
    try:
        return safetensors.torch.load_file(path)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except Exception as err:  # SafetensorError for damaged headers, OSError, ...
        raise WeightsError(f"{path}: not a readable safetensors file (truncated or corrupt?): "
                           f"{_first_line(err)}") from None


@functools.lru_cache(maxsize=None)
def _expected(kind: str) -> Dict[str, Tuple[int, ...]]:
    """Published key -> shape for ``kind``, read off a parameter-free (meta-device) network."""
    network = NETWORKS[kind]
    with torch.device("meta"):
        state = network.to_published(network.build().state_dict())
    return {key: tuple(value.shape) for key, value in state.items()}


def _checked(path: Path, state: Mapping, kind: str) -> Dict[str, torch.Tensor]:
    """``state`` as contiguous float32 tensors if its keys and shapes are exactly ``kind``'s, else a
    ``WeightsError``. (A pickle may hold strided views, e.g. transposed weights; safetensors writes only
    contiguous tensors, and the conversion must not fail on a checkpoint that loads.)"""
    problem = _mismatch(state, kind)
    if problem:
        other = _matching_kind(state)
        hint = f"; it looks like a {other} checkpoint" if other else ""
        raise WeightsError(f"{path}: not a {kind} checkpoint: {problem}{hint}")
    return {key: value.to(torch.float32).contiguous() for key, value in state.items()}


def _mismatch(state: Mapping, kind: str) -> str:
    """What keeps ``state`` from loading into ``kind``'s network, in one line ("" when nothing)."""
    expected = _expected(kind)
    not_tensors = [key for key, value in state.items()
                   if not (isinstance(value, torch.Tensor) and value.is_floating_point())]
    if not_tensors:
        return _listing("entries that are not float tensors", not_tensors, ", ")
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        found = (("missing keys", missing), ("unexpected keys", unexpected))
        return "; ".join(_listing(label, keys, ", ") for label, keys in found if keys)
    wrong = [f"{key}: got {tuple(state[key].shape)}, expected {shape}"
             for key, shape in expected.items() if tuple(state[key].shape) != shape]
    return _listing("shape mismatches", wrong, "; ") if wrong else ""


def _listing(label: str, items: List[str], separator: str, shown: int = 3) -> str:
    """``label: count (first few items, ...)``."""
    more = f"{separator}..." if len(items) > shown else ""
    return f"{label}: {len(items)} ({separator.join(items[:shown])}{more})"


def _matching_kind(state: Mapping) -> Optional[str]:
    return next((kind for kind in NETWORKS if not _mismatch(state, kind)), None)


def _closest_kind(state: Mapping) -> str:
    """The kind sharing most (key, shape) pairs with ``state``, to explain why none matched."""
    def shared(kind: str) -> int:
        expected = _expected(kind)
        return sum(isinstance(value, torch.Tensor) and expected.get(key) == tuple(value.shape)
                   for key, value in state.items())
    return max(NETWORKS, key=shared)


def _source_stamp(source: Path) -> str:
    """Identifies the version of a ``.pth`` a conversion was made from (name, size, modification time)."""
    stat = source.stat()
    return f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}"


def _stands_in_for(converted: Path, source: Path) -> bool:
    """Whether ``converted`` may be read instead of ``source``: any ``.safetensors`` the folder came with,
    or our conversion of this very version of ``source``."""
    try:
        with safetensors.safe_open(converted, framework="pt") as file:
            metadata = file.metadata() or {}
    except Exception as err:
        raise WeightsError(f"{converted}: not a readable safetensors file ({_first_line(err)}); "
                           f"delete it to load {source.name} instead") from None
    stamp = metadata.get(_CONVERTED_FROM)
    return stamp is None or not source.exists() or stamp == _source_stamp(source)


def _save_atomically(state: Dict[str, torch.Tensor], out: Path, source: Path) -> None:
    """Write ``out`` through a temporary file in the same folder, so it is either complete or absent."""
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        try:
            safetensors.torch.save_file(state, temporary, metadata={_CONVERTED_FROM: _source_stamp(source)})
        except safetensors.SafetensorError as err:  # how the writer reports a full disk or a file-size limit
            raise OSError(_first_line(err)) from None
        shutil.copymode(source, temporary)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _first_line(err: BaseException) -> str:
    text = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
