"""Read-model tables (prefix `rm_`), documented in docs/read-model.md so BI tools and Excel can use them.

Hours are stored as integer tenths (`hours_x10`), converted credits as integer hundredths, so
sums are exact on both databases; dates are ISO `YYYY-MM-DD` text, instants ISO UTC text.
"""

from __future__ import annotations

import re
import uuid

LIVE = "rm_"
BUILD = "rmb_"

TABLES: dict[str, str] = {
    "tracking": "name TEXT PRIMARY KEY, position BIGINT NOT NULL",
    "orgs": (
        "org_id TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, "
        "parent_id TEXT, path TEXT NOT NULL"
    ),
    "programmes": (
        "code TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, title TEXT NOT NULL, level TEXT NOT NULL, "
        "form TEXT NOT NULL, "
        "selection TEXT NOT NULL, school_based_content TEXT, hours_x10 BIGINT NOT NULL, provider_id TEXT NOT NULL, "
        "owner_org_id TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL, session_count INTEGER NOT NULL, "
        "capacity INTEGER, decision TEXT, needs_approval INTEGER NOT NULL"
    ),
    "teachers": (
        "teacher_no TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, name TEXT NOT NULL, school_id TEXT NOT NULL, "
        "hired_on TEXT, departed_on TEXT, departure_kind TEXT"
    ),
    "postings": (
        "teacher_no TEXT NOT NULL, seq INTEGER NOT NULL, school_id TEXT NOT NULL, from_date TEXT, "
        "event_id TEXT NOT NULL, until_date TEXT, recorded_at TEXT NOT NULL, until_recorded_at TEXT, "
        "PRIMARY KEY (teacher_no, seq)"
    ),
    "enrolments": (
        "programme_code TEXT NOT NULL, teacher_no TEXT NOT NULL, ends_on TEXT NOT NULL, enrolled_at TEXT NOT NULL, "
        "substitutes_for TEXT, absence_kind TEXT, absence_status TEXT, substitute_teacher_no TEXT, "
        "school_decision TEXT, provider_decision TEXT, sessions_present INTEGER NOT NULL, "
        "sessions_marked INTEGER NOT NULL, session_count INTEGER NOT NULL, assessment_result TEXT, "
        "assessment_late INTEGER, assessed_at TEXT, evaluated_at TEXT, evaluation_late INTEGER, "
        "absence_approved_at TEXT, attended_at TEXT, marks_corrected INTEGER NOT NULL, "
        "PRIMARY KEY (programme_code, teacher_no)"
    ),
    "attendance": (
        "programme_code TEXT NOT NULL, teacher_no TEXT NOT NULL, session_no INTEGER NOT NULL, "
        "present INTEGER NOT NULL, "
        "event_id TEXT NOT NULL, PRIMARY KEY (programme_code, teacher_no, session_no)"
    ),
    # Each corrected hire date: the start of the teacher's first posting it replaced, and when (so the
    # postings as they stood at an instant can be read: projections/as_of.py).
    "starts": (
        "event_id TEXT PRIMARY KEY, teacher_no TEXT NOT NULL, recorded_at TEXT NOT NULL, previous_from TEXT NOT NULL"
    ),
    # Every attendance mark recorded, each until the correction that replaced it: attendance as it
    # stood at any instant (projections/as_of.py).
    "marks": (
        "event_id TEXT PRIMARY KEY, programme_code TEXT NOT NULL, teacher_no TEXT NOT NULL, "
        "session_no INTEGER NOT NULL, present INTEGER NOT NULL, recorded_at TEXT NOT NULL, superseded_at TEXT"
    ),
    "credits": (
        "credit_id TEXT PRIMARY KEY, teacher_no TEXT NOT NULL, programme_code TEXT NOT NULL, title TEXT NOT NULL, "
        "level TEXT NOT NULL, form TEXT NOT NULL, selection TEXT NOT NULL, school_based_content TEXT, "
        "hours_x10 BIGINT NOT NULL, credits_x100 BIGINT NOT NULL, year INTEGER NOT NULL, awarded_on TEXT NOT NULL, "
        "awarded_at TEXT NOT NULL, certified_by TEXT NOT NULL, certifier_role TEXT NOT NULL, school_id TEXT NOT NULL, "
        "event_id TEXT NOT NULL, policy_version TEXT NOT NULL, status TEXT NOT NULL, revoked_event_id TEXT, "
        "revoked_reason TEXT, revoked_at TEXT"
    ),
    # Earlier hours (历史学时): counted like credits of their year (domain/rules/prior_hours.py).
    "prior_hours": (
        "record_id TEXT PRIMARY KEY, teacher_no TEXT NOT NULL, year INTEGER NOT NULL, hours_x10 BIGINT NOT NULL, "
        "self_selected_x10 BIGINT NOT NULL, school_based_x10 BIGINT NOT NULL, concentrated_x10 BIGINT NOT NULL, "
        "source TEXT NOT NULL, recorded_at TEXT NOT NULL, recorded_by TEXT NOT NULL, recorder_role TEXT NOT NULL, "
        "event_id TEXT NOT NULL, status TEXT NOT NULL, revoked_event_id TEXT, revoked_reason TEXT, revoked_at TEXT"
    ),
    "teacher_years": (
        "teacher_no TEXT NOT NULL, year INTEGER NOT NULL, hours_x10 BIGINT NOT NULL, "
        "self_selected_x10 BIGINT NOT NULL, designated_x10 BIGINT NOT NULL, elective_x10 BIGINT NOT NULL, "
        "concentrated_max_x10 BIGINT NOT NULL, enrolments_counted INTEGER NOT NULL, "
        "enrolments_attended INTEGER NOT NULL, cycle_x10 BIGINT NOT NULL, PRIMARY KEY (teacher_no, year)"
    ),
    "disputes": (
        "dispute_id TEXT PRIMARY KEY, teacher_no TEXT NOT NULL, programme_code TEXT NOT NULL, claim TEXT NOT NULL, "
        "opened_at TEXT NOT NULL, decision TEXT, reason TEXT, resolved_at TEXT"
    ),
    # Which dispute or earlier-hours record cites which evidence file (its sha256): who may read
    # a kept file (GET /api/v1/evidence/{sha256}) follows from the teachers of the records citing it.
    "citations": (
        "sha256 TEXT NOT NULL, cited_by TEXT NOT NULL, teacher_no TEXT NOT NULL, PRIMARY KEY (sha256, cited_by)"
    ),
    # Caches of compliance per school (projections/school_years.py): not replayed, checked or compared.
    "school_years": (
        "year INTEGER NOT NULL, school_id TEXT NOT NULL, today TEXT NOT NULL, policy_version TEXT NOT NULL, "
        "position BIGINT NOT NULL, teachers INTEGER NOT NULL, hours_x10 BIGINT NOT NULL, "
        "self_selected_x10 BIGINT NOT NULL, enrolments_counted INTEGER NOT NULL, enrolments_attended INTEGER NOT NULL, "
        "short_hours INTEGER NOT NULL, short_self_selected INTEGER NOT NULL, short_concentrated INTEGER NOT NULL, "
        "short_designated INTEGER NOT NULL, short_elective INTEGER NOT NULL, short_participation INTEGER NOT NULL, "
        "short_cycle INTEGER NOT NULL, list_hours TEXT NOT NULL, list_self_selected TEXT NOT NULL, "
        "list_concentrated TEXT NOT NULL, list_designated TEXT NOT NULL, list_elective TEXT NOT NULL, "
        "list_participation TEXT NOT NULL, list_cycle TEXT NOT NULL, overdue_assessments INTEGER NOT NULL, "
        "overdue_assessment_teachers TEXT NOT NULL, overdue_evaluations INTEGER NOT NULL, "
        "overdue_evaluation_teachers TEXT NOT NULL, PRIMARY KEY (year, school_id)"
    ),
    "school_changes": "school_id TEXT PRIMARY KEY, position BIGINT NOT NULL",
    # A cache of the compliance answers of units above the schools (projections/unit_answers.py).
    "unit_years": (
        "year INTEGER NOT NULL, org_id TEXT NOT NULL, today TEXT NOT NULL, policy_version TEXT NOT NULL, "
        "position BIGINT NOT NULL, answer TEXT NOT NULL, summary TEXT NOT NULL, PRIMARY KEY (year, org_id)"
    ),
    # The audit feed's index of the log: an event's id and data are read from the log itself.
    "audit": (
        "position BIGINT PRIMARY KEY, type TEXT NOT NULL, aggregate TEXT NOT NULL, "
        "teacher_no TEXT, org_id TEXT, actor_sub TEXT NOT NULL, actor_role TEXT NOT NULL, recorded_at TEXT NOT NULL, "
        "reason TEXT NOT NULL, occurred_on TEXT NOT NULL, late_entry INTEGER NOT NULL"
    ),
}

