"""The standard ControlNet OpenPose control map (body sticks, hands, face dots) drawn from a PoseFrame.

ControlNet OpenPose models were trained on maps drawn by one particular routine, so this module
reproduces that drawing pixel for pixel: the same OpenCV primitives, colours, order and integer
conversions as controlnet-aux 0.0.10 (see reference-behaviour.md §7).

The reference keeps normalised coordinates and draws at ``int(x_norm * W)``; because
``(px / W) * W`` is not always exactly ``px`` in floating point, some of its points land one pixel
left of / above where they were detected. We store pixels, so we redo that arithmetic in the
reference's float types (float64 for the body, float32 for hands and face, multiplied in whatever type
the installed NumPy gives ``float32 * int``): a frame holding the pixel positions the reference
detected then draws exactly the reference's map.

Deliberate difference: the reference's face carries a 71st point (the argmax of the face net's
background channel) that it draws as one more white dot; our faces have the 70 real landmarks only.
BODY_25 feet (``Person.feet``) are not part of the COCO-18 map and are not drawn.
"""
from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .pose import HAND_EDGES, LIMBS, PART_SIZES, Keypoint, Person, PoseFrame, points_to_array

BODY_COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
"""RGB colour of body point i (and of drawn limb i before dimming)."""

DRAWN_LIMBS = LIMBS[:17]
"""The shoulder-ear limbs (17, 18) help assembly but are never drawn."""

LIMB_COLORS = tuple(tuple(int(channel * 0.6) for channel in color) for color in BODY_COLORS[:len(DRAWN_LIMBS)])
"""Limbs are filled at 60 % of their point colour, truncated per channel (255 -> 153)."""


def _hue_colors(count: int) -> Tuple[Tuple[int, int, int], ...]:
    """RGB of hues e/count at full saturation and value, rounded half-to-even as OpenCV rounds the
    float colours the reference passes to ``cv2.line``."""
    colors = []
    for index in range(count):
        sector, fraction = divmod(index / count * 6.0, 1.0)
        # v * (1 - s * (1 - f)) with s = v = 1 is not always exactly f; keep its form so that values
        # near .5 (e.g. 76.50000000000001) round the same way.
        falling, rising = 1.0 - fraction, 1.0 - (1.0 - fraction)
        rgb = ((1.0, rising, 0.0), (falling, 1.0, 0.0), (0.0, 1.0, rising),
               (0.0, falling, 1.0), (rising, 0.0, 1.0), (1.0, 0.0, falling))[int(sector)]
        colors.append(tuple(int(np.rint(channel * 255)) for channel in rgb))
    return tuple(colors)


HAND_EDGE_COLORS = _hue_colors(len(HAND_EDGES))
"""RGB colour of hand edge e: the hue wheel split into 20 steps."""

HAND_POINT_COLOR = (0, 0, 255)
FACE_POINT_COLOR = (255, 255, 255)
STICK_WIDTH = 4
"""Semi-minor axis of a limb ellipse: sticks are 2 * 4 + 1 = 9 px thick."""
MAX_STICK_WIDTH = 1024
"""Largest ``stick_width`` taken: sticks 2049 px thick, far beyond any use, and far from OpenCV's int32 limits."""
BODY_RADIUS, HAND_RADIUS, FACE_RADIUS = 4, 4, 3
HAND_LINE_THICKNESS = 2
_EPS = 0.01
"""The reference draws a hand/face point only if both integer coordinates exceed this, i.e. are >= 1:
its "missing" marker (-1/W) and anything on row/column 0 or beyond the top/left edge is skipped."""

MAX_CANVAS_PIXELS = 16384 * 16384
"""Largest canvas drawn (768 MiB of RGB): ComfyUI's largest image, 16384 px a side."""

MAX_COORDINATE = 2 ** 30
"""Largest canvas position drawn, either sign: OpenCV takes int32 points, and a stick's midpoint, half length
and outline must fit in them too. A point beyond it is an error, not a crash inside OpenCV."""

DRAWN_PARTS = [part for part in PART_SIZES if part != "feet"]
"""The Person parts drawn (feet never are)."""

