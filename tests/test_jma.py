"""JMA's XML: each telegram fixture read as a member would be told it, hostile XML refused, the fake feed's GETs."""

from __future__ import annotations

import xml.etree.ElementTree as stdlib_xml
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from storage import data
from storage.jma import (
    INTENSITY_TITLES,
    TITLE_HYPOCENTRE,
    TITLE_HYPOCENTRE_INTENSITY,
    TITLE_INTENSITY_FLASH,
    CityIntensity,
    InfoType,
    Intensity,
    JmaXmlError,
    PrefIntensity,
    Quake,
    Status,
    parse_feed,
    parse_telegram,
)
from tests.fake_jma import FIXTURES, FakeJma, fixture, started_fake_jma

JST = timezone(timedelta(hours=9))
SAITAMA_EVENT = "20261120021412"
THREE_PREF_EVENT = "20261125033045"
FIVE_LOWER = Intensity.FIVE_LOWER

ALL_FIXTURES = {
    "vxse51_saitama_5plus.xml",
    "vxse53_saitama_5plus.xml",
    "vxse53_saitama_5plus_corrected.xml",
    "vxse53_saitama_cancel.xml",
    "vxse53_drill.xml",
    "vxse51_test.xml",
    "vxse51_three_prefectures.xml",
    "vxse53_three_prefectures.xml",
    "vxse53_below_threshold.xml",
}


def telegram(name: str) -> Quake:
    return parse_telegram(fixture(name))


def cities(quake: Quake, pref_code: str) -> list[tuple[str, str | None]]:
    pref = quake.prefecture(pref_code)
    assert pref is not None
    return [(city.name, city.max_int.code if city.max_int else None) for city in pref.cities]


# --------------------------------------------------------------- intensity
def test_intensity_is_ordered_on_jma_scale_and_reads_how_people_write_it():
    assert [level.code for level in sorted(Intensity, reverse=True)] == [
        "7",
        "6+",
        "6-",
        "5+",
        "5-",
        "4",
        "3",
        "2",
        "1",
    ]
    assert Intensity.FOUR < Intensity.FIVE_LOWER < Intensity.FIVE_UPPER < Intensity.SIX_LOWER
    assert max(Intensity.FIVE_UPPER, Intensity.SIX_LOWER, Intensity.FOUR) is Intensity.SIX_LOWER
    assert Intensity.parse("5-") is Intensity.FIVE_LOWER
    assert Intensity.parse("5弱") is Intensity.FIVE_LOWER
    assert Intensity.parse("震度６強") is Intensity.SIX_UPPER
    assert Intensity.parse(" ７ ") is Intensity.SEVEN
    for wrong in ("8", "5", "0", "", "strong"):
        with pytest.raises(ValueError):
            Intensity.parse(wrong)


def test_strongest_cities_come_first_and_unreported_ones_are_not_guessed():
    level = {code: Intensity(code) for code in ("4", "5-", "6-")}
    pref = PrefIntensity(
        code="11",
        name="pref",
        max_int=Intensity.SIX_LOWER,
        cities=(
            CityIntensity("a", "1110000", level["5-"]),
            CityIntensity("b", "1120000", level["6-"]),
            CityIntensity("c", "1130000", None),
            CityIntensity("d", "1140000", level["5-"]),
            CityIntensity("e", "1150000", level["4"]),
        ),
    )
    assert [city.name for city in pref.cities_at_least(FIVE_LOWER)] == ["b", "a", "d"]
    assert pref.reaches(Intensity.SIX_LOWER) and not pref.reaches(Intensity.SIX_UPPER)
    assert not PrefIntensity("11", "pref", None).reaches(Intensity.ONE)


# ------------------------------------------------------------------ fixtures
def test_every_fixture_has_its_expectations_here():
    assert {path.name for path in FIXTURES.glob("*.xml")} == ALL_FIXTURES


def test_intensity_flash_names_the_prefecture_and_areas_but_no_cities():
    quake = telegram("vxse51_saitama_5plus.xml")
    assert quake.title == TITLE_INTENSITY_FLASH
    assert (quake.event_id, quake.status, quake.info_type, quake.serial) == (
        SAITAMA_EVENT,
        Status.NORMAL,
        InfoType.ISSUED,
        1,
    )
    assert quake.is_real and not quake.is_cancellation
    # No hypocentre block in a 震度速報: the time of the shaking comes from the head.
    assert (quake.origin_time, quake.epicentre, quake.magnitude) == (None, None, None)
    assert quake.occurred_at == datetime(2026, 11, 20, 2, 14, tzinfo=JST)
    assert quake.max_int is Intensity.FIVE_UPPER
    assert [(p.code, p.max_int) for p in quake.prefectures] == [("11", Intensity.FIVE_UPPER), ("13", Intensity.FOUR)]
    assert [p.name for p in quake.prefectures_at_least(FIVE_LOWER)] == [data.prefecture("11").name]
    saitama = quake.prefecture("11")
    assert [(a.code, a.max_int) for a in saitama.areas] == [("431", Intensity.FIVE_UPPER), ("430", Intensity.FOUR)]
    assert saitama.cities == ()


