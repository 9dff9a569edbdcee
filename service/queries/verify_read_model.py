"""`/audit/verify?scope=`: the hash chains (service/queries/verify.py), the read model against the
log (projections/readmodel_check.py), or both, in one answer.

The read-model check replays every aggregate up to the tables' position: its cost grows with the
whole log, not with what changed since the last call (bench/run.py measures it), so it runs only
when asked (`scope=readmodel` or `all`; the API's default is `chain`, docs/decisions.md "What
verify covers by default"), one at a time per process: a call arriving meanwhile waits for it,
then runs its own (its answer is of the tables as they are then), or after `wait` seconds is
refused with 503 `verify_in_progress`."""

from __future__ import annotations

import threading
from typing import Any

from domain.errors import Invalid, Unavailable
from projections.readmodel_check import ReadModelCheck, check_read_model
from projections.view import ReadModel
from service.queries.verify import RETRY_AFTER, WAIT_SECONDS, Verification

SCOPES = ("chain", "readmodel", "all")
DEFAULT_SCOPE = "chain"


def ensure_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise Invalid("invalid_scope", f"scope is one of {', '.join(SCOPES)}")


class ReadModelVerifier:
    def __init__(self, model: ReadModel, wait: float = WAIT_SECONDS) -> None:
        self.model = model
        self.wait = wait
        self._lock = threading.Lock()

    def verify(self) -> ReadModelCheck:
        if not self._lock.acquire(timeout=self.wait):
            raise Unavailable("verify_in_progress", "another check of the read model is running; retry later",
                              retry_after=RETRY_AFTER)
        try:
            return check_read_model(self.model)
        finally:
            self._lock.release()


def verification_answer(scope: str, chain: Verification | None, read_model: ReadModelCheck | None
                        ) -> dict[str, Any]:
    """The answer of `/audit/verify`: `ok` when everything checked holds; the chain's fields (as v1
    gave them) when the chain was checked; `read_model` (null when not checked)."""
    answer: dict[str, Any] = {"scope": scope}
    if chain is not None:
        answer.update(chain.as_dict())
    answer["ok"] = (chain is None or chain.ok) and (read_model is None or read_model.ok)
    answer["read_model"] = None if read_model is None else read_model.as_dict()
    return answer
