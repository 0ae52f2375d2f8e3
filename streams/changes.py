"""State changes: what the processors emit for the projector (topic ``siaga.state-changes``).

A change names the entity, its id, its province, a version that sorts as a
string in update order, and the entity's new data. The projector applies a
change only if its version is newer than what Redis holds, so redelivery and
replays are harmless.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def version_of(occurred_at: datetime, event_id: str) -> str:
    """Last-writer-wins order: event time (µs, zero-padded), ties broken by event id."""
    micros = int(occurred_at.timestamp() * 1_000_000)
    return f"{micros:020d}:{event_id}"


def make_change(
    entity: str,
    entity_id: str,
    province_code: str,
    version: str,
    data: dict[str, Any],
    score: float,
    deleted: bool = False,
) -> dict[str, Any]:
    return {
        "entity": entity,
        "id": entity_id,
        "province_code": province_code,
        "version": version,
        "score": score,
        "data": data,
        "deleted": deleted,
    }


def encode_change(change: dict[str, Any]) -> bytes:
    return json.dumps(change, separators=(",", ":"), sort_keys=True).encode()


def encode_changes(changes: list[dict[str, Any]]) -> bytes:
    """Several changes in one record (a re-plan's changes travel together: one produce
    request instead of hundreds)."""
    return json.dumps({"changes": changes}, separators=(",", ":"), sort_keys=True).encode()


def _check(change: Any) -> dict[str, Any]:
    if not isinstance(change, dict):
        raise ValueError("state change must be a JSON object")
    for field in ("entity", "id", "province_code", "version"):
        if not isinstance(change.get(field), str):
            raise ValueError(f"state change lacks {field}")
    return change


def decode_changes(raw: bytes) -> list[dict[str, Any]]:
    """The changes in a record: one change, or ``{"changes": [...]}``."""
    payload = json.loads(raw)
    if isinstance(payload, dict) and isinstance(payload.get("changes"), list):
        return [_check(change) for change in payload["changes"]]
    return [_check(payload)]
