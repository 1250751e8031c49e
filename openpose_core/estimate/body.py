"""Body estimation: net input preparation, batched network runs, peaks, limbs and people.

Geometry follows the reference exactly (§3.2): the net sees the detect image scaled to
``factor * 368 / H`` (184 px tall for the default factor 0.5), padded bottom/right to a multiple of 8
with grey 128, in BGR order, scaled by ``1/256 - 0.5``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from . import grid_peaks
from .maps import STRIDE, SeparableMaps, Term, resize_interpolation, upsampling_matrices
from .paf import assemble_people, connect_limbs
from .peaks import find_peaks
from .precision import network_mode

BOXSIZE = 368
PAD_VALUE = 128
DEFAULT_SCALES = (0.5,)
ACCURATE_SCALES = (0.5, 1.0, 1.5, 2.0)


@dataclass
class NetInput:
    """One image prepared for the body network at one scale."""

    array: np.ndarray  # 3 x Hp x Wp float32, BGR
    unpadded: Tuple[int, int]  # (h, w) of the scaled image before padding


@dataclass
class BodyParse:
    """The reference's raw body result: ``candidate`` rows (x, y, score, id) and ``subset`` rows
    (18 candidate ids or -1, total score, part count)."""

    candidate: np.ndarray
    subset: np.ndarray


def prepare_input(image_bgr: np.ndarray, factor: float) -> NetInput:
    """Scale to ``factor * 368`` px tall (truncating like the reference), pad with 128 to a multiple of 8."""
    height, width = image_bgr.shape[:2]
    scale = factor * BOXSIZE / height
    target = (height * scale, width * scale)
    h, w = int(target[0]), int(target[1])
    resized = cv2.resize(image_bgr, (w, h), interpolation=resize_interpolation((height, width), target))
    padded = np.full((h + (-h) % STRIDE, w + (-w) % STRIDE, 3), PAD_VALUE, dtype=np.uint8)
    padded[:h, :w] = resized
    array = np.ascontiguousarray(np.float32(padded).transpose(2, 0, 1)) / 256 - 0.5
    return NetInput(array, (h, w))


NetworkRunner = Callable[[np.ndarray], Tuple[np.ndarray, np.ndarray]]
"""Runs the body network on an ``N x 3 x H x W`` float32 batch, returning (PAFs, heatmaps) as numpy."""


def torch_runner(model: torch.nn.Module, device=None, autocast_dtype: Optional[torch.dtype] = None,
                 chunk: int = 8) -> NetworkRunner:
    """A :data:`NetworkRunner` for a torch body module, batching at most ``chunk`` images per forward."""

    def run(batch: np.ndarray):
        target = device if device is not None else next(model.parameters(), torch.empty(0)).device
        pafs, heats = [], []
        with network_mode(torch.device(target).type, autocast_dtype):
            for start in range(0, len(batch), chunk):
                paf, heat = model(torch.from_numpy(batch[start:start + chunk]).to(target))
                pafs.append(paf.float().cpu().numpy())
                heats.append(heat.float().cpu().numpy())
        return np.concatenate(pafs), np.concatenate(heats)

    return run


def run_batched(inputs: Sequence[NetInput], runner: NetworkRunner) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Network outputs per input; inputs of equal padded size share one batch."""
    groups: Dict[Tuple[int, ...], List[int]] = {}
    for index, item in enumerate(inputs):
        groups.setdefault(item.array.shape, []).append(index)
    outputs: List = [None] * len(inputs)
    for indices in groups.values():
        pafs, heats = runner(np.stack([inputs[i].array for i in indices]))
        for position, index in enumerate(indices):
            outputs[index] = (pafs[position], heats[position])
    return outputs


def detect_terms(detect_size: Tuple[int, int], item: NetInput, maps: np.ndarray, weight: float):
    """(plain, smoothed) :class:`Term` of one scale's maps in detect-image pixels."""
    height, width = detect_size
    h, w = item.unpadded
    interpolation = resize_interpolation((h, w), (height, width))
    rows_plain, rows_smooth = upsampling_matrices(maps.shape[1], h, height, interpolation)
    cols_plain, cols_smooth = upsampling_matrices(maps.shape[2], w, width, interpolation)
    return Term(maps, rows_plain, cols_plain, weight), Term(maps, rows_smooth, cols_smooth, weight)


def parse_exact(detect_size, inputs: Sequence[NetInput], outputs) -> BodyParse:
    """The reference's full-resolution parse, evaluated only where it matters (see maps.py)."""
    weight = 1.0 / len(inputs)
    heat_terms = [detect_terms(detect_size, item, heat, weight) for item, (_, heat) in zip(inputs, outputs)]
    paf_terms = [detect_terms(detect_size, item, paf, weight)[0] for item, (paf, _) in zip(inputs, outputs)]
    plain_heat = SeparableMaps([plain for plain, _ in heat_terms])
    peaks = find_peaks(SeparableMaps([smooth for _, smooth in heat_terms]), plain_heat)
    pafs = SeparableMaps(paf_terms)

    def sample(channel, xs, ys):
        return pafs.at(channel, np.rint(ys).astype(np.intp), np.rint(xs).astype(np.intp))

    return build_parse(peaks, sample, detect_size[0])


def build_parse(peaks: List[np.ndarray], sample, height: int) -> BodyParse:
    """Connect limbs and assemble people from per-part peaks."""
    ids = np.arange(sum(len(p) for p in peaks), dtype=np.float64)
    candidate = np.column_stack([np.concatenate(peaks), ids]) if len(ids) else np.zeros((0, 4))
    subset = assemble_people(connect_limbs(peaks, sample, height), candidate[:, 2])
    return BodyParse(candidate, subset)


def estimate_bodies(images_bgr: Sequence[np.ndarray], runner: NetworkRunner, scales: Sequence[float] = DEFAULT_SCALES,
                    peak_mode: str = "exact") -> List[BodyParse]:
    """Parse every image; equal-size net inputs run through the network together.

    ``peak_mode`` "exact" reproduces the reference; "grid" searches peaks on the network grid with
    sub-pixel refinement (the opt-in ``fast`` preset; single scale only).
    """
    per_scale = [[prepare_input(image, factor) for image in images_bgr] for factor in scales]
    outputs = [run_batched(inputs, runner) for inputs in per_scale]
    results = []
    for index, image in enumerate(images_bgr):
        detect_size = image.shape[:2]
        inputs = [per_scale[s][index] for s in range(len(scales))]
        image_outputs = [outputs[s][index] for s in range(len(scales))]
        if peak_mode == "exact":
            results.append(parse_exact(detect_size, inputs, image_outputs))
        elif peak_mode == "grid":
            peaks, sample = grid_peaks.peaks_and_sampler(detect_size, inputs[0].unpadded, *image_outputs[0])
            results.append(build_parse(peaks, sample, detect_size[0]))
        else:
            raise ValueError(f"peak_mode must be 'exact' or 'grid', not {peak_mode!r}")
    return results
