"""The ComfyUI nodes, run against stand-ins of the ComfyUI modules they touch (tests/comfy_stub/).

The pack is imported the way ComfyUI imports it (a package named after its folder, nothing on sys.path),
so its classes are this module's ``pack`` copies, distinct from the top-level ``openpose_core`` others
use: poses cross between the two only as JSON-like dicts, as they do between node packs.
"""
from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import comfy_stub
import oracle
from openpose_core.formats import frame_to_dict
from openpose_core.pose import NUM_HAND, Keypoint, Person, PoseFrame
from openpose_core.render import BODY_COLORS, LIMB_COLORS
from openpose_core.weights import DEFAULT_FILENAMES, DEFAULT_REPO

PACK = comfy_stub.load_pack("openpose_core_pack_under_test")
NODES = sys.modules[PACK.__name__ + ".nodes"]
common = sys.modules[PACK.__name__ + ".nodes.common"]
convert = sys.modules[PACK.__name__ + ".nodes.convert"]
estimator = sys.modules[PACK.__name__ + ".nodes.estimator"]
pose_model = sys.modules[PACK.__name__ + ".nodes.pose_model"]
PackDetector = sys.modules[PACK.__name__ + ".openpose_core.detector"].OpenposeDetector

NODE_IDS = sorted(PACK.NODE_CLASS_MAPPINGS)


@pytest.fixture
def comfy(tmp_path, monkeypatch):
    """ComfyUI stand-ins rooted in a fresh folder, and an empty model cache."""
    monkeypatch.setattr(pose_model, "_CACHE", {})
    return comfy_stub.install(monkeypatch, tmp_path / "ComfyUI")


def run(node_id: str, **inputs):
    """Execute a node as ComfyUI does: a new instance, its FUNCTION called with the inputs as keywords."""
    cls = PACK.NODE_CLASS_MAPPINGS[node_id]
    return getattr(cls(), cls.FUNCTION)(**inputs)


def result(output):
    """The outputs tuple of a node's return value (plain tuple or ``{"ui": ..., "result": ...}``)."""
    return output.get("result", ()) if isinstance(output, dict) else output


# ---- poses and images used as inputs -------------------------------------------------------------

def standing(width=512, height=768, left=0.0, scale=1.0, hands=False) -> PoseFrame:
    """oracle.STANDING as a person on a canvas, in pixels, optionally with (made-up) hands."""
    xy = (oracle.STANDING * scale + [left, 0.0]) * [width, height]
    person = Person(body=[Keypoint(float(x), float(y), 0.9) for x, y in xy])
    if hands:
        wrist_r, wrist_l = xy[4], xy[7]
        fan = np.stack([np.linspace(0, 30, NUM_HAND), np.linspace(0, 20, NUM_HAND)], axis=1)
        person.right_hand = [Keypoint(float(x), float(y), 0.8) for x, y in wrist_r + fan]
        person.left_hand = [Keypoint(float(x), float(y), 0.8) for x, y in wrist_l + fan]
    return PoseFrame([person], width, height)


def pose_keypoint(*frames: PoseFrame) -> list:
    """A POSE_KEYPOINT as another pack would pass it (plain dicts)."""
    return [frame_to_dict(frame) for frame in frames]


def points(frame_dict: dict, person: int = 0, key: str = "pose_keypoints_2d") -> np.ndarray:
    return np.array(frame_dict["people"][person][key]).reshape(-1, 3)


def without_ids(frames: list) -> list:
    """POSE_KEYPOINT frames without their people's person_id (tracking numbers a batch's people)."""
    return [{**frame, "people": [{key: value for key, value in person.items() if key != "person_id"}
                                 for person in frame["people"]]} for frame in frames]


def ids(frame_dict: dict) -> list:
    return [person["person_id"][0] for person in frame_dict["people"]]


def check_image(image, frames: int, size=None):
    assert isinstance(image, torch.Tensor) and image.dtype == torch.float32
    assert image.ndim == 4 and image.shape[0] == frames and image.shape[3] == 3
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    if size is not None:
        assert (image.shape[2], image.shape[1]) == size


def check_pose_keypoint(value, frames: int, canvas=None):
    assert isinstance(value, list) and len(value) == frames
    for frame in value:
        assert isinstance(frame, dict) and isinstance(frame["people"], list)
        assert set(frame) == {"people", "canvas_width", "canvas_height"}
        if canvas is not None:
            assert (frame["canvas_width"], frame["canvas_height"]) == canvas
        for person in frame["people"]:
            body = np.array(person["pose_keypoints_2d"]).reshape(-1, 3)
            assert set(np.unique(body[:, 2])) <= {0.0, 1.0}, "present points are 1.0, missing 0 (ecosystem rule)"


def pack_frame(frame: PoseFrame):
    """The same frame built from the pack's own classes."""
    pose = sys.modules[PACK.__name__ + ".openpose_core.pose"]

    def copied(part):
        return None if part is None else [None if p is None else pose.Keypoint(*p) for p in part]
    people = [pose.Person(body=copied(person.body), left_hand=copied(person.left_hand),
                          right_hand=copied(person.right_hand), face=copied(person.face)) for person in frame.people]
    return pose.PoseFrame(people, frame.width, frame.height)


