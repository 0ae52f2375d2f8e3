"""Output events of the planners, on topics keyed by province code."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from siaga.catalogue import DISPATCH, PLANS, SHORTFALLS

_NAMESPACE = uuid.UUID("6f1d3c2a-9b7e-4c1d-8a5f-2e4b6c8d0a13")

_TOPIC_OF = {"shipment": PLANS, "team": DISPATCH, "supply_shortfall": SHORTFALLS}


def output_topic(event_type: str) -> str:
    return _TOPIC_OF[event_type.split(".", 1)[0]]


def output_record(
    event: dict[str, Any], plan_id: str, province_code: str, at: datetime
) -> bytes:
    """Envelope an output event. Its id derives from the plan and the event, so a re-plan
    redelivered after a crash emits the same ids (consumers deduplicate on them)."""
    body = {k: v for k, v in event.items() if k != "type"}
    identity = json.dumps([plan_id, event["type"], body], sort_keys=True, default=str)
    return json.dumps(
        {
            "event_id": str(uuid.uuid5(_NAMESPACE, identity)),
            "occurred_at": at.isoformat(),
            "source": f"siaga.planner:{province_code}",
            "schema_version": 1,
            "type": event["type"],
            "province_code": province_code,
            "plan_id": plan_id,
            **body,
        },
        sort_keys=True,
        default=str,
    ).encode()
