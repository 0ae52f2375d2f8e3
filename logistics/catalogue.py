"""Item catalogue: Kemensos buffer-stock families and the consumables the standards measure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from logistics.errors import UnknownItem


@dataclass(frozen=True)
class Item:
    """One catalogue item. Quantities of it are always whole units of ``unit``."""

    id: str
    name: str
    name_id: str
    unit: str
    family: str
    unit_mass_kg: float
    mass_source: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {
            "id": self.id, "name": self.name, "name_id": self.name_id, "unit": self.unit,
            "family": self.family, "unit_mass_kg": self.unit_mass_kg,
            "mass_source": self.mass_source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=str(d["id"]), name=str(d["name"]), name_id=str(d["name_id"]),
            unit=str(d["unit"]), family=str(d["family"]),
            unit_mass_kg=float(d["unit_mass_kg"]), mass_source=str(d["mass_source"]),
        )


@dataclass(frozen=True)
class Catalogue:
    """The set of known items, by id."""

    version: str
    items: dict[str, Item]
    units: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> {"id", "en"}

    def get(self, item_id: str) -> Item:
        """Return the item with this id.

        Raises:
            UnknownItem: if the id is not in the catalogue.
        """
        try:
            return self.items[item_id]
        except KeyError:
            raise UnknownItem(f"unknown item id {item_id!r}") from None

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.items

    def unit_name(self, unit: str, lang: str = "id") -> str:
        """The name people read for a unit code (``"pack"`` is "bungkus" in Bahasa
        Indonesia); the code itself when the catalogue has no name for it."""
        return self.units.get(unit, {}).get(lang, unit)

    def listing(self) -> list[dict[str, Any]]:
        """Every item with its Indonesian and English names and units (for pickers)."""
        return [
            {
                "id": item.id, "name_id": item.name_id, "name_en": item.name,
                "unit": item.unit, "unit_id": self.unit_name(item.unit, "id"),
                "unit_en": self.unit_name(item.unit, "en"), "family": item.family,
            }
            for item in self.items.values()
        ]


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The packaged catalogue (``logistics/data/items.json``)."""
    text = resources.files("logistics").joinpath("data/items.json").read_text("utf-8")
    raw = json.loads(text)
    items = {d["id"]: Item.from_dict(d) for d in raw["items"]}
    units = {str(k): {str(lang): str(name) for lang, name in v.items()}
             for k, v in raw.get("units", {}).items()}
    return Catalogue(version=str(raw["catalogue_version"]), items=items, units=units)
