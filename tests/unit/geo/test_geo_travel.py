import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geo
from geo._index import chord_to_km, ecef, geodesic_km

JAKARTA = (-6.1754, 106.8272)
BANDUNG = (-6.9175, 107.6191)
SURABAYA = (-7.2575, 112.7521)
MAKASSAR = (-5.1477, 119.4327)
SUMENEP = (-7.0167, 113.8667)  # Madura, joined to Java by the Suramadu bridge
PADANG = (-0.9471, 100.4172)
CIANJUR = (-6.84, 107.05)


def test_jakarta_to_bandung_needs_no_sea_crossing() -> None:
    r = geo.route(*JAKARTA, *BANDUNG)
    assert not r.sea_crossing
    s = geo.get_settings()
    straight = float(geodesic_km(np.array([JAKARTA[0]]), np.array([JAKARTA[1]]),
                                 np.array([BANDUNG[0]]), np.array([BANDUNG[1]]))[0])  # fmt: skip
    assert 110 < straight < 125
    assert r.km == pytest.approx(straight * s.circuity_factor)
    assert r.hours == pytest.approx(r.km / s.road_speed_kmh)


def test_surabaya_to_makassar_needs_a_sea_crossing_with_port_time() -> None:
    r = geo.route(*SURABAYA, *MAKASSAR)
    assert r.sea_crossing
    assert r.hours > geo.get_settings().port_time_hours + 700 / geo.get_settings().ferry_speed_kmh


def test_java_to_sumatra_crosses_the_sea_but_madura_is_bridged() -> None:
    assert geo.route(*JAKARTA, *PADANG).sea_crossing
    assert not geo.route(*SURABAYA, *SUMENEP).sea_crossing


def test_route_errors_say_which_point_is_bad() -> None:
    with pytest.raises(geo.OutsideIndonesia) as info:
        geo.route(*JAKARTA, 51.5, -0.12)
    assert info.value.point == "destination"
    with pytest.raises(geo.SwappedCoordinates) as swapped:
        geo.route(106.8272, -6.1754, *BANDUNG)
    assert swapped.value.point == "origin"


def test_cost_matrix_matches_route_pair_by_pair() -> None:
    origins = np.array([JAKARTA, SURABAYA, MAKASSAR])
    destinations = np.array([BANDUNG, MAKASSAR, CIANJUR, SUMENEP])
    m = geo.cost_matrix(origins, destinations)
    assert m.km.shape == m.hours.shape == m.sea_crossing.shape == (3, 4)
    for i, o in enumerate(origins):
        for j, d in enumerate(destinations):
            r = geo.route(*o, *d)
            assert m.sea_crossing[i, j] == r.sea_crossing
            assert m.km[i, j] == pytest.approx(r.km, rel=1e-4, abs=1e-6)
            assert m.hours[i, j] == pytest.approx(r.hours, rel=1e-4, abs=1e-6)


def test_cost_matrix_names_the_bad_row() -> None:
    with pytest.raises(geo.OutsideIndonesia, match=r"destinations\[1\]"):
        geo.cost_matrix([JAKARTA], [BANDUNG, (51.5, -0.12)])


def test_chord_distance_agrees_with_pyproj_geodesic() -> None:
    rng = np.random.default_rng(7)
    lat1, lat2 = rng.uniform(-11, 6, 2000), rng.uniform(-11, 6, 2000)
    lon1, lon2 = rng.uniform(95, 141, 2000), rng.uniform(95, 141, 2000)
    chord = np.linalg.norm(ecef(lat1, lon1) - ecef(lat2, lon2), axis=1)
    exact = geodesic_km(lat1, lon1, lat2, lon2)
    np.testing.assert_allclose(chord_to_km(chord), exact, rtol=1e-4)


on_java = st.tuples(st.floats(-7.6, -6.4), st.floats(106.5, 111.0))
anywhere = st.tuples(st.floats(-8.5, 3.0), st.floats(98.0, 140.0))


def _try_route(a: tuple[float, float], b: tuple[float, float]) -> geo.Route | None:
    try:
        return geo.route(*a, *b)
    except geo.GeoError:
        return None


@settings(max_examples=40, deadline=None)
@given(anywhere, anywhere)
def test_route_from_a_to_b_costs_the_same_as_b_to_a(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    there, back = _try_route(a, b), _try_route(b, a)
    assert (there is None) == (back is None)
    if there is not None and back is not None:
        assert there.sea_crossing == back.sea_crossing
        assert there.km == pytest.approx(back.km, rel=1e-9)
        assert there.hours == pytest.approx(back.hours, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(on_java, st.floats(0.05, 0.95))
def test_cost_grows_with_distance_on_the_same_island(
    b: tuple[float, float], fraction: float
) -> None:
    a = JAKARTA
    mid = (a[0] + (b[0] - a[0]) * fraction, a[1] + (b[1] - a[1]) * fraction)
    far, near = _try_route(a, b), _try_route(a, mid)
    if far is None or near is None or far.sea_crossing or near.sea_crossing:
        return
    assert near.km <= far.km
    assert near.hours <= far.hours


@settings(max_examples=30, deadline=None)
@given(anywhere, anywhere)
def test_a_sea_crossing_always_costs_the_port_time(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    r = _try_route(a, b)
    if r is not None and r.sea_crossing:
        assert r.hours >= geo.get_settings().port_time_hours
