"""`siaga replay NAME`: produce a real past disaster's events to Kafka at a chosen speed.

Each event goes to ``settings.topic(topic_for_event_type(event.type).name)`` keyed by its
province code (UTF-8), in time order. Between two events the replay sleeps
``(offset difference) / speed`` seconds; ``speed`` 0 or infinity sends as fast as possible.
The baseline before onset (warehouse stock, team roll call) is sent without waiting: the
clock starts at onset. Event ids are deterministic (see :mod:`siaga.scenarios`), so
replaying a scenario twice gives the stream processors duplicates they drop, not new data.

A replay on today's clock (``--now``) never stamps the future, which the API and the
workers refuse (:func:`siaga.events.check_not_future`): sent all at once, the timeline is
shifted so that its *last* event occurs now; at a finite speed the onset is now and each
event is stamped with the time it is sent whenever its scenario time would be later.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from siaga.catalogue import topic_for_event_type
from siaga.events import encode_event, utcnow
from siaga.scenarios import ScenarioError, available, build_events, load
from siaga.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: Seconds of wall time between two progress reports.
PROGRESS_EVERY = 5.0


@dataclass(frozen=True)
class ReplayProgress:
    """Where a replay is: events sent of the total, and the simulated time reached."""

    scenario: str
    sent: int
    total: int
    offset_seconds: int
    occurred_at: datetime
    local_time: datetime
    done: bool = False

    def describe(self) -> str:
        sign = "-" if self.offset_seconds < 0 else "+"
        hours = abs(self.offset_seconds) / 3600
        return (
            f"{self.scenario}: {self.sent}/{self.total} events, simulated "
            f"{self.local_time:%Y-%m-%d %H:%M %Z} (onset {sign}{hours:.1f} h)"
        )


@dataclass
class ReplayStats:
    scenario: str
    events: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    per_type: dict[str, int] = field(default_factory=dict)
    simulated_seconds: int = 0
    wall_seconds: float = 0.0
    first_occurred_at: datetime | None = None
    last_occurred_at: datetime | None = None


def _pace(speed: float) -> float | None:
    """Wall seconds per simulated second, or None for "as fast as possible"."""
    if math.isnan(speed) or speed < 0:
        raise ValueError(f"speed must be >= 0 (0 or inf = as fast as possible), got {speed}")
    if speed == 0 or math.isinf(speed):
        return None
    return 1.0 / speed


async def replay(
    settings: Settings,
    name: str,
    speed: float = 60.0,
    scale: float = 1.0,
    realtime_base: bool = False,
    progress: Callable[[ReplayProgress], None] | None = None,
) -> ReplayStats:
    """Produce scenario ``name`` to Kafka; returns counts and timings.

    ``realtime_base`` moves the timeline to today so a live demo looks current, never into
    the future: with ``speed`` 0 (or infinity) the last event occurs now; at a finite speed
    the onset is now and no event is stamped later than the moment it is sent.
    ``scale`` (0 < scale ≤ 1) shrinks people counts and stock quantities.
    ``progress`` is called at most every :data:`PROGRESS_EVERY` seconds and once at the end.
    """
    from aiokafka import AIOKafkaProducer

    from siaga.kafka import ensure_topics

    pace = _pace(speed)
    scenario = load(name)
    if not realtime_base:
        timed = build_events(scenario, scale=scale)
    elif pace is None:
        timed = build_events(scenario, scale=scale, ends_at=utcnow())
    else:
        timed = build_events(scenario, scale=scale, onset=utcnow())
    if not settings.kafka_bootstrap_servers:
        raise ValueError("settings.kafka_bootstrap_servers is not set")
    await ensure_topics(settings)
    stats = ReplayStats(scenario=name)
    per_topic: Counter[str] = Counter()
    per_type: Counter[str] = Counter()
    tz = scenario.tz
    from siaga.settings import kafka_client_options

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5,
        **kafka_client_options(settings),
    )
    await producer.start()
    started = time.monotonic()
    last_report = started
    sent = 0
    pending = []
    first_stamp: datetime | None = None
    last_stamp: datetime | None = None

    def report(offset: int) -> None:
        nonlocal last_report
        last_report = time.monotonic()
        if progress is not None:
            at = scenario_onset + timedelta(seconds=offset)
            progress(_progress(name, sent, len(timed), offset, at, tz))

    scenario_onset = timed[0].event.occurred_at - timedelta(seconds=timed[0].offset_seconds)
    try:
        for item in timed:
            target = max(0, item.offset_seconds)  # the baseline before onset does not wait
            if pace is not None:
                due = started + target * pace  # against the start: no drift over long runs
                if due > time.monotonic():
                    await producer.flush()  # what is due now is on the broker before we wait
                while (remaining := due - time.monotonic()) > 0:
                    await asyncio.sleep(min(remaining, PROGRESS_EVERY))
                    if time.monotonic() - last_report >= PROGRESS_EVERY:
                        simulated = int((time.monotonic() - started) / pace)
                        report(min(simulated, target))
            event = item.event
            if realtime_base and pace is not None:
                # faster than real time, the scenario's clock runs ahead of the wall clock:
                # stamp the event when it is sent instead
                sent_at = utcnow()
                if event.occurred_at > sent_at:
                    event = event.model_copy(update={"occurred_at": sent_at})
            last_stamp = event.occurred_at
            if first_stamp is None:
                first_stamp = event.occurred_at
            topic = settings.topic(topic_for_event_type(item.event_type).name)
            key = event.province_code.encode()  # type: ignore[attr-defined]
            pending.append(await producer.send(topic, value=encode_event(event), key=key))
            sent += 1
            per_topic[topic] += 1
            per_type[item.event_type] += 1
            if time.monotonic() - last_report >= PROGRESS_EVERY:
                report(item.offset_seconds)
        await producer.flush()
        for future in pending:
            await future  # raises if the broker rejected a record
    finally:
        await producer.stop()
    stats.events = len(timed)
    stats.per_topic = dict(per_topic)
    stats.per_type = dict(per_type)
    stats.wall_seconds = time.monotonic() - started
    if timed:
        stats.first_occurred_at = first_stamp
        stats.last_occurred_at = last_stamp
        stats.simulated_seconds = max(0, timed[-1].offset_seconds)  # onset to the last event
        if progress is not None:
            last = timed[-1]
            progress(
                _progress(
                    name,
                    len(timed),
                    len(timed),
                    last.offset_seconds,
                    last_stamp or last.event.occurred_at,
                    tz,
                    done=True,
                )
            )
    log.info(
        "replayed %s: %d events in %.1f s (%s)",
        name,
        stats.events,
        stats.wall_seconds,
        ", ".join(f"{t}={n}" for t, n in sorted(stats.per_topic.items())),
    )
    return stats


def _progress(
    name: str,
    sent: int,
    total: int,
    offset: int,
    occurred_at: datetime,
    tz: object,
    done: bool = False,
) -> ReplayProgress:
    return ReplayProgress(
        scenario=name,
        sent=sent,
        total=total,
        offset_seconds=offset,
        occurred_at=occurred_at,
        local_time=occurred_at.astimezone(tz),  # type: ignore[arg-type]
        done=done,
    )


def _say(message: str) -> None:
    sys.stderr.write(f"[replay] {message}\n")
    sys.stderr.flush()


def _list() -> int:
    for name in available():
        try:
            scenario = load(name)
        except ScenarioError as exc:
            sys.stdout.write(f"{name}\t(invalid: {exc})\n")
            continue
        events = build_events(scenario)
        span = timedelta(seconds=max(0, events[-1].offset_seconds))
        sys.stdout.write(
            f"{name}\t{scenario.title.en} / {scenario.title.id}\t"
            f"{len(events)} events over {span} from onset\n"
        )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """The `replay` subcommand; returns the exit code."""
    if args.list:
        return _list()
    if not args.name:
        _say("give a scenario name, or --list to see them: " + ", ".join(available()))
        return 2
    settings = get_settings()
    settings.require_kafka()
    try:
        stats = asyncio.run(
            replay(
                settings,
                args.name,
                speed=args.speed,
                scale=args.scale,
                realtime_base=args.now,
                progress=lambda p: _say(p.describe()),
            )
        )
    except (ScenarioError, ValueError) as exc:
        _say(str(exc))
        return 2
    topics = ", ".join(f"{t}: {n}" for t, n in sorted(stats.per_topic.items()))
    _say(f"done: {stats.events} events in {stats.wall_seconds:.1f} s ({topics})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``siaga replay NAME [--speed X] [--scale F] [--now] [--list]``."""
    p = subparsers.add_parser(
        "replay",
        help="replay a real past disaster's events to Kafka (e.g. cianjur-2022)",
        description="Produce the events of a real past disaster ("
        + ", ".join(available())
        + ") to Kafka at a chosen speed. Needs SIAGA_KAFKA_BOOTSTRAP_SERVERS.",
    )
    p.add_argument("name", nargs="?", help="scenario name (see --list)")
    p.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per wall second (default 60; 0 = as fast as possible)",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply people counts and stock quantities by this (0 < F <= 1)",
    )
    p.add_argument(
        "--now",
        action="store_true",
        help="move the timeline to today (a live demo) instead of the real date, never into "
        "the future: with --speed 0 the last event is now; at a finite speed the onset is now "
        "and events are stamped as they are sent",
    )
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.set_defaults(func=cmd_replay)
