"""Named settings: which parts to detect (sd-webui-controlnet's preprocessor names) and how
(the reference-identical default or documented opt-in speed/accuracy trade-offs)."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import torch

REFERENCE_HAND_SIZES = (184, 368, 552, 736)
PEAK_MODES = ("exact", "grid")


@dataclass(frozen=True)
class Preset:
    """How detection runs. Only ``reference`` reproduces controlnet-aux exactly."""

    name: str
    body_scales: Tuple[float, ...] = (0.5,)
    peak_mode: str = "exact"
    hand_sizes: Tuple[int, ...] = REFERENCE_HAND_SIZES
    reduced_precision: bool = False
    changes: str = "nothing: identical to controlnet-aux 0.0.10"

    def __post_init__(self):
        """Refuse settings detection cannot run with, naming the field, when the preset is made: not as a
        ZeroDivisionError, or a misleading "too elongated" image, after the body network has run."""
        object.__setattr__(self, "body_scales", _items(self.body_scales, "body_scales", "numbers > 0, e.g. (0.5,)",
                                                       lambda scale: 0 < scale < math.inf))
        object.__setattr__(self, "hand_sizes", _items(self.hand_sizes, "hand_sizes", "multiples of 8, e.g. (368,)",
                                                      lambda size: isinstance(size, numbers.Integral)
                                                      and size > 0 and size % 8 == 0))
        if self.peak_mode not in PEAK_MODES:
            raise ValueError(f"Preset peak_mode must be one of {', '.join(PEAK_MODES)}, got {self.peak_mode!r}")
        if self.peak_mode == "grid" and len(self.body_scales) != 1:
            raise ValueError(f"Preset peak_mode 'grid' works at one body scale, got {self.body_scales}")


def _items(values, field: str, rule: str, valid: Callable[[float], bool]) -> tuple:
    """``values`` as a non-empty tuple of numbers passing ``valid``, else a ValueError naming ``field``."""
    items = tuple(values) if isinstance(values, (tuple, list)) else ()
    if not items or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and valid(v) for v in items):
        raise ValueError(f"Preset {field} must be a non-empty tuple of {rule}, got {values!r}")
    return items


PRESETS: Dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("reference"),
        Preset("accurate", body_scales=(0.5, 1.0, 1.5, 2.0),
               changes="body net at 184/368/552/736 px and averaged (the reference's commented-out search): "
                       "finds small and distant people; body network cost x30"),
        Preset("fast_hands", hand_sizes=(368, 552),
               changes="hands at 2 of the reference's 4 sizes (368 and 552 px): ~2.3x less hand network work; "
                       "hand points can move by a few pixels"),
        Preset("fast", peak_mode="grid", hand_sizes=(368,), reduced_precision=True,
               changes="body peaks on the network grid with sub-pixel refinement, hands at one size (368 px), "
                       "bf16 autocast on CPUs that support it and fp16 on CUDA: several times faster; "
                       "points can move by a few pixels and weak parts can appear or vanish"),
    )
}

PART_PRESETS: Dict[str, Tuple[bool, bool, bool]] = {
    "openpose": (True, False, False),
    "openpose_face": (True, False, True),
    "openpose_faceonly": (False, False, True),
    "openpose_hand": (True, True, False),
    "openpose_full": (True, True, True),
}
"""(draw body, hands, face) per sd-webui-controlnet preprocessor name. Note controlnet-aux's own
``openpose_hand`` draws hands only (no body); we follow sd-webui-controlnet, which keeps the body."""


def get_preset(preset) -> Preset:
    """A :class:`Preset` from a name or an instance; a clear error lists the names."""
    if isinstance(preset, Preset):
        return preset
    if preset is None:
        return PRESETS["reference"]
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[preset]


REDUCED_DTYPES = (torch.float16, torch.bfloat16)
"""Weight dtypes a network may be stored in besides float32: it then computes in that dtype under autocast."""


def autocast_dtype(preset: Preset, device: torch.device, weights: torch.dtype = torch.float32) -> Optional[torch.dtype]:
    """The autocast dtype for a network with ``weights`` on ``device``, or None (plain fp32).

    The preset's reduced precision where the device supports it; else, for fp16/bf16 weights (a network
    the caller converted with ``.half()``), their own dtype, since the float32 inputs need autocast to
    meet them.
    """
    if preset.reduced_precision:
        if device.type == "cuda":
            return torch.float16
        if device.type == "cpu" and _cpu_has_bf16():
            return torch.bfloat16
    return weights if weights in REDUCED_DTYPES else None


def device_problem(device, names: str = "cpu, cuda, cuda:1, mps", instead: str = "'cpu'") -> Optional[str]:
    """Why this PyTorch cannot use ``device`` (a name that is no device, a CUDA GPU or MPS it does not see),
    or None when it can; ``names`` (valid names) and ``instead`` (what to use) as the caller spells them."""
    try:
        checked = torch.device(device)
    except (RuntimeError, TypeError):
        return f"not a device name ({names})"
    if checked.type == "cuda" and (checked.index or 0) >= torch.cuda.device_count():
        return f"PyTorch sees {torch.cuda.device_count()} CUDA GPU(s) here (use {instead})"
    if checked.type == "mps" and not torch.backends.mps.is_available():
        return f"MPS is not available here (use {instead})"
    return None


def check_device(device) -> torch.device:
    """``device`` as a ``torch.device``, or a one-line ValueError when this PyTorch cannot use it, instead
    of torch's error from inside ``.to()``."""
    problem = device_problem(device)
    if problem:
        raise ValueError(f"device {device!r}: {problem}")
    return torch.device(device)


def _cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
