"""Found by a bug hunt of the detection entry points: arguments and images a user plausibly passes that
gave a bare error from deep inside torch/Python, silently wrong results, or wasted a whole detection.
Each case gives the right result or a one-line error naming the argument."""
import numpy as np
import pytest
import torch
from PIL import Image

import oracle
from openpose_core import OpenposeDetector
from openpose_core.image import ImageError, as_rgb_uint8
from openpose_core.models import NETWORKS
from openpose_core.presets import PRESETS, Preset, autocast_dtype
from openpose_core.weights import DEFAULT_FILENAMES, WeightsError, load_network

GRAY = 40  # differs from the network pad grey (128), which the oracle needs to find the image


class CountingNet(oracle.OracleBodyNet):
    """The oracle body net, counting the images it was run on."""

    images = 0

    def forward(self, batch):
        self.images += len(batch)
        return super().forward(batch)


@pytest.fixture
def detector():
    return OpenposeDetector(CountingNet(oracle.grid_of_people(2, 2, 1)))


def image():
    return np.full((64, 64, 3), GRAY, np.uint8)


def message_of(error_type, call, *args, **kwargs) -> str:
    with pytest.raises(error_type) as info:
        call(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


# --- images --------------------------------------------------------------------------------------

def test_a_unit_float_image_that_overshoots_1_is_still_read_as_0_to_1():
    """Bicubic upscaling of a 0..1 image, or float rounding, goes a little past 1.0: that image used to be
    read as 0..255, so every pixel turned (almost) black."""
    half = np.full((4, 4, 3), 0.5, np.float32)
    for peak in (1.0000001, 1.02, 1.5):
        overshooting = half.copy()
        overshooting[0, 0, 0] = peak
        rgb = as_rgb_uint8(overshooting)
        assert rgb[1, 1].tolist() == [128, 128, 128] and rgb[0, 0, 0] == 255
    step = torch.zeros(1, 3, 8, 8)
    step[..., 4:] = 1.0
    upscaled = torch.nn.functional.interpolate(step, scale_factor=2, mode="bicubic")[0].permute(1, 2, 0)
    assert upscaled.max() > 1.0
    assert as_rgb_uint8(upscaled)[0, 12].tolist() == [255, 255, 255]
    assert as_rgb_uint8(Image.new("F", (2, 2), 1.0000001))[0, 0].tolist() == [255, 255, 255]
    dark = np.full((2, 2, 3), 1.6, np.float32)  # past the margin: 0..255
    assert as_rgb_uint8(dark)[0, 0].tolist() == [2, 2, 2]


def test_a_channels_first_tensor_gets_a_hint():
    message = message_of(ImageError, as_rgb_uint8, torch.rand(3, 32, 48), "frame")
    assert message == ("frame: expected H x W or H x W x 1/2/3/4 pixels, got shape (3, 32, 48) "
                       "(channels first? put them last, e.g. tensor.permute(1, 2, 0))")


# --- arguments -----------------------------------------------------------------------------------

def test_resolutions_beyond_float_range_are_refused_by_name(detector):
    wide = np.full((1, 10, 3), GRAY, np.uint8)
    for bad in (1.7e308, 10**400):  # were OverflowError from inside the size arithmetic
        assert message_of(ValueError, detector.detect, wide, detect_resolution=bad) == \
            "detect_resolution is over the limit of 64,000,000 pixels (MAX_PIXELS)"
    assert message_of(ValueError, detector, image(), image_resolution=10**400) == \
        "image_resolution is over the limit of 64,000,000 pixels (MAX_PIXELS)"
    assert detector.body_model.images == 0


def test_image_resolution_is_checked_before_detection(detector):
    """Not after the networks ran over every image (a video batch with hands takes minutes)."""
    with pytest.raises(ValueError, match=r"^image_resolution must be a number of pixels >= 0, got '512'$"):
        detector([image()] * 3, image_resolution="512", include_hand=True)
    assert detector.body_model.images == 0


@pytest.mark.parametrize("bad", [0, -1, 2.5, "8", True])
def test_batch_size_must_be_a_whole_number_of_at_least_1(detector, bad):
    """0 was range()'s error, -1 returned no frames at all, 2.5 a TypeError."""
    assert message_of(ValueError, detector.detect_batch, [image()], batch_size=bad) == \
        f"batch_size must be a whole number >= 1, got {bad!r}"


def test_detect_batch_refuses_one_image_and_takes_any_iterable(detector):
    """An H x W x 3 array used to be walked row by row: H gray images 3 px wide, detected one by one."""
    for one in (np.full((4, 64, 3), GRAY, np.uint8), Image.new("RGB", (8, 8)), torch.rand(8, 8, 3), "photo.png"):
        message = message_of(TypeError, detector.detect_batch, one)
        assert message.startswith("detect_batch takes a list of images or a B x H x W x C batch, got one ")
        assert message.endswith(": for one image use detect()")
    assert detector.body_model.images == 0
    frames = detector.detect_batch((image() for _ in range(3)), detect_resolution=64, batch_size=np.int64(2))
    assert frames == detector.detect_batch([image()] * 3, detect_resolution=64)
    assert len(frames) == 3 and [len(frame.people) for frame in frames] == [2, 2, 2]


@pytest.mark.filterwarnings("ignore:hand_and_face is deprecated:DeprecationWarning")
def test_yes_no_arguments_given_as_strings_are_refused(detector):
    """"False" or comfyui_controlnet_aux's "disable" read as True: hands were run (or a missing hand
    network reported) when the caller asked for none."""
    cases = [
        (detector.detect, {"include_hand": "False"}, "include_hand must be True or False, got 'False'"),
        (detector.detect, {"include_face": "disable"}, "include_face must be True or False, got 'disable'"),
        (detector, {"include_hand": "False"}, "include_hand must be True or False, got 'False'"),
        (detector, {"include_body": "False"}, "include_body must be True or False, got 'False'"),
        (detector, {"hand_and_face": "False"}, "hand_and_face must be True or False, got 'False'"),
        (detector, {"stick_scaling": "False"}, "stick_scaling must be True or False, got 'False'"),
        (detector, {"xinsr_stick_scaling": b"0"}, "xinsr_stick_scaling must be True or False, got b'0'"),
        (detector, {"image_and_json": "no"}, "image_and_json must be True or False, got 'no'"),
        (detector, {"return_pose": "no"}, "return_pose must be True or False, got 'no'"),
    ]
    for call, options, expected in cases:
        assert message_of(ValueError, call, image(), **options) == expected
    assert detector.body_model.images == 0
    frame = detector.detect(image(), detect_resolution=64, include_hand=np.bool_(False), include_face=0)
    assert len(frame.people) == 2 and all(person.left_hand is None for person in frame.people)


@pytest.mark.parametrize("options,expected", [
    ({"body_scales": ()}, "Preset body_scales must be a non-empty tuple of numbers > 0, e.g. (0.5,), got ()"),
    ({"body_scales": 0.5}, "Preset body_scales must be a non-empty tuple of numbers > 0, e.g. (0.5,), got 0.5"),
    ({"body_scales": (0.5, -1.0)}, "Preset body_scales must be a non-empty tuple of numbers > 0, e.g. (0.5,), "
                                   "got (0.5, -1.0)"),
    ({"hand_sizes": ()}, "Preset hand_sizes must be a non-empty tuple of multiples of 8, e.g. (368,), got ()"),
    ({"hand_sizes": (100,)}, "Preset hand_sizes must be a non-empty tuple of multiples of 8, e.g. (368,), got (100,)"),
    ({"peak_mode": "Grid"}, "Preset peak_mode must be one of exact, grid, got 'Grid'"),
    ({"peak_mode": "grid", "body_scales": (0.5, 1.0)},
     "Preset peak_mode 'grid' works at one body scale, got (0.5, 1.0)"),
])
def test_a_custom_preset_that_cannot_run_is_refused_when_made(options, expected):
    """Were a ZeroDivisionError, a "too elongated" image, an error after the body network ran, hands that
    silently found nothing (no sizes), or a grid search silently dropping all scales but the first."""
    assert message_of(ValueError, Preset, "mine", **options) == expected


def test_a_custom_preset_takes_lists_and_stays_hashable(detector):
    preset = Preset("mine", body_scales=[0.5], hand_sizes=[np.int64(184)])
    assert preset.body_scales == (0.5,) and preset.hand_sizes == (184,) and hash(preset)
    assert len(detector.detect(image(), detect_resolution=64, preset=preset).people) == 2


# --- devices and precision ------------------------------------------------------------------------

def test_unusable_devices_are_clear_errors_that_leave_the_detector_working(detector, monkeypatch):
    """``to('cuda')`` without a GPU was torch's AssertionError, and the detector was left pointing at
    CUDA, so every later detection failed too."""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert message_of(ValueError, detector.to, "cuda") == "device 'cuda': PyTorch sees 0 CUDA GPU(s) here (use 'cpu')"
    assert message_of(ValueError, detector.to, "mps") == "device 'mps': MPS is not available here (use 'cpu')"
    assert message_of(ValueError, detector.to, "gpu") == "device 'gpu': not a device name (cpu, cuda, cuda:1, mps)"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert message_of(ValueError, detector.to, "cuda:1") == \
        "device 'cuda:1': PyTorch sees 1 CUDA GPU(s) here (use 'cpu')"
    assert detector.device == torch.device("cpu")
    assert len(detector.detect(image(), detect_resolution=64).people) == 2


def test_loaders_check_the_device_before_reading_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    missing = tmp_path / "nothing here"  # a WeightsError, were the weights looked for first
    with pytest.raises(ValueError, match=r"^device 'cuda': PyTorch sees 0 CUDA GPU\(s\) here"):
        load_network("hand", missing, device="cuda")
    with pytest.raises(ValueError, match=r"^device 'cuda:0': PyTorch sees 0 CUDA GPU\(s\) here"):
        OpenposeDetector.from_pretrained(missing, device="cuda:0")
    with pytest.raises(WeightsError):
        load_network("hand", missing, device="cpu")


class ReducedPrecisionFront(torch.nn.Module):
    """The oracle behind a 1x1 identity convolution whose weights are ``dtype``: a body net stored in
    half precision. The test images' inputs (-0.34375 and the pad's 0) are exact in fp16 and bf16."""

    def __init__(self, skeletons, dtype):
        super().__init__()
        self.front = torch.nn.Conv2d(3, 3, 1, bias=False)
        self.front.weight.data = torch.eye(3).reshape(3, 3, 1, 1)
        self.front.to(dtype)
        self.oracle = oracle.OracleBodyNet(skeletons)

    def forward(self, batch):
        return self.oracle(self.front(batch).float())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_half_precision_body_net_runs_under_autocast(dtype):
    """Was "Input type (float) and bias type (c10::Half) should be the same" from inside a convolution,
    unless the preset happened to switch autocast on."""
    skeletons = oracle.grid_of_people(2, 2, 1)
    expected = OpenposeDetector(oracle.OracleBodyNet(skeletons)).detect(image(), detect_resolution=128)
    frame = OpenposeDetector(ReducedPrecisionFront(skeletons, dtype)).detect(image(), detect_resolution=128)
    assert len(frame.people) == 2 and frame == expected
    assert autocast_dtype(PRESETS["reference"], torch.device("cpu"), dtype) == dtype
    assert autocast_dtype(PRESETS["reference"], torch.device("cpu")) is None


def test_a_float64_body_net_is_refused_by_name():
    message = message_of(ValueError, OpenposeDetector, ReducedPrecisionFront(oracle.grid_of_people(1, 1, 1),
                                                                             torch.float64))
    assert message == ("ReducedPrecisionFront: weights in torch.float64 are not supported; use float32 "
                       "(or float16 / bfloat16, or preset='fast' for reduced precision)")


# --- weights -------------------------------------------------------------------------------------

def test_a_checkpoint_of_strided_tensors_loads_and_is_converted(tmp_path, published_states, no_torch_load_later):
    """Transposed views in a .pth (a checkpoint re-saved by a conversion script) made the .safetensors
    conversion raise safetensors' "non contiguous tensor" ValueError, so a valid checkpoint never loaded."""
    state = published_states["hand"]
    strided = {key: value.transpose(0, 1).contiguous().transpose(0, 1) if value.ndim == 4 else value
               for key, value in state.items()}
    assert not all(value.is_contiguous() for value in strided.values())
    torch.save(strided, tmp_path / DEFAULT_FILENAMES["hand"])
    for _ in range(2):  # the second load reads the conversion (torch.load is refused by then)
        net = load_network("hand", tmp_path)
        published = NETWORKS["hand"].to_published(net.state_dict())
        assert all(torch.equal(published[key], state[key]) for key in state)
        no_torch_load_later()
    assert (tmp_path / "hand_pose_model.safetensors").is_file()


@pytest.fixture
def no_torch_load_later(monkeypatch):
    """Call it to make any later ``torch.load`` fail the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load called: this load should have come from the .safetensors conversion")
    return lambda: monkeypatch.setattr(torch, "load", refuse)
