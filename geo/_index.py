"""Reference data and the spatial index built from it, loaded on first use and cached.

Nothing here runs at import time: ``get_index()`` reads the files in ``geo/data`` and builds
the index the first time it is called (about a second), then returns the same object.
"""

from __future__ import annotations

import csv
import json
import logging
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from scipy.cluster.hierarchy import DisjointSet
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

GEOD = Geod(ellps="WGS84")
_A: float = GEOD.a
_E2: float = GEOD.f * (2.0 - GEOD.f)

# Province polygons are cut into tiles of this size (degrees) so a point-in-polygon test
# looks at a few hundred vertices instead of the whole coastline of Borneo.
TILE_DEG = 0.5

# Two polygon parts closer than this (degrees, ~100 m) belong to the same land mass:
# province borders in Natural Earth meet, but not always vertex for vertex.
TOUCH_DEG = 0.001

# Coastlines are sampled every ~0.05 degree (~5.5 km) to measure gaps between islands.
COAST_STEP_DEG = 0.05

# Bridges that make two islands one for road transport: (lat, lon) of each end on land.
FIXED_LINKS: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = (
    ((-7.2135, 112.7760), (-7.1618, 112.7866)),  # Suramadu bridge, Surabaya - Madura (2009)
)


def ecef(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """WGS84 geocentric (x, y, z) in km of points given in degrees; shape (..., 3)."""
    phi = np.radians(lat)
    lam = np.radians(lon)
    sin_phi = np.sin(phi)
    n = _A / np.sqrt(1.0 - _E2 * sin_phi * sin_phi)
    cos_phi = np.cos(phi)
    out = np.empty((*np.shape(phi), 3))
    out[..., 0] = n * cos_phi * np.cos(lam)
    out[..., 1] = n * cos_phi * np.sin(lam)
    out[..., 2] = n * (1.0 - _E2) * sin_phi
    out /= 1000.0
    return out


def chord_to_km(chord_km: FloatArray) -> FloatArray:
    """Geodesic length (km) of a WGS84 chord (km).

    The chord between two geocentric points is exact on the ellipsoid; bending it onto a
    sphere of the equatorial radius gives the geodesic within 0.006 % over Indonesia
    (tests compare with ``pyproj.Geod.inv``).
    """
    r = _A / 1000.0
    return np.asarray(2.0 * r * np.arcsin(np.minimum(chord_km / (2.0 * r), 1.0)))


def geodesic_km(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Pairwise WGS84 geodesic distance in km (``pyproj.Geod.inv``)."""
    _, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(metres, dtype=np.float64) / 1000.0


@dataclass(frozen=True, eq=False)
class GeoIndex:
    """Everything resolution and routing need, as arrays and trees."""

    province_names: dict[str, str]
    kabupaten_codes: NDArray[np.str_]
    kabupaten_names: NDArray[np.str_]
    kabupaten_province: NDArray[np.str_]
    ne_province_codes: list[str]  # Kemendagri code of each Natural Earth polygon (2012 set)
    ne_geometries: NDArray[np.object_]
    part_ne: IntArray  # polygon part -> index into ne_province_codes
    part_island: IntArray  # polygon part -> island id
    tiles: NDArray[np.object_]
    tile_part: IntArray
    tile_tree: shapely.STRtree
    village_trees: list[cKDTree | None]  # per Natural Earth province
    village_kabupaten: list[IntArray]  # per Natural Earth province: kabupaten index per village
    village_lonlat: list[FloatArray]  # per Natural Earth province: (lon, lat) per village
    neighbour_parts: NDArray[np.object_]  # land of neighbouring countries
    neighbour_names: NDArray[np.str_]
    neighbour_tree: shapely.STRtree
    all_villages_tree: cKDTree  # every village, geocentric km
    all_villages_kabupaten: IntArray
    island_coast: list[FloatArray]  # per island: geocentric coast samples (km)
    n_islands: int


_lock = threading.Lock()
_index: GeoIndex | None = None


def get_index() -> GeoIndex:
    """The cached index, built on first call."""
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _build()
    return _index


def _read_text(name: str) -> str:
    return resources.files("geo.data").joinpath(name).read_text(encoding="utf-8")


def _read_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_read_text(name).splitlines()))


def province_features() -> list[dict[str, Any]]:
    """The Natural Earth province features (GeoJSON dicts) as shipped in ``geo/data``."""
    data: dict[str, Any] = json.loads(_read_text("idn_provinces_ne10m.geojson"))
    features: list[dict[str, Any]] = data["features"]
    return features


def _build() -> GeoIndex:
    log.info("building the geo index from geo/data")
    provinces = _read_csv("provinces.csv")
    province_names = {p["code"]: p["name"] for p in provinces}
    ne_iso_to_code = {p["iso_3166_2"]: p["code"] for p in provinces}

    kabupaten = _read_csv("kabupaten.csv")
    kab_codes = np.array([k["code"] for k in kabupaten])
    kab_names = np.array([k["name"] for k in kabupaten])
    kab_province = np.array([k["province_code"] for k in kabupaten])
    kab_pos = {c: i for i, c in enumerate(kab_codes)}
    # which Natural Earth polygon each current province lies in (new provinces: their parent)
    ne_of_province = {p["code"]: ne_iso_to_code[p["ne_iso_3166_2"]] for p in provinces}

    features = province_features()
    ne_codes = [ne_iso_to_code[f["properties"]["iso_3166_2"]] for f in features]
    ne_geoms = shapely.make_valid(
        shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    )

    parts, part_ne = shapely.get_parts(ne_geoms, return_index=True)
    part_island = _islands(parts)

    tiles, tile_part = _tiles(parts)
    tile_tree = shapely.STRtree(tiles)

    villages = _read_csv("desa_points.csv")
    v_kab = np.array([kab_pos[v["kabupaten_code"]] for v in villages], dtype=np.intp)
    v_lat = np.array([float(v["lat"]) for v in villages])
    v_lon = np.array([float(v["lon"]) for v in villages])
    v_ne = np.array([ne_codes.index(ne_of_province[kab_province[k]]) for k in v_kab])
    v_xyz = ecef(v_lat, v_lon)
    village_trees: list[cKDTree | None] = []
    village_kab: list[IntArray] = []
    village_lonlat: list[FloatArray] = []
    for i in range(len(ne_codes)):
        sel = v_ne == i
        village_trees.append(cKDTree(v_xyz[sel]) if sel.any() else None)
        village_kab.append(v_kab[sel])
        village_lonlat.append(np.column_stack([v_lon[sel], v_lat[sel]]))

    neighbours = json.loads(_read_text("neighbours_ne10m.geojson"))["features"]
    nb_geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in neighbours])
    nb_parts, nb_idx = shapely.get_parts(nb_geoms, return_index=True)
    shapely.prepare(nb_parts)
    nb_names = np.array([f["properties"]["name"] for f in neighbours])[nb_idx]

    n_islands = int(part_island.max()) + 1
    coast = _coast_samples(parts, part_island, n_islands)

    log.info(
        "geo index: %d provinces, %d kabupaten, %d polygon parts, %d islands, %d tiles",
        len(province_names),
        len(kab_codes),
        len(parts),
        n_islands,
        len(tiles),
    )
    return GeoIndex(
        province_names=province_names,
        kabupaten_codes=kab_codes,
        kabupaten_names=kab_names,
        kabupaten_province=kab_province,
        ne_province_codes=ne_codes,
        ne_geometries=ne_geoms,
        part_ne=part_ne.astype(np.intp),
        part_island=part_island,
        tiles=tiles,
        tile_part=tile_part,
        tile_tree=tile_tree,
        village_trees=village_trees,
        village_kabupaten=village_kab,
        village_lonlat=village_lonlat,
        neighbour_parts=nb_parts,
        neighbour_names=nb_names,
        neighbour_tree=shapely.STRtree(nb_parts),
        all_villages_tree=cKDTree(v_xyz),
        all_villages_kabupaten=v_kab,
        island_coast=coast,
        n_islands=n_islands,
    )


def _islands(parts: NDArray[np.object_]) -> IntArray:
    """Island id per polygon part: parts that touch (across province borders) or are joined
    by a fixed link form one land mass."""
    tree = shapely.STRtree(parts)
    left, right = tree.query(parts, predicate="dwithin", distance=TOUCH_DEG)
    sets = DisjointSet(range(len(parts)))
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        sets.merge(a, b)
    for end_a, end_b in FIXED_LINKS:
        pa, pb = tree.query_nearest(shapely.points([(end_a[1], end_a[0]), (end_b[1], end_b[0])]))[1]
        sets.merge(int(pa), int(pb))
    roots = np.array([sets[i] for i in range(len(parts))])
    _, island = np.unique(roots, return_inverse=True)
    return island.astype(np.intp)


def _tiles(parts: NDArray[np.object_]) -> tuple[NDArray[np.object_], IntArray]:
    """Cut every polygon part along a TILE_DEG grid; returns the tiles and their part."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(parts)
    xs = np.arange(np.floor(xmin / TILE_DEG), np.ceil(xmax / TILE_DEG)) * TILE_DEG
    ys = np.arange(np.floor(ymin / TILE_DEG), np.ceil(ymax / TILE_DEG)) * TILE_DEG
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + TILE_DEG, gy.ravel() + TILE_DEG)
    part_idx, box_idx = shapely.STRtree(boxes).query(parts, predicate="intersects")
    pieces = shapely.intersection(parts[part_idx], boxes[box_idx])
    polys, which = shapely.get_parts(pieces, return_index=True)
    keep = (shapely.get_type_id(polys) == 3) & (shapely.area(polys) > 0)
    tiles = polys[keep]
    shapely.prepare(tiles)
    return tiles, part_idx[which[keep]].astype(np.intp)


def _coast_samples(
    parts: NDArray[np.object_], part_island: IntArray, n_islands: int
) -> list[FloatArray]:
    rings = shapely.segmentize(shapely.get_exterior_ring(parts), COAST_STEP_DEG)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    xyz = ecef(coords[:, 1], coords[:, 0])
    island_of_coord = part_island[ring_idx]
    order = np.argsort(island_of_coord, kind="stable")
    bounds = np.searchsorted(island_of_coord[order], np.arange(n_islands + 1))
    return [xyz[order[bounds[i] : bounds[i + 1]]] for i in range(n_islands)]
