"""The dashboard's base map, built from the project's own geo data (no online tiles).

One light GeoJSON FeatureCollection (WGS84 lon/lat) with three kinds of feature, told
apart by ``properties.layer``:

- ``province``: the 38 provinces (as :func:`geo.provinces_geojson`, simplified further);
- ``kabupaten``: the 514 kabupaten/kota areas, approximated as the union of the Voronoi
  cells of their villages within their Natural Earth province polygon (display only:
  borders are within a few km of the real ones, small islands are left out);
- ``neighbour``: the land of neighbouring countries, so the coast reads as a coast.

Kabupaten also carry ``lat``/``lon`` (mean village position) for their label.

Rebuild the committed file (``api/static/basemap/indonesia.json``) with::

    .venv/bin/python -m geo.basemap [OUTPUT]

The sources and licences are those of ``geo/data`` (see its PROVENANCE.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo._index import _read_csv, get_index
from geo.geojson import provinces_geojson

PROVINCE_TOLERANCE_DEG = 0.02  # ~2 km: invisible at the zoom a province fills the map
KABUPATEN_TOLERANCE_DEG = 0.02
NEIGHBOUR_TOLERANCE_DEG = 0.03
PRECISION_DEG = 1e-3  # ~110 m
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "api" / "static" / "basemap" / (
    "indonesia.json"
)


def _geometry(geom: Any, tolerance: float) -> dict[str, Any] | None:
    simple = shapely.set_precision(
        shapely.simplify(geom, tolerance, preserve_topology=True), PRECISION_DEG
    )
    if simple.is_empty:
        return None
    parsed: dict[str, Any] = json.loads(shapely.to_geojson(simple))
    return parsed


def kabupaten_areas() -> dict[str, Any]:
    """Kabupaten/kota code -> its approximate area (a shapely geometry)."""
    index = get_index()
    pieces: dict[str, list[Any]] = {}
    for ne_idx in range(len(index.ne_province_codes)):
        geom = index.ne_geometries[ne_idx]
        lonlat = index.village_lonlat[ne_idx]
        kab = index.village_kabupaten[ne_idx]
        if len(lonlat) == 0:
            continue
        codes = index.kabupaten_codes[kab]
        if len(set(codes.tolist())) == 1:
            pieces.setdefault(str(codes[0]), []).append(geom)
            continue
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(lonlat), extend_to=geom.envelope)
        )
        cell_idx, village_idx = shapely.STRtree(shapely.points(lonlat)).query(
            cells, predicate="contains"
        )
        for code in np.unique(codes).tolist():
            mine = cell_idx[codes[village_idx] == code]
            area = shapely.intersection(shapely.union_all(cells[mine]), geom)
            pieces.setdefault(str(code), []).append(area)
    return {code: shapely.union_all(parts) for code, parts in pieces.items()}


def basemap() -> dict[str, Any]:
    """The base map as a GeoJSON FeatureCollection (see the module docstring)."""
    index = get_index()
    features: list[dict[str, Any]] = []
    for part, name in zip(index.neighbour_parts, index.neighbour_names, strict=True):
        geometry = _geometry(part, NEIGHBOUR_TOLERANCE_DEG)
        if geometry:
            features.append({"type": "Feature", "geometry": geometry,
                             "properties": {"layer": "neighbour", "name": str(name)}})
    for feature in provinces_geojson(PROVINCE_TOLERANCE_DEG)["features"]:
        props = feature["properties"]
        features.append({"type": "Feature", "geometry": feature["geometry"],
                         "properties": {"layer": "province", **props}})
    rows = {row["code"]: row for row in _read_csv("kabupaten.csv")}
    for code, area in sorted(kabupaten_areas().items()):
        geometry = _geometry(area, KABUPATEN_TOLERANCE_DEG)
        row = rows[code]
        if geometry:
            features.append({"type": "Feature", "geometry": geometry, "properties": {
                "layer": "kabupaten", "code": code, "name": row["name"],
                "province_code": row["province_code"],
                "lat": round(float(row["lat"]), 3), "lon": round(float(row["lon"]), 3)}})
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(basemap(), separators=(",", ":"), ensure_ascii=False))
    sys.stderr.write(f"{output}: {output.stat().st_size} bytes\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
