"""Person tracking: ids stay with people through crossings, occlusions, exits and re-entries.

Synthetic people are ``oracle.STANDING`` skeletons 200 px tall with 1.5 px of detector-like noise. Each
person's true identity rides in ``Person.score`` (the tracker never reads it), so a test can check that
every true person got exactly one id and no two people share one.
"""
import copy
from collections import defaultdict

import numpy as np
import pytest

import oracle
from openpose_core import OpenposeDetector
from openpose_core.pose import Person, PoseFrame, array_to_points
from openpose_core.track import PoseTracker, pose_distance, track_people

WIDTH, HEIGHT = 640, 480
NOISE = 1.5


def body(x: float, y: float = 240.0, height: float = 200.0, rng=None, missing=()) -> np.ndarray:
    """18 x 3 standing skeleton centred on (x, y), optionally noisy, with some points missing."""
    points = np.ones((18, 3))
    points[:, :2] = (oracle.STANDING - 0.5) * height + [x, y]
    if rng is not None:
        points[:, :2] += rng.normal(0, NOISE, (18, 2))
    points[list(missing)] = np.nan
    return points


def frame(people: dict) -> PoseFrame:
    """A frame from ``{true label: 18 x 3 body}``."""
    return PoseFrame([Person(body=array_to_points(points), score=label) for label, points in people.items()],
                     WIDTH, HEIGHT)


def ids_of(frames) -> dict:
    """``{true label: set of ids the tracker gave that person}``."""
    seen = defaultdict(set)
    for tracked in frames:
        for person in tracked.people:
            seen[person.score].add(person.person_id)
    return dict(seen)


def assert_one_id_each(frames) -> dict:
    """Every person kept one id and ids are distinct; returns ``{label: id}``."""
    seen = ids_of(frames)
    assert all(len(ids) == 1 for ids in seen.values()), f"an id changed: {seen}"
    mapping = {label: next(iter(ids)) for label, ids in seen.items()}
    assert len(set(mapping.values())) == len(mapping), f"two people share an id: {mapping}"
    return mapping


def crossing(hidden=(), steps: int = 45, seed: int = 0):
    """A walks right, B walks left along the same line, 10 px per frame, passing within 5 px of each other
    at the middle frame (where an exact overlap would leave that one frame's ids undecidable). B is missing
    in the frames listed in ``hidden``. A third, smaller person C stands still at the left."""
    rng = np.random.default_rng(seed)
    frames = []
    for step in range(steps):
        people = {"A": body(100 + 10 * step, rng=rng), "C": body(40, 120, 120, rng=rng)}
        if step not in hidden:
            people["B"] = body(545 - 10 * step, rng=rng)
        frames.append(frame(people))
    return frames


@pytest.mark.parametrize("hidden", [(), range(19, 26)], ids=["overlapping", "B hidden while crossing"])
def test_people_crossing_keep_their_ids(hidden):
    assert assert_one_id_each(track_people(crossing(hidden))) == {"C": 0, "A": 1, "B": 2}


@pytest.mark.parametrize("seed", range(5))
def test_order_of_people_in_a_frame_does_not_matter(seed):
    frames = crossing(range(19, 26))
    rng = np.random.default_rng(seed)
    shuffled = [PoseFrame([f.people[i] for i in rng.permutation(len(f.people))], f.width, f.height) for f in frames]
    assert assert_one_id_each(track_people(shuffled)) == assert_one_id_each(track_people(frames))


def leaving_and_returning(absent_frames: int):
    """A stands still; B walks right to the frame edge, is gone for ``absent_frames`` frames, walks back."""
    rng = np.random.default_rng(1)
    frames = [frame({"A": body(150, rng=rng), "B": body(450 + 10 * step, rng=rng)}) for step in range(10)]
    frames += [frame({"A": body(150, rng=rng)}) for _ in range(absent_frames)]
    frames += [frame({"A": body(150, rng=rng), "B": body(540 - 10 * step, rng=rng)}) for step in range(10)]
    return frames


@pytest.mark.parametrize("max_gap,absent,same", [(30, 20, True), (20, 20, True), (19, 20, False), (30, 31, False)])
def test_a_returning_person_gets_their_id_back_within_max_gap(max_gap, absent, same):
    tracked = track_people(leaving_and_returning(absent), max_gap=max_gap)
    before, after = tracked[9], tracked[-1]
    b_before = next(p.person_id for p in before.people if p.score == "B")
    b_after = next(p.person_id for p in after.people if p.score == "B")
    assert (b_before == b_after) is same
    if not same:
        assert b_after == 2, "a returning person past max_gap gets the next fresh id"
    assert ids_of(tracked)["A"] == {0}


