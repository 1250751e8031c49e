"""Shared helpers for body tests: the reference Body around any network, and people comparison."""
import numpy as np
import torch

import reference_impl


def reference_body(network: torch.nn.Module):
    """controlnet-aux's ``Body`` estimator wrapped around ``network`` (no checkpoint file needed)."""
    ref = reference_impl.load()
    body = object.__new__(ref.body.Body)
    body.model = network
    return body


def reference_people(candidate, subset) -> list:
    """Reference (candidate, subset) -> list of 18 x 2 arrays (NaN = missing)."""
    people = []
    for row in subset:
        points = np.full((18, 2), np.nan)
        for part, index in enumerate(row[:18]):
            if index >= 0:
                points[part] = candidate[int(index)][:2]
        people.append(points)
    return people


def frame_people(frame) -> list:
    """PoseFrame -> list of 18 x 2 arrays (NaN = missing)."""
    return [person.body_array()[:, :2] for person in frame.people]


def assert_same_people(expected: list, actual: list, tolerance: float = 1.0):
    """Same people in the same order; the same parts present; every point within ``tolerance`` px."""
    assert len(actual) == len(expected), f"{len(actual)} people, expected {len(expected)}"
    for index, (want, got) in enumerate(zip(expected, actual)):
        assert np.array_equal(np.isnan(want[:, 0]), np.isnan(got[:, 0])), f"person {index}: different parts present"
        distance = np.linalg.norm(want - got, axis=1)
        worst = np.nanmax(distance) if np.isfinite(distance).any() else 0.0
        assert worst <= tolerance, f"person {index}: a point is {worst:.2f} px away"
