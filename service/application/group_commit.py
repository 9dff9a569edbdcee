"""Group commit: concurrent commands share one transaction, each still gets its own answer.

The event table is locked for every write (the PostgreSQL recorder serialises writers), so one
transaction per command caps throughput at one commit (and fsync) per command. Here one committer
thread saves, in a single transaction, everything that queued up while the previous transaction
was committing. A command is answered only after its transaction committed (durable before its
2xx). Two ways in:

- `submit(command)` (the HTTP server's writes): the committer runs the queued commands itself, one
  after another, as one batch (`TrainRecBase.batched`): each is checked, and refused, on its own
  against the state the group's earlier commands left, and the accepted ones' events are saved
  together. The request's thread (the event loop) only waits for its future: no thread-pool hand-off
  per write. If the group's transaction fails on a conflict (another writer, or a taken id that a
  creation did not read first), the group is run again as one batch whose creations read first, and
  only if that fails too, each command alone.
- `commit(events)` (a thread that ran its command itself): the events join the next group; if the
  shared transaction fails on a conflict, each command's events are saved alone, so only the
  conflicting one fails (and is re-run on fresh state by its caller). The server sends its
  expensive commands this way (a large attendance sheet: service/api/deps.py `write`): their
  rules run in the request's worker thread, against the current state, and only their events
  reach the committer (a refused one never does).

Bounds, so that no command holds the others back (docs/write-path.md):
- a group runs its submitted commands for at most `group_seconds` (50 ms): the commands not run
  by then are the first of the next group (each command is still run whole; an expensive one
  does not come here, see above);
- a group holds at most `MAX_GROUP_EVENTS` events of `commit` calls: a call that would take it
  past them is the first of the next group (a call larger than that alone is a group of its own);
- every transaction of the committer starts within `start_bound` seconds (2 s) or fails
  (service/storage/start_bound.py): with the store down or its event table locked, the group's
  commands are answered 503 `store_unavailable` (nothing recorded) rather than left waiting.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError, Recording

from service.storage.start_bound import bounded_start

MAX_GROUP = 256
MAX_GROUP_EVENTS = 1000  # bounded transactions: each group holds the event table lock briefly
MAX_GROUP_COMMANDS = 128  # submitted commands run one after another in a group: bounded latency
GROUP_SECONDS = 0.05  # a group stops running submitted commands once they took this long
START_BOUND = 2.0  # seconds a group's transaction may wait to start (store down or locked)


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
class _Job:
    """A command for the committer to run; its answer (a CommandResult) or error goes to `future`."""

    command: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)
    running: bool = False  # its future was set running (a job carried to a later group already is)


_Ran = tuple[_Job, Any, BaseException | None, int, int]  # job, answer, refusal, its events in the batch


GROUP_SIZE_BOUNDS: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, float("inf"))


@dataclass
class GroupStats:
    transactions: int = 0
    commands: int = 0
    largest_group: int = 0
    failed_group_saves: int = 0
    carried: int = 0  # commands left for the next group by a bound (time or events)
    longest_group_seconds: float = 0.0  # the longest a group kept the committer, commands and saves
    # groups by their number of commands: at most 1, 2, 4, ... 256 commands, then more (for /metrics)
    group_sizes: dict[float, int] = field(default_factory=lambda: dict.fromkeys(GROUP_SIZE_BOUNDS, 0))

    def record_group(self, commands: int) -> None:
        """A group of `commands` commands ran (saved together, or refused every one)."""
        self.commands += commands
        self.largest_group = max(self.largest_group, commands)
        bound = next(b for b in GROUP_SIZE_BOUNDS if commands <= b)
        self.group_sizes[bound] += 1


_Item = _Request | _Job
_EMPTY = object()


class GroupCommitter:
    def __init__(self, app: Any, max_group: int = MAX_GROUP, group_seconds: float = GROUP_SECONDS,
                 start_bound: float = START_BOUND) -> None:
        self.app = app
        self.max_group = max_group
        self.group_seconds = group_seconds
        self.start_bound = start_bound
        self.stats = GroupStats()
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._carry: deque[_Item] = deque()  # left by the last group's bounds: first in the next (committer only)
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

    def submit(self, command: Callable[[], Any]) -> Future[Any]:
        """Have the committer run `command` (a service call that executes one command) in the next
        group; the future holds its answer once the group's transaction committed, or its error."""
        job = _Job(command)
        self._queue.put(job)
        return job.future

    def queue_depth(self) -> int:
        """Requests and commands waiting for the committer (approximate, for /metrics)."""
        return self._queue.qsize()

    def in_committer(self) -> bool:
        """Whether the caller is the committer thread (which saves its own commands directly)."""
        return threading.current_thread() is self._thread

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _take(self, wait: bool) -> _Item | object | None:
        """The next item: one the last group left first, then the queue's (`_EMPTY`: none waiting)."""
        if self._carry:
            return self._carry.popleft()
        if wait:
            return self._queue.get()
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return _EMPTY

    def _run(self) -> None:
        while True:
            first = self._take(wait=True)
            if first is None:
                return
            assert isinstance(first, _Request | _Job)
            group: list[_Item] = [first]
            events = len(first.events) if isinstance(first, _Request) else 0
            jobs = int(isinstance(first, _Job))
            closing = False
            while len(group) < self.max_group and events < MAX_GROUP_EVENTS and jobs < MAX_GROUP_COMMANDS:
                following = self._take(wait=False)
                if following is _EMPTY:
                    break
                if following is None:
                    closing = True
                    break
                assert isinstance(following, _Request | _Job)
                if isinstance(following, _Request) and events + len(following.events) > MAX_GROUP_EVENTS:
                    self._carry.appendleft(following)  # too many events for this group: first of the next
                    self.stats.carried += 1
                    break
                group.append(following)
                if isinstance(following, _Request):
                    events += len(following.events)
                else:
                    jobs += 1
            started = time.perf_counter()
            with bounded_start(self.start_bound):
                self._commit(group)
            self.stats.longest_group_seconds = max(self.stats.longest_group_seconds, time.perf_counter() - started)
            if closing:
                while self._carry:  # what the last group's bounds left, before stopping
                    with bounded_start(self.start_bound):
                        self._commit([self._carry.popleft()])
                return

    def _commit(self, group: list[_Item]) -> None:
        requests = [r for r in group if isinstance(r, _Request)]
        jobs = [j for j in group if isinstance(j, _Job)]
        if requests:
            self._commit_requests(requests)  # releases every request itself, whatever happens
        if jobs:
            try:
                self._run_jobs(jobs)
            except BaseException as error:  # noqa: BLE001 - a fault here must not leave anyone waiting
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(error)

    def _leave(self, jobs: list[_Job]) -> None:
        """Commands a group's time bound left: the first of the next group, in their order."""
        self._carry.extendleft(reversed(jobs))
        self.stats.carried += len(jobs)

    # --- submitted commands ------------------------------------------------------------------
    def _run_jobs(self, jobs: list[_Job]) -> None:
        """Run the group as one batch. If its save fails on a conflict (a taken id that a creation
        trusted the save to catch, or another writer), run it once more as one batch whose creations
        read first, which refuses the duplicate alone; only if that fails too (another process wrote
        between the read and the save) is each command run alone. A duplicate registration, sent
        again and again, so costs its group one more run of its commands and one more transaction,
        not a transaction per command. Each run stops taking commands once they took
        `group_seconds`: the rest are the first of the next group.

        A command whose request went away before the group ran (its future cancelled: the client
        disconnected) is not run; once running, its future can no longer be cancelled, so every
        command that ran gets its answer delivered, whatever happened to the others' requests."""
        live = []
        for job in jobs:
            if job.running or job.future.set_running_or_notify_cancel():
                job.running = True
                live.append(job)
        jobs = live
        if not jobs:
            return
        for optimistic in (True, False):
            try:
                batch, ran, rest = self._run_batch(jobs, optimistic)
            except IntegrityError:
                self.stats.failed_group_saves += 1
                continue
            if batch.events:
                self.stats.transactions += 1
            self.stats.record_group(len(ran))
            for job, result, failure, start, end in ran:
                if failure is not None:
                    job.future.set_exception(failure)
                    continue
                if end > start:  # the position of its last event, as a command saved alone answers
                    result.notification_id = max(r.notification.id for r in batch.recordings[start:end])
                job.future.set_result(result)
            self._leave(rest)
            return
        started = time.perf_counter()
        for index, job in enumerate(jobs):
            if index and time.perf_counter() - started > self.group_seconds:
                self._leave(jobs[index:])
                return
            self._run_alone(job)

    def _run_batch(self, jobs: list[_Job], optimistic: bool) -> tuple[Any, list[_Ran], list[_Job]]:
        """Each command against the state the group's earlier ones left (refused alone), saved at
        once; the commands left once the others took `group_seconds` are returned, not run."""
        ran: list[_Ran] = []
        rest: list[_Job] = []
        started = time.perf_counter()
        with self.app.batched(optimistic=optimistic) as batch:
            for index, job in enumerate(jobs):
                if index and time.perf_counter() - started > self.group_seconds:
                    rest = jobs[index:]
                    break
                start = len(batch.events)
                try:
                    ran.append((job, job.command(), None, start, len(batch.events)))
                except Exception as error:  # noqa: BLE001 - the command's own answer (refused alone)
                    ran.append((job, None, error, start, start))
        return batch, ran, rest

    def _run_alone(self, job: _Job) -> None:
        """Run a command again on its own (its group's transaction failed): it saves directly, and
        re-runs on fresh state if another writer changed its records meanwhile."""
        try:
            result = job.command()
        except Exception as error:  # noqa: BLE001 - the command's own answer
            job.future.set_exception(error)
            return
        self.stats.transactions += 1
        self.stats.record_group(1)
        job.future.set_result(result)

    # --- events of commands run by their callers ----------------------------------------------
    def _commit_requests(self, group: list[_Request]) -> None:
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
            self.stats.failed_group_saves += 1
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
        self.stats.record_group(len(ready))

    def _save_alone(self, request: _Request) -> None:
        try:
            request.recordings = self.app.save(*request.events)
            self.stats.transactions += 1
            self.stats.record_group(1)
        except BaseException as error:  # noqa: BLE001
            request.error = error
