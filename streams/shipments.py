"""Topic ``siaga.shipments``: warehouse staff and receiving posts move shipments; coordinators
hold them. One row per shipment; what a move means for stock and shelters is folded into
their own rows at once, so a closed shipment can leave the working state:

- dispatched: each picked batch records the departure (``departures`` on the batch row); a
  national-tier shipment's batches belong to another province's warehouse, so the
  departure travels to that province on ``siaga.stock-moves``;
- delivered: the shelter records what it received (``received`` on the shelter row); a
  public kitchen the same way. A kitchen has no posko: its delivery is confirmed by a team
  running it, a coordinator or an admin — anyone else's is dead-lettered
  (:func:`check_kitchen_receipt`; the API refuses it first, from a read model that may lag).

A coordinator's approval or decline of what the national tier sends the province
(``escalation.decision_recorded``) is kept in the province's ``overrides`` table, checked
against the shipment or the national tier's result it names
(:func:`streams.planning.gate.apply_escalation_decision`: anything outside the keyed
province is dead-lettered with the reason); the re-plan applies it.

The planner projects a closed shipment's final state, then removes it from the table (its
history stays in Kafka and the read models).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from siaga.catalogue import STOCK_MOVES
from siaga.events import (
    EscalationDecisionRecorded,
    InvalidRecord,
    ShipmentHoldChanged,
    ShipmentStatusChanged,
)
from streams.deadletter import park
from streams.entities import entity_table
from streams.ingest import (
    apply_shipment_hold,
    apply_shipment_status,
    batch_entity_id,
    record_delivery,
    record_departure,
)
from streams.plumbing import (
    BATCH_SIZE,
    BATCH_WITHIN,
    Reducer,
    Writes,
    decode_for,
    fold,
    request_replan,
    run_batch,
    send_change,
)

STATUS = ShipmentStatusChanged.model_fields["type"].default
HOLD = ShipmentHoldChanged.model_fields["type"].default
DECISION = EscalationDecisionRecorded.model_fields["type"].default


def _fold_decision(writes: Writes, event: Any, decided: EscalationDecisionRecorded) -> None:
    """A coordinator's decision on a national-tier shipment or mobilised team, into its gate
    row (raises InvalidRecord when it names nothing the national tier sent this province)."""
    from streams.planning.gate import apply_escalation_decision, covered_key, decision_key

    province = decided.province_code
    if decided.shipment_id is not None:
        target = writes.get("shipments", province, decided.shipment_id)
    else:
        target = writes.get("national", province,
                            covered_key(str(decided.task_id), str(decided.team_id)))
    fold(writes, "overrides", province, decision_key(decided), event,
         lambda view, e: apply_escalation_decision(view, e, target), decided)


def _confirm_as_decided(decision: dict[str, Any] | None) -> Reducer:
    """The lifecycle's reducer for a confirmation, checked against the coordinator's decision
    as recorded (this agent folded it, from the same topic, before the confirmation), not only
    as the shipment's row carries it after a re-plan (:func:`streams.planning.gate.as_decided`)."""
    from streams.planning.gate import as_decided

    def reducer(state: dict[str, Any], event: Any) -> dict[str, Any] | None:
        current = state.get(event.shipment_id)
        if current is not None:
            state[event.shipment_id] = as_decided(current, decision)
        return apply_shipment_status(state, event)

    return reducer


