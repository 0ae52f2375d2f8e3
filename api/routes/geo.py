"""Geography for command posts and the dashboard: check a location, travel cost, map."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

import geo
from geo.errors import GeoError

router = APIRouter(prefix="/api/v1/geo", tags=["geo"])


class RegionOut(BaseModel):
    province_code: str
    province_name: str
    kabupaten_code: str
    kabupaten_name: str
    distance_offshore_km: float


class RouteOut(BaseModel):
    km: float
    hours: float
    sea_crossing: bool


def _unprocessable(err: GeoError, prefix: str = "") -> HTTPException:
    """A 422 shaped like FastAPI's validation errors, one entry per field at fault."""
    detail = [
        {"loc": ["query", f"{prefix}{field}"], "msg": err.message, "type": type(err).__name__}
        for field in err.fields
    ]
    return HTTPException(status_code=422, detail=detail)


Lat = Annotated[float, Query(description="latitude, WGS84 degrees (south negative)")]
Lon = Annotated[float, Query(description="longitude, WGS84 degrees east")]


@router.get("/resolve", response_model=RegionOut)
def resolve_point(lat: Lat, lon: Lon) -> dict[str, Any]:
    """Province and kabupaten/kota of a point; 422 if invalid, swapped or outside Indonesia."""
    try:
        region = geo.resolve(lat, lon)
    except GeoError as err:
        raise _unprocessable(err) from None
    return dataclasses.asdict(region)


@router.get("/route", response_model=RouteOut)
def route_between(from_lat: Lat, from_lon: Lon, to_lat: Lat, to_lon: Lon) -> dict[str, Any]:
    """Travel km, hours and whether a sea crossing is needed between two points."""
    try:
        result = geo.route(from_lat, from_lon, to_lat, to_lon)
    except GeoError as err:
        raise _unprocessable(err, "to_" if err.point == "destination" else "from_") from None
    return dataclasses.asdict(result)


@router.get("/provinces.geojson")
def provinces() -> dict[str, Any]:
    """The 38 provinces as a simplified GeoJSON FeatureCollection (code, name)."""
    return geo.provinces_geojson()
