"""The transparency log of one store: its tree (tree.py), the checkpoints it signed, its proofs.

Every checkpoint signed is kept in `tlog_checkpoints` (`seq`, `size`, `root` base64, `signed_at`,
`key_id`, `note`): not derived (a signature cannot be recomputed), so it is never dropped with the
tree's tables. A new one is signed when asked for the current checkpoint and the tree grew since the
last, and by the read-model follower at most every `TRAINREC_CHECKPOINT_INTERVAL` seconds (default
60) while the log grows.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from datetime import UTC, datetime
from typing import Any

from domain.errors import Invalid, NotFound
from projections.db import ReadModelDB
from service.signing.keys import key_ring
from service.transparency import merkle
from service.transparency.notes import sign
from service.transparency.origin import log_origin
from service.transparency.tree import LogTree

CHECKPOINTS = "tlog_checkpoints"
DEFAULT_INTERVAL = 60.0
log = logging.getLogger("trainrec.transparency")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def checkpoint_interval() -> float:
    return float(os.environ.get("TRAINREC_CHECKPOINT_INTERVAL", str(DEFAULT_INTERVAL)))


class TransparencyLog:
    def __init__(self, recorder: Any, db: ReadModelDB) -> None:
        self.recorder = recorder
        self.db = db
        self.tree = LogTree(recorder, db)
        self._ready = False
        self._last_problem: str | None = None
        self._signing = threading.Lock()  # one thread of this process waits for the store-wide lock

    def _ensure_table(self) -> None:
        if self._ready:
            return
        with self.db.exclusive("tlog-tables"), self.db.transaction() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (seq BIGINT PRIMARY KEY, size BIGINT NOT NULL, "
                       "root TEXT NOT NULL, signed_at TEXT NOT NULL, key_id TEXT NOT NULL, note TEXT NOT NULL)")
        self._ready = True

    # --- checkpoints ---------------------------------------------------------------------
    def root(self, size: int) -> bytes:
        plan = merkle.root_plan(size)
        return merkle.fold([self._nodes(plan)[node] for node in plan])

    def latest(self) -> dict[str, Any] | None:
        self._ensure_table()
        rows = self.db.query(f"SELECT size, root, signed_at, key_id, note FROM {CHECKPOINTS} ORDER BY seq DESC LIMIT 1")
        return _checkpoint(rows[0]) if rows else None

    def checkpoints(self, limit: int = 100) -> list[dict[str, Any]]:
        """The checkpoints signed, newest first."""
        self._ensure_table()
        rows = self.db.query(f"SELECT size, root, signed_at, key_id, note FROM {CHECKPOINTS} "
                             "ORDER BY seq DESC LIMIT ?", (limit,))
        return [_checkpoint(row) for row in rows]

    def current(self, older_than: float = 0.0) -> dict[str, Any]:
        """The latest checkpoint, after extending the tree to the log's head; a new one is signed
        when the tree grew since the last and that one is at least `older_than` seconds old."""
        size = self.tree.extend()
        latest = self.latest()
        if latest is not None and not _due(latest, size, older_than):
            return latest
        with self._signing, self.db.exclusive("tlog-checkpoint"):
            latest = self.latest()
            if latest is not None and not _due(latest, size, older_than):
                return latest
            key = key_ring().active("checkpoint")
            signed = sign(log_origin(), size, self.root(size), key)
            signed_at = datetime.now(tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
            row = (size, b64(signed.root), signed_at, key.key_id, signed.note())
            with self.db.transaction() as tx:
                seq = tx.query(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {CHECKPOINTS}")[0][0]
                tx.execute(f"INSERT INTO {CHECKPOINTS} (seq, size, root, signed_at, key_id, note) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (int(seq), *row))
            return _checkpoint(row)

    def upkeep(self) -> None:
        """From the follower's loop: extend the tree, sign a checkpoint when due. Never raises: a
        failure is logged once (until it changes) and the next round tries again."""
        try:
            self.current(older_than=checkpoint_interval())
            self._last_problem = None
        except Exception as error:  # noqa: BLE001 - the read model must go on whatever happens here
            text = f"{type(error).__name__}: {error}"
            if text != self._last_problem:
                log.warning("transparency log upkeep failed: %s", text)
            self._last_problem = text

    # --- proofs ----------------------------------------------------------------------------
    def inclusion(self, public_id: str, checkpoint_size: int | None) -> dict[str, Any]:
        size = self.tree.extend()
        index = self.tree.leaf_index(public_id)
        if index is None:
            raise NotFound("event_not_found", f"no event {public_id} is recorded")
        if checkpoint_size is None:
            checkpoint_size = int(self.current()["size"])
        if not 1 <= checkpoint_size <= size:
            raise Invalid("checkpoint_size_out_of_range",
                          f"checkpoint_size is between 1 and the log's size, {size}")
        if index >= checkpoint_size:
            raise Invalid("event_not_in_checkpoint",
                          f"event {public_id} is leaf {index}, recorded after a checkpoint of size {checkpoint_size}")
        plan = merkle.inclusion_plan(index, checkpoint_size)
        nodes = self._nodes(merkle.plan_nodes(plan) | {(0, index)})
        return {"checkpoint_size": checkpoint_size, "leaf_index": index, "leaf_hash": b64(nodes[(0, index)]),
                "hashes": [b64(h) for h in merkle.resolve(plan, nodes)]}

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        size = self.tree.extend()
        if not 1 <= old <= new:
            raise Invalid("invalid_consistency_range", "from and to are tree sizes with 1 <= from <= to")
        if new > size:
            raise Invalid("checkpoint_size_out_of_range", f"to is at most the log's size, {size}")
        plan = merkle.consistency_plan(old, new)
        return {"from": old, "to": new,
                "hashes": [b64(h) for h in merkle.resolve(plan, self._nodes(merkle.plan_nodes(plan)))]}

    def _nodes(self, wanted: Any) -> dict[merkle.Node, bytes]:
        wanted = set(wanted)
        found = self.tree.nodes(wanted)
        if len(found) != len(wanted):
            msg = f"the tree's stored nodes {sorted(wanted - found.keys())[:5]} are missing"
            raise RuntimeError(msg)
        return found


def _due(latest: dict[str, Any], size: int, older_than: float) -> bool:
    if latest["size"] >= size:
        return False
    if older_than <= 0:
        return True
    signed = datetime.fromisoformat(str(latest["signed_at"]).replace("Z", "+00:00"))
    return (datetime.now(tz=UTC) - signed).total_seconds() >= older_than


def _checkpoint(row: Any) -> dict[str, Any]:
    size, root, signed_at, key_id, note = row
    signature = str(note).rstrip("\n").rsplit("\n", 1)[-1].split(" ")[-1]
    return {"size": int(size), "root": str(root), "signed_at": str(signed_at), "key_id": str(key_id),
            "signature": signature, "note": str(note)}


def latest_checkpoint(app: Any) -> dict[str, Any]:
    """The log's checkpoint as of now (`size`, `root`, `signed_at`, `key_id`, `signature`, `note`),
    signed if the log grew since the last: for certificates and credentials to record the
    checkpoint they were issued under. `app` is the `TrainRec` application."""
    current: dict[str, Any] = app.transparency.current()
    return current
