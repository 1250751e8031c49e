"""A loopback stand-in for the Hugging Face Hub, for the real ``huggingface_hub`` client (via HF_ENDPOINT).

It serves only what ``hf_hub_download`` asks for: ``HEAD`` / ``GET /{repo_id}/resolve/{revision}/{path}``
with the headers the client reads (``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag``, ``X-Linked-Size``,
``Content-Length``), and the Hub's 404 answers (``X-Error-Code: RepoNotFound`` / ``RevisionNotFound`` /
``EntryNotFound``, the last with ``X-Repo-Commit`` so the client can remember the absence). Every
request is recorded so tests can assert which files were fetched.

ETags are derived from the repo, path, size and modification time rather than hashed from the content:
the client only uses them to name cache blobs, and hashing 200 MB files would cost seconds per session.
``build_hf_cache`` lays the same files out as an offline Hugging Face cache.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional
from urllib.parse import unquote, urlsplit

RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")


class Request(NamedTuple):
    method: str
    repo_id: str
    filename: str


def commit_of(repo_id: str) -> str:
    """A stable 40-hex commit id per repo."""
    return hashlib.sha1(repo_id.encode()).hexdigest()


def etag_of(repo_id: str, filename: str, path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{repo_id}/{filename}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()


class FakeHub:
    """``with FakeHub() as hub: hub.add(repo, name, path); ...`` serves at ``hub.url`` until the block ends."""

    def __init__(self) -> None:
        self.repos: Dict[str, Dict[str, Path]] = {}
        self.requests: List[Request] = []
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    def add(self, repo_id: str, filename: str, path: Path) -> None:
        self.repos.setdefault(repo_id, {})[filename] = Path(path)

    def count(self, method: Optional[str] = None, filename: Optional[str] = None,
              repo_id: Optional[str] = None) -> int:
        """Requests so far matching every given field."""
        with self._lock:
            return sum((method is None or r.method == method) and (filename is None or r.filename == filename)
                       and (repo_id is None or r.repo_id == repo_id) for r in self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeHub":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.hub = self
        threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    __enter__ = start

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects

    def do_HEAD(self) -> None:
        self._resolve(send_body=False)

    def do_GET(self) -> None:
        self._resolve(send_body=True)

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _resolve(self, send_body: bool) -> None:
        hub: FakeHub = self.server.hub
        match = RESOLVE.match(unquote(urlsplit(self.path).path))
        if match is None:
            return self._error(404, "RepoNotFound", "Not found", send_body)
        repo_id, revision, filename = match["repo"], match["revision"], match["filename"]
        hub._record(Request(self.command, repo_id, filename))
        files = hub.repos.get(repo_id)
        if files is None:
            return self._error(404, "RepoNotFound", "Repository not found", send_body)
        commit = commit_of(repo_id)
        if revision not in ("main", commit):
            return self._error(404, "RevisionNotFound", "Invalid rev id", send_body)
        path = files.get(filename)
        if path is None:
            return self._error(404, "EntryNotFound", "Entry not found", send_body, commit)
        etag, size = etag_of(repo_id, filename, path), path.stat().st_size
        self.send_response(200)
        for name, value in (("Content-Type", "application/octet-stream"), ("Content-Length", str(size)),
                            ("ETag", f'"{etag}"'), ("X-Linked-Etag", f'"{etag}"'), ("X-Linked-Size", str(size)),
                            ("X-Repo-Commit", commit), ("Accept-Ranges", "bytes")):
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            with open(path, "rb") as file:
                shutil.copyfileobj(file, self.wfile, 1 << 20)

    def _error(self, status: int, code: str, message: str, send_body: bool, commit: Optional[str] = None) -> None:
        body = f'{{"error": "{message}"}}'.encode()
        self.send_response(status)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("X-Error-Code", code), ("X-Error-Message", message)]
        if commit is not None:
            headers.append(("X-Repo-Commit", commit))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def build_hf_cache(cache_dir: Path, repo_id: str, files: Dict[str, Path]) -> Path:
    """Lay ``files`` out as ``hf_hub_download`` leaves them (refs/main, blobs, snapshot symlinks); returns
    the snapshot folder. Blobs are hard links to the sources where possible, so nothing large is copied."""
    storage = Path(cache_dir, "models--" + repo_id.replace("/", "--"))
    commit = commit_of(repo_id)
    (storage / "refs").mkdir(parents=True, exist_ok=True)
    (storage / "refs" / "main").write_text(commit)
    (storage / "blobs").mkdir(exist_ok=True)
    snapshot = storage / "snapshots" / commit
    for filename, source in files.items():
        blob = storage / "blobs" / etag_of(repo_id, filename, Path(source))
        try:
            os.link(source, blob)
        except OSError:
            shutil.copyfile(source, blob)
        pointer = snapshot / filename
        pointer.parent.mkdir(parents=True, exist_ok=True)
        pointer.symlink_to(os.path.relpath(blob, pointer.parent))
    return snapshot
