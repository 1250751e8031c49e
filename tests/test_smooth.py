"""One Euro smoothing and gap filling of tracked poses.

Filter thresholds are derived from the filter's own parameters where the maths allows (the exponential
average it reduces to when ``beta = 0``, and a lower bound on its cutoff after a step); the jitter tests use
fixed-seed noise with margins of at least 1.3x over the measured values.
"""
import copy

import numpy as np
import pytest

import oracle
from openpose_core.pose import Keypoint, Person, PoseFrame, array_to_points
from openpose_core.smooth import (
    DEFAULT_BETA, DEFAULT_D_CUTOFF, DEFAULT_MIN_CUTOFF, OneEuroFilter, PoseSmoother, fill_gaps, smooth_poses,
)

FPS = 30.0
SIZE = 300.0  # person size (px) used to scale speeds


def alpha(cutoff, fps=FPS):
    """The new sample's weight in a first-order low-pass (the filter's definition, written out again)."""
    tau = 1 / (2 * np.pi * cutoff)
    return 1 / (1 + tau * fps)


def run(samples, scale=SIZE, **settings):
    one_euro = OneEuroFilter(fps=FPS, **settings)
    return np.array([one_euro(np.atleast_1d(sample), scale) for sample in samples])


# --- the filter ------------------------------------------------------------------------------------------

def test_without_beta_it_is_an_exponential_average():
    """Stationary white noise through weight a keeps a standard deviation of sqrt(a / (2 - a))."""
    noise = np.random.default_rng(0).normal(0, 1, 20000)
    output = run(noise, beta=0.0)[:, 0]
    weight = alpha(DEFAULT_MIN_CUTOFF)
    expected = [noise[0]]
    for sample in noise[1:200]:
        expected.append(expected[-1] + weight * (sample - expected[-1]))
    np.testing.assert_allclose(output[:200], expected, rtol=0, atol=1e-12)
    assert np.std(output[100:]) == pytest.approx(np.sqrt(weight / (2 - weight)), rel=0.05)


def step_response(step=0.1 * SIZE, **settings):
    """Fraction of a step (of ``step`` px) still left after each frame following it."""
    output = run([0.0] * 5 + [step] * 30, **settings)[5:, 0]
    return (step - output) / step


def test_step_lag_is_bounded_by_the_adaptive_cutoff():
    """After a step of D the speed estimate is at least a_d (1 - a_d)^(k-1) D fps (the first jump's share,
    decayed; later raw speeds all point the same way), so the cutoff in frame k is at least
    min_cutoff + beta * that / size and the remaining error at most the product of (1 - weight)."""
    step = 0.1 * SIZE
    remaining = step_response(step)
    d_weight = alpha(DEFAULT_D_CUTOFF)
    frames = np.arange(1, len(remaining) + 1)
    speed_floor = d_weight * (1 - d_weight) ** (frames - 1) * step * FPS / SIZE
    bound = np.cumprod(1 - alpha(DEFAULT_MIN_CUTOFF + DEFAULT_BETA * speed_floor))
    assert remaining[0] == pytest.approx(bound[0], abs=1e-12), "first frame: the bound is exact"
    assert np.all(remaining <= bound + 1e-12)
    assert np.all(remaining >= 0), "a first-order filter never overshoots"
    assert bound[4] < 0.05 and remaining[4] < 0.05, "within 5% of the step after 5 frames"
    plain = step_response(step, beta=0.0)
    np.testing.assert_allclose(plain, (1 - alpha(DEFAULT_MIN_CUTOFF)) ** frames, atol=1e-12)
    assert plain[4] > 0.6, "the speed term is what removes the lag (a plain average keeps 61% after 5 frames)"


def test_noisy_sinusoid_loses_most_of_its_jitter():
    """0.5 Hz sway of 30 px plus 1.5 px noise, 10 s at 30 fps; jitter = RMS second difference of the error."""
    time = np.arange(300) / FPS
    truth = 30 * np.sin(2 * np.pi * 0.5 * time)
    noisy = truth + np.random.default_rng(1).normal(0, 1.5, time.shape)
    output = run(noisy)[:, 0]

    def jitter(signal):
        return np.sqrt(np.mean(np.diff(signal[30:] - truth[30:], 2) ** 2))

    assert jitter(output) < 0.5 * jitter(noisy)


def test_a_missing_sample_restarts_that_signal_only():
    samples = np.array([[0.0, 0.0]] * 5 + [[np.nan, 1.0], [10.0, 1.0], [10.0, 1.0]])
    output = run(samples)
    assert np.isnan(output[5, 0]) and not np.isnan(output[5, 1])
    assert output[6, 0] == 10.0 and output[7, 0] == 10.0, "restarted: output = input, speed 0"
    assert 0 < output[6, 1] < 1.0, "the other signal keeps filtering"