def test_hypocentre_and_intensity_report_lists_the_cities_that_felt_it():
    quake = telegram("vxse53_saitama_5plus.xml")
    assert quake.title == TITLE_HYPOCENTRE_INTENSITY
    assert (quake.event_id, quake.info_type, quake.serial) == (SAITAMA_EVENT, InfoType.ISSUED, 1)
    assert quake.origin_time == datetime(2026, 11, 20, 2, 14, tzinfo=JST) == quake.occurred_at
    assert quake.report_time == datetime(2026, 11, 20, 2, 20, tzinfo=JST)
    assert quake.magnitude == 5.4
    assert quake.epicentre is not None and quake.epicentre.startswith(data.prefecture("11").name)
    assert [p.code for p in quake.prefectures_at_least(FIVE_LOWER)] == ["11"]
    assert quake.prefecture("13").max_int is Intensity.FOUR
    assert quake.prefecture("12").max_int is Intensity.THREE
    saitama = quake.prefecture("11")
    urawa, kawaguchi, toda, kumagaya = (data.municipality(code).name for code in ("11107", "11203", "11224", "11202"))
    # 戸田市's station may have felt 5弱 or more but has not reported: no intensity, and marked so.
    assert cities(quake, "11") == [(urawa, "5+"), (kawaguchi, "5-"), (toda, None), (kumagaya, "4")]
    assert [c.name for c in saitama.cities if c.unreported] == [toda]
    assert [c.name for c in saitama.cities_at_least(FIVE_LOWER)] == [urawa, kawaguchi]
    assert quake.headline


def test_correction_of_the_same_event_replaces_the_cities_and_magnitude():
    first = telegram("vxse53_saitama_5plus.xml")
    corrected = telegram("vxse53_saitama_5plus_corrected.xml")
    assert corrected.event_id == first.event_id
    assert (corrected.info_type, corrected.serial) == (InfoType.CORRECTED, 2)
    assert corrected.report_time > first.report_time
    assert corrected.magnitude == 5.5
    kawaguchi, toda = data.municipality("11203").name, data.municipality("11224").name
    assert dict(cities(corrected, "11"))[kawaguchi] == "5+"
    assert dict(cities(corrected, "11"))[toda] == "5-"
    assert not any(city.unreported for city in corrected.prefecture("11").cities)
    assert [c.name for c in corrected.prefecture("11").cities_at_least(Intensity.FIVE_UPPER)][1:] == [kawaguchi]


def test_cancellation_withdraws_the_event_and_carries_no_intensity():
    quake = telegram("vxse53_saitama_cancel.xml")
    assert (quake.event_id, quake.info_type, quake.serial) == (SAITAMA_EVENT, InfoType.CANCELLED, 3)
    assert quake.is_cancellation and quake.is_real
    assert (quake.max_int, quake.prefectures, quake.magnitude, quake.epicentre) == (None, (), None, None)
    assert quake.prefectures_at_least(Intensity.ONE) == ()


@pytest.mark.parametrize(
    ("name", "status", "pref_code", "level"),
    [
        ("vxse53_drill.xml", Status.DRILL, "22", Intensity.SIX_LOWER),
        ("vxse51_test.xml", Status.TEST, "01", Intensity.FIVE_LOWER),
    ],
)
def test_drills_and_tests_parse_fully_but_are_not_real(name, status, pref_code, level):
    quake = telegram(name)
    assert quake.status is status
    assert not quake.is_real
    # Parsed all the same: a replayed drill (yakuba disaster replay) shows what a real one would.
    assert quake.prefecture(pref_code).max_int is level
    assert quake.prefecture(pref_code).name == data.prefecture(pref_code).name


def test_three_prefectures_at_once_in_both_telegrams_of_the_event():
    flash, report = telegram("vxse51_three_prefectures.xml"), telegram("vxse53_three_prefectures.xml")
    assert flash.event_id == report.event_id == THREE_PREF_EVENT
    for quake in (flash, report):
        strong = quake.prefectures_at_least(FIVE_LOWER)
        assert [(p.code, p.max_int) for p in strong] == [
            ("08", Intensity.SIX_LOWER),
            ("09", Intensity.FIVE_UPPER),
            ("10", Intensity.FIVE_LOWER),
        ]
        assert quake.prefecture("11").max_int is Intensity.FOUR
    assert [c.name for c in report.prefecture("09").cities_at_least(FIVE_LOWER)] == [
        data.municipality("09208").name,
        data.municipality("09201").name,
    ]
    assert [c.name for c in report.prefecture("10").cities_at_least(FIVE_LOWER)] == [data.municipality("10207").name]
    assert report.magnitude == 6.1


