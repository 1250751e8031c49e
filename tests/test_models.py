"""The networks against the published layout and against controlnet-aux 0.0.10's modules."""
from __future__ import annotations

import pytest
import torch

import reference_impl
from openpose_core.models import NETWORKS, body, face, hand
from openpose_core.weights import DEFAULT_FILENAMES

ref = reference_impl.load()
needs_reference = pytest.mark.skipif(ref is None, reason="controlnet-aux 0.0.10 (test oracle) not installed")

COUNTS = {"body": (52_311_446, 184), "hand": (36_832_324, 104), "face": (38_425_706, 104)}
"""Parameters and tensors per network (reference-behaviour.md section 2)."""

INPUTS = {"body": (2, 3, 62, 90), "hand": (1, 3, 64, 64), "face": (1, 3, 96, 96)}
"""Small inputs keep the parity runs fast; body's is a non-square batch whose sides are not multiples of 8
(the pools floor), to catch swapped axes and batch mix-ups."""

CONTRACTS = {"body": [(2, 38, 7, 11), (2, 19, 7, 11)], "hand": [(1, 22, 8, 8)], "face": [(1, 71, 12, 12)] * 6}
"""Output shapes: body (PAFs, heatmaps), hand stage-6 heatmaps, face all six stages."""


def meta_state(build):
    with torch.device("meta"):
        return build().state_dict()


def reference_layout(kind: str):
    """Published key -> shape as the reference loads it: ``util.transfer`` drops the block name of the
    body and hand modules' keys; the face module is loaded with its own keys."""
    build = {"body": lambda: ref.model.bodypose_model(), "hand": lambda: ref.model.handpose_model(),
             "face": lambda: ref.face.FaceNet()}[kind]
    state = meta_state(build)
    strip = kind != "face"
    return {(key.split(".", 1)[1] if strip else key): tuple(value.shape) for key, value in state.items()}


@pytest.mark.parametrize("kind", list(COUNTS))
def test_parameter_and_tensor_counts(kind):
    state = meta_state(NETWORKS[kind].build)
    assert (sum(value.numel() for value in state.values()), len(state)) == COUNTS[kind]


@needs_reference
@pytest.mark.parametrize("kind", list(COUNTS))
def test_published_layout_is_the_reference_layout_key_for_key(kind):
    network = NETWORKS[kind]
    ours = meta_state(network.build)
    published = network.to_published(ours)
    assert len(published) == len(ours)
    assert {key: tuple(value.shape) for key, value in published.items()} == reference_layout(kind)
    assert list(network.from_published(published)) == list(ours)


def test_key_mappings_name_the_right_blocks():
    value = torch.zeros(1)
    assert body.from_published({"Mconv7_stage6_L2.bias": value}) == {"heatmap_stages.5.Mconv7_stage6_L2.bias": value}
    assert body.from_published({"conv5_5_CPM_L1.weight": value}) == {"paf_stages.0.conv5_5_CPM_L1.weight": value}
    assert body.to_published({"backbone.conv4_4_CPM.bias": value}) == {"conv4_4_CPM.bias": value}
    assert hand.from_published({"conv6_2_CPM.weight": value}) == {"stages.0.conv6_2_CPM.weight": value}
    assert face.from_published({"Mconv1_stage3.weight": value}) == {"stages.2.Mconv1_stage3.weight": value}
    assert face.to_published({"backbone.conv5_3_CPM.weight": value}) == {"conv5_3_CPM.weight": value}


def outputs_as_list(outputs):
    return [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)


@needs_reference
@pytest.mark.parametrize("kind", list(COUNTS))
def test_outputs_match_reference_with_the_same_weights(kind, checkpoint_dir, published_states):
    path = str(checkpoint_dir / DEFAULT_FILENAMES[kind])
    reference = {"body": ref.body.Body, "hand": ref.hand.Hand, "face": ref.face.Face}[kind](path).model.eval()
    network = NETWORKS[kind]
    with torch.device("meta"):
        ours = network.build().eval()
    ours.load_state_dict(network.from_published(published_states[kind]), assign=True)  # what `path` holds
    x = torch.rand(INPUTS[kind], generator=torch.Generator().manual_seed(1)) - 0.5  # like image / 256 - 0.5
    with torch.no_grad():
        expected, got = outputs_as_list(reference(x)), outputs_as_list(ours(x))

    assert [tuple(t.shape) for t in got] == CONTRACTS[kind]
    assert [t.shape for t in got] == [t.shape for t in expected]
    for mine, theirs in zip(got, expected):
        assert theirs.std() > 0.05, "random weights should give outputs of O(1) magnitude"
        assert (mine - theirs).abs().max() <= 1e-4
    if kind == "body":
        pafs, heatmaps = got
        assert pafs.min() < 0 and heatmaps.min() == 0, "final heatmaps are ReLU'd (reference quirk), PAFs not"
