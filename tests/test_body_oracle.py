"""Whole-detector geometry with oracle body networks: known skeletons in, the same skeletons out.

Tolerance: half a network-output cell measured in detect pixels (4 * detect height / net height),
which catches padding, scaling, axis and half-pixel mistakes (those shift points by whole cells).
"""
import numpy as np
import pytest

import oracle
from openpose_core import OpenposeDetector
from openpose_core.estimate.body import prepare_input
from openpose_core.image import detect_size

CASES = [  # people, columns, rows, input (H, W), detect resolution
    (1, 1, 1, (64, 64), 64),
    (1, 1, 1, (100, 64), 64),
    (1, 1, 1, (512, 512), 512),
    (1, 1, 1, (2048, 1536), 1536),
    (3, 3, 1, (512, 704), 512),
    (3, 1, 3, (900, 300), 320),
    (9, 3, 3, (512, 512), 512),
    (9, 3, 3, (1024, 1024), 1024),
    (20, 5, 4, (1024, 1024), 1024),
    (20, 10, 2, (512, 2048), 512),
]


def match_skeletons(frame, skeletons_px):
    """Errors (people x 18) of each detected person against the true skeleton it matches best."""
    errors = []
    for person in frame.people:
        points = person.body_array()[:, :2]
        distances = np.linalg.norm(skeletons_px - points[None], axis=2)  # truth x 18
        best = int(np.nanargmin(np.nanmean(distances, axis=1)))
        errors.append((best, distances[best]))
    return errors


def check_frame(frame, skeletons, tolerance):
    truth = skeletons * [frame.width, frame.height] - 0.5
    errors = match_skeletons(frame, truth)
    assert len(frame.people) == len(skeletons)
    assert sorted(best for best, _ in errors) == list(range(len(skeletons))), "people grouped wrongly"
    worst = max(np.nanmax(distance) for _, distance in errors)
    assert all(np.isfinite(distance).all() for _, distance in errors), "a part is missing"
    assert worst <= tolerance, f"worst keypoint error {worst:.2f} px > {tolerance:.2f}"
    return worst


@pytest.mark.parametrize("count,columns,rows,size,resolution", CASES)
def test_oracle_skeletons_come_back(count, columns, rows, size, resolution):
    height, width = detect_size(size[0], size[1], resolution)
    skeletons = oracle.grid_of_people(count, columns, rows, aspect=width / height)
    detector = OpenposeDetector(oracle.OracleBodyNet(skeletons))
    frame = detector.detect(np.full(size + (3,), 40, np.uint8), detect_resolution=resolution)
    assert (frame.width, frame.height) == (width, height)
    net_height = prepare_input(np.zeros((height, width, 3), np.uint8), 0.5).unpadded[0]
    check_frame(frame, skeletons, tolerance=4 * height / net_height)


@pytest.mark.parametrize("preset", ["fast", "accurate"])
@pytest.mark.parametrize("count,columns,rows,size", [(1, 1, 1, (512, 512)), (9, 3, 3, (512, 768)), (20, 5, 4, (1024, 1024))])
def test_presets_keep_geometry(preset, count, columns, rows, size):
    skeletons = oracle.grid_of_people(count, columns, rows, aspect=size[1] / size[0])
    detector = OpenposeDetector(oracle.OracleBodyNet(skeletons))
    frame = detector.detect(np.full(size + (3,), 40, np.uint8), detect_resolution=min(size), preset=preset)
    check_frame(frame, skeletons, tolerance=4 * size[0] / 184)


def test_missing_parts_stay_missing():
    skeletons = oracle.grid_of_people(2, 2, 1)
    skeletons[0, [4, 10, 16]] = np.nan  # right wrist, right ankle, right ear of the first person
    detector = OpenposeDetector(oracle.OracleBodyNet(skeletons))
    frame = detector.detect(np.full((512, 512, 3), 40, np.uint8))
    first = min(frame.people, key=lambda person: person.body[1].x)
    assert [index for index, point in enumerate(first.body) if point is None] == [4, 10, 16]
    assert all(point is not None for point in max(frame.people, key=lambda p: p.body[1].x).body)


def test_confidences_are_real_heatmap_values():
    skeletons = oracle.grid_of_people(1, 1, 1)
    frame = OpenposeDetector(oracle.OracleBodyNet(skeletons)).detect(np.full((512, 512, 3), 40, np.uint8))
    confidences = np.array([point.confidence for point in frame.people[0].body])
    assert np.all((confidences > 0.3) & (confidences < 1.2)) and len(set(confidences.round(6))) > 1


def test_equal_size_images_share_network_batches():
    skeletons = [oracle.grid_of_people(1, 1, 1), oracle.grid_of_people(3, 3, 1, seed=1)]
    network = oracle.OracleBodyNet(skeletons)
    detector = OpenposeDetector(network)
    images = [np.full((512, 512, 3), 40, np.uint8), np.full((512, 512, 3), 60, np.uint8)]
    frames = detector.detect_batch(images)
    assert network.calls == 1
    assert [len(frame.people) for frame in frames] == [1, 3]
    single = [OpenposeDetector(oracle.OracleBodyNet(s)).detect(image) for s, image in zip(skeletons, images)]
    for batched, alone in zip(frames, single):
        assert [p.body for p in batched.people] == [p.body for p in alone.people]
