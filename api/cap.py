"""CAP 1.2 alerts (OASIS Common Alerting Protocol) → incident reports.

The first profile is BMKG InaTEWS earthquake alerts: ``<event>Gempabumi</event>``,
``<parameter>`` Magnitude and EventDepth/Depth, ``<area>`` with a ``<circle>``
("lat,lon radius_km"), a ``<point>`` ("lat,lon", or KML ``<coordinates>lon,lat``)
or a ``<polygon>`` (its vertices' mean). Parsing uses defusedxml with DTDs
forbidden: a document with a DOCTYPE (hence any ENTITY declaration) is refused
whatever its encoding (UTF-8, UTF-16, …), which rules out entity-expansion bombs and
external entities. Coordinates that are not numbers are a :class:`CapError` (422).

Severity 1–5 is the larger of two readings:

- CAP ``<severity>``: Extreme 5, Severe 4, Moderate 3, Minor 2, Unknown —
- magnitude: ≥ 7.0 → 5, ≥ 6.0 → 4, ≥ 5.0 → 3, ≥ 4.0 → 2, else 1; one step more
  (at most 5) when the quake is shallow (depth ≤ 30 km) and M ≥ 5.0, because
  shallow quakes near towns do the damage (Cianjur 2022: M5.6 at 10 km → 4).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime

import defusedxml
import defusedxml.ElementTree as SafeET

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
# Stable namespace for event ids derived from CAP identifiers (uuid5), so the same
# alert posted twice (by two gateways, or a retry) is one event.
CAP_EVENT_NAMESPACE = uuid.UUID("6f0d2c1e-4b1a-5c3e-9d57-2a8f1e0b7c44")
MAX_CAP_BYTES = 64 * 1024

_EVENT_TYPES: tuple[tuple[str, str], ...] = (
    ("tsunami", "tsunami"),
    ("gempa", "earthquake"),
    ("earthquake", "earthquake"),
    ("banjir bandang", "flash_flood"),
    ("lahar", "lahar_flood"),
    ("banjir", "flood"),
    ("flood", "flood"),
    ("longsor", "landslide"),
    ("landslide", "landslide"),
    ("erupsi", "eruption"),
    ("letusan", "eruption"),
    ("eruption", "eruption"),
    ("puting beliung", "tornado"),
    ("kebakaran hutan", "forest_fire"),
    ("karhutla", "forest_fire"),
    ("kekeringan", "drought"),
)
_CAP_SEVERITY = {"extreme": 5, "severe": 4, "moderate": 3, "minor": 2}
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:\-]+")


class CapError(ValueError):
    """A document that is not an acceptable CAP 1.2 alert; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    event: str
    incident_type: str
    lat: float
    lon: float
    onset: datetime
    severity: int
    magnitude: float | None = None
    depth_km: float | None = None
    area_desc: str | None = None
    headline: str | None = None
    cap_severity: str | None = None
    references: tuple[str, ...] = field(default_factory=tuple)

    @property
    def event_id(self) -> uuid.UUID:
        return uuid.uuid5(CAP_EVENT_NAMESPACE, f"{self.sender}|{self.identifier}")

    @property
    def incident_id(self) -> str:
        """An update (msgType Update) keeps the incident of the alert it references."""
        return identifier_for(self.references[0] if self.references else self.identifier)

    @property
    def occurred_at(self) -> datetime:
        """The quake's onset; for an Update, when it was sent, so it supersedes the alert
        (the incident read model keeps the report with the latest time)."""
        return max(self.onset, self.sent) if self.msg_type == "Update" else self.onset

    @property
    def posko_id(self) -> str:
        return "bmkg-inatews" if "bmkg" in self.sender.lower() else identifier_for(self.sender)

    def description(self) -> str:
        parts = [self.headline or self.event]
        if self.magnitude is not None:
            parts.append(f"M{self.magnitude:g}")
        if self.depth_km is not None:
            parts.append(f"kedalaman {self.depth_km:g} km")
        if self.area_desc:
            parts.append(self.area_desc)
        parts.append(f"CAP {self.identifier} ({self.sender})")
        return "; ".join(parts)[:2000]


