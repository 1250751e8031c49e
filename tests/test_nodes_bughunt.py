"""ComfyUI nodes, found by a bug hunt against a real ComfyUI (0.3.64, its execution engine and model
management, on CPU and on an H100): an empty IMAGE batch, selecting people by person_id in poses that carry
no such id, keyframes on different canvases, and TF32 convolutions on NVIDIA GPUs. The tests run against
the stand-ins of tests/comfy_stub, like tests/test_nodes.py.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import oracle
import test_nodes
from test_nodes import PackDetector, pose_model
from test_nodes import run as run_node

comfy = test_nodes.comfy      # the fixture: ComfyUI stand-ins and an empty model cache


def run(node_id: str, **inputs):
    """A node's outputs (also when it returns ComfyUI's {"ui": ..., "result": ...})."""
    output = run_node(node_id, **inputs)
    return output["result"] if isinstance(output, dict) else output


def frame(*lefts: float, ids=None, width: int = 512, height: int = 768) -> dict:
    """A POSE_KEYPOINT frame (plain dicts, as another pack passes it): one standing person per ``left``."""
    people = []
    for number, left in enumerate(lefts):
        xy = (oracle.STANDING * 0.5 + [left, 0.1]) * [width, height]
        person = {"pose_keypoints_2d": np.column_stack([xy, np.ones(18)]).ravel().tolist()}
        if ids is not None:
            person["person_id"] = [ids[number]]
        people.append(person)
    return {"people": people, "canvas_width": width, "canvas_height": height}


def oracle_model(net=None):
    net = net or oracle.OracleBodyNet([oracle.grid_of_people(1, 1, 1)])
    return pose_model.PoseModel(PackDetector(net), load_device="cpu", offload_device="cpu")


ESTIMATE = dict(detect_body=True, detect_hand=False, detect_face=False, resolution=128, preset="reference",
                scale_stick_for_xinsr_cn=False)
CLEAN = dict(flip_horizontal=False, scale=1.0, rotate=0.0, translate_x=0.0, translate_y=0.0, pivot="canvas",
             canvas_width=0, canvas_height=0, canvas_mode="pad_or_crop")
RETARGET = dict(reference_frame=0, reference_person=0, height="reference", anchor="neck", overrides="",
                percentile=75.0)


# ---- an empty IMAGE batch ----------------------------------------------------------------------------

@pytest.mark.parametrize("node_id,inputs", [
    ("OpenPoseCoreEstimator", lambda image: dict(image=image, openpose_model=oracle_model(), **ESTIMATE)),
    ("OpenPoseCorePoseFromSkeletonImage", lambda image: dict(skeleton_image=image, hands=True, face=True)),
], ids=["estimator", "skeleton_image"])
def test_an_empty_image_batch_is_a_clear_error(comfy, node_id, inputs):
    """A video loader or batch filter can hand on 0 frames: the estimator failed inside numpy ("need at least
    one array to stack") and Pose From Skeleton Image returned an empty POSE_KEYPOINT, which every node after
    it refused as "holds no frames", blaming the wrong node."""
    with pytest.raises(ValueError, match=r"^the IMAGE batch is empty \(0 images, 64 x 48\): nothing to read poses "
                                         r"from; check the node that made it$"):
        run(node_id, **inputs(torch.zeros(0, 48, 64, 3)))
    one = run(node_id, **inputs(torch.zeros(1, 48, 64, 3)))
    assert len(one[-1]) == 1, "a batch of one still gives one frame"


def test_the_estimator_refuses_an_empty_batch_before_reading_weights(comfy, monkeypatch):
    def read_weights(*args):
        raise AssertionError("weights were read (or downloaded) for an empty batch")
    monkeypatch.setattr(pose_model, "_detector", read_weights)
    with pytest.raises(ValueError, match=r"^the IMAGE batch is empty"):
        run("OpenPoseCoreEstimator", image=torch.zeros(0, 64, 64, 3), **ESTIMATE)


# ---- people chosen by person_id ------------------------------------------------------------------------

def by_id_runs(poses: list, people: str):
    """Every node that picks people, picking ``people`` by person_id."""
    yield "OpenPoseCoreSelectPeople", dict(pose_keypoint=poses, people=people, mode="keep", people_by="person_id")
    yield "OpenPoseCoreEditPose", dict(pose_keypoint=poses, people=people, **CLEAN, people_by="person_id")
    yield "OpenPoseCoreRemoveParts", dict(pose_keypoint=poses, body=True, left_hand=False, right_hand=False,
                                          face=False, feet=False, joints="", people=people, people_by="person_id")
    yield "OpenPoseCoreRetargetProportions", dict(reference_pose=[frame(0.3)], target_pose=poses,
                                                  target_person=int(people), **RETARGET, people_by="person_id")


def test_choosing_by_person_id_in_poses_without_ids_is_a_clear_error(comfy):
    """Poses from a pose editor or a JSON file carry no person_id: picking people by id silently chose nobody
    (Select People output empty frames, so a black ControlNet map; Edit Pose and Remove Pose Parts did
    nothing; Retarget returned the action unchanged). The CLI refuses such an id; so do the nodes now."""
    poses = [frame(0.1, 0.5), frame(0.15, 0.55)]
    for node_id, inputs in by_id_runs(poses, "0"):
        with pytest.raises(ValueError, match=r"^people_by person_id: no person has id 0 \(these poses carry no "
                                             r"person_id: use people_by index, or give the people ids with Track "
                                             r"& Smooth Poses\)$"):
            run(node_id, **inputs)


def test_an_id_that_no_frame_has_is_refused_naming_the_ids_there_are(comfy):
    poses = [frame(0.1, 0.5, ids=[4, 7]), frame(0.15, ids=[4])]
    for node_id, inputs in by_id_runs(poses, "5"):
        with pytest.raises(ValueError, match=r"^people_by person_id: no person has id 5 \(ids in these poses: 4, 7\)$"):
            run(node_id, **inputs)


def test_an_id_missing_from_some_frames_only_is_still_skipped_there(comfy):
    poses = [frame(0.1, 0.5, ids=[4, 7]), frame(0.15, ids=[4]), frame(width=512, height=768)]
    kept, = run("OpenPoseCoreSelectPeople", pose_keypoint=poses, people="7, 9", mode="keep", people_by="person_id")
    assert [[person["person_id"] for person in each["people"]] for each in kept] == [[[7]], [], []]
    moved, = run("OpenPoseCoreEditPose", pose_keypoint=poses, people="7", people_by="person_id",
                 **{**CLEAN, "translate_x": 10.0})
    shift = [[round(after["pose_keypoints_2d"][3] - before["pose_keypoints_2d"][3], 6)
              for before, after in zip(old["people"], new["people"])] for old, new in zip(poses, moved)]
    assert shift == [[0.0, 10.0], [0.0], []]
    nobody = [frame(width=512, height=768)] * 2  # no people at all: nothing to choose from, nothing refused
    assert run("OpenPoseCoreSelectPeople", pose_keypoint=nobody, people="0", mode="keep",
               people_by="person_id")[0] == nobody


# ---- keyframes on different canvases ---------------------------------------------------------------------

def test_keyframes_on_different_canvases_are_refused_saying_how_to_match_them(comfy):
    """Two keyframes from different sources (a 512 x 768 detection, a 512 x 512 editor pose) stopped the run
    with the library's "resize() or crop() them to one first", which names Python functions, not nodes."""
    with pytest.raises(ValueError, match=r"^Interpolate Poses: keyframe 1 has a 512 x 512 canvas, keyframe 0 a "
                                         r"512 x 768 one; give them one canvas first \(Edit Pose: canvas_width, "
                                         r"canvas_height, canvas_mode\)$"):
        run("OpenPoseCoreInterpolatePoses", keyframes=[frame(0.1)], frames_between=2, easing="linear",
            more_keyframes=[frame(0.3, height=512)])
    same, = run("OpenPoseCoreInterpolatePoses", keyframes=[frame(0.1)], frames_between=2, easing="linear",
                more_keyframes=[frame(0.3)])
    assert len(same) == 4 and {(each["canvas_width"], each["canvas_height"]) for each in same} == {(512, 768)}


# ---- TF32 (library) --------------------------------------------------------------------------------------

def tf32_convolutions() -> bool:
    """Whether cuDNN may run fp32 convolutions in TF32 now (PyTorch's default; ComfyUI leaves it on)."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        return conv.fp32_precision == "tf32"
    return bool(torch.backends.cudnn.allow_tf32)


class FlagRecordingNet(oracle.OracleBodyNet):
    def __init__(self):
        super().__init__([oracle.grid_of_people(1, 1, 1)])
        self.tf32 = []

    def forward(self, batch):
        self.tf32.append(tf32_convolutions())
        return super().forward(batch)


def test_the_reference_preset_runs_the_networks_without_tf32(comfy):
    """On an H100 in ComfyUI (fp32, reference preset), the body network's output was 2.8e-3 off the CPU's
    (the parity contract is 1e-4) and nine identical frames gave 61, 61, 61, 61, 61, 61, 61, 64 (one batch
    of 8) and 60 (alone) people; with TF32 off: 6e-6, and 64 people in every frame, as on the CPU."""
    net = FlagRecordingNet()
    assert tf32_convolutions()
    run("OpenPoseCoreEstimator", image=torch.zeros(2, 64, 64, 3), openpose_model=oracle_model(net), **ESTIMATE)
    assert net.tf32 == [False]
    assert tf32_convolutions()           # the user's setting is back once the network has run


def test_the_crop_networks_run_without_tf32_unless_autocast():
    """Hands and faces run through ``run_network``: true fp32 too, while autocast leaves the setting."""
    from openpose_core.estimate.crops import run_network

    class Recording(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tf32 = []

        def forward(self, batch):
            self.tf32.append(tf32_convolutions())
            return batch

    net = Recording()
    images = np.zeros((3, 8, 8, 3), np.uint8)
    for dtype in (None, torch.bfloat16):
        list(run_network(net, images, torch.device("cpu"), autocast_dtype=dtype, chunk_size=2))
    assert net.tf32 == [False, False, True, True] and tf32_convolutions()
