"""One detector shared by several threads, lazy network loading under contention, and interrupting a
batch from its progress callback (what the ComfyUI nodes do on "cancel").

Networks: an oracle body net and tiny hand/face nets (tests/test_hand_face.py TinyNet) that run each
sample on its own, so results do not depend on how samples were batched and comparisons are exact.
"""
import threading
import time

import numpy as np
import pytest

import oracle
from openpose_core import OpenposeDetector
from openpose_core.presets import Preset
from test_hand_face import TinyNet

RESOLUTION = 192
THREADS = 4


class CountingLoader:
    """A hand/face loader that is slow (widening any race) and counts its calls."""

    def __init__(self, network, delay=0.2, failures=0):
        self.network, self.delay, self.failures = network, delay, failures
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.failures
        time.sleep(self.delay)
        if failing:
            raise OSError("the weights server went away")
        return self.network


def make_detector(hand_loader=None, face_loader=None):
    body = oracle.OracleBodyNet(oracle.grid_of_people(2, 2, 1))
    return OpenposeDetector(body, hand_loader=hand_loader, face_loader=face_loader)


@pytest.fixture(scope="module")
def images():
    """Noise images of several sizes (pixel values below the pad grey, which the oracle needs)."""
    rng = np.random.default_rng(0)
    sizes = [(192, 192), (192, 256), (256, 192), (192, 192), (160, 240)]
    return [rng.integers(0, 100, size + (3,), dtype=np.uint8) for size in sizes]


@pytest.fixture(scope="module")
def nets():
    return TinyNet(22, seed=1), TinyNet(71, seed=2, stages=3)


OPTIONS = dict(detect_resolution=RESOLUTION, include_hand=True, include_face=True,
               preset=Preset("one hand size", hand_sizes=(184,)))  # the reference's 4 sizes cost 4x: same code


@pytest.fixture(scope="module")
def expected(images, nets):
    """Sequential results, one image at a time."""
    hand, face = nets
    detector = make_detector(CountingLoader(hand, delay=0), CountingLoader(face, delay=0))
    frames = [detector.detect(image, **OPTIONS) for image in images]
    assert all(len(frame.people) == 2 for frame in frames)
    hands = [person.left_hand for frame in frames for person in frame.people]
    assert any(points is not None and any(p is not None for p in points) for points in hands)
    assert any(person.face is not None for frame in frames for person in frame.people)
    return frames


def run_threads(target, count=THREADS):
    """Run ``target(index)`` on ``count`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def work(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_threads_sharing_a_detector_get_the_sequential_results(images, nets, expected):
    hand, face = nets
    hand_loader, face_loader = CountingLoader(hand), CountingLoader(face)
    detector = make_detector(hand_loader, face_loader)  # nothing loaded yet: the first calls race to load

    def work(index):
        order = [(index + step) % len(images) for step in range(len(images))]  # different batch mixes
        frames = detector.detect_batch([images[i] for i in order], batch_size=2 + index % 3, **OPTIONS)
        return dict(zip(order, frames))

    for results in run_threads(work):
        assert [results[i] for i in range(len(images))] == expected
    assert (hand_loader.calls, face_loader.calls) == (1, 1)


def test_concurrent_first_use_loads_the_hand_network_exactly_once(nets):
    loader = CountingLoader(nets[0], delay=0.3)
    detector = make_detector(hand_loader=loader)
    models = run_threads(lambda index: detector.hand_model, count=8)
    assert loader.calls == 1
    assert all(model is models[0] for model in models)
    assert not models[0].training


def test_a_failed_lazy_load_is_reported_and_retried(nets, images):
    loader = CountingLoader(nets[0], delay=0, failures=1)
    detector = make_detector(hand_loader=loader)
    with pytest.raises(OSError, match="the weights server went away"):
        detector.detect(images[0], detect_resolution=RESOLUTION, include_hand=True)
    frame = detector.detect(images[0], detect_resolution=RESOLUTION, include_hand=True)  # the lock was released
    assert loader.calls == 2 and len(frame.people) == 2


# --- interrupting a batch --------------------------------------------------------------------------

class Interrupted(Exception):
    """Like ComfyUI's InterruptProcessingException, raised from the progress callback."""


class Cancelled(BaseException):
    """Like KeyboardInterrupt: not an Exception, must not be swallowed either."""


@pytest.mark.parametrize("kind", [Interrupted, Cancelled])
def test_raising_from_progress_stops_after_the_current_chunk(kind, images, nets, expected):
    hand, face = nets
    detector = make_detector(CountingLoader(hand, delay=0), CountingLoader(face, delay=0))
    same_size = [images[0], images[3]] * 5  # ten 192 x 192 images: one body-network call per chunk
    assert images[0].shape == images[3].shape
    raised = kind("stop")
    reports = []

    def progress(done, total):
        reports.append((done, total))
        if done >= 3:
            raise raised

    with pytest.raises(kind) as info:
        detector.detect_batch(same_size, batch_size=3, progress=progress, **OPTIONS)
    assert info.value is raised  # unchanged, not wrapped
    assert reports == [(3, 10)]
    assert detector.body_model.calls == 1  # the second chunk never started

    # the detector is still usable, with the same results as before
    done = []
    assert detector.detect_batch(images, batch_size=2, progress=lambda d, t: done.append((d, t)),
                                 **OPTIONS) == expected
    assert done == [(2, 5), (4, 5), (5, 5)]


def test_an_interrupted_thread_does_not_disturb_the_others(images, nets, expected):
    hand, face = nets
    detector = make_detector(CountingLoader(hand, delay=0), CountingLoader(face, delay=0))

    def work(index):
        if index % 2:
            def stop(done, total):
                raise Interrupted(index)
            with pytest.raises(Interrupted):
                detector.detect_batch(images, batch_size=2, progress=stop, **OPTIONS)
            return None
        return detector.detect_batch(images, batch_size=2, **OPTIONS)

    results = run_threads(work)
    assert results[0] == expected and results[2] == expected
