import csv
import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geo
from geo import InvalidCoordinates, OutsideIndonesia, SwappedCoordinates

REAL_PLACES = [
    # (place, lat, lon, province code, province name, kabupaten code)
    ("Cianjur 2022 epicentre", -6.84, 107.05, "32", "Jawa Barat", "32.03"),
    ("Palu", -0.8917, 119.8707, "72", "Sulawesi Tengah", "72.71"),
    ("Semeru summit", -8.10778, 112.92194, "35", "Jawa Timur", "35.08"),
    ("Merauke", -8.4932, 140.4018, "93", "Papua Selatan", "93.01"),
    ("Nabire", -3.3669, 135.4963, "94", "Papua Tengah", "94.01"),
    ("Wamena", -4.0958, 138.9482, "95", "Papua Pegunungan", "95.01"),
    ("Sorong", -0.8762, 131.2558, "96", "Papua Barat Daya", "96.71"),
    ("Tarakan", 3.3274, 117.5785, "65", "Kalimantan Utara", "65.71"),
    ("Jayapura", -2.5337, 140.7181, "91", "Papua", "91.71"),
    ("Manokwari", -0.8615, 134.0620, "92", "Papua Barat", "92.02"),
    ("Timika", -4.5460, 136.8880, "94", "Papua Tengah", "94.04"),
    ("Samarinda", -0.5022, 117.1536, "64", "Kalimantan Timur", "64.72"),
    ("Banda Aceh", 5.5483, 95.3238, "11", "Aceh", "11.71"),
    ("Kupang", -10.1772, 123.6070, "53", "Nusa Tenggara Timur", "53.71"),
    ("Ambon", -3.6954, 128.1814, "81", "Maluku", "81.71"),
    ("Padang", -0.9471, 100.4172, "13", "Sumatera Barat", "13.71"),
    ("Denpasar", -8.6705, 115.2126, "51", "Bali", "51.71"),
    ("Agats (Asmat)", -5.5438, 138.1325, "93", "Papua Selatan", "93.04"),
]


@pytest.mark.parametrize(
    ("place", "lat", "lon", "province", "province_name", "kabupaten"),
    REAL_PLACES,
    ids=[p[0] for p in REAL_PLACES],
)
def test_real_places_resolve_to_their_current_province_and_kabupaten(
    place: str, lat: float, lon: float, province: str, province_name: str, kabupaten: str
) -> None:
    region = geo.resolve(lat, lon)
    assert (region.province_code, region.province_name) == (province, province_name)
    assert region.kabupaten_code == kabupaten
    assert region.kabupaten_code.startswith(region.province_code + ".")


def test_cianjur_names_match_kemendagri() -> None:
    region = geo.resolve(-6.84, 107.05)
    assert region.kabupaten_name == "Kabupaten Cianjur"
    assert region.distance_offshore_km == 0.0


def test_small_island_missing_from_polygons_resolves_within_offshore_limit() -> None:
    # Pulau Pramuka, Kepulauan Seribu: not in Natural Earth 10m, ~29 km from mapped land
    region = geo.resolve(-5.7461, 106.6133)
    assert region.kabupaten_code == "31.01"
    assert 0 < region.distance_offshore_km <= geo.get_settings().max_offshore_km


def test_boat_just_off_the_coast_resolves_with_its_distance() -> None:
    region = geo.resolve(-6.05, 106.80)  # Jakarta Bay, a few km out
    assert region.province_code == "31"
    assert region.distance_offshore_km > 0


@pytest.mark.parametrize(
    ("lat", "lon", "where"),
    [(51.5, -0.12, "km from the nearest"), (1.3521, 103.8198, "Singapore"),
     (-8.556, 125.56, "Timor-Leste"), (1.55, 110.34, "Malaysia"), (-3.0, 90.0, "km")],
)  # fmt: skip
def test_points_outside_indonesia_are_a_clear_error(lat: float, lon: float, where: str) -> None:
    with pytest.raises(OutsideIndonesia, match="outside Indonesia") as info:
        geo.resolve(lat, lon)
    assert where in str(info.value)
    assert info.value.fields == ("lat", "lon")


def test_swapped_coordinates_are_reported_as_swapped() -> None:
    with pytest.raises(SwappedCoordinates, match="swapped") as info:
        geo.resolve(107.05, -6.84)
    assert "107.05" in str(info.value)


def test_swapped_in_range_coordinates_are_reported_as_swapped() -> None:
    # Banda Aceh with lat/lon swapped: both values are valid coordinates (in the Indian Ocean?)
    with pytest.raises(SwappedCoordinates):
        geo.resolve(95.3238, 5.5483)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [(math.nan, 107.0, "lat"), (-6.8, math.inf, "lon"), (-95.0, 10.0, "lat"), (-6.8, 200.0, "lon")],
)
def test_invalid_coordinates_name_the_bad_field_and_value(
    lat: float, lon: float, field: str
) -> None:
    with pytest.raises(InvalidCoordinates) as info:
        geo.resolve(lat, lon)
    assert info.value.fields == (field,)
    bad = lat if field == "lat" else lon
    assert str(bad) in str(info.value)


def test_resolve_many_matches_resolve_and_reports_errors_per_row() -> None:
    lats = [p[1] for p in REAL_PLACES] + [math.nan, 51.5]
    lons = [p[2] for p in REAL_PLACES] + [1.0, -0.12]
    frame = geo.resolve_many(lats, lons)
    assert len(frame) == len(lats)
    assert frame["kabupaten_code"].iloc[: len(REAL_PLACES)].tolist() == [p[5] for p in REAL_PLACES]
    assert frame["error"].iloc[: len(REAL_PLACES)].isna().all()
    assert "not a finite number" in frame["error"].iloc[-2]
    assert "outside Indonesia" in frame["error"].iloc[-1]
    assert pd.isna(frame["province_code"].iloc[-1])


def test_kabupaten_mean_points_resolve_to_their_own_kabupaten() -> None:
    # a mean of village points can fall in a bay (Parigi Moutong, Maluku Barat Daya): allow a few
    with resources.files("geo.data").joinpath("kabupaten.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    frame = geo.resolve_many([float(r["lat"]) for r in rows], [float(r["lon"]) for r in rows])
    assert frame["error"].isna().sum() >= len(rows) - 3
    province = np.array([r["province_code"] for r in rows])
    assert (frame["province_code"].to_numpy() == province).mean() > 0.98
    kabupaten = np.array([r["code"] for r in rows])
    assert (frame["kabupaten_code"].to_numpy() == kabupaten).mean() > 0.95


indonesia_lat = st.floats(min_value=-11.0, max_value=6.0, allow_nan=False)
indonesia_lon = st.floats(min_value=95.0, max_value=141.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(indonesia_lat, indonesia_lon)
def test_resolution_is_deterministic(lat: float, lon: float) -> None:
    first = geo.resolve_many([lat], [lon]).iloc[0].to_dict()
    second = geo.resolve_many([lat], [lon]).iloc[0].to_dict()
    assert first == second or (first["error"] == second["error"] and first["error"] is not None)
    if first["error"] is None:
        assert geo.resolve(lat, lon).kabupaten_code == first["kabupaten_code"]
