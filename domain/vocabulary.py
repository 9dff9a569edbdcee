"""Enumerations of the public contract (docs/api.md): their values are stored in events."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWN = "town"
    SCHOOL = "school"
    PROVIDER = "provider"


class Level(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    COUNTY = "county"
    SCHOOL = "school"


class Form(StrEnum):
    CONCENTRATED = "concentrated"
    ONLINE = "online"
    SCHOOL_BASED = "school_based"
    OUTREACH = "outreach"
    WORKSHOP = "workshop"
    SHADOWING = "shadowing"


class Selection(StrEnum):
    SELF_SELECTED = "self_selected"
    MANDATED = "mandated"
    SCHOOL_BASED = "school_based"


class SchoolBasedContent(StrEnum):
    DESIGNATED = "designated"
    ELECTIVE = "elective"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class AbsenceKind(StrEnum):
    LEAVE = "leave"
    SUBSTITUTION = "substitution"


class Approver(StrEnum):
    SCHOOL = "school"
    PROVIDER = "provider"


class AssessmentResult(StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"  # noqa: S105
    FAIL = "fail"


class DisputeDecision(StrEnum):
    UPHELD = "upheld"
    REJECTED = "rejected"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    SCHOOL_ADMIN = "school_admin"
    PROVIDER = "provider"
    TEACHER = "teacher"
    AUDITOR = "auditor"


class DepartureKind(StrEnum):
    RETIRED = "retired"
    LEFT = "left"
    DECEASED = "deceased"
    OTHER = "other"
