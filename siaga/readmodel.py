"""The Redis read models: key layout, the projector's atomic write, and the API's reads.

Stream processors never answer HTTP; they emit state changes, and the projector
writes them here. The API reads only Redis. Layout (prefix ``siaga``):

- ``siaga:{entity}:{province}/{id}`` — hash: ``json`` (the entity), ``version``
  (monotonic per entity)
- ``siaga:{entity}s`` — sorted set of ``{province}/{id}``, score = last update time
- ``siaga:{entity}s:province:{code}`` — set of ids in a province
- ``siaga:{entity}s:where:{id}`` — set of the provinces holding an entity with this id
- ``siaga:geo:{entity}s`` — geo set of positions (lon/lat) of ``{province}/{id}``
- ``siaga:feed`` — Redis Stream of every applied change; the stream id is the
  monotonic sequence number a live client resumes from
- ``siaga:kitchens:team:{team id}`` — set of ``{province}/{id}`` of the kitchens whose
  ``team_ids`` named this team (a team may run a kitchen of another province). Members are
  added, never removed when a kitchen's teams change: :func:`kitchens_of_team` checks each
  kitchen's current ``team_ids``
- ``siaga:shipments:to:{province}/{destination id}`` — set of ``{province}/{id}`` of the
  shipments in flight (confirmed or dispatched) to a shelter or public kitchen; a shipment
  leaves it with the change that moves it on (delivered, cancelled…) or deletes it
- ``siaga:readmodel:layout`` — the layout's version (``LAYOUT``)

Ids are unique only within a province (two provinces may each have a shelter ``s-001``),
so every key and index member carries the province. A read by id alone goes through
the ``where`` set: one province → that entity; several → :class:`AmbiguousId`, and the
caller must name the province.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

PREFIX = "siaga"
FEED = f"{PREFIX}:feed"
FEED_MAXLEN = 100_000
GEO_LAT_LIMIT = 85.05112878  # the latitudes a Redis geo set can hold
# 1: keys by id alone (before ids were scoped to a province); 2: before the kitchens-by-team
# and shipments-in-flight-by-destination sets
LAYOUT = "3"
LAYOUT_KEY = f"{PREFIX}:readmodel:layout"


class AmbiguousId(LookupError):
    """An id that more than one province uses, read without naming the province."""

    def __init__(self, entity: str, entity_id: str, provinces: list[str]) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.provinces = provinces
        super().__init__(
            f"province_code: {entity} {entity_id!r} exists in provinces "
            f"{', '.join(provinces)}; name the province"
        )

# Compare-and-set so that a redelivered or out-of-order change never moves an
# entity backwards, and the feed gets exactly one entry per applied change.
# KEYS: 1 hash, 2 sorted index, 3 province set, 4 geo set, 5 feed, 6 where set,
#       7.. the entity's member sets (see ``member_sets``)
# ARGV: 1 version, 2 json, 3 id, 4 score, 5 lon, 6 lat, 7 entity, 8 feed maxlen, 9 deleted,
#       10 province, 11 province/id (the member of the national indexes),
#       12 one '+' (add the member) or '-' (remove it) per member set, in KEYS order
# The member sets change only with an applied change (after the version check), so a
# stale change cannot put a shipment back into a set it left.
_APPLY_LUA = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and current >= ARGV[1] then
  return 0
end
if ARGV[9] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[11])
  redis.call('SREM', KEYS[3], ARGV[3])
  redis.call('ZREM', KEYS[4], ARGV[11])
  redis.call('SREM', KEYS[6], ARGV[10])
  for i = 7, #KEYS do
    redis.call('SREM', KEYS[i], ARGV[11])
  end
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'deleted', '1')
else
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'json', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[11])
  redis.call('SADD', KEYS[3], ARGV[3])
  redis.call('SADD', KEYS[6], ARGV[10])
  if ARGV[5] ~= '' then
    redis.call('GEOADD', KEYS[4], ARGV[5], ARGV[6], ARGV[11])
  end
  for i = 7, #KEYS do
    if string.sub(ARGV[12], i - 6, i - 6) == '+' then
      redis.call('SADD', KEYS[i], ARGV[11])
    else
      redis.call('SREM', KEYS[i], ARGV[11])
    end
  end
end
local seq = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*',
  'entity', ARGV[7], 'id', ARGV[3], 'province', ARGV[10], 'version', ARGV[1],
  'json', ARGV[2], 'deleted', ARGV[9])
return seq
"""


