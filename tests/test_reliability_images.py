"""Bad, odd and huge images at every library entry point (openpose_core.image, the detector).

Each input gives either the right pixels / people or a one-line ImageError (a ValueError) whose message
starts with the input's name. Size limits (MAX_INPUT_PIXELS, MAX_PIXELS, MAX_NET_PIXELS) are checked
before the memory they guard is allocated; tests/test_memory.py measures what detection does allocate.
"""
import io
import struct
import zlib

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import oracle
import reference_impl
from openpose_core import OpenposeDetector
from openpose_core import image as image_module
from openpose_core.image import (
    MAX_INPUT_PIXELS, MAX_NET_PIXELS, ImageError, as_rgb_uint8, check_network_input, read_image,
)

GRAY = 40  # differs from the network pad grey (128), which the oracle needs to find the image


def image_error(call, *args, **kwargs) -> str:
    """The one-line message of the ImageError ``call`` raises."""
    with pytest.raises(ImageError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message
    assert info.value.__cause__ is None
    return message


@pytest.fixture(scope="module")
def detector():
    return OpenposeDetector(oracle.OracleBodyNet(oracle.grid_of_people(2, 2, 1)))


def reference_hwc3():
    reference_impl.load()
    import sys
    return sys.modules["controlnet_aux.util"].HWC3


# --- PIL modes and numpy dtypes -> RGB uint8 ------------------------------------------------------

def palette_image():
    image = Image.new("P", (3, 2), 0)
    image.putpalette([10, 20, 30, 200, 100, 50] + [0, 0, 0] * 254)
    image.putpixel((1, 0), 1)
    return image


def transparent_palette_image():
    image = palette_image()
    image.info["transparency"] = 1  # index 1 is fully transparent: white over the white background
    return image


PIL_CASES = [  # image, expected RGB of pixel (0, 0) (and (1, 0) where the image differs there)
    (Image.new("L", (3, 2), 128), [(128, 128, 128)]),
    (Image.new("LA", (3, 2), (128, 0)), [(255, 255, 255)]),
    (Image.new("LA", (3, 2), (100, 255)), [(100, 100, 100)]),
    (Image.new("La", (3, 2), (50, 255)), [(50, 50, 50)]),
    (Image.new("1", (3, 2), 1), [(255, 255, 255)]),
    (palette_image(), [(10, 20, 30), (200, 100, 50)]),
    (transparent_palette_image(), [(10, 20, 30), (255, 255, 255)]),
    (Image.new("PA", (3, 2), (0, 0)), [(255, 255, 255)]),
    (Image.fromarray(np.full((2, 3), 128 * 257, np.uint16)), [(128, 128, 128)]),   # I;16
    (Image.new("I;16B", (3, 2), 200 * 257), [(200, 200, 200)]),
    (Image.new("I", (3, 2), 77 * 257), [(77, 77, 77)]),      # 16-bit data in a 32-bit image
    (Image.new("I", (3, 2), 77), [(77, 77, 77)]),             # 8-bit data in a 32-bit image
    (Image.new("F", (3, 2), 0.5), [(128, 128, 128)]),         # 0..1 floats
    (Image.new("F", (3, 2), 200.0), [(200, 200, 200)]),       # 0..255 floats
    (Image.new("CMYK", (3, 2), (0, 255, 255, 0)), [(255, 0, 0)]),
    (Image.new("HSV", (3, 2), (85, 255, 255)), [(0, 255, 0)]),
    (Image.new("RGBa", (3, 2), (100, 50, 0, 255)), [(100, 50, 0)]),
    (Image.new("RGBA", (3, 2), (0, 0, 0, 0)), [(255, 255, 255)]),
    (Image.new("YCbCr", (3, 2), (120, 128, 128)), [(120, 120, 120)]),
]


@pytest.mark.parametrize("image,expected", PIL_CASES, ids=[f"{case[0].mode}-{i}" for i, case in enumerate(PIL_CASES)])
def test_pil_modes(image, expected):
    rgb = as_rgb_uint8(image, "picture")
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    for x, colour in enumerate(expected):
        assert tuple(rgb[0, x]) == colour


def test_uint8_gray_and_rgba_match_the_reference_hwc3():
    hwc3 = reference_hwc3()
    rng = np.random.default_rng(0)
    for shape in [(37, 53), (37, 53, 1), (37, 53, 4)]:
        array = rng.integers(0, 256, shape, dtype=np.uint8)
        assert np.array_equal(as_rgb_uint8(array), hwc3(array))
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert as_rgb_uint8(rgb) is rgb  # used in place, no copy


def test_large_rgba_is_converted_in_blocks_with_the_same_pixels(monkeypatch):
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (301, 97, 4), dtype=np.uint8)
    whole = reference_hwc3()(rgba)
    monkeypatch.setattr(image_module, "_BLOCK_PIXELS", 97 * 7)  # 7 rows per block, a ragged last block
    assert np.array_equal(as_rgb_uint8(rgba), whole)
    floats = rgba[:, :, :3].astype(np.float32) / 255
    assert np.array_equal(as_rgb_uint8(floats), rgba[:, :, :3])


