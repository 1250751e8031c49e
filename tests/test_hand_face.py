"""Hand and face estimation: box rules, batched crop inference and peaks, against controlnet-aux 0.0.10.

Three kinds of evidence:
- the reference itself: its box functions on generated bodies, and its whole hand/face path
  (``OpenposeDetector.detect_hands / detect_face``) fed the same network instance as ours;
- the reference's scipy/skimage primitives against our OpenCV ones (blur, labelling, resizes);
- oracle networks that draw exact Gaussians at known landmarks: every landmark must come back.
Real-architecture networks run at the smallest size only (a random 4-size hand costs ~1.5 TFLOP);
the 4-size paths run with tiny networks of the same contract.
"""
import types

import cv2
import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from skimage.measure import label
from torch import nn

import reference_impl
from openpose_core.estimate.face import FaceBox, estimate_faces, face_box
from openpose_core.estimate.hand import (
    _PEAK_BLUR, GRID, HAND_SIZES, NEAR_TIE, HandBox, _exact_channel, _fast_grid, _peaks, _to_grid, estimate_hands,
    hand_boxes, raster_ordered_labels,
)
from openpose_core.pose import NUM_BODY, NUM_FACE, NUM_HAND, Keypoint

ARM_JOINTS = (2, 3, 4, 5, 6, 7)
HEAD_JOINTS = (0, 14, 15, 16, 17)


@pytest.fixture(scope="module")
def ref():
    reference = reference_impl.load()
    assert reference is not None, "these tests need their oracle: pip install --no-deps controlnet-aux==0.0.10"
    return reference


# ---------------------------------------------------------------- helpers

def _body(points):
    """Our body: 18 points, None where ``points`` (index -> (x, y)) has none."""
    return [Keypoint(*points[i]) if i in points else None for i in range(NUM_BODY)]


def _ref_body(ref, body):
    keypoints = [None if p is None else ref.body.Keypoint(p.x, p.y) for p in body]
    return ref.body.BodyResult(keypoints=keypoints, total_score=0.0, total_parts=0)


def _image_shape(width, height):
    """The reference's box functions read only ``.shape`` of the image."""
    return types.SimpleNamespace(shape=(height, width, 3))


def _image(rng, height, width):
    """A BGR uint8 image with texture at several scales (so crops differ in every direction)."""
    noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    smooth = cv2.GaussianBlur(noise, (0, 0), 4)
    return cv2.addWeighted(cv2.normalize(smooth, None, 0, 255, cv2.NORM_MINMAX), 0.7, noise, 0.3, 0)


def _arm(rng, width, height, shoulder=None):
    """Shoulder, elbow, wrist with segment lengths from 2 to 150 px (boxes both side of 20 px)."""
    points = [np.asarray(shoulder if shoulder is not None else rng.uniform(0, (width, height)))]
    for _ in range(2):
        step = rng.uniform(-1, 1, 2)
        step *= np.exp(rng.uniform(np.log(2), np.log(150))) / np.linalg.norm(step)
        points.append(np.clip(points[-1] + step, 0, (width - 1, height - 1)))
    return points


def _random_arms_body(rng, width, height, integer=False):
    points = {}
    for joints in ((2, 3, 4), (5, 6, 7)):
        for index, xy in zip(joints, _arm(rng, width, height)):
            points[index] = np.floor(xy) if integer else xy
    for index in ARM_JOINTS:
        if rng.random() < 0.12:
            del points[index]
    return _body({i: tuple(map(float, xy)) for i, xy in points.items()})


def _random_head_body(rng, width, height, integer=False):
    nose = rng.uniform(0, (width, height))
    points = {0: nose}
    for index in HEAD_JOINTS[1:]:
        offset = rng.uniform(-1, 1, 2) * np.exp(rng.uniform(np.log(1), np.log(80)))
        points[index] = np.clip(nose + offset, 0, (width - 1, height - 1))
    for index in HEAD_JOINTS:
        if rng.random() < 0.2:
            del points[index]
    return _body({i: tuple(float(v) for v in (np.floor(xy) if integer else xy)) for i, xy in points.items()})