def test_filter_rejects_bad_settings_and_shapes():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0)
    one_euro = OneEuroFilter()
    one_euro(np.zeros(3))
    with pytest.raises(ValueError):
        one_euro(np.zeros(4))


# --- poses -----------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 640, 480


def person(body: np.ndarray, person_id, **parts) -> Person:
    return Person(body=array_to_points(body), person_id=person_id,
                  **{name: array_to_points(points) for name, points in parts.items()})


def standing(x=320.0, y=240.0, height=SIZE, missing=()):
    points = np.ones((18, 3))
    points[:, :2] = (oracle.STANDING - 0.5) * height + [x, y]
    points[list(missing)] = np.nan
    return points


def swaying_person(count=150, noise=1.5, seed=0, with_hand=True):
    """A person swaying 30 px at 0.5 Hz, each point with 1.5 px noise; a right hand too. (frames, truth)."""
    rng = np.random.default_rng(seed)
    hand = np.column_stack([rng.uniform(-20, 20, (21, 2)), np.ones(21)])
    frames, truth = [], []
    for index in range(count):
        offset = 30 * np.sin(2 * np.pi * 0.5 * index / FPS)
        body = standing(320 + offset)
        right = hand + [body[4, 0], body[4, 1], 0]
        truth.append(np.concatenate([body, right]))
        noisy = [points + np.column_stack([rng.normal(0, noise, (len(points), 2)), np.zeros(len(points))])
                 for points in (body, right)]
        parts = {"right_hand": noisy[1]} if with_hand else {}
        frames.append(PoseFrame([person(noisy[0], 7, **parts)], WIDTH, HEIGHT))
    return frames, np.array(truth)


def positions(frames) -> np.ndarray:
    """frames x 39 x 2: the first person's body and right hand."""
    return np.array([[(np.nan, np.nan) if p is None else p[:2] for p in f.people[0].body + f.people[0].right_hand]
                     for f in frames])


def test_smoothing_people_reduces_error_and_bidirectional_removes_lag():
    frames, truth = swaying_person()
    raw = positions(frames)

    def rms_error(smoothed):
        return np.sqrt(np.mean((positions(smoothed) - truth[:, :, :2])[30:-30] ** 2))

    def jitter(smoothed):
        return np.sqrt(np.mean(np.diff(positions(smoothed) - truth[:, :, :2], 2, axis=0)[30:-30] ** 2))

    causal, both_ways = smooth_poses(frames, fps=FPS), smooth_poses(frames, fps=FPS, bidirectional=True)
    assert jitter(causal) < 0.5 * jitter(frames) and jitter(both_ways) < 0.5 * jitter(frames)
    assert rms_error(both_ways) < 0.8 * rms_error(frames)
    assert rms_error(both_ways) < 0.5 * rms_error(causal), "the causal filter lags; two-way cancels the lag"
    assert np.sqrt(np.mean((raw - truth[:, :, :2]) ** 2)) == pytest.approx(1.5, rel=0.1)


def test_people_are_smoothed_by_id_not_by_position_in_the_frame():
    first, second = standing(150), standing(450)
    frames = [PoseFrame([person(first, 1), person(second, 2)][::1 if index % 2 else -1], WIDTH, HEIGHT)
              for index in range(10)]
    for smoothed in smooth_poses(frames):
        by_id = {p.person_id: p.body_array() for p in smoothed.people}
        np.testing.assert_array_equal(by_id[1], first)
        np.testing.assert_array_equal(by_id[2], second)


def test_missing_points_stay_missing_and_everything_else_is_kept():
    frames, _ = swaying_person(count=20, with_hand=False)
    frames[5].people[0].body[4] = None
    frames[6].people[0].face = array_to_points(np.ones((70, 3)))
    frames[6].people[0].score = 3.5
    before = copy.deepcopy(frames)
    for bidirectional in (False, True):
        smoothed = smooth_poses(frames, bidirectional=bidirectional)
        assert frames == before, "the input frames are not changed"
        for original, result in zip(frames, smoothed):
            a, b = original.people[0], result.people[0]
            assert (b.person_id, b.score, b.right_hand) == (a.person_id, a.score, None)
            assert [p is None for p in b.body] == [p is None for p in a.body]
            assert [p and p.confidence for p in b.body] == [p and p.confidence for p in a.body]
        assert smoothed[6].people[0].face is not None and smoothed[5].people[0].face is None


def test_a_point_restarts_after_missing_and_a_person_after_being_absent():
    still = standing()
    moved = standing(x=400)
    frames = [PoseFrame([person(still, 0)], WIDTH, HEIGHT) for _ in range(5)]
    frames.append(PoseFrame([person(standing(missing=[4]), 0)], WIDTH, HEIGHT))
    frames.append(PoseFrame([], WIDTH, HEIGHT))
    frames.append(PoseFrame([person(moved, 0)], WIDTH, HEIGHT))
    smoothed = PoseSmoother()
    results = [smoothed.update(f) for f in frames]
    assert results[5].people[0].body[4] is None
    np.testing.assert_array_equal(results[7].people[0].body_array(), moved)


