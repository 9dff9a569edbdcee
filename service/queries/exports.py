"""Reports as Excel workbooks (`compliance.xlsx`, `roster.xlsx`): the same reads, scopes and
refusals as the JSON answers, with names, written by service/exports/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.actor import Actor
from domain.errors import Unavailable
from domain.programme import Programme
from service.auth.scopes import Kind
from service.exports.compliance_book import compliance_workbook
from service.exports.roster_book import roster_workbook
from service.exports.xlsx import content_disposition
from service.queries.reports import ReportQueries


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str  # the name a person sees (Chinese)
    fallback: str  # ASCII, for clients that read only `filename`

    @property
    def disposition(self) -> str:
        return content_disposition(self.filename, self.fallback)


class ExportQueries(ReportQueries):
    def compliance_xlsx(self, actor: Actor, org_id: str, year: int, as_of: datetime | None = None) -> Download:
        """The unit's compliance (as `compliance`, with `as_of` too) and every teacher behind each of
        its shortfalls, not only the first 50 an answer names."""
        made_at = self.clock()
        answer = self.compliance(actor, org_id, year, as_of)  # scopes, year, existence: as the JSON's
        at = None if as_of is None else datetime.fromisoformat(answer["as_of"])
        reports, _ = self.fresh_reports()
        today = self.policy.local_date(at if at is not None else made_at)
        sheets = reports.shortfall_sheets(org_id, year, today, at)
        if sheets is None:
            raise Unavailable("projection_behind", f"org {org_id} is recorded but not yet in the read model")
        school_ids = sorted({t["school_id"] for teachers in sheets.values() for t in teachers})
        if at is None:
            schools = self.org_names(school_ids)
        else:  # named as they were then, as the answer's units are
            self._teacher_names_as_of(reports, {"shortfalls": [{"teachers": t} for t in sheets.values()]}, at)
            schools = {school: name for school in school_ids if (name := self._org_name_as_of(school, at))}
        content = compliance_workbook(answer, sheets, schools, made_at, at)
        name = answer.get("name") or org_id
        return Download(content, f"{name}{year}年度培训合规报表.xlsx", f"compliance-{org_id}-{year}.xlsx")

    def roster_xlsx(self, actor: Actor, code: str) -> Download:
        """The programme's roster (as `roster`, now) with each session's marks and the hours credited."""
        made_at = self.clock()
        roster = self.roster(actor, code)  # scopes and existence: as the JSON's
        marks = self.roster_marks(actor, code)
        programme = self.lookup(actor, Programme, Kind.PROGRAMME, code)
        sessions: list[dict[str, Any]] = [dict(s) for s in programme.sessions]
        schools = self.org_names([e["school_id"] for e in roster["enrolled"]])
        content = roster_workbook(roster, sessions, marks["attendance"], marks["credited"], schools, made_at)
        return Download(content, f"{roster['title']}花名册.xlsx", f"roster-{code}.xlsx")