NUMPY_CASES = [  # array, expected value of every channel of pixel (0, 0)
    (np.ones((2, 3), bool), 255),
    (np.full((2, 3, 3), 99 * 257, np.uint16), 99),
    (np.full((2, 3, 3), 99 * 257, ">u2"), 99),                  # big-endian 16-bit
    (np.full((2, 3, 3), 300, np.int32), 255),                   # other integers are clipped to 0..255
    (np.full((2, 3, 3), -4, np.int8), 0),
    (np.full((2, 3), 0.5, np.float16), 128),
    (np.full((2, 3, 3), 0.25, np.float32), 64),                 # ComfyUI-style 0..1
    (np.full((2, 3, 3), 17.0, np.float64), 17),                 # 0..255 floats
    (np.full((2, 3, 3), -3.0, np.float64), 0),
    (np.full((2, 3, 2), 1.0, np.float32), 255),                 # gray + alpha floats
    (torch.full((2, 3, 3), 0.5), 128),                          # a ComfyUI IMAGE frame as a tensor
    (torch.full((2, 3, 3), 0.5, dtype=torch.bfloat16), 128),    # numpy has no bfloat16
    (torch.full((2, 3, 3), 200, dtype=torch.uint8), 200),
]


@pytest.mark.parametrize("array,value", NUMPY_CASES, ids=[str(case[0].dtype) for case in NUMPY_CASES])
def test_numpy_dtypes(array, value):
    rgb = as_rgb_uint8(array, "frame")
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    assert (rgb == value).all()


BAD_INPUTS = [  # value, a fragment of the message (after the name)
    (np.full((4, 4, 3), np.nan, np.float32), "contains NaN or infinite values"),
    (np.array([[[0.5, np.inf, 0.5]]], np.float32), "contains NaN or infinite values"),
    (np.array([[[0.5, -np.inf, 0.5]]]), "contains NaN or infinite values"),
    (torch.tensor([[[0.5, float("nan"), 0.5]]]), "contains NaN or infinite values"),
    (np.zeros((0, 5, 3), np.uint8), "the image is empty (5 x 0 pixels)"),
    (np.zeros((5, 0), np.uint8), "the image is empty (0 x 5 pixels)"),
    (Image.new("RGB", (0, 0)), "the image is empty (0 x 0 pixels)"),
    (np.zeros((1, 8, 8, 3), np.float32), "got shape (1, 8, 8, 3) (a batch?"),
    (np.zeros((8, 8, 5), np.uint8), "expected H x W or H x W x 1/2/3/4 pixels, got shape (8, 8, 5)"),
    (np.zeros(8, np.uint8), "got shape (8,)"),
    (np.zeros((4, 4, 3), complex), "unsupported pixel type complex128"),
    (np.zeros((4, 4, 3), object), "unsupported pixel type object"),
    (np.zeros((4, 4, 3), "U1"), "unsupported pixel type <U1"),
    ("photo.png", "got str (a file name? read it with openpose_core.image.read_image)"),
    (None, "expected a PIL image or a numpy array, got NoneType"),
    ([[0, 1], [2, 3]], "expected a PIL image or a numpy array, got list"),
]


