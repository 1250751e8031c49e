"""The example workflows in workflows/: ComfyUI's UI format, only our node types and a listed set of core
ones, links whose types match, every widget value valid for its input; the one that needs no model files
runs end to end through our nodes.

The core nodes' inputs below were read from ComfyUI 0.3.64 (nodes.py, comfy_extras); core itself is not
installed for tests.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple

import pytest
import torch

import comfy_stub

PACK = comfy_stub.load_pack("openpose_core_pack_workflows")
OURS = PACK.NODE_CLASS_MAPPINGS
WORKFLOWS = sorted((comfy_stub.PACK / "workflows").glob("*.json"))
MODEL_SUFFIXES = (".safetensors", ".ckpt", ".pth", ".pt", ".bin")
WIDGET_TYPES = ("INT", "FLOAT", "STRING", "BOOLEAN")


# ---- value checks ----------------------------------------------------------------------------------

def number(kind: str, low, high) -> Callable:
    def check(value):
        assert isinstance(value, int if kind == "INT" else (int, float)) and not isinstance(value, bool)
        assert low <= value <= high
    return check


def one_of(*options) -> Callable:
    def check(value):
        assert value in options
    return check


def text(value):
    assert isinstance(value, str)


def model_file(value):
    assert isinstance(value, str) and value.endswith(MODEL_SUFFIXES)


def shipped_image(value):
    assert (comfy_stub.PACK / "workflows" / value).is_file(), f"{value} is not shipped in workflows/"


class Core(NamedTuple):
    """A core node: link inputs (name -> type, optional ones marked with a trailing '?'), widgets in the
    order the frontend stores them (``None`` name: a frontend-only widget, not sent to the server), outputs."""

    inputs: Dict[str, str]
    widgets: List[tuple]
    outputs: List[str]


SEED_CONTROL = one_of("fixed", "increment", "decrement", "randomize")
CORE = {
    "LoadImage": Core({}, [("image", shipped_image), (None, one_of("image"))], ["IMAGE", "MASK"]),
    "RepeatImageBatch": Core({"image": "IMAGE"}, [("amount", number("INT", 1, 4096))], ["IMAGE"]),
    "CheckpointLoaderSimple": Core({}, [("ckpt_name", model_file)], ["MODEL", "CLIP", "VAE"]),
    "CLIPTextEncode": Core({"clip": "CLIP"}, [("text", text)], ["CONDITIONING"]),
    "ControlNetLoader": Core({}, [("control_net_name", model_file)], ["CONTROL_NET"]),
    "ControlNetApplyAdvanced": Core(
        {"positive": "CONDITIONING", "negative": "CONDITIONING", "control_net": "CONTROL_NET", "image": "IMAGE",
         "vae?": "VAE"},
        [("strength", number("FLOAT", 0, 10)), ("start_percent", number("FLOAT", 0, 1)),
         ("end_percent", number("FLOAT", 0, 1))], ["CONDITIONING", "CONDITIONING"]),
    "EmptyLatentImage": Core({}, [("width", number("INT", 16, 16384)), ("height", number("INT", 16, 16384)),
                                  ("batch_size", number("INT", 1, 4096))], ["LATENT"]),
    "KSampler": Core(
        {"model": "MODEL", "positive": "CONDITIONING", "negative": "CONDITIONING", "latent_image": "LATENT"},
        [("seed", number("INT", 0, 2**64 - 1)), (None, SEED_CONTROL), ("steps", number("INT", 1, 10000)),
         ("cfg", number("FLOAT", 0, 100)), ("sampler_name", one_of("euler", "euler_ancestral", "dpmpp_2m")),
         ("scheduler", one_of("normal", "karras", "simple")), ("denoise", number("FLOAT", 0, 1))], ["LATENT"]),
    "VAEDecode": Core({"samples": "LATENT", "vae": "VAE"}, [], ["IMAGE"]),
    "SaveImage": Core({"images": "IMAGE"}, [("filename_prefix", text)], []),
    "PreviewImage": Core({"images": "IMAGE"}, [], []),
    "PreviewAny": Core({"source": "*"}, [], []),
}
FRONTEND_ONLY = {"Note", "MarkdownNote"}
"""Frontend-only nodes: never sent to the server."""


def our_spec(node_type: str) -> Core:
    """The same description of one of our nodes, read off its declarations."""
    cls = OURS[node_type]
    declared = cls.INPUT_TYPES()
    inputs, widgets = {}, []
    for section in ("required", "optional"):
        for name, spec in declared.get(section, {}).items():
            kind, options = spec[0], (spec[1] if len(spec) > 1 else {})
            if isinstance(kind, list):
                widgets.append((name, one_of(*kind)))
            elif kind in WIDGET_TYPES:
                widgets.append((name, our_widget(kind, options)))
            else:
                inputs[name + ("?" if section == "optional" else "")] = kind
    return Core(inputs, widgets, list(cls.RETURN_TYPES))


def our_widget(kind: str, options: dict) -> Callable:
    if kind in ("INT", "FLOAT"):
        return number(kind, options["min"], options["max"])
    return text if kind == "STRING" else one_of(True, False)


def spec(node_type: str) -> Core:
    return our_spec(node_type) if node_type in OURS else CORE[node_type]


def widget_inputs(node: dict) -> Dict[str, object]:
    """Widget name -> value of a UI-format node (frontend-only widgets dropped)."""
    widgets = spec(node["type"]).widgets
    values = node.get("widgets_values", [])
    assert len(values) == len(widgets), \
        f"node {node['id']} ({node['type']}): {len(values)} widget values, expected {len(widgets)}"
    return {name: value for (name, _), value in zip(widgets, values) if name is not None}


def api_prompt(workflow: dict) -> dict:
    """The API-format prompt (what the frontend POSTs to /prompt) of a UI-format workflow."""
    links = {link[0]: link for link in workflow["links"]}
    prompt = {}
    for node in workflow["nodes"]:
        if node["type"] in FRONTEND_ONLY or node.get("mode", 0) != 0:
            continue
        inputs = dict(widget_inputs(node))
        for slot in node.get("inputs", []):
            if slot.get("link") is not None:
                _, origin, origin_slot, *_ = links[slot["link"]]
                inputs[slot["name"]] = [str(origin), origin_slot]
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt


# ---- the checks ------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def comfy(tmp_path, monkeypatch):
    """ComfyUI stand-ins (our nodes list their choices through folder_paths)."""
    return comfy_stub.install(monkeypatch, tmp_path)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_there_are_example_workflows():
    names = {path.stem for path in WORKFLOWS}
    assert {"photo_to_controlnet", "video_frames_to_pose_maps", "retarget_character_to_action"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.stem)
def test_only_known_nodes_with_valid_widgets(path):
    workflow = load(path)
    assert workflow.get("version") == 0.4 and workflow["nodes"]
    for node in workflow["nodes"]:
        if node["type"] in FRONTEND_ONLY:
            assert all(isinstance(value, str) for value in node.get("widgets_values", []))
            continue
        assert node["type"] in OURS or node["type"] in CORE, f"unknown node type {node['type']}"
        for (name, check), value in zip(spec(node["type"]).widgets, node["widgets_values"]):
            try:
                check(value)
            except AssertionError:
                raise AssertionError(f"node {node['id']} ({node['type']}): {name} = {value!r} is not valid") from None
        widget_inputs(node)  # the count


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.stem)
def test_links_connect_matching_types_and_every_required_input(path):
    workflow = load(path)
    nodes = {node["id"]: node for node in workflow["nodes"]}
    assert workflow["last_node_id"] >= max(nodes)
    assert workflow["last_link_id"] >= max(link[0] for link in workflow["links"])
    for link_id, origin, origin_slot, target, target_slot, kind in workflow["links"]:
        output, slot = nodes[origin]["outputs"][origin_slot], nodes[target]["inputs"][target_slot]
        assert link_id in output["links"] and slot["link"] == link_id
        assert output["type"] == kind == spec(nodes[origin]["type"]).outputs[origin_slot]
        wanted = {name.rstrip("?"): value for name, value in spec(nodes[target]["type"]).inputs.items()}
        assert wanted[slot["name"]] in (kind, "*"), f"link {link_id}: {kind} into {slot['name']}"
    for node in workflow["nodes"]:
        if node["type"] in FRONTEND_ONLY:
            continue
        linked = {slot["name"] for slot in node.get("inputs", []) if slot.get("link") is not None}
        required = {name for name in spec(node["type"]).inputs if not name.endswith("?")}
        assert required <= linked, f"node {node['id']} ({node['type']}): {sorted(required - linked)} not connected"


def execute(prompt: dict, node_id: str, done: dict):
    """Run our nodes of an API prompt (core output nodes only receive their inputs), ComfyUI-style."""
    if node_id not in done:
        node = prompt[node_id]
        inputs = {name: execute(prompt, value[0], done)[value[1]] if isinstance(value, list) else value
                  for name, value in node["inputs"].items()}
        if node["class_type"] in OURS:
            cls = OURS[node["class_type"]]
            output = getattr(cls(), cls.FUNCTION)(**inputs)
            done[node_id] = output.get("result", ()) if isinstance(output, dict) else output
        else:
            assert not CORE[node["class_type"]].outputs, "only core output nodes can be stood in for"
            done[node_id] = inputs
    return done[node_id]


def test_the_retarget_example_runs_as_shipped(comfy):
    prompt = api_prompt(load(comfy_stub.PACK / "workflows" / "retarget_character_to_action.json"))
    done = {}
    for node_id in prompt:
        execute(prompt, node_id, done)
    sinks = [done[node_id] for node_id, node in prompt.items() if node["class_type"] in ("SaveImage", "PreviewImage")]
    assert sinks and all(isinstance(sink["images"], torch.Tensor) and sink["images"].ndim == 4 for sink in sinks)
    saved = list(Path(comfy.folder_paths.get_output_directory()).rglob("*.json"))
    assert len(saved) == 1 and len(json.loads(saved[0].read_text())) > 2
    reports = [done[node_id]["source"] for node_id, node in prompt.items() if node["class_type"] == "PreviewAny"]
    assert reports and "measured" in reports[0]

