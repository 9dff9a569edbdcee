"""The transcript as a CLR 2.0 `ClrCredential` (a W3C Verifiable Credential, data model 2.0): a pure
function of the transcript, its issuer and the instant of issue.

The subject (`ClrSubject`) is the teacher, named by 工号 and name; each valid credit and each valid
record of earlier hours (历史学时) is one Open Badges 3.0 `AchievementCredential` in
`credentialSubject.verifiableCredential`, whose `AchievementSubject` holds the hours
(`creditsEarned`, in 学时), the year (`term`), the date of award (`awardedDate`), the certifier
(`source`) and the event that recorded it (`evidence`), and whose `Achievement` holds the programme:
name, level, form and selection. The totals per year and per cycle are those of the transcript, so
they equal the sum of the achievements' hours by year. Terms the 1EdTech contexts do not define are
defined by the inline context `TERMS`. Revoked lines earn nothing and are left out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from service.labels import FORMS, LEVELS, ROLES, SELECTIONS

VC_V2 = "https://www.w3.org/ns/credentials/v2"
CLR_V2 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VOCAB = "urn:trainrec:vocab#"
TERMS: dict[str, Any] = {
    "trainrec": VOCAB,
    "asOf": {"@id": "trainrec:asOf", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
    "checkpoint": "trainrec:checkpoint",
    "policyVersion": "trainrec:policyVersion",
    "schoolId": "trainrec:schoolId",
    "hoursByYear": "trainrec:hoursByYear",
    "cycle": "trainrec:cycle",
    "level": "trainrec:level",
    "form": "trainrec:form",
    "selection": "trainrec:selection",
}
CONTEXT: list[Any] = [VC_V2, CLR_V2, OB_V3, TERMS]
LINE_CONTEXT: list[Any] = [VC_V2, OB_V3, TERMS]
CRITERIA = ("经授权认定人在考核合格后认定的培训学时（学时认定），每名教师每个培训项目认定一次，"
            "不超过项目学时。")
PRIOR_CRITERIA = "在此前的平台上认定、经县级以上主管部门登记的历史学时。"


def teacher_urn(teacher_no: str) -> str:
    return f"urn:trainrec:teacher:{teacher_no}"


def org_urn(org_id: str) -> str:
    return f"urn:trainrec:org:{org_id}"


def instant(moment: datetime) -> str:
    """An instant as VC 2.0 writes it: UTC, to the second (`2024-02-20T02:00:00Z`)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def clr_credential(
    transcript: Mapping[str, Any],
    issuer: Mapping[str, str],
    issued_at: datetime,
    *,
    credential_id: str,
    zone: ZoneInfo,
    as_of: datetime | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The credential for `transcript` (as `transcript` answers it), issued by `issuer` (`id`, `name`:
    the county or region of the teacher's school) at `issued_at`. `as_of`: the instant the transcript
    stands at (default: the instant of issue). `checkpoint`: the transparency checkpoint the credential
    was issued under, recorded as it is given."""
    profile = {"id": org_urn(issuer["id"]), "type": ["Profile"], "name": issuer["name"]}
    subject_id = teacher_urn(str(transcript["teacher_no"]))
    valid_from = instant(issued_at)
    lines = [_credit(line, profile, subject_id, valid_from, zone) for line in transcript["lines"]
             if line.get("status", "valid") == "valid"]
    lines += [_prior(record, profile, subject_id, valid_from) for record in transcript.get("prior", [])
              if record.get("status", "valid") == "valid"]
    totals = transcript["totals"]
    name = transcript.get("name") or transcript["teacher_no"]
    credential: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": profile,
        "validFrom": valid_from,
        "name": f"{name} 培训学时档案",
        "description": f"{name}（工号 {transcript['teacher_no']}）的教师继续教育培训学时档案，"
                       f"截至 {instant(as_of or issued_at)}，由 {issuer['name']} 签发。",
        "asOf": instant(as_of or issued_at),
        "policyVersion": transcript.get("policy_version"),
        "credentialSubject": {
            "id": subject_id,
            "type": ["ClrSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "identifier", "hashed": False,
                 "identityHash": str(transcript["teacher_no"])},
                {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": str(name)},
            ],
            "schoolId": transcript.get("school_id"),
            "achievement": [line["credentialSubject"]["achievement"] for line in lines],
            "verifiableCredential": lines,
            "hoursByYear": [
                {"year": int(year), "hours": t["hours"], "selfSelected": t["self_selected"],
                 "schoolBased": t["school_based"], "concentrated": t["concentrated"]}
                for year, t in sorted(totals["by_year"].items())
            ],
            "cycle": {"startYear": totals["cycle"]["start_year"], "endYear": totals["cycle"]["end_year"],
                      "hours": totals["cycle"]["hours"], "required": totals["cycle"]["required"]},
        },
    }
    if checkpoint is not None:
        credential["checkpoint"] = dict(checkpoint)
    return credential


def _credit(line: Mapping[str, Any], issuer: dict[str, Any], subject_id: str, valid_from: str,
            zone: ZoneInfo) -> dict[str, Any]:
    code, level, form, selection = line["programme_code"], line["level"], line["form"], line["selection"]
    title = line.get("title") or code
    awarded_on = datetime.fromisoformat(str(line["awarded_on"])[:10]).date()
    certifier = str(line.get("certified_by") or "")
    role = str(line.get("certifier_role") or "")
    achievement = {
        "id": f"urn:trainrec:programme:{code}",
        "type": ["Achievement"],
        "achievementType": "LearningProgram",
        "humanCode": code,
        "name": title,
        "description": f"{title}（{LEVELS.get(level, level)} · {FORMS.get(form, form)} · "
                       f"{SELECTIONS.get(selection, selection)}）",
        "criteria": {"narrative": CRITERIA},
        "tag": [LEVELS.get(level, level), FORMS.get(form, form), SELECTIONS.get(selection, selection)],
        "level": level,
        "form": form,
        "selection": selection,
    }
    return {
        "@context": LINE_CONTEXT,
        "id": f"urn:trainrec:credit:{line['credit_id']}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "awardedDate": instant(datetime.combine(awarded_on, time(0), zone)),
        "name": f"{title} {line['hours']} 学时",
        "credentialSubject": {
            "id": subject_id,
            "type": ["AchievementSubject"],
            "achievement": achievement,
            "creditsEarned": line["hours"],
            "term": str(line["year"]),
            "source": {"id": f"urn:trainrec:actor:{certifier}", "type": ["Profile"], "name": certifier,
                       "description": f"学时认定人（{ROLES.get(role, role)}）"},
        },
        "evidence": [{"id": f"urn:trainrec:event:{line['event_id']}", "type": ["Evidence"],
                      "name": "学时认定事件", "description": f"认定于 {awarded_on.isoformat()}"}],
    }


def _prior(record: Mapping[str, Any], issuer: dict[str, Any], subject_id: str, valid_from: str) -> dict[str, Any]:
    name = f"{record['year']} 年历史学时（{record['source']}）"
    achievement = {
        "id": f"urn:trainrec:prior:{record['record_id']}",
        "type": ["Achievement"],
        "achievementType": "Achievement",
        "name": name,
        "description": name,
        "criteria": {"narrative": PRIOR_CRITERIA},
    }
    return {
        "@context": LINE_CONTEXT,
        "id": f"urn:trainrec:prior-hours:{record['record_id']}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "name": f"{name} {record['hours']} 学时",
        "credentialSubject": {
            "id": subject_id,
            "type": ["AchievementSubject"],
            "achievement": achievement,
            "creditsEarned": record["hours"],
            "term": str(record["year"]),
        },
        "evidence": [{"id": f"urn:trainrec:event:{record['event_id']}", "type": ["Evidence"],
                      "name": "历史学时登记事件"}],
    }
