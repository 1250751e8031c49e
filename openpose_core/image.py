"""Input images at the library's edge: anything a user hands us becomes RGB uint8 H x W x 3, or a
one-line :class:`ImageError` naming the input; plus the reference's detect-resolution resize.

Size policy (every limit is a module constant, checked before the memory it guards is allocated):

``MAX_INPUT_PIXELS``
    The largest image accepted at all (2**29 pixels, e.g. 23000 x 23000). Converting an input to RGB
    uint8 works in blocks of rows, so it needs at most one RGB uint8 copy of the input plus ~40 MB of
    temporaries (none at all for a contiguous RGB uint8 array, which is used in place).
``MAX_PIXELS``
    The largest image detection and rendering work on (64,000,000 pixels, e.g. 8000 x 8000): the
    detect image after ``detect_resolution`` and the output map after ``image_resolution``. A 20000 x
    20000 input is fine at ``detect_resolution=512`` (it is downscaled first) and a clear error at
    ``detect_resolution=0`` (keep the size). Detection needs about 30 bytes per detect-image pixel
    (~2 GB at the limit), where the reference holds 57 float64 full-resolution maps (456 bytes/pixel).
``MAX_NET_PIXELS``
    The largest body-network input (2**22 pixels). The network sees the detect image scaled to a fixed
    height (184 px by default, up to 736 px with the ``accurate`` preset), so its input, and its
    ~750 MB of activations per million input pixels, grows with the aspect ratio alone: a 1 x 4000
    strip would need ~100 GB. Images more elongated than that (aspect ~120:1 by default, ~7.7:1 with
    ``accurate``) are refused. The reference has no such checks: it runs out of memory instead.
"""
from __future__ import annotations

import math
import numbers
import os
from typing import Sequence, Tuple, Union

import cv2
import numpy as np

MAX_PIXELS = 64_000_000
"""Largest detect image and output map (e.g. 8000 x 8000)."""

MAX_INPUT_PIXELS = 2**29
"""Largest input image accepted (536,870,912 pixels, e.g. 23000 x 23000); it is downscaled before detection."""

MAX_NET_PIXELS = 2**22
"""Largest body-network input (4,194,304 pixels, ~3 GB of activations): bounds the aspect ratio."""

UNIT_FLOAT_MAX = 1.5
"""A float image whose maximum is at most this is read as 0..1, else as 0..255. The margin above 1 keeps
a 0..1 image 0..1 when resampling overshot it (bicubic or Lanczos upscaling reaches ~1.1) or float rounding
gave 1.0000001; read as 0..255 it would turn black. A 0..255 image that dark is black either way."""

BODY_NET_HEIGHT = 368
"""The reference's ``boxsize``: the body network sees the detect image ``factor * 368`` px tall."""

_BLOCK_PIXELS = 1 << 20
"""Pixels converted at a time (bounds the temporaries of a conversion to ~40 MB)."""


class ImageError(ValueError):
    """An input that is not a usable image; the message is one line and names the input."""


