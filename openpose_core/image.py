"""Input images at the library's edge: anything a user hands us becomes RGB uint8 H x W x 3, or a
one-line :class:`ImageError` naming the input; plus the reference's detect-resolution resize."""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

MAX_PIXELS = 64_000_000
"""Largest input accepted (e.g. 8000 x 8000); larger images would need gigabytes before detection starts."""


class ImageError(ValueError):
    """An input that is not a usable image; the message is one line and names the input."""


def as_rgb_uint8(image, name: str = "image") -> np.ndarray:
    """RGB uint8 ``H x W x 3`` from a PIL image or a numpy array (gray, gray+alpha, RGB or RGBA).

    RGBA and LA are composited over white like the reference; 16-bit and float images are scaled
    (floats are taken as 0..1 when their maximum is <= 1, else 0..255); palette images use their palette.
    """
    if hasattr(image, "convert") and hasattr(image, "mode"):  # PIL
        image = _pil_to_array(image)
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{name}: expected a PIL image or a numpy array, got {type(image).__name__}")
    array = image
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"{name}: expected H x W, H x W x 1/2/3/4 pixels, got shape {tuple(image.shape)}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(f"{name}: the image is empty ({array.shape[1]} x {array.shape[0]} pixels)")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise ImageError(f"{name}: {array.shape[1]} x {array.shape[0]} pixels exceeds the limit of {MAX_PIXELS:,}; "
                         "downscale it first")
    array = _to_uint8(array, name)
    channels = array.shape[2]
    if channels in (1, 2):
        gray = array[:, :, :1]
        array = np.concatenate([gray, gray, gray] + ([array[:, :, 1:2]] if channels == 2 else []), axis=2)
    if array.shape[2] == 4:
        color = array[:, :, :3].astype(np.float32)
        alpha = array[:, :, 3:4].astype(np.float32) / 255.0
        array = (color * alpha + 255.0 * (1.0 - alpha)).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)


def _pil_to_array(image) -> np.ndarray:
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return np.asarray(image)
    if image.mode in ("P", "PA"):
        return np.asarray(image.convert("RGBA"))
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return np.asarray(image).astype(np.float64) / (65535.0 if image.mode.startswith("I;16") else 1.0)
    return np.asarray(image.convert("RGB"))


def _to_uint8(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return (array.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float64)
        if not np.isfinite(values).all():
            raise ImageError(f"{name}: contains NaN or infinite values")
        scale = 255.0 if values.max(initial=0) <= 1.0 and np.issubdtype(array.dtype, np.floating) else 1.0
        return (values * scale).clip(0, 255).round().astype(np.uint8)
    raise ImageError(f"{name}: unsupported pixel type {array.dtype}")


def detect_size(height: int, width: int, resolution: int) -> Tuple[int, int]:
    """The reference's ``resize_image`` size: short side to ``resolution``, both sides rounded to 64."""
    k = float(resolution) / min(height, width)
    return int(np.round(height * k / 64.0)) * 64, int(np.round(width * k / 64.0)) * 64


def resize_for_detection(image: np.ndarray, resolution: int, name: str = "image") -> np.ndarray:
    """Resize like the reference (LANCZOS4 when enlarging, AREA otherwise); ``resolution`` 0 keeps the image."""
    if not resolution:
        return image
    height, width = detect_size(image.shape[0], image.shape[1], resolution)
    if height == 0 or width == 0:
        raise ImageError(f"{name}: {image.shape[1]} x {image.shape[0]} pixels at resolution {resolution} "
                         f"gives an empty {width} x {height} image; the aspect ratio is too extreme")
    if height * width > MAX_PIXELS:
        raise ImageError(f"{name}: resolution {resolution} would make a {width} x {height} image, over the "
                         f"limit of {MAX_PIXELS:,} pixels")
    k = float(resolution) / min(image.shape[:2])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LANCZOS4 if k > 1 else cv2.INTER_AREA)
