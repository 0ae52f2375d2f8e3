"""HXL CSV: a header row, then the hashtag row, then one row per shelter/need/stock item."""

from __future__ import annotations

import csv
import io

from api.hxl import NEED_COLUMNS, SHELTER_COLUMNS, STOCK_COLUMNS, need_rows, stock_rows, to_csv

SHELTER = {
    "shelter_id": "shelter-cugenang-01",
    "name": "=HYPERLINK(\"x\")",
    "location": {"lat": -6.8, "lon": 107.06},
    "province_code": "32",
    "kabupaten_code": "32.03",
    "headcount": {"total": 1240, "infants": 48},
    "needs": [{"item": "rice", "unit": "kg", "need": 496, "shortfall": 96}],
    "unmet_share": 0.2,
}


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_shelters_csv_has_hashtag_row_and_escapes_formulas() -> None:
    rows = _rows(to_csv(SHELTER_COLUMNS, [SHELTER]))
    header, tags, data = rows
    assert header[:3] == ["shelter_id", "name", "province_code"]
    assert tags[:3] == ["#loc+code", "#loc+name", "#adm1+code"]
    assert "#affected+displaced" in tags and "#geo+lat" in tags
    assert data[tags.index("#affected+displaced")] == "1240"
    assert data[tags.index("#geo+lat")] == "-6.8"
    assert data[1].startswith("'=")


def test_needs_and_stock_are_one_row_per_item() -> None:
    needs = _rows(to_csv(NEED_COLUMNS, need_rows([SHELTER])))
    assert needs[1][needs[0].index("item")] == "#item+code"
    assert needs[2][needs[0].index("shortfall")] == "96"
    warehouse = {
        "warehouse_id": "wh-bekasi-regional",
        "name": "Gudang Regional Bekasi",
        "stock": [
            {"item": "rice", "unit": "kg", "on_hand": 25000, "batches": [
                {"batch_id": "b1", "expires_on": "2023-10-01"},
                {"batch_id": "b2", "expires_on": "2023-05-01"},
            ]},
            {"item": "blanket", "unit": "piece", "on_hand": 800, "batches": []},
        ],
    }
    stock = _rows(to_csv(STOCK_COLUMNS, stock_rows([warehouse])))
    assert len(stock) == 4
    assert stock[2][stock[0].index("earliest_expiry")] == "2023-05-01"
