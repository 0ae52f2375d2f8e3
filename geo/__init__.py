"""Indonesia's geography for Siaga: points to provinces and kabupaten, and travel cost.

Public API::

    resolve(lat, lon) -> Region
    resolve_many(lats, lons) -> pandas.DataFrame
    route(lat1, lon1, lat2, lon2) -> Route
    cost_matrix(origins, destinations) -> CostMatrix
    provinces_geojson() -> dict

Coordinates are WGS84 degrees, latitude first. Reference data (38 provinces, 514
kabupaten/kota, Kemendagri codes) ships in ``geo/data`` (see its PROVENANCE.md) and is
loaded on first use.
"""

from geo.errors import GeoError, InvalidCoordinates, OutsideIndonesia, SwappedCoordinates
from geo.geojson import provinces_geojson
from geo.resolve import Region, resolve, resolve_many
from geo.settings import GeoSettings, get_settings
from geo.travel import CostMatrix, Route, cost_matrix, route

__all__ = [
    "CostMatrix",
    "GeoError",
    "GeoSettings",
    "InvalidCoordinates",
    "OutsideIndonesia",
    "Region",
    "Route",
    "SwappedCoordinates",
    "cost_matrix",
    "get_settings",
    "provinces_geojson",
    "resolve",
    "resolve_many",
    "route",
]
