"""Warehouses, stock batches, release rules and travel hours: the inputs of allocation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from logistics._serde import date_from_str, date_to_str
from logistics.errors import InvalidInput, UnknownShelter, UnknownWarehouse

WarehouseKind = Literal["regional", "provincial", "kabupaten", "lumbung_sosial"]
WAREHOUSE_KINDS: tuple[str, ...] = ("regional", "provincial", "kabupaten", "lumbung_sosial")

#: Kemensos rule after expired family kits were handed out in 2024 (REFERENCE.md): distribute
#: items at least 75 days before expiry.
MIN_DAYS_BEFORE_EXPIRY = 75


@dataclass(frozen=True)
class Warehouse:
    """A Kemensos warehouse. ``area_code`` is the Kemendagri code (e.g. ``32.03``) of the
    kabupaten/kota whose emergency declaration releases a Lumbung Sosial."""

    id: str
    kind: WarehouseKind
    area_code: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidInput("warehouse id must be non-empty")
        if self.kind not in WAREHOUSE_KINDS:
            raise InvalidInput(f"warehouse {self.id}: unknown kind {self.kind!r}")
        if self.kind == "lumbung_sosial" and not self.area_code:
            raise InvalidInput(f"Lumbung Sosial {self.id} needs an area_code")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"id": self.id, "kind": self.kind, "area_code": self.area_code, "name": self.name}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Warehouse:
        """Inverse of :meth:`to_dict`."""
        return cls(id=str(d["id"]), kind=d["kind"], area_code=str(d.get("area_code", "")),
                   name=str(d.get("name", "")))


@dataclass(frozen=True)
class StockBatch:
    """Whole units of one item in one batch at one warehouse; ``expiry`` None = does not expire."""

    warehouse_id: str
    item_id: str
    batch_id: str
    quantity: int
    expiry: date | None = None

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int | np.integer):
            raise InvalidInput(f"batch {self.batch_id}: quantity must be a whole number")
        if self.quantity < 0:
            raise InvalidInput(f"batch {self.batch_id}: quantity {self.quantity} < 0")
        object.__setattr__(self, "quantity", int(self.quantity))

    @classmethod
    def _unchecked(cls, warehouse_id: str, item_id: str, batch_id: str, quantity: int,
                   expiry: date | None) -> StockBatch:
        """Build a batch *without* ``__post_init__`` validation (internal fast path).

        Only for values derived from batches that were already validated, e.g. what is left of a
        batch after allocation (``quantity`` must be a plain ``int`` >= 0). The result is
        indistinguishable from ``cls(...)``; external callers use the validating constructor.
        """
        b = object.__new__(cls)
        setattr_ = object.__setattr__  # the dataclass is frozen
        setattr_(b, "warehouse_id", warehouse_id)
        setattr_(b, "item_id", item_id)
        setattr_(b, "batch_id", batch_id)
        setattr_(b, "quantity", quantity)
        setattr_(b, "expiry", expiry)
        return b

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {"warehouse_id": self.warehouse_id, "item_id": self.item_id,
                "batch_id": self.batch_id, "quantity": self.quantity,
                "expiry": date_to_str(self.expiry)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StockBatch:
        """Inverse of :meth:`to_dict`."""
        return cls(warehouse_id=str(d["warehouse_id"]), item_id=str(d["item_id"]),
                   batch_id=str(d["batch_id"]), quantity=int(d["quantity"]),
                   expiry=date_from_str(d.get("expiry")))


@dataclass(frozen=True)
class ReleaseRules:
    """Which stock may be planned.

    - A Lumbung Sosial releases stock only if its ``area_code`` is in ``declared_areas``
      (the bupati/walikota has declared an emergency there); other warehouses always release.
    - A batch expiring fewer than ``min_days_before_expiry`` days after ``plan_date`` is not
      planned unless ``allow_near_expiry`` (the coordinator's override); an already expired
      batch (expiry <= plan_date) is never planned.
    - ``max_travel_hours``: pairs with longer travel are treated as unreachable (None = no cap).
    - ``loading_hours``: added to travel hours for the ETA.
    """

    plan_date: date
    declared_areas: frozenset[str] = field(default_factory=frozenset)
    allow_near_expiry: bool = False
    min_days_before_expiry: int = MIN_DAYS_BEFORE_EXPIRY
    max_travel_hours: float | None = None
    loading_hours: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"plan_date": self.plan_date.isoformat(),
                "declared_areas": sorted(self.declared_areas),
                "allow_near_expiry": self.allow_near_expiry,
                "min_days_before_expiry": self.min_days_before_expiry,
                "max_travel_hours": self.max_travel_hours, "loading_hours": self.loading_hours}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReleaseRules:
        """Inverse of :meth:`to_dict`."""
        mth = d.get("max_travel_hours")
        return cls(plan_date=date.fromisoformat(d["plan_date"]),
                   declared_areas=frozenset(d.get("declared_areas", ())),
                   allow_near_expiry=bool(d.get("allow_near_expiry", False)),
                   min_days_before_expiry=int(d.get("min_days_before_expiry",
                                                    MIN_DAYS_BEFORE_EXPIRY)),
                   max_travel_hours=None if mth is None else float(mth),
                   loading_hours=float(d.get("loading_hours", 0.0)))

    def batch_block_reason(self, batch: StockBatch, warehouse: Warehouse) -> str | None:
        """Why this batch may not be planned, or None if it may.

        Reasons: ``lumbung_not_released``, ``expired``, ``near_expiry``.
        """
        if warehouse.kind == "lumbung_sosial" and warehouse.area_code not in self.declared_areas:
            return "lumbung_not_released"
        if batch.expiry is not None:
            days_left = (batch.expiry - self.plan_date).days
            if days_left <= 0:
                return "expired"
            if days_left < self.min_days_before_expiry and not self.allow_near_expiry:
                return "near_expiry"
        return None


@dataclass(frozen=True)
class TravelHours:
    """Travel time in hours from each warehouse to each shelter, as built by ``geo``.

    ``hours[i, j]`` is the time from ``warehouse_ids[i]`` to ``shelter_ids[j]``; ``inf`` marks an
    unreachable pair. Values must be >= 0 (NaN is rejected).
    """

    warehouse_ids: tuple[str, ...]
    shelter_ids: tuple[str, ...]
    hours: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        h = np.asarray(self.hours, dtype=np.float64)
        if h.shape != (len(self.warehouse_ids), len(self.shelter_ids)):
            raise InvalidInput(f"travel hours shape {h.shape} != "
                               f"({len(self.warehouse_ids)}, {len(self.shelter_ids)})")
        if np.isnan(h).any() or (h < 0).any():
            raise InvalidInput("travel hours must be >= 0 (inf = unreachable), got NaN/negative")
        if len(set(self.warehouse_ids)) != len(self.warehouse_ids):
            raise InvalidInput("duplicate warehouse id in travel hours")
        if len(set(self.shelter_ids)) != len(self.shelter_ids):
            raise InvalidInput("duplicate shelter id in travel hours")
        object.__setattr__(self, "hours", h)
        object.__setattr__(self, "_w", {w: i for i, w in enumerate(self.warehouse_ids)})
        object.__setattr__(self, "_s", {s: j for j, s in enumerate(self.shelter_ids)})

    @classmethod
    def from_mapping(cls, mapping: Mapping[tuple[str, str], float]) -> TravelHours:
        """Build from ``{(warehouse_id, shelter_id): hours}``; missing pairs are unreachable."""
        ws = tuple(sorted({w for w, _ in mapping}))
        ss = tuple(sorted({s for _, s in mapping}))
        wi = {w: i for i, w in enumerate(ws)}
        si = {s: j for j, s in enumerate(ss)}
        h = np.full((len(ws), len(ss)), np.inf)
        for (w, s), v in mapping.items():
            h[wi[w], si[s]] = float(v)
        return cls(ws, ss, h)

    def warehouse_index(self, warehouse_id: str) -> int:
        """Row of a warehouse. Raises UnknownWarehouse if absent."""
        try:
            return int(self._w[warehouse_id])  # type: ignore[attr-defined]
        except KeyError:
            raise UnknownWarehouse(f"no travel hours for warehouse {warehouse_id!r}") from None

    def shelter_index(self, shelter_id: str) -> int:
        """Column of a shelter. Raises UnknownShelter if absent."""
        try:
            return int(self._s[shelter_id])  # type: ignore[attr-defined]
        except KeyError:
            raise UnknownShelter(f"no travel hours to shelter {shelter_id!r}") from None

    def get(self, warehouse_id: str, shelter_id: str) -> float:
        """Hours from a warehouse to a shelter."""
        return float(self.hours[self.warehouse_index(warehouse_id),
                                self.shelter_index(shelter_id)])

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (``inf`` as None)."""
        rows = [[None if not np.isfinite(v) else float(v) for v in row] for row in self.hours]
        return {"warehouse_ids": list(self.warehouse_ids), "shelter_ids": list(self.shelter_ids),
                "hours": rows}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TravelHours:
        """Inverse of :meth:`to_dict`."""
        h = np.array([[np.inf if v is None else float(v) for v in row] for row in d["hours"]],
                     dtype=np.float64).reshape(len(d["warehouse_ids"]), len(d["shelter_ids"]))
        return cls(tuple(d["warehouse_ids"]), tuple(d["shelter_ids"]), h)


def index_warehouses(warehouses: Sequence[Warehouse]) -> dict[str, Warehouse]:
    """Warehouses by id. Raises InvalidInput on a duplicate id."""
    out: dict[str, Warehouse] = {}
    for w in warehouses:
        if w.id in out:
            raise InvalidInput(f"duplicate warehouse id {w.id!r}")
        out[w.id] = w
    return out
