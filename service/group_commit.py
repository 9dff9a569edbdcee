"""Group commit: concurrent commands share one transaction, each still gets its own answer.

The event table is locked for every write (the PostgreSQL recorder serialises writers), so one
transaction per command caps throughput at one commit (and fsync) per command. Here, request
threads run their command's rules themselves, then hand the resulting events to one committer
thread, which saves everything that queued up while the previous transaction was committing in a
single transaction. A command is answered only after its transaction committed (durable before
its 2xx). If the shared transaction fails on a conflict, each command of the group is saved on
its own, so only the conflicting one fails (and is re-run on fresh state by its caller).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError, Recording

MAX_GROUP = 256
MAX_GROUP_EVENTS = 1000  # bounded transactions: each group holds the event table lock briefly


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Request:
    """One command's events; `done` is held until the committer answers (a bare lock: cheaper to
    make and to wait on than a threading.Event, which is a Condition over a lock)."""

    events: list[Any]
    done: threading.Lock = field(default_factory=_held)
    recordings: list[Recording[Any]] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def keys(self) -> set[Any]:
        return {e.originator_id for e in self.events}


@dataclass
class GroupStats:
    transactions: int = 0
    commands: int = 0
    largest_group: int = 0
    split_groups: int = 0


class GroupCommitter:
    def __init__(self, app: Any, max_group: int = MAX_GROUP) -> None:
        self.app = app
        self.max_group = max_group
        self.stats = GroupStats()
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="trainrec-group-commit", daemon=True)
        self._thread.start()

    def commit(self, events: Sequence[Any]) -> list[Recording[Any]]:
        """Save `events` in the next group transaction; returns once it committed, or raises."""
        request = _Request(list(events))
        self._queue.put(request)
        request.done.acquire()  # released by the committer once the group's transaction ended
        if request.error is not None:
            raise request.error
        return request.recordings

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            events = len(first.events)
            while len(group) < self.max_group and events < MAX_GROUP_EVENTS:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self._commit(group)
                    return
                group.append(following)
                events += len(following.events)
            self._commit(group)

    def _commit(self, group: list[_Request]) -> None:
        taken: set[Any] = set()
        ready: list[_Request] = []
        for request in group:
            if request.keys & taken:  # two commands on one aggregate: the later one re-runs on fresh state
                request.error = IntegrityError("another command in this group changed the same records")
                request.done.release()
                continue
            taken |= request.keys
            ready.append(request)
        try:
            self._save_together(ready)
        except IntegrityError:
            self.stats.split_groups += 1
            for request in ready:
                self._save_alone(request)
        except BaseException as error:  # noqa: BLE001 - every waiting command is told
            for request in ready:
                request.error = error
        finally:
            for request in ready:
                request.done.release()

    def _save_together(self, ready: list[_Request]) -> None:
        if not ready:
            return
        recordings = self.app.save(*[e for r in ready for e in r.events])
        by_event = {(rec.domain_event.originator_id, rec.domain_event.originator_version): rec for rec in recordings}
        for request in ready:
            request.recordings = [by_event[(e.originator_id, e.originator_version)] for e in request.events]
        self.stats.transactions += 1
        self.stats.commands += len(ready)
        self.stats.largest_group = max(self.stats.largest_group, len(ready))

    def _save_alone(self, request: _Request) -> None:
        try:
            request.recordings = self.app.save(*request.events)
            self.stats.transactions += 1
            self.stats.commands += 1
        except BaseException as error:  # noqa: BLE001
            request.error = error