def identifier_for(text: str) -> str:
    cleaned = _ID_UNSAFE.sub("-", text.strip()).strip("-._:") or "alert"
    return f"cap-{cleaned}"[:128]


def _tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _child(parent: ET.Element, name: str) -> ET.Element | None:
    return parent.find(f"{{{CAP_NS}}}{name}")


def _text(parent: ET.Element, name: str, where: str, required: bool = True) -> str | None:
    element = _child(parent, name)
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        if required:
            raise CapError(f"{where}.{name}", "missing or empty")
        return None
    return text


def _datetime(value: str, field_name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CapError(field_name, f"{value!r} is not a CAP date-time") from None
    if parsed.tzinfo is None:
        raise CapError(field_name, f"{value!r} lacks a timezone offset")
    return parsed.astimezone(UTC)


def _number(value: str, field_name: str) -> float:
    match = _NUMBER.search(value)
    if match is None:
        raise CapError(field_name, f"{value!r} holds no number")
    return float(match.group().replace(",", "."))


def _lat_lon(first: float, second: float, field_name: str) -> tuple[float, float]:
    lat, lon = first, second
    if abs(lat) > 90 and abs(lon) <= 90:  # lon,lat order: unambiguous only past 90°
        lat, lon = lon, lat
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CapError(field_name, f"{first},{second} is not a WGS84 lat,lon")
    return lat, lon


_COORDINATE = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _pair(text: str, field_name: str) -> tuple[float, float]:
    numbers = [float(n) for n in _COORDINATE.findall(text)]
    if len(numbers) < 2:
        raise CapError(field_name, f"{text[:80]!r} is not 'lat,lon'")
    return _lat_lon(numbers[0], numbers[1], field_name)


def _location(area: ET.Element) -> tuple[float, float]:
    circle = _child(area, "circle")
    if circle is not None and (circle.text or "").strip():
        point_text = (circle.text or "").strip().split()[0]
        return _pair(point_text, "info.area.circle")
    point = _child(area, "point")
    if point is not None:
        coordinates = point.find("{*}coordinates")
        if coordinates is not None and (coordinates.text or "").strip():
            where = "info.area.point.coordinates"
            text = (coordinates.text or "").strip()
            numbers = [float(n) for n in _COORDINATE.findall(text)]
            if len(numbers) < 2:
                raise CapError(where, f"{text[:80]!r} is not KML 'lon,lat'")
            return _lat_lon(numbers[1], numbers[0], where)  # KML order: lon,lat
        if (point.text or "").strip():
            return _pair((point.text or "").strip(), "info.area.point")
    polygon = _child(area, "polygon")
    if polygon is not None and (polygon.text or "").strip():
        vertices = [_pair(v, "info.area.polygon") for v in (polygon.text or "").split()]
        if len(vertices) > 1 and vertices[0] == vertices[-1]:
            vertices = vertices[:-1]
        return (
            sum(v[0] for v in vertices) / len(vertices),
            sum(v[1] for v in vertices) / len(vertices),
        )
    raise CapError("info.area", "no circle, point or polygon gives the location")


def _parameters(info: ET.Element) -> dict[str, str]:
    params: dict[str, str] = {}
    for parameter in info.findall(f"{{{CAP_NS}}}parameter"):
        name = _text(parameter, "valueName", "info.parameter", required=False)
        value = _text(parameter, "value", "info.parameter", required=False)
        if name and value:
            params[name.strip().lower()] = value
    return params


def incident_type_for(event: str) -> str:
    lowered = event.lower()
    for needle, incident_type in _EVENT_TYPES:
        if needle in lowered:
            return incident_type
    return "other"


def severity_for(magnitude: float | None, depth_km: float | None, cap_severity: str | None) -> int:
    """Severity 1–5 from CAP severity and magnitude/depth (see the module docstring)."""
    from_cap = _CAP_SEVERITY.get((cap_severity or "").lower())
    if magnitude is None:
        return from_cap or 2  # neither says: a moderate default, for a human to revise
    if magnitude >= 7.0:
        from_magnitude = 5
    elif magnitude >= 6.0:
        from_magnitude = 4
    elif magnitude >= 5.0:
        from_magnitude = 3
    elif magnitude >= 4.0:
        from_magnitude = 2
    else:
        from_magnitude = 1
    if depth_km is not None and depth_km <= 30 and magnitude >= 5.0:
        from_magnitude = min(5, from_magnitude + 1)
    return max(from_cap or 1, from_magnitude)


def _parse(document: bytes) -> ET.Element:
    """The document's root, parsed by defusedxml with every DTD refused (any encoding)."""
    try:
        root: ET.Element = SafeET.fromstring(
            document, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException:
        raise CapError(
            "document", "DOCTYPE/ENTITY declarations are not accepted in CAP alerts"
        ) from None
    except (ET.ParseError, ValueError, LookupError) as exc:
        raise CapError("document", f"not well-formed XML: {exc}") from None
    return root


def parse_cap(document: bytes) -> CapAlert:
    """Parse a CAP 1.2 alert; raises :class:`CapError` naming the bad field."""
    if len(document) > MAX_CAP_BYTES:
        raise CapError("document", f"larger than {MAX_CAP_BYTES} bytes")
    if not document.strip():
        raise CapError("document", "empty body; send a CAP 1.2 XML alert")
    root = _parse(document)
    if root.tag != f"{{{CAP_NS}}}alert":
        raise CapError(
            "alert", f"root element is {root.tag!r}; expected <alert xmlns=\"{CAP_NS}\"> (CAP 1.2)"
        )
    identifier = _text(root, "identifier", "alert")
    sender = _text(root, "sender", "alert")
    sent = _datetime(_text(root, "sent", "alert") or "", "alert.sent")
    status = _text(root, "status", "alert") or ""
    msg_type = _text(root, "msgType", "alert") or ""
    if status != "Actual":
        raise CapError("alert.status", f"{status!r}: only Actual alerts become incidents")
    if msg_type not in ("Alert", "Update"):
        raise CapError("alert.msgType", f"{msg_type!r}: only Alert and Update are accepted")
    references: tuple[str, ...] = ()
    refs_text = _text(root, "references", "alert", required=False)
    if refs_text:
        # CAP references: space-separated "sender,identifier,sent" triples
        references = tuple(ref.split(",")[1] for ref in refs_text.split() if ref.count(",") >= 2)
    info = _child(root, "info")
    if info is None:
        raise CapError("alert.info", "missing: an alert needs an <info> block")
    event = _text(info, "event", "info") or ""
    params = _parameters(info)
    headline = _text(info, "headline", "info", required=False)
    magnitude = None
    for name in ("magnitude", "mag"):
        if name in params:
            magnitude = _number(params[name], f"info.parameter.{name}")
            break
    if magnitude is None and headline and (m := re.search(r"Mag[:=\s]*([\d.,]+)", headline)):
        magnitude = _number(m.group(1), "info.headline")
    depth_km = None
    for name in ("eventdepth", "depth", "kedalaman"):
        if name in params:
            depth_km = _number(params[name], f"info.parameter.{name}")
            break
    area = _child(info, "area")
    if area is None:
        raise CapError("info.area", "missing: the alert must say where")
    lat, lon = _location(area)
    onset_text = _text(info, "onset", "info", required=False) or _text(
        info, "effective", "info", required=False
    )
    onset = _datetime(onset_text, "info.onset") if onset_text else sent
    cap_severity = _text(info, "severity", "info", required=False)
    incident_type = incident_type_for(event)
    return CapAlert(
        identifier=identifier or "",
        sender=sender or "",
        sent=sent,
        status=status,
        msg_type=msg_type,
        event=event,
        incident_type=incident_type,
        lat=lat,
        lon=lon,
        onset=onset,
        severity=severity_for(magnitude, depth_km, cap_severity),
        magnitude=magnitude,
        depth_km=depth_km,
        area_desc=_text(area, "areaDesc", "info.area", required=False),
        headline=headline,
        cap_severity=cap_severity,
        references=references,
    )
