"""Point -> province and kabupaten/kota, one at a time or in bulk.

How a point is resolved:

1. It must be a finite WGS84 latitude/longitude in range.
2. It is looked up in the Natural Earth province polygons (cut into tiles, in an STRtree).
   A point in the sea is given the nearest polygon if that is within
   ``GeoSettings.max_offshore_km`` (geodesic), else it is outside Indonesia.
3. Its kabupaten/kota is the one of the nearest village point among the villages of that
   polygon's province. Natural Earth predates Kalimantan Utara and the 2022 Papua provinces,
   so for those the province is the kabupaten's current province: a point in the old Papua
   polygon near Merauke's villages is in 93 Papua Selatan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from geo._index import (
    FloatArray,
    GeoIndex,
    IntArray,
    chord_to_km,
    ecef,
    geodesic_km,
    get_index,
)
from geo.errors import GeoError, InvalidCoordinates, OutsideIndonesia, SwappedCoordinates
from geo.settings import get_settings

# The smallest number of km in one degree anywhere in Indonesia (longitude at 11 deg S is
# 109.3 km): turns a km limit into a safe degree radius for the STRtree's pre-filter.
_MIN_KM_PER_DEG = 109.0

# Villages that vote on a point's kabupaten (see _kabupaten).
VOTE_K = 5


@dataclass(frozen=True)
class Region:
    """Where a point is: Kemendagri province and kabupaten/kota codes and names.

    ``distance_offshore_km`` is 0 on land, else the geodesic distance to the nearest land
    of the polygons (a boat, or a small island the polygons leave out).
    """

    province_code: str
    province_name: str
    kabupaten_code: str
    kabupaten_name: str
    distance_offshore_km: float


@dataclass(frozen=True, eq=False)
class Located:
    """Arrays for n points: polygon part (-1 if none within the offshore limit), distance
    offshore in km, and kabupaten index (-1 if unresolved)."""

    part: IntArray
    offshore_km: FloatArray
    kabupaten: IntArray


def _as_float_array(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _in_range(lat: FloatArray, lon: FloatArray) -> NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
        )


def locate(lat: ArrayLike, lon: ArrayLike, max_offshore_km: float | None = None) -> Located:
    """Vectorised lookup of many points; invalid or far-off points get part -1.

    Raises nothing for bad points: callers decide how to report them.
    """
    index = get_index()
    lat_a = _as_float_array(lat, "lat")
    lon_a = _as_float_array(lon, "lon")
    if lat_a.shape != lon_a.shape:
        raise ValueError(f"lat and lon differ in length: {lat_a.shape[0]} != {lon_a.shape[0]}")
    limit_km = get_settings().max_offshore_km if max_offshore_km is None else max_offshore_km
    n = lat_a.shape[0]
    part = np.full(n, -1, dtype=np.intp)
    offshore = np.full(n, np.inf)
    valid = np.flatnonzero(_in_range(lat_a, lon_a))
    if valid.size == 0:
        return Located(part, offshore, np.full(n, -1, dtype=np.intp))

    points = shapely.points(lon_a[valid], lat_a[valid])
    # bounding-box candidates from the tree, then one vectorised point-in-polygon test
    cand_pt, cand_tile = index.tile_tree.query(points)
    inside = shapely.contains_xy(
        index.tiles[cand_tile], lon_a[valid][cand_pt], lat_a[valid][cand_pt]
    )
    hit_pt, hit_tile = cand_pt[inside], cand_tile[inside]
    part[valid[hit_pt]] = index.tile_part[hit_tile]
    offshore[valid[hit_pt]] = 0.0

    kab = _kabupaten(index, lat_a, lon_a, part)

    # Off the mapped coast: the nearest polygon, or the nearest village if that is nearer
    # (villages stand in for small islands the polygons leave out, e.g. Kepulauan Seribu).
    # ...but never on a neighbouring country's land (Singapore is 20 km from Batam).
    missed = valid[part[valid] < 0]
    if missed.size:
        foreign, _ = index.neighbour_tree.query(
            shapely.points(lon_a[missed], lat_a[missed]), predicate="intersects"
        )
        missed = np.setdiff1d(missed, missed[foreign])
    if missed.size:
        near_pt, near_tile, land_km = _nearest_land(index, lat_a[missed], lon_a[missed], None)
        rows = missed[near_pt]
        chord, village = index.all_villages_tree.query(ecef(lat_a[rows], lon_a[rows]))
        village_km = chord_to_km(np.asarray(chord))
        use_land = (land_km <= limit_km) & (land_km <= village_km)
        use_village = ~use_land & (village_km <= limit_km)
        close = use_land | use_village
        part[rows[close]] = index.tile_part[near_tile[close]]
        offshore[rows[close]] = np.minimum(land_km, village_km)[close]
        kab[rows[use_land]] = _kabupaten(
            index, lat_a[rows[use_land]], lon_a[rows[use_land]], part[rows[use_land]]
        )
        kab[rows[use_village]] = index.all_villages_kabupaten[village[use_village]]

    return Located(part, offshore, kab)


def _nearest_land(
    index: GeoIndex, lat: FloatArray, lon: FloatArray, max_deg: float | None
) -> tuple[IntArray, IntArray, FloatArray]:
    """For each point, the nearest tile (within ``max_deg`` if given) and the geodesic km to it."""
    points = shapely.points(lon, lat)
    pt, tile = index.tile_tree.query_nearest(points, max_distance=max_deg, all_matches=False)
    lines = shapely.shortest_line(index.tiles[tile], points[pt])
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    km = geodesic_km(ends[:, 0, 1], ends[:, 0, 0], ends[:, 1, 1], ends[:, 1, 0])
    return pt.astype(np.intp), tile.astype(np.intp), km


def _kabupaten(index: GeoIndex, lat: FloatArray, lon: FloatArray, part: IntArray) -> IntArray:
    """Kabupaten of the point from the villages of its (Natural Earth) province.

    The VOTE_K nearest villages vote, weighted by 1 / (km + 1): one village point placed
    across a border does not decide alone (the Semeru summit has a Malang village nearest
    but Lumajang villages on three sides).
    """
    kab = np.full(part.shape[0], -1, dtype=np.intp)
    found = np.flatnonzero(part >= 0)
    if found.size == 0:
        return kab
    ne = index.part_ne[part[found]]
    xyz = ecef(lat[found], lon[found])
    for ne_idx in np.unique(ne).tolist():
        tree = index.village_trees[ne_idx]
        if tree is None:
            continue
        sel = ne == ne_idx
        k = min(VOTE_K, tree.n)
        chord, village = tree.query(xyz[sel], k=k)
        cand = index.village_kabupaten[ne_idx][np.asarray(village).reshape(-1, k)]
        weight = 1.0 / (np.asarray(chord).reshape(-1, k) + 1.0)
        score = np.einsum("nij,nj->ni", cand[:, :, None] == cand[:, None, :], weight)
        kab[found[sel]] = cand[np.arange(cand.shape[0]), np.argmax(score, axis=1)]
    return kab


def _diagnose(lat: float, lon: float, limit_km: float) -> GeoError:
    """The error for a single point that did not resolve."""
    for name, value in (("lat", lat), ("lon", lon)):
        if not np.isfinite(value):
            return InvalidCoordinates(f"{name} is not a finite number: {value!r}", (name,))
    swapped = (
        abs(lon) <= 90.0
        and abs(lat) <= 180.0
        and bool((locate([lon], [lat], limit_km).kabupaten >= 0)[0])
    )
    if swapped:
        return SwappedCoordinates(
            f"lat={lat!r}, lon={lon!r} is not in Indonesia but lat={lon!r}, lon={lat!r} is: "
            "latitude and longitude look swapped (give latitude first)",
            ("lat", "lon"),
        )
    if abs(lat) > 90.0:
        return InvalidCoordinates(f"lat must be within [-90, 90], got {lat!r}", ("lat",))
    if abs(lon) > 180.0:
        return InvalidCoordinates(f"lon must be within [-180, 180], got {lon!r}", ("lon",))
    index = get_index()
    _, foreign = index.neighbour_tree.query(shapely.points([lon], [lat]), predicate="intersects")
    if foreign.size:
        country = str(index.neighbour_names[foreign[0]])
        return OutsideIndonesia(
            f"lat={lat!r}, lon={lon!r} is outside Indonesia: on the land of {country}",
            ("lat", "lon"),
        )
    _, _, km = _nearest_land(index, np.array([lat]), np.array([lon]), None)
    return OutsideIndonesia(
        f"lat={lat!r}, lon={lon!r} is outside Indonesia: {float(km[0]):.1f} km from the "
        f"nearest Indonesian land, more than the {limit_km:g} km allowed offshore",
        ("lat", "lon"),
    )


def _region(index: GeoIndex, kab: int, offshore_km: float) -> Region:
    province = str(index.kabupaten_province[kab])
    return Region(
        province_code=province,
        province_name=index.province_names[province],
        kabupaten_code=str(index.kabupaten_codes[kab]),
        kabupaten_name=str(index.kabupaten_names[kab]),
        distance_offshore_km=round(float(offshore_km), 3),
    )


def resolve(lat: float, lon: float) -> Region:
    """Resolve one WGS84 point (degrees) to its province and kabupaten/kota.

    Raises:
        InvalidCoordinates: a coordinate is NaN/infinite or out of range.
        SwappedCoordinates: the point is in Indonesia only with lat and lon swapped.
        OutsideIndonesia: farther than ``max_offshore_km`` from Indonesian land.
    """
    limit_km = get_settings().max_offshore_km
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise InvalidCoordinates(
            f"lat and lon must be numbers, got lat={lat!r}, lon={lon!r}", ("lat", "lon")
        ) from None
    located = locate([lat_f], [lon_f], limit_km)
    kab = int(located.kabupaten[0])
    if kab < 0:
        raise _diagnose(lat_f, lon_f, limit_km)
    return _region(get_index(), kab, float(located.offshore_km[0]))


RESOLVE_COLUMNS = [
    "province_code",
    "province_name",
    "kabupaten_code",
    "kabupaten_name",
    "distance_offshore_km",
    "error",
]


def resolve_many(lats: ArrayLike, lons: ArrayLike) -> pd.DataFrame:
    """Resolve many points at once (vectorised; ~10^5 points per second).

    Returns one row per input point, in order, with the columns of ``Region`` plus ``error``:
    ``None`` for a resolved point, else the message ``resolve`` would raise (codes and names
    are then missing (NA) and ``distance_offshore_km`` NaN). Never raises for a bad point.
    """
    index = get_index()
    limit_km = get_settings().max_offshore_km
    lat_a = _as_float_array(lats, "lats")
    lon_a = _as_float_array(lons, "lons")
    located = locate(lat_a, lon_a, limit_km)
    kab = located.kabupaten
    ok = kab >= 0
    safe = np.where(ok, kab, 0)

    def column(values: NDArray[np.str_]) -> NDArray[np.object_]:
        out = values[safe].astype(object)
        out[~ok] = None
        return out

    province = column(index.kabupaten_province)
    kabupaten_province_name = np.array(
        [index.province_names[p] for p in index.kabupaten_province.tolist()]
    )
    province_name = column(kabupaten_province_name)
    errors = np.full(kab.shape[0], None, dtype=object)
    for i in np.flatnonzero(~ok).tolist():
        errors[i] = _diagnose(float(lat_a[i]), float(lon_a[i]), limit_km).message
    return pd.DataFrame(
        {
            "province_code": province,
            "province_name": province_name,
            "kabupaten_code": column(index.kabupaten_codes),
            "kabupaten_name": column(index.kabupaten_names),
            "distance_offshore_km": np.where(ok, located.offshore_km, np.nan),
            "error": errors,
        },
        columns=RESOLVE_COLUMNS,
    )