@pytest.mark.parametrize("value,fragment", BAD_INPUTS, ids=[f"bad{i}" for i in range(len(BAD_INPUTS))])
def test_bad_inputs_name_the_input(value, fragment):
    message = image_error(as_rgb_uint8, value, "input 'x'")
    assert message.startswith("input 'x': ") and fragment in message


def test_the_detector_names_the_bad_image_in_a_batch(detector):
    good = np.full((64, 64, 3), GRAY, np.uint8)
    nan_frame = torch.rand(64, 64, 3)
    nan_frame[3, 4, 1] = float("nan")
    message = image_error(detector.detect_batch, [good, good, nan_frame], detect_resolution=64)
    assert message == "image 2: contains NaN or infinite values"
    assert image_error(detector, [good, np.zeros((0, 3))]).startswith("image 1: the image is empty")
    batch = torch.rand(3, 64, 64, 3)  # a ComfyUI IMAGE batch, frame by frame
    batch[1, 0, 0, 0] = float("inf")
    assert image_error(detector.detect_batch, batch, detect_resolution=64) == \
        "image 1: contains NaN or infinite values"


def test_every_representation_of_the_same_pixels_detects_the_same_people(detector):
    rgb = np.full((96, 128, 3), GRAY, np.uint8)
    expected = detector.detect(rgb, detect_resolution=128)
    assert len(expected.people) == 2
    same = [Image.fromarray(rgb), Image.fromarray(rgb[:, :, 0]), rgb[:, :, 0], rgb[:, :, :1],
            np.dstack([rgb, np.full((96, 128), 255, np.uint8)]), rgb.astype(np.uint16) * 257,
            rgb.astype(np.float32) / 255, torch.from_numpy(rgb.astype(np.float32) / 255), rgb.astype(np.float64),
            Image.fromarray(rgb[:, :, 0]).convert("P"), Image.fromarray(rgb.astype(np.uint16)[:, :, 0] * 257),
            np.asfortranarray(rgb), rgb[:, ::-1][:, ::-1]]
    assert detector.detect_batch(same, detect_resolution=128) == [expected] * len(same)


# --- sizes: 1x1, extreme aspect, huge ------------------------------------------------------------

def test_one_pixel_image(detector):
    frame = detector.detect(np.full((1, 1, 3), GRAY, np.uint8), detect_resolution=512)
    assert (frame.width, frame.height) == (512, 512) and len(frame.people) == 2
    frame = detector.detect(np.full((1, 1, 3), GRAY, np.uint8), detect_resolution=0)
    assert (frame.width, frame.height) == (1, 1)


@pytest.mark.parametrize("shape", [(1, 4000), (4000, 1)])
def test_extreme_aspect_at_a_detect_resolution_is_refused_by_size(detector, shape):
    wide = shape[0] == 1
    made = "2048000 x 512" if wide else "512 x 2048000"
    message = image_error(detector.detect, np.full(shape + (3,), GRAY, np.uint8), detect_resolution=512)
    assert message == f"image 0: resolution 512 would make a {made} image, over the limit of 64,000,000 pixels (MAX_PIXELS)"