def _ref_points(points, width, height):
    """Reference keypoints (image fractions; -1/W or -1/H on a missing axis) -> pixel tuples or None."""
    return [None if p.x < 0 or p.y < 0 else (round(float(p.x) * width), round(float(p.y) * height)) for p in points]


def _xy(points):
    return [None if p is None else (p.x, p.y) for p in points]


def _assert_same_points(got, expected):
    """Same points at the same places; confidences equal up to float rounding (a batch may take another
    convolution kernel than a single crop, which can differ in the last bits)."""
    assert [_xy(points) for points in got] == [_xy(points) for points in expected]
    scores = [[p.confidence for p in points if p is not None] for points in (sum(got, []), sum(expected, []))]
    np.testing.assert_allclose(*scores, rtol=1e-6)


def _lively(net, seed):
    """Random weights that keep activations at unit scale through deep stacks (He init, zero bias), so a
    real-architecture network gives maps that cross the 0.05 thresholds in places, as trained ones do."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for conv in (m for m in net.modules() if isinstance(m, nn.Conv2d)):
            fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
            conv.weight.normal_(0, (2 / fan_in) ** 0.5, generator=generator)
            conv.bias.zero_()
    return net.eval()


class TinyNet(nn.Module):
    """Same contract as the hand/face networks (stride 8), a few MFLOP: 8x8 average, conv, conv.
    ``stages`` > 1 returns a list of stage outputs like FaceNet. Samples run one at a time because
    oneDNN may round these small convolutions differently with the batch size (by an ulp): that is the
    backend's, and these tests compare our batching and post-processing bit for bit."""

    def __init__(self, channels, seed, stages=1):
        super().__init__()
        self.features = nn.Conv2d(3, 12, 3, padding=1)
        self.head = nn.Conv2d(12, channels, 5, padding=2)
        self.stages = stages
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for conv in (self.features, self.head):
                conv.weight.normal_(0, 1.2 / conv.weight[0].numel() ** 0.5, generator=generator)
            self.head.bias.copy_(torch.linspace(-0.25, 0.2, channels)[torch.randperm(channels, generator=generator)])

    def forward(self, x):
        out = torch.cat([self.head(torch.relu(self.features(nn.functional.avg_pool2d(one[None], 8)))) for one in x])
        return [out * 0.5] * (self.stages - 1) + [out] if self.stages > 1 else out


def _reference_detector(ref, hand_net=None, face_net=None):
    """The reference's detector around the given networks, with no files; ``seen`` collects the face
    heatmaps the reference computes (to map its shifted face list back to landmark indices)."""
    detector = object.__new__(ref.OpenposeDetector)
    detector.hand_estimation = object.__new__(ref.hand.Hand)
    detector.hand_estimation.model = hand_net
    face = detector.face_estimation = object.__new__(ref.face.Face)
    face.model = face_net
    detector.seen = []
    peaks = face.compute_peaks_from_heatmaps

    def recording(heatmaps):
        detector.seen.append(heatmaps)
        return peaks(heatmaps)

    face.compute_peaks_from_heatmaps = recording
    return detector


@pytest.fixture
def reference_hand_sizes(ref, monkeypatch):
    """Make the reference's hand estimator use other network sizes. Its ``scale_search`` is a local
    list literal, so the tuple constant it is built from is swapped in a copy of the function."""

    def use(sizes):
        call = ref.hand.Hand.__call__
        default = (0.5, 1.0, 1.5, 2.0)
        assert default in call.__code__.co_consts, "the reference's scale_search literal changed"
        consts = tuple(tuple(s / 368 for s in sizes) if c == default else c for c in call.__code__.co_consts)
        monkeypatch.setattr(ref.hand.Hand, "__call__", types.FunctionType(
            call.__code__.replace(co_consts=consts), call.__globals__, call.__name__, call.__defaults__))

    return use


