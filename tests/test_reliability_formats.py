"""Bounds of the pose JSON readers beyond tests/test_formats.py: time limits on oversized, endless and
deeply nested documents, text encodings, and the cost of documents near the size limit.

The hypothesis fuzz of the readers lives in tests/test_formats.py (a long run is documented there).
"""
import json
import os
import time

import pytest

from openpose_core.formats import MAX_DOCUMENT_BYTES, PoseFormatError, read_poses


def refused(source, limit_seconds: float = 1.0) -> str:
    """The PoseFormatError message for ``source``, which must come within ``limit_seconds``."""
    started = time.perf_counter()
    with pytest.raises(PoseFormatError) as caught:
        read_poses(source)
    assert time.perf_counter() - started < limit_seconds
    assert "\n" not in str(caught.value)
    return str(caught.value)


TOO_LARGE = f"document: larger than MAX_DOCUMENT_BYTES ({MAX_DOCUMENT_BYTES})"


def test_oversized_text_and_files_are_refused_without_reading_them_whole(tmp_path):
    assert refused(" " * MAX_DOCUMENT_BYTES + "[]") == TOO_LARGE
    assert refused(b" " * MAX_DOCUMENT_BYTES + b"[]") == TOO_LARGE
    sparse = tmp_path / "huge.json"
    with open(sparse, "wb") as handle:
        handle.truncate(16 << 30)  # 16 GiB that would take minutes to read
    assert refused(sparse, limit_seconds=3) == TOO_LARGE


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_does_not_hang_the_reader():
    from pathlib import Path
    assert refused(Path("/dev/zero"), limit_seconds=3) == TOO_LARGE


@pytest.mark.parametrize("text", [
    "[" * 1_000_000,
    '{"people":' * 200_000,
    '{"people": [{"pose_keypoints_2d": ' + "[" * 100_000 + "]" * 100_000 + "}]}",
    '{"people": [], "canvas_width": 8, "canvas_height": 8, "x": ' + '{"a":' * 100_000 + "1" + "}" * 100_001,
], ids=["lists", "objects", "inside-a-person", "ignored-key"])
def test_deep_nesting_is_refused_quickly(text):
    assert refused(text) == "document: nested too deeply to be a pose document"


DOCUMENT = {"people": [{"pose_keypoints_2d": [1.0, 2.0, 1.0] * 18, "ünïcødé 🙂": "∑ \ud83d\ude00"}],
            "canvas_width": 8, "canvas_height": 8, "名前": "ポーズ"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_unicode_documents_in_any_json_encoding(encoding):
    text = json.dumps(DOCUMENT, ensure_ascii=False)
    frame, = read_poses(text.encode(encoding, "surrogatepass"))
    assert (frame.width, frame.height, len(frame.people)) == (8, 8, 1)
    assert read_poses(json.dumps(DOCUMENT)) == [frame]  # \u escapes, lone surrogates included


@pytest.mark.parametrize("source,message", [
    ("\ufeff" + json.dumps(DOCUMENT), "document: not valid JSON: Unexpected UTF-8 BOM"),
    (b'{"people": [\xff\xfe]}', "document: not valid JSON: "),
    ('{"people": [{"pose_keypoints_2d": ["\x01"]}]}', "document: not valid JSON: Invalid control character"),
    ('{"people": [{"pose_keypoints_2d": ["١"' + ", 0" * 53 + "]}], \"canvas_width\": 8, \"canvas_height\": 8}",
     "people[0].pose_keypoints_2d[0]: expected a number, got a string"),
])
def test_bad_text_names_the_place(source, message):
    assert refused(source).startswith(message)


class CountingList(list):
    """A list that counts the items a reader takes from it."""

    taken = 0

    def __iter__(self):
        for item in super().__iter__():
            self.taken += 1
            yield item


@pytest.mark.xfail(strict=True, reason="reported to the formats owner: the reader builds every frame's place "
                                       "string before checking the first frame, so a 64 MB list of numbers costs "
                                       "~20 s and ~3 GB before its first item is refused")
def test_a_long_list_of_non_frames_is_refused_at_its_first_item():
    document = CountingList([0.5] * 100_000)
    assert refused(document) == "frames[0]: expected a pose object, got a number"
    assert document.taken <= 2
