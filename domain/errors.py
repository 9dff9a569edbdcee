"""Domain errors: each refusal has a stable machine `code` and a kind the adapters map."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A command refused by a rule. `code` is part of the public contract."""

    kind: ClassVar[str] = "conflict"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class NotFound(DomainError):
    """The thing named does not exist."""

    kind = "not_found"


class Conflict(DomainError):
    """The command conflicts with recorded history."""

    kind = "conflict"


class Invalid(DomainError):
    """The command's input is invalid whatever the history."""

    kind = "invalid"


class Forbidden(DomainError):
    """The actor may not do this here."""

    kind = "forbidden"


class Unauthenticated(DomainError):
    """No actor could be established."""

    kind = "unauthenticated"


class Unavailable(DomainError):
    """The answer cannot be given yet (a read model is behind, the store is busy); retrying later
    helps, after `retry_after` seconds when given."""

    kind = "unavailable"

    def __init__(self, code: str, detail: str, retry_after: int | None = None) -> None:
        super().__init__(code, detail)
        self.retry_after = retry_after
