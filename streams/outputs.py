"""Output events of the planners, on topics keyed by province code."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from siaga.catalogue import DISPATCH, PLANS, SHORTFALLS

_NAMESPACE = uuid.UUID("6f1d3c2a-9b7e-4c1d-8a5f-2e4b6c8d0a13")

# sorted keys; datetimes (none are expected) as str() gives them, as before orjson
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME

_TOPIC_OF = {"shipment": PLANS, "team": DISPATCH, "supply_shortfall": SHORTFALLS}


def output_topic(event_type: str) -> str:
    return _TOPIC_OF[event_type.split(".", 1)[0]]


def output_record(
    event: dict[str, Any], plan_id: str, province_code: str, at: datetime
) -> bytes:
    """Envelope an output event. Its id derives from the plan and the event, so a re-plan
    redelivered after a crash emits the same ids (consumers deduplicate on them)."""
    body = {k: v for k, v in event.items() if k != "type"}
    identity = orjson.dumps([plan_id, event["type"], body], default=str, option=_OPTIONS)
    return orjson.dumps(
        {
            "event_id": str(uuid.uuid5(_NAMESPACE, identity.decode())),
            "occurred_at": at.isoformat(),
            "source": f"siaga.planner:{province_code}",
            "schema_version": 1,
            "type": event["type"],
            "province_code": province_code,
            "plan_id": plan_id,
            **body,
        },
        default=str,
        option=_OPTIONS,
    )
