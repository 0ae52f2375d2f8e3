"""Pages of read-model entities: ``limit`` and an opaque ``cursor`` (``next_cursor``).

Without a province, entities come newest first from the sorted index (score = last
update time); the cursor is the (score, id) of the last one returned, so a page
continues strictly after it even while new entities arrive at the front. With a
province, ids come in id order from the province's set and the cursor is the last id.
An entity updated while a client pages moves to the front: it is on the live feed.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import HTTPException, Query
from redis.asyncio import Redis

from siaga import readmodel

CursorQuery: Any = Query(
    default=None,
    max_length=400,
    description="Where the previous page ended (its next_cursor); omit for the first page",
)
TIE_SLACK = 1000  # entities sharing one update time that a page may have to skip


def _encode(value: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        value = None
    if not isinstance(value, list) or not value:
        raise _bad_cursor()
    return value


def _bad_cursor() -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=[{"loc": ["query", "cursor"], "msg": "not a cursor this API gave out",
                 "type": "value_error"}],
    )


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def page(
    redis: Redis, entity: str, province_code: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` entities after ``cursor``, and the cursor of the next page (None at
    the end)."""
    after = _decode(cursor) if cursor else None
    keys: list[str]
    next_cursor: str | None = None
    if province_code:
        members = sorted(_s(m) for m in await redis.smembers(
            readmodel.province_key(entity, province_code)))
        if after is not None:
            members = [m for m in members if m > str(after[-1])]
        ids = members[:limit]
        if len(members) > limit:
            next_cursor = _encode([ids[-1]])
        keys = [readmodel.entity_key(entity, entity_id, province_code) for entity_id in ids]
    else:
        key = readmodel.index_key(entity)
        rows: list[Any]
        if after is None:
            rows = await redis.zrevrange(key, 0, limit, withscores=True)
        else:
            if len(after) != 2 or not isinstance(after[0], int | float):
                raise _bad_cursor()
            score, last_id = float(after[0]), str(after[1])
            found: list[Any] = await redis.zrevrangebyscore(
                key, score, "-inf", start=0, num=limit + 1 + TIE_SLACK, withscores=True
            )
            rows = [(m, s) for m, s in found if s < score or _s(m) < last_id]
        chosen: list[tuple[str, float]] = [(_s(row[0]), float(row[1])) for row in rows[:limit]]
        keys = [f"{readmodel.PREFIX}:{entity}:{m}" for m, _ in chosen]  # m is province/id
        if len(rows) > limit and chosen:
            next_cursor = _encode([chosen[-1][1], chosen[-1][0]])
    if not keys:
        return [], None
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.hget(key, "json")
    items = [json.loads(raw) for raw in await pipe.execute() if raw]
    return items, next_cursor


def listing(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"count": len(items), "items": items, "next_cursor": next_cursor}