def test_speed_is_measured_in_person_sizes():
    """The same motion filmed twice as large (canvas too) smooths to exactly twice the coordinates."""
    frames, _ = swaying_person(count=40)
    doubled = [PoseFrame([Person(body=[Keypoint(2 * p.x, 2 * p.y, p.confidence) for p in f.people[0].body],
                                 right_hand=[Keypoint(2 * p.x, 2 * p.y, p.confidence) for p in f.people[0].right_hand],
                                 person_id=7)], 2 * WIDTH, 2 * HEIGHT) for f in frames]
    np.testing.assert_allclose(positions(smooth_poses(doubled)), 2 * positions(smooth_poses(frames)), rtol=1e-9)


def test_people_need_ids_and_one_canvas():
    frames, _ = swaying_person(count=3)
    unnamed = copy.deepcopy(frames)
    unnamed[1].people[0].person_id = None
    twins = copy.deepcopy(frames)
    twins[1].people.append(twins[1].people[0])
    resized = copy.deepcopy(frames)
    resized[2].width = 320
    for broken in (unnamed, twins, resized):
        with pytest.raises(ValueError):
            smooth_poses(broken)
        with pytest.raises(ValueError):
            fill_gaps(broken)


# --- gap filling -----------------------------------------------------------------------------------------

def gappy_sequence():
    """Person 0 walks 10 px per frame with point confidences 0.9 (even frames) / 0.5 (odd frames)."""
    frames = []
    for index in range(20):
        body = standing(100 + 10 * index)
        body[:, 2] = 0.9 if index % 2 == 0 else 0.5
        frames.append(PoseFrame([person(body, 0)], WIDTH, HEIGHT))
    return frames


@pytest.mark.parametrize("max_gap", [0, 2, 3])
def test_fill_gaps_fills_runs_of_at_most_max_gap_linearly(max_gap):
    frames = gappy_sequence()
    truth = [f.people[0].body_array() for f in frames]
    for index in (0, 1):             # a leading gap: never extrapolated
        frames[index].people[0].body[2] = None
    for index in (4, 5):             # 2 frames, neighbours 3 (0.5) and 6 (0.9)
        frames[index].people[0].body[3] = None
    for index in (9, 10, 11):        # 3 frames
        frames[index].people[0].body[4] = None
    frames[19].people[0].body[5] = None  # a trailing gap
    before = copy.deepcopy(frames)
    filled = fill_gaps(frames, max_gap=max_gap)
    assert frames == before
    result = np.array([f.people[0].body_array() for f in filled])
    for joint, gap in ((3, range(4, 6)), (4, range(9, 12))):
        for index in gap:
            if len(gap) <= max_gap:
                np.testing.assert_allclose(result[index, joint, :2], truth[index][joint, :2], atol=1e-9)
                lower = min(truth[gap.start - 1][joint, 2], truth[gap.stop][joint, 2])  # 0.5 for the first gap
                assert result[index, joint, 2] == lower, "confidence = the lower neighbour's"
            else:
                assert np.isnan(result[index, joint]).all()
    assert np.isnan(result[:2, 2]).all() and np.isnan(result[19, 5]).all()
    assert np.isnan(result).sum() == np.isnan([f.people[0].body_array() for f in frames]).sum() - sum(
        3 * len(gap) for gap in (range(4, 6), range(9, 12)) if len(gap) <= max_gap)


@pytest.mark.parametrize("absent,restored", [(2, True), (3, False)])
def test_fill_gaps_puts_back_a_briefly_absent_person(absent, restored):
    frames = gappy_sequence()
    other = standing(500)
    for index, f in enumerate(frames):
        f.people.insert(0, person(other, 1))
        if 8 <= index < 8 + absent:
            del f.people[1]
    frames[7].people[1].right_hand = array_to_points(np.full((21, 3), [50.0, 60.0, 1.0]))
    frames[8 + absent].people[1].right_hand = array_to_points(np.full((21, 3), [80.0, 60.0, 0.7]))
    filled = fill_gaps(frames, max_gap=2)
    for index in range(8, 8 + absent):
        ids = [p.person_id for p in filled[index].people]
        if not restored:
            assert ids == [1]
            continue
        assert ids == [1, 0]
        back = filled[index].people[1]
        assert back.score is None and back.left_hand is None and back.face is None
        np.testing.assert_allclose(back.body_array()[:, 0], standing(100 + 10 * index)[:, 0], atol=1e-9)
        hand = np.array(back.right_hand)
        np.testing.assert_allclose(hand[:, 0], 50 + 30 * (index - 7) / (absent + 1))
        assert (hand[:, 2] == 0.7).all()
    assert filled[0].people[1].right_hand is None, "a hand is only filled between two sightings"