def _reference_hands(ref, detector, bodies, image):
    """The reference's raw hand lists (image fractions) per box, in our order: per person left, then right."""
    hands = []
    for body in bodies:
        hands += [points for points in detector.detect_hands(_ref_body(ref, body), image) if points is not None]
    return hands


def _expected_face(ref, detector, body, image):
    """Reference face points at fixed indices: its list skips channels whose map stays <= 0.05."""
    height, width = image.shape[:2]
    detector.seen.clear()
    points = detector.detect_face(_ref_body(ref, body), image) or []
    heatmaps = detector.seen[0]
    passing = np.flatnonzero(heatmaps.reshape(len(heatmaps), -1).max(axis=1) > np.float32(0.05))
    expected = [None] * NUM_FACE
    for channel, point in zip(passing, _ref_points(points, width, height)):
        if channel < NUM_FACE:
            expected[channel] = point
    return expected, heatmaps


def _people(rng, image, count, make, box_rule):
    """``count`` bodies from ``make`` for which ``box_rule`` (hand_boxes / face_box) gives a box."""
    height, width = image.shape[:2]
    bodies = []
    while len(bodies) < count:
        body = make(rng, width, height)
        if box_rule(body, width, height):
            bodies.append(body)
    return bodies


# ---------------------------------------------------------------- boxes

def test_box_rules_match_the_published_test_vectors():
    arm = _body({2: (20, 20), 3: (40, 30), 4: (60, 40)})
    assert hand_boxes(arm, 100, 100) == [HandBox(49, 26, 33, False)]
    both = _body({2: (60, 40), 3: (20, 60), 4: (40, 70), 5: (60, 80), 6: (10, 10), 7: (30, 20)})
    assert hand_boxes(both, 100, 100) == [HandBox(0, 0, 100, True), HandBox(16, 43, 56, False)]
    head = _body({0: (50, 50), 14: (30, 40), 15: (70, 40), 16: (20, 50), 17: (80, 50)})
    assert face_box(head, 100, 100) == FaceBox(0, 0, 120)  # larger than the image: the overflow quirk


def test_hand_boxes_match_reference_on_generated_bodies(ref):
    rng = np.random.default_rng(7)
    seen = dict(left_edge=0, top_edge=0, right_edge=0, bottom_edge=0, too_small=0, arm_missing=0, both=0)
    for trial in range(3000):
        width, height = (int(v) for v in rng.integers(30, 400, 2))
        body = _random_arms_body(rng, width, height, integer=trial % 2 == 0)
        ours = hand_boxes(body, width, height)
        assert ours == ref.util.handDetect(_ref_body(ref, body), _image_shape(width, height)), body
        arms = sum(all(body[i] is not None for i in joints) for joints in ((2, 3, 4), (5, 6, 7)))
        seen["arm_missing"] += arms < 2
        seen["too_small"] += len(ours) < arms
        seen["both"] += len(ours) == 2
        for box in ours:
            assert box.x + box.size <= width and box.y + box.size <= height and box.size >= 20
            seen["left_edge"] += box.x == 0
            seen["top_edge"] += box.y == 0
            seen["right_edge"] += box.x + box.size >= width - 1
            seen["bottom_edge"] += box.y + box.size >= height - 1
    assert min(seen.values()) >= 50, seen


def test_face_boxes_match_reference_on_generated_bodies(ref):
    rng = np.random.default_rng(8)
    seen = dict(overflow=0, non_square_crop=0, left_edge=0, top_edge=0, none=0, inside=0)
    for trial in range(3000):
        width, height = (int(v) for v in rng.integers(30, 400, 2))
        body = _random_head_body(rng, width, height, integer=trial % 2 == 0)
        ours = face_box(body, width, height)
        assert ours == ref.util.faceDetect(_ref_body(ref, body), _image_shape(width, height)), body
        if ours is None:
            seen["none"] += 1
            continue
        overflow = ours.x + ours.size > width or ours.y + ours.size > height
        seen["overflow"] += overflow
        seen["inside"] += not overflow
        seen["non_square_crop"] += min(width - ours.x, ours.size) != min(height - ours.y, ours.size)
        seen["left_edge"] += ours.x == 0
        seen["top_edge"] += ours.y == 0
    assert min(seen.values()) >= 50, seen