FIT_MODES = ("stretch", "contain", "cover")
"""How a frame is mapped onto an output canvas of another size:
``stretch`` scales x and y independently to fill it (what drawing normalised poses on any canvas does);
``contain`` keeps the aspect ratio, fits the whole frame inside and centres it between black borders (sticks
and dots at the frame's edge run on into them, not cut off at the frame's edge);
``cover`` keeps the aspect ratio, fills the canvas and crops the overflow equally on both sides."""

Size = Tuple[int, int]


def stick_scale(width: int, height: int) -> int:
    """Stick-width multiplier of comfyui_controlnet_aux's ``xinsr_stick_scaling``: the xinsir SDXL
    OpenPose ControlNet was trained on thicker sticks on large canvases. 1 below 500 px on the long side,
    else 2 + long_side // 1000, capped at 7."""
    long_side = max(width, height)
    return 1 if long_side < 500 else min(2 + long_side // 1000, 7)


def fit_box(source: Size, target: Size, fit: str = "stretch") -> Tuple[int, int, int, int]:
    """Where a ``source`` (width, height) frame lands on a ``target`` canvas under ``fit``:
    ``(width, height, left, top)`` of the drawn area; negative offsets (``cover``) mean cropped off."""
    if fit not in FIT_MODES:
        raise ValueError(f"fit must be one of {FIT_MODES}, got {fit!r}")
    (source_w, source_h), (target_w, target_h) = source, target
    if fit == "stretch":
        return target_w, target_h, 0, 0
    pick = min if fit == "contain" else max
    scale = pick(target_w / source_w, target_h / source_h)
    width, height = max(1, round(source_w * scale)), max(1, round(source_h * scale))
    return width, height, (target_w - width) // 2, (target_h - height) // 2


def render_pose(frame: PoseFrame, width: Optional[int] = None, height: Optional[int] = None, *,
                body: bool = True, hands: bool = True, face: bool = True, fit: str = "stretch",
                stick_scaling: bool = False, stick_width: int = STICK_WIDTH) -> np.ndarray:
    """Draw every person of ``frame`` on a new black ``height x width x 3`` uint8 RGB canvas.

    The canvas defaults to the frame's own size, which gives the reference's pixels. Otherwise give both
    ``width`` and ``height`` (whole numbers >= 1); ``fit`` (see FIT_MODES) says how the frame is mapped
    onto them. Sizes of sticks and dots do not follow the canvas, as in the reference. ``stick_width`` is
    the half thickness of the limb sticks (``2 * stick_width + 1`` px; the reference's 4 by default, at
    most ``MAX_STICK_WIDTH``); ``stick_scaling`` multiplies it by the xinsir rule (:func:`stick_scale` of
    the output canvas). Raises ``ValueError`` for a bad argument, a person part of the wrong size (see
    :func:`_check_people`), a canvas over ``MAX_CANVAS_PIXELS`` or a point landing beyond ``MAX_COORDINATE``.
    """
    if (width is None) != (height is None):
        raise ValueError("give both width and height, or neither")
    source = (_whole(frame.width, "frame.width"), _whole(frame.height, "frame.height"))
    target = source if width is None else (_whole(width, "width"), _whole(height, "height"))
    stick_width = _whole(stick_width, "stick_width", MAX_STICK_WIDTH)
    _check_people(frame.people)
    draw_w, draw_h, left, top = fit_box(source, target, fit)
    if max(target[0] * target[1], draw_w * draw_h) > MAX_CANVAS_PIXELS:
        drawn = f" (drawn {draw_w} x {draw_h} before cropping)" if draw_w * draw_h > target[0] * target[1] else ""
        raise ValueError(f"a {target[0]} x {target[1]} canvas{drawn} is over the limit of {MAX_CANVAS_PIXELS:,} "
                         f"pixels (MAX_CANVAS_PIXELS)")
    if stick_scaling:
        stick_width *= stick_scale(*target)
    # Draw on the union of the frame's box and the output canvas: contain's borders take what runs over the
    # frame's edge, and cover crops the box drawn whole, so OpenCV clips lines only where the output ends.
    span_left, span_top = min(left, 0), min(top, 0)
    span = np.zeros((max(top + draw_h, target[1]) - span_top, max(left + draw_w, target[0]) - span_left, 3), np.uint8)
    box = (draw_w, draw_h, left - span_left, top - span_top)
    for person in frame.people:
        draw_person(span, person, source, box, body=body, hands=hands, face=face, stick_width=stick_width)
    canvas = span[-span_top:target[1] - span_top, -span_left:target[0] - span_left]
    return canvas if canvas.shape == span.shape else canvas.copy()


def _check_people(people: Sequence[Person]) -> None:
    """Refuse, naming its place, a part that is neither absent (None or empty) nor a list of exactly its
    ``pose.PART_SIZES`` points (None for a missing one): drawing looks points up by their skeleton index, so a short
    hand would fail inside the drawing and a long body or face would quietly draw wrong sticks or stray dots."""
    if not isinstance(people, (list, tuple)):
        raise ValueError(f"people: expected a list of Person, got {type(people).__name__}")
    for index, person in enumerate(people):
        if not isinstance(person, Person):
            raise ValueError(f"people[{index}]: expected a Person, got {type(person).__name__}")
        for name in DRAWN_PARTS:
            points, count = getattr(person, name), PART_SIZES[name]
            if points is not None and not isinstance(points, (list, tuple)):
                raise ValueError(f"people[{index}].{name}: expected a list of {count} points, "
                                 f"got {type(points).__name__}")
            if points and len(points) != count:
                raise ValueError(f"people[{index}].{name}: {len(points)} points, expected {count}")


def _whole(value, name: str, maximum: Optional[int] = None) -> int:
    """``value`` as an int when it is a whole number from 1 to ``maximum`` (512.0 is 512). Truncating 100.7
    or reading "100" or True as a size would quietly draw something other than asked, so they are refused."""
    whole = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) \
        and value == int(value)
    if not whole or not 1 <= value <= (maximum or math.inf):
        allowed = f"from 1 to {maximum}" if maximum else ">= 1"
        raise ValueError(f"{name} must be a whole number {allowed}, got {value!r}")
    return int(value)


