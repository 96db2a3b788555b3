"""JMA's disaster-prevention XML (気象庁防災情報XML): the Atom feed and seismic telegrams, parsed into values.

Pure: bytes in, frozen dataclasses out, no I/O. Everything is read through defusedxml with DTDs forbidden:
the telegrams never carry one, so a document that does is refused before any entity (external or
exponentially nested) can be expanded.

Telegrams read here: 震度速報 (VXSE51: prefectures and areas, no hypocentre, no cities) and 震源・震度に関する
情報 (VXSE53: hypocentre, magnitude, prefectures, areas, cities). JMA's prefecture codes in both are the
two-digit JIS codes the project uses (storage/data/prefectures.csv); a city's seven-digit code is its
five-digit JIS municipality code followed by "00".
"""

from __future__ import annotations

import enum
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, total_ordering
from typing import TypeVar
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

ATOM = "http://www.w3.org/2005/Atom"
JMX = "http://xml.kishou.go.jp/jmaxml1/"
JMX_IB = "http://xml.kishou.go.jp/jmaxml1/informationBasis1/"
JMX_SEIS = "http://xml.kishou.go.jp/jmaxml1/body/seismology1/"
JMX_EB = "http://xml.kishou.go.jp/jmaxml1/elementBasis1/"
_E = TypeVar("_E", bound=enum.Enum)
_NS = {"atom": ATOM, "jmx": JMX, "ib": JMX_IB, "seis": JMX_SEIS, "eb": JMX_EB}

# Control/Title of the seismic telegrams, which is also the title of their entry in the Atom feed.
TITLE_INTENSITY_FLASH = "震度速報"  # VXSE51
TITLE_HYPOCENTRE = "震源に関する情報"  # VXSE52: no intensities, nothing to open a check-in with
TITLE_HYPOCENTRE_INTENSITY = "震源・震度に関する情報"  # VXSE53
INTENSITY_TITLES = frozenset({TITLE_INTENSITY_FLASH, TITLE_HYPOCENTRE_INTENSITY})


class JmaXmlError(ValueError):
    """A feed or telegram that cannot be used. `reason`: unsafe | malformed | unexpected."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@total_ordering
class Intensity(enum.Enum):
    """JMA seismic intensity (震度), ordered 1 < … < 4 < 5- < 5+ < 6- < 6+ < 7; the value is JMA's code."""

    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"
    FIVE_LOWER = "5-"
    FIVE_UPPER = "5+"
    SIX_LOWER = "6-"
    SIX_UPPER = "6+"
    SEVEN = "7"

    @property
    def code(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        return _INTENSITY_ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Intensity):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, text: str) -> Intensity:
        """JMA's code ("5-"), or the way people write it ("5弱", "震度６強", full width); ValueError otherwise."""
        word = unicodedata.normalize("NFKC", text).strip().removeprefix("震度").strip()
        word = word.replace("弱", "-").replace("強", "+")
        try:
            return cls(word)
        except ValueError:
            raise ValueError(f"not a JMA seismic intensity: {text!r}") from None


_INTENSITY_ORDER = tuple(Intensity)


class Status(enum.Enum):
    """Control/Status: only NORMAL telegrams describe a real earthquake."""

    NORMAL = "通常"
    DRILL = "訓練"
    TEST = "試験"


class InfoType(enum.Enum):
    """Head/InfoType: CORRECTED replaces an earlier telegram, CANCELLED withdraws the event."""

    ISSUED = "発表"
    CORRECTED = "訂正"
    DELAYED = "遅延"
    CANCELLED = "取消"


@dataclass(frozen=True, slots=True)
class CityIntensity:
    name: str
    code: str
    # None when a station that may have measured 5弱 or more has not reported yet (震度５弱以上未入電).
    max_int: Intensity | None

    @property
    def jis_code(self) -> str:
        """The five-digit JIS municipality code (storage/data/municipalities.csv's code without its check digit)."""
        return self.code[:5]

    @property
    def unreported(self) -> bool:
        return self.max_int is None


@dataclass(frozen=True, slots=True)
class AreaIntensity:
    name: str
    code: str
    max_int: Intensity | None


