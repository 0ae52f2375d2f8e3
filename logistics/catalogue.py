"""Item catalogue: Kemensos buffer-stock families and the consumables the standards measure."""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The packaged catalogue (``logistics/data/items.json``)."""
    text = resources.files("logistics").joinpath("data/items.json").read_text("utf-8")
    raw = json.loads(text)
    items = {d["id"]: Item.from_dict(d) for d in raw["items"]}
    return Catalogue(version=str(raw["catalogue_version"]), items=items)
