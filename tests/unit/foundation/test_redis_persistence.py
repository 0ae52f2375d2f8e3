"""The embedded Redis keeps what it holds: killed and started again on the same data
directory, it still has every key (append-only file)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from redis import Redis

from siaga.local import free_port, start_redis


def test_keys_survive_sigkill_and_restart_on_the_same_data_dir(tmp_path: Path) -> None:
    port = free_port()
    first, url = start_redis(tmp_path, port=port)
    try:
        client = Redis.from_url(url)
        client.hset("siaga:tokens", "abc", '{"role": "admin"}')
        client.set("siaga:readmodel:probe", "kept")
        client.close()
        # appendfsync everysec: Redis writes its AOF buffer to the file before it answers the
        # next event-loop round, but postpones that write by up to 2 s while a background
        # fsync is still busy (a loaded disk, as in CI). That window is the documented loss on
        # a crash; wait until both writes are in the file (not longer than 10 s) and only
        # then kill, so the test checks that what reached the AOF comes back.
        aof = tmp_path / "redis" / "appendonly.aof"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            content = aof.read_bytes() if aof.is_file() else b""
            if b"kept" in content and b'{"role": "admin"}' in content:
                break
            time.sleep(0.05)
        first.proc.send_signal(signal.SIGKILL)  # no shutdown save: only the AOF can keep it
        first.proc.wait(timeout=10)
    finally:
        first.stop()
    assert (tmp_path / "redis" / "appendonly.aof").is_file()

    second, url_again = start_redis(tmp_path, port=port)
    try:
        assert url_again == url
        client = Redis.from_url(url_again)
        assert client.get("siaga:readmodel:probe") == b"kept"
        assert client.hget("siaga:tokens", "abc") == b'{"role": "admin"}'
        client.close()
    finally:
        second.stop()


def test_a_fresh_data_dir_starts_empty(tmp_path: Path) -> None:
    proc, url = start_redis(tmp_path / "a")
    try:
        client = Redis.from_url(url)
        client.set("k", "v")
        client.close()
    finally:
        proc.stop()
    other, url = start_redis(tmp_path / "b")
    try:
        client = Redis.from_url(url)
        assert client.get("k") is None
        client.close()
    finally:
        other.stop()
