"""The Redis read models: key layout, the projector's atomic write, and the API's reads.

Stream processors never answer HTTP; they emit state changes, and the projector
writes them here. The API reads only Redis. Layout (prefix ``siaga``):

- ``siaga:{entity}:{id}`` — hash: ``json`` (the entity), ``version`` (monotonic per entity)
- ``siaga:{entity}s`` — sorted set of ids, score = last update time (epoch seconds)
- ``siaga:{entity}s:province:{code}`` — set of ids in a province
- ``siaga:geo:{entity}s`` — geo set of positions (lon/lat)
- ``siaga:feed`` — Redis Stream of every applied change; the stream id is the
  monotonic sequence number a live client resumes from
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

PREFIX = "siaga"
FEED = f"{PREFIX}:feed"
FEED_MAXLEN = 100_000
GEO_LAT_LIMIT = 85.05112878  # the latitudes a Redis geo set can hold

# Compare-and-set so that a redelivered or out-of-order change never moves an
# entity backwards, and the feed gets exactly one entry per applied change.
# KEYS: 1 hash, 2 sorted index, 3 province set, 4 geo set, 5 feed
# ARGV: 1 version, 2 json, 3 id, 4 score, 5 lon, 6 lat, 7 entity, 8 feed maxlen, 9 deleted
_APPLY_LUA = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and current >= ARGV[1] then
  return 0
end
if ARGV[9] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('SREM', KEYS[3], ARGV[3])
  redis.call('ZREM', KEYS[4], ARGV[3])
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'deleted', '1')
else
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'json', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[3])
  if ARGV[5] ~= '' then
    redis.call('GEOADD', KEYS[4], ARGV[5], ARGV[6], ARGV[3])
  end
end
local seq = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*',
  'entity', ARGV[7], 'id', ARGV[3], 'version', ARGV[1], 'json', ARGV[2], 'deleted', ARGV[9])
return seq
"""


def entity_key(entity: str, entity_id: str) -> str:
    return f"{PREFIX}:{entity}:{entity_id}"


def index_key(entity: str) -> str:
    return f"{PREFIX}:{entity}s"


def province_key(entity: str, province_code: str) -> str:
    return f"{PREFIX}:{entity}s:province:{province_code}"


def geo_key(entity: str) -> str:
    return f"{PREFIX}:geo:{entity}s"


def _script_args(change: dict[str, Any]) -> tuple[list[str], list[str]]:
    entity = change["entity"]
    entity_id = change["id"]
    data = change.get("data") or {}
    location = data.get("location") or {}
    lon = location.get("lon")
    lat = location.get("lat")
    if lon is not None and lat is not None and not (
        -180 <= float(lon) <= 180 and -GEO_LAT_LIMIT <= float(lat) <= GEO_LAT_LIMIT
    ):
        # refused before anything is written, so the change fails the same way every time
        raise ValueError(f"location: {entity} {entity_id} at lat {lat}, lon {lon} is not on Earth")
    keys = [
        entity_key(entity, entity_id),
        index_key(entity),
        province_key(entity, change["province_code"]),
        geo_key(entity),
        FEED,
    ]
    args = [
        change["version"],
        json.dumps(data, separators=(",", ":"), sort_keys=True),
        entity_id,
        str(change.get("score", 0)),
        "" if lon is None else str(lon),
        "" if lat is None else str(lat),
        entity,
        str(FEED_MAXLEN),
        "1" if change.get("deleted") else "0",
    ]
    return keys, args


def _seq(result: Any) -> str | None:
    if not result:
        return None
    return result.decode() if isinstance(result, bytes) else str(result)


async def apply_change(redis: Redis, change: dict[str, Any]) -> str | None:
    """Write one state change (see :mod:`streams.changes`); returns its feed sequence or None.

    ``version`` must sort as a string in update order (the producer zero-pads it).
    None means Redis already held this version or a newer one.
    """
    return (await apply_changes(redis, [change]))[0]


async def apply_changes(redis: Redis, changes: list[dict[str, Any]]) -> list[str | None]:
    """Apply many changes in one round trip (a pipeline of the atomic per-entity script)."""
    if not changes:
        return []
    script = redis.register_script(_APPLY_LUA)
    pipe = redis.pipeline(transaction=False)
    for change in changes:
        keys, args = _script_args(change)
        await script(keys=keys, args=args, client=pipe)
    return [_seq(result) for result in await pipe.execute()]


async def list_entities(
    redis: Redis, entity: str, province_code: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Entities, newest first (optionally one province's)."""
    ids: list[Any]
    if province_code:
        ids = sorted(await redis.smembers(province_key(entity, province_code)))
    else:
        ids = await redis.zrevrange(index_key(entity), 0, limit - 1)
    if not ids:
        return []
    pipe = redis.pipeline(transaction=False)
    for raw_id in ids[:limit]:
        entity_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        pipe.hget(entity_key(entity, entity_id), "json")
    out = []
    for raw in await pipe.execute():
        if raw:
            out.append(json.loads(raw))
    return out


async def get_entity(redis: Redis, entity: str, entity_id: str) -> dict[str, Any] | None:
    raw = await redis.hget(entity_key(entity, entity_id), "json")
    return json.loads(raw) if raw else None