@dataclass(frozen=True, slots=True)
class PrefIntensity:
    code: str
    name: str
    max_int: Intensity | None
    areas: tuple[AreaIntensity, ...] = ()
    cities: tuple[CityIntensity, ...] = ()

    def reaches(self, level: Intensity) -> bool:
        return self.max_int is not None and self.max_int >= level

    def cities_at_least(self, level: Intensity) -> tuple[CityIntensity, ...]:
        """The municipalities that observed `level` or more, strongest first (JMA's order among equals)."""
        ranked = [(city.max_int, city) for city in self.cities if city.max_int is not None and city.max_int >= level]
        return tuple(city for _, city in sorted(ranked, key=lambda pair: pair[0], reverse=True))


@dataclass(frozen=True, slots=True)
class Quake:
    """One seismic telegram: which event, how it is meant (status, info type) and what was observed."""

    event_id: str
    status: Status
    info_type: InfoType
    title: str
    info_kind: str
    serial: int | None
    sent_at: datetime
    report_time: datetime
    target_time: datetime | None
    origin_time: datetime | None
    epicentre: str | None
    magnitude: float | None
    max_int: Intensity | None
    prefectures: tuple[PrefIntensity, ...]
    headline: str = ""
    editorial_office: str = ""
    publishing_office: str = ""

    @property
    def is_real(self) -> bool:
        """Drills (訓練) and tests (試験) must never reach members as if they were real."""
        return self.status is Status.NORMAL

    @property
    def is_cancellation(self) -> bool:
        return self.info_type is InfoType.CANCELLED

    @property
    def occurred_at(self) -> datetime | None:
        """VXSE51 has no hypocentre block; its Head/TargetDateTime is the time of the shaking."""
        return self.origin_time or self.target_time

    def prefecture(self, code: str) -> PrefIntensity | None:
        return next((pref for pref in self.prefectures if pref.code == code), None)

    def prefectures_at_least(self, level: Intensity) -> tuple[PrefIntensity, ...]:
        return tuple(pref for pref in self.prefectures if pref.reaches(level))


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str
    title: str
    updated: datetime
    link: str
    author: str = ""
    content: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    title: str
    updated: datetime
    entries: tuple[FeedEntry, ...]

    def intensity_entries(self) -> tuple[FeedEntry, ...]:
        """The entries whose telegram carries observed intensities (VXSE51, VXSE53), oldest first."""
        picked = [entry for entry in self.entries if entry.title in INTENSITY_TITLES]
        return tuple(sorted(picked, key=lambda entry: entry.updated))


# ------------------------------------------------------------------ parsing
def parse_feed(data: bytes | str) -> Feed:
    root = _document(data)
    if root.tag != f"{{{ATOM}}}feed":
        raise JmaXmlError("unexpected", f"not an Atom feed: {root.tag}")
    entries = []
    for node in root.findall(_clark("atom:entry")):
        # One odd entry (no link, no time) must not hide the others: the feed is all the watcher has.
        try:
            entries.append(_entry(node))
        except JmaXmlError:
            continue
    return Feed(
        id=_text(root, "atom:id"),
        title=_text(root, "atom:title"),
        updated=_time(_required(root, "atom:updated")),
        entries=tuple(entries),
    )


def parse_telegram(data: bytes | str) -> Quake:
    root = _document(data)
    if root.tag != f"{{{JMX}}}Report":
        raise JmaXmlError("unexpected", f"not a JMA report: {root.tag}")
    control = _node(root, "jmx:Control")
    head = _node(root, "ib:Head")
    body = root.find(_clark("seis:Body"))
    if body is None:
        raise JmaXmlError("unexpected", "not a seismic telegram")
    status = _enum(Status, _required(control, "jmx:Status"))
    info_type = _enum(InfoType, _required(head, "ib:InfoType"))
    earthquake = body.find(_clark("seis:Earthquake"))
    observation = body.find(_clark("seis:Intensity/seis:Observation"))
    serial = _text(head, "ib:Serial")
    target = _text(head, "ib:TargetDateTime")
    return Quake(
        event_id=_required(head, "ib:EventID"),
        status=status,
        info_type=info_type,
        title=_required(control, "jmx:Title"),
        info_kind=_text(head, "ib:InfoKind"),
        serial=int(serial) if serial.isdigit() else None,
        sent_at=_time(_required(control, "jmx:DateTime")),
        report_time=_time(_required(head, "ib:ReportDateTime")),
        target_time=_time(target) if target else None,
        origin_time=_origin(earthquake),
        epicentre=_epicentre(earthquake),
        magnitude=_magnitude(earthquake),
        max_int=_intensity(observation, "seis:MaxInt") if observation is not None else None,
        prefectures=_prefectures(observation),
        headline=_text(head, "ib:Headline/ib:Text"),
        editorial_office=_text(control, "jmx:EditorialOffice"),
        publishing_office=_text(control, "jmx:PublishingOffice"),
    )


