"""Named settings: which parts to detect (sd-webui-controlnet's preprocessor names) and how
(the reference-identical default or documented opt-in speed/accuracy trade-offs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch

REFERENCE_HAND_SIZES = (184, 368, 552, 736)


@dataclass(frozen=True)
class Preset:
    """How detection runs. Only ``reference`` reproduces controlnet-aux exactly."""

    name: str
    body_scales: Tuple[float, ...] = (0.5,)
    peak_mode: str = "exact"
    hand_sizes: Tuple[int, ...] = REFERENCE_HAND_SIZES
    reduced_precision: bool = False
    changes: str = "nothing: identical to controlnet-aux 0.0.10"


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


def autocast_dtype(preset: Preset, device: torch.device) -> Optional[torch.dtype]:
    """The reduced-precision dtype for this device, or None (fp32) where it is off or unsupported."""
    if not preset.reduced_precision:
        return None
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and _cpu_has_bf16():
        return torch.bfloat16
    return None


def _cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
