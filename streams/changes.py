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


def content_hash(value: Any) -> str:
    """A fingerprint of JSON-able data (key order does not matter): what the planner keeps
    of a view or an escalation it sent, to send only what changed."""
    import hashlib

    return hashlib.sha1(
        json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


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


MAX_RECORD_BYTES = 48 * 1024  # every record Siaga writes stays far under Kafka's 1 MB


def pack(
    items: list[dict[str, Any]], limit: int = MAX_RECORD_BYTES, field: str = "records"
) -> list[bytes]:
    """Entities packed into records ``{"<field>": [...]}`` of at most ``limit`` bytes (one
    entity that is larger travels alone): a re-plan's many small messages take a few
    produce requests instead of thousands. Read-model changes use ``field="changes"``
    (what :func:`decode_changes` reads)."""
    head = b'{"' + field.encode() + b'":['
    out: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for item in items:
        one = json.dumps(item, separators=(",", ":"), sort_keys=True).encode()
        if batch and size + len(one) + 1 > limit - len(head) - 2:
            out.append(head + b",".join(batch) + b"]}")
            batch, size = [], 0
        batch.append(one)
        size += len(one) + 1
    if batch:
        out.append(head + b",".join(batch) + b"]}")
    return out


def unpack(raw: bytes) -> list[Any]:
    """The entities of a record made by :func:`pack` (or a single JSON object)."""
    payload = json.loads(raw)
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        return list(payload["records"])
    return [payload]
