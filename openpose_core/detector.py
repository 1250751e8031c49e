"""``OpenposeDetector``: the public detector, a drop-in for ``controlnet_aux.OpenposeDetector``.

Images go in (PIL or numpy, one or a list); PoseFrames (pixels of the detect image, real
confidences), reference-shaped results or rendered ControlNet maps come out. Networks are any torch
modules with the reference modules' forward contracts, so tests can inject oracle networks.
"""
from __future__ import annotations

import numbers
import os
import threading
import warnings
from typing import Callable, List, Optional, Sequence

import cv2
import numpy as np
import torch
from PIL import Image

from .compat import PoseResult, to_pose_results
from .edit import resize
from .estimate.body import BodyParse, estimate_bodies, torch_runner
from .estimate.face import estimate_faces, face_box
from .estimate.hand import estimate_hands, hand_boxes
from .formats import frame_to_dict
from .image import as_rgb_uint8, check_network_input, check_resolution, output_size, resize_for_detection
from .pose import Keypoint, Person, PoseFrame
from .presets import PART_PRESETS, REDUCED_DTYPES, Preset, autocast_dtype, check_device, get_preset
from .render import render_pose

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)`` after each chunk of images; raising from it stops the batch."""


def _people_from_parse(parse: BodyParse) -> List[Person]:
    people = []
    for row in parse.subset:
        body = [None if index < 0 else Keypoint(*map(float, parse.candidate[int(index), :3])) for index in row[:18]]
        people.append(Person(body=body, score=float(row[18])))
    return people


def _device_of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters(), torch.empty(0)).device


def _dtype_of(module: torch.nn.Module) -> torch.dtype:
    return next(module.parameters(), torch.empty(0)).dtype


def _ready(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Eval mode on ``device`` in channels-last layout (~10% faster convolutions on CPU; same maps to ~1e-6).

    Weights must be float32, or fp16/bf16 (run under autocast, see :func:`presets.autocast_dtype`): the
    inputs are float32, and torch's error for any other dtype comes from deep inside a convolution."""
    dtype = _dtype_of(model)
    if dtype != torch.float32 and dtype not in REDUCED_DTYPES:
        raise ValueError(f"{type(model).__name__}: weights in {dtype} are not supported; use float32 "
                         "(or float16 / bfloat16, or preset='fast' for reduced precision)")
    return model.eval().to(device, memory_format=torch.channels_last)


