"""Accounts and sign-in: create, disable, enable, reset a password; sign in and out; the check of an
account's session on every request it authenticates.

Passwords are hashed here (argon2id, service.auth.passwords) and only their hashes reach events;
a password is never logged. Accounts are managed by admins (the `trainrec user` commands act as the
operator, an admin)."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

from domain.account import Account, ensure_username
from domain.actor import Actor
from domain.errors import Conflict, NotFound, Unauthenticated
from domain.ids import ACCOUNT_DIRECTORY, account_uuid
from domain.teacher import Teacher
from domain.vocabulary import Role
from service.application.base import TrainRecBase
from service.application.unit import CommandResult, Unit
from service.auth.passwords import ensure_strong, hash_password, verify_password
from service.auth.scopes import Kind
from service.auth.throttle import Throttle
from service.auth.tokens import DEFAULT_TTL, actor_for
from service.records import AccountDirectory

INVALID_CREDENTIALS = "the username or password is wrong"


def _invalid_credentials() -> Unauthenticated:
    return Unauthenticated("invalid_credentials", INVALID_CREDENTIALS)


_THROTTLE_MADE = threading.Lock()


class AccountCommands(TrainRecBase):
    throttle: Throttle | None = None

    def sign_in_throttle(self) -> Throttle:
        """This application's count of wrong passwords (one per process and application)."""
        if self.throttle is None:
            with _THROTTLE_MADE:
                if self.throttle is None:
                    self.throttle = Throttle()
        return self.throttle

    # --- managing accounts (admins) ----------------------------------------------------------
    def add_account(
        self,
        by: Actor,
        username: str,
        role: Role,
        org_id: str | None,
        teacher_no: str | None,
        password: str,
        reason: str = "",
    ) -> CommandResult:
        self.scopes.ensure_account_admin(by)
        ensure_username(username)
        holder = actor_for(role, username, org_id, teacher_no)
        ensure_strong(password, username)
        if holder.org_id is not None:
            self.org_kind(holder.org_id)  # org_not_found
        if holder.teacher_no is not None:
            self.lookup(None, Teacher, Kind.TEACHER, holder.teacher_no)  # teacher_not_found
        password_hash = hash_password(password)  # once, outside the retried handler

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            if unit.exists(account_uuid(username)):
                raise Conflict("account_exists", f"account {username} already exists")
            directory = self._directory(unit, by)
            account = Account.open(holder, password_hash, by, reason, unit.now)
            directory.list(username, by, unit.now)
            unit.add(account)
            unit.add(directory)
            return 201, _describe(account)

        return self.execute(by, handle)

    def disable_account(self, by: Actor, username: str, reason: str = "") -> CommandResult:
        self.scopes.ensure_account_admin(by)

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            account = self._account(unit, username)
            account.disable(by, reason, unit.now)
            unit.add(account)
            return 200, _describe(account)

        return self.execute(by, handle)

    def enable_account(self, by: Actor, username: str, reason: str = "") -> CommandResult:
        self.scopes.ensure_account_admin(by)

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            account = self._account(unit, username)
            account.enable(by, reason, unit.now)
            unit.add(account)
            return 200, _describe(account)

        return self.execute(by, handle)

    def reset_password(self, by: Actor, username: str, password: str, reason: str = "") -> CommandResult:
        """A new password; every session of the account ends."""
        self.scopes.ensure_account_admin(by)
        ensure_strong(password, username)
        password_hash = hash_password(password)

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            account = self._account(unit, username)
            account.reset_password(password_hash, by, reason, unit.now)
            unit.add(account)
            return 200, _describe(account)

        return self.execute(by, handle)

    def accounts(self, by: Actor) -> list[dict[str, Any]]:
        """Every account, in the order created (no password hashes)."""
        self.scopes.ensure_account_admin(by)
        try:
            directory = self.load(AccountDirectory, ACCOUNT_DIRECTORY, "", "")
        except NotFound:
            return []
        return [_describe(self.load(Account, account_uuid(u), "account_not_found", u)) for u in directory.usernames]

    def account_history(self, by: Actor, username: str) -> list[dict[str, Any]]:
        """An account's changes and sign-ins, oldest first: what, when, by whom, why (no hashes)."""
        self.scopes.ensure_account_admin(by)
        stored = self.recorder.select_events(account_uuid(username))
        if not stored:
            raise NotFound("account_not_found", f"no account {username}")
        history = []
        for record in stored:
            event: Any = self.mapper.to_domain_event(record)
            history.append({"type": type(event).__name__, "recorded_at": event.timestamp.isoformat(),
                            "by": event.actor.get("sub"), "reason": event.reason})
        return history

    # --- signing in and out --------------------------------------------------------------------
    def sign_in(
        self, username: str, password: str, address: str, ttl: timedelta = DEFAULT_TTL
    ) -> tuple[Actor, str, datetime]:
        """Check a username and password; open a session. Returns the account's actor, the new
        session's id and its expiry. A wrong password and an unknown username are refused alike
        (`invalid_credentials`, after the same argon2 work); repeated failures are throttled."""
        throttle = self.sign_in_throttle()
        keys = (f"account:{username}", f"address:{address}")
        throttle.check(*keys)
        try:
            account: Account | None = self.load(Account, account_uuid(username), "", "", copy=False)
        except NotFound:
            account = None
        if not verify_password(account.password_hash if account is not None else None, password):
            throttle.failed(*keys)
            raise _invalid_credentials()
        assert account is not None
        account.ensure_enabled()  # account_disabled: only once the password is right
        throttle.succeeded(keys[0])
        session_id = secrets.token_urlsafe(24)
        holder = account.holder

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            current = self._account(unit, username)
            expires_at = unit.now + ttl
            current.sign_in(session_id, expires_at, unit.now)
            unit.add(current)
            return 201, {"expires_at": expires_at.isoformat()}

        result = self.execute(holder, handle)
        return holder, session_id, datetime.fromisoformat(result.body["expires_at"])

    def sign_out(self, username: str, session_id: str) -> CommandResult:
        """End one session (its token and cookie stop working at once)."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            account = self._account(unit, username)
            if account.sign_out(session_id, unit.now):
                unit.add(account)
            return 200, {"username": username}

        account = self._signed_in(username, session_id)
        return self.execute(account.holder, handle)

    def session_actor(self, username: str, session_id: str) -> Actor:
        """The account's actor, if it is enabled and the session open: read from the store on every
        request (one indexed read of the account's new events, if any), so a disable or sign-out
        made by any process is seen by the next request."""
        return self._signed_in(username, session_id).holder

    def _signed_in(self, username: str, session_id: str) -> Account:
        try:
            account = self.load(Account, account_uuid(username), "", "", copy=False)
        except NotFound:
            raise Unauthenticated("session_ended", "this session has ended; sign in again") from None
        account.ensure_session(session_id, self.clock())
        return account

    def _account(self, unit: Unit, username: str) -> Account:
        return unit.get(Account, account_uuid(username), "account_not_found", f"no account {username}")

    def _directory(self, unit: Unit, by: Actor) -> AccountDirectory:
        if unit.exists(ACCOUNT_DIRECTORY):
            return unit.get(AccountDirectory, ACCOUNT_DIRECTORY, "", "")
        return AccountDirectory.start(by, unit.now)


def _describe(account: Account) -> dict[str, Any]:
    return {"username": account.username, "role": account.role, "org_id": account.org_id,
            "teacher_no": account.teacher_no, "enabled": account.enabled}
