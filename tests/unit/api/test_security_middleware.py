"""The security middleware and helpers on their own: headers, URL tokens, log redaction,
pagination cursors, the scope rules."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fastapi import HTTPException

from api.auth import authorize_posko, authorize_territory
from api.pagination import _decode, _encode
from api.security import RedactTokens, RefuseTokensInUrls, SecurityHeaders, redact
from siaga.tokens import Principal, make_principal, new_token


def _run(app: Any, path: str, query: bytes = b"") -> tuple[int, dict[bytes, bytes]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "query_string": query, "headers": [], "method": "GET"}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_every_answer_gets_the_security_headers() -> None:
    status, headers = _run(SecurityHeaders(_ok), "/dasbor")
    assert status == 200
    assert b"default-src 'self'" in headers[b"content-security-policy"]
    assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]
    assert headers[b"x-frame-options"] == b"DENY"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"no-referrer"
    _, docs = _run(SecurityHeaders(_ok), "/docs")
    assert b"cdn.jsdelivr.net" in docs[b"content-security-policy"]
    assert b"cdn.jsdelivr.net" not in headers[b"content-security-policy"]


@pytest.mark.parametrize("query", [b"token=sg_x", b"access_token=sg_x", b"a=1&TOKEN=x",
                                   b"access_token="])
def test_a_token_in_the_query_string_is_refused(query: bytes) -> None:
    status, headers = _run(RefuseTokensInUrls(_ok), "/api/v1/me", query)
    assert status == 401
    assert headers[b"www-authenticate"].startswith(b"Bearer")


def test_other_query_strings_pass() -> None:
    assert _run(RefuseTokensInUrls(_ok), "/api/v1/live", b"after=1-0&tokens=2")[0] == 200


def test_the_access_log_never_shows_a_token() -> None:
    token = new_token()
    assert token not in redact(f'GET /dasbor?token={token} HTTP/1.1')
    assert "access_token=[redacted]" in redact("/x?a=1&access_token=abc&b=2")
    assert token not in redact(f"Authorization: Bearer {token}")
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET",
                               f"/posko?token={token}", "1.1", 401), None)
    RedactTokens().filter(record)
    assert token not in record.getMessage()
    assert "/posko?token=[redacted]" in record.getMessage()


def test_cursors_round_trip_and_garbage_is_a_422() -> None:
    assert _decode(_encode([1764633335.125, "inc-1"])) == [1764633335.125, "inc-1"]
    for bad in ("nonsense", _encode([]), _encode({"a": 1})):
        with pytest.raises(HTTPException) as info:
            _decode(bad)
        assert info.value.status_code == 422


def test_a_command_post_writes_only_for_itself_in_its_territory() -> None:
    posko = make_principal("command_post", posko_id="posko-a", province_code="32",
                           kabupaten_code="32.03")
    authorize_posko(posko, "posko-a", "32", "32.03")
    for args, field in ((("posko-b", "32", "32.03"), "posko_id"),
                        (("posko-a", "72", None), "province_code"),
                        (("posko-a", "32", "32.73"), "kabupaten_code")):
        with pytest.raises(HTTPException) as info:
            authorize_posko(posko, *args)
        assert info.value.status_code == 403
        assert str(info.value.detail).startswith(f"{field}:")
    legacy = Principal(role="command_post", posko_id="posko-a")  # made before territories
    with pytest.raises(HTTPException) as info:
        authorize_territory(legacy, "32", None)  # no territory recorded: refused, not open
    assert str(info.value.detail).startswith("province_code:")