def member(province_code: str, entity_id: str) -> str:
    """The entity's name in the national indexes: ``{province}/{id}``."""
    return f"{province_code}/{entity_id}"


def split_member(value: str | bytes) -> tuple[str, str]:
    """``"32/s-001"`` → ("32", "s-001"); a province code never holds a slash."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    province_code, _, entity_id = text.partition("/")
    return province_code, entity_id


def entity_key(entity: str, entity_id: str, province_code: str) -> str:
    return f"{PREFIX}:{entity}:{member(province_code, entity_id)}"


def where_key(entity: str, entity_id: str) -> str:
    return f"{PREFIX}:{entity}s:where:{entity_id}"


def index_key(entity: str) -> str:
    return f"{PREFIX}:{entity}s"


def province_key(entity: str, province_code: str) -> str:
    return f"{PREFIX}:{entity}s:province:{province_code}"


def geo_key(entity: str) -> str:
    return f"{PREFIX}:geo:{entity}s"


def kitchen_team_key(team_id: str) -> str:
    """The set of the kitchens (``{province}/{id}``) whose teams named ``team_id``."""
    return f"{PREFIX}:kitchens:team:{team_id}"


def shipments_to_key(province_code: str, destination_id: str) -> str:
    """The set of the shipments in flight to a shelter or kitchen of a province."""
    return f"{PREFIX}:shipments:to:{member(province_code, destination_id)}"


#: A shipment in these states is on its way to its destination (``shipments_to_key``).
IN_FLIGHT = ("confirmed", "dispatched")
#: At most this many teams of one kitchen are indexed (the API takes 20).
MAX_KITCHEN_TEAMS = 50


def dumps(data: Any) -> bytes:
    """Compact JSON, sorted keys, UTF-8: an entity as stored and fed, and every record the
    worker writes (:func:`streams.changes.dumps`). orjson: the projector encodes every change
    of a re-plan, ~12 MB for 2,000 changed shelters."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def member_sets(entity: str, province_code: str, data: dict[str, Any]) -> list[tuple[str, bool]]:
    """The sets an entity's change adds it to (True) or removes it from (False), besides the
    layout's indexes: a kitchen to its teams' sets, a shipment to its destination's set while
    in flight (removed from it otherwise)."""
    if entity == "kitchen":
        teams = [str(t) for t in (data.get("team_ids") or []) if t][:MAX_KITCHEN_TEAMS]
        return [(kitchen_team_key(t), True) for t in dict.fromkeys(teams)]
    if entity == "shipment" and data.get("shelter_id"):
        return [(shipments_to_key(province_code, str(data["shelter_id"])),
                 data.get("status") in IN_FLIGHT)]
    return []


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
    province_code = str(change["province_code"])
    sets = member_sets(entity, province_code, data)
    keys = [
        entity_key(entity, entity_id, province_code),
        index_key(entity),
        province_key(entity, province_code),
        geo_key(entity),
        FEED,
        where_key(entity, entity_id),
        *(key for key, _ in sets),
    ]
    args = [
        change["version"],
        dumps(data),
        entity_id,
        str(change.get("score", 0)),
        "" if lon is None else str(lon),
        "" if lat is None else str(lat),
        entity,
        str(FEED_MAXLEN),
        "1" if change.get("deleted") else "0",
        province_code,
        member(province_code, entity_id),
        "".join("+" if add else "-" for _, add in sets),
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
    keys: list[str]
    if province_code:
        ids = sorted(await redis.smembers(province_key(entity, province_code)))
        keys = [entity_key(entity, _s(raw), province_code) for raw in ids[:limit]]
    else:
        members = await redis.zrevrange(index_key(entity), 0, limit - 1)
        keys = [f"{PREFIX}:{entity}:{_s(raw)}" for raw in members]
    if not keys:
        return []
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.hget(key, "json")
    out = []
    for raw in await pipe.execute():
        if raw:
            out.append(orjson.loads(raw))
    return out


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def provinces_of(redis: Redis, entity: str, entity_id: str) -> list[str]:
    """The provinces that hold an entity with this id (usually one)."""
    return sorted(_s(p) for p in await redis.smembers(where_key(entity, entity_id)))


async def get_entity(
    redis: Redis,
    entity: str,
    entity_id: str,
    province_code: str | None = None,
    prefer: str | None = None,
) -> dict[str, Any] | None:
    """One entity: the one in ``province_code`` when given; otherwise the id's only
    province, or ``prefer`` (the caller's own province) among several, else
    :class:`AmbiguousId`."""
    if province_code is None:
        provinces = await provinces_of(redis, entity, entity_id)
        if not provinces:
            return None
        if len(provinces) > 1:
            if prefer not in provinces:
                raise AmbiguousId(entity, entity_id, provinces)
            provinces = [prefer]
        province_code = provinces[0]
    raw = await redis.hget(entity_key(entity, entity_id, province_code), "json")
    return orjson.loads(raw) if raw else None


async def get_entities(
    redis: Redis, entity: str, entity_ids: list[str], province_code: str | None = None
) -> dict[str, dict[str, Any] | None]:
    """Many entities by id in two round trips (one when the province is given); an id
    that several provinces use raises :class:`AmbiguousId` unless ``province_code``."""
    if province_code is None:
        pipe = redis.pipeline(transaction=False)
        for entity_id in entity_ids:
            pipe.smembers(where_key(entity, entity_id))
        homes: list[str | None] = []
        for entity_id, found in zip(entity_ids, await pipe.execute(), strict=True):
            provinces = sorted(_s(p) for p in found)
            if len(provinces) > 1:
                raise AmbiguousId(entity, entity_id, provinces)
            homes.append(provinces[0] if provinces else None)
    else:
        homes = [province_code] * len(entity_ids)
    pipe = redis.pipeline(transaction=False)
    for entity_id, home in zip(entity_ids, homes, strict=True):
        pipe.hget(entity_key(entity, entity_id, home or "-"), "json")
    return {
        entity_id: orjson.loads(raw) if raw else None
        for entity_id, raw in zip(entity_ids, await pipe.execute(), strict=True)
    }


async def _members(redis: Redis, key: str, entity: str, limit: int) -> list[dict[str, Any]]:
    """The entities of a member set (``{province}/{id}``, in that order, at most ``limit``)."""
    members = sorted(_s(m) for m in await redis.smembers(key))[:limit]
    if not members:
        return []
    pipe = redis.pipeline(transaction=False)
    for name in members:
        pipe.hget(f"{PREFIX}:{entity}:{name}", "json")
    return [orjson.loads(raw) for raw in await pipe.execute() if raw]


async def kitchens_of_team(redis: Redis, team_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The kitchens of any province whose ``team_ids`` include ``team_id`` now (a kitchen
    whose teams changed since is left out). Ids are unique only within a province: which
    team of that id a kitchen means is the caller's to decide (``province_code``)."""
    kitchens = await _members(redis, kitchen_team_key(team_id), "kitchen", limit)
    return [k for k in kitchens if team_id in (k.get("team_ids") or [])]


async def shipments_to(
    redis: Redis, province_code: str, destination_id: str, limit: int = 200
) -> list[dict[str, Any]]:
    """The shipments in flight (confirmed or dispatched) to one shelter or kitchen."""
    shipments = await _members(redis, shipments_to_key(province_code, destination_id),
                               "shipment", limit)
    return [s for s in shipments if s.get("status") in IN_FLIGHT
            and s.get("shelter_id") == destination_id]


async def check_layout(redis: Redis) -> str | None:
    """Mark an empty read model with this layout; say what to do with an older one.

    Returns None when the read models are in this layout (or empty, now marked), else
    the sentence to print: the read models must be rebuilt from Kafka.
    """
    current = await redis.get(LAYOUT_KEY)
    if current is not None:
        if _s(current) == LAYOUT:
            return None
        return (f"read models in layout {_s(current)}, this Siaga writes layout {LAYOUT}: "
                "run `siaga rebuild-readmodels`")
    for entity in ("incident", "shelter", "warehouse", "shipment"):
        first = await redis.zrange(index_key(entity), 0, 0)
        if first and "/" not in _s(first[0]):
            return ("read models written by an older Siaga (ids without their province): "
                    "run `siaga rebuild-readmodels`")
    await redis.set(LAYOUT_KEY, LAYOUT)
    return None