def as_rgb_uint8(image, name: str = "image") -> np.ndarray:
    """RGB uint8 ``H x W x 3`` from a PIL image, a numpy array or a CPU/GPU torch tensor (H x W [x C]).

    Arrays may be gray, gray+alpha, RGB or RGBA. Alpha is composited over white like the reference.
    uint16 arrays and 16-bit PIL images are scaled by 1/257; 32-bit integer ("I") PIL images are read as
    16-bit when a value exceeds 255, else as 8-bit; other integers are clipped to 0..255; bool is 0/255;
    floats are taken as 0..1 when their maximum is <= ``UNIT_FLOAT_MAX`` (1.5), else 0..255 (clipped
    either way), and NaN or infinite values are an error. Palette images use their palette (and
    transparency). A contiguous RGB uint8 array is returned as is (not copied).
    """
    if hasattr(image, "convert") and hasattr(image, "mode"):  # PIL
        image = _pil_to_array(image, name)
    elif hasattr(image, "detach") and hasattr(image, "cpu") and hasattr(image, "numpy"):  # torch
        image = image.detach().cpu()
        image = (image.float() if image.is_floating_point() and image.element_size() < 4 else image).numpy()
    if not isinstance(image, np.ndarray):
        hint = " (a file name? read it with openpose_core.image.read_image)" if isinstance(image, (str, os.PathLike)) else ""
        raise ImageError(f"{name}: expected a PIL image or a numpy array, got {type(image).__name__}{hint}")
    array = image
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        channels_first = array.ndim == 3 and array.shape[0] in (1, 3, 4)
        hint = (" (a batch? pass the images one by one or as a list)" if array.ndim == 4 else
                " (channels first? put them last, e.g. tensor.permute(1, 2, 0))" if channels_first else "")
        raise ImageError(f"{name}: expected H x W or H x W x 1/2/3/4 pixels, got shape {tuple(image.shape)}{hint}")
    height, width, channels = array.shape
    if height == 0 or width == 0:
        raise ImageError(f"{name}: the image is empty ({width} x {height} pixels)")
    _check_input_size(width, height, name)
    if array.dtype == np.uint8 and channels == 3:
        return np.ascontiguousarray(array)
    to_uint8 = _uint8_converter(array, name)
    rgb = np.empty((height, width, 3), np.uint8)
    rows = max(1, _BLOCK_PIXELS // width)
    for top in range(0, height, rows):
        rgb[top:top + rows] = _to_rgb(to_uint8(array[top:top + rows]))
    return rgb


def read_image(path: Union[str, "os.PathLike[str]"], keep_alpha: bool = False) -> np.ndarray:
    """The RGB uint8 pixels of an image file (first frame; EXIF orientation applied, as ComfyUI's and
    diffusers' loaders do). Missing, unreadable, truncated, non-image and oversized files raise a
    one-line :class:`ImageError` naming the file; the size is checked from the header, before decoding.

    ``keep_alpha``: an image with transparency comes back RGBA (H x W x 4) instead of composited over
    white, for readers to whom transparent means something else (a skeleton map's black background).

    Pillow's own decompression-bomb guard (``PIL.Image.MAX_IMAGE_PIXELS``) applies first: files above
    twice that (~179 M pixels by default) are refused by it unless a caller raises it.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = os.fspath(path)
    try:
        with Image.open(name) as opened:
            _check_input_size(opened.width, opened.height, name)
            opened.load()
            return pil_pixels(ImageOps.exif_transpose(opened), name, keep_alpha)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a folder, not an image file") from None
    except PermissionError:
        raise ImageError(f"{name}: permission denied") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image file (or a format Pillow cannot read)") from None
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name}: refused by Pillow's decompression-bomb limit "
                         f"(PIL.Image.MAX_IMAGE_PIXELS): {_first_line(error)}") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:  # truncated or damaged data, codec errors
        raise ImageError(f"{name}: cannot decode the image (truncated or damaged?): {_first_line(error)}") from None
    except MemoryError:
        raise ImageError(f"{name}: not enough memory to decode the image") from None


def pil_pixels(image, name: str, keep_alpha: bool = False) -> np.ndarray:
    """The RGB uint8 pixels of a PIL image (transparency composited over white), or with ``keep_alpha``
    RGBA for an image with transparency (see :func:`read_image`)."""
    if keep_alpha and (image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info):
        return np.asarray(image.convert("RGBA"))
    return as_rgb_uint8(image, name)


def _check_input_size(width: int, height: int, name: str) -> None:
    if width * height > MAX_INPUT_PIXELS:
        raise ImageError(f"{name}: {width} x {height} pixels exceeds the input limit of {MAX_INPUT_PIXELS:,} "
                         "pixels (MAX_INPUT_PIXELS); downscale it first")


def _pil_to_array(image, name: str) -> np.ndarray:
    """The PIL image's pixels as a numpy array in a layout :func:`as_rgb_uint8` reads."""
    _check_input_size(image.width, image.height, name)
    mode = image.mode
    try:
        if mode in ("RGB", "RGBA", "L", "LA", "1") or mode.startswith("I;16") or mode == "F":
            return np.asarray(image)
        if mode == "I":
            values = np.asarray(image)
            if values.size and values.max() > 255:  # 16-bit data (e.g. a 16-bit PNG opened as "I")
                return np.clip(values, 0, 65535).astype(np.uint16)
            return values
        if mode in ("P", "PA", "RGBa"):
            return np.asarray(image.convert("RGBA"))
        if mode == "La":
            return np.asarray(image.convert("LA"))
        return np.asarray(image.convert("RGB"))  # CMYK, YCbCr, LAB, HSV, RGBX, ...
    except MemoryError:
        raise ImageError(f"{name}: not enough memory to convert the {image.width} x {image.height} image") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:  # lazy loads of damaged files, odd modes
        raise ImageError(f"{name}: cannot read the {mode} image: {_first_line(error)}") from None


def _uint8_converter(array: np.ndarray, name: str):
    """A function mapping blocks of ``array`` to uint8 (one pass over ``array`` for floats: range and
    finiteness, decided for the whole image)."""
    kind, size = array.dtype.kind, array.dtype.itemsize
    if kind == "u" and size == 1:
        return lambda block: block
    if kind == "b":
        return lambda block: block.astype(np.uint8) * 255
    if kind == "u" and size == 2:
        return lambda block: (block.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if kind in "ui":
        return lambda block: np.clip(block, 0, 255).astype(np.uint8)
    if kind == "f":
        rows = max(1, _BLOCK_PIXELS // array.shape[1])
        peak = -math.inf
        for top in range(0, array.shape[0], rows):
            block = array[top:top + rows]
            low, high = float(block.min()), float(block.max())
            if not (math.isfinite(low) and math.isfinite(high)):
                raise ImageError(f"{name}: contains NaN or infinite values")
            peak = max(peak, high)
        scale = 255.0 if peak <= UNIT_FLOAT_MAX else 1.0

        def floats(block: np.ndarray) -> np.ndarray:
            values = block.astype(np.float64)  # one temporary, worked on in place
            values *= scale
            np.clip(values, 0, 255, out=values)
            np.round(values, out=values)
            return values.astype(np.uint8)
        return floats
    raise ImageError(f"{name}: unsupported pixel type {array.dtype}")


def _to_rgb(block: np.ndarray) -> np.ndarray:
    """Gray, gray+alpha, RGB or RGBA uint8 rows -> RGB (alpha over white, in the reference's arithmetic)."""
    channels = block.shape[2]
    if channels in (1, 2):
        gray = block[:, :, :1]
        block = np.concatenate([gray, gray, gray] + ([block[:, :, 1:2]] if channels == 2 else []), axis=2)
    if block.shape[2] == 4:
        color = block[:, :, :3].astype(np.float32)
        alpha = block[:, :, 3:4].astype(np.float32) / 255.0
        block = (color * alpha + 255.0 * (1.0 - alpha)).clip(0, 255).astype(np.uint8)
    return block


def check_resolution(resolution, what: str) -> None:
    """Refuse a ``detect_resolution`` / ``image_resolution`` that is not a number of pixels >= 0, or is so
    large that the short side alone passes ``MAX_PIXELS`` (sizes computed from it would overflow floats)."""
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Real) or not 0 <= resolution < math.inf:
        raise ValueError(f"{what} must be a number of pixels >= 0, got {resolution!r}")
    if resolution > MAX_PIXELS:
        raise ValueError(f"{what} is over the limit of {MAX_PIXELS:,} pixels (MAX_PIXELS)")


def detect_size(height: int, width: int, resolution: int) -> Tuple[int, int]:
    """The reference's ``resize_image`` size: short side to ``resolution``, both sides rounded to 64."""
    k = float(resolution) / min(height, width)
    return int(np.round(height * k / 64.0)) * 64, int(np.round(width * k / 64.0)) * 64


def resize_for_detection(image: np.ndarray, resolution: int, name: str = "image") -> np.ndarray:
    """Resize like the reference (LANCZOS4 when enlarging, AREA otherwise); ``resolution`` 0 keeps the image.

    The result is at most ``MAX_PIXELS``; a resolution below 32 (whose short side rounds to 0) is an error.
    """
    check_resolution(0 if resolution is None else resolution, "detect_resolution")
    if not resolution:
        if image.shape[0] * image.shape[1] > MAX_PIXELS:
            raise ImageError(f"{name}: {image.shape[1]} x {image.shape[0]} pixels exceeds the detection limit of "
                             f"{MAX_PIXELS:,} pixels (MAX_PIXELS); pass a detect_resolution (e.g. 512) to downscale it")
        return image
    height, width = detect_size(image.shape[0], image.shape[1], resolution)
    if height == 0 or width == 0:
        raise ImageError(f"{name}: resolution {resolution} gives an empty {width} x {height} detect image (sides are "
                         f"rounded to multiples of 64): use 32 or more, or 0 to keep the input size")
    if height * width > MAX_PIXELS:
        raise ImageError(f"{name}: resolution {resolution} would make a {width} x {height} image, over the "
                         f"limit of {MAX_PIXELS:,} pixels (MAX_PIXELS)")
    k = float(resolution) / min(image.shape[:2])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LANCZOS4 if k > 1 else cv2.INTER_AREA)


def output_size(height: int, width: int, resolution, name: str = "image") -> Tuple[int, int]:
    """(height, width) of the map drawn for a ``width x height`` detect image at ``image_resolution``:
    the reference's rule, refused when a side rounds to 0 or the map would exceed ``MAX_PIXELS``."""
    check_resolution(resolution, "image_resolution")
    out_height, out_width = detect_size(height, width, resolution)
    if out_height == 0 or out_width == 0:
        raise ImageError(f"{name}: image_resolution {resolution} gives an empty {out_width} x {out_height} map")
    if out_height * out_width > MAX_PIXELS:
        raise ImageError(f"{name}: image_resolution {resolution} would make a {out_width} x {out_height} map, "
                         f"over the limit of {MAX_PIXELS:,} pixels (MAX_PIXELS)")
    return out_height, out_width


def check_network_input(height: int, width: int, factors: Sequence[float], name: str = "image") -> None:
    """Refuse a ``width x height`` detect image that the body network cannot take at ``factors``: its
    input (the image scaled to ``factor * 368`` px tall, as the reference truncates it, padded to 8)
    would be empty or exceed ``MAX_NET_PIXELS``."""
    for factor in factors:
        scale = factor * BODY_NET_HEIGHT / height
        net_height, net_width = int(height * scale), int(width * scale)
        padded = (net_height + (-net_height) % 8) * (net_width + (-net_width) % 8)
        if net_height < 1 or net_width < 1 or padded > MAX_NET_PIXELS:
            problem = "would be empty" if net_height < 1 or net_width < 1 else \
                f"would be {padded:,} pixels, over MAX_NET_PIXELS ({MAX_NET_PIXELS:,})"
            raise ImageError(f"{name}: a {width} x {height} image is too elongated for the body network "
                             f"(its {net_width} x {net_height} input at scale {factor:g} {problem}); crop or split it")


def _first_line(error: BaseException) -> str:
    text = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
