"""The transparency log's reads, scope-checked: admins and auditors, as `/audit/verify`."""

from __future__ import annotations

import threading
from typing import Any

from domain.actor import Actor
from service.queries.replay import Queries
from service.transparency.log import TransparencyLog

_CREATING = threading.Lock()


class TransparencyQueries(Queries):
    _transparency: TransparencyLog | None = None

    @property
    def transparency(self) -> TransparencyLog:
        """The store's transparency log (one per application)."""
        if self._transparency is None:
            with _CREATING:
                if self._transparency is None:
                    self._transparency = TransparencyLog(self.recorder, self.read_model.db)
        return self._transparency

    def audit_checkpoint(self, actor: Actor) -> dict[str, Any]:
        """The latest signed checkpoint of the whole log (a new one when the log grew)."""
        self.scopes.ensure_audit_read(actor)
        return self.transparency.current()

    def audit_inclusion_proof(self, actor: Actor, public_id: str, checkpoint_size: int | None) -> dict[str, Any]:
        self.scopes.ensure_audit_read(actor)
        return self.transparency.inclusion(public_id, checkpoint_size)

    def audit_consistency_proof(self, actor: Actor, old: int, new: int) -> dict[str, Any]:
        self.scopes.ensure_audit_read(actor)
        return self.transparency.consistency(old, new)

    def close(self) -> None:
        self._transparency = None
        super().close()
