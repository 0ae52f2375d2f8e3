"""Security headers on every response, no tokens in URLs, no tokens in the access log.

Pure ASGI middleware (like :mod:`api.limits`), so they apply to every route, static
file and error alike.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

Scope = dict[str, Any]

# The pages load only their own scripts and styles (no inline ones, no CDN): a script
# injected into a page cannot run, and no other site may frame it (clickjacking).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's own /docs and /redoc pages load Swagger UI / ReDoc from jsdelivr with an inline
# bootstrap script; they carry no data, and still may not be framed.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

URL_TOKEN_PARAMS = ("token", "access_token")


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = (DOCS_CSP if scope.get("path") in DOCS_PATHS else CSP).encode()

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in HEADERS if n not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", csp))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class RefuseTokensInUrls:
    """401 on every route for a request carrying ``?token=`` or ``?access_token=``: a URL
    lands in the access log, the browser history and Referer headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            query = scope.get("query_string", b"").decode("latin-1")
            names = {name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)}
            if names.intersection(URL_TOKEN_PARAMS) and scope["type"] == "http":
                await _refuse(send)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Any) -> None:
    body = json.dumps(
        {
            "detail": "token: tokens are not accepted in URLs (token tidak diterima di alamat "
            "URL); send Authorization: Bearer <token>, or sign in on the page "
            "(masuk lewat formulir di halaman)"
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="siaga"'),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_SECRET = re.compile(r"\b(?:sg|ss)_[A-Za-z0-9_\-]{8,}")
_QUERY_SECRET = re.compile(r"((?:^|[?&;])(?:access_token|token)=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """A log line with every token or session id (and any ``token=`` value) blanked."""
    return _SECRET.sub("[redacted]", _QUERY_SECRET.sub(r"\1[redacted]", text))


class RedactTokens(logging.Filter):
    """On uvicorn's access logger: the request line never shows a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