def draw_person(canvas: np.ndarray, person: Person, source: Size, box: Tuple[int, int, int, int], *,
                body: bool = True, hands: bool = True, face: bool = True, stick_width: int = STICK_WIDTH) -> np.ndarray:
    """Draw one person whose points are pixels of a ``source`` (width, height) frame onto ``canvas``, in the
    reference's per-person order: body, left hand, right hand, face. ``box`` is (width, height, left, top)
    of the frame on the canvas: points land where the reference draws them on a canvas of the box's size,
    moved by its whole-pixel offset, so sticks and dots at the frame's edge run on past the box."""
    width, height, left, top = box
    size, offset = (width, height), (left, top)
    if body and person.body:
        draw_body(canvas, to_canvas(person.body, source, size, np.float64), stick_width, offset)
    for part, enabled, draw in ((person.left_hand, hands, draw_hand), (person.right_hand, hands, draw_hand),
                                (person.face, face, draw_face)):
        if enabled and part:
            draw(canvas, to_canvas(part, source, size, np.float32), offset)
    return canvas


def to_canvas(points: Sequence[Optional[Keypoint]], source: Size, target: Size, dtype=np.float64) -> np.ndarray:
    """``len(points) x 2`` canvas positions (NaN rows for missing points) computed as the reference does:
    normalise by the source size in ``dtype`` (float64 for the body, float32 for hands and face, the
    types the reference stores them in), then multiply by the canvas size in :func:`_product_type`.
    Raises ``ValueError`` for a position beyond ``MAX_COORDINATE``, which OpenCV could not draw."""
    xy = points_to_array(points, len(points))[:, :2].astype(dtype)
    product = _product_type(dtype)
    canvas_xy = (xy / np.asarray(source, dtype)).astype(product) * np.asarray(target, product)
    far = np.flatnonzero((np.abs(canvas_xy) > MAX_COORDINATE).any(axis=1))   # NaN (missing) is not far
    if len(far):
        (x, y), (canvas_x, canvas_y) = xy[far[0]], canvas_xy[far[0]]
        raise ValueError(f"a point at ({x:g}, {y:g}) of the {source[0]} x {source[1]} pose lands at "
                         f"({canvas_x:g}, {canvas_y:g}) on the {target[0]} x {target[1]} drawing, beyond the "
                         f"+-{MAX_COORDINATE:,} px OpenCV can draw; check the pose's coordinates and canvas size")
    return canvas_xy


