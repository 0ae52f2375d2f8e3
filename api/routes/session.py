"""Sign-in for the pages: the token is exchanged once for an HttpOnly session cookie.

A page asks for the token in a form (never in its URL), posts it here in the
``Authorization`` header, and from then on the browser sends the ``siaga_session``
cookie by itself (fetch, ``EventSource``, download links). The cookie is HttpOnly (no
script can read it), SameSite=Strict (no other site's page can make the browser send
it), and Secure when the page is served over https. It lives
``SIAGA_SESSION_TTL_HOURS`` (12 h), never longer than its token, and ends when the
token is revoked or expires.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import SESSION_COOKIE, authenticate, bearer
from api.deps import RedisDep, SettingsDep
from siaga import tokens

router = APIRouter(prefix="/api/v1", tags=["session"])


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


@router.post("/session", summary="Exchange a bearer token for the pages' session cookie")
async def sign_in(
    request: Request,
    response: Response,
    redis: RedisDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> dict[str, Any]:
    if credentials is None:
        raise HTTPException(
            status_code=401,
            detail="authorization: send the token as Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="siaga"'},
        )
    principal = await authenticate(request, credentials)
    ttl = timedelta(hours=settings.session_ttl_hours)
    session_id = await tokens.create_session(redis, credentials.credentials, principal, ttl)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return {
        "role": principal.role,
        "scope": principal.scope,
        "label": principal.label,
        "expires_at": principal.expires_at,
    }


@router.delete("/session", status_code=204, summary="Sign out: end the session cookie")
async def sign_out(request: Request, redis: RedisDep) -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        await tokens.end_session(redis, session_id)
        request.app.state.token_cache.forget(f"s:{session_id}")
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