def _departures(writes: Writes, province: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Record the shipment's departure on each picked batch; returns the stock-card lines."""
    from streams.warehouses import dispatch_change

    shelter = writes.get("shelters", province, str(row.get("shelter_id") or "")) or {}
    lines = []
    for pick in row.get("batches", []):
        key = batch_entity_id(row["warehouse_id"], pick["batch_id"])
        batch = writes.get("batches", province, key)
        if batch is None:
            continue
        moved = record_departure(batch, row["shipment_id"], int(pick["quantity"]),
                                 row["dispatched_at"])
        if moved is not None:
            writes.put("batches", province, key, moved)
            lines.append(dispatch_change(province, moved, row, int(pick["quantity"]),
                                         shelter.get("name")))
    return lines


#: Who besides a team running the kitchen may confirm a delivery to it (event ``source``).
KITCHEN_RECEIVERS = ("coordinator:", "admin:", "replay:")


def check_kitchen_receipt(
    shipment: dict[str, Any], kitchen: dict[str, Any], event: ShipmentStatusChanged
) -> None:
    """Raise :class:`InvalidRecord` when a delivery to a public kitchen is confirmed by
    someone other than a team running it (``team:<id>``), a coordinator or an admin."""
    source = event.source
    runners = list(kitchen.get("team_ids") or [])
    if source.startswith(KITCHEN_RECEIVERS):
        return
    if source.startswith("team:") and source.removeprefix("team:") in runners:
        return
    raise InvalidRecord(
        f"source: shipment {event.shipment_id} goes to kitchen {shipment['shelter_id']}, "
        f"whose delivery only a team running it ({', '.join(runners) or 'none'}) or a "
        f"coordinator confirms, not {source}")


def _kitchen_destination(
    writes: Writes, province: str, event: ShipmentStatusChanged
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The open shipment and the kitchen it goes to, when it goes to a kitchen."""
    shipment = writes.get("shipments", province, event.shipment_id)
    if shipment is None:
        return None
    destination = str(shipment.get("shelter_id") or "")
    if writes.get("shelters", province, destination) is not None:
        return None
    kitchen = writes.get("kitchens", province, destination)
    return None if kitchen is None else (shipment, kitchen)


def register(ctx: Any) -> None:
    for name in ("shipments", "batches", "shelters", "kitchens", "overrides", "national"):
        entity_table(ctx, name)
    allowed = (STATUS, HOLD, DECISION)

    async def handle(events: Sequence[Any]) -> None:
        writes = Writes(ctx)
        provinces: set[str] = set()
        moves: list[tuple[str, dict[str, Any]]] = []
        lines: list[dict[str, Any]] = []
        for event in events:
            try:
                decoded = decode_for(event, allowed)
            except InvalidRecord as exc:
                await park(ctx, event, exc.reason)
                continue
            province = decoded.province_code  # type: ignore[attr-defined]
            if isinstance(decoded, EscalationDecisionRecorded):
                try:
                    _fold_decision(writes, event, decoded)
                except InvalidRecord as exc:
                    await park(ctx, event, exc.reason)
                    continue
                provinces.add(province)
                continue
            shipment_id = decoded.shipment_id  # type: ignore[attr-defined]
            reducer: Reducer = (
                apply_shipment_status if isinstance(decoded, ShipmentStatusChanged)
                else apply_shipment_hold
            )
            if isinstance(decoded, ShipmentStatusChanged) and decoded.status == "confirmed":
                from streams.planning.gate import shipment_key

                reducer = _confirm_as_decided(
                    writes.get("overrides", province, shipment_key(shipment_id)))
            try:
                if isinstance(decoded, ShipmentStatusChanged) and decoded.status == "delivered":
                    to_kitchen = _kitchen_destination(writes, province, decoded)
                    if to_kitchen is not None:
                        check_kitchen_receipt(*to_kitchen, decoded)
                row = fold(writes, "shipments", province, shipment_id, event, reducer, decoded)
            except InvalidRecord as exc:
                await park(ctx, event, exc.reason)
                continue
            provinces.add(province)
            if row is None:
                continue
            if isinstance(decoded, ShipmentStatusChanged) and row["status"] == "dispatched":
                home = row.get("warehouse_province") or province
                if row.get("tier") == "national" and home != province:
                    moves.append((home, row))
                else:
                    lines += _departures(writes, province, row)
            elif isinstance(decoded, ShipmentStatusChanged) and row["status"] == "delivered":
                shelter = writes.get("shelters", province, row["shelter_id"])
                if shelter is not None:
                    writes.put("shelters", province, row["shelter_id"],
                               record_delivery(shelter, row))
                elif (kitchen := writes.get("kitchens", province, row["shelter_id"])):
                    # ingredients delivered to a public kitchen stay with it the same way
                    writes.put("kitchens", province, row["shelter_id"],
                               record_delivery(kitchen, row))
        # The other province's departure is acknowledged before this one's tables change
        # (a retried batch sends it again; recording it is idempotent by shipment id).
        acks = [
            await ctx.send(STOCK_MOVES, home.encode(), json.dumps({
                "province_code": home, "shipment_id": row["shipment_id"],
                "warehouse_id": row["warehouse_id"], "batches": row.get("batches", []),
                "dispatched_at": row["dispatched_at"],
            }).encode())
            for home, row in moves
        ]
        acks += [await send_change(ctx, line) for line in lines]  # the stock cards
        await asyncio.gather(*acks)
        await writes.flush_paced()
        if provinces:
            await request_replan(ctx, provinces, "shipments")

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN):
            await run_batch(ctx, "shipments", events, handle)

    ctx.app.agent(ctx.raw_topic("shipments"), name="shipments")(agent)

    async def handle_moves(events: Sequence[Any]) -> None:
        writes = Writes(ctx)
        provinces: set[str] = set()
        lines: list[dict[str, Any]] = []
        for event in events:
            try:
                move = json.loads(event.value)
                province = str(move["province_code"])
                row = {"shipment_id": str(move["shipment_id"]),
                       "warehouse_id": str(move["warehouse_id"]),
                       "batches": list(move["batches"]),
                       "dispatched_at": str(move["dispatched_at"])}
            except (ValueError, KeyError, TypeError) as exc:
                await park(ctx, event, f"undecodable stock move: {exc}")
                continue
            lines += _departures(writes, province, row)
            provinces.add(province)
        await asyncio.gather(*[await send_change(ctx, line) for line in lines])
        await writes.flush_paced()
        if provinces:
            await request_replan(ctx, provinces, "stock-moves")

    async def stock_moves(stream: Any) -> None:
        async for events in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN):
            await run_batch(ctx, "stock-moves", events, handle_moves)

    ctx.app.agent(ctx.raw_topic(STOCK_MOVES), name="stock-moves")(stock_moves)
