"""Faults around checkpoints that tests/test_weights.py does not stage: wrong files served under the right
name, downloads cut short (with the real huggingface_hub client against a loopback server that drops
connections or lies about sizes), a real file-size limit hit while converting, more pickle payloads,
hostile safetensors headers, and several processes loading the same model for the first time at once.

Every failure must be a one-line WeightsError naming the file, leave no half-written file in any cache,
and the next attempt (once the fault is gone) must load the right weights.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import safetensors.torch
import torch

import checkpoints
import fake_hub
from openpose_core.models import NETWORKS
from openpose_core.weights import DEFAULT_REPO, WeightsError, load_network

ROOT = Path(__file__).resolve().parents[1]
HAND = "hand_pose_model.pth"
HAND_SAFETENSORS = "hand_pose_model.safetensors"
WRONG_REPO = "openpose-test/wrong-files"
FAULTY_REPO = "openpose-test/faulty-server"


def weights_error(call, *args, **kwargs) -> str:
    with pytest.raises(WeightsError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)
    return message


def digest(state) -> str:
    """sha256 over the published-layout tensors in key order."""
    hasher = hashlib.sha256()
    for key in sorted(state):
        hasher.update(key.encode())
        hasher.update(state[key].to(torch.float32).contiguous().numpy().tobytes())
    return hasher.hexdigest()


def net_digest(net, kind="hand") -> str:
    return digest(NETWORKS[kind].to_published(net.state_dict()))


def leftovers(folder: Path):
    """Temporary or partial files anywhere under ``folder`` (ours: .*.tmp; the Hub client's: .incomplete)."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")
                  if path.name.endswith((".tmp", ".incomplete")))


def snapshot(cache: Path, repo_id: str) -> Path:
    return cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / fake_hub.commit_of(repo_id)


# --- wrong files served under the right names ----------------------------------------------------

@pytest.fixture(scope="module")
def wrong_files(fake_hub_server, checkpoint_dir, hand_safetensors, tmp_path_factory):
    """The session's fake Hub also serves WRONG_REPO, whose files are not what their names say."""
    folder = tmp_path_factory.mktemp("wrong")
    html = folder / "login.html"
    html.write_text("<!DOCTYPE html><html><body>Please sign in</body></html>\n")
    fake_hub_server.add(WRONG_REPO, HAND, checkpoint_dir / "facenet.pth")           # another network
    fake_hub_server.add(WRONG_REPO, "body_pose_model.pth", html)                    # a proxy's page
    fake_hub_server.add(WRONG_REPO, "facenet.safetensors", hand_safetensors)        # preferred name, wrong net
    fake_hub_server.add(WRONG_REPO, "facenet.pth", checkpoint_dir / "facenet.pth")  # never reached
    return folder


def test_wrong_files_under_the_right_names_are_refused_and_not_converted(hf_env, wrong_files):
    hand_path = snapshot(hf_env.cache, WRONG_REPO) / HAND
    assert weights_error(load_network, "hand", WRONG_REPO).startswith(
        f"{hand_path}: not a hand checkpoint: shape mismatches: 17 (conv6_2_CPM.weight: got (71, 512, 1, 1)")
    body_path = snapshot(hf_env.cache, WRONG_REPO) / "body_pose_model.pth"
    assert weights_error(load_network, "body", WRONG_REPO).startswith(
        f"{body_path}: not a readable PyTorch checkpoint (truncated, corrupt, or another format?)")
    face_path = snapshot(hf_env.cache, WRONG_REPO) / "facenet.safetensors"
    message = weights_error(load_network, "face", WRONG_REPO)
    assert message.startswith(f"{face_path}: not a face checkpoint: ") and message.endswith("it looks like a hand checkpoint")
    assert hf_env.hub.count("GET", "facenet.pth", WRONG_REPO) == 0
    assert sorted(p.name for p in snapshot(hf_env.cache, WRONG_REPO).iterdir()) == \
        ["body_pose_model.pth", "facenet.safetensors", HAND]  # no conversion was written beside them
    assert leftovers(hf_env.cache) == []


def test_a_wrong_file_stays_refused_on_later_loads_without_new_requests(hf_env, wrong_files):
    first = weights_error(load_network, "hand", WRONG_REPO)
    hf_env.set_offline()  # the bad file is cached now: the same clear error, from the cache
    assert weights_error(load_network, "hand", WRONG_REPO) == first
    assert not (snapshot(hf_env.cache, WRONG_REPO) / HAND_SAFETENSORS).exists()


