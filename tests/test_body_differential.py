"""Differential tests: the same network maps through our parse and controlnet-aux 0.0.10's.

The reference's maps are float32 OpenCV results; ours are the same linear operators evaluated in
float64, so values agree to ~1e-6 and a peak can move by one pixel only where two neighbours tie to
within float32 precision. Hence "same people, same order, every point within 1 px".
"""
import numpy as np
import pytest
import torch

import oracle
from body_helpers import assert_same_people, frame_people, reference_body, reference_people
import reference_impl
from openpose_core import OpenposeDetector
from openpose_core.estimate.body import estimate_bodies, torch_runner

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def compare(network, image_rgb):
    candidate, subset = reference_body(network)(np.ascontiguousarray(image_rgb[:, :, ::-1]))
    frame = OpenposeDetector(network).detect(image_rgb, detect_resolution=0)
    expected = reference_people(candidate, subset)
    assert_same_people(expected, frame_people(frame))
    return expected


@pytest.mark.parametrize("count,seed,size", [(4, 0, (512, 512)), (8, 1, (512, 704)), (12, 2, (640, 448))])
def test_crowds_with_noise_match_reference(count, seed, size):
    network = oracle.NoisyNet(oracle.OracleBodyNet(oracle.crowd(count, seed)), amplitude=0.12, seed=seed)
    people = compare(network, np.full(size + (3,), 40, np.uint8))
    assert len(people) >= count // 2  # the case exercises real assembly, not an empty result


def test_random_weight_network_matches_reference():
    """Random-weight maps (standardised, see oracle.Standardised) have many peaks: every one must
    agree within 1 px with a score within 1e-4."""
    ref = reference_impl.load()
    torch.manual_seed(3)
    network = oracle.Standardised(ref.model.bodypose_model().eval())
    image = (np.random.default_rng(3).random((384, 512, 3)) * 255).astype(np.uint8)
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    expected, subset = reference_body(network)(bgr)
    ours = estimate_bodies([bgr], torch_runner(network))[0]
    assert len(expected) >= 20
    for mine, theirs in [(ours.candidate, np.asarray(expected)), (np.asarray(expected), ours.candidate)]:
        near = np.abs(mine[:, None, :2] - theirs[None, :, :2]).max(axis=2) <= 1
        same_score = np.abs(mine[:, None, 2] - theirs[None, :, 2]) < 1e-4
        assert (near & same_score).any(axis=1).all(), "a peak has no counterpart"
    assert_same_people(reference_people(expected, subset), reference_people(ours.candidate, ours.subset))
