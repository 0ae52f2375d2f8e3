"""docs/api.md lists every route the app serves: each path of the app's own route table is
named in the doc (in backticks), and each route under /api/v1 has a row of the endpoint
tables with its method. A route added to the app without a line in the doc fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from siaga.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, from its own route table."""
    from api.app import create_app

    app = create_app(Settings(kafka_bootstrap_servers="unused:9092", redis_url="redis://unused"))
    found: set[tuple[str, str]] = set()

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            nested = getattr(route, "original_router", None)
            if nested is not None:  # FastAPI's included router (newer versions)
                context = getattr(route, "include_context", None)
                walk(nested.routes, prefix + (getattr(context, "prefix", "") or ""))
                continue
            path = route.path if route.path.startswith(prefix) else prefix + route.path
            methods = getattr(route, "methods", None) or {"GET"}  # a Mount serves GETs
            found.update((m, path) for m in methods if m != "HEAD")

    walk(app.routes, "")
    return found


def _pattern(path: str) -> re.Pattern[str]:
    """A path as the doc writes it: any name for a path parameter ({id} for {kitchen_id}),
    then the end of the code span, a query (``?…``, ``[?…]``, ``[/{id}]``) or ``/*``."""
    parts = re.split(r"\{[a-z_]+\}", path)
    body = r"\{[a-z_]+\}".join(re.escape(p) for p in parts)
    return re.compile(rf"^{body}(?:$|\?|\[|/\*)")


def _spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def test_every_route_of_the_app_is_in_the_api_doc() -> None:
    doc = DOC.read_text("utf-8")
    spans = _spans(doc)
    rows: dict[str, list[str]] = {}
    for line in doc.splitlines():
        match = re.match(r"^\| (GET|POST|PUT|PATCH|DELETE) \|", line)
        if match:
            rows.setdefault(match.group(1), []).extend(_spans(line))
    routes = app_routes()
    assert ("GET", "/api/v1/timeline") in routes  # the table is read, not empty
    unnamed = sorted(f"{m} {p}" for m, p in routes
                     if not any(_pattern(p).match(s) for s in spans))
    assert not unnamed, f"routes docs/api.md does not name: {unnamed}"
    no_row = sorted(f"{m} {p}" for m, p in routes if p.startswith("/api/v1/")
                    and not any(_pattern(p).match(s) for s in rows.get(m, [])))
    assert not no_row, f"/api/v1 routes without a row in docs/api.md's tables: {no_row}"


def test_the_doc_check_catches_a_missing_route() -> None:
    """The check can fail: a path the doc never names, or names under another method."""
    doc = DOC.read_text("utf-8")
    assert not any(_pattern("/api/v1/kitchens/{kitchen_id}/menu").match(s) for s in _spans(doc))
    assert _pattern("/api/v1/kitchens/{kitchen_id}").match("/api/v1/kitchens/{id}[?province_code=]")
    assert not _pattern("/api/v1/kitchens").match("/api/v1/kitchens/{kitchen_id}/reports")
    assert not _pattern("/static").match("/staticfiles")
