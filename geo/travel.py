"""Travel cost between points in an archipelago: km, hours, and whether a ferry is needed.

The model (parameters in ``geo.settings.GeoSettings``):

* Each point belongs to an island: the land mass of Natural Earth polygon parts that
  contains it (or the nearest one, for a point just offshore). Parts that touch across
  province borders are one island (Java is six provinces); bridges in
  ``geo._index.FIXED_LINKS`` join islands too.
* Same island: ``road km = geodesic km x circuity_factor``, at ``road_speed_kmh``.
* Different islands: the straight line must cross at least the gap between the two land
  masses (the shortest geodesic distance between their coasts, sampled every ~5 km). That
  gap is sailed (``x sea_circuity_factor`` at ``ferry_speed_kmh``, plus ``port_time_hours``);
  the rest of the geodesic distance is driven as above. Chains of crossings (Java -> Bali ->
  Lombok) count one port time: an underestimate for multi-hop trips, kept simple on purpose.

Distances are WGS84 geodesics: ``route`` uses ``pyproj.Geod.inv``; ``cost_matrix`` uses exact
geocentric chords (pyproj's WGS84 ellipsoid) bent to arcs, within 0.006 % of ``Geod.inv``,
so that 7 million pairs take a second instead of ten.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from geo._index import FloatArray, GeoIndex, IntArray, chord_to_km, ecef, geodesic_km, get_index
from geo.resolve import _diagnose, locate
from geo.settings import GeoSettings, get_settings

# Rows of the origin x destination matrix computed at once: bounds temporary memory
# (~8 arrays of CHUNK_ELEMENTS float64) whatever the matrix size.
CHUNK_ELEMENTS = 1 << 20
#: Distances and times kept to a millimetre (km, 6 decimals) and under a millisecond (hours, 7
#: decimals): see :func:`cost_matrix`.
KM_DECIMALS = 6
HOURS_DECIMALS = 7


@dataclass(frozen=True)
class Route:
    """Travel from one point to another: road+sea km, hours, and whether a ferry is needed."""

    km: float
    hours: float
    sea_crossing: bool


@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Origins x destinations travel cost; each array has shape (n_origins, n_destinations)."""

    km: FloatArray
    hours: FloatArray
    sea_crossing: NDArray[np.bool_]


def _travel(
    geodesic: FloatArray, gap: FloatArray, crossing: NDArray[np.bool_], s: GeoSettings
) -> tuple[FloatArray, FloatArray]:
    """(km, hours) from geodesic km and the sea gap (km) to cross, elementwise."""
    sea = np.where(crossing, gap, 0.0)
    land = np.maximum(geodesic - sea, 0.0)
    land *= s.circuity_factor
    sea *= s.sea_circuity_factor
    hours = land / s.road_speed_kmh
    hours += sea / s.ferry_speed_kmh
    hours += crossing * s.port_time_hours
    land += sea
    return land, hours


