"""Token roles and scopes; tokens are stored only as hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from siaga.tokens import TokenError, hash_token, make_principal, new_token


def test_each_role_takes_exactly_its_scope() -> None:
    assert make_principal("command_post", posko_id="posko-cugenang", province_code="32").scope == {
        "posko_id": "posko-cugenang", "province_code": "32"
    }
    with pytest.raises(TokenError) as info:  # a command post needs its territory
        make_principal("command_post", posko_id="posko-cugenang")
    assert info.value.field == "province_code"
    with pytest.raises(TokenError) as info:
        make_principal("command_post", posko_id="p", province_code="32", kabupaten_code="72.03")
    assert info.value.field == "kabupaten_code"
    assert make_principal("alert_feed").scope == {}
    with pytest.raises(TokenError):
        make_principal("alert_feed", province_code="32")
    assert make_principal("coordinator").describe() == "coordinator(national)"
    assert make_principal("coordinator", province_code="32").scope == {"province_code": "32"}
    with pytest.raises(TokenError) as info:
        make_principal("command_post")
    assert info.value.field == "posko_id"
    with pytest.raises(TokenError) as info:
        make_principal("warehouse_staff", province_code="32")
    assert info.value.field == "province_code"
    with pytest.raises(TokenError) as info:
        make_principal("coordinator", province_code="3203")
    assert info.value.field == "province_code"
    with pytest.raises(TokenError) as info:
        make_principal("root")
    assert info.value.field == "role"


def test_tokens_are_random_and_only_their_hash_is_kept() -> None:
    first, second = new_token(), new_token()
    assert first != second and len(first) > 40
    assert hash_token(first) != first and len(hash_token(first)) == 64
    assert hash_token(first) == hash_token(first)


def test_tokens_expire_and_carry_a_public_id() -> None:
    fresh = make_principal("admin", ttl=timedelta(days=1))
    assert fresh.id and len(fresh.id) == 12 and not fresh.expired()
    assert fresh.expired(datetime.now(UTC) + timedelta(days=1, seconds=1))
    assert make_principal("admin").expires_at is not None  # a default lifetime, always
    assert make_principal("admin").id != fresh.id