def _document(data: bytes | str) -> Element:
    try:
        return safe_xml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise JmaXmlError("unsafe", type(exc).__name__) from exc
    except safe_xml.ParseError as exc:
        raise JmaXmlError("malformed", str(exc)) from exc


def _entry(node: Element) -> FeedEntry:
    link = next((el.get("href", "") for el in node.findall(_clark("atom:link")) if el.get("href")), "")
    if not link:
        raise JmaXmlError("unexpected", "feed entry without a link")
    return FeedEntry(
        id=_required(node, "atom:id"),
        title=_text(node, "atom:title"),
        updated=_time(_required(node, "atom:updated")),
        link=link,
        author=_text(node, "atom:author/atom:name"),
        content=_text(node, "atom:content"),
    )


def _pref(node: Element) -> PrefIntensity:
    areas = node.findall(_clark("seis:Area"))
    return PrefIntensity(
        # JMA writes the JIS code with its leading zero; zfill keeps "1" and "01" from ever becoming two keys.
        code=_required(node, "seis:Code").zfill(2),
        name=_required(node, "seis:Name"),
        max_int=_intensity(node, "seis:MaxInt"),
        areas=tuple(
            AreaIntensity(_text(a, "seis:Name"), _text(a, "seis:Code"), _intensity(a, "seis:MaxInt")) for a in areas
        ),
        cities=tuple(
            CityIntensity(_required(c, "seis:Name"), _text(c, "seis:Code"), _intensity(c, "seis:MaxInt"))
            for area in areas
            for c in area.findall(_clark("seis:City"))
        ),
    )


def _prefectures(observation: Element | None) -> tuple[PrefIntensity, ...]:
    if observation is None:
        return ()
    return tuple(_pref(node) for node in observation.findall(_clark("seis:Pref")))


def _origin(earthquake: Element | None) -> datetime | None:
    if earthquake is None:
        return None
    text = _text(earthquake, "seis:OriginTime")
    return _time(text) if text else None


def _epicentre(earthquake: Element | None) -> str | None:
    if earthquake is None:
        return None
    return _text(earthquake, "seis:Hypocenter/seis:Area/seis:Name") or None


def _magnitude(earthquake: Element | None) -> float | None:
    if earthquake is None:
        return None
    text = _text(earthquake, "eb:Magnitude")
    try:
        value = float(text)
    except ValueError:
        return None
    # JMA writes NaN (with condition="不明" or "M8を超える巨大地震") when the magnitude is not known yet.
    return None if math.isnan(value) else value


def _intensity(node: Element, path: str) -> Intensity | None:
    text = _text(node, path)
    if not text:
        return None
    try:
        return Intensity(text)
    except ValueError:
        raise JmaXmlError("unexpected", f"intensity {text!r}") from None


def _enum(kind: type[_E], text: str) -> _E:
    try:
        return kind(text)
    except ValueError:
        raise JmaXmlError("unexpected", f"{kind.__name__} {text!r}") from None


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise JmaXmlError("unexpected", f"time {text!r}") from None
    if moment.tzinfo is None:
        raise JmaXmlError("unexpected", f"time without offset {text!r}")
    return moment


@lru_cache(maxsize=256)
def _clark(path: str) -> str:
    """Prefixed path to Clark notation ("seis:Pref" -> "{…/seismology1/}Pref").

    Without a namespace map C ElementTree finds a child tag itself instead of going through ElementPath: an
    all-Japan VXSE53 (326 KiB, 1,912 cities) reads in 44 ms of CPU instead of 76 (the tree alone takes 35).
    """
    steps = (step.partition(":") for step in path.split("/"))
    return "/".join(f"{{{_NS[prefix]}}}{tag}" for prefix, _, tag in steps)


def _node(parent: Element, path: str) -> Element:
    node = parent.find(_clark(path))
    if node is None:
        raise JmaXmlError("unexpected", f"missing {path}")
    return node


def _text(parent: Element, path: str) -> str:
    node = parent.find(_clark(path))
    return (node.text or "").strip() if node is not None else ""


def _required(parent: Element, path: str) -> str:
    text = _text(parent, path)
    if not text:
        raise JmaXmlError("unexpected", f"missing {path}")
    return text