def test_below_the_threshold_nothing_reaches_five_lower():
    quake = telegram("vxse53_below_threshold.xml")
    assert quake.is_real and quake.max_int is Intensity.FOUR
    assert quake.prefectures_at_least(FIVE_LOWER) == ()
    assert quake.prefectures_at_least(Intensity.FOUR)[0].code == "12"


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_jma_codes_are_the_projects_prefecture_and_municipality_codes(name):
    quake = telegram(name)
    for pref in quake.prefectures:
        assert data.prefecture(pref.code).name == pref.name
        for city in pref.cities:
            municipality = data.municipality(city.jis_code)
            assert municipality is not None, city
            assert (municipality.name, municipality.pref_code) == (city.name, pref.code)
            assert city.code == city.jis_code + "00"


# ------------------------------------------------------------------ hostile XML
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Report [
  <!ENTITY a "ha">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"><Control><Title>&d;</Title></Control></Report>
"""


def external_entity(target: str) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE Report [<!ENTITY secret SYSTEM "{target}">]>\n'
        '<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"><Control><Title>&secret;</Title></Control></Report>\n'
    ).encode()


def test_the_hazard_is_real_for_a_plain_parser():
    # The standard library expands internal entities: 10**3 copies from a few lines. defusedxml must not.
    expanded = stdlib_xml.fromstring(BILLION_LAUGHS).find("{http://xml.kishou.go.jp/jmaxml1/}Control")
    assert len(expanded[0].text) == 2 * 10**3


@pytest.mark.parametrize(
    "document",
    [
        BILLION_LAUGHS,
        external_entity("file:///etc/hostname"),
        external_entity("http://127.0.0.1:9/leak"),
        b'<?xml version="1.0"?>\n<!DOCTYPE Report SYSTEM "http://127.0.0.1:9/jmx.dtd">\n<Report/>',
    ],
    ids=["billion-laughs", "external-file", "external-url", "external-dtd"],
)
@pytest.mark.parametrize("parse", [parse_telegram, parse_feed], ids=["telegram", "feed"])
def test_entities_and_dtds_are_refused(parse, document):
    with pytest.raises(JmaXmlError) as refused:
        parse(document)
    assert refused.value.reason == "unsafe"


def test_malformed_and_foreign_documents_are_told_apart():
    whole = fixture("vxse53_saitama_5plus.xml")
    with pytest.raises(JmaXmlError) as cut:
        parse_telegram(whole[: len(whole) // 2])
    assert cut.value.reason == "malformed"
    weather = whole.replace(b"body/seismology1/", b"body/meteorology1/")
    with pytest.raises(JmaXmlError) as foreign:
        parse_telegram(weather)
    assert foreign.value.reason == "unexpected"
    for wrong in (
        whole.replace("<Status>通常<".encode(), "<Status>練習<".encode()),
        whole.replace(b"<MaxInt>4</MaxInt>", b"<MaxInt>8</MaxInt>", 1),
        whole.replace(b"<EventID>20261120021412</EventID>", b"<EventID/>"),
    ):
        with pytest.raises(JmaXmlError) as odd:
            parse_telegram(wrong)
        assert odd.value.reason == "unexpected"
    with pytest.raises(JmaXmlError) as not_feed:
        parse_feed(whole)
    assert not_feed.value.reason == "unexpected"


# ------------------------------------------------------------------ feed
def test_an_odd_feed_entry_is_skipped_not_fatal():
    feed = parse_feed(
        b"""<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>
        <updated>2026-11-19T17:20:12Z</updated>
        <entry><id>a</id><title>t</title><updated>2026-11-19T17:20:12Z</updated></entry>
        <entry><id>b</id><title>t</title><updated>soon</updated><link href="http://127.0.0.1/b.xml"/></entry>
        <entry><id>c</id><title>t</title><updated>2026-11-19T17:20:12+00:00</updated>
          <link href="http://127.0.0.1/c.xml"/></entry>
        </feed>"""
    )
    assert [entry.id for entry in feed.entries] == ["c"]
    assert feed.entries[0].updated == datetime(2026, 11, 20, 2, 20, 12, tzinfo=JST)


@pytest.fixture
async def jma() -> FakeJma:
    server = await started_fake_jma()
    yield server
    await server.stop()


async def test_feed_lists_published_telegrams_newest_first(jma: FakeJma):
    flash = jma.publish("vxse51_saitama_5plus.xml")
    report = jma.publish("vxse53_saitama_5plus.xml")
    jma.publish("vxse52_saitama.xml", data=b"<x/>", title=TITLE_HYPOCENTRE, at=flash.at + timedelta(minutes=1))
    async with aiohttp.ClientSession() as http, http.get(jma.feed_url) as response:
        assert response.status == 200
        feed = parse_feed(await response.read())
    newest_first = [TITLE_HYPOCENTRE_INTENSITY, TITLE_HYPOCENTRE, TITLE_INTENSITY_FLASH]
    assert [entry.title for entry in feed.entries] == newest_first
    assert feed.updated == report.at == telegram("vxse53_saitama_5plus.xml").sent_at
    # The watcher reads only the telegrams that carry intensities, in the order JMA sent them.
    picked = feed.intensity_entries()
    assert [entry.link for entry in picked] == [
        jma.url_for("vxse51_saitama_5plus.xml"),
        jma.url_for("vxse53_saitama_5plus.xml"),
    ]
    assert {entry.title for entry in picked} <= INTENSITY_TITLES
    assert picked[1].author == telegram("vxse53_saitama_5plus.xml").publishing_office
    assert picked[1].content == telegram("vxse53_saitama_5plus.xml").headline
    assert len({entry.id for entry in feed.entries}) == 3
    async with aiohttp.ClientSession() as http, http.get(picked[1].link) as response:
        assert parse_telegram(await response.read()).serial == 1


async def test_feed_answers_304_to_its_etag_and_last_modified(jma: FakeJma):
    jma.publish("vxse51_saitama_5plus.xml")
    async with aiohttp.ClientSession() as http:
        async with http.get(jma.feed_url) as first:
            assert first.status == 200
            etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        async with http.get(jma.feed_url, headers={"If-None-Match": etag}) as again:
            assert again.status == 304
            assert await again.read() == b""
        async with http.get(jma.feed_url, headers={"If-Modified-Since": modified}) as again:
            assert again.status == 304
        # If-None-Match decides when both are sent: a stale tag gets the feed even if the date matches.
        async with http.get(jma.feed_url, headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}) as r:
            assert r.status == 200
        jma.publish("vxse53_saitama_5plus.xml")
        async with http.get(jma.feed_url, headers={"If-None-Match": etag}) as changed:
            assert changed.status == 200
            assert changed.headers["ETag"] != etag
            assert len(parse_feed(await changed.read()).entries) == 2
        async with http.get(jma.feed_url, headers={"If-Modified-Since": modified}) as changed:
            assert changed.status == 200
    assert jma.count("feed") == 6
    assert jma.count("feed", status=304) == 2
    assert [seen.if_none_match for seen in jma.requests[:2]] == [None, etag]


async def test_faults_500_then_malformed_then_recovered(jma: FakeJma):
    jma.publish("vxse53_three_prefectures.xml")
    jma.fail("feed", status=500)
    jma.malformed("feed")
    jma.fail("vxse53_three_prefectures.xml", status=503, times=2)
    async with aiohttp.ClientSession() as http:
        async with http.get(jma.feed_url) as failed:
            assert failed.status == 500
        async with http.get(jma.feed_url) as cut:
            assert cut.status == 200
            with pytest.raises(JmaXmlError) as broken:
                parse_feed(await cut.read())
            assert broken.value.reason == "malformed"
        async with http.get(jma.feed_url) as good:
            link = parse_feed(await good.read()).entries[0].link
        statuses = []
        for _ in range(3):
            async with http.get(link) as response:
                statuses.append(response.status)
                body = await response.read()
        assert statuses == [503, 503, 200]
        assert parse_telegram(body).event_id == THREE_PREF_EVENT
        async with http.get(jma.url_for("never_published.xml")) as missing:
            assert missing.status == 404
    assert jma.count("feed") == 3 and jma.count("telegram") == 4
    assert jma.count("vxse53_three_prefectures.xml", status=503) == 2


async def test_a_hanging_feed_times_the_client_out_and_then_answers(jma: FakeJma):
    jma.publish("vxse51_saitama_5plus.xml")
    jma.hang("feed", bound=30)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(TimeoutError):
            async with http.get(jma.feed_url, timeout=aiohttp.ClientTimeout(total=0.3)):
                pass
        jma.release()
        async with http.get(jma.feed_url) as answered:
            assert answered.status == 200
            assert len(parse_feed(await answered.read()).entries) == 1
