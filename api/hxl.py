"""HXL-tagged CSV (Humanitarian Exchange Language) for sharing with OCHA/HDX.

Each table is a header row, then the HXL hashtag row, then data, built from the
Redis read models. Text cells that a spreadsheet would run as a formula are
prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

Column = tuple[str, str, Callable[[dict[str, Any]], Any]]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _loc(row: dict[str, Any], axis: str) -> Any:
    return (row.get("location") or {}).get(axis)


def _head(row: dict[str, Any], group: str) -> Any:
    return (row.get("headcount") or {}).get(group)


SHELTER_COLUMNS: list[Column] = [
    ("shelter_id", "#loc+code", lambda r: r.get("shelter_id")),
    ("name", "#loc+name", lambda r: _text(r.get("name"))),
    ("province_code", "#adm1+code", lambda r: r.get("province_code")),
    ("province_name", "#adm1+name", lambda r: r.get("province_name")),
    ("kabupaten_code", "#adm2+code", lambda r: r.get("kabupaten_code")),
    ("lat", "#geo+lat", lambda r: _loc(r, "lat")),
    ("lon", "#geo+lon", lambda r: _loc(r, "lon")),
    ("incident_id", "#event+id", lambda r: r.get("incident_id")),
    ("capacity", "#capacity", lambda r: r.get("capacity")),
    ("displaced", "#affected+displaced", lambda r: _head(r, "total")),
    ("infants", "#affected+displaced+infants", lambda r: _head(r, "infants")),
    ("children", "#affected+displaced+children", lambda r: _head(r, "children")),
    ("elderly", "#affected+displaced+elderly", lambda r: _head(r, "elderly")),
    (
        "pregnant_lactating",
        "#affected+displaced+f+pregnant_lactating",
        lambda r: _head(r, "pregnant_lactating"),
    ),
    ("disabled", "#affected+displaced+disabled", lambda r: _head(r, "disabled")),
    ("unmet_share", "#indicator+unmet+pct", lambda r: r.get("unmet_share")),
    ("updated_at", "#date+updated", lambda r: r.get("updated_at")),
]

NEED_COLUMNS: list[Column] = [
    ("shelter_id", "#loc+code", lambda r: r.get("shelter_id")),
    ("shelter_name", "#loc+name", lambda r: _text(r.get("name"))),
    ("province_code", "#adm1+code", lambda r: r.get("province_code")),
    ("kabupaten_code", "#adm2+code", lambda r: r.get("kabupaten_code")),
    ("lat", "#geo+lat", lambda r: _loc(r, "lat")),
    ("lon", "#geo+lon", lambda r: _loc(r, "lon")),
    ("item", "#item+code", lambda r: r["need"].get("item")),
    ("unit", "#item+unit", lambda r: r["need"].get("unit")),
    ("need", "#value+needed", lambda r: r["need"].get("need")),
    ("planned", "#value+planned", lambda r: r["need"].get("planned")),
    ("in_transit", "#value+transit", lambda r: r["need"].get("in_transit")),
    ("delivered", "#value+delivered", lambda r: r["need"].get("delivered")),
    ("shortfall", "#value+unmet", lambda r: r["need"].get("shortfall")),
]

STOCK_COLUMNS: list[Column] = [
    ("warehouse_id", "#loc+warehouse+code", lambda r: r.get("warehouse_id")),
    ("warehouse_name", "#loc+warehouse+name", lambda r: _text(r.get("name"))),
    ("kind", "#loc+warehouse+type", lambda r: r.get("kind")),
    ("province_code", "#adm1+code", lambda r: r.get("province_code")),
    ("kabupaten_code", "#adm2+code", lambda r: r.get("kabupaten_code")),
    ("lat", "#geo+lat", lambda r: _loc(r, "lat")),
    ("lon", "#geo+lon", lambda r: _loc(r, "lon")),
    ("item", "#item+code", lambda r: r["stock"].get("item")),
    ("unit", "#item+unit", lambda r: r["stock"].get("unit")),
    ("on_hand", "#value+onhand", lambda r: r["stock"].get("on_hand")),
    ("reserved", "#value+reserved", lambda r: r["stock"].get("reserved")),
    ("in_transit", "#value+transit", lambda r: r["stock"].get("in_transit")),
    ("earliest_expiry", "#date+expiry+earliest", lambda r: _earliest(r["stock"])),
    ("released", "#status+released", lambda r: r.get("released")),
]


def _earliest(stock: dict[str, Any]) -> Any:
    dates = [b["expires_on"] for b in stock.get("batches") or [] if b.get("expires_on")]
    return min(dates) if dates else None


def need_rows(shelters: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s, "need": n} for s in shelters for n in s.get("needs") or []]


def stock_rows(warehouses: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**w, "stock": item} for w in warehouses for item in w.get("stock") or []]


def to_csv(columns: list[Column], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _, _ in columns])
    writer.writerow([tag for _, tag, _ in columns])
    for row in rows:
        writer.writerow(["" if (v := get(row)) is None else v for _, _, get in columns])
    return out.getvalue()
