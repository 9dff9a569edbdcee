"""`as_of` as a date: the end of that day in Asia/Shanghai, on the transcript over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from service.application.values import as_of_instant
from tests.conftest import ADMIN, PROVIDER, Clock, build_county, define
from tests.service.api.conftest import bearer

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_date_means_the_end_of_that_day_in_shanghai() -> None:
    end = as_of_instant("2025-12-31", SHANGHAI)
    assert end == datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert end.astimezone(UTC) == datetime(2025, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)
    assert as_of_instant("2025-07-01T00:00:00+08:00", SHANGHAI) == datetime(2025, 6, 30, 16, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2024-02-30", "2024-3-6", "9999-12-31", "1899-12-31", "not-a-date",
                                  "2024-03-06T12:00:00", "20240306"])
def test_what_is_neither_a_date_nor_an_instant_with_offset_is_refused(text: str) -> None:
    with pytest.raises(Exception) as caught:
        as_of_instant(text, SHANGHAI)
    assert getattr(caught.value, "code", None) == "invalid_instant"


def test_the_transcript_as_of_a_date_counts_what_was_recorded_by_its_end(
        client: TestClient, service: TrainRec, clock: Clock) -> None:
    """The credit is recorded on 2024-03-06 at 17:00 Shanghai: as of 03-05 there is none; as of
    03-06 (its end) there is, as with the instant 23:59:59.999999+08:00 that day."""
    build_county(service)
    define(service, "K1")
    service.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 6), hour=17)
    service.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    service.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.EXCELLENT)
    service.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    admin = bearer(ADMIN)

    def transcript(as_of: str) -> dict[str, object]:
        answer = client.get("/api/v1/teachers/A001/transcript", params={"as_of": as_of}, headers=admin)
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    assert transcript("2024-03-05")["lines"] == []
    by_date = transcript("2024-03-06")
    assert len(by_date["lines"]) == 1  # type: ignore[arg-type]
    assert by_date["as_of"] == "2024-03-06T23:59:59.999999+08:00"
    by_instant = transcript("2024-03-06T23:59:59.999999+08:00")
    assert {k: v for k, v in by_date.items() if k != "as_of"} == {k: v for k, v in by_instant.items() if k != "as_of"}
    refused = client.get("/api/v1/teachers/A001/transcript", params={"as_of": "2024-02-30"}, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_instant"