def test_extreme_aspect_at_full_size_is_refused_by_the_network_limit(detector):
    message = image_error(detector.detect, np.full((1, 4000, 3), GRAY, np.uint8), detect_resolution=0)
    assert message == ("image 0: a 4000 x 1 image is too elongated for the body network (its 736000 x 184 input "
                       "at scale 0.5 would be 135,424,000 pixels, over MAX_NET_PIXELS (4,194,304)); crop or split it")
    message = image_error(detector.detect, np.full((4000, 1, 3), GRAY, np.uint8), detect_resolution=0)
    assert message == ("image 0: a 1 x 4000 image is too elongated for the body network (its 0 x 184 input "
                       "at scale 0.5 would be empty); crop or split it")
    message = image_error(detector.detect, np.full((64, 64 * 130, 3), GRAY, np.uint8), detect_resolution=0)
    assert "too elongated" in message and "over MAX_NET_PIXELS" in message
    # the accurate preset runs the network up to 736 px tall: its aspect limit is tighter
    assert "at scale 2" in image_error(detector.detect, np.full((64, 64 * 8, 3), GRAY, np.uint8),
                                       detect_resolution=0, preset="accurate")


def test_check_network_input_bounds():
    check_network_input(512, 512, (0.5, 1.0, 1.5, 2.0))
    check_network_input(184, 184 * 123, (0.5,))  # 184 x 22632 = 4,164,288 pixels: just fits
    with pytest.raises(ImageError, match="over MAX_NET_PIXELS"):
        check_network_input(184, 184 * 124, (0.5,))
    limit = MAX_NET_PIXELS // (736 * 8) * 8  # the widest 736-px-tall input that fits
    check_network_input(736, limit, (2.0,))
    with pytest.raises(ImageError):
        check_network_input(736, limit + 8, (2.0,))


def test_elongated_but_allowed_images_are_detected(detector):
    for shape in [(64, 512), (512, 64)]:
        frame = detector.detect(np.full(shape + (3,), GRAY, np.uint8), detect_resolution=0)
        assert (frame.height, frame.width) == shape


def test_a_20000_pixel_square_is_refused_at_full_size(detector):
    """At a detect resolution it is downscaled and detected, without a copy: tests/test_memory.py."""
    huge = np.zeros((20000, 20000, 3), np.uint8)  # calloc'd: untouched pages cost no memory
    message = image_error(detector.detect, huge, detect_resolution=0)
    assert message == ("image 0: 20000 x 20000 pixels exceeds the detection limit of 64,000,000 pixels (MAX_PIXELS); "
                       "pass a detect_resolution (e.g. 512) to downscale it")
    message = image_error(detector.detect, huge, detect_resolution=8100)
    assert message == ("image 0: resolution 8100 would make a 8128 x 8128 image, over the limit of 64,000,000 "
                       "pixels (MAX_PIXELS)")


def test_inputs_beyond_the_input_limit_are_refused_before_any_copy(detector):
    too_big = np.broadcast_to(np.uint8(GRAY), (30000, 20000, 3))  # 600 M pixels, no memory behind them
    message = image_error(detector.detect, too_big, detect_resolution=512)
    assert message == (f"image 0: 20000 x 30000 pixels exceeds the input limit of {MAX_INPUT_PIXELS:,} pixels "
                       "(MAX_INPUT_PIXELS); downscale it first")
    big_pil = Image.new("L", (1, 1))
    big_pil._size = (30000, 20000)  # what a lazily opened header says, before any decoding
    assert "exceeds the input limit" in image_error(as_rgb_uint8, big_pil, "pil")


