"""Fill in and check a report's province/kabupaten from its coordinates (via geo)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException


def _field_error(loc: list[str], msg: str, value: Any) -> HTTPException:
    return HTTPException(
        status_code=422, detail=[{"loc": loc, "msg": msg, "type": "value_error", "input": value}]
    )


def locate(
    lat: float, lon: float, province_code: str | None, kabupaten_code: str | None
) -> tuple[str, str | None]:
    """Province and kabupaten codes for a point; 422 naming the field when they can't be had.

    A client-supplied province code must agree with the coordinates.
    """
    import geo

    try:
        region = geo.resolve(lat, lon)
    except geo.GeoError as exc:
        raise _field_error(["body", "location"], str(exc), {"lat": lat, "lon": lon}) from None
    if province_code is not None and province_code != region.province_code:
        raise _field_error(
            ["body", "province_code"],
            f"province_code {province_code} does not match the location, which is in "
            f"{region.province_code} {region.province_name}",
            province_code,
        )
    return region.province_code, kabupaten_code or region.kabupaten_code


def resolved_kabupaten(lat: float, lon: float) -> str | None:
    """The kabupaten a point is in, from geo alone (what a client sends is not trusted for
    a territory check); None when geo cannot tell (``locate`` has refused such points)."""
    import geo

    try:
        return geo.resolve(lat, lon).kabupaten_code
    except geo.GeoError:
        return None