# ---------------------------------------------------------------- OpenCV primitives == the reference's

def test_labels_in_raster_order_equal_skimage_labels():
    rng = np.random.default_rng(3)
    reordered = 0
    for density in np.linspace(0.02, 0.7, 60):
        mask = (rng.random((GRID, GRID)) < density).astype(np.uint8)
        count, labels = cv2.connectedComponents(mask, connectivity=8)
        order = raster_ordered_labels(labels)
        relabel = np.zeros(count, np.int64)
        relabel[order] = np.arange(1, len(order) + 1)
        expected = label(mask, connectivity=2)
        assert np.array_equal(relabel[labels], expected)
        reordered += not np.array_equal(labels, expected)
    assert reordered > 30  # OpenCV's own numbering differs: the reordering is needed


def test_peak_blur_equals_scipy_gaussian_filter():
    rng = np.random.default_rng(4)
    maps = cv2.GaussianBlur(rng.normal(0.03, 0.2, (GRID, GRID, NUM_HAND)), (0, 0), 2)
    ours = cv2.GaussianBlur(maps, **_PEAK_BLUR)
    scipy = np.stack([gaussian_filter(maps[:, :, part], sigma=3) for part in range(NUM_HAND)], axis=2)
    assert np.abs(ours - scipy).max() < 1e-14
    assert np.array_equal(ours > 0.05, scipy > 0.05)


