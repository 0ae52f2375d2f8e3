from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.limits import BodySizeLimit


def _app(limit: int) -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodySizeLimit, max_bytes=limit)

    @app.post("/echo")
    async def echo(body: dict) -> dict:  # type: ignore[type-arg]
        return {"keys": len(body)}

    return app


def test_oversized_body_is_refused_with_413() -> None:
    client = TestClient(_app(1024))
    response = client.post("/echo", json={"x": "a" * 5000})
    assert response.status_code == 413
    assert "1024 bytes" in response.json()["detail"]


def test_oversized_chunked_body_without_length_is_refused() -> None:
    client = TestClient(_app(1024))

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"x": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'"}'

    response = client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_body_within_limit_passes() -> None:
    client = TestClient(_app(1024))
    response = client.post("/echo", json={"x": "small"})
    assert response.status_code == 200
    assert response.json() == {"keys": 1}
