"""Limb scoring: the early-rejection and chunking optimisations change nothing."""
import numpy as np
import pytest

from openpose_core.estimate import paf


def random_case(seed, n_a=60, n_b=50, size=120):
    rng = np.random.default_rng(seed)
    cand_a = np.column_stack([rng.integers(0, size, (n_a, 2)), rng.random(n_a)]).astype(float)
    cand_b = np.column_stack([rng.integers(0, size, (n_b, 2)), rng.random(n_b)]).astype(float)
    field = rng.random((2, size, size)) * 0.3 + 0.03  # many pairs pass some samples, some pass all

    def sample(channel, xs, ys):
        return field[channel, np.rint(ys).astype(int), np.rint(xs).astype(int)]

    return cand_a, cand_b, sample, size


def brute_force(cand_a, cand_b, sample, height):
    """The rule written out plainly: every pair, every sample, stable sort by score."""
    rows = []
    for i, a in enumerate(cand_a):
        for j, b in enumerate(cand_b):
            vector = b[:2] - a[:2]
            norm = max(0.001, float(np.hypot(*vector)))
            xs = np.linspace(a[0], b[0], 10)
            ys = np.linspace(a[1], b[1], 10)
            projection = sample(0, xs, ys) * vector[0] / norm + sample(1, xs, ys) * vector[1] / norm
            score = projection.mean() + min(0.5 * height / norm - 1, 0)
            if (projection > 0.05).sum() >= 9 and score > 0:
                rows.append((i, j, score))
    rows.sort(key=lambda row: -row[2])
    return np.array(rows).reshape(-1, 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scoring_equals_the_plain_rule(seed):
    cand_a, cand_b, sample, size = random_case(seed)
    ours = paf.score_limb(cand_a, cand_b, (0, 1), sample, size)
    expected = brute_force(cand_a, cand_b, sample, size)
    assert len(expected) > 20
    assert np.array_equal(ours[:, :2], expected[:, :2])
    assert np.allclose(ours[:, 2], expected[:, 2], rtol=0, atol=1e-12)


def test_chunking_changes_nothing(monkeypatch):
    cand_a, cand_b, sample, size = random_case(3, n_a=300, n_b=250)
    whole = paf.score_limb(cand_a, cand_b, (0, 1), sample, size)
    monkeypatch.setattr(paf, "PAIRS_PER_CHUNK", 1000)
    assert np.array_equal(paf.score_limb(cand_a, cand_b, (0, 1), sample, size), whole)
    assert len(whole) > 1000
