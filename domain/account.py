"""Accounts: who may sign in, in which role and scope; their sign-ins and sign-outs.

The domain holds a password's hash, never the password (the service hashes and verifies it). Each
event names the actor who made the change and why: who created, disabled, enabled or reset whom.
Sessions live on the account, so one read of the account answers both "is it enabled?" and "is this
session still open?"; disabling the account or resetting its password ends every session at once."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.actor import Actor
from domain.chained import ChainedAggregate
from domain.errors import Conflict, Invalid, Unauthenticated
from domain.ids import account_uuid
from domain.vocabulary import Role

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MAX_REASON = 500


def ensure_username(username: str) -> str:
    if not USERNAME.match(username):
        raise Invalid("invalid_username", "a username is 1–64 letters, digits, '.', '_', '@' or '-', starting with "
                                          "a letter or digit")
    return username


def _reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Invalid("invalid_reason", f"a reason is at most {MAX_REASON} characters")
    return reason


class Account(ChainedAggregate):
    """One account. Its username, role and scope are fixed once created; it may be disabled (its
    sessions end), enabled again, and its password reset (its sessions end too)."""

    if TYPE_CHECKING:
        username: str
        role: str
        org_id: str | None
        teacher_no: str | None
        password_hash: str
        enabled: bool
        sessions: dict[str, datetime]

    class Created(ChainedAggregate.Created):
        username: str
        role: str
        org_id: str | None
        teacher_no: str | None
        password_hash: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.username = self.username
            aggregate.role = self.role
            aggregate.org_id = self.org_id
            aggregate.teacher_no = self.teacher_no
            aggregate.password_hash = self.password_hash
            aggregate.enabled = True
            aggregate.sessions = {}

    class Disabled(ChainedAggregate.Event):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.enabled = False
            aggregate.sessions = {}

    class Enabled(ChainedAggregate.Event):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.enabled = True

    class PasswordReset(ChainedAggregate.Event):
        password_hash: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.password_hash = self.password_hash
            aggregate.sessions = {}

    class SignedIn(ChainedAggregate.Event):
        session_id: str
        expires_at: datetime

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            # sessions past their expiry are dropped from the state as new ones open
            aggregate.sessions = {s: e for s, e in aggregate.sessions.items() if e > self.timestamp}
            aggregate.sessions[self.session_id] = self.expires_at

    class SignedOut(ChainedAggregate.Event):
        session_id: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.sessions.pop(self.session_id, None)

    @classmethod
    def open(cls, holder: Actor, password_hash: str, by: Actor, reason: str, now: datetime) -> Account:
        """A new account for `holder` (its username is the holder's subject), created by `by`."""
        ensure_username(holder.subject)
        if not password_hash:
            raise Invalid("invalid_password_hash", "an account needs a password hash")
        return cls._create(
            cls.Created,
            id=account_uuid(holder.subject),
            timestamp=now,
            username=holder.subject,
            role=holder.role.value,
            org_id=holder.org_id,
            teacher_no=holder.teacher_no,
            password_hash=password_hash,
            actor=by.as_record(),
            reason=_reason(reason),
        )

    def disable(self, by: Actor, reason: str, now: datetime) -> None:
        if not self.enabled:
            raise Conflict("account_already_disabled", f"account {self.username} is already disabled")
        self.trigger_event(self.Disabled, timestamp=now, actor=by.as_record(), reason=_reason(reason))

    def enable(self, by: Actor, reason: str, now: datetime) -> None:
        if self.enabled:
            raise Conflict("account_already_enabled", f"account {self.username} is enabled")
        self.trigger_event(self.Enabled, timestamp=now, actor=by.as_record(), reason=_reason(reason))

    def reset_password(self, password_hash: str, by: Actor, reason: str, now: datetime) -> None:
        if not password_hash:
            raise Invalid("invalid_password_hash", "an account needs a password hash")
        self.trigger_event(self.PasswordReset, timestamp=now, password_hash=password_hash, actor=by.as_record(),
                           reason=_reason(reason))

    def ensure_enabled(self) -> None:
        if not self.enabled:
            raise Unauthenticated("account_disabled", f"account {self.username} is disabled")

    def sign_in(self, session_id: str, expires_at: datetime, now: datetime) -> None:
        self.ensure_enabled()
        if expires_at <= now:
            raise Invalid("invalid_expiry", "a session expires after it starts")
        self.trigger_event(self.SignedIn, timestamp=now, session_id=session_id, expires_at=expires_at,
                           actor=self.holder.as_record(), reason="")

    def sign_out(self, session_id: str, now: datetime) -> bool:
        """End a session; False when it was not open (nothing is recorded)."""
        if session_id not in self.sessions:
            return False
        self.trigger_event(self.SignedOut, timestamp=now, session_id=session_id, actor=self.holder.as_record(),
                           reason="")
        return True

    def ensure_session(self, session_id: str, now: datetime) -> None:
        """Refuse unless the account is enabled and the session open and unexpired."""
        self.ensure_enabled()
        expires = self.sessions.get(session_id)
        if expires is None or expires <= now:
            raise Unauthenticated("session_ended", "this session has ended; sign in again")

    @property
    def holder(self) -> Actor:
        return Actor(subject=self.username, role=Role(self.role), org_id=self.org_id, teacher_no=self.teacher_no)