def test_new_people_get_fresh_ids_and_ids_are_never_reused():
    rng = np.random.default_rng(2)
    frames = []
    for step in range(45):
        people = {"A": body(100, rng=rng)}
        if step < 5:
            people["B"] = body(500, rng=rng)  # leaves for good
        if step >= 10:
            people["D"] = body(300, rng=rng)  # a newcomer while A is tracked
        if step >= 40:
            people["C"] = body(500, rng=rng)  # where B was, after B is forgotten (5 + 30 < 40)
        frames.append(frame(people))
    assert assert_one_id_each(track_people(frames, max_gap=30)) == {"A": 0, "B": 1, "D": 2, "C": 3}


def test_assignment_is_optimal_not_greedy():
    """Greedy on sorted costs would give B the nearest new detection (cost ~0.20) and leave A unmatched
    (A's only other candidate is beyond the gate); the optimal pairing keeps both."""
    first = frame({"A": body(200), "B": body(300)})
    second = frame({"a": body(260), "b": body(370)})
    costs = pose_distance(np.array([p.body_array()[:, :2] for p in first.people]),
                          np.array([p.body_array()[:, :2] for p in second.people]), 1.0)
    assert costs[1, 0] < costs[0, 0] < 0.5 and costs[1, 1] < 0.5 < costs[0, 1], costs
    tracked = track_people([first, second])
    assert [p.person_id for p in tracked[1].people] == [0, 1]


@pytest.mark.parametrize("max_distance,same", [(0.5, False), (1.0, True)])
def test_a_jump_beyond_max_distance_starts_a_new_track(max_distance, same):
    frames = [frame({"A": body(200)}), frame({"A": body(340)})]  # 140 px for a ~200 px body diagonal
    tracked = track_people(frames, max_distance=max_distance)
    assert (tracked[0].people[0].person_id == tracked[1].people[0].person_id) is same


def test_partial_bodies_are_matched_on_shared_points():
    upper, lower = range(8, 14), [0, 1, 2, 5, 14, 15, 16, 17]
    frames = [frame({"A": body(200, missing=upper)}), frame({"A": body(205, missing=lower)}),
              frame({"A": body(210, missing=range(18))})]
    tracked = track_people(frames)
    assert [f.people[0].person_id for f in tracked] == [0, 0, 1], "no shared body point: a new id"


def test_tracking_is_pure_and_replaces_old_ids():
    frames = crossing(range(19, 26))
    for tracked_frame in frames:
        for person in tracked_frame.people:
            person.person_id = 99
    before = copy.deepcopy(frames)
    tracked = track_people(frames)
    assert frames == before
    assert 99 not in {p.person_id for f in tracked for p in f.people}


def test_streaming_tracker_matches_the_list_function():
    frames = crossing()
    tracker = PoseTracker(max_gap=5)
    assert [tracker.update(f) for f in frames] == track_people(frames, max_gap=5)
    with pytest.raises(ValueError):
        PoseTracker(max_distance=0)


def test_detector_batch_then_tracking_gives_constant_ids():
    """Real detections (oracle body net): two people drift apart 4 px per frame over 8 frames."""
    steps = 8
    start = oracle.grid_of_people(2, 2, 1)
    shift = np.array([-1, 1])[:, None, None] * np.array([4 / 512, 0])
    skeletons = [start + step * shift for step in range(steps)]
    detector = OpenposeDetector(oracle.OracleBodyNet(skeletons))
    images = [np.full((512, 512, 3), 40, np.uint8)] * steps
    frames = detector.detect_batch(images, batch_size=steps)
    tracked = track_people(frames)
    assert [len(f.people) for f in tracked] == [2] * steps
    for tracked_frame in tracked:
        left, right = sorted(tracked_frame.people, key=lambda p: p.body[1].x)
        assert (left.person_id, right.person_id) == (0, 1)
    necks = np.array([[p.body[1].x for p in sorted(f.people, key=lambda p: p.person_id)] for f in tracked])
    np.testing.assert_allclose(necks[-1] - necks[0], [-4 * (steps - 1), 4 * (steps - 1)], atol=2)  # integer peaks
