"""A rebuild's bulk load on PostgreSQL, done by the database: the log's effect on the tables, in SQL.

`projections.records` applies events one by one in Python; loading a whole log that way costs
about 60 µs of Python per event (decoding each through the domain, building its rows), several
times what reading the log costs. On PostgreSQL a rebuild instead has the database read the
stored events' JSON up to the log's head and write every table with a statement each, the
teachers split between connections working at once (`load`); the Python projection then applies
whatever was recorded since, as it always does.

The statements state what the handlers of `RecordsProjection` do, as sets: a row's final
values are those the last event touching it (in log order) left. They must give exactly the
handlers' rows: tests/projections/test_pg_load.py loads logs holding every event type and
every correction, transfer and decision both ways and compares every row, and fails on an event
type the statements do not know. Every event of a teacher, programme or org gets its audit row,
whatever its type. Used only where the stored events are plain JSON (no cipher,
no compression) and the database has `pgcrypto` (event ids are uuid5, a SHA-1); otherwise the
rebuild applies the log in Python as on SQLite (`load` returns None).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import Any

from psycopg import sql
from psycopg.errors import Error as PsycopgError

from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY
from domain.programme import Programme
from domain.teacher import Teacher
from projections.db import ReadModelDB
from projections.schema import KEYS

PARTS = 2  # connections loading at once: the database does the work, so about its cores
LOADED = ("orgs", "programmes", "teachers", "postings", "starts", "enrolments", "attendance", "marks", "credits",
          "prior_hours", "disputes", "citations", "audit")

# The event types the statements below know (by class, so a renamed class fails the tests).
KNOWN: tuple[type[Any], ...] = (
    OrgUnit.Registered, OrgUnit.Renamed, Programme.Defined, Programme.Decided, Programme.Resubmitted,
    Teacher.Registered,
    Teacher.Transferred, Teacher.Enrolled, Teacher.AbsenceRequested, Teacher.AbsenceDecided,
    Teacher.AttendanceRecorded, Teacher.Assessed, Teacher.Evaluated, Teacher.CreditAwarded, Teacher.CreditRevoked,
    Teacher.DisputeOpened, Teacher.DisputeResolved, Teacher.PriorHoursRecorded, Teacher.PriorHoursRevoked,
    Teacher.Corrected, Teacher.Departed, Teacher.EnrolmentWithdrawn, Programme.SessionCancelled,
)
# The versions of event classes (other than 1) the statements were written for: the load reads the
# stored JSON without the upcasters, so a new version must be reviewed here first (a test fails).
# Assessed v2 added `attendance_rate`, which no table holds: v1 events load alike. v2 of the other
# teacher events (v3 of Assessed) added `occurred_on`, `late_entry` and `late_reason`: only the audit
# rows read them, and an event without them happened on the day it was recorded (`_audit`); a
# credit's date was already its own field (`awarded_on`, the effective date since).
VERSIONS: dict[type[Any], int] = {
    Teacher.Enrolled: 2, Teacher.AbsenceRequested: 2, Teacher.AbsenceDecided: 2, Teacher.AttendanceRecorded: 2,
    Teacher.Assessed: 3, Teacher.Evaluated: 2, Teacher.CreditAwarded: 2, Teacher.CreditRevoked: 2,
    Teacher.DisputeOpened: 2, Teacher.DisputeResolved: 2,
}


def _instant(text: str) -> str:
    """`records.instant` of a stored datetime's ISO text. The text of a UTC instant (what the domain
    records) is completed as text, any other converted (half the time)."""
    return (f"CASE WHEN right({text}, 6) = '+00:00' AND length({text}) = 25 THEN left({text}, 19) || "
            f"'.000000+00:00' WHEN right({text}, 6) = '+00:00' AND length({text}) = 32 THEN {text} "
            f"ELSE to_char({text}::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END")


def _scaled(json: str, factor: int) -> str:
    """`records.x10`/`x100` of a stored decimal: scaled, rounded half to even as Decimal does."""
    v = f"(({json}->>'_data_')::numeric * {factor})"
    return f"(CASE WHEN {v} - floor({v}) = 0.5 THEN floor({v}) + (floor({v})::bigint & 1) ELSE round({v}) END)::bigint"


def _digest(crypto: str, alias: str, aggregate: str = "e.aggregate_id", version: str = "e.version") -> str:
    """A join giving `alias.h`, the SHA-1 half of `domain.ids.event_id` for an event: computed once per
    row (`OFFSET 0` keeps the planner from copying the call into each use of it in `_event_id`)."""
    digest = f"{crypto}.digest(uuid_send({aggregate}) || convert_to(({version})::text, 'UTF8'), 'sha1')"
    return f"CROSS JOIN LATERAL (SELECT substring({digest} FROM 1 FOR 16) AS h OFFSET 0) {alias}"


def _event_id(alias: str) -> str:
    """`domain.ids.event_id` (uuid5(originator_id, str(version))) from the digest `_digest` joined as `alias`."""
    h = f"{alias}.h"
    return (f"encode(set_byte(set_byte({h}, 6, (get_byte({h}, 6) & 15) | 80), 8, "
            f"(get_byte({h}, 8) & 63) | 128), 'hex')::uuid::text")


def available(app: Any) -> bool:
    """Whether the stored events are JSON the database can read (no cipher, no compression)."""
    mapper = app.mapper
    return getattr(mapper, "cipher", None) is None and getattr(mapper, "compressor", None) is None


def _crypto_schema(cursor: Any) -> str | None:
    """The schema holding pgcrypto's functions, creating the extension (in the store's schema) if
    the role may: it is a trusted extension, the database owner's CREATE right suffices. None if
    there is none, or this role may not use it (another store's role created it in its schema)."""
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto'")
    if cursor.fetchone() is None:
        try:
            with cursor.connection.transaction():
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        except PsycopgError:
            return None
    cursor.execute("SELECT n.nspname AS schema, has_schema_privilege(n.oid, 'USAGE') AS usable "
                   "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto'")
    row = cursor.fetchone()
    if row is None:
        return None
    schema, usable = (row["schema"], row["usable"]) if isinstance(row, dict) else row
    if not usable:
        return None
    return sql.Identifier(str(schema)).as_string(cursor)


def load(db: ReadModelDB, prefix: str, events_table: str, parts: int = PARTS) -> int | None:
    """Load the tables `prefix`* (created empty, without their secondary indexes) with the effect of
    every event of the log up to its current head; returns that position, or None when the database
    cannot (no pgcrypto): the caller then applies the log in Python.

    The teachers are split into `parts` (by a byte of their aggregate id), each part loaded by its
    own connection at the same time (a teacher's rows depend on the teacher's events alone; orgs and
    programmes go with the first part). The parts read the log in separate transactions, each up to
    the same head: every event up to a committed position is itself committed, since writers
    take the event table's lock until they commit, so all parts see the same events."""
    with db.transaction() as tx:
        cursor = tx.cursor
        crypto = _crypto_schema(cursor)
        if crypto is None:
            return None
        cursor.execute(sql.SQL("SELECT COALESCE(MAX(notification_id), 0) AS top FROM {0}").format(
            sql.SQL(events_table)))
        row = cursor.fetchone()
        head = int(row["top"] if isinstance(row, dict) else row[0])
        _drop_keys(cursor, prefix)  # (built again by `key_statements`, whatever the log holds)
        if head == 0:
            return 0

    def load_part(part: int) -> None:
        with db.transaction() as tx:
            cursor = tx.cursor
            for statement in statements(prefix, events_table, crypto, head, part, parts):
                cursor.execute(statement)

    in_parallel([partial(load_part, part) for part in range(parts)])
    return head


def _drop_keys(cursor: Any, prefix: str) -> None:
    """Drop the primary keys of the tables loaded: rows go in faster without them, and
    `key_statements` builds each from all its rows at once (which also proves them unique)."""
    for name in LOADED:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                       (f"{prefix}{name}",))
        for row in cursor.fetchall():
            constraint = row["conname"] if isinstance(row, dict) else row[0]
            cursor.execute(sql.SQL("ALTER TABLE {0} DROP CONSTRAINT {1}").format(
                sql.Identifier(f"{prefix}{name}"), sql.Identifier(str(constraint))))


