"""An event's main data in Chinese words, as the history, the audit feed and the disputes desk show
it: who and what it names (programme codes and titles, hours, results, decisions), never the raw
field names. An event type without words here shows none (its type label says what it was)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from service.labels import label
from service.pages.render import hours


def _programme(data: Mapping[str, Any]) -> str:
    """The programme an event names: `K1《title》` when the event carries its facts, else the code."""
    facts = data.get("programme")
    if isinstance(facts, Mapping):
        title = facts.get("title")
        return f"{facts.get('code', '')}《{title}》" if title else str(facts.get("code", ""))
    return str(data.get("programme_code") or data.get("code") or "")


def _registered(d: Mapping[str, Any]) -> str:
    if "teacher_no" in d:
        hired = f"，入职日期 {d['hired_on']}" if d.get("hired_on") else ""
        return f"{d.get('name', '')}（工号 {d['teacher_no']}），学校 {d.get('school_id', '')}{hired}"
    parent = f"，上级 {d['parent_id']}" if d.get("parent_id") else ""
    return f"{d.get('name', '')}（{label('org_kind', d.get('kind'))}，编号 {d.get('org_id', '')}）{parent}"


def _corrected(d: Mapping[str, Any]) -> str:
    parts = []
    if d.get("name") is not None:
        parts.append(f"姓名改为 {d['name']}")
    if d.get("hired_on") is not None:
        parts.append(f"入职日期改为 {d['hired_on']}")
    return "；".join(parts)


def _enrolled(d: Mapping[str, Any]) -> str:
    facts = d.get("programme") if isinstance(d.get("programme"), Mapping) else {}
    text = f"报名 {_programme(d)}"
    if facts and facts.get("hours") is not None:
        text += f"，{hours(facts['hours'])} 学时"
    if d.get("substitutes_for"):
        text += f"，替换 {d['substitutes_for']} 参训"
    return text


def _absence(d: Mapping[str, Any]) -> str:
    text = f"{_programme(d)}：{label('absence_kind', d.get('kind'))}"
    if d.get("substitute_teacher_no"):
        text += f"，替换人 {d['substitute_teacher_no']}"
    return text


def _attendance(d: Mapping[str, Any]) -> str:
    text = f"{_programme(d)} 第 {d.get('session_no', '')} 次课：{'出勤' if d.get('present') else '缺勤'}"
    if d.get("corrects"):
        text += "（更正此前记录）"
    return text


def _assessed(d: Mapping[str, Any]) -> str:
    text = (f"{_programme(d)}：{label('result', d.get('result'))}（学习态度 {d.get('attitude', '')} 分，"
            f"作业 {d.get('assignments', '')} 分")
    if d.get("attendance_rate") is not None:
        text += f"，到课率 {float(d['attendance_rate']) * 100:.0f}%"
    return text + "）" + ("，逾期考核" if d.get("late") else "")


def _evaluated(d: Mapping[str, Any]) -> str:
    return (f"{_programme(d)}：培训形式 {d.get('form', '')} 分，师资 {d.get('instructors', '')} 分，"
            f"组织管理 {d.get('management', '')} 分" + ("，逾期评价" if d.get("late") else ""))


def _credit(d: Mapping[str, Any]) -> str:
    text = f"{_programme(d)} 认定 {hours(d.get('hours'))} 学时（{d.get('year', '')} 年度）"
    evidence = d.get("evidence")
    if isinstance(evidence, Mapping) and evidence.get("dispute_id"):
        text += f"，依申诉 {evidence['dispute_id']}"
    return text


def _revoked(d: Mapping[str, Any]) -> str:
    text = f"撤销学时记录 {d.get('credit_id', '')}"
    return text + (f"（申诉 {d['dispute_id']} 处理）" if d.get("dispute_id") else "")


def _dispute_opened(d: Mapping[str, Any]) -> str:
    evidence = d.get("evidence") or []
    return (f"就 {_programme(d)} 提出申诉 {d.get('dispute_id', '')}：{d.get('claim', '')}"
            + (f"（证明材料 {len(evidence)} 份）" if evidence else ""))


def _dispute_resolved(d: Mapping[str, Any]) -> str:
    text = f"申诉 {d.get('dispute_id', '')}：{label('decision', d.get('decision'))}"
    if d.get("award_hours") is not None:
        text += f"，认定 {hours(d['award_hours'])} 学时"
    return text


def _prior(d: Mapping[str, Any]) -> str:
    return f"{d.get('year', '')} 年度历史学时 {hours(d.get('hours'))} 学时，来源：{d.get('source', '')}"


def _defined(d: Mapping[str, Any]) -> str:
    return (f"{d.get('code', '')}《{d.get('title', '')}》，{hours(d.get('hours'))} 学时，"
            f"{label('level', d.get('level'))}{label('form', d.get('form'))}，"
            f"{label('selection', d.get('selection'))}")


def _certificate(d: Mapping[str, Any]) -> str:
    what = f"{d['year']} 年度" if d.get("year") is not None else f"项目 {d.get('programme_code', '')}"
    return f"开具学时证明 {d.get('certificate_no', '')}：{what}，{hours(d.get('hours'))} 学时"


WORDS: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "Registered": _registered,
    "Renamed": lambda d: f"名称改为 {d.get('name', '')}",
    "Transferred": lambda d: (f"从 {d.get('from_school_id', '')} 调往 {d.get('to_school_id', '')}，"
                              f"生效日期 {d.get('effective_on', '')}"),
    "Corrected": _corrected,
    "Departed": lambda d: (f"{label('departure_kind', d.get('kind'))}，生效日期 {d.get('effective_on', '')}，"
                           f"原学校 {d.get('school_id', '')}"),
    "Enrolled": _enrolled,
    "EnrolmentWithdrawn": lambda d: f"退选 {_programme(d)}",
    "AbsenceRequested": _absence,
    "AbsenceDecided": lambda d: (f"{_programme(d)}：{label('approver', d.get('by'))}审批"
                                 f"{label('decision', d.get('decision'))}"),
    "AttendanceRecorded": _attendance,
    "Assessed": _assessed,
    "Evaluated": _evaluated,
    "CreditAwarded": _credit,
    "CreditRevoked": _revoked,
    "DisputeOpened": _dispute_opened,
    "DisputeResolved": _dispute_resolved,
    "PriorHoursRecorded": _prior,
    "PriorHoursRevoked": lambda d: f"撤销历史学时记录 {d.get('record_id', '')}",
    "CertificateIssued": _certificate,
    "Defined": _defined,
    "Resubmitted": _defined,
    "Decided": lambda d: f"审批结果：{label('decision', d.get('decision'))}",
    "SeatTaken": lambda d: f"教师 {d.get('teacher_no', '')} 占用名额",
    "SeatFreed": lambda d: f"教师 {d.get('teacher_no', '')} 释放名额",
    "SeatPassed": lambda d: f"名额由 {d.get('from_teacher_no', '')} 转给 {d.get('to_teacher_no', '')}",
    "SessionRescheduled": lambda d: (f"第 {d.get('session_no', '')} 次课由 {d.get('from_on', '')} "
                                     f"改至 {d.get('on', '')}"),
    "SessionCancelled": lambda d: f"取消第 {d.get('session_no', '')} 次课（{hours(d.get('hours'))} 学时）",
}


def describe(event_type: str, data: Any) -> str:
    """The words of an event's data ("" when there are none to say)."""
    if not isinstance(data, Mapping):
        return ""
    if data.get("hidden_until") == "evaluated":
        return f"{_programme(data)}：评价该项目后可见"
    words = WORDS.get(event_type)
    if words is None:
        return ""
    try:
        return words(data)
    except (TypeError, ValueError):  # an older shape of the event: its type label still says what it was
        return ""
