"""Evidence files in the service, on memory, SQLite and PostgreSQL: kept once by sha256, read by
those whose scope covers a record citing them (disputes and earlier hours alike), kept through a
rebuild of the read model, whose citations are the log's."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from domain.errors import DomainError
from projections.check import check
from service.app import TrainRec
from service.storage.config import storage_from_url
from tests.conftest import (
    ADMIN,
    COUNTY_SUP,
    OTHER_SCHOOL_ADMIN,
    SCHOOL_ADMIN,
    TOWN_SUP,
    Backend,
    Clock,
    build_county,
    teacher_actor,
)

PDF = b"%PDF-1.7\n%evidence\n%%EOF\n"
SHA = hashlib.sha256(PDF).hexdigest()


def refusal(call: object) -> tuple[str, str]:
    with pytest.raises(DomainError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code, caught.value.detail


def test_a_file_is_kept_once_and_read_by_whoever_covers_a_record_citing_it(county: TrainRec) -> None:
    first = county.keep_evidence(COUNTY_SUP, "C:\\扫描件\\旧平台学时证明.pdf", PDF)
    assert (first.new, first.file.sha256, first.file.name, first.file.size) == (True, SHA, "旧平台学时证明.pdf",
                                                                               len(PDF))
    assert county.keep_evidence(SCHOOL_ADMIN, "again.pdf", PDF, stated_sha256=SHA).new is False
    assert county.evidence_file(SCHOOL_ADMIN, SHA).content == PDF  # an uploader, before anything cites it
    assert refusal(lambda: county.evidence_file(TOWN_SUP, SHA)) == (
        "forbidden_scope", f"evidence {SHA} is outside your scope")

    county.record_prior_hours(COUNTY_SUP, "A001", 2023, Decimal(80), "省继续教育旧平台",
                              [{"name": "旧平台学时证明.pdf", "sha256": SHA}], "平台迁移")
    assert county.evidence_file(TOWN_SUP, SHA).name == "旧平台学时证明.pdf"  # A001 is at S1, in T1
    assert county.evidence_file(teacher_actor("A001"), SHA).media_type == "application/pdf"
    assert refusal(lambda: county.evidence_file(OTHER_SCHOOL_ADMIN, SHA))[0] == "forbidden_scope"
    assert refusal(lambda: county.evidence_file(teacher_actor("A002"), SHA))[0] == "forbidden_scope"

    # a rebuilt read model cites the same files, and the files themselves stay
    county.read_model.rebuild()
    assert county.evidence_file(TOWN_SUP, SHA).content == PDF
    assert check(county.read_model)[1] == []
    rows = county.read_model.db.query(f"SELECT sha256, teacher_no FROM {county.read_model.prefix}citations")
    assert rows == [(SHA, "A001")]


def test_keeping_refusals(county: TrainRec) -> None:
    assert refusal(lambda: county.keep_evidence(ADMIN, "a.pdf", PDF, stated_sha256="f" * 64))[0] == "evidence_mismatch"
    assert refusal(lambda: county.keep_evidence(ADMIN, "a.txt", b"plain text"))[0] == "evidence_type_refused"
    assert refusal(lambda: county.evidence_file(ADMIN, "f" * 64))[0] == "evidence_not_found"
    assert county.evidence.get(SHA) is None


def test_a_store_from_before_citations_is_rebuilt_with_them(durable_backend: Backend, clock: Clock) -> None:
    """A read model of an earlier trainrec has no rm_citations: opening the store rebuilds it from
    the log, so files cited before the upgrade are readable in scope at once."""
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    app.keep_evidence(COUNTY_SUP, "证明.pdf", PDF)
    app.record_prior_hours(COUNTY_SUP, "A001", 2023, Decimal(80), "旧平台", [{"name": "证明.pdf", "sha256": SHA}],
                           "平台迁移")
    with app.read_model.db.transaction() as tx:
        tx.execute(f"DROP TABLE {app.read_model.prefix}citations")
    app.close()
    again = TrainRec(storage_from_url(storage.url), clock=clock)
    try:
        assert again.evidence_file(TOWN_SUP, SHA).content == PDF
    finally:
        again.close()