def key_statements(prefix: str) -> list[str]:
    """The primary keys `load` dropped, to build once the rows are in."""
    return [f"ALTER TABLE {prefix}{name} ADD PRIMARY KEY ({', '.join(KEYS[name])})" for name in LOADED]


def in_parallel(calls: list[Callable[[], None]]) -> None:
    """Run `calls` at once (each on its own connection, the database doing the work), raising the
    first error once all have ended."""
    with ThreadPoolExecutor(max_workers=max(1, len(calls)), thread_name_prefix="trainrec-load") as pool:
        futures = [pool.submit(call) for call in calls]
        wait(futures)
    for future in futures:
        future.result()


def statements(prefix: str, events: str, crypto: str, head: int, part: int = 0, parts: int = 1) -> list[str]:
    """The statements loading part `part` of `parts` (its teachers; orgs and programmes with the
    first part), in order, for the log up to `head`."""
    p = prefix
    s = f"{p}load_events"
    def topics(cls: type[Any]) -> str:
        return f"topic LIKE {sql.Literal(f'{cls.__module__}:{cls.__qualname__}.%').as_string(None)}"

    mine = f"{topics(Teacher)} AND get_byte(uuid_send(originator_id), 15) % {parts} = {part}"
    if part == 0:
        mine = f"({mine}) OR {topics(Programme)} OR {topics(OrgUnit)}"
    zone = sql.Literal(DEFAULT_POLICY.timezone).as_string(None)

    def last(kind: str, key: str, columns: str, join: str = "") -> str:
        """The last event of `kind` (in log order) per `key` (named as its JSON member), with `columns`."""
        name = key.split("'")[1] if "'" in key else "aggregate_id"
        return (f"(SELECT DISTINCT ON ({key}) {key} AS {name}, {columns} FROM {s} e {join} "
                f"WHERE e.event_type = '{kind}' "
                f"ORDER BY {key}, e.position DESC)")

    digest, eid = _digest(crypto, "eh"), _event_id("eh")
    at = "e.at"  # each event's `records.instant` of its timestamp, staged with it
    hours_x10 = _scaled("e.j->'hours'", 10)
    cancelled_x10 = _scaled("x.j->'hours'", 10)
    credits_x100 = _scaled("e.j->'credits'", 100)
    own_x10, school_x10, long_x10 = (_scaled(f"e.j->'{part}'", 10)
                                     for part in ("self_selected", "school_based", "concentrated"))
    renamed = last("OrgUnit.Renamed", "e.aggregate_id", "e.j->>'name' AS name")
    decided = last("Programme.Decided", "e.aggregate_id", "e.j->>'decision' AS decision, e.position")
    revoked = last("Teacher.CreditRevoked", "e.j->>'credit_id'",
                   f"{eid} AS event_id, e.j->>'reason' AS reason, {at} AS at", digest)
    prior_revoked = last("Teacher.PriorHoursRevoked", "e.j->>'record_id'",
                         f"{eid} AS event_id, e.j->>'reason' AS reason, {at} AS at", digest)
    resolved = last("Teacher.DisputeResolved", "e.j->>'dispute_id'",
                    f"e.j->>'decision' AS decision, e.j->>'reason' AS reason, {at} AS resolved_at")
    return [
        # One pass over the log's JSON; the statements below read the parsed events, each type's from a
        # partition of its own (a type's events are spread over the whole log: read from one table,
        # each statement would read all of it). Without parallel workers: passing each parsed event
        # from a worker to the leader took longer than parsing it.
        "SET LOCAL max_parallel_workers_per_gather = 0",
        f"CREATE TEMP TABLE {s} (position BIGINT, aggregate_id UUID, version BIGINT, event_type TEXT, at TEXT, "
        f"j JSONB) PARTITION BY LIST (event_type) ON COMMIT DROP",
        *(f"CREATE TEMP TABLE {s}_{n} PARTITION OF {s} FOR VALUES IN ('{cls.__qualname__}')"
          for n, cls in enumerate(KNOWN)),
        f"CREATE TEMP TABLE {s}_other PARTITION OF {s} DEFAULT",
        f"INSERT INTO {s} SELECT q.notification_id, q.originator_id, q.originator_version, q.event_type, "
        f"{_instant('t.ts')}, q.j FROM (SELECT notification_id, originator_id, originator_version, "
        f"split_part(topic, ':', 2) AS event_type, convert_from(state, 'UTF8')::jsonb AS j FROM {events} "
        f"WHERE notification_id <= {head} AND ({mine}) OFFSET 0) q "  # (OFFSET 0: each event parsed once)
        f"CROSS JOIN LATERAL (SELECT q.j->'timestamp'->>'_data_' AS ts OFFSET 0) t",
        f"ANALYZE {s} (position, aggregate_id, event_type)",  # not the JSON: its statistics cost most
        # orgs: a path is its parent's path and its own id (parents are registered first)
        f"INSERT INTO {p}orgs (org_id, aggregate_id, name, kind, parent_id, path) "
        f"WITH RECURSIVE reg AS (SELECT e.aggregate_id, e.j->>'org_id' AS org_id, e.j->>'name' AS name, "
        f"e.j->>'kind' AS kind, e.j->>'parent_id' AS parent_id FROM {s} e WHERE e.event_type = 'OrgUnit.Registered'), "
        f"tree AS (SELECT org_id, '/' || org_id || '/' AS path FROM reg WHERE parent_id IS NULL "
        f"UNION ALL SELECT r.org_id, t.path || r.org_id || '/' FROM reg r JOIN tree t ON r.parent_id = t.org_id) "
        f"SELECT r.org_id, r.aggregate_id::text, COALESCE(n.name, r.name), r.kind, r.parent_id, t.path "
        f"FROM reg r JOIN tree t USING (org_id) "
        f"LEFT JOIN {renamed} n USING (aggregate_id)",
        # each programme's sessions now: its last definition's, less those cancelled after it (read by
        # every part from the log itself: a part's own events hold the programmes' for the first only)
        f"CREATE TEMP TABLE {p}load_sessions ON COMMIT DROP AS WITH ev AS (SELECT notification_id AS position, "
        f"originator_id AS aggregate_id, split_part(topic, ':', 2) AS event_type, "
        f"convert_from(state, 'UTF8')::jsonb AS j FROM {events} WHERE notification_id <= {head} "
        f"AND {topics(Programme)} AND split_part(topic, ':', 2) IN ('Programme.Defined', 'Programme.Resubmitted', "
        f"'Programme.SessionCancelled')), "
        f"defs AS (SELECT DISTINCT ON (aggregate_id) aggregate_id, position, jsonb_array_length(j->'sessions') AS n "
        f"FROM ev WHERE event_type <> 'Programme.SessionCancelled' ORDER BY aggregate_id, position DESC) "
        f"SELECT d.aggregate_id, c.j->>'code' AS code, d.n - COUNT(x.position) AS session_count, "
        f"COALESCE(SUM({cancelled_x10}), 0) AS cancelled_x10 FROM defs d "
        f"JOIN ev c ON c.aggregate_id = d.aggregate_id AND c.event_type = 'Programme.Defined' "
        f"LEFT JOIN ev x ON x.aggregate_id = d.aggregate_id AND x.event_type = 'Programme.SessionCancelled' "
        f"AND x.position > d.position GROUP BY d.aggregate_id, c.j->>'code', d.n",
        # programmes: their last definition (a resubmission revises the first), and the last decision
        # taken after it (a resubmission awaits a new one); sessions cancelled since
        f"INSERT INTO {p}programmes (code, aggregate_id, title, level, form, selection, school_based_content, "
        f"hours_x10, provider_id, owner_org_id, starts_on, ends_on, session_count, capacity, decision, needs_approval) "
        f"SELECT c.j->>'code', e.aggregate_id::text, e.j->>'title', e.j->>'level', e.j->>'form', e.j->>'selection', "
        f"e.j->>'school_based_content', {hours_x10} - ls.cancelled_x10, e.j->>'provider_id', e.j->>'owner_org_id', "
        f"e.j->'starts_on'->>'_data_', e.j->'ends_on'->>'_data_', ls.session_count, "
        f"(e.j->>'capacity')::integer, CASE WHEN d.position > e.position THEN d.decision END, "
        f"(e.j->>'selection' = 'school_based' OR e.j->>'form' = 'school_based')::integer "
        f"FROM (SELECT DISTINCT ON (e.aggregate_id) e.* FROM {s} e WHERE e.event_type IN "
        f"('Programme.Defined', 'Programme.Resubmitted') ORDER BY e.aggregate_id, e.position DESC) e "
        f"JOIN {s} c ON c.aggregate_id = e.aggregate_id AND c.event_type = 'Programme.Defined' "
        f"LEFT JOIN {decided} d ON d.aggregate_id = e.aggregate_id "
        f"JOIN {p}load_sessions ls ON ls.aggregate_id = e.aggregate_id",
        # teachers: aggregate → number and first school; transfers in log order
        f"CREATE TEMP TABLE {p}load_teachers ON COMMIT DROP AS SELECT e.aggregate_id, e.j->>'teacher_no' AS "
        f"teacher_no, e.j->>'school_id' AS school_id, EXISTS (SELECT FROM {s} t WHERE t.event_type = "
        f"'Teacher.Transferred' AND t.aggregate_id = e.aggregate_id) AS transferred FROM {s} e "
        f"WHERE e.event_type = 'Teacher.Registered'",
        f"ALTER TABLE {p}load_teachers ADD PRIMARY KEY (aggregate_id)",
        f"CREATE TEMP TABLE {p}load_transfers ON COMMIT DROP AS SELECT e.aggregate_id, e.position, e.version, e.at, "
        f"e.j->>'to_school_id' AS school_id, e.j->'effective_on'->>'_data_' AS from_date, "
        f"row_number() OVER (PARTITION BY e.aggregate_id ORDER BY e.position) AS nth "
        f"FROM {s} e WHERE e.event_type = 'Teacher.Transferred'",
        f"CREATE INDEX ON {p}load_transfers (aggregate_id, position)",
        f"ANALYZE {p}load_teachers",
        f"ANALYZE {p}load_transfers",
        # corrections: the last name and the last hire date corrected; the departure (once)
        f"CREATE TEMP TABLE {p}load_corrected ON COMMIT DROP AS SELECT r.aggregate_id, "
        f"(SELECT c.j->>'name' FROM {s} c WHERE c.event_type = 'Teacher.Corrected' AND c.aggregate_id = r.aggregate_id "
        f"AND c.j->>'name' IS NOT NULL ORDER BY c.position DESC LIMIT 1) AS name, "
        f"(SELECT c.j->'hired_on'->>'_data_' FROM {s} c WHERE c.event_type = 'Teacher.Corrected' "
        f"AND c.aggregate_id = r.aggregate_id AND c.j->'hired_on'->>'_data_' IS NOT NULL ORDER BY c.position DESC "
        f"LIMIT 1) AS hired_on FROM (SELECT DISTINCT aggregate_id FROM {s} WHERE event_type = 'Teacher.Corrected') r",
        f"CREATE TEMP TABLE {p}load_departed ON COMMIT DROP AS SELECT e.aggregate_id, "
        f"e.j->'effective_on'->>'_data_' AS departed_on, e.j->>'kind' AS kind, e.at FROM {s} e "
        f"WHERE e.event_type = 'Teacher.Departed'",
        f"INSERT INTO {p}teachers (teacher_no, aggregate_id, name, school_id, hired_on, departed_on, departure_kind) "
        f"SELECT e.j->>'teacher_no', e.aggregate_id::text, COALESCE(k.name, e.j->>'name'), "
        f"COALESCE(t.school_id, e.j->>'school_id'), COALESCE(k.hired_on, e.j->'hired_on'->>'_data_'), "
        f"dp.departed_on, dp.kind FROM {s} e LEFT JOIN (SELECT DISTINCT ON (aggregate_id) aggregate_id, "
        f"school_id FROM {p}load_transfers ORDER BY aggregate_id, position DESC) t USING (aggregate_id) "
        f"LEFT JOIN {p}load_corrected k USING (aggregate_id) LEFT JOIN {p}load_departed dp USING (aggregate_id) "
        f"WHERE e.event_type = 'Teacher.Registered'",
        # postings: the registration's (from the hire date, as last corrected), then one per transfer; each
        # ends where the first later one starts (recorded when that was), or at the departure (recorded then)
        f"INSERT INTO {p}postings (teacher_no, seq, school_id, from_date, event_id, until_date, recorded_at, "
        f"until_recorded_at) "
        f"SELECT teacher_no, seq, school_id, from_date, event_id, LEAST(MIN(from_date COLLATE \"C\") "
        f"OVER (PARTITION BY teacher_no ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), "
        f"dp.departed_on COLLATE \"C\"), postings.at, COALESCE(LEAD(postings.at) OVER (PARTITION BY teacher_no "
        f"ORDER BY seq), dp.at) "
        f"FROM ("
        f"SELECT m.aggregate_id, m.teacher_no, 1 AS seq, e.j->>'school_id' AS school_id, COALESCE(k.hired_on, "
        f"e.j->'hired_on'->>'_data_', "
        f"to_char((e.j->'timestamp'->>'_data_')::timestamptz AT TIME ZONE {zone}, 'YYYY-MM-DD')) AS from_date, "
        f"{eid} AS event_id, e.at "
        f"FROM {s} e JOIN {p}load_teachers m USING (aggregate_id) LEFT JOIN {p}load_corrected k USING (aggregate_id) "
        f"{digest} WHERE e.event_type = 'Teacher.Registered' "
        f"UNION ALL SELECT m.aggregate_id, m.teacher_no, 1 + e.nth, e.school_id, e.from_date, {eid}, e.at "
        f"FROM {p}load_transfers e JOIN {p}load_teachers m USING (aggregate_id) {digest}) postings "
        f"LEFT JOIN {p}load_departed dp USING (aggregate_id)",
        # each corrected hire date, with the start of the first posting it replaced
        f"INSERT INTO {p}starts (event_id, teacher_no, recorded_at, previous_from) "
        f"SELECT {eid}, m.teacher_no, e.at, COALESCE(LAG(e.j->'hired_on'->>'_data_') OVER (PARTITION BY "
        f"e.aggregate_id ORDER BY e.position), r.j->'hired_on'->>'_data_', to_char((r.j->'timestamp'->>'_data_')"
        f"::timestamptz AT TIME ZONE {zone}, 'YYYY-MM-DD')) "
        f"FROM {s} e JOIN {p}load_teachers m USING (aggregate_id) {digest} JOIN {s} r ON r.aggregate_id = "
        f"e.aggregate_id AND r.event_type = 'Teacher.Registered' "
        f"WHERE e.event_type = 'Teacher.Corrected' AND e.j->'hired_on'->>'_data_' IS NOT NULL",
        *_enrolments(p, s, crypto),
        # credits, revoked by their last revocation
        f"INSERT INTO {p}credits (credit_id, teacher_no, programme_code, title, level, form, selection, "
        f"school_based_content, hours_x10, credits_x100, year, awarded_on, awarded_at, certified_by, certifier_role, "
        f"school_id, event_id, policy_version, status, revoked_event_id, revoked_reason, revoked_at) "
        f"SELECT e.j->>'credit_id', m.teacher_no, e.j->'programme'->>'code', e.j->'programme'->>'title', "
        f"e.j->'programme'->>'level', e.j->'programme'->>'form', e.j->'programme'->>'selection', "
        f"e.j->'programme'->>'school_based_content', {hours_x10}, "
        f"{credits_x100}, (e.j->>'year')::integer, e.j->'awarded_on'->>'_data_', {at}, "
        f"COALESCE(e.j->'actor'->>'sub', ''), COALESCE(e.j->'actor'->>'role', ''), e.j->>'school_id', {eid}, "
        f"e.j->>'policy_version', CASE WHEN r.credit_id IS NULL THEN 'valid' ELSE 'revoked' END, r.event_id, r.reason, "
        f"r.at "
        f"FROM {s} e JOIN {p}load_teachers m USING (aggregate_id) {digest} "
        f"LEFT JOIN {revoked} r ON r.credit_id = e.j->>'credit_id' WHERE e.event_type = 'Teacher.CreditAwarded'",
        # earlier hours, revoked by their last revocation
        f"INSERT INTO {p}prior_hours (record_id, teacher_no, year, hours_x10, self_selected_x10, school_based_x10, "
        f"concentrated_x10, source, recorded_at, recorded_by, recorder_role, event_id, status, revoked_event_id, "
        f"revoked_reason, revoked_at) "
        f"SELECT e.j->>'record_id', m.teacher_no, (e.j->>'year')::integer, {hours_x10}, "
        f"{own_x10}, {school_x10}, {long_x10}, e.j->>'source', {at}, COALESCE(e.j->'actor'->>'sub', ''), "
        f"COALESCE(e.j->'actor'->>'role', ''), {eid}, CASE WHEN r.record_id IS NULL THEN 'valid' ELSE 'revoked' END, "
        f"r.event_id, r.reason, r.at FROM {s} e JOIN {p}load_teachers m USING (aggregate_id) {digest} "
        f"LEFT JOIN {prior_revoked} r ON r.record_id = e.j->>'record_id' "
        f"WHERE e.event_type = 'Teacher.PriorHoursRecorded'",
        # disputes, with their last resolution
        f"INSERT INTO {p}disputes (dispute_id, teacher_no, programme_code, claim, opened_at, decision, reason, "
        f"resolved_at) SELECT e.j->>'dispute_id', m.teacher_no, e.j->>'programme_code', e.j->>'claim', {at}, "
        f"r.decision, r.reason, r.resolved_at FROM {s} e JOIN {p}load_teachers m USING (aggregate_id) "
        f"LEFT JOIN {resolved} r "
        f"ON r.dispute_id = e.j->>'dispute_id' WHERE e.event_type = 'Teacher.DisputeOpened'",
        # the evidence files disputes and earlier hours cite (each sha256 once per record)
        f"INSERT INTO {p}citations (sha256, cited_by, teacher_no) SELECT DISTINCT x.item->>'sha256', "
        f"COALESCE(e.j->>'dispute_id', e.j->>'record_id'), m.teacher_no FROM {s} e "
        f"JOIN {p}load_teachers m USING (aggregate_id) "
        f"CROSS JOIN LATERAL jsonb_array_elements(COALESCE(e.j->'evidence', '[]'::jsonb)) AS x(item) "
        f"WHERE e.event_type IN ('Teacher.DisputeOpened', 'Teacher.PriorHoursRecorded') "
        f"AND COALESCE(x.item->>'sha256', '') <> ''",
        *_audit(p, s),
    ]


