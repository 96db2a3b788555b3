"""Build `prefecture_shapes.json` (the outlines `/members map` shades) from the japanmap package.

    pip install --no-deps 'japanmap>=0.6,<1' && python -m storage.data.build_prefecture_shapes

(--no-deps: only japanmap's data functions are used, which need numpy alone; its OpenCV dependency is
for its raster drawing, which we do not use.)

japanmap (Apache-2.0, Saito Tsutomu) ships the boundaries of the 47 prefectures; we keep the main area of
each (Hokkaido and Okinawa moved into the usual insets), rounded to 3 decimals (about 100 m), so the bot
needs neither japanmap nor its OpenCV dependency at run time and nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).with_name("prefecture_shapes.json")


def build() -> dict:
    from japanmap import __version__, get_data, pref_points

    points = pref_points(get_data(move_hokkaido=True, move_okinawa=True))
    shapes = {f"{i + 1:02d}": [[round(x, 3), round(y, 3)] for x, y in polygon] for i, polygon in enumerate(points)}
    return {"source": f"japanmap {__version__} (Apache-2.0)", "prefectures": shapes}


def main() -> None:
    data = build()
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {OUT.name}: {len(data['prefectures'])} prefectures")


if __name__ == "__main__":
    main()
