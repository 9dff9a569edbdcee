"""Bearer tokens: one signature check per token, its expiry checked on every use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Unauthenticated
from service.auth import tokens
from service.auth.tokens import issue_token, read_token
from tests.conftest import ADMIN

SECRET = "k" * 64


def test_a_token_read_once_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(tz=UTC)
    token = issue_token(SECRET, ADMIN, ttl=timedelta(minutes=10), now=now)
    assert read_token(SECRET, token) == ADMIN
    assert read_token(SECRET, token) == ADMIN  # from the checked tokens
    monkeypatch.setattr(tokens.time, "time", lambda: now.timestamp() + 600)  # exp == now: expired
    with pytest.raises(Unauthenticated) as refused:
        read_token(SECRET, token)
    assert refused.value.code == "token_expired"
    with pytest.raises(Unauthenticated):  # and stays expired
        read_token(SECRET, token)


def test_a_checked_token_is_not_valid_under_another_secret() -> None:
    token = issue_token(SECRET, ADMIN)
    assert read_token(SECRET, token) == ADMIN
    with pytest.raises(Unauthenticated) as refused:
        read_token("o" * 64, token)
    assert refused.value.code == "invalid_token"


def test_the_checked_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_MAX", 3)
    monkeypatch.setattr(tokens, "_verified", {})
    for i in range(10):
        token = issue_token(SECRET, ADMIN, ttl=timedelta(minutes=10 + i))
        read_token(SECRET, token)
        assert (SECRET, token) in tokens._verified  # kept, so the bound below is not met by keeping nothing
        assert len(tokens._verified) <= 3
