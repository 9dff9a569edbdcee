"""Many aggregates' stored events in one query rather than one per aggregate (bulk import).

A bulk import looks up the idempotency record of every row and loads the teacher of every row
before running it: one round trip each was a third of an import's time. PostgreSQL and SQLite
are asked once per chunk; any other recorder (the in-memory one) is asked per id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

CHUNK = 500  # ids per statement (SQLite's parameter limit is far above)
SELECTS = {  # only ids? -> (columns, order)
    True: ("DISTINCT originator_id", ""),
    False: ("originator_id, originator_version, topic, state", " ORDER BY originator_id, originator_version"),
}


def stored_ids(recorder: Any, ids: Sequence[UUID]) -> set[UUID]:
    """The ids of `ids` under which at least one event is stored."""
    return set(stored_events(recorder, ids, only_ids=True))


def stored_events(recorder: Any, ids: Sequence[UUID], only_ids: bool = False) -> dict[UUID, list[StoredEvent]]:
    """The stored events of each id of `ids` that has any, in version order (with `only_ids`, just
    which ids have events: the lists are then empty)."""
    found: dict[UUID, list[StoredEvent]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = _rows(recorder, list(ids[start : start + CHUNK]), only_ids)
        previous: Any = None
        events: list[StoredEvent] = []
        for row in rows:  # one aggregate's rows follow each other
            if row[0] != previous:
                previous = row[0]  # a UUID from PostgreSQL, hex text from SQLite
                originator_id = previous if isinstance(previous, UUID) else UUID(previous)
                events = found.setdefault(originator_id, [])
            if not only_ids:
                events.append(StoredEvent(originator_id, row[1], row[2], row[3]))
    return found


def _rows(recorder: Any, chunk: list[UUID], only_ids: bool) -> list[Any]:
    """(originator_id, version, topic, state) rows of `chunk`'s events, ordered by id and version
    (just (originator_id,) once per id with `only_ids`)."""
    columns, order = SELECTS[only_ids]
    if isinstance(recorder, PostgresAggregateRecorder):
        table = SQL("{0}.{1}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        statement = SQL(f"SELECT {columns} FROM {{0}} WHERE originator_id = ANY(%s){order}").format(  # noqa: S608 - constants
            table)
        with recorder.datastore.transaction(commit=False) as curs:
            cursor: Any = curs
            cursor.row_factory = tuple_row  # eventsourcing's cursors make dicts: a fifth of a read-ahead's time
            cursor.execute(statement, (chunk,))
            return list(cursor.fetchall())
    if isinstance(recorder, SQLiteAggregateRecorder):
        marks = ", ".join("?" * len(chunk))
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT {columns} FROM {recorder.events_table_name} "  # noqa: S608 - the library's table name
                         f"WHERE originator_id IN ({marks}){order}", [i.hex for i in chunk])
            return list(curs.fetchall())
    return [(e.originator_id, e.originator_version, e.topic, e.state) for i in chunk for e in recorder.select_events(i)]


def notifications(recorder: Any, positions: Sequence[int]) -> dict[int, StoredEvent]:
    """The stored events at `positions` (notification ids) of the log, by position: one query per
    chunk on PostgreSQL and SQLite, one lookup per position in memory."""
    found: dict[int, StoredEvent] = {}
    wanted = sorted(set(positions))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        if isinstance(recorder, PostgresAggregateRecorder):
            table = SQL("{0}.{1}").format(Identifier(recorder.datastore.schema),
                                          Identifier(recorder.events_table_name))
            statement = SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM {0} "
                            "WHERE notification_id = ANY(%s)").format(table)
            with recorder.datastore.transaction(commit=False) as curs:
                cursor: Any = curs
                cursor.row_factory = tuple_row
                cursor.execute(statement, (chunk,))
                rows = list(cursor.fetchall())
        elif isinstance(recorder, SQLiteAggregateRecorder):
            marks = ", ".join("?" * len(chunk))
            with recorder.datastore.transaction(commit=False) as curs:
                curs.execute(f"SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
                             f"FROM {recorder.events_table_name} WHERE rowid IN ({marks})", chunk)
                rows = list(curs.fetchall())
        else:
            rows = [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for position in chunk
                    for n in recorder.select_notifications(start=position, limit=1, stop=position)]
        for row in rows:
            originator_id = row[1] if isinstance(row[1], UUID) else UUID(row[1])
            found[int(row[0])] = StoredEvent(originator_id, int(row[2]), row[3], bytes(row[4]))
    return found



# a leaf's text after its prefix (UUID text of the 32 hex digits SQLite keeps, version, topic, each
# followed by a line feed), joined by SQLite
_SQLITE_LEAF_TEXT = ("substr(originator_id, 1, 8) || '-' || substr(originator_id, 9, 4) || '-' || "
                     "substr(originator_id, 13, 4) || '-' || substr(originator_id, 17, 4) || '-' || "
                     "substr(originator_id, 21) || char(10) || originator_version || char(10) || topic || char(10)")
LeafRow = tuple[int, bytes, bytes]  # (notification id, leaf bytes, originator id's 16 bytes ‖ version digits)


def leaf_range(recorder: Any, after: int, stop: int, limit: int, prefix: bytes) -> list[LeafRow]:
    """The stored events of notification ids in (after, stop], in order, at most `limit`, each as
    its notification id, `prefix ‖ originator id (UUID text) ‖ "\\n" ‖ version ‖ "\\n" ‖ topic ‖ "\\n" ‖
    state` and the bytes its public id hashes (`domain.ids.event_id`): on PostgreSQL the server
    joins the bytes (no UUID objects made here), one range query on SQLite, the recorder's own
    select elsewhere."""
    if isinstance(recorder, PostgresAggregateRecorder):
        table = SQL("{0}.{1}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        statement = SQL("SELECT notification_id, %s::bytea || convert_to(originator_id::text || E'\\n' || "
                        "originator_version::text || E'\\n' || topic || E'\\n', 'UTF8') || state, "
                        "uuid_send(originator_id) || convert_to(originator_version::text, 'UTF8') FROM {0} "
                        "WHERE notification_id > %s AND notification_id <= %s "
                        "ORDER BY notification_id LIMIT %s").format(table)
        with recorder.datastore.transaction(commit=False) as curs:
            cursor: Any = curs
            cursor.row_factory = tuple_row
            cursor.execute(statement, (prefix, after, stop, limit), binary=True)
            return list(cursor.fetchall())
    if isinstance(recorder, SQLiteAggregateRecorder):
        # the text the leaf holds is joined by SQLite (not the state: `||` would make a blob text)
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT rowid, {_SQLITE_LEAF_TEXT}, originator_id, originator_version, state "  # noqa: S608
                         f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                         (after, stop, limit))
            found = list(curs.fetchall())
        if all(len(row[2]) == 32 for row in found):
            return [(nid, prefix + text.encode("utf-8") + state, bytes.fromhex(hexid) + str(version).encode("ascii"))
                    for nid, text, hexid, version, state in found]
        raw = [(nid, hexid, version, text.rsplit("\n", 2)[1], state) for nid, text, hexid, version, state in found]
    elif stop > after:
        raw = [(n.id, n.originator_id, n.originator_version, n.topic, n.state)
               for n in recorder.select_notifications(start=after + 1, limit=limit, stop=stop)]
    else:
        raw = []
    rows = []
    for nid, originator, version, topic, state in raw:
        uuid = originator if isinstance(originator, UUID) else UUID(str(originator))
        digits = str(version).encode("ascii")
        rows.append((int(nid), b"".join((prefix, str(uuid).encode("ascii"), b"\n", digits, b"\n",
                                         topic.encode("utf-8"), b"\n", bytes(state))), uuid.bytes + digits))
    return rows


def count_range(recorder: Any, after: int, stop: int) -> int:
    """How many stored events have notification ids in (after, stop] (the index alone is read on
    PostgreSQL and SQLite)."""
    if stop <= after:
        return 0
    if isinstance(recorder, PostgresAggregateRecorder):
        table = SQL("{0}.{1}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        statement = SQL("SELECT COUNT(*) FROM {0} WHERE notification_id > %s AND notification_id <= %s").format(table)
        with recorder.datastore.transaction(commit=False) as curs:
            cursor: Any = curs
            cursor.row_factory = tuple_row
            cursor.execute(statement, (after, stop))
            return int(cursor.fetchone()[0])
    if isinstance(recorder, SQLiteAggregateRecorder):
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT COUNT(*) FROM {recorder.events_table_name} "  # noqa: S608 - the library's table name
                         "WHERE rowid > ? AND rowid <= ?", (after, stop))
            return int(curs.fetchone()[0])
    return len(recorder.select_notifications(start=after + 1, limit=stop - after, stop=stop))