class ColourKeyedOracle(oracle.OracleBodyNet):
    """Oracle whose skeleton set is chosen by the frame's grey level, so each frame of a video has its own
    people however frames are batched (the plain oracle keys on the position in the network batch)."""

    def __init__(self, skeletons_by_level: dict):
        super().__init__(list(skeletons_by_level.values()))
        self.by_level = skeletons_by_level

    def forward(self, batch):
        self.calls += 1
        pafs, heats = [], []
        for item in batch:
            level = int(round((float(item[0, 0, 0]) + 0.5) * 256))
            paf, heat = oracle.render_maps(self.by_level[level], (batch.shape[2] // 8, batch.shape[3] // 8),
                                           oracle.content_size(item[None]))
            pafs.append(paf)
            heats.append(heat)
        as_tensor = lambda maps: torch.from_numpy(np.stack(maps)).float()  # noqa: E731
        return as_tensor(pafs), as_tensor(heats)


LEVELS = [40 + 12 * index for index in range(10)]


def video(count: int = 10, size: int = 64) -> torch.Tensor:
    """An IMAGE batch whose frame k is flat grey LEVELS[k] (what ColourKeyedOracle keys on)."""
    return torch.stack([torch.full((size, size, 3), LEVELS[k] / 255.0) for k in range(count)])


def oracle_model():
    """An OPENPOSE_MODEL around a colour-keyed oracle: one or two people that move from frame to frame."""
    skeletons = {level: oracle.grid_of_people(1 + index % 2, 2, 1, seed=index) for index, level in enumerate(LEVELS)}
    net = ColourKeyedOracle(skeletons)
    return pose_model.PoseModel(PackDetector(net), load_device="cpu", offload_device="cpu"), net


ESTIMATE = dict(detect_body=True, detect_hand=False, detect_face=False, resolution=128, preset="reference",
                scale_stick_for_xinsr_cn=False)


# ---- importing -----------------------------------------------------------------------------------

def test_pack_imports_without_comfyui_and_registers_every_node():
    assert not NODES.LOAD_ERRORS
    assert "folder_paths" not in sys.modules and "comfy" not in sys.modules, "a ComfyUI module was imported"
    assert getattr(sys.modules.get("nodes"), "__file__", "") != str(Path(NODES.__file__)), "our nodes shadow ComfyUI's"
    assert NODE_IDS == sorted([
        "OpenPoseCoreEstimator", "OpenPoseCoreModelLoader", "OpenPoseCoreRenderPose", "OpenPoseCoreLoadPoseJSON",
        "OpenPoseCoreSavePoseJSON", "OpenPoseCoreEditPose", "OpenPoseCoreSelectPeople", "OpenPoseCoreRemoveParts",
        "OpenPoseCoreRetargetProportions", "OpenPoseCoreInterpolatePoses", "OpenPoseCorePoseFromSkeletonImage",
        "OpenPoseCoreTrackAndSmoothPoses"])
    assert set(PACK.NODE_DISPLAY_NAME_MAPPINGS) == set(NODE_IDS)
    assert {cls.CATEGORY for cls in PACK.NODE_CLASS_MAPPINGS.values()} == {common.CATEGORY}


def test_a_missing_dependency_disables_only_the_nodes_that_need_it(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # "import huggingface_hub" now fails
    pack = comfy_stub.load_pack("openpose_core_pack_without_hub")
    errors = sys.modules["openpose_core_pack_without_hub.nodes"].LOAD_ERRORS
    assert set(errors) == {"estimator", "loader"}
    assert all("huggingface_hub" in why and "pip install huggingface-hub" in why for why in errors.values())
    assert "huggingface_hub" in caplog.text
    assert "OpenPoseCoreRenderPose" in pack.NODE_CLASS_MAPPINGS
    assert "OpenPoseCoreEstimator" not in pack.NODE_CLASS_MAPPINGS


# ---- declarations -------------------------------------------------------------------------------

def check_input(name: str, spec: tuple):
    assert isinstance(spec, tuple) and 1 <= len(spec) <= 2, name
    kind, options = spec[0], (spec[1] if len(spec) == 2 else {})
    assert isinstance(options, dict), name
    if isinstance(kind, list):  # COMBO
        assert kind and all(isinstance(option, str) for option in kind), name
        assert options.get("default", kind[0]) in kind, name
    elif kind in ("INT", "FLOAT"):
        number = int if kind == "INT" else (int, float)
        assert all(isinstance(options[key], number) for key in ("default", "min", "max", "step")), name
        assert options["min"] <= options["default"] <= options["max"] and options["step"] > 0, name
    elif kind == "BOOLEAN":
        assert isinstance(options["default"], bool), name
    elif kind == "STRING":
        assert isinstance(options["default"], str), name
    else:
        assert isinstance(kind, str) and kind.isupper() and "default" not in options, name
    assert isinstance(options.get("tooltip", ""), str), name


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_declarations_are_well_formed(comfy, node_id):
    cls = PACK.NODE_CLASS_MAPPINGS[node_id]
    assert node_id.startswith("OpenPoseCore")
    inputs = cls.INPUT_TYPES()
    assert set(inputs) <= {"required", "optional"} and inputs["required"]
    for section in inputs.values():
        for name, spec in section.items():
            check_input(name, spec)
    assert isinstance(cls.RETURN_TYPES, tuple) and all(isinstance(kind, str) for kind in cls.RETURN_TYPES)
    for attribute in ("RETURN_NAMES", "OUTPUT_TOOLTIPS"):
        assert len(getattr(cls, attribute, cls.RETURN_TYPES)) == len(cls.RETURN_TYPES)
    assert cls.RETURN_TYPES or getattr(cls, "OUTPUT_NODE", False), "a node without outputs must be an output node"
    parameters = inspect.signature(getattr(cls, cls.FUNCTION)).parameters
    names = [name for name in parameters if name != "self"]
    assert names == list(inputs["required"]) + list(inputs.get("optional", {})), "FUNCTION takes exactly the inputs"
    for name in inputs.get("optional", {}):
        assert parameters[name].default is None, f"optional input {name} needs a default"
    assert isinstance(cls.DESCRIPTION, str) and cls.DESCRIPTION


# ---- every node on a batch ----------------------------------------------------------------------

def every_node_case(node_id: str, checkpoint_folder: Path, comfy):
    """(inputs, frames expected, output size/canvas expected) for one run of each node on a batch."""
    poses = pose_keypoint(standing(), standing(left=0.1), standing(left=0.2))
    if node_id == "OpenPoseCoreEstimator":
        return dict(image=video(3), openpose_model=oracle_model()[0], **ESTIMATE), 3, (128, 128)
    if node_id == "OpenPoseCoreModelLoader":
        (Path(comfy.folder_paths.models_dir) / "openpose").symlink_to(checkpoint_folder, target_is_directory=True)
        return dict(body_model="body_pose_model.pth", hand_model="hand_pose_model.pth", face_model="facenet.pth",
                    hub_repo=DEFAULT_REPO, device="cpu", precision="auto"), None, None
    if node_id == "OpenPoseCoreRenderPose":
        return dict(pose_keypoint=poses, width=256, height=0, fit="contain", body=True, hands=True, face=True,
                    scale_stick_for_xinsr_cn=True), 3, (256, 384)
    if node_id == "OpenPoseCoreLoadPoseJSON":
        Path(comfy.folder_paths.get_input_directory(), "walk.json").write_text(json.dumps(poses))
        return dict(file="walk.json", json_text="", coordinates="auto"), 3, (512, 768)
    if node_id == "OpenPoseCoreSavePoseJSON":
        return dict(pose_keypoint=poses, filename_prefix="poses/walk", coordinates="normalized",
                    confidence="score"), 0, None
    if node_id == "OpenPoseCoreEditPose":
        return dict(pose_keypoint=poses, flip_horizontal=True, scale=0.5, rotate=10.0, translate_x=5.0,
                    translate_y=-5.0, pivot="person", people="", canvas_width=640, canvas_height=0,
                    canvas_mode="fit"), 3, (640, 768)
    if node_id == "OpenPoseCoreSelectPeople":
        return dict(pose_keypoint=poses, people="0", mode="keep"), 3, (512, 768)
    if node_id == "OpenPoseCoreRemoveParts":
        return dict(pose_keypoint=poses, body=False, left_hand=True, right_hand=True, face=True, feet=False,
                    joints="left_wrist", people=""), 3, (512, 768)
    if node_id == "OpenPoseCoreRetargetProportions":
        return dict(reference_pose=pose_keypoint(standing(scale=0.8)), target_pose=poses, reference_frame=0,
                    reference_person=0, target_person=0, height="reference", anchor="feet", overrides="thigh=1.1",
                    percentile=75.0), 3, (512, 768)
    if node_id == "OpenPoseCoreInterpolatePoses":
        return dict(keyframes=poses, frames_between=2, easing="ease_in_out"), 7, (512, 768)
    if node_id == "OpenPoseCorePoseFromSkeletonImage":
        maps = result(run("OpenPoseCoreRenderPose", pose_keypoint=poses, width=0, height=0, fit="stretch", body=True,
                          hands=True, face=True, scale_stick_for_xinsr_cn=False))[0]
        return dict(skeleton_image=maps, hands=True, face=True), 3, (512, 768)
    if node_id == "OpenPoseCoreTrackAndSmoothPoses":
        return dict(pose_keypoint=poses, **CLEAN_UP), 3, (512, 768)
    raise AssertionError(f"no case for {node_id}: add one")


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_every_node_runs_on_a_batch(comfy, checkpoint_folder, node_id):
    inputs, frames, size = every_node_case(node_id, checkpoint_folder, comfy)
    output = run(node_id, **inputs)
    cls = PACK.NODE_CLASS_MAPPINGS[node_id]
    outputs = result(output)
    assert isinstance(outputs, tuple) and len(outputs) == len(cls.RETURN_TYPES)
    for kind, value in zip(cls.RETURN_TYPES, outputs):
        if kind == "IMAGE":
            check_image(value, frames, size)
        elif kind == common.POSE_KEYPOINT:
            check_pose_keypoint(value, frames, size)
        elif kind == common.OPENPOSE_MODEL:
            assert isinstance(value, pose_model.PoseModel)
        else:
            assert isinstance(value, str) and kind == "STRING"
    if isinstance(output, dict):
        assert set(output) <= {"ui", "result"}


# ---- the estimator --------------------------------------------------------------------------------

def test_a_batch_gives_what_single_frames_give(comfy):
    model, net = oracle_model()
    frames = video(10)
    images, poses = result(run("OpenPoseCoreEstimator", image=frames, openpose_model=model, **ESTIMATE))
    singles = [result(run("OpenPoseCoreEstimator", image=frames[k:k + 1], openpose_model=model, **ESTIMATE))
               for k in range(10)]
    assert torch.equal(images, torch.cat([single[0] for single in singles]))
    assert without_ids(poses) == without_ids([single[1][0] for single in singles])
    assert [len(frame["people"]) for frame in poses] == [1 + k % 2 for k in range(10)]
    assert images.shape == (10, 128, 128, 3)
    check_pose_keypoint(poses, 10, canvas=(128, 128))


def test_people_keep_their_person_id_through_a_batch_and_can_be_selected_by_it(comfy):
    """A third person walks in on the left of two: the detector lists people left to right, so indices
    shift, while each person's id stays; Select People, Edit Pose and Remove Parts can pick by id."""
    three = oracle.grid_of_people(3, 3, 1, seed=0)
    net = ColourKeyedOracle({LEVELS[0]: three[1:], LEVELS[1]: three[1:], LEVELS[2]: three, LEVELS[3]: three})
    model = pose_model.PoseModel(PackDetector(net), load_device="cpu", offload_device="cpu")
    _, poses = result(run("OpenPoseCoreEstimator", image=video(4), openpose_model=model,
                          **{**ESTIMATE, "resolution": 256}))
    assert [ids(frame) for frame in poses] == [[0, 1], [0, 1], [2, 0, 1], [2, 0, 1]]
    middle = [points(frame, ids(frame).index(0)) for frame in poses]
    by_id, = run("OpenPoseCoreSelectPeople", pose_keypoint=poses, people="0", mode="keep", people_by="person_id")
    assert [ids(frame) for frame in by_id] == [[0]] * 4
    assert all(np.array_equal(points(frame), want) for frame, want in zip(by_id, middle))
    by_index, = run("OpenPoseCoreSelectPeople", pose_keypoint=poses, people="0", mode="keep")
    assert [ids(frame) for frame in by_index] == [[0], [0], [2], [2]]
    moved, = run("OpenPoseCoreEditPose", pose_keypoint=poses, **{**EDIT, "translate_x": 10.0, "people": "1",
                                                                 "people_by": "person_id"})
    for before, after in zip(poses, moved):
        shift = [points(after, k)[1, 0] - points(before, k)[1, 0] for k in range(len(before["people"]))]
        assert shift == [10.0 if person_id == 1 else 0.0 for person_id in ids(before)]
    trimmed, = run("OpenPoseCoreRemoveParts", pose_keypoint=poses, body=False, left_hand=False, right_hand=False,
                   face=False, feet=False, joints="nose", people="2", people_by="person_id")
    for frame in trimmed:
        assert [points(frame, k)[0, 2] for k in range(len(frame["people"]))] == \
            [0.0 if person_id == 2 else 1.0 for person_id in ids(frame)]
    retargeted, _ = run("OpenPoseCoreRetargetProportions", reference_pose=pose_keypoint(standing(scale=0.8)),
                        target_pose=poses, reference_frame=0, reference_person=0, target_person=0,
                        height="reference", anchor="neck", overrides="", percentile=75.0, people_by="person_id")
    for before, after in zip(poses, retargeted):
        changed = [not np.allclose(points(after, k), points(before, k)) for k in range(len(before["people"]))]
        assert changed == [person_id == 0 for person_id in ids(before)]


def test_the_estimator_reports_every_frame_and_batches_the_network(comfy):
    model, net = oracle_model()
    seen = []
    comfy.utils.set_progress_bar_global_hook(lambda value, total, preview, node_id=None: seen.append((value, total)))
    output = run("OpenPoseCoreEstimator", image=video(10), openpose_model=model, **ESTIMATE)
    assert seen == [(k, 10) for k in range(1, 11)]
    assert net.calls == 2, "10 frames go through the body network in 2 batches of at most 8"
    assert json.loads(output["ui"]["openpose_json"][0]) == list(output["result"][1])


def test_cancel_stops_between_batches_and_the_model_stays_usable(comfy):
    model, net = oracle_model()
    comfy.utils.set_progress_bar_global_hook(
        lambda value, total, preview, node_id=None: comfy.model_management.interrupt_current_processing())
    with pytest.raises(comfy.model_management.InterruptProcessingException):
        run("OpenPoseCoreEstimator", image=video(10), openpose_model=model, **ESTIMATE)
    assert net.calls == 1, "the second batch never ran"
    comfy.utils.set_progress_bar_global_hook(None)
    images, _ = result(run("OpenPoseCoreEstimator", image=video(10), openpose_model=model, **ESTIMATE))
    assert images.shape[0] == 10


def test_disabled_parts_are_neither_drawn_nor_output(comfy):
    model, _ = oracle_model()
    inputs = {**ESTIMATE, "detect_body": False}
    images, poses = result(run("OpenPoseCoreEstimator", image=video(2), openpose_model=model, **inputs))
    assert float(images.max()) == 0.0
    assert all(not points(frame).any() for frame in poses)


def test_without_a_loader_the_estimator_uses_one_cached_default_model(comfy, monkeypatch):
    model, _ = oracle_model()
    built = []

    def build(source, device):
        built.append((source, device))
        return model.detector
    monkeypatch.setattr(pose_model, "_detector", build)
    for _ in range(2):
        run("OpenPoseCoreEstimator", image=video(1), **ESTIMATE)
    assert built == [(pose_model.WeightsSource(), torch.device("cpu"))], "the default model is built once"
    cached = pose_model.cached_model()
    assert cached.detector is model.detector
    assert pose_model.cached_model(precision="fp32") is not cached


# ---- the model loader and ComfyUI's model management ---------------------------------------------

def test_loader_reads_models_openpose_and_caches_per_settings(comfy, checkpoint_folder):
    openpose = Path(comfy.folder_paths.models_dir) / "openpose"
    openpose.symlink_to(checkpoint_folder, target_is_directory=True)
    choices = PACK.NODE_CLASS_MAPPINGS["OpenPoseCoreModelLoader"].INPUT_TYPES()["required"]["body_model"][0]
    assert set(DEFAULT_FILENAMES.values()) <= set(choices)
    inputs = dict(body_model="body_pose_model.pth", hand_model="hand_pose_model.pth", face_model="facenet.pth",
                  hub_repo=DEFAULT_REPO, device="cpu", precision="auto")
    model, = run("OpenPoseCoreModelLoader", **inputs)
    assert run("OpenPoseCoreModelLoader", **inputs)[0] is model, "a second run reuses the loaded model"
    assert model.detector._hand_model is None, "hand weights are read only when a run needs them"
    assert (openpose / "body_pose_model.safetensors").is_file(), "converted once, beside the .pth"

    management = comfy.model_management
    images, poses = result(run("OpenPoseCoreEstimator", image=torch.full((1, 64, 64, 3), 0.3),
                               openpose_model=model, **{**ESTIMATE, "resolution": 64}))
    check_image(images, 1, (64, 64))
    assert [patcher.model for patcher in management.current_loaded_models] == [model.detector.body_model]
    management.unload_all_models()  # what "Free model and node cache" does
    assert management.current_loaded_models == []
    model.ready(hands=False, face=False)
    assert len(management.current_loaded_models) == 1, "the next run loads it again through model management"


def test_a_weights_name_cannot_lead_out_of_the_model_folders(comfy, checkpoint_dir):
    """ComfyUI passes only listed choices, but a prompt sent to its API may name any path."""
    (Path(comfy.folder_paths.models_dir) / "openpose").mkdir()
    (Path(comfy.folder_paths.models_dir) / "body_pose_model.pth").symlink_to(checkpoint_dir / "body_pose_model.pth")
    for outside in ("../body_pose_model.pth", str(checkpoint_dir / "body_pose_model.pth")):
        with pytest.raises(pose_model.WeightsError, match="named by its place in the openpose model folders"):
            run("OpenPoseCoreModelLoader", body_model=outside, hand_model="hand_pose_model.pth",
                face_model="facenet.pth", hub_repo=DEFAULT_REPO, device="cpu", precision="fp32")


def test_missing_weights_are_downloaded_into_models_openpose(comfy, hf_env, checkpoint_dir):
    openpose = Path(comfy.folder_paths.models_dir) / "openpose"
    openpose.mkdir()
    (openpose / "body_pose_model.pth").symlink_to(checkpoint_dir / "body_pose_model.pth")
    model, = run("OpenPoseCoreModelLoader", body_model="body_pose_model.pth", hand_model="hand_pose_model.pth",
                 face_model="facenet.pth", hub_repo=DEFAULT_REPO, device="cpu", precision="fp32")
    assert not (openpose / "hand_pose_model.pth").exists()
    model.ready(hands=True, face=False)
    assert (openpose / "hand_pose_model.pth").is_file(), "fetched on first use of hands"
    assert not (openpose / "facenet.pth").exists()
    choices = PACK.NODE_CLASS_MAPPINGS["OpenPoseCoreModelLoader"].INPUT_TYPES()["required"]["hand_model"][0]
    assert "hand_pose_model.pth" in choices, "downloaded files are listed"


def test_an_unreachable_hub_names_the_file_and_the_folder(comfy, hf_env):
    hf_env.set_offline()
    with pytest.raises(Exception, match=r"body_pose_model\.pth.*openpose"):
        run("OpenPoseCoreModelLoader", body_model="body_pose_model.pth", hand_model="hand_pose_model.pth",
            face_model="facenet.pth", hub_repo=DEFAULT_REPO, device="cpu", precision="auto")


def test_half_precision_turns_the_preset_reduced(comfy):
    model, _ = oracle_model()
    half = pose_model.PoseModel(model.detector, load_device="cpu", offload_device="cpu", precision="half")
    assert half.preset("reference").reduced_precision and half.preset("reference").body_scales == (0.5,)
    full = pose_model.PoseModel(model.detector, load_device="cpu", offload_device="cpu", precision="fp32")
    assert not full.preset("fast").reduced_precision and full.preset("fast").hand_sizes == (368,)


# ---- POSE_KEYPOINT from other packs --------------------------------------------------------------

def joint_colours(image: torch.Tensor, xy: np.ndarray) -> list:
    pixels = (image[0] * 255).round().to(torch.uint8).numpy()
    return [tuple(int(v) for v in pixels[int(y), int(x)]) for x, y in xy]


def test_controlnet_aux_openpose_keypoints_render_where_that_pack_draws_them(comfy):
    # controlnet_aux: coordinates normalised by the padded detect image (704 x 512), canvas = unpadded 700 x 512
    truth = standing(704, 512, scale=0.9, left=0.05).people[0].body_array()[:, :2]
    normalised = truth / [704, 512]
    frame = {"people": [{"pose_keypoints_2d": np.column_stack([normalised, np.ones(18)]).ravel().tolist(),
                         "face_keypoints_2d": None, "hand_left_keypoints_2d": None, "hand_right_keypoints_2d": None}],
             "canvas_width": 700, "canvas_height": 512}
    image, = run("OpenPoseCoreRenderPose", pose_keypoint=[frame], width=0, height=0, fit="stretch", body=True,
                 hands=True, face=True, scale_stick_for_xinsr_cn=False)
    check_image(image, 1, (700, 512))
    assert joint_colours(image, normalised * [700, 512]) == list(BODY_COLORS)


def test_dwpose_pixel_keypoints_render_at_their_pixels(comfy):
    # DWPose: pixels of the original input, canvas = the input size; one dict instead of a list
    body = standing(1920, 1080, scale=0.8, left=0.1).people[0].body_array()[:, :2]
    frame = {"people": [{"pose_keypoints_2d": np.column_stack([body, np.ones(18)]).ravel().tolist(),
                         "face_keypoints_2d": None, "hand_left_keypoints_2d": None, "hand_right_keypoints_2d": None}],
             "canvas_width": 1920, "canvas_height": 1080}
    image, = run("OpenPoseCoreRenderPose", pose_keypoint=frame, width=960, height=540, fit="stretch", body=True,
                 hands=True, face=True, scale_stick_for_xinsr_cn=False)
    check_image(image, 1, (960, 540))
    assert joint_colours(image, body / 2) == list(BODY_COLORS)


def test_our_keypoints_keep_real_confidences_for_save(comfy):
    frames = [standing(hands=True)]
    ours = convert.PoseKeypoint([pack_frame(frame) for frame in frames])
    assert points(ours[0])[:, 2].max() == 1.0, "the dicts carry visibility"
    run("OpenPoseCoreSavePoseJSON", pose_keypoint=ours, filename_prefix="scores", coordinates="pixels",
        confidence="score")
    saved = json.loads(Path(comfy.folder_paths.get_output_directory(), "scores_00001_.json").read_text())
    assert set(points(saved[0])[:, 2]) == {0.9} and set(points(saved[0], key="hand_left_keypoints_2d")[:, 2]) == {0.8}
    ours[0]["people"][0]["pose_keypoints_2d"][0] += 10.0  # another pack edits the dicts in place
    assert convert.to_frames(ours)[0].people[0].body[0].x == pytest.approx(frames[0].people[0].body[0].x + 10.0)


# ---- load / save ------------------------------------------------------------------------------------

def test_save_writes_body25_when_a_person_has_feet(comfy):
    """Feet read from a BODY_25 file survive Load -> Save; poses without feet stay COCO-18."""
    body25 = [value for index in range(25) for value in (100.0 + index, 200.0 + index, 0.9)]
    text = json.dumps({"people": [{"pose_keypoints_2d": body25}], "canvas_width": 640, "canvas_height": 480})
    loaded, = run("OpenPoseCoreLoadPoseJSON", file="none", json_text=text, coordinates="auto")
    for prefix, poses in (("feet", loaded), ("coco", pose_keypoint(standing()))):
        run("OpenPoseCoreSavePoseJSON", pose_keypoint=poses, filename_prefix=prefix, coordinates="pixels",
            confidence="score")
    output = Path(comfy.folder_paths.get_output_directory())
    saved = json.loads((output / "feet_00001_.json").read_text())[0]["people"][0]["pose_keypoints_2d"]
    assert len(saved) == 75 and saved[3 * 19:] == body25[3 * 19:]
    assert len(points(json.loads((output / "coco_00001_.json").read_text())[0])) == 18


def test_save_numbers_files_like_save_image_and_load_reads_them_back(comfy):
    poses = pose_keypoint(standing(), standing(left=0.2))
    output = Path(comfy.folder_paths.get_output_directory())
    for _ in range(2):
        saved = run("OpenPoseCoreSavePoseJSON", pose_keypoint=poses, filename_prefix="dance/take",
                    coordinates="normalized", confidence="visibility")
    assert saved["ui"]["pose_files"] == [{"filename": "take_00002_.json", "subfolder": "dance", "type": "output"}]
    assert sorted(path.name for path in (output / "dance").iterdir()) == ["take_00001_.json", "take_00002_.json"]
    written = json.loads((output / "dance" / "take_00002_.json").read_text())
    assert points(written[0]).max() <= 1.0, "normalised"

    inputs = Path(comfy.folder_paths.get_input_directory())
    (inputs / "poses").mkdir()
    (output / "dance" / "take_00002_.json").rename(inputs / "poses" / "take.json")
    load = PACK.NODE_CLASS_MAPPINGS["OpenPoseCoreLoadPoseJSON"]
    assert "poses/take.json" in load.INPUT_TYPES()["required"]["file"][0]
    loaded, = run("OpenPoseCoreLoadPoseJSON", file="poses/take.json", json_text="", coordinates="auto")
    assert np.allclose(points(loaded[1]), points(poses[1]), atol=1e-6)
    before = load.IS_CHANGED(file="poses/take.json", json_text="", coordinates="auto")
    (inputs / "poses" / "take.json").write_text(json.dumps(poses[:1]))
    assert load.IS_CHANGED(file="poses/take.json", json_text="", coordinates="auto") != before
    # a prompt sent to the API may name any path: none outside the input folder is read
    (inputs.parent / "secret.json").write_text(json.dumps(poses[:1]))
    for outside in ("../secret.json", str(inputs.parent / "secret.json")):
        with pytest.raises(ValueError, match="is not a file in ComfyUI's input folder"):
            run("OpenPoseCoreLoadPoseJSON", file=outside, json_text="", coordinates="auto")
        with pytest.raises(ValueError, match="is not a file in ComfyUI's input folder"):
            load.IS_CHANGED(file=outside, json_text="", coordinates="auto")


def test_load_reads_a_folder_of_one_frame_files_as_a_sequence(comfy):
    """CMU OpenPose writes a video as one JSON file per frame: the folder is offered (ending in /) and
    read as one sequence in natural order (frame_10 after frame_9)."""
    folder = Path(comfy.folder_paths.get_input_directory()) / "cmu_clip"
    folder.mkdir()
    for index in range(11):
        (folder / f"frame_{index}_keypoints.json").write_text(json.dumps(pose_keypoint(standing(left=0.01 * index))[0]))
    load = PACK.NODE_CLASS_MAPPINGS["OpenPoseCoreLoadPoseJSON"]
    choices = load.INPUT_TYPES()["required"]["file"][0]
    assert "cmu_clip/" in choices and "cmu_clip/frame_10_keypoints.json" in choices
    loaded, = run("OpenPoseCoreLoadPoseJSON", file="cmu_clip/", json_text="", coordinates="auto")
    check_pose_keypoint(loaded, 11, (512, 768))
    assert np.allclose([points(frame)[1, 0] - points(loaded[0])[1, 0] for frame in loaded], 5.12 * np.arange(11))
    before = load.IS_CHANGED(file="cmu_clip/", json_text="", coordinates="auto")
    (folder / "frame_3_keypoints.json").write_text(json.dumps(pose_keypoint(standing())[0]))
    assert load.IS_CHANGED(file="cmu_clip/", json_text="", coordinates="auto") != before


def test_load_reads_pasted_text_and_needs_something_to_read(comfy):
    text = json.dumps(pose_keypoint(standing())[0])  # a single frame dict, as editors export
    loaded, = run("OpenPoseCoreLoadPoseJSON", file="none", json_text=text, coordinates="auto")
    check_pose_keypoint(loaded, 1, (512, 768))
    with pytest.raises(ValueError, match="choose a file or paste"):
        run("OpenPoseCoreLoadPoseJSON", file="none", json_text="  ", coordinates="auto")


# ---- editing --------------------------------------------------------------------------------------

EDIT = dict(flip_horizontal=False, scale=1.0, rotate=0.0, translate_x=0.0, translate_y=0.0, pivot="canvas",
            people="", canvas_width=0, canvas_height=0, canvas_mode="pad_or_crop")


def test_flip_swaps_left_and_right_about_the_chosen_pivot(comfy):
    frame = standing(left=-0.2)  # off centre
    original = points(pose_keypoint(frame)[0])
    flipped, = run("OpenPoseCoreEditPose", pose_keypoint=pose_keypoint(frame), **{**EDIT, "flip_horizontal": True})
    body = points(flipped[0])
    assert body[4, 0] == pytest.approx(511 - original[7, 0]), "the new right wrist is the mirrored left wrist"
    in_place, = run("OpenPoseCoreEditPose", pose_keypoint=pose_keypoint(frame),
                    **{**EDIT, "flip_horizontal": True, "pivot": "person"})
    body = points(in_place[0])
    assert body[:, 0].min() + body[:, 0].max() == pytest.approx(original[:, 0].min() + original[:, 0].max())


def test_edits_apply_to_the_chosen_people_only(comfy):
    two = PoseFrame(standing(left=-0.25).people + standing(left=0.25).people, 512, 768)
    moved, = run("OpenPoseCoreEditPose", pose_keypoint=pose_keypoint(two),
                 **{**EDIT, "translate_x": 10.0, "scale": 2.0, "pivot": "person", "people": "-1, 7"})
    before = pose_keypoint(two)[0]
    assert np.allclose(points(moved[0], 0), points(before, 0))
    spread = lambda body: np.ptp(body[:, 1])  # noqa: E731
    assert spread(points(moved[0], 1)) == pytest.approx(2 * spread(points(before, 1)))


@pytest.mark.parametrize("mode,size,scale", [("pad_or_crop", (1024, 768), 1.0), ("stretch", (256, 384), 0.5),
                                             ("fit", (1024, 1024), 4 / 3)])
def test_canvas_modes(comfy, mode, size, scale):
    frame = standing()
    out, = run("OpenPoseCoreEditPose", pose_keypoint=pose_keypoint(frame),
               **{**EDIT, "canvas_width": size[0], "canvas_height": size[1], "canvas_mode": mode})
    check_pose_keypoint(out, 1, size)
    body, original = points(out[0]), points(pose_keypoint(frame)[0])
    assert np.ptp(body[:, 1]) == pytest.approx(scale * np.ptp(original[:, 1]), rel=1e-3)


def test_select_people_keeps_or_removes_and_skips_missing_people(comfy):
    frames = [PoseFrame(standing(left=-0.25).people + standing(left=0.25).people, 512, 768), standing()]
    kept, = run("OpenPoseCoreSelectPeople", pose_keypoint=pose_keypoint(*frames), people="1", mode="keep")
    assert [len(frame["people"]) for frame in kept] == [1, 0]
    assert np.allclose(points(kept[0]), points(pose_keypoint(frames[0])[0], 1))
    removed, = run("OpenPoseCoreSelectPeople", pose_keypoint=pose_keypoint(*frames), people="0", mode="remove")
    assert [len(frame["people"]) for frame in removed] == [1, 0]
    with pytest.raises(ValueError, match="people"):
        run("OpenPoseCoreSelectPeople", pose_keypoint=pose_keypoint(*frames), people="first", mode="keep")


def test_remove_parts_drops_groups_and_named_joints(comfy):
    out, = run("OpenPoseCoreRemoveParts", pose_keypoint=pose_keypoint(standing(hands=True)), body=False,
               left_hand=True, right_hand=False, face=False, feet=False, joints="nose, right_ankle", people="")
    person = out[0]["people"][0]
    assert person["hand_left_keypoints_2d"] is None and person["hand_right_keypoints_2d"] is not None
    body = points(out[0])
    assert not body[[0, 10]].any() and body[[1, 13], 2].all()


def test_retarget_gives_the_action_the_characters_proportions(comfy):
    character = standing(scale=0.6)
    action = [standing(left=0.05 * k) for k in range(3)]
    out, report = run("OpenPoseCoreRetargetProportions", reference_pose=pose_keypoint(character),
                      target_pose=pose_keypoint(*action), reference_frame=0, reference_person=0, target_person=0,
                      height="reference", anchor="neck", overrides="", percentile=75.0)
    forearm = lambda body: np.linalg.norm(body[4, :2] - body[3, :2])  # noqa: E731
    want = forearm(points(pose_keypoint(character)[0]))
    assert all(forearm(points(frame)) == pytest.approx(want) for frame in out)
    assert "right_forearm: x0.600 (measured)" in report
    with pytest.raises(ValueError, match="overrides"):
        run("OpenPoseCoreRetargetProportions", reference_pose=pose_keypoint(character),
            target_pose=pose_keypoint(*action), reference_frame=0, reference_person=0, target_person=0,
            height="reference", anchor="neck", overrides="thigh:2", percentile=75.0)


def test_interpolate_puts_in_betweens_between_keyframes(comfy):
    a, b = standing(left=-0.1), standing(left=0.1)
    out, = run("OpenPoseCoreInterpolatePoses", keyframes=pose_keypoint(a), frames_between=3, easing="linear",
               more_keyframes=pose_keypoint(b))
    assert len(out) == 5
    first, middle, last = (points(out[k]) for k in (0, 2, 4))
    assert np.allclose(middle[:, :2], (first[:, :2] + last[:, :2]) / 2)
    with pytest.raises(ValueError, match="two keyframes"):
        run("OpenPoseCoreInterpolatePoses", keyframes=pose_keypoint(a), frames_between=3, easing="linear")


def test_pose_from_skeleton_image_reads_a_rendered_map_back(comfy):
    poses = pose_keypoint(standing(), standing(left=0.15))
    maps, = run("OpenPoseCoreRenderPose", pose_keypoint=poses, width=0, height=0, fit="stretch", body=True,
                hands=False, face=False, scale_stick_for_xinsr_cn=False)
    read, = run("OpenPoseCorePoseFromSkeletonImage", skeleton_image=maps, hands=False, face=False)
    for got, want in zip(read, poses):
        assert np.abs(points(got)[:, :2] - points(want)[:, :2]).max() <= 1.5


def test_pose_from_skeleton_image_reads_transparent_maps_and_names_a_bad_frame(comfy):
    """A map saved with a transparent background (a 4-channel IMAGE) is read over black, as the library
    reads it; a frame that is no map is named in the error."""
    poses = pose_keypoint(standing(), standing(left=0.15))
    maps, = run("OpenPoseCoreRenderPose", pose_keypoint=poses, width=0, height=0, fit="stretch", body=True,
                hands=False, face=False, scale_stick_for_xinsr_cn=False)
    alpha = (maps.amax(dim=-1, keepdim=True) > 0).float()
    read, = run("OpenPoseCorePoseFromSkeletonImage", skeleton_image=torch.cat([maps, alpha], dim=-1), hands=False,
                face=False)
    for got, want in zip(read, poses):
        assert np.abs(points(got)[:, :2] - points(want)[:, :2]).max() <= 1.5
    with pytest.raises(ValueError, match="^image 1: not an OpenPose skeleton map"):
        run("OpenPoseCorePoseFromSkeletonImage", skeleton_image=torch.cat([maps[:1], torch.ones_like(maps[:1])]),
            hands=False, face=False)


def test_render_pose_warns_which_frames_a_stretched_batch_distorts(comfy, caplog):
    poses = pose_keypoint(standing(512, 768), standing(768, 512), standing(1024, 1536), standing(600, 400))
    inputs = dict(pose_keypoint=poses, width=0, height=0, body=True, hands=False, face=False,
                  scale_stick_for_xinsr_cn=False)
    image, = run("OpenPoseCoreRenderPose", fit="stretch", **inputs)
    check_image(image, 4, (512, 768))     # still stretched: saved workflows keep their output
    assert [record.message for record in caplog.records if record.levelname == "WARNING"] == [
        "Render Pose: frames 1, 3 (of 4) have a canvas of another shape than frame 0's 512 x 768 and are stretched "
        "out of proportion to 512 x 768; set fit to contain to keep their proportions"]
    caplog.clear()
    run("OpenPoseCoreRenderPose", fit="contain", **inputs)
    run("OpenPoseCoreRenderPose", fit="stretch", **{**inputs, "pose_keypoint": poses[::2]})
    assert not [record for record in caplog.records if record.levelname == "WARNING"]


def test_render_pose_stick_width(comfy):
    body = [None] * 18
    body[1], body[2] = Keypoint(50, 50), Keypoint(150, 50)     # neck to right shoulder: a horizontal stick
    inputs = dict(pose_keypoint=pose_keypoint(PoseFrame([Person(body=body)], 200, 100)), width=0, height=0,
                  fit="stretch", body=True, hands=False, face=False, scale_stick_for_xinsr_cn=False)

    def thickness(**stick):
        image, = run("OpenPoseCoreRenderPose", **inputs, **stick)
        column = (image[0, :, 100] * 255).round().numpy()
        return int((column == LIMB_COLORS[0]).all(axis=1).sum())

    assert (thickness(), thickness(stick_width=4), thickness(stick_width=8)) == (9, 9, 17)
    spec = PACK.NODE_CLASS_MAPPINGS["OpenPoseCoreRenderPose"].INPUT_TYPES()["optional"]["stick_width"]
    assert spec[0] == "INT" and (spec[1]["default"], spec[1]["min"], spec[1]["max"]) == (4, 1, 1024)
    with pytest.raises(ValueError, match="stick_width must be a whole number from 1 to 1024, got 0"):
        thickness(stick_width=0)


def test_render_and_skeleton_image_nodes_report_every_frame_and_can_be_cancelled(comfy):
    poses = pose_keypoint(*[standing(left=0.1 + 0.05 * k) for k in range(4)])
    render = dict(pose_keypoint=poses, width=0, height=0, fit="stretch", body=True, hands=False, face=False,
                  scale_stick_for_xinsr_cn=False)
    seen = []
    comfy.utils.set_progress_bar_global_hook(lambda value, total, preview, node_id=None: seen.append((value, total)))
    maps, = run("OpenPoseCoreRenderPose", **render)
    read, = run("OpenPoseCorePoseFromSkeletonImage", skeleton_image=maps, hands=False, face=False)
    assert seen == [(k, 4) for k in range(1, 5)] * 2 and len(maps) == len(read) == 4
    comfy.utils.set_progress_bar_global_hook(
        lambda value, total, preview, node_id=None: comfy.model_management.interrupt_current_processing())
    with pytest.raises(comfy.model_management.InterruptProcessingException):
        run("OpenPoseCoreRenderPose", **render)
    with pytest.raises(comfy.model_management.InterruptProcessingException):
        run("OpenPoseCorePoseFromSkeletonImage", skeleton_image=maps, hands=False, face=False)
    comfy.utils.set_progress_bar_global_hook(None)


CLEAN_UP = dict(fill_gaps=3, smooth=True, frame_rate=30.0, min_cutoff=0.5, beta=10.0, two_way=True)


def jittery_walk(frames: int = 40, seed: int = 0) -> list:
    """Two people (as another pack gives them: no ids, listed in a random order); the left one stands still,
    the right one walks right; every point jitters by 2 px, and the walker's left wrist is missing in frames
    10-11."""
    rng = np.random.default_rng(seed)
    video_frames = []
    for time in range(frames):
        still, walker = standing(left=-0.25).people[0], standing(left=0.1 + 0.004 * time).people[0]
        for person in (still, walker):
            person.body = [Keypoint(p.x + rng.normal(0, 2), p.y + rng.normal(0, 2), p.confidence) for p in person.body]
        if time in (10, 11):
            walker.body[7] = None
        people = [still, walker] if rng.random() < 0.5 else [walker, still]
        video_frames.append(PoseFrame(people, 512, 768))
    return pose_keypoint(*video_frames)


def test_track_and_smooth_gives_ids_fills_dropouts_and_removes_jitter(comfy):
    poses = jittery_walk()
    cleaned, = run("OpenPoseCoreTrackAndSmoothPoses", pose_keypoint=poses, **CLEAN_UP)
    check_pose_keypoint(cleaned, 40, (512, 768))
    still_raw = np.array([points(frame, int(points(frame, 0)[1, 0] > points(frame, 1)[1, 0])) for frame in poses])
    still = []
    for frame in cleaned:
        assert sorted(ids(frame)) == [0, 1]
        still.append(points(frame, ids(frame).index(0)))
        assert points(frame, ids(frame).index(1))[7, 2] == 1.0, "the walker's missing wrist is filled"
    still = np.array(still)
    jitter = lambda body: np.std(body[:, :, :2] - body[:, :, :2].mean(axis=0), axis=0).mean()  # noqa: E731
    assert jitter(still) < 0.4 * jitter(still_raw)
    truth = points(pose_keypoint(standing(left=-0.25))[0])[:, :2]
    error = lambda body: np.hypot(*(body[:, :, :2] - truth).transpose(2, 0, 1)).mean()  # noqa: E731
    assert error(still) < 0.5 * error(still_raw)
    plain, = run("OpenPoseCoreTrackAndSmoothPoses", pose_keypoint=poses,
                 **{**CLEAN_UP, "fill_gaps": 0, "smooth": False})
    assert without_ids(plain) == without_ids(poses) and [len(ids(frame)) for frame in plain] == [2] * 40
    assert points(plain[10], ids(plain[10]).index(1))[7, 2] == 0.0


def test_track_and_smooth_keeps_the_ids_it_is_given(comfy):
    """Poses already tracked (one person selected by id from the estimator's output) keep their ids."""
    poses = jittery_walk()
    first, = run("OpenPoseCoreTrackAndSmoothPoses", pose_keypoint=poses, **{**CLEAN_UP, "smooth": False})
    walker, = run("OpenPoseCoreSelectPeople", pose_keypoint=first, people="1", mode="keep", people_by="person_id")
    again, = run("OpenPoseCoreTrackAndSmoothPoses", pose_keypoint=walker, **CLEAN_UP)
    assert [ids(frame) for frame in again] == [[1]] * 40


def test_a_nan_frame_is_named_and_stops_the_run(comfy):
    model, _ = oracle_model()
    frames = video(4)
    frames[2, 5, 5, 1] = float("nan")
    with pytest.raises(ValueError, match=r"^image 2: contains NaN or infinite values$"):
        run("OpenPoseCoreEstimator", image=frames, openpose_model=model, **ESTIMATE)
