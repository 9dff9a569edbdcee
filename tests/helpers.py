"""Assertions shared by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from domain.errors import DomainError
from service.app import TrainRec


def last_notification(app: TrainRec) -> int:
    return app.recorder.max_notification_id() or 0


@contextmanager
def refused(app: TrainRec, code: str) -> Iterator[None]:
    """The command inside is refused with `code` and records nothing at all."""
    before = last_notification(app)
    with pytest.raises(DomainError) as caught:
        yield
    assert caught.value.code == code, f"expected {code}, got {caught.value.code}: {caught.value.detail}"
    assert last_notification(app) == before, "a refused command recorded events"


def types_of(result_body: dict[str, object]) -> list[str]:
    events = result_body["events"]
    assert isinstance(events, list)
    return [e["type"] for e in events]
