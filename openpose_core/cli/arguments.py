"""Argument types: each turns a command-line string into a value or a one-line usage error."""
from __future__ import annotations

import argparse
from typing import Callable, List, Sequence, Tuple

import numpy as np


def positive_int(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def bounded_number(minimum: float, inclusive: bool) -> Callable[[str], float]:
    """A finite number above ``minimum`` (or equal to it when ``inclusive``)."""
    def parse(text: str) -> float:
        value = floats(1)(text)[0]
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"expected a number {'>=' if inclusive else '>'} {minimum:g}, "
                                             f"got {text!r}")
        return value
    return parse


def floats(count: int, at_least: int = 1) -> Callable[[str], List[float]]:
    """Comma-separated finite numbers, ``at_least`` to ``count`` of them (e.g. ``1.2`` or ``1.2,0.8``)."""
    def parse(text: str) -> List[float]:
        try:
            values = [float(part) for part in text.split(",")]
        except ValueError:
            values = []
        if not at_least <= len(values) <= count or not np.isfinite(values).all():
            forms = " or ".join(",".join(["N"] * length) for length in range(at_least, count + 1))
            raise argparse.ArgumentTypeError(f"expected {forms} (numbers), got {text!r}")
        return values
    return parse


def scale_factors(text: str) -> List[float]:
    """``S`` or ``SX,SY``, each > 0 (a negative factor would mirror without swapping left and right)."""
    values = floats(2)(text)
    if min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected factors > 0 (to mirror, use --flip), got {text!r}")
    return values


def indices(text: str) -> List[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers like 0,2, got {text!r}") from None


def pixel_size(text: str) -> Tuple[int, int]:
    """``WIDTHxHEIGHT`` in pixels."""
    parts = text.lower().split("x")
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 512x768, got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"width and height must be >= 1, got {text!r}")
    return width, height


def name_list(allowed: Sequence[str]) -> Callable[[str], List[str]]:
    def parse(text: str) -> List[str]:
        names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))  # once each
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(allowed)}; got {text!r}")
        return names
    return parse


def override(text: str) -> Tuple[str, float]:
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=FACTOR like thigh=1.1, got {text!r}") from None
