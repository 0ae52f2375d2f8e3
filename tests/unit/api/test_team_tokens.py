"""The ``team`` role: a token for one TAGANA team (its leader's phone) in its province, and
the API's scope check for team routes."""

from __future__ import annotations

import json

import pytest
from fastapi import HTTPException

from api.auth import authorize_team
from siaga.tokens import DEMO_SCOPES, TokenError, _principal, make_principal


def test_a_team_token_needs_its_team_and_province_and_takes_nothing_else() -> None:
    principal = make_principal("team", team_id="tagana-3203-01", province_code="32")
    assert principal.scope == {"province_code": "32", "team_id": "tagana-3203-01"}
    assert principal.describe() == "team(province_code=32, team_id=tagana-3203-01)"
    for missing, kwargs in (("team_id", {"province_code": "32"}),
                            ("province_code", {"team_id": "tagana-3203-01"})):
        with pytest.raises(TokenError) as info:
            make_principal("team", **kwargs)
        assert info.value.field == missing
    with pytest.raises(TokenError) as info:
        make_principal("team", team_id="t", province_code="32", posko_id="posko-cugenang")
    assert info.value.field == "posko_id"
    with pytest.raises(TokenError) as info:
        make_principal("coordinator", team_id="t")
    assert info.value.field == "team_id"
    with pytest.raises(TokenError) as info:
        make_principal("team", team_id="bad id!", province_code="32")
    assert info.value.field == "team_id"


def test_the_stored_team_token_keeps_its_team() -> None:
    principal = make_principal("team", team_id="tagana-3203-01", province_code="32")
    assert _principal(json.dumps(principal.as_json())) == principal


def test_the_demo_team_token_belongs_to_the_replayed_cianjur_team() -> None:
    assert DEMO_SCOPES["team"] == {"team_id": "tagana-3203-01", "province_code": "32"}


def _refused(principal: object, team_id: str, province: str | None) -> str:
    with pytest.raises(HTTPException) as info:
        authorize_team(principal, team_id, province)  # type: ignore[arg-type]
    assert info.value.status_code == 403
    return str(info.value.detail)


def test_a_team_acts_only_for_itself_and_coordinators_for_their_province() -> None:
    phone = make_principal("team", team_id="tagana-a", province_code="32")
    authorize_team(phone, "tagana-a", "32")
    assert _refused(phone, "tagana-b", "32").startswith("team_id:")
    assert _refused(phone, "tagana-a", "35").startswith("province_code:")
    authorize_team(make_principal("coordinator", province_code="32"), "tagana-a", "32")
    assert _refused(make_principal("coordinator", province_code="72"), "tagana-a", "32") \
        .startswith("province_code:")
    authorize_team(make_principal("coordinator"), "tagana-a", "32")
    authorize_team(make_principal("admin"), "tagana-a", None)
    assert _refused(make_principal("warehouse_staff", warehouse_id="w"), "tagana-a", "32") \
        .startswith("role:")