def _product_type(dtype) -> type:
    """The type NumPy gives the reference's ``stored value * int(canvas side)`` for values stored as
    ``dtype``. For float32 (hands, face) that is float32 under NumPy 2 (NEP 50) but float64 under NumPy 1's
    value-based promotion, which moves about half the points by a pixel; asking the installed NumPy,
    instead of assuming one, matches the reference on either."""
    return type(dtype(1) * 1)


def draw_body(canvas: np.ndarray, xy: np.ndarray, stick_width: int = STICK_WIDTH,
              offset: Tuple[int, int] = (0, 0)) -> np.ndarray:
    """Filled ellipse sticks for the 17 drawn limbs, then a filled circle per point, from canvas
    positions ``xy`` (18 x 2, NaN = missing) moved by the whole-pixel ``offset``."""
    present = ~np.isnan(xy).any(axis=1)
    for (start, end), color in zip(DRAWN_LIMBS, LIMB_COLORS):
        if present[start] and present[end]:
            polygon = _stick_polygon(xy[start], xy[end], stick_width) + np.int32(offset)
            cv2.fillConvexPoly(canvas, polygon, color)
    for index in np.flatnonzero(present):
        cv2.circle(canvas, _pixel(xy[index], offset), BODY_RADIUS, BODY_COLORS[index], thickness=-1)
    return canvas


def _stick_polygon(start: np.ndarray, end: np.ndarray, stick_width: int) -> np.ndarray:
    """The limb ellipse as the reference builds it. Scalar Python math on purpose: numpy's vectorised
    square, sqrt and arctan2 round differently from libm's pow/atan2 in ~0.1 % of cases, enough to move
    a truncated centre, axis or angle by one."""
    (x1, y1), (x2, y2) = start.tolist(), end.tolist()
    length = ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5
    angle = math.degrees(math.atan2(y1 - y2, x1 - x2))
    centre = (int((x1 + x2) / 2), int((y1 + y2) / 2))
    return cv2.ellipse2Poly(centre, (int(length / 2), stick_width), int(angle), 0, 360, 1)


def draw_hand(canvas: np.ndarray, xy: np.ndarray, offset: Tuple[int, int] = (0, 0)) -> np.ndarray:
    """Coloured 2 px lines for the 20 hand edges, then blue dots, from canvas positions ``xy``
    (21 x 2, NaN = missing) moved by ``offset``; points failing the reference's eps rule are left out."""
    drawable, pixels = _drawable_pixels(xy, offset)
    for (start, end), color in zip(HAND_EDGES, HAND_EDGE_COLORS):
        if drawable[start] and drawable[end]:
            cv2.line(canvas, pixels[start], pixels[end], color, thickness=HAND_LINE_THICKNESS)
    _dots(canvas, pixels, drawable, HAND_RADIUS, HAND_POINT_COLOR)
    return canvas


def draw_face(canvas: np.ndarray, xy: np.ndarray, offset: Tuple[int, int] = (0, 0)) -> np.ndarray:
    """White dots for the face landmarks at canvas positions ``xy`` (NaN = missing) moved by ``offset``,
    eps rule applied."""
    drawable, pixels = _drawable_pixels(xy, offset)
    _dots(canvas, pixels, drawable, FACE_RADIUS, FACE_POINT_COLOR)
    return canvas


def _dots(canvas: np.ndarray, pixels: list, drawable: np.ndarray, radius: int, color) -> None:
    for point, keep in zip(pixels, drawable):
        if keep:
            cv2.circle(canvas, point, radius, color, thickness=-1)


def _drawable_pixels(xy: np.ndarray, offset: Tuple[int, int]) -> Tuple[np.ndarray, list]:
    """Truncated integer positions moved by ``offset`` (as OpenCV point tuples) and which of them the
    reference would draw; the eps rule looks at the positions before moving, as on a canvas of its own."""
    present = ~np.isnan(xy).any(axis=1)
    pixels = np.zeros(xy.shape, np.int64)
    pixels[present] = xy[present]
    return present & (pixels > _EPS).all(axis=1), [tuple(point) for point in (pixels + offset).tolist()]


def _pixel(point: np.ndarray, offset: Tuple[int, int]) -> Tuple[int, int]:
    """Truncate toward zero like ``int()``, then move by ``offset``."""
    return int(point[0]) + offset[0], int(point[1]) + offset[1]
