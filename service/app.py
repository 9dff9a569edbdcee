"""`TrainRec`: the one eventsourcing Application of trainrec, with every command and query."""

from __future__ import annotations

from service.commands.programmes import ProgrammeCommands
from service.commands.results import RecordCommands
from service.commands.staff import StaffCommands
from service.queries.audit import AuditQueries


class TrainRec(StaffCommands, ProgrammeCommands, RecordCommands, AuditQueries):
    """All records of a region in one event store, so one command can save several aggregates
    (an attendance sheet, a substitution) in one transaction."""
