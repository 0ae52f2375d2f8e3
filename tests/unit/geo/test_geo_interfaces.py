import argparse
import json
import math

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes.geo import router
from geo.cli import register


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    parser = argparse.ArgumentParser(prog="siaga")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, json.loads(capsys.readouterr().out)


def test_cli_resolve_accepts_negative_latitude(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["geo", "resolve", "-6.84", "107.05"], capsys)
    assert code == 0
    assert out["province_code"] == "32"
    assert out["kabupaten_code"] == "32.03"
    assert out["kabupaten_name"] == "Kabupaten Cianjur"
    assert out["error"] is None


def test_cli_resolve_error_is_json_with_nonzero_exit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["geo", "resolve", "107.05", "-6.84"], capsys)
    assert code != 0
    assert out["province_code"] is None
    assert "swapped" in str(out["error"])


def test_cli_resolve_nan_is_a_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["geo", "resolve", "nan", "107"], capsys)
    assert code != 0
    assert "lat" in str(out["error"])


def test_cli_route_prints_km_hours_and_sea_crossing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["geo", "route", "-7.2575", "112.7521", "-5.1477", "119.4327"], capsys)
    assert code == 0
    assert out["sea_crossing"] is True
    assert isinstance(out["km"], float) and isinstance(out["hours"], float)
    code, out = run_cli(["geo", "route", "-6.1754", "106.8272", "-6.9175", "107.6191"], capsys)
    assert code == 0 and out["sea_crossing"] is False


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_api_resolve_palu(client: TestClient) -> None:
    r = client.get("/api/v1/geo/resolve", params={"lat": -0.8917, "lon": 119.8707})
    assert r.status_code == 200
    body = r.json()
    assert (body["province_code"], body["kabupaten_code"]) == ("72", "72.71")
    assert body["province_name"] == "Sulawesi Tengah"


def test_api_resolve_new_papua_province(client: TestClient) -> None:
    r = client.get("/api/v1/geo/resolve", params={"lat": -8.4932, "lon": 140.4018})
    assert r.status_code == 200
    assert r.json()["province_code"] == "93"


@pytest.mark.parametrize(
    ("params", "fields", "words"),
    [
        ({"lat": 51.5, "lon": -0.12}, ["lat", "lon"], "outside Indonesia"),
        ({"lat": 107.05, "lon": -6.84}, ["lat", "lon"], "swapped"),
        ({"lat": -95, "lon": 107}, ["lat"], "[-90, 90]"),
        ({"lat": "abc", "lon": 107}, ["lat"], ""),
    ],
)
def test_api_resolve_rejects_bad_points_with_422_naming_the_field(
    client: TestClient, params: dict[str, object], fields: list[str], words: str
) -> None:
    r = client.get("/api/v1/geo/resolve", params=params)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["loc"] for d in detail] == [["query", f] for f in fields]
    assert words in detail[0]["msg"]


def test_api_route(client: TestClient) -> None:
    r = client.get(
        "/api/v1/geo/route",
        params={"from_lat": -7.2575, "from_lon": 112.7521, "to_lat": -5.1477, "to_lon": 119.4327},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["sea_crossing"] is True
    assert body["km"] > 700 and math.isfinite(body["hours"])


def test_api_route_names_the_destination_fields(client: TestClient) -> None:
    r = client.get(
        "/api/v1/geo/route",
        params={"from_lat": -6.17, "from_lon": 106.83, "to_lat": 51.5, "to_lon": -0.12},
    )
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["query", "to_lat"], ["query", "to_lon"]]


def test_api_serves_38_province_polygons_under_a_megabyte(client: TestClient) -> None:
    r = client.get("/api/v1/geo/provinces.geojson")
    assert r.status_code == 200
    assert len(r.content) < 1_000_000
    features = r.json()["features"]
    codes = {f["properties"]["code"] for f in features}
    assert len(codes) == 38 and {"65", "93", "94", "95", "96"} <= codes
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in features)