def test_resolution_arguments_are_checked(detector):
    image = np.full((64, 64, 3), GRAY, np.uint8)
    for bad in (-512, float("nan"), float("inf"), "512", True):
        with pytest.raises(ValueError, match=r"^detect_resolution must be a number of pixels >= 0, got "):
            detector.detect(image, detect_resolution=bad)
    with pytest.raises(ValueError, match=r"^image_resolution must be a number of pixels >= 0, got -1$"):
        detector(image, detect_resolution=64, image_resolution=-1)
    assert image_error(detector, image, detect_resolution=64, image_resolution=0) == \
        "image 0: image_resolution 0 gives an empty 0 x 0 map"
    assert detector.detect(image, detect_resolution=None).width == 64  # None keeps the size, like 0
    assert image_error(detector.detect, np.full((120, 160, 3), GRAY, np.uint8), detect_resolution=17) == \
        ("image 0: resolution 17 gives an empty 0 x 0 detect image (sides are rounded to multiples of 64): use 32 "
         "or more, or 0 to keep the input size")
    assert detector.detect(image, detect_resolution=np.int64(128)).width == 128


def test_an_oversized_output_map_is_refused(detector):
    image = np.full((64, 64, 3), GRAY, np.uint8)
    message = image_error(detector, [image, image], detect_resolution=0, image_resolution=10000)
    assert message == ("image 0: image_resolution 10000 would make a 9984 x 9984 map, over the limit of "
                       "64,000,000 pixels (MAX_PIXELS)")


# --- files ---------------------------------------------------------------------------------------

def png_header_only(width, height) -> bytes:
    """A PNG whose header claims ``width x height`` 8-bit gray pixels, with one empty data chunk."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_read_image_decodes_common_files(tmp_path):
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert np.array_equal(read_image(tmp_path / "rgb.png"), rgb)
    sixteen = (rng.integers(0, 256, (20, 30), dtype=np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "gray16.png"), sixteen)
    assert np.array_equal(read_image(str(tmp_path / "gray16.png")), np.dstack([sixteen // 257] * 3))
    rgba = np.dstack([rgb, np.where(rng.random((20, 30)) < 0.5, 0, 255).astype(np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    assert np.array_equal(read_image(tmp_path / "rgba.png"), reference_hwc3()(rgba))
    palette_image().save(tmp_path / "palette.gif", transparency=1)
    assert [tuple(p) for p in read_image(tmp_path / "palette.gif")[0, :2]] == [(10, 20, 30), (255, 255, 255)]


def test_read_image_applies_exif_orientation(tmp_path):
    image = Image.fromarray(np.zeros((20, 30, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    image.save(tmp_path / "rotated.jpg", exif=exif)
    assert read_image(tmp_path / "rotated.jpg").shape == (30, 20, 3)


def test_read_image_errors_name_the_file(tmp_path, monkeypatch):
    text = tmp_path / "notes.png"
    text.write_text("not an image\n")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.png"
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(buffer, "PNG")
    truncated.write_bytes(buffer.getvalue()[:5000])
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(30000, 30000))
    cases = [
        (text, "not an image file (or a format Pillow cannot read)"),
        (empty, "not an image file (or a format Pillow cannot read)"),
        (tmp_path / "missing.png", "no such file"),
        (tmp_path, "is a folder, not an image file"),
        (truncated, "cannot decode the image (truncated or damaged?): OSError: "),
        (bomb, "refused by Pillow's decompression-bomb limit (PIL.Image.MAX_IMAGE_PIXELS): DecompressionBombError"),
    ]
    for path, fragment in cases:
        message = image_error(read_image, path)
        assert message.startswith(f"{path}: ") and fragment in message, message
    header_only = tmp_path / "header.png"
    header_only.write_bytes(png_header_only(300, 200))
    monkeypatch.setattr(image_module, "MAX_INPUT_PIXELS", 50_000)
    assert image_error(read_image, header_only) == (f"{header_only}: 300 x 200 pixels exceeds the input limit of "
                                                    "50,000 pixels (MAX_INPUT_PIXELS); downscale it first")


def test_a_lazily_opened_truncated_file_handed_to_the_detector(detector, tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.full((300, 300, 3), GRAY, np.uint8)).save(buffer, "PNG", compress_level=0)
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[:20000])
    with Image.open(path) as lazy:
        message = image_error(detector.detect, lazy)
    assert message.startswith("image 0: cannot read the RGB image: OSError: ")