# --- downloads cut short -------------------------------------------------------------------------

class FaultyHub(fake_hub.FakeHub):
    """A fake Hub whose files can be served wrongly: ``faults[filename]`` is one of

    - ``"drop_once"``: the first GET sends half the body and closes the connection; later GETs honour
      ``Range`` (what a flaky network does: the client resumes);
    - ``"drop_always"``: every GET sends at most half and closes; ranged GETs get no answer at all;
    - ``"short_body"``: a well-formed GET answer, but of half the size the metadata (HEAD) announced;
    - ``"short_everywhere"``: HEAD and GET both announce and send half the file (a lying mirror).
    """

    def __init__(self):
        super().__init__()
        self.faults = {}
        self.ranges = []

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _FaultyHandler)
        self._server.daemon_threads = True
        self._server.hub = self
        threading.Thread(target=self._server.serve_forever, name="faulty-hub", daemon=True).start()
        return self

    __enter__ = start


class _FaultyHandler(fake_hub._Handler):
    def _resolve(self, send_body):
        hub: FaultyHub = self.server.hub
        match = fake_hub.RESOLVE.match(unquote(urlsplit(self.path).path))
        fault = hub.faults.get(match["filename"]) if match else None
        path = hub.repos.get(match["repo"], {}).get(match["filename"]) if match else None
        if fault is None or path is None:
            return super()._resolve(send_body)
        repo_id, filename = match["repo"], match["filename"]
        hub._record(fake_hub.Request(self.command, repo_id, filename))
        size = path.stat().st_size
        announced = size // 2 if fault == "short_everywhere" else size
        requested = self.headers.get("Range")
        if send_body:
            hub.ranges.append(requested)
        start = int(re.match(r"bytes=(\d+)-", requested)[1]) if requested else 0
        if send_body and requested and fault == "drop_always":
            self.close_connection = True  # no answer at all
            return
        gets = hub.count("GET", filename, repo_id)
        partial = send_body and requested and fault == "drop_once" and gets > 1
        length = {"short_body": size // 2, "short_everywhere": size // 2}.get(fault, size - start if partial else size)
        etag = fake_hub.etag_of(repo_id, filename, path)
        self.send_response(206 if partial else 200)
        headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(length if send_body else announced)),
                   ("ETag", f'"{etag}"'), ("X-Linked-Etag", f'"{etag}"'), ("X-Linked-Size", str(announced)),
                   ("X-Repo-Commit", fake_hub.commit_of(repo_id)), ("Accept-Ranges", "bytes")]
        if partial:
            headers.append(("Content-Range", f"bytes {start}-{size - 1}/{size}"))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if not send_body:
            return
        with open(path, "rb") as file:
            file.seek(start if partial else 0)
            if fault in ("drop_once", "drop_always") and not partial:
                self.wfile.write(file.read(size // 2))
                self.wfile.flush()
                self.close_connection = True  # the body ends far short of Content-Length
                return
            remaining = length
            while remaining:
                block = file.read(min(remaining, 1 << 20))
                self.wfile.write(block)
                remaining -= len(block)


@pytest.fixture(scope="module")
def faulty_hub(checkpoint_dir):
    with FaultyHub() as hub:
        hub.add(FAULTY_REPO, HAND, checkpoint_dir / HAND)
        yield hub


@pytest.fixture
def faulty_env(hf_env, faulty_hub, monkeypatch):
    """``hf_env`` (fresh HF_HOME) pointed at the faulty Hub; the client's retry pauses are skipped."""
    from huggingface_hub import constants, file_download
    faulty_hub.reset()
    faulty_hub.faults.clear()
    faulty_hub.ranges.clear()
    monkeypatch.setenv("HF_ENDPOINT", faulty_hub.url)
    monkeypatch.setattr(constants, "ENDPOINT", faulty_hub.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        faulty_hub.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(file_download.time, "sleep", lambda seconds: None)
    return hf_env


def cached_hand(hf_env) -> Path:
    return snapshot(hf_env.cache, FAULTY_REPO) / HAND


def test_a_dropped_connection_is_resumed_and_loads_the_right_weights(faulty_env, faulty_hub, published_states):
    faulty_hub.faults[HAND] = "drop_once"
    net = load_network("hand", FAULTY_REPO)
    assert net_digest(net) == digest(published_states["hand"])
    assert faulty_hub.count("GET", HAND) == 2
    assert faulty_hub.ranges[0] is None and re.fullmatch(r"bytes=\d+-", faulty_hub.ranges[1])
    assert leftovers(faulty_env.cache) == []


@pytest.mark.parametrize("fault,detail", [
    ("drop_always", "download failed (RemoteProtocolError: "),
    ("short_body", "download failed (OSError: Consistency check failed: file should be of size "),
])
@pytest.mark.timeout(120)   # a hang guard: it gives up after a few quick retries
def test_a_download_that_cannot_complete_caches_nothing_and_names_the_file(
        fault, detail, faulty_env, faulty_hub, published_states):
    faulty_hub.faults[HAND] = fault
    message = weights_error(load_network, "hand", FAULTY_REPO)
    assert message.startswith(f"{FAULTY_REPO}/{HAND}: {detail}") and message.endswith("nothing was cached, try again")
    assert not cached_hand(faulty_env).exists()
    assert leftovers(faulty_env.cache) == []
    blobs = faulty_env.cache / ("models--" + FAULTY_REPO.replace("/", "--")) / "blobs"
    assert not blobs.exists() or [p for p in blobs.iterdir() if not p.name.endswith(".lock")] == []

    faulty_hub.faults.clear()  # the network is fine again: the next call downloads and loads
    assert net_digest(load_network("hand", FAULTY_REPO)) == digest(published_states["hand"])


def test_a_mirror_that_serves_a_consistent_half_file_is_caught_by_the_checkpoint_check(faulty_env, faulty_hub):
    faulty_hub.faults[HAND] = "short_everywhere"
    message = weights_error(load_network, "hand", FAULTY_REPO)
    assert message.startswith(f"{cached_hand(faulty_env)}: not a readable PyTorch checkpoint (truncated, corrupt")
    assert not (snapshot(faulty_env.cache, FAULTY_REPO) / HAND_SAFETENSORS).exists()
    assert leftovers(faulty_env.cache) == []


# --- a real write failure while converting ------------------------------------------------------

FILE_SIZE_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))  # like a disk with 16 MB free
from pathlib import Path
from openpose_core.weights import WeightsError, convert_checkpoint, load_network
folder = Path(sys.argv[1])
net = load_network("hand", folder)
print("loaded", sum(p.numel() for p in net.parameters()))
try:
    convert_checkpoint(folder / "hand_pose_model.pth")
except WeightsError as error:
    print("error", error)
"""


def test_a_full_disk_while_converting_leaves_nothing_and_loading_still_works(tmp_path, checkpoint_dir):
    (tmp_path / HAND).symlink_to(checkpoint_dir / HAND)
    result = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT, str(tmp_path)], capture_output=True, text=True,
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    expected_parameters = sum(value.numel() for value in checkpoints.published_state("hand").values())
    assert lines[0] == f"loaded {expected_parameters}"
    assert lines[1].startswith(f"error {tmp_path / HAND_SAFETENSORS}: cannot write the conversion (SafetensorError: ")
    assert "File too large" in lines[1]
    assert sorted(os.listdir(tmp_path)) == [HAND]  # no .safetensors, no temporary file


# --- hostile files -------------------------------------------------------------------------------

class Payload:
    """Unpickling calls ``function(*arguments)``: what a malicious checkpoint does."""

    def __init__(self, function, *arguments):
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return self.function, self.arguments


def payloads(marker: Path):
    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system in a list": {"conv1_1.weight": [Payload(os.system, f"touch {marker}")]},
        "eval": {"conv1_1.weight": Payload(eval, touch)},
        "exec at top level": Payload(exec, touch),
        "subprocess": {"conv1_1.bias": Payload(subprocess.call, ["touch", str(marker)])},
    }


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("case", list(payloads(Path("x"))))
def test_pickle_payloads_never_run(case, zipped, tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / HAND
    torch.save(payloads(marker)[case], path, _use_new_zipfile_serialization=zipped)
    message = weights_error(load_network, "hand", path)
    assert re.match(rf"{re.escape(str(path))}: refused as unsafe: its pickle would call [\w.]+, which could run code",
                    message), message
    assert not marker.exists()
    assert sorted(os.listdir(tmp_path)) == [HAND]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_a_plain_pickle_with_a_payload_is_refused(tmp_path):
    import pickle
    marker = tmp_path / "payload-ran"
    path = tmp_path / HAND
    path.write_bytes(pickle.dumps({"conv1_1.weight": Payload(os.system, f"touch {marker}")}))
    message = weights_error(load_network, "hand", path)
    assert message.startswith(f"{path}: ") and ("refused as unsafe" in message or "not a readable PyTorch" in message)
    assert not marker.exists()


def safetensors_file(path: Path, header: bytes, body: bytes = b"", length=None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + body)
    return path


@pytest.mark.timeout(60)    # a hang guard: reading what these headers claim would take hours or fail
def test_hostile_safetensors_headers_fail_fast(tmp_path):
    huge_tensor = json.dumps({"conv1_1.weight": {"dtype": "F32", "shape": [1 << 20, 1 << 20],
                                                 "data_offsets": [0, 4 << 40]}}).encode()
    cases = [
        safetensors_file(tmp_path / "a.safetensors", b"{}", length=1 << 60),          # header length: 1 EiB
        safetensors_file(tmp_path / "b.safetensors", huge_tensor, b"\0" * 16),        # claims 4 TiB of data
        safetensors_file(tmp_path / "c.safetensors", b"[" * 100_000),                 # deep nesting
        safetensors_file(tmp_path / "d.safetensors", b'{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}',
                         b"\0" * 4),
    ]
    for path in cases:
        message = weights_error(load_network, "hand", path)
        assert message.startswith(f"{path}: not a readable safetensors file (truncated or corrupt?): SafetensorError: ")


def test_half_precision_safetensors_are_widened_and_integer_ones_refused(tmp_path, published_states):
    half = {key: value.half() for key, value in published_states["hand"].items()}
    path = checkpoints.write_safetensors(tmp_path / HAND_SAFETENSORS, half)
    net = load_network("hand", path)
    assert {p.dtype for p in net.parameters()} == {torch.float32}
    widened = {key: value.float() for key, value in half.items()}
    assert net_digest(net) == digest(widened)
    integers = {"conv1_1.weight": torch.zeros(64, 3, 3, 3, dtype=torch.int32)}
    path = checkpoints.write_safetensors(tmp_path / "integers.safetensors", integers)
    assert "entries that are not float tensors: 1 (conv1_1.weight)" in weights_error(load_network, "hand", path)


# --- several processes loading the same model for the first time ---------------------------------

FIRST_LOAD = """
import hashlib, logging, os, sys, time
from pathlib import Path
go, ready = Path(sys.argv[1]), Path(sys.argv[2])
logging.basicConfig(level=logging.WARNING)
logging.getLogger("openpose_core.weights").setLevel(logging.INFO)
from openpose_core.models import NETWORKS
from openpose_core.weights import load_network
ready.touch()
while not go.exists():  # start together, once every process is ready
    time.sleep(0.005)
net = load_network("hand")
state = NETWORKS["hand"].to_published(net.state_dict())
hasher = hashlib.sha256()
for key in sorted(state):
    hasher.update(key.encode())
    hasher.update(state[key].contiguous().numpy().tobytes())
print(hasher.hexdigest())
"""

PROCESSES = 3


def test_concurrent_first_loads_from_several_processes(hf_env, published_states, tmp_path, no_torch_load):
    go, ready = tmp_path / "go", [tmp_path / f"ready-{index}" for index in range(PROCESSES)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    workers = [subprocess.Popen([sys.executable, "-c", FIRST_LOAD, str(go), str(flag)], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for flag in ready]
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            break  # one died while importing: its stderr is reported below
        time.sleep(0.01)
    go.touch()
    outputs = [worker.communicate(timeout=180) for worker in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
    expected = digest(published_states["hand"])
    assert [out.strip() for out, _ in outputs] == [expected] * PROCESSES
    conversions = sum(err.count("converted ") for _, err in outputs)
    assert 1 <= conversions <= PROCESSES  # each may convert; whichever rename lands last wins, all equal

    folder = snapshot(hf_env.cache, DEFAULT_REPO)
    assert sorted(p.name for p in folder.iterdir()) == [HAND, HAND_SAFETENSORS]
    stored = safetensors.torch.load_file(folder / HAND_SAFETENSORS)
    assert digest(stored) == expected
    assert leftovers(hf_env.cache) == []
    assert hf_env.hub.count("GET", HAND, DEFAULT_REPO) == 1  # the Hub client's file lock: one download
    # later loads use the verified conversion (no_torch_load: a pickle load would fail the test)
    hf_env.set_offline()
    assert net_digest(load_network("hand")) == expected