def _enrolments(p: str, s: str, crypto: str) -> list[str]:
    """Enrolments with their absences, attendance, assessment and evaluation, and the attendance rows.
    Only events after a teacher's enrolment in a programme change it (as updates of a missing row
    change nothing); a correction replaces the mark of its session only once one is recorded."""
    key = "e.aggregate_id, e.j->>'programme_code'"
    at = "e.at"
    mark_digest, mark_id = _digest(crypto, "oh", "o.aggregate_id", "COALESCE(c.version, o.version)"), _event_id("oh")
    every_digest, every_id = _digest(crypto, "mh", "o.aggregate_id", "o.version"), _event_id("mh")
    return [
        # each teacher's last enrolment in a programme, unless withdrawn since (then enrolled again, or not)
        f"CREATE TEMP TABLE {p}load_enrolled ON COMMIT DROP AS SELECT * FROM (SELECT DISTINCT ON (e.aggregate_id, "
        f"e.j->'programme'->>'code') e.aggregate_id, e.position, e.at, e.j->'programme'->>'code' AS code, e.j "
        f"FROM {s} e WHERE e.event_type = 'Teacher.Enrolled' ORDER BY e.aggregate_id, e.j->'programme'->>'code', "
        f"e.position DESC) n WHERE NOT EXISTS (SELECT FROM {s} w WHERE w.event_type = 'Teacher.EnrolmentWithdrawn' "
        f"AND w.aggregate_id = n.aggregate_id AND w.j->>'programme_code' = n.code AND w.position > n.position)",
        f"ALTER TABLE {p}load_enrolled ADD PRIMARY KEY (aggregate_id, code)",
        # attendance: each session's first mark, then the last correction after it, if any
        f"CREATE TEMP TABLE {p}load_marks ON COMMIT DROP AS SELECT e.aggregate_id, e.j->>'programme_code' AS code, "
        f"(e.j->>'session_no')::integer AS session_no, e.position, e.version, (e.j->>'present')::boolean::integer AS "
        f"present, e.j->>'corrects' IS NOT NULL AS correction, e.at FROM {s} e "
        f"WHERE e.event_type = 'Teacher.AttendanceRecorded'",
        # every mark, until the next one of its session (a correction) replaced it
        f"INSERT INTO {p}marks (event_id, programme_code, teacher_no, session_no, present, recorded_at, superseded_at) "
        f"SELECT {every_id}, o.code, m.teacher_no, o.session_no, o.present, o.at, LEAD(o.at) OVER (PARTITION BY "
        f"o.aggregate_id, o.code, o.session_no ORDER BY o.position) "
        f"FROM {p}load_marks o JOIN {p}load_teachers m USING (aggregate_id) {every_digest}",
        f"INSERT INTO {p}attendance (programme_code, teacher_no, session_no, present, event_id) "
        f"SELECT o.code, m.teacher_no, o.session_no, COALESCE(c.present, o.present), "
        f"{mark_id} "
        f"FROM {p}load_marks o JOIN {p}load_teachers m USING (aggregate_id) "
        f"LEFT JOIN (SELECT DISTINCT ON (c.aggregate_id, c.code, c.session_no) c.aggregate_id, c.code, c.session_no, "
        f"c.position, c.version, c.present FROM {p}load_marks c JOIN {p}load_marks f ON f.aggregate_id = "
        f"c.aggregate_id AND f.code = c.code AND f.session_no = c.session_no AND NOT f.correction AND f.position < "
        f"c.position WHERE c.correction ORDER BY c.aggregate_id, c.code, c.session_no, c.position DESC) c "
        f"ON c.aggregate_id = o.aggregate_id AND c.code = o.code AND c.session_no = o.session_no {mark_digest} "
        f"WHERE NOT o.correction",
        f"INSERT INTO {p}enrolments (programme_code, teacher_no, ends_on, enrolled_at, substitutes_for, absence_kind, "
        f"absence_status, substitute_teacher_no, school_decision, provider_decision, sessions_present, "
        f"sessions_marked, session_count, assessment_result, assessment_late, assessed_at, evaluated_at, "
        f"evaluation_late, absence_approved_at, attended_at, marks_corrected) "
        f"SELECT n.code, m.teacher_no, n.j->'programme'->'ends_on'->>'_data_', "
        f"n.at, n.j->>'substitutes_for', q.kind, "
        f"CASE WHEN b.last_any IS NULL THEN NULL WHEN b.last_any = b.last_request THEN 'pending' "
        f"WHEN 'rejected' IN (ds.decision, dp.decision) THEN 'rejected' "
        f"WHEN ds.decision = 'approved' AND dp.decision = 'approved' THEN 'approved' ELSE 'pending' END, "
        f"q.substitute, ds.decision, dp.decision, COALESCE(k.present, 0), COALESCE(k.marked, 0), "
        f"ls.session_count, a.result, a.late, a.assessed_at, v.evaluated_at, v.late, "
        # approved by the later of the two approvals (after the last request)
        f"CASE WHEN b.last_any IS NOT NULL AND b.last_any <> b.last_request AND ds.decision = 'approved' "
        f"AND dp.decision = 'approved' THEN GREATEST(ds.at, dp.at) END, km.attended_at, COALESCE(km.corrected, 0) "
        f"FROM {p}load_enrolled n JOIN {p}load_teachers m USING (aggregate_id) "
        # its first present mark, and whether any mark was corrected (projections/as_of.py)
        f"LEFT JOIN (SELECT o.aggregate_id, o.code, MIN(o.at) FILTER (WHERE o.present = 1 AND NOT o.correction) "
        f"AS attended_at, MAX(o.correction::integer) AS corrected FROM {p}load_marks o JOIN {p}load_enrolled n "
        f"ON n.aggregate_id = o.aggregate_id AND n.code = o.code AND n.position < o.position "
        f"GROUP BY o.aggregate_id, o.code) km ON km.aggregate_id = n.aggregate_id AND km.code = n.code "
        f"JOIN {p}load_sessions ls ON ls.code = n.code "
        # absences: the last request after the enrolment, and each side's last decision after it
        f"LEFT JOIN (SELECT n.aggregate_id, n.code, MAX(e.position) FILTER (WHERE e.event_type = "
        f"'Teacher.AbsenceRequested') AS last_request, MAX(e.position) AS last_any FROM {s} e JOIN {p}load_enrolled n "
        f"ON n.aggregate_id = e.aggregate_id AND n.code = e.j->>'programme_code' AND e.position > n.position "
        f"WHERE e.event_type IN ('Teacher.AbsenceRequested', 'Teacher.AbsenceDecided') GROUP BY n.aggregate_id, n.code"
        f") b ON b.aggregate_id = n.aggregate_id AND b.code = n.code "
        f"LEFT JOIN (SELECT e.position, e.j->>'kind' AS kind, e.j->>'substitute_teacher_no' AS substitute FROM {s} e "
        f"WHERE e.event_type = 'Teacher.AbsenceRequested') q ON q.position = b.last_request "
        + "".join(
            f"LEFT JOIN (SELECT DISTINCT ON (e.aggregate_id, e.j->>'programme_code') e.aggregate_id, "
            f"e.j->>'programme_code' AS code, e.position, e.j->>'decision' AS decision, e.at FROM {s} e "
            f"WHERE e.event_type = 'Teacher.AbsenceDecided' AND e.j->>'by' = '{by}' "
            f"ORDER BY e.aggregate_id, e.j->>'programme_code', e.position DESC) {alias} "
            f"ON {alias}.aggregate_id = n.aggregate_id AND {alias}.code = n.code "
            f"AND {alias}.position > GREATEST(n.position, b.last_request) "
            for by, alias in (("school", "ds"), ("provider", "dp"))
        )
        + f"LEFT JOIN (SELECT o.aggregate_id, o.code, COUNT(*) AS marked, SUM(COALESCE(c.present, o.present)) AS "
        f"present FROM {p}load_marks o JOIN {p}load_enrolled n ON n.aggregate_id = o.aggregate_id AND n.code = o.code "
        f"AND n.position < o.position LEFT JOIN (SELECT DISTINCT ON (c.aggregate_id, c.code, c.session_no) "
        f"c.aggregate_id, c.code, c.session_no, c.present FROM {p}load_marks c JOIN {p}load_marks f ON "
        f"f.aggregate_id = c.aggregate_id AND f.code = c.code AND f.session_no = c.session_no AND NOT f.correction "
        f"AND f.position < c.position WHERE c.correction ORDER BY c.aggregate_id, c.code, c.session_no, "
        f"c.position DESC) c ON c.aggregate_id = o.aggregate_id AND c.code = o.code AND c.session_no = o.session_no "
        f"WHERE NOT o.correction GROUP BY o.aggregate_id, o.code) k ON k.aggregate_id = n.aggregate_id "
        f"AND k.code = n.code "
        + "".join(
            f"LEFT JOIN (SELECT DISTINCT ON ({key}) e.aggregate_id, e.j->>'programme_code' AS code, e.position, "
            f"{columns} FROM {s} e WHERE e.event_type = '{kind}' ORDER BY {key}, e.position DESC) {alias} "
            f"ON {alias}.aggregate_id = n.aggregate_id AND {alias}.code = n.code AND {alias}.position > n.position "
            for kind, alias, columns in (
                ("Teacher.Assessed", "a", f"e.j->>'result' AS result, (e.j->>'late')::boolean::integer AS late, "
                                          f"{at} AS assessed_at"),
                ("Teacher.Evaluated", "v", f"{at} AS evaluated_at, (e.j->>'late')::boolean::integer AS late"),
            )
        ),
    ]