class _GapCache:
    """Shortest coast-to-coast distance (km) between pairs of islands, computed on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trees: dict[int, cKDTree] = {}
        self._gaps: dict[tuple[int, int], float] = {}

    def gap_km(self, index: GeoIndex, a: int, b: int) -> float:
        if a == b:
            return 0.0
        key = (a, b) if a < b else (b, a)
        gap = self._gaps.get(key)
        if gap is None:
            coast_a, coast_b = index.island_coast[key[0]], index.island_coast[key[1]]
            # query the larger island's tree with the smaller island's samples
            small, big = (key[0], key[1]) if len(coast_a) <= len(coast_b) else (key[1], key[0])
            with self._lock:
                tree = self._trees.get(big)
                if tree is None:
                    tree = self._trees[big] = cKDTree(index.island_coast[big])
            chord, _ = tree.query(index.island_coast[small], k=1)
            gap = float(chord_to_km(np.asarray(np.min(chord))))
            self._gaps[key] = gap
        return gap

    def table(self, index: GeoIndex, rows: IntArray, cols: IntArray) -> FloatArray:
        return np.array([[self.gap_km(index, int(a), int(b)) for b in cols] for a in rows])


_gaps = _GapCache()


def _islands(lat: FloatArray, lon: FloatArray, label: str, indexed: bool = False) -> IntArray:
    """Island id of each point; raises the GeoError of the first point that does not resolve,
    labelled ``label`` (or ``label[i]`` when ``indexed``)."""
    index = get_index()
    limit_km = get_settings().max_offshore_km
    located = locate(lat, lon, limit_km)
    bad = np.flatnonzero(located.kabupaten < 0)
    if bad.size:
        i = int(bad[0])
        name = f"{label}[{i}]" if indexed else label
        raise _diagnose(float(lat[i]), float(lon[i]), limit_km).for_point(name)
    return index.part_island[located.part]


def route(lat1: float, lon1: float, lat2: float, lon2: float) -> Route:
    """Travel cost from (lat1, lon1) to (lat2, lon2), WGS84 degrees.

    Returns km travelled (road plus sea), hours, and whether a sea crossing is needed.
    Raises a ``GeoError`` (labelled ``origin`` or ``destination``) for a point that is
    invalid, swapped or outside Indonesia.
    """
    s = get_settings()
    island_o = _islands(np.array([lat1], dtype=float), np.array([lon1], dtype=float), "origin")
    island_d = _islands(np.array([lat2], dtype=float), np.array([lon2], dtype=float), "destination")
    crossing = np.asarray(island_o != island_d)
    gap = np.array([_gaps.gap_km(get_index(), int(island_o[0]), int(island_d[0]))])
    d = geodesic_km(np.array([lat1]), np.array([lon1]), np.array([lat2]), np.array([lon2]))
    km, hours = _travel(d, gap, crossing, s)
    return Route(km=float(km[0]), hours=float(hours[0]), sea_crossing=bool(crossing[0]))


def _latlon(points: ArrayLike, name: str) -> tuple[FloatArray, FloatArray]:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2) of (lat, lon), got {arr.shape}")
    return arr[:, 0], arr[:, 1]


def cost_matrix(origins: ArrayLike, destinations: ArrayLike) -> CostMatrix:
    """Travel cost from every origin to every destination in one vectorised call.

    ``origins`` and ``destinations`` are (n, 2) arrays of (lat, lon) in WGS84 degrees.
    Returns a ``CostMatrix`` of shape (n_origins, n_destinations): km, hours, sea_crossing.
    Raises a ``GeoError`` naming the first bad row (``origins[i]``/``destinations[j]``).
    """
    s = get_settings()
    index = get_index()
    lat_o, lon_o = _latlon(origins, "origins")
    lat_d, lon_d = _latlon(destinations, "destinations")
    island_o = _islands(lat_o, lon_o, "origins", indexed=True)
    island_d = _islands(lat_d, lon_d, "destinations", indexed=True)

    # gaps only for the island pairs that occur: a small dense table indexed per point
    uniq_o, inv_o = np.unique(island_o, return_inverse=True)
    uniq_d, inv_d = np.unique(island_d, return_inverse=True)
    gap_table = _gaps.table(index, uniq_o, uniq_d)

    xyz_o, xyz_d = ecef(lat_o, lon_o), ecef(lat_d, lon_d)
    n_o, n_d = xyz_o.shape[0], xyz_d.shape[0]
    km = np.empty((n_o, n_d))
    hours = np.empty((n_o, n_d))
    crossing = np.empty((n_o, n_d), dtype=bool)
    step = max(1, CHUNK_ELEMENTS // max(n_d, 1))
    for start in range(0, n_o, step):
        rows = slice(start, min(start + step, n_o))
        chord = np.square(xyz_o[rows, None, 0] - xyz_d[None, :, 0])
        chord += np.square(xyz_o[rows, None, 1] - xyz_d[None, :, 1])
        chord += np.square(xyz_o[rows, None, 2] - xyz_d[None, :, 2])
        np.sqrt(chord, out=chord)
        cross = island_o[rows, None] != island_d[None, :]
        gap = gap_table[inv_o[rows, None], inv_d[None, :]]
        km[rows], hours[rows] = _travel(chord_to_km(chord), gap, cross, s)
        # numpy's sin, cos and arcsin differ in the last bits between CPUs (its AVX-512 builds
        # use other routines): on a millimetre and sub-millisecond grid, a plan is the same on
        # every machine (ties broken alike), not only on the one that made it
        np.round(km[rows], KM_DECIMALS, out=km[rows])
        np.round(hours[rows], HOURS_DECIMALS, out=hours[rows])
        crossing[rows] = cross
    return CostMatrix(km=km, hours=hours, sea_crossing=crossing)