# Columns an older trainrec kept that this one no longer writes: tables that still have them are
# rebuilt (rm_audit held a copy of each event's id and data until the audit feed read them from the log).
RETIRED: dict[str, tuple[str, ...]] = {"audit": ("event_id", "data")}

# Each table's primary key, in column order: what the projection's row buffer keys its rows by.
KEYS: dict[str, tuple[str, ...]] = {
    "tracking": ("name",),
    "orgs": ("org_id",),
    "programmes": ("code",),
    "teachers": ("teacher_no",),
    "postings": ("teacher_no", "seq"),
    "enrolments": ("programme_code", "teacher_no"),
    "attendance": ("programme_code", "teacher_no", "session_no"),
    "marks": ("event_id",),
    "starts": ("event_id",),
    "credits": ("credit_id",),
    "prior_hours": ("record_id",),
    "teacher_years": ("teacher_no", "year"),
    "disputes": ("dispute_id",),
    "citations": ("sha256", "cited_by"),
    "audit": ("position",),
}

# Tables that are caches of what the others say rather than the log's effect (never replayed or checked).
CACHES = ("school_years", "school_changes", "unit_years")

INDEXES: list[tuple[str, str]] = [
    ("orgs", "path"),
    ("orgs", "aggregate_id"),
    ("programmes", "aggregate_id"),
    ("teachers", "aggregate_id"),
    ("teachers", "school_id"),
    ("postings", "school_id"),
    ("enrolments", "teacher_no"),
    ("marks", "teacher_no, programme_code"),
    ("starts", "teacher_no, recorded_at"),
    ("enrolments", "ends_on"),
    ("enrolments", "assessment_result, ends_on"),
    ("enrolments", "evaluated_at, ends_on"),
    ("teacher_years", "year"),
    ("credits", "teacher_no, year"),
    ("credits", "year, status"),
    ("prior_hours", "teacher_no, year"),
    ("disputes", "teacher_no"),
    ("audit", "teacher_no, position"),
    ("audit", "actor_sub, position"),
    ("audit", "type, position"),
    ("audit", "recorded_at"),
    ("audit", "late_entry, position"),
]

# Which tables each rebuildable projection owns. `records` owns them all: one event may touch several.
PROJECTIONS = {"records": [name for name in TABLES if name != "tracking"]}


def create_statements(prefix: str, indexes: bool = True) -> list[str]:
    """DDL for one generation of tables (with their secondary indexes unless `indexes` is false:
    a rebuild loads its rows first and indexes them afterwards, which is much faster)."""
    statements = [f"CREATE TABLE IF NOT EXISTS {prefix}{name} ({columns})" for name, columns in TABLES.items()]
    return statements + (index_statements(prefix) if indexes else [])


def index_statements(prefix: str) -> list[str]:
    """The secondary indexes of one generation; index names are unique per generation so a renamed
    generation never collides with the next one's indexes."""
    generation = uuid.uuid4().hex[:8]
    statements = []
    for table, columns in INDEXES:
        suffix = columns.replace(", ", "_")
        statements.append(
            f"CREATE INDEX IF NOT EXISTS ix_{generation}_{table}_{suffix} ON {prefix}{table} ({columns})"
        )
    return statements


def columns(name: str) -> list[str]:
    """The column names of a table, in order."""
    return re.findall(r"(\w+) (?:TEXT|BIGINT|INTEGER)", TABLES[name])
