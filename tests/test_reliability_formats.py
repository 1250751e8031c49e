"""Bounds of the pose JSON readers beyond tests/test_formats.py: limits on oversized, endless and
deeply nested documents, text encodings, and the memory of documents near the size limit.

Time is not asserted (a loaded CI machine would make that flaky): each test has a hang guard far above
its normal run (well under a second) and far below what the limits prevent (minutes, or forever for
/dev/zero).

The hypothesis fuzz of the readers lives in tests/test_formats.py (a long run is documented there).
"""
import gc
import json
import os
import tracemalloc

import pytest

from openpose_core.formats import (
    MAX_DOCUMENT_BYTES, MAX_FRAMES, MAX_KEYPOINTS, MAX_PEOPLE, MAX_SKIPPED, PoseFormatError, read_poses,
)


pytestmark = pytest.mark.timeout(60)


def refused(source, **options) -> str:
    """The one-line PoseFormatError message for ``source``."""
    with pytest.raises(PoseFormatError) as caught:
        read_poses(source, **options)
    assert "\n" not in str(caught.value)
    return str(caught.value)


TOO_LARGE = f"document: larger than MAX_DOCUMENT_BYTES ({MAX_DOCUMENT_BYTES})"


def test_oversized_text_and_files_are_refused_without_reading_them_whole(tmp_path):
    assert refused(" " * MAX_DOCUMENT_BYTES + "[]") == TOO_LARGE
    assert refused(b" " * MAX_DOCUMENT_BYTES + b"[]") == TOO_LARGE
    sparse = tmp_path / "huge.json"
    with open(sparse, "wb") as handle:
        handle.truncate(16 << 30)  # 16 GiB that would take minutes to read
    assert refused(sparse) == TOO_LARGE


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_does_not_hang_the_reader():
    from pathlib import Path
    assert refused(Path("/dev/zero")) == TOO_LARGE


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


def test_text_may_start_with_a_byte_order_mark():
    """Windows editors write one; the json module takes it in bytes but not in text."""
    assert read_poses("\ufeff" + json.dumps(DOCUMENT)) == read_poses(json.dumps(DOCUMENT))


