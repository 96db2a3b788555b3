"""The members map: Japan's 47 prefectures shaded by members, drawn with matplotlib into PNG bytes.

The outlines ship with the package (storage/data/prefecture_shapes.json, built from japanmap), so nothing
is downloaded. Drawing takes a few hundred milliseconds: handlers run it in a worker thread. The picture
carries no text but the colour bar's numbers (matplotlib's bundled fonts have no Japanese glyphs); the
message around it says what it shows.
"""

from __future__ import annotations

import io
import json
from functools import cache
from importlib import resources


@cache
def shapes() -> dict[str, list[list[float]]]:
    data = json.loads(resources.files("storage.data").joinpath("prefecture_shapes.json").read_text("utf-8"))
    return data["prefectures"]


def render_map(counts: dict[str, int], *, dpi: int = 100) -> bytes:
    """PNG of the prefectures coloured by count (0: light grey), with a colour bar."""
    # matplotlib costs about a second and 40 MB to import: only the process that draws a map pays it.
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import colormaps
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    polygons = shapes()
    codes = sorted(polygons)
    top = max([counts.get(c, 0) for c in codes] + [1])
    norm = Normalize(vmin=0, vmax=top)
    cmap = colormaps["YlOrRd"]
    colours = [cmap(norm(counts[c])) if counts.get(c) else (0.92, 0.92, 0.92, 1.0) for c in codes]
    figure = Figure(figsize=(7, 7), dpi=dpi)
    axes = figure.add_axes((0.02, 0.02, 0.82, 0.96))
    axes.add_collection(
        PolyCollection([polygons[c] for c in codes], facecolors=colours, edgecolors="#555555", linewidths=0.4)
    )
    axes.autoscale_view()
    axes.set_aspect(1.2)  # roughly 1/cos(36°): degrees of longitude are shorter than of latitude here
    axes.axis("off")
    bar_axes = figure.add_axes((0.86, 0.2, 0.03, 0.6))
    figure.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), cax=bar_axes)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
