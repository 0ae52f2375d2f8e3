"""Geography benchmarks (issue 3). ``python -m bench.geo [--quick]``; the last line is JSON.

(a) bulk resolution of random points on Indonesian land vs geopandas ``sjoin`` on the same
    points against the same province polygons (sjoin gives the 2012 province only; geo also
    gives the current province and the kabupaten);
(b) the warehouses x shelters cost matrix vs a per-pair pyproj loop on a sample, scaled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
import tracemalloc
from importlib import resources

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

import geo
from geo._index import get_index
from geo.travel import _gaps, _islands


def random_land_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n uniform random points (by degree area) inside the province polygons."""
    index = get_index()
    rng = np.random.default_rng(seed)
    lats: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    have = 0
    while have < n:
        lat = rng.uniform(-11.1, 6.1, 4 * n)
        lon = rng.uniform(95.0, 141.1, 4 * n)
        hit, _ = index.tile_tree.query(shapely.points(lon, lat), predicate="intersects")
        hit = np.unique(hit)
        lats.append(lat[hit])
        lons.append(lon[hit])
        have += hit.size
    return np.concatenate(lats)[:n], np.concatenate(lons)[:n]


def bench_resolve(n: int) -> dict[str, float]:
    lat, lon = random_land_points(n, seed=1)
    geo.resolve_many(lat[:100], lon[:100])  # index built outside the timing
    t0 = time.perf_counter()
    frame = geo.resolve_many(lat, lon)
    ours = time.perf_counter() - t0
    assert frame["error"].isna().all()
    # the polygon stage alone (same work as sjoin: which 2012 province polygon)
    index = get_index()
    t0 = time.perf_counter()
    cand_pt, cand_tile = index.tile_tree.query(shapely.points(lon, lat))
    shapely.contains_xy(index.tiles[cand_tile], lon[cand_pt], lat[cand_pt])
    polygon_stage = time.perf_counter() - t0

    provinces = gpd.read_file(str(resources.files("geo.data") / "idn_provinces_ne10m.geojson"))
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    gpd.sjoin(points.iloc[:100], provinces, predicate="within")  # warm-up
    t0 = time.perf_counter()
    joined = gpd.sjoin(points, provinces, predicate="within", how="left")
    ref = time.perf_counter() - t0
    assert len(joined) >= n
    print(
        f"(a) resolve_many {n:,} points: {ours:.3f} s = {n / ours:,.0f} points/s "
        f"(province + kabupaten)"
    )
    print(f"    geopandas sjoin same points: {ref:.3f} s = {n / ref:,.0f} points/s (province only)")
    print(
        f"    speed ratio geo / sjoin: {ref / ours:.2f}x; polygon stage alone (tiled STRtree, "
        f"same work as sjoin): {polygon_stage:.3f} s, ratio {ref / polygon_stage:.2f}x"
    )
    return {
        "points": n,
        "seconds": ours,
        "points_per_s": n / ours,
        "sjoin_seconds": ref,
        "sjoin_points_per_s": n / ref,
        "ratio_vs_sjoin": ref / ours,
        "polygon_stage_seconds": polygon_stage,
        "polygon_stage_ratio_vs_sjoin": ref / polygon_stage,
    }


def bench_matrix(n_wh: int, n_sh: int, sample: int) -> dict[str, float]:
    wlat, wlon = random_land_points(n_wh, seed=2)
    slat, slon = random_land_points(n_sh, seed=3)
    origins = np.column_stack([wlat, wlon])
    destinations = np.column_stack([slat, slon])

    t0 = time.perf_counter()
    geo.cost_matrix(origins, destinations)
    cold = time.perf_counter() - t0  # includes island gaps computed on first sight
    t0 = time.perf_counter()
    m = geo.cost_matrix(origins, destinations)
    warm = time.perf_counter() - t0
    tracemalloc.start()
    geo.cost_matrix(origins, destinations)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pairs = n_wh * n_sh

    # reference: the obvious loop, one pyproj call and one cost per pair (islands known)
    s = geo.get_settings()
    geod = Geod(ellps="WGS84")
    index = get_index()
    isl_o = _islands(wlat, wlon, "origins")
    isl_d = _islands(slat, slon, "destinations")
    rng = np.random.default_rng(4)
    ii = rng.integers(0, n_wh, sample)
    jj = rng.integers(0, n_sh, sample)
    t0 = time.perf_counter()
    ref_hours = []
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        _, _, metres = geod.inv(wlon[i], wlat[i], slon[j], slat[j])
        d = metres / 1000.0
        gap = _gaps.gap_km(index, int(isl_o[i]), int(isl_d[j]))
        cross = isl_o[i] != isl_d[j]
        sea = gap if cross else 0.0
        land = max(d - sea, 0.0)
        ref_hours.append(
            land * s.circuity_factor / s.road_speed_kmh
            + sea * s.sea_circuity_factor / s.ferry_speed_kmh
            + (s.port_time_hours if cross else 0.0)
        )
    loop = time.perf_counter() - t0
    scaled = loop * pairs / sample
    np.testing.assert_allclose(m.hours[ii, jj], ref_hours, rtol=1e-4)
    print(
        f"(b) cost matrix {n_wh} x {n_sh:,} = {pairs:,} pairs: {warm:.2f} s warm, "
        f"{cold:.2f} s first call; peak traced memory {peak / 2**20:.0f} MiB; "
        f"{m.sea_crossing.mean():.0%} of pairs cross the sea"
    )
    print(
        f"    per-pair pyproj loop: {sample:,} pairs in {loop:.2f} s, scaled to all pairs "
        f"{scaled:.1f} s; speed ratio {scaled / warm:.0f}x"
    )
    return {
        "warehouses": n_wh,
        "shelters": n_sh,
        "seconds": warm,
        "first_call_seconds": cold,
        "peak_mib": peak / 2**20,
        "loop_sample_pairs": sample,
        "loop_scaled_seconds": scaled,
        "ratio_vs_loop": scaled / warm,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    args = parser.parse_args()
    n_points, n_shelters, sample = (
        (20_000, 2_000, 5_000) if args.quick else (100_000, 10_000, 50_000)
    )
    t0 = time.perf_counter()
    get_index()
    print(f"index built in {time.perf_counter() - t0:.2f} s")
    result = {
        "benchmark": "geo",
        "quick": args.quick,
        "date": dt.date.today().isoformat(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "resolve": bench_resolve(n_points),
        "cost_matrix": bench_matrix(700, n_shelters, sample),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
