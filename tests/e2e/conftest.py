"""Fixtures for the API's end-to-end tests: bearer tokens for every role and scope."""

from __future__ import annotations

import pytest

from siaga.settings import Settings
from tests.e2e.helpers import make_tokens


@pytest.fixture
def tokens(settings: Settings) -> dict[str, str]:
    """Tokens for every role (see ``helpers.SCOPES``) in this test's Redis."""
    assert settings.redis_url
    return make_tokens(settings.redis_url)
