"""``siaga geo resolve LAT LON`` and ``siaga geo route LAT1 LON1 LAT2 LON2``: JSON on stdout."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from geo.errors import GeoError
from geo.resolve import resolve
from geo.travel import route

_KEYS = ("province_code", "province_name", "kabupaten_code", "kabupaten_name")


def _emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, ensure_ascii=False))


def _error(err: GeoError, keys: tuple[str, ...]) -> int:
    _emit({**dict.fromkeys(keys), "error": err.message, "error_type": type(err).__name__})
    return 2


def _cmd_resolve(args: argparse.Namespace) -> int:
    try:
        region = resolve(args.lat, args.lon)
    except GeoError as err:
        return _error(err, _KEYS)
    _emit({**dataclasses.asdict(region), "error": None})
    return 0


def _cmd_route(args: argparse.Namespace) -> int:
    try:
        result = route(args.lat1, args.lon1, args.lat2, args.lon2)
    except GeoError as err:
        return _error(err, ("km", "hours", "sea_crossing"))
    _emit(
        {
            "km": round(result.km, 1),
            "hours": round(result.hours, 2),
            "sea_crossing": result.sea_crossing,
            "error": None,
        }
    )
    return 0


def _coordinate(text: str) -> float:
    # accept NaN/inf too: resolve() turns them into a clear JSON error
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``geo`` subcommand (``resolve``, ``route``) to a parent parser's subparsers.

    Each leaf parser sets ``func``: call ``args.func(args)`` and exit with its return code
    (0 ok, 2 bad location; the JSON on stdout then carries ``error``).
    """
    geo = subparsers.add_parser("geo", help="resolve places and travel cost in Indonesia")
    commands = geo.add_subparsers(dest="geo_command", required=True)

    p = commands.add_parser("resolve", help="point -> province and kabupaten/kota, as JSON")
    p.add_argument("lat", type=_coordinate, help="latitude, degrees (south negative)")
    p.add_argument("lon", type=_coordinate, help="longitude, degrees east")
    p.set_defaults(func=_cmd_resolve)

    p = commands.add_parser("route", help="travel km, hours and sea crossing, as JSON")
    for name, what in (
        ("lat1", "origin latitude"),
        ("lon1", "origin longitude"),
        ("lat2", "destination latitude"),
        ("lon2", "destination longitude"),
    ):
        p.add_argument(name, type=_coordinate, help=what)
    p.set_defaults(func=_cmd_route)
