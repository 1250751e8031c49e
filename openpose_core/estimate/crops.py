"""What the hand and face estimators share: cutting a box out of the detect image, the reference's
resize rule, one batched network run per input size, and mapping crop peaks back to the image.

A box is any tuple whose first three items are ``(x, y, size)``: the top-left corner and the side,
in detect-image pixels (:class:`~openpose_core.estimate.hand.HandBox`, ``face.FaceBox``).
"""
from __future__ import annotations

from typing import Iterable, Iterator, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from ..pose import Keypoint, Points
from .maps import resize_interpolation
from .precision import network_mode

Peak = Optional[Tuple[int, int, float]]
"""A peak in crop pixels ``(x, y, confidence)``, or None when the map has none."""


def crop(image: np.ndarray, box: Sequence[int]) -> np.ndarray:
    """The box's view of the image. Like the reference's slicing, a box reaching past the image is cut
    at the border, so the crop can be smaller than the box and non-square."""
    x, y, size = box[:3]
    return image[y:y + size, x:x + size]


def smart_resize(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """``cv2.resize`` with the reference's choice of filter: AREA when shrinking, LANCZOS4 otherwise.

    OpenCV's AREA filter takes at most 4 channels, so callers pass channel groups of that size."""
    interpolation = resize_interpolation(array.shape[:2], (height, width))
    resized = cv2.resize(array, (width, height), interpolation=interpolation)
    return resized.reshape(height, width, *array.shape[2:])


def network_device(network: torch.nn.Module, device=None) -> torch.device:
    """The device to run on: the one asked for, else where the network's weights are (CPU if none)."""
    if device is not None:
        return torch.device(device)
    return next(network.parameters(), torch.empty(0)).device


def run_network(network: torch.nn.Module, images: np.ndarray, device: torch.device, *,
                autocast_dtype: Optional[torch.dtype], chunk_size: int) -> Iterator[torch.Tensor]:
    """Yield the network's float32 output for consecutive chunks of an ``N x S x S x 3`` uint8 batch.

    Input scaling is the reference's ``x / 256 - 0.5``, in its layout (contiguous NCHW, as its hand
    and face inputs both end up): the layout selects the convolution and interpolation kernels, hence
    the float rounding. A network returning one map per stage (FaceNet) contributes its last stage.
    Batching is as exact as the backend: oneDNN may round a convolution differently with the batch
    size (seen: 1 ulp for small channel counts; none for the hand and face architectures here).
    """
    for start in range(0, len(images), chunk_size):
        pixels = torch.from_numpy(images[start:start + chunk_size]).to(device).permute(0, 3, 1, 2)
        batch = torch.empty(pixels.shape, dtype=torch.float32, device=device).copy_(pixels).div_(256).sub_(0.5)
        with network_mode(device.type, autocast_dtype):
            output = network(batch)
        if isinstance(output, (list, tuple)):
            output = output[-1]
        yield output.float()


def crop_keypoints(peaks: Iterable[Peak], box: Sequence[int]) -> Points:
    """Crop peaks -> keypoints in detect-image pixels (the box origin added).

    The reference marks a crop coordinate of exactly 0 as missing, one axis at a time. A keypoint is
    either whole or None here, so a peak on the crop's top row or left column becomes None: the same
    points the reference reports as usable (both axes valid) are the ones we keep.
    """
    x0, y0 = box[:2]
    return [None if peak is None or peak[0] == 0 or peak[1] == 0
            else Keypoint(float(peak[0] + x0), float(peak[1] + y0), float(peak[2]))
            for peak in peaks]
