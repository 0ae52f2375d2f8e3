"""The web pages (served from ``api/static``; no CDN, no online tiles — LAN only is fine).

Pages load without a token; the data they fetch needs a session, which the page's
sign-in form opens (the token is exchanged for an HttpOnly cookie, never kept or put
in a URL). The dashboard's map library is vendored in ``static/vendor`` (refreshed by
``python -m api.vendor``) and its base map is ``static/basemap/indonesia.json`` (built
by ``python -m geo.basemap``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-cache"}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers=_NO_STORE)


@router.get("/dasbor")
async def dashboard() -> FileResponse:
    """Coordinators' live map and panels."""
    return _page("dasbor.html")


@router.get("/posko")
async def field_form() -> FileResponse:
    """Command posts' field form (works offline; queues posts)."""
    return _page("posko.html")


@router.get("/gudang")
async def warehouse_desk() -> FileResponse:
    """Warehouse desk: shipments by state, confirm/dispatch/cancel, pick lists."""
    return _page("gudang.html")


@router.get("/gudang/surat-jalan")
async def waybill_page() -> FileResponse:
    """Printable pick list / waybill for one shipment (``?id=``)."""
    return _page("surat-jalan.html")


@router.get("/tim")
async def team_page() -> FileResponse:
    """A TAGANA team's phone page: its assignment and the task loop (works offline)."""
    return _page("tim.html")


@router.get("/tim/sw.js")
async def team_page_worker() -> FileResponse:
    # served under /tim/ so its scope covers the team page (secure contexts only)
    return FileResponse(STATIC / "tim-sw.js", media_type="text/javascript", headers=_NO_STORE)


@router.get("/posko/sw.js")
async def field_form_worker() -> FileResponse:
    # served under /posko/ so its scope covers the field form (secure contexts only)
    return FileResponse(
        STATIC / "posko-sw.js", media_type="text/javascript", headers=_NO_STORE
    )