def _flag(value, name: str) -> bool:
    """A yes/no argument as a bool. Strings are refused: "False" or "disable" would read as True."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _image_list(images):
    """``images`` as :meth:`OpenposeDetector.detect_batch` walks them (len and slices): a sequence or a
    ``B x H x W x C`` array or tensor as it is, another iterable (a generator) as a list. One image is
    refused: walking an ``H x W x C`` array would take its rows for images."""
    if (isinstance(images, (str, os.PathLike)) or (hasattr(images, "mode") and hasattr(images, "convert"))
            or getattr(images, "ndim", 4) < 4):
        raise TypeError(f"detect_batch takes a list of images or a B x H x W x C batch, got one "
                        f"{type(images).__name__}: for one image use detect()")
    return images if hasattr(images, "__len__") and hasattr(images, "__getitem__") else list(images)


class OpenposeDetector:
    """Body, hand and face keypoints of every person, and the standard OpenPose ControlNet maps."""

    def __init__(self, body_model: torch.nn.Module, hand_model: Optional[torch.nn.Module] = None,
                 face_model: Optional[torch.nn.Module] = None, *, hand_loader: Optional[Callable] = None,
                 face_loader: Optional[Callable] = None, preset="reference"):
        self.device = _device_of(body_model)
        self.body_model = _ready(body_model, self.device)
        self._hand_model, self._face_model = (None if model is None else _ready(model, self.device)
                                              for model in (hand_model, face_model))
        self._loaders = {"hand": hand_loader, "face": face_loader}
        self._load_lock = threading.Lock()
        self.preset = get_preset(preset)

    @classmethod
    def from_pretrained(cls, pretrained_model_or_path: str = "lllyasviel/Annotators", filename: Optional[str] = None,
                        hand_filename: Optional[str] = None, face_filename: Optional[str] = None,
                        cache_dir: Optional[str] = None, local_files_only: bool = False, *, device=None,
                        preset="reference") -> "OpenposeDetector":
        """Load the body network now and the hand/face networks on first use (controlnet-aux's signature)."""
        from .weights import load_network

        if device is not None:
            check_device(device)

        def loader(kind: str, name: Optional[str]):
            return lambda: load_network(kind, pretrained_model_or_path, filename=name, cache_dir=cache_dir,
                                        local_files_only=local_files_only)

        body = loader("body", filename)()
        detector = cls(body, hand_loader=loader("hand", hand_filename), face_loader=loader("face", face_filename),
                       preset=preset)
        return detector.to(device) if device is not None else detector

    def to(self, device) -> "OpenposeDetector":
        """Move every loaded network (and later-loaded ones) to ``device``; a device this PyTorch cannot use
        is a ValueError that leaves the detector where it was."""
        self.device = check_device(device)
        for model in (self.body_model, self._hand_model, self._face_model):
            if model is not None:
                _ready(model, self.device)
        return self

    @property
    def hand_model(self) -> torch.nn.Module:
        return self._lazy("hand")

    @property
    def face_model(self) -> torch.nn.Module:
        return self._lazy("face")

    def _lazy(self, kind: str) -> torch.nn.Module:
        attribute = f"_{kind}_model"
        with self._load_lock:
            if getattr(self, attribute) is None:
                loader = self._loaders[kind]
                if loader is None:
                    raise RuntimeError(f"this detector has no {kind} network; pass {kind}_model= or use from_pretrained")
                setattr(self, attribute, _ready(loader(), self.device))
            return getattr(self, attribute)

    # --- detection -------------------------------------------------------------------------------

    def detect_batch(self, images: Sequence, *, detect_resolution: int = 512, include_hand: bool = False,
                     include_face: bool = False, preset=None, batch_size: int = 8,
                     progress: Optional[ProgressCallback] = None) -> List[PoseFrame]:
        """One PoseFrame per image, in the pixel space of the detect image (the input resized like the
        reference; ``detect_resolution=0`` keeps the input size). Equal-size images share network batches.

        ``images`` is a list (any sequence or iterable) of images, or a ``B x H x W x C`` array or tensor.
        ``batch_size`` images at a time are prepared and run (memory); ``progress`` is called after each."""
        images = _image_list(images)
        include_hand, include_face = _flag(include_hand, "include_hand"), _flag(include_face, "include_face")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        preset = get_preset(preset if preset is not None else self.preset)
        frames: List[PoseFrame] = []
        for start in range(0, len(images), batch_size):
            chunk = [self._prepare(image, detect_resolution, start + offset, preset)
                     for offset, image in enumerate(images[start:start + batch_size])]
            frames.extend(self._detect_prepared(chunk, include_hand, include_face, preset))
            if progress is not None:
                progress(len(frames), len(images))
        return frames

    def detect(self, image, **options) -> PoseFrame:
        """PoseFrame of one image; options as :meth:`detect_batch`."""
        return self.detect_batch([image], **options)[0]

    @staticmethod
    def _prepare(image, detect_resolution: int, index: int, preset: Preset) -> np.ndarray:
        """The detect image, within the size limits of :mod:`openpose_core.image` (else an ImageError)."""
        name = f"image {index}"
        prepared = resize_for_detection(as_rgb_uint8(image, name), detect_resolution, name)
        check_network_input(prepared.shape[0], prepared.shape[1], preset.body_scales, name)
        return prepared

    def _detect_prepared(self, images_rgb: List[np.ndarray], include_hand: bool, include_face: bool,
                         preset: Preset) -> List[PoseFrame]:
        images_bgr = [np.ascontiguousarray(image[:, :, ::-1]) for image in images_rgb]
        runner = torch_runner(self.body_model, self.device, self._autocast(self.body_model, preset))
        parses = estimate_bodies(images_bgr, runner, preset.body_scales, preset.peak_mode)
        frames = [PoseFrame(_people_from_parse(parse), image.shape[1], image.shape[0])
                  for parse, image in zip(parses, images_rgb)]
        if include_hand:
            self._add_hands(frames, images_bgr, preset)
        if include_face:
            self._add_faces(frames, images_bgr, preset)
        return frames

    def _autocast(self, model: torch.nn.Module, preset: Preset) -> Optional[torch.dtype]:
        return autocast_dtype(preset, self.device, _dtype_of(model))

    def _add_hands(self, frames: List[PoseFrame], images_bgr: List[np.ndarray], preset: Preset) -> None:
        """All hand crops of all people of all images through the hand network together, per size."""
        jobs = [(person, box, image) for frame, image in zip(frames, images_bgr) for person in frame.people
                for box in hand_boxes(person.body, frame.width, frame.height)]
        if not jobs:
            return
        found = estimate_hands([(image, box[:3]) for _, box, image in jobs], self.hand_model, device=self.device,
                               sizes=preset.hand_sizes, autocast_dtype=self._autocast(self.hand_model, preset))
        for (person, box, _), points in zip(jobs, found):
            if box.is_left:
                person.left_hand = points
            else:
                person.right_hand = points

    def _add_faces(self, frames: List[PoseFrame], images_bgr: List[np.ndarray], preset: Preset) -> None:
        """All faces of all people of all images through the face network in one batch."""
        jobs = [(person, box, image) for frame, image in zip(frames, images_bgr) for person in frame.people
                for box in [face_box(person.body, frame.width, frame.height)] if box is not None]
        if not jobs:
            return
        found = estimate_faces([(image, box) for _, box, image in jobs], self.face_model, device=self.device,
                               autocast_dtype=self._autocast(self.face_model, preset))
        for (person, _, _), points in zip(jobs, found):
            person.face = points if any(point is not None for point in points) else None

    def detect_poses(self, oriImg: np.ndarray, include_hand: bool = False, include_face: bool = False) -> List[PoseResult]:
        """controlnet-aux's ``detect_poses``: reference-shaped results, coordinates normalised to the image."""
        frame = self.detect(oriImg, detect_resolution=0, include_hand=include_hand, include_face=include_face)
        return to_pose_results(frame)

    # --- the controlnet-aux call ----------------------------------------------------------------

    def __call__(self, input_image, detect_resolution: int = 512, image_resolution: int = 512,
                 include_body: bool = True, include_hand: bool = False, include_face: bool = False,
                 hand_and_face: Optional[bool] = None, output_type="pil", *, mode: Optional[str] = None,
                 preset=None, return_pose: bool = False, stick_scaling: bool = False, **kwargs):
        """The ControlNet OpenPose map of an image (or a list of images), as controlnet-aux draws it.

        ``mode`` takes an sd-webui-controlnet preprocessor name (``openpose``, ``openpose_face``,
        ``openpose_faceonly``, ``openpose_hand``, ``openpose_full``) instead of the include flags;
        ``preset`` picks speed/accuracy (see :mod:`openpose_core.presets`); ``return_pose=True`` returns
        ``(map, PoseFrame)``; ``stick_scaling`` thickens limbs for xinsir-style ControlNets.

        comfyui_controlnet_aux's keywords work too: ``xinsr_stick_scaling`` (= ``stick_scaling``) and
        ``image_and_json=True``, which returns ``(map, pose dict)``: POSE_KEYPOINT-style, normalised, with
        the map's size as its canvas. Other keywords are ignored with a warning (controlnet-aux ignores them
        silently), so a misspelt option does not pass unnoticed.
        """
        if hand_and_face is not None:
            warnings.warn("hand_and_face is deprecated. Use include_hand and include_face instead.", DeprecationWarning)
            include_hand = include_face = _flag(hand_and_face, "hand_and_face")
        if "return_pil" in kwargs:
            warnings.warn("return_pil is deprecated. Use output_type instead.", DeprecationWarning)
            output_type = "pil" if kwargs.pop("return_pil") else "np"
        if "xinsr_stick_scaling" in kwargs:
            stick_scaling = _flag(kwargs.pop("xinsr_stick_scaling"), "xinsr_stick_scaling")
        else:
            stick_scaling = _flag(stick_scaling, "stick_scaling")
        image_and_json = _flag(kwargs.pop("image_and_json", False), "image_and_json")
        include_body, return_pose = _flag(include_body, "include_body"), _flag(return_pose, "return_pose")
        check_resolution(image_resolution, "image_resolution")  # before detection, not after it
        if image_and_json and return_pose:
            raise ValueError("return_pose and image_and_json each choose what comes with the map: pass one")
        if kwargs:
            warnings.warn(f"OpenposeDetector ignores these keyword arguments: {', '.join(sorted(kwargs))}",
                          UserWarning, stacklevel=2)
        if isinstance(output_type, bool):
            warnings.warn("Passing `True` or `False` to `output_type` is deprecated.", DeprecationWarning)
            output_type = "pil" if output_type else "np"
        if output_type not in ("pil", "np"):
            raise ValueError(f"output_type must be 'pil' or 'np', not {output_type!r}")
        if mode is not None:
            if mode not in PART_PRESETS:
                raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(PART_PRESETS)}")
            include_body, include_hand, include_face = PART_PRESETS[mode]
        batch = isinstance(input_image, (list, tuple))
        images = list(input_image) if batch else [input_image]
        frames = self.detect_batch(images, detect_resolution=detect_resolution, include_hand=include_hand,
                                   include_face=include_face, preset=preset)
        outputs = []
        for index, frame in enumerate(frames):
            canvas = render_pose(frame, body=include_body, hands=include_hand, face=include_face,
                                 stick_scaling=stick_scaling)
            height, width = output_size(frame.height, frame.width, image_resolution, f"image {index}")
            canvas = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LINEAR)
            result = Image.fromarray(canvas) if output_type == "pil" else canvas
            if return_pose:
                result = (result, frame)
            elif image_and_json:
                result = (result, frame_to_dict(resize(frame, width, height), coordinates="normalized"))
            outputs.append(result)
        return outputs if batch else outputs[0]
