"""Synthetic disasters at real size, for scale tests and benchmarks.

A province with N shelters spread over its kabupaten (kabupaten centre points from
``geo/data/kabupaten.csv`` with a few km of jitter, each kept only if it resolves to the
province), a few provincial warehouses with stock of common items, TAGANA teams, one
incident — and headcount updates. Event times end at ``now`` (never in the future).
Deterministic for a seed (ids included), so runs compare.
"""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources

from siaga import events as ev

_NS = uuid.UUID("0b3c5e2a-7d41-4f8e-9c6a-5e1f2d3c4b5a")
ITEMS = (("rice", "kg", 400_000), ("drinking_water", "L", 900_000),
         ("family_tent", "unit", 5_000), ("blanket", "piece", 60_000))


@dataclass
class SyntheticDisaster:
    setup: list[ev.Envelope] = field(default_factory=list)
    headcounts: list[ev.ShelterHeadcountReported] = field(default_factory=list)
    shelter_ids: list[tuple[str, str]] = field(default_factory=list)  # (province, id)


def _id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(_NS, "|".join(str(p) for p in parts))


def kabupaten_points(province: str) -> list[tuple[float, float, str]]:
    """Kabupaten centres of a province that resolve to their own kabupaten, on land."""
    import geo

    text = resources.files("geo.data").joinpath("kabupaten.csv").read_text()
    out = []
    for row in csv.DictReader(text.splitlines()):
        if row["province_code"] != province:
            continue
        lat, lon = float(row["lat"]), float(row["lon"])
        try:
            region = geo.resolve(lat, lon)
        except geo.GeoError:
            continue
        if region.kabupaten_code == row["code"] and region.distance_offshore_km == 0:
            out.append((lat, lon, row["code"]))
    return out


def all_provinces() -> list[str]:
    text = resources.files("geo.data").joinpath("kabupaten.csv").read_text()
    return sorted({row["province_code"] for row in csv.DictReader(text.splitlines())})


def province_disaster(
    province: str,
    shelters: int,
    *,
    updates: int = 0,
    warehouses: int = 4,
    teams: int = 10,
    seed: int = 1,
    now: datetime | None = None,
    tag: str = "syn",
) -> SyntheticDisaster:
    """One province's disaster: registrations and a first headcount for every shelter, then
    ``updates`` headcount updates cycling over the shelters (times end at ``now``)."""
    import geo

    rng = random.Random(f"{seed}:{province}")
    now = now or datetime.now(UTC)
    start = now - timedelta(hours=6)
    points = kabupaten_points(province)
    if not points:
        raise ValueError(f"province {province}: no kabupaten point on land")
    base = dict(source=f"synthetic:{tag}", schema_version=1)
    out = SyntheticDisaster()
    lat0, lon0, kab0 = points[0]
    incident_id = f"{tag}-inc-{province}"
    out.setup.append(ev.IncidentReported(
        event_id=_id(tag, incident_id), occurred_at=start, **base, incident_id=incident_id,
        incident_type="flood", location={"lat": lat0, "lon": lon0}, province_code=province,
        kabupaten_code=kab0, severity=4, affected=shelters * 800, displaced=shelters * 400,
        posko_id=f"{tag}-posko-{province}"))
    for w in range(warehouses):
        lat, lon, code = points[w % len(points)]
        wid = f"{tag}-wh-{province}-{w}"
        out.setup.append(ev.WarehouseRegistered(
            event_id=_id(tag, wid), occurred_at=start, **base, warehouse_id=wid,
            name=f"Gudang {province}-{w}", kind="provincial", location={"lat": lat, "lon": lon},
            province_code=province, kabupaten_code=code))
        for item, unit, qty in ITEMS:
            out.setup.append(ev.StockLevelReported(
                event_id=_id(tag, wid, item), occurred_at=start, **base, warehouse_id=wid,
                province_code=province, item=item, batch_id=f"{wid}-{item}",
                quantity=qty * max(1, shelters // 500) // warehouses, unit=unit,
                expires_on=None))
    for t in range(teams):
        lat, lon, code = points[t % len(points)]
        tid = f"{tag}-team-{province}-{t}"
        out.setup.append(ev.TeamStatusReported(
            event_id=_id(tag, tid), occurred_at=start, **base, team_id=tid,
            name=f"TAGANA {province}-{t}", province_code=province, kabupaten_code=code,
            location={"lat": lat, "lon": lon},
            skills=["evacuation", "public_kitchen", "shelter_setup", "psychosocial"],
            members=12, rank="madya", availability="available", hours_on_duty=0.0))
    made = 0
    attempts = 0
    while made < shelters:
        attempts += 1
        if attempts > shelters * 20:
            raise ValueError(f"province {province}: could not place {shelters} shelters")
        lat, lon, code = points[made % len(points)] if attempts <= len(points) else rng.choice(
            points)
        lat += rng.uniform(-0.03, 0.03)
        lon += rng.uniform(-0.03, 0.03)
        try:
            region = geo.resolve(lat, lon)
        except geo.GeoError:
            continue
        if region.province_code != province or region.distance_offshore_km > 0:
            continue
        sid = f"{tag}-sh-{province}-{made}"
        out.shelter_ids.append((province, sid))
        out.setup.append(ev.ShelterRegistered(
            event_id=_id(tag, sid), occurred_at=start + timedelta(minutes=1), **base,
            shelter_id=sid, name=f"Pengungsian {province}-{made}",
            location={"lat": lat, "lon": lon}, province_code=province,
            kabupaten_code=region.kabupaten_code, incident_id=incident_id, capacity=2000,
            posko_id=f"{tag}-posko-{province}"))
        out.setup.append(_headcount(tag, province, sid, 0, start + timedelta(minutes=2), rng))
        made += 1
    for i in range(updates):
        province_, sid = out.shelter_ids[i % len(out.shelter_ids)]
        at = start + timedelta(minutes=3) + (now - start - timedelta(minutes=3)) * (
            (i + 1) / updates)
        out.headcounts.append(_headcount(tag, province_, sid, i + 1, at, rng))
    return out


def _headcount(
    tag: str, province: str, shelter_id: str, n: int, at: datetime, rng: random.Random
) -> ev.ShelterHeadcountReported:
    total = rng.randint(50, 900)
    return ev.ShelterHeadcountReported(
        event_id=_id(tag, shelter_id, "hc", n), occurred_at=at, source=f"synthetic:{tag}",
        schema_version=1, shelter_id=shelter_id, province_code=province, total=total,
        infants=total // 20, children=total // 4, elderly=total // 10,
        pregnant_lactating=total // 30, disabled=total // 50,
        posko_id=f"{tag}-posko-{province}")