@pytest.mark.parametrize("size", [64, 184, 368, 552, 736])
def test_grid_resizes_equal_the_reference_per_channel_resizes(ref, size):
    rng = np.random.default_rng(size)
    maps = rng.normal(0, 0.2, (3, 22, size // 8, size // 8)).astype(np.float32)
    ours = _to_grid(maps)
    for index, crop_maps in enumerate(maps):
        up = ref.util.smart_resize_k(np.ascontiguousarray(crop_maps.transpose(1, 2, 0)), fx=8, fy=8)
        assert np.array_equal(ours[index], ref.util.smart_resize(up, (GRID, GRID)))


@pytest.mark.parametrize("size", [64, 184, 368, 552, 736])
def test_the_fast_grid_is_the_reference_resizes_well_within_the_near_tie_margin(size):
    rng = np.random.default_rng(size)
    maps = rng.normal(0, 0.4, (3, 21, size // 8, size // 8)).astype(np.float32)
    difference = np.abs(_fast_grid(maps) - _to_grid(maps))
    assert 0 < difference.max() < NEAR_TIE / 2 * np.abs(maps).max()  # two computations, one operator


def _hand_like_maps(rng, side):
    """21 heatmaps of one crop at one network size: a few Gaussian blobs of mixed height on mild noise."""
    grid = np.arange(side)
    maps = rng.normal(0, 0.02, (21, side, side))
    for part in range(21):
        for _ in range(rng.integers(0, 3)):
            y, x = rng.uniform(0, side, 2)
            spread = side / rng.uniform(8, 30)
            maps[part] += rng.uniform(0.03, 1.0) * np.exp(
                -((grid[:, None] - y) ** 2 + (grid[None, :] - x) ** 2) / (2 * spread**2))
    return maps.astype(np.float32)


def test_fast_grid_peaks_are_the_reference_resizes_peaks():
    rng = np.random.default_rng(3)
    redone = 0
    for trial in range(12):
        raw = [_hand_like_maps(rng, size // 8)[None] for size in HAND_SIZES]
        crop_shape = tuple(int(v) for v in rng.integers(20, 500, 2))
        exact = sum(_to_grid(maps)[0] / len(raw) for maps in raw)

        def exact_channel(part):
            nonlocal redone
            redone += 1
            return _exact_channel([maps[0] for maps in raw], part)

        fast = sum(_fast_grid(maps) for maps in raw)[0] / len(raw)
        ours, expected = _peaks(fast, crop_shape, exact_channel), _peaks(exact, crop_shape)
        assert [None if p is None else p[:2] for p in ours] == [None if p is None else p[:2] for p in expected]
        assert all(p is None or abs(p[2] - q[2]) < NEAR_TIE for p, q in zip(ours, expected))
    assert redone < 0.2 * 12 * NUM_HAND  # the exact resizes stay the exception


def test_near_ties_of_the_fast_grid_are_decided_on_the_reference_resizes():
    """A part whose top two values, or a smoothed value at the threshold, are closer than the fast grid's
    precision takes its peak from the exact maps; the other parts never ask for them."""
    bump = np.exp(-((np.arange(15) - 7.0) ** 2)[:, None] / 8 - ((np.arange(15) - 7.0) ** 2)[None, :] / 8)
    fast = np.zeros((GRID, GRID, NUM_HAND))
    fast[40:55, 20:35] = bump[:, :, None]  # every part: one clear peak at (row 47, col 27)
    fast[47, 28, 1] = fast[47, 27, 1] - NEAR_TIE / 4  # part 1: a near tie of the top two values
    fast[:, :, 2] *= 0.05 / cv2.GaussianBlur(fast[:, :, 2], **_PEAK_BLUR).max()  # part 2: its top at the threshold
    exact = np.zeros((GRID, GRID))
    exact[90:105, 60:75] = bump  # where the exact maps put the peak: (row 97, col 67)
    asked = []
    peaks = _peaks(fast, (GRID, GRID), lambda part: asked.append(part) or exact)
    assert sorted(asked) == [1, 2]
    assert [peak[:2] for peak in peaks] == [(67, 97) if part in (1, 2) else (27, 47) for part in range(NUM_HAND)]


def _spec_hand_peaks(average, crop_height, crop_width):
    """reference-behaviour.md §4.3 written with the reference's scipy/skimage primitives."""
    peaks = []
    for part in range(NUM_HAND):
        values = average[:, :, part]
        binary = gaussian_filter(values, sigma=3) > 0.05
        if not binary.any():
            peaks.append(None)
            continue
        labels, count = label(binary, connectivity=2, return_num=True)
        masses = [values[labels == blob].sum() for blob in range(1, count + 1)]
        kept = np.where(labels == 1 + int(np.argmax(masses)), values, 0.0)
        row, col = np.unravel_index(np.argmax(kept), kept.shape)
        peaks.append((col * crop_width // GRID, row * crop_height // GRID, kept[row, col]))
    return peaks


def test_peaks_equal_the_scipy_skimage_path_including_ties():
    rng = np.random.default_rng(5)
    for trial in range(6):
        average = cv2.GaussianBlur(rng.normal(0.0, 0.35, (GRID, GRID, NUM_HAND)), (0, 0), 3)
        average[:, :, 0] = -1.0  # a part with no blob
        crop_shape = tuple(int(v) for v in rng.integers(20, 500, 2))
        assert _peaks(average, crop_shape) == _spec_hand_peaks(average, *crop_shape)
    # Two blobs with bit-identical values: the one met first in raster order must win. It starts one
    # row higher but further right, so OpenCV (which scans 2x2 blocks) numbers it second.
    bump = np.exp(-((np.arange(15) - 7.0) ** 2)[:, None] / 8 - ((np.arange(15) - 7.0) ** 2)[None, :] / 8)
    average = np.zeros((GRID, GRID, NUM_HAND))
    average[40:55, 20:35] = bump[:, :, None]
    average[39:54, 80:95] = bump[:, :, None]
    passing = (cv2.GaussianBlur(average[:, :, 1], **_PEAK_BLUR) > 0.05).astype(np.uint8)
    count, cv_labels = cv2.connectedComponents(passing, connectivity=8)
    assert count == 3 and cv_labels[46, 87] == 2 and cv_labels[47, 27] == 1
    spec = _spec_hand_peaks(average, GRID, GRID)
    assert spec[1][:2] == (87, 46)  # the raster-first blob won the tie
    assert _peaks(average, (GRID, GRID)) == spec


# ---------------------------------------------------------------- whole hand/face paths == the reference's

def _hand_case(rng, images, people):
    """(image, box) pairs of ``people`` generated persons per image, and their bodies per image."""
    bodies = [_people(rng, image, people, _random_arms_body, hand_boxes) for image in images]
    pairs = [(image, box) for image, group in zip(images, bodies) for body in group
             for box in hand_boxes(body, image.shape[1], image.shape[0])]
    return pairs, bodies


def _one_axis_missing(hands):
    """Reference points missing on exactly one axis: a crop coordinate of 0 on the other."""
    return sum((p.x < 0) != (p.y < 0) for points in hands for p in points)


def test_hands_match_reference_with_a_tiny_network_at_all_four_sizes(ref):
    rng = np.random.default_rng(11)
    net = TinyNet(22, seed=1)
    detector = _reference_detector(ref, hand_net=net)
    images = [_image(rng, 240, 320), _image(rng, 300, 200)]
    pairs, bodies = _hand_case(rng, images, 3)
    hands = [points for image, group in zip(images, bodies) for points in _reference_hands(ref, detector, group, image)]
    expected = [_ref_points(points, image.shape[1], image.shape[0]) for (image, _), points in zip(pairs, hands)]
    assert [_xy(points) for points in estimate_hands(pairs, net, chunk_size=3)] == expected
    found = [point is not None for points in expected for point in points]
    assert len(pairs) >= 6 and 0 < sum(found) < len(found) and _one_axis_missing(hands) > 0


def test_hands_match_reference_with_the_hand_architecture(ref, reference_hand_sizes):
    reference_hand_sizes((184,))
    rng = np.random.default_rng(12)
    net = _lively(ref.model.handpose_model(), seed=0)
    image = _image(rng, 200, 260)
    body = _body({2: (60.0, 50.0), 3: (50.0, 110.0), 4: (80.0, 150.0), 5: (190.0, 40.0), 6: (215.0, 100.0),
                  7: (200.0, 140.0)})
    pairs = [(image, box) for box in hand_boxes(body, 260, 200)]
    hands = _reference_hands(ref, _reference_detector(ref, hand_net=net), [body], image)
    expected = [_ref_points(points, 260, 200) for points in hands]
    assert [_xy(points) for points in estimate_hands(pairs, net, sizes=(184,))] == expected
    found = [point is not None for points in expected for point in points]
    assert len(pairs) == 2 and 0 < sum(found) < len(found)


def _face_case(rng, image, people):
    bodies = _people(rng, image, people, _random_head_body, face_box)
    return bodies, [(image, face_box(body, image.shape[1], image.shape[0])) for body in bodies]


def _check_faces(ref, detector, bodies, pairs, ours):
    """Ours == the reference at fixed indices; confidences are the reference's heatmap values there."""
    for body, (image, box), points in zip(bodies, pairs, ours):
        expected, heatmaps = _expected_face(ref, detector, body, image)
        assert _xy(points) == expected
        for channel, point in enumerate(points):
            if point is not None:
                assert point.confidence == heatmaps[channel, int(point.y) - box.y, int(point.x) - box.x]


def test_faces_match_reference_with_a_tiny_network(ref):
    rng = np.random.default_rng(13)
    net = TinyNet(71, seed=2, stages=3)
    detector = _reference_detector(ref, face_net=net)
    image = _image(rng, 260, 300)
    bodies, pairs = _face_case(rng, image, 6)
    corner = _body({0: (280.0, 240.0), 14: (270.0, 230.0), 16: (250.0, 235.0)})  # box reaches past the image
    bodies.append(corner)
    pairs.append((image, face_box(corner, 300, 260)))
    ours = estimate_faces(pairs, net, chunk_size=4)
    _check_faces(ref, detector, bodies, pairs, ours)
    shapes = {image[box.y:box.y + box.size, box.x:box.x + box.size].shape[:2] for image, box in pairs}
    assert any(h != w for h, w in shapes)  # a non-square (overflowing) crop took part
    gaps = [i for points in ours for i in range(NUM_FACE - 1) if points[i] is None and points[i + 1] is not None]
    assert gaps  # a faint landmark before a found one: where the reference's list shifts


def test_faces_match_reference_with_the_face_architecture(ref):
    rng = np.random.default_rng(14)
    net = _lively(ref.face.FaceNet(), seed=0)
    image = _image(rng, 200, 240)
    body = _body({0: (120.0, 90.0), 14: (105.0, 75.0), 15: (136.0, 76.0), 16: (90.0, 85.0)})
    pairs = [(image, face_box(body, 240, 200))]
    ours = estimate_faces(pairs, net)
    _check_faces(ref, _reference_detector(ref, face_net=net), [body], pairs, ours)
    assert 0 < sum(point is not None for point in ours[0]) < NUM_FACE


# ---------------------------------------------------------------- oracle networks: known landmarks come back

def _gaussians(cells_x, cells_y, grid):
    """``K x grid x grid`` unit Gaussians (sigma 1 cell) centred on the given cells; NaN centres draw 0."""
    cells = np.arange(grid, dtype=np.float64)
    dx, dy = cells[None, None, :] - cells_x[:, None, None], cells[None, :, None] - cells_y[:, None, None]
    squared = dx ** 2 + dy ** 2
    return np.nan_to_num(np.exp(-squared / 2)).astype(np.float32)


class HandOracle(nn.Module):
    """For the k-th crop of every size, Gaussians at that crop's landmarks (crop pixels, NaN = absent)
    on the stride-8 grid, with OpenCV's half-pixel geometry: crop pixel p -> net pixel
    (p + 0.5) * s / side - 0.5 -> cell (net pixel - 3.5) / 8."""

    def __init__(self, landmarks, crop_shapes):
        super().__init__()
        self.landmarks, self.crop_shapes, self.next = landmarks, crop_shapes, 0

    def forward(self, x):
        count, size = len(x), x.shape[-1]
        maps = torch.zeros(count, 22, size // 8, size // 8)
        for k in range(count):
            index = (self.next + k) % len(self.landmarks)
            (height, width), points = self.crop_shapes[index], self.landmarks[index]
            cells_x = ((points[:, 0] + 0.5) * size / width - 4) / 8
            cells_y = ((points[:, 1] + 0.5) * size / height - 4) / 8
            maps[k, :NUM_HAND] = torch.from_numpy(_gaussians(cells_x, cells_y, size // 8))
        self.next = (self.next + count) % len(self.landmarks)
        return maps


class FaceOracle(HandOracle):
    """Gaussians on the 48 x 48 grid with the corner-aligned geometry the face decoding assumes (cell
    = p * 47 / (side - 1)); background channel 1 everywhere; a list of stages like FaceNet."""

    def forward(self, x):
        assert x.shape[-2:] == (384, 384)
        maps = torch.ones(len(x), 71, 48, 48)
        for k in range(len(x)):
            (height, width), points = self.crop_shapes[self.next], self.landmarks[self.next]
            maps[k, :NUM_FACE] = torch.from_numpy(
                _gaussians(points[:, 0] * 47 / (width - 1), points[:, 1] * 47 / (height - 1), 48))
            self.next = (self.next + 1) % len(self.landmarks)
        return [torch.zeros_like(maps), maps]


def _landmarks(rng, crop_shapes, count, margin):
    """Random landmarks inside each crop, ``margin(side)`` px from the top/left edge, 3 absent per crop."""
    landmarks = []
    for height, width in crop_shapes:
        points = rng.uniform((margin(width), margin(height)), (width - 2, height - 2), (count, 2))
        points[rng.choice(count, 3, replace=False)] = np.nan
        landmarks.append(points)
    return landmarks


def _assert_recovered(points, landmarks, box, cell):
    for point, truth in zip(points, landmarks):
        if np.isnan(truth).any():
            assert point is None
        else:
            assert abs(point.x - box.x - truth[0]) <= cell[0] and abs(point.y - box.y - truth[1]) <= cell[1]


def test_hand_landmarks_come_back_through_all_four_sizes():
    rng = np.random.default_rng(21)
    images = [_image(rng, 240, 320), _image(rng, 200, 180)]
    pairs, _ = _hand_case(rng, images, 3)
    shapes = [image[box.y:box.y + box.size, box.x:box.x + box.size].shape[:2] for image, box in pairs]
    landmarks = _landmarks(rng, shapes, NUM_HAND, margin=lambda side: 2 + side / 64)
    small = next(i for i, (height, width) in enumerate(shapes) if width < GRID)
    landmarks[small][0] = (0, shapes[small][0] / 2)  # on the crop's left column: missing, as the reference
    landmarks[small][1] = (shapes[small][1] / 2, 0)  # on its top row
    ours = estimate_hands(pairs, HandOracle(landmarks, shapes), sizes=HAND_SIZES, chunk_size=2)
    assert ours[small][0] is None and ours[small][1] is None
    landmarks[small][:2] = np.nan
    assert {box.is_left for _, box in pairs} == {True, False} and len(pairs) >= 6
    for points, truth, (_, box), (height, width) in zip(ours, landmarks, pairs, shapes):
        _assert_recovered(points, truth, box, (width / GRID + 1, height / GRID + 1))


def test_face_landmarks_come_back_at_their_indices():
    rng = np.random.default_rng(22)
    image = _image(rng, 260, 300)
    _, pairs = _face_case(rng, image, 5)
    corner = _body({0: (285.0, 250.0), 15: (270.0, 238.0)})
    pairs.append((image, face_box(corner, 300, 260)))
    shapes = [image[box.y:box.y + box.size, box.x:box.x + box.size].shape[:2] for image, box in pairs]
    assert any(height != width for height, width in shapes)
    landmarks = _landmarks(rng, shapes, NUM_FACE, margin=lambda side: 2 + side / 47)
    ours = estimate_faces(pairs, FaceOracle(landmarks, shapes), chunk_size=4)
    for points, truth, (_, box), (height, width) in zip(ours, landmarks, pairs, shapes):
        assert len(points) == NUM_FACE
        _assert_recovered(points, truth, box, ((width - 1) / 47 + 1, (height - 1) / 47 + 1))


# ---------------------------------------------------------------- batching, options

def test_one_batched_call_equals_single_calls():
    rng = np.random.default_rng(31)
    images = [_image(rng, 220, 260), _image(rng, 160, 240)]
    hand_net, face_net = TinyNet(22, seed=3), TinyNet(71, seed=4)
    pairs, _ = _hand_case(rng, images, 2)
    batched = estimate_hands(pairs, hand_net, sizes=(184, 368), chunk_size=3)
    _assert_same_points(batched, [estimate_hands([pair], hand_net, sizes=(184, 368))[0] for pair in pairs])
    face_pairs = [pair for image in images for pair in _face_case(rng, image, 2)[1]]
    batched = estimate_faces(face_pairs, face_net, chunk_size=3)
    _assert_same_points(batched, [estimate_faces([pair], face_net)[0] for pair in face_pairs])
    assert any(point is not None for points in batched for point in points)


class AutocastProbe(TinyNet):
    def forward(self, x):
        self.seen = torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")
        return super().forward(x)


def test_autocast_dtype_reaches_the_network_and_bad_sizes_are_refused():
    rng = np.random.default_rng(41)
    image = _image(rng, 120, 160)
    pair = (image, HandBox(10, 20, 90, True))
    probe = AutocastProbe(22, seed=5)
    points = estimate_hands([pair], probe, sizes=(184,), autocast_dtype=torch.bfloat16)[0]
    assert probe.seen == (True, torch.bfloat16)
    assert len(points) == NUM_HAND and all(p is None or isinstance(p.confidence, float) for p in points)
    estimate_hands([pair], probe, sizes=(184,))
    assert probe.seen[0] is False
    with pytest.raises(ValueError):
        estimate_hands([pair], probe, sizes=(180,))
    assert estimate_hands([], probe) == [] and estimate_faces([], probe) == []
