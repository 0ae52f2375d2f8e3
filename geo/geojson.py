"""Province polygons as GeoJSON for the dashboard map: the 38 current provinces."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

from geo._index import get_index

# Default simplification (degrees, ~1 km): keeps the collection well under 1 MB.
DEFAULT_TOLERANCE_DEG = 0.01


@lru_cache(maxsize=4)
def provinces_geojson(tolerance_deg: float = DEFAULT_TOLERANCE_DEG) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the 38 provinces (WGS84 lon/lat), simplified.

    Properties: ``code`` (Kemendagri), ``name``. Natural Earth has no polygons for
    Kalimantan Utara and the 2022 Papua provinces; they are drawn by splitting their parent
    polygon along the Voronoi cells of their villages (approximate borders, for display).
    """
    index = get_index()
    shapes: dict[str, Any] = {}
    for ne_idx, ne_code in enumerate(index.ne_province_codes):
        geom = index.ne_geometries[ne_idx]
        kab = index.village_kabupaten[ne_idx]
        provinces = index.kabupaten_province[kab]
        if len(set(provinces.tolist())) <= 1:
            shapes[ne_code] = geom
            continue
        lonlat = index.village_lonlat[ne_idx]
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(lonlat), extend_to=geom.envelope)
        )
        cell_idx, village_idx = shapely.STRtree(shapely.points(lonlat)).query(
            cells, predicate="contains"
        )
        for code in np.unique(provinces).tolist():
            mine = cell_idx[provinces[village_idx] == code]
            shapes[code] = shapely.intersection(shapely.union_all(cells[mine]), geom)

    features = []
    for code in sorted(shapes):
        simple = shapely.simplify(shapes[code], tolerance_deg, preserve_topology=True)
        simple = shapely.set_precision(simple, 1e-4)
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": index.province_names[code]},
                "geometry": json.loads(shapely.to_geojson(simple)),
            }
        )
    return {"type": "FeatureCollection", "features": features}