@pytest.mark.parametrize("source,message", [
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


def test_a_long_list_of_non_frames_is_refused_at_its_first_item():
    document = CountingList([0.5] * 100_000)
    assert refused(document) == "frames[0]: expected a pose object, got a number"
    assert document.taken <= 2


# --- documents near MAX_DOCUMENT_BYTES ------------------------------------------------------------
# Each shape is as large as 64 MiB of JSON text allows. Most tests give the reader the parsed document,
# whose repeated items cost nothing to build; parsing is the json module's (1 to 4 s at 64 MiB), done by
# the tests that pass text. Before the limits, 280,000 people in a frame took 71 s and 1.6 GB, and a 64 MB
# list of numbers 21 s and 3.3 GB, before being refused.

CANVAS = {"canvas_width": 512, "canvas_height": 512}
BODY = {"pose_keypoints_2d": [123.456, 234.567, 0.9876] * 18}  # 437 bytes of JSON, 18 keypoints
EMPTY_PERSON = {"pose_keypoints_2d": []}                        # 24 bytes of JSON, read as 18 missing points


def fitting(item) -> int:
    """How many comma-separated ``item`` fit in MAX_DOCUMENT_BYTES of JSON text."""
    return (MAX_DOCUMENT_BYTES - 1) // (len(json.dumps(item, separators=(",", ":"))) + 1)


def crowd(person, people: int) -> list:
    """``people`` copies of ``person`` in frames of MAX_PEOPLE."""
    frame = dict(CANVAS, people=[person] * MAX_PEOPLE)
    frames = [frame] * (people // MAX_PEOPLE)
    return frames + [dict(CANVAS, people=[person] * (people % MAX_PEOPLE))] if people % MAX_PEOPLE else frames


def read_noting(document, **options):
    options.setdefault("notes", [])
    return read_poses(document, **options)


def test_the_reviewers_64_mb_list_of_numbers_is_refused_by_its_length():
    text = "[" + ",".join(["0.5"] * fitting(0.5)) + "]"
    assert len(text) <= MAX_DOCUMENT_BYTES
    message = refused(text)
    assert message == f"document: {fitting(0.5)} frames, more than MAX_FRAMES ({MAX_FRAMES})"


REFUSED_BY_LENGTH = {  # shape: (document, message)
    "people in one frame": (lambda: dict(CANVAS, people=[BODY] * fitting(BODY)),
                            f"people: {fitting(BODY)} people, more than MAX_PEOPLE ({MAX_PEOPLE})"),
    "empty frames": (lambda: [{"people": []}] * fitting({"people": []}),
                     f"document: {fitting({'people': []})} frames, more than MAX_FRAMES ({MAX_FRAMES})"),
}


@pytest.mark.parametrize("shape", REFUSED_BY_LENGTH)
def test_a_near_limit_list_is_refused_by_its_length_at_once(shape):
    build, message = REFUSED_BY_LENGTH[shape]
    document = build()
    tracemalloc.start()
    try:
        assert refused(document) == message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_near_limit_empty_people_are_refused_at_max_keypoints():
    """24 bytes of JSON each, but 18 keypoints read: why the document-wide limit counts keypoints, not bytes."""
    message = refused(crowd(EMPTY_PERSON, fitting(EMPTY_PERSON)))
    assert message == f"frames[55].people[555]: more than MAX_KEYPOINTS ({MAX_KEYPOINTS}) keypoints in the document"


def test_lenient_reading_empties_an_overfull_frame_but_refuses_a_document_of_broken_units():
    notes = []
    overfull = [dict(CANVAS, people=[BODY] * fitting(BODY)), dict(CANVAS, people=[BODY])]
    assert [len(frame.people) for frame in read_noting(overfull, strict=False, notes=notes)] == [0, 1]
    assert notes == [f"frames[0].people: {fitting(BODY)} people, more than MAX_PEOPLE ({MAX_PEOPLE}) "
                     "(replaced frames[0] by an empty frame)"]
    broken = crowd({"pose_keypoints_2d": 0}, fitting({"pose_keypoints_2d": 0}))
    message = refused(broken, strict=False, notes=notes)
    assert message == f"frames[1].people[0]: more than MAX_SKIPPED ({MAX_SKIPPED}) broken units"
    assert len(notes) == 1 + MAX_SKIPPED


def test_a_document_of_max_keypoints_is_read():
    people = MAX_KEYPOINTS // 18
    frames = read_noting(crowd(BODY, people))
    assert sum(len(frame.people) for frame in frames) == people
    assert frames[-1].people[-1].body[17] == (123.456, 234.567, 0.9876)


def test_max_frames_frames_are_read():
    assert len(read_noting([dict(CANVAS, people=[])] * MAX_FRAMES)) == MAX_FRAMES


def test_reading_memory_grows_with_the_keypoints_read():
    """About 220 bytes a keypoint (Keypoint tuples of floats are 136), so at MAX_KEYPOINTS less than 4 x
    MAX_DOCUMENT_BYTES."""
    document = crowd(dict(BODY, hand_left_keypoints_2d=[0.5, 0.5, 1.0] * 21), 2000)
    keypoints = 2000 * (18 + 21)
    tracemalloc.start()
    try:
        read_poses(document)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / keypoints < 250
    assert 250 * MAX_KEYPOINTS < 4 * MAX_DOCUMENT_BYTES


@pytest.mark.parametrize("filler", ['"x": "%s"', '"%s": 1'], ids=["long string", "long key"])
def test_near_limit_text_with_a_long_string_or_key_is_read(filler):
    head = json.dumps(dict(CANVAS, people=[]))[:-1] + ", "
    text = head + filler % ("a" * (MAX_DOCUMENT_BYTES - len(head) - 16)) + "}"
    assert MAX_DOCUMENT_BYTES - 16 < len(text) <= MAX_DOCUMENT_BYTES
    frame, = read_noting(text)
    assert (frame.width, frame.people) == (512, [])


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_left_as_found(enabled):
    """The reader pauses it (the parsed document makes no cycles, and walking it took most of the time)."""
    (gc.enable if enabled else gc.disable)()
    try:
        read_poses([dict(CANVAS, people=[BODY])])
        assert gc.isenabled() == enabled
        refused("[1]")
        assert gc.isenabled() == enabled
    finally:
        gc.enable()
