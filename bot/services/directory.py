"""The members map: Japan's 47 prefectures shaded by members, drawn with Pillow into PNG bytes.

The outlines ship with the package (storage/data/prefecture_shapes.json, built from japanmap), so nothing
is downloaded. Drawing takes a few tens of milliseconds; handlers still run it in a worker thread. The picture
carries no text but the colour bar's numbers (drawn in Pillow's built-in font, which has digits but no Japanese
glyphs); the message around it says what it shows. The picture is the one matplotlib used to draw (same
layout, the same YlOrRd colour scale), without its 160 MB of install and second of imports.
"""

from __future__ import annotations

import io
import json
import math
from functools import cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

# ColorBrewer's YlOrRd in nine steps (what matplotlib's "YlOrRd" interpolates), light to dark.
YL_OR_RD = (
    (255, 255, 204),
    (255, 237, 160),
    (254, 217, 118),
    (254, 178, 76),
    (253, 141, 60),
    (252, 78, 42),
    (227, 26, 28),
    (189, 0, 38),
    (128, 0, 38),
)
NONE = (235, 235, 235)  # prefectures without members
EDGE = (85, 85, 85)
INK = (0, 0, 0)
SCALE = 2  # drawn at twice the size and scaled down: Pillow's polygons have no anti-aliasing of their own
ASPECT = 1.2  # roughly 1/cos(36°): degrees of longitude are shorter than of latitude here
# Where things sit, as fractions of the picture (left, bottom, width, height), as the matplotlib figure had them.
MAP_BOX = (0.02, 0.02, 0.82, 0.96)
BAR_BOX = (0.86, 0.2, 0.03, 0.6)


@cache
def shapes() -> dict[str, list[list[float]]]:
    data = json.loads(resources.files("storage.data").joinpath("prefecture_shapes.json").read_text("utf-8"))
    return data["prefectures"]


def shade(fraction: float) -> tuple[int, int, int]:
    """The colour for a count at `fraction` (0..1) of the largest, interpolated along YlOrRd."""
    position = min(1.0, max(0.0, fraction)) * (len(YL_OR_RD) - 1)
    low = min(int(position), len(YL_OR_RD) - 2)
    t = position - low
    a, b = YL_OR_RD[low], YL_OR_RD[low + 1]
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def ticks(top: int) -> list[int]:
    """Round numbers from 0 to `top` for the colour bar: steps of 1, 2, 2.5 or 5 × 10^n, at most 9 of them."""
    for exponent in range(0, 12):
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * 10**exponent
            if top / step < 9:
                return [round(i * step) for i in range(math.floor(top / step) + 1)]
    return [0, top]


def _box(box: tuple[float, float, float, float], size: int) -> tuple[float, float, float, float]:
    """A (left, bottom, width, height) fraction box as pixel (x0, y0, x1, y1), y downwards."""
    left, bottom, width, height = box
    return left * size, (1 - bottom - height) * size, (left + width) * size, (1 - bottom) * size


def render_map(counts: dict[str, int], *, dpi: int = 100) -> bytes:
    """PNG of the prefectures coloured by count (0: light grey), with a colour bar."""
    size = 7 * dpi * SCALE
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    polygons = shapes()
    codes = sorted(polygons)
    top = max([counts.get(c, 0) for c in codes] + [1])

    # Fit the outlines into the map box with a 5 % margin each side, keeping the aspect, centred.
    xs = [x for c in codes for x, _ in polygons[c]]
    ys = [y for c in codes for _, y in polygons[c]]
    x0, y0, x1, y1 = _box(MAP_BOX, size)
    scale = min((x1 - x0) / (max(xs) - min(xs)), (y1 - y0) / ((max(ys) - min(ys)) * ASPECT)) / 1.1
    left = (x0 + x1) / 2 - (max(xs) + min(xs)) / 2 * scale
    middle = (y0 + y1) / 2 + (max(ys) + min(ys)) / 2 * scale * ASPECT
    edge = max(1, round(0.4 * dpi / 72 * SCALE))
    for code in codes:
        points = [(left + x * scale, middle - y * scale * ASPECT) for x, y in polygons[code]]
        fill = shade(counts[code] / top) if counts.get(code) else NONE
        draw.polygon(points, fill=fill, outline=EDGE, width=edge)

    # The colour bar: 0 at the bottom, the largest count at the top, round numbers beside it.
    bx0, by0, bx1, by1 = _box(BAR_BOX, size)
    for y in range(round(by0), round(by1)):
        draw.line([(bx0, y), (bx1, y)], fill=shade((by1 - y) / (by1 - by0)))
    draw.rectangle([bx0, by0, bx1, by1], outline=INK, width=max(1, SCALE))
    font = ImageFont.load_default(size=10 * dpi / 72 * SCALE)
    for value in ticks(top):
        y = by1 - value / top * (by1 - by0)
        draw.line([(bx1, y), (bx1 + 3.5 * dpi / 72 * SCALE, y)], fill=INK, width=max(1, SCALE))
        draw.text((bx1 + 6 * dpi / 72 * SCALE, y), str(value), fill=INK, font=font, anchor="lm")

    out = io.BytesIO()
    image.resize((size // SCALE, size // SCALE), Image.Resampling.BOX).save(out, format="PNG")
    return out.getvalue()
