"""The Account aggregate's rules: created with a hash (never a password), disabled and enabled,
its password reset; sessions opened and ended, all of them ending when the account is disabled or
its password reset. Driven on the aggregate itself, no store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.account import Account
from domain.actor import Actor
from domain.errors import Conflict, DomainError, Invalid, Unauthenticated
from domain.ids import account_uuid
from domain.vocabulary import Role

ADMIN = Actor("root", Role.ADMIN)
HOLDER = Actor("zhang.wei", Role.SCHOOL_ADMIN, org_id="S1")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def opened() -> Account:
    return Account.open(HOLDER, "$argon2id$hash-1", ADMIN, "new head of S1", T0)


def test_an_account_records_who_created_it_and_its_scope_and_hash() -> None:
    account = opened()
    (created,) = account.collect_events()
    assert account.id == account_uuid("zhang.wei")
    assert (created.username, created.role, created.org_id, created.teacher_no) == (
        "zhang.wei", "school_admin", "S1", None)
    assert created.password_hash == "$argon2id$hash-1"
    assert created.actor == {"sub": "root", "role": "admin"}
    assert created.reason == "new head of S1"
    assert account.enabled is True
    assert account.holder == HOLDER


@pytest.mark.parametrize("username", ["", " zhang", "zhang wei", "-lead", "a" * 65, "张伟"])
def test_a_username_is_plain_letters_digits_and_punctuation(username: str) -> None:
    with pytest.raises(Invalid) as refused:
        Account.open(Actor(username, Role.ADMIN), "$argon2id$h", ADMIN, "", T0)
    assert refused.value.code == "invalid_username"


def test_usernames_of_64_characters_with_dots_at_and_dash_are_accepted() -> None:
    name = "a.b_c@d-" + "e" * 56
    assert len(name) == 64
    assert Account.open(Actor(name, Role.ADMIN), "$argon2id$h", ADMIN, "", T0).username == name


def test_disabling_ends_every_session_and_is_recorded_with_who_and_why() -> None:
    account = opened()
    account.sign_in("s1", T0 + 12 * HOUR, T0)
    account.sign_in("s2", T0 + 12 * HOUR, T0 + HOUR)
    account.collect_events()
    account.disable(ADMIN, "left the school", T0 + 2 * HOUR)
    (disabled,) = account.collect_events()
    assert type(disabled) is Account.Disabled
    assert (disabled.actor["sub"], disabled.reason) == ("root", "left the school")
    assert account.enabled is False
    assert account.sessions == {}
    with pytest.raises(Unauthenticated) as refused:
        account.ensure_session("s1", T0 + 2 * HOUR)
    assert refused.value.code == "account_disabled"


def test_disabling_twice_and_enabling_an_enabled_account_are_refused() -> None:
    account = opened()
    with pytest.raises(Conflict) as refused:
        account.enable(ADMIN, "", T0)
    assert refused.value.code == "account_already_enabled"
    account.disable(ADMIN, "", T0)
    with pytest.raises(Conflict) as refused:
        account.disable(ADMIN, "", T0)
    assert refused.value.code == "account_already_disabled"
    account.enable(ADMIN, "back", T0 + HOUR)
    assert account.enabled is True
    assert [type(e).__name__ for e in account.collect_events()] == ["Created", "Disabled", "Enabled"]


def test_a_disabled_account_cannot_open_a_session() -> None:
    account = opened()
    account.disable(ADMIN, "", T0)
    with pytest.raises(Unauthenticated) as refused:
        account.sign_in("s1", T0 + HOUR, T0)
    assert refused.value.code == "account_disabled"


def test_resetting_the_password_replaces_the_hash_and_ends_every_session() -> None:
    account = opened()
    account.sign_in("s1", T0 + HOUR, T0)
    account.reset_password("$argon2id$hash-2", ADMIN, "forgot it", T0 + timedelta(minutes=5))
    assert account.password_hash == "$argon2id$hash-2"
    assert account.sessions == {}
    reset = account.collect_events()[-1]
    assert (type(reset).__name__, reset.actor["sub"], reset.reason) == ("PasswordReset", "root", "forgot it")


def test_a_session_is_open_until_it_expires_or_is_signed_out() -> None:
    account = opened()
    account.sign_in("s1", T0 + HOUR, T0)
    account.ensure_session("s1", T0 + HOUR - timedelta(microseconds=1))
    with pytest.raises(Unauthenticated) as expired:
        account.ensure_session("s1", T0 + HOUR)
    assert expired.value.code == "session_ended"
    assert account.sign_out("s1", T0 + 2 * HOUR) is True
    assert account.sign_out("s1", T0 + 2 * HOUR) is False  # nothing recorded the second time
    events = account.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "SignedIn", "SignedOut"]
    assert events[1].actor == HOLDER.as_record()  # a sign-in is the holder's own act
    with pytest.raises(Unauthenticated) as ended:
        account.ensure_session("s1", T0)
    assert ended.value.code == "session_ended"


def test_expired_sessions_are_dropped_as_new_ones_open() -> None:
    account = opened()
    account.sign_in("old", T0 + HOUR, T0)
    account.sign_in("new", T0 + 5 * HOUR, T0 + 2 * HOUR)
    assert set(account.sessions) == {"new"}


def test_a_session_must_expire_after_it_starts() -> None:
    with pytest.raises(Invalid) as refused:
        opened().sign_in("s1", T0, T0)
    assert refused.value.code == "invalid_expiry"


def test_an_account_needs_a_hash_and_a_reason_of_bounded_length() -> None:
    with pytest.raises(DomainError) as no_hash:
        Account.open(HOLDER, "", ADMIN, "", T0)
    assert no_hash.value.code == "invalid_password_hash"
    with pytest.raises(DomainError) as long_reason:
        Account.open(HOLDER, "$argon2id$h", ADMIN, "x" * 501, T0)
    assert long_reason.value.code == "invalid_reason"