def event_classes(aggregate: type[Any]) -> list[type[Any]]:
    """Every event class `aggregate` defines."""
    return [member for member in vars(aggregate).values()
            if isinstance(member, type) and issubclass(member, aggregate.Event)]


def _types(aggregate: type[Any]) -> str:
    """The staged `event_type` of every event class of `aggregate`, as an SQL list."""
    return ", ".join(sorted(f"'{cls.__qualname__}'" for cls in event_classes(aggregate)))


def _audit(p: str, s: str) -> list[str]:
    """One row per event of a teacher, programme or org: a teacher's event under the school the
    teacher was at once it was applied (a transfer's under the new school)."""
    at = "e.at"
    # an event without an effective date (a programme's or org's, or a teacher's stored before they
    # existed) happened on the day it was recorded, Asia/Shanghai (`records.occurred_on`)
    occurred = ("COALESCE(e.j->'occurred_on'->>'_data_', to_char((e.j->'timestamp'->>'_data_')::timestamptz "
                "AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'))")
    common = (f"e.position, split_part(e.event_type, '.', 2), {{kind}}, {{teacher}}, {{org}}, "
              f"COALESCE(e.j->'actor'->>'sub', ''), COALESCE(e.j->'actor'->>'role', ''), {at}, e.j->>'reason', "
              f"{occurred}, COALESCE((e.j->>'late_entry')::boolean, false)::integer")
    insert = (f"INSERT INTO {p}audit (position, type, aggregate, teacher_no, org_id, actor_sub, actor_role, "
              f"recorded_at, reason, occurred_on, late_entry) ")
    school_then = (f"COALESCE((SELECT t.school_id FROM {p}load_transfers t WHERE t.aggregate_id = e.aggregate_id "
                   f"AND t.position <= e.position ORDER BY t.position DESC LIMIT 1), m.school_id)")
    teacher = common.format(kind="'teacher'", teacher="m.teacher_no",
                            org=f"CASE WHEN m.transferred THEN {school_then} ELSE m.school_id END")
    programme = common.format(kind="'programme'", teacher="NULL", org="r.owner_org_id")
    org = common.format(kind="'org'", teacher="NULL", org="o.org_id")
    return [
        insert + f"SELECT {teacher} "
        f"FROM {s} e JOIN {p}load_teachers m USING (aggregate_id) WHERE e.event_type LIKE 'Teacher.%'",
        insert + f"SELECT {programme} "
        f"FROM {s} e JOIN {p}programmes r ON r.aggregate_id = e.aggregate_id::text "
        f"WHERE e.event_type IN ({_types(Programme)})",
        insert + f"SELECT {org} "
        f"FROM {s} e JOIN {p}orgs o ON o.aggregate_id = e.aggregate_id::text "
        f"WHERE e.event_type IN ({_types(OrgUnit)})",
    ]
