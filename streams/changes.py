"""State changes: what the processors emit for the projector (topic ``siaga.state-changes``).

A change names the entity, its id, its province, a version that sorts as a
string in update order, and the entity's new data. The projector applies a
change only if its version is newer than what Redis holds, so redelivery and
replays are harmless.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from siaga.readmodel import dumps as readmodel_dumps


def content_hash(value: Any) -> str:
    """A fingerprint of JSON-able data (key order does not matter): what the planner keeps
    of a view or an escalation it sent, to send only what changed.

    Serialised with orjson (keys sorted): a 2,000-shelter re-plan hashes ~26,000 views, a
    quarter of its CPU with the standard library's encoder, 6x less with orjson. (Hashes
    kept from before this encoder differ: the first plan after the upgrade sends every
    view and escalation once more, the same content.)"""
    return hashlib.sha1(orjson.dumps(value, default=str, option=_HASH_OPTIONS)).hexdigest()


_HASH_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    """Compact JSON with sorted keys, UTF-8: what every record and read-model value Siaga
    writes is encoded with (one encoder, :func:`siaga.readmodel.dumps`; the standard
    library's took a tenth of the worker's CPU in a burst, py-spy, BENCHMARKS.md)."""
    return readmodel_dumps(value)


def loads(raw: bytes | str) -> Any:
    """Parse JSON (orjson; raises ``ValueError`` on bad input, as ``json.loads`` does)."""
    return orjson.loads(raw)


def version_of(occurred_at: datetime, event_id: str) -> str:
    """Last-writer-wins order: event time (µs, zero-padded), ties broken by event id."""
    micros = int(occurred_at.timestamp() * 1_000_000)
    return f"{micros:020d}:{event_id}"


def _micros(iso: str | None) -> int:
    if not iso:
        return 0
    return int(datetime.fromisoformat(iso).timestamp() * 1_000_000)


PLAN_SEQ_WIDTH = 20


def shelter_version(accepted_at: str | None, seq: int) -> str:
    """The version of a shelter view the planner writes.

    A shelter's view has two writers: the planner (the whole view, each plan) and the
    shelters agent (a *quick view*: the new headcount or registration at once, the plan's
    figures as they were; :func:`quick_version`). Versions order first by when the
    shelter's newest report was accepted, then by plan: a plan made from an older snapshot
    of the shelter never hides a report shown since, and the plan that includes the report
    replaces its quick view.
    """
    return f"{_micros(accepted_at):020d}:{seq:0{PLAN_SEQ_WIDTH}d}"


def quick_version(accepted_at: str | None, stored_version: str | None, report: str) -> str:
    """The version of a quick view patched onto the view stored with ``stored_version``:
    newer than every view of an older report, older than the next plan's view (it keeps the
    stored view's plan part and adds ``.q``; ``report`` — the report's own version — orders
    two reports accepted in the same millisecond)."""
    plan_part = "0" * PLAN_SEQ_WIDTH
    if stored_version:
        # planner views "<accepted>:<seq>", quick views "<accepted>:<seq>.q…", and views
        # written before shelter views had two writers: "<seq>"
        tail = stored_version.partition(":")[2] if ":" in stored_version else stored_version
        plan_part = tail.split(".q", 1)[0] or plan_part
    return f"{_micros(accepted_at):020d}:{plan_part}.q{report}"


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
    return dumps(change)


def encode_changes(changes: list[dict[str, Any]]) -> bytes:
    """Several changes in one record (a re-plan's changes travel together: one produce
    request instead of hundreds)."""
    return dumps({"changes": changes})


def _check(change: Any) -> dict[str, Any]:
    if not isinstance(change, dict):
        raise ValueError("state change must be a JSON object")
    for field in ("entity", "id", "province_code", "version"):
        if not isinstance(change.get(field), str):
            raise ValueError(f"state change lacks {field}")
    return change


def decode_changes(raw: bytes) -> list[dict[str, Any]]:
    """The changes in a record: one change, or ``{"changes": [...]}``."""
    payload = loads(raw)
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
        one = dumps(item)
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
    payload = loads(raw)
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        return list(payload["records"])
    return [payload]
