"""The log's Merkle tree, kept incrementally beside the read model.

Leaf i is the event of rank i in notification order (0-based), its bytes (`leaf_bytes`):

    b"trainrec/event/v1\\n" ‖ originator id (UUID text) ‖ "\\n" ‖ version (decimal) ‖ "\\n"
        ‖ topic ‖ "\\n" ‖ stored state bytes

so any change of the stored bytes of an event, of its aggregate, version or topic, changes its leaf.

Tables (derived from the log like the read model: not `rm_`, untouched by `projections rebuild`):
- `tlog_state` (`name` = `tree`: `size` leaves so far, `position` the notification id of the last);
- `tlog_nodes` (`level`, `idx`, `hash`): the hash of every complete subtree (merkle.py names them);
- `tlog_leaves` (`event_id`, `leaf_index`): where each event is, for its inclusion proof.

`extend` appends what was recorded after `position` (one writer at a time across processes: a lock
named `tlog`), a page per transaction with the new state: never inside a command's transaction. A
proof then is one query for O(log n) nodes. The cache is trusted by the proofs the API serves;
the checks that must not trust it (`recompute`) read the events again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.ids import event_id
from projections.db import ReadModelDB
from service.transparency.merkle import Frontier, Node, leaf_hash, root_plan

LEAF_PREFIX = b"trainrec/event/v1\n"
STATE = "tlog_state"
NODES = "tlog_nodes"
LEAVES = "tlog_leaves"
PAGE = 2000
LOOKUP = 200  # nodes per query


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def leaf_bytes(stored: Notification, originator: UUID | None = None) -> bytes:
    """The bytes a leaf commits to (module docstring)."""
    text = str(originator or _uuid(stored.originator_id))
    return b"".join((LEAF_PREFIX, text.encode("ascii"), b"\n", str(stored.originator_version).encode("ascii"),
                     b"\n", stored.topic.encode("utf-8"), b"\n", bytes(stored.state)))


def stored_leaves(recorder: Any, until_size: int | None = None,
                  page: int = PAGE) -> Iterator[tuple[Notification, bytes]]:
    """Every stored event in notification order with its leaf hash, straight from the log (the first
    `until_size` only, when given)."""
    start = 1
    count = 0
    while until_size is None or count < until_size:
        limit = page if until_size is None else min(page, until_size - count)
        rows = recorder.select_notifications(start=start, limit=limit)
        if not rows:
            return
        for stored in rows:
            yield stored, leaf_hash(leaf_bytes(stored))
        count += len(rows)
        start = rows[-1].id + 1


@dataclass(frozen=True)
class Recomputed:
    """What the stored events give at the sizes asked for."""

    log_size: int  # events read (at most the largest size asked for)
    roots: dict[int, bytes]  # size → root, for the sizes the log reached
    nodes: dict[Node, bytes]  # the nodes asked for that the log made


def recompute(recorder: Any, sizes: Iterable[int], wanted: set[Node] | None = None,
              progress: Callable[[int], None] | None = None) -> Recomputed:
    """Rehash the stored events (never the cache) up to the largest of `sizes`: the roots at each
    size, and the complete subtrees in `wanted` (for a proof). O(log n) memory."""
    targets = sorted(set(sizes))
    last = targets[-1] if targets else 0
    frontier = Frontier()
    roots: dict[int, bytes] = {}
    nodes: dict[Node, bytes] = {}
    if 0 in targets:
        roots[0] = frontier.root()
    for _, leaf in stored_leaves(recorder, last):
        for node, value in frontier.append(leaf):
            if wanted is not None and node in wanted:
                nodes[node] = value
        if frontier.size in targets:
            roots[frontier.size] = frontier.root()
        if progress is not None and frontier.size % 100_000 == 0:
            progress(frontier.size)
    return Recomputed(frontier.size, roots, nodes)


class LogTree:
    """The incremental tree of one store (module docstring)."""

    def __init__(self, recorder: Any, db: ReadModelDB) -> None:
        self.recorder = recorder
        self.db = db
        self._ready = False
        # one thread of this process at a time takes the store-wide lock (on PostgreSQL it holds a
        # pooled connection while it waits: threads queueing there could take the whole pool)
        self._extending = threading.Lock()

    def ensure_tables(self) -> None:
        if self._ready:
            return
        blob = "BYTEA" if self.db.backend == "postgres" else "BLOB"
        with self.db.exclusive("tlog-tables"), self.db.transaction() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (name TEXT PRIMARY KEY, size BIGINT NOT NULL, "
                       "position BIGINT NOT NULL)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {NODES} (level INTEGER NOT NULL, idx BIGINT NOT NULL, "
                       f"hash {blob} NOT NULL, PRIMARY KEY (level, idx))")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {LEAVES} (event_id TEXT PRIMARY KEY, leaf_index BIGINT NOT NULL)")
        self._ready = True

    def state(self) -> tuple[int, int]:
        """(size, position): leaves in the tree and the notification id of the last."""
        self.ensure_tables()
        rows = self.db.query(f"SELECT size, position FROM {STATE} WHERE name = ?", ("tree",))
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    def size(self) -> int:
        return self.state()[0]

    def nodes(self, wanted: Iterable[Node]) -> dict[Node, bytes]:
        """The stored hashes of these complete subtrees (a few queries; missing ones left out)."""
        wanted = sorted(set(wanted))
        found: dict[Node, bytes] = {}
        for start in range(0, len(wanted), LOOKUP):
            part = wanted[start:start + LOOKUP]
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(part))
            params = [value for node in part for value in node]
            for level, idx, value in self.db.query(f"SELECT level, idx, hash FROM {NODES} WHERE {where}", params):
                found[(int(level), int(idx))] = bytes(value)
        return found

    def leaf_index(self, public_id: str) -> int | None:
        self.ensure_tables()
        rows = self.db.query(f"SELECT leaf_index FROM {LEAVES} WHERE event_id = ?", (public_id,))
        return int(rows[0][0]) if rows else None

    def extend(self, until: int | None = None) -> int:
        """Append every event recorded after the tree's position (up to notification id `until`,
        else the head); returns the tree's size. Several processes may call it: one extends at a
        time, the others then find the work done."""
        self.ensure_tables()
        head = int(self.recorder.max_notification_id() or 0) if until is None else until
        size, position = self.state()
        if position >= head:
            return size
        with self._extending, self.db.exclusive("tlog"):
            size, position = self.state()
            if position >= head:
                return size
            frontier = self._frontier(size)
            while position < head:
                page: Sequence[Notification] = self.recorder.select_notifications(
                    start=position + 1, limit=PAGE, stop=head)
                if not page:
                    break
                made: list[tuple[int, int, bytes]] = []
                placed: list[tuple[str, int]] = []
                for stored in page:
                    originator = _uuid(stored.originator_id)
                    placed.append((event_id(originator, stored.originator_version), frontier.size))
                    made.extend((level, idx, value) for (level, idx), value in
                                frontier.append(leaf_hash(leaf_bytes(stored, originator))))
                position = page[-1].id
                with self.db.transaction() as tx:
                    tx.copy(NODES, ("level", "idx", "hash"), made)
                    tx.copy(LEAVES, ("event_id", "leaf_index"), placed)
                    tx.execute(f"INSERT INTO {STATE} (name, size, position) VALUES (?, ?, ?) ON CONFLICT (name) "
                               "DO UPDATE SET size = excluded.size, position = excluded.position",
                               ("tree", frontier.size, position))
            return frontier.size

    def _frontier(self, size: int) -> Frontier:
        plan = root_plan(size)
        found = self.nodes(plan)
        missing = [node for node in plan if node not in found]
        if missing:
            msg = f"the tree's stored nodes {missing} are missing: drop the tlog_ tables to rebuild them"
            raise RuntimeError(msg)
        return Frontier(size, [found[node] for node in plan])

    def drop(self) -> None:
        """Forget the cache (the next `extend` rehashes the whole log)."""
        with self.db.exclusive("tlog"), self.db.transaction() as tx:
            for table in (STATE, NODES, LEAVES):
                tx.execute(f"DROP TABLE IF EXISTS {table}")
        self._ready = False
