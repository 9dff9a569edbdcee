"""`TrainRec`: the one eventsourcing Application of trainrec, with every command and query."""

from __future__ import annotations

from typing import Any

from service.commands.accounts import AccountCommands
from service.commands.certificates import CertificateCommands
from service.commands.evidence import EvidenceFiles
from service.commands.lifecycle import LifecycleCommands
from service.commands.prior_hours import PriorHoursCommands
from service.commands.programmes import ProgrammeCommands
from service.commands.results import RecordCommands
from service.commands.staff import StaffCommands
from service.queries.audit import AuditQueries
from service.queries.exports import ExportQueries
from service.queries.lists import ListQueries
from service.queries.printing import PrintQueries
from service.transparency.queries import TransparencyQueries


class TrainRec(AccountCommands, StaffCommands, ProgrammeCommands, RecordCommands, PriorHoursCommands,
               LifecycleCommands, EvidenceFiles, CertificateCommands, AuditQueries, ListQueries, ExportQueries,
               PrintQueries, TransparencyQueries):
    """All records of a region in one event store, so one command can save several aggregates
    (an attendance sheet, a substitution) in one transaction."""

    def connection_pools(self) -> dict[str, Any]:
        """The psycopg pools of this application by name (PostgreSQL only): `events` (eventsourcing's
        recorder) and `read_model` (the read model's tables)."""
        pools: dict[str, Any] = {}
        events = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if hasattr(events, "get_stats"):
            pools["events"] = events
        read = getattr(self.read_model.db, "pool", None)
        if hasattr(read, "get_stats"):
            pools["read_model"] = read
        return pools
