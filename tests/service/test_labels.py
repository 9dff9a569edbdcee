"""The Chinese labels: every error code the code can emit, every value of the records' vocabulary and
every event type has one; a request preferring Chinese gets the code's label as problem+json `title`."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from enum import StrEnum

import pytest
from fastapi.testclient import TestClient

import domain.vocabulary as vocabulary
from domain.chained import ChainedAggregate
from domain.org import OrgUnit
from domain.programme import Programme
from domain.teacher import Teacher
from service.api.main import create_app
from service.app import TrainRec
from service.labels import CODES, EVENT_TYPES, VOCABULARY, label, prefers_chinese
from service.storage.config import storage_from_url
from tests.service.api.test_api_doc import emitted_codes

ENUMS = {
    "org_kind": vocabulary.OrgKind, "level": vocabulary.Level, "form": vocabulary.Form,
    "selection": vocabulary.Selection, "school_based_content": vocabulary.SchoolBasedContent,
    "result": vocabulary.AssessmentResult, "absence_kind": vocabulary.AbsenceKind, "approver": vocabulary.Approver,
    "departure_kind": vocabulary.DepartureKind, "role": vocabulary.Role,
}


def test_every_code_the_code_can_emit_has_a_chinese_label() -> None:
    codes, _ = emitted_codes()
    assert codes, "the scan found no codes"
    missing = sorted(set(codes) - set(CODES))
    assert not missing, f"codes without a label in service/labels.py: {missing}"


@pytest.mark.parametrize("kind", sorted(ENUMS))
def test_every_value_of_the_vocabulary_has_a_chinese_label(kind: str) -> None:
    enum: type[StrEnum] = ENUMS[kind]
    assert {value.value for value in enum} <= set(VOCABULARY[kind]), kind


def test_every_decision_has_a_label() -> None:
    for enum in (vocabulary.Decision, vocabulary.DisputeDecision):
        assert {value.value for value in enum} <= set(VOCABULARY["decision"])


def _event_classes() -> Iterator[str]:
    for aggregate in (Teacher, Programme, OrgUnit):
        for name, member in inspect.getmembers(aggregate, inspect.isclass):
            if (issubclass(member, ChainedAggregate.Event) and name not in {"Event", "Created"}
                    and member.__qualname__.startswith(aggregate.__name__ + ".")):
                yield name


def test_every_event_type_has_a_chinese_label() -> None:
    names = set(_event_classes())
    assert {"Enrolled", "CreditAwarded", "Registered", "Defined"} <= names, "the class walk is broken"
    assert not sorted(names - set(EVENT_TYPES)), sorted(names - set(EVENT_TYPES))


def test_label_falls_back_to_the_value_itself() -> None:
    assert label("level", "county") == "县级"
    assert label("level", "B0001") == "B0001"
    assert label("rule", None) == ""


@pytest.mark.parametrize(("header", "chinese"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", True),
    ("zh", True),
    ("en-US,en;q=0.9,zh-CN;q=0.8", False),
    ("en;q=0.5,zh;q=0.6", True),
    ("fr,zh;q=0.4", True),  # no English ranked above: Chinese is the first the service speaks
    ("*;q=0.9,zh;q=0.1", False),
    ("zh;q=0,en", False),
    ("zh;q=abc", False),
    ("", False),
    (None, False),
])
def test_prefers_chinese_reads_accept_language_weights(header: str | None, chinese: bool) -> None:
    assert prefers_chinese(header) is chinese


@pytest.fixture
def client() -> Iterator[TestClient]:
    service = TrainRec(storage_from_url("memory://"))
    with TestClient(create_app(service, "test-secret-0123456789-0123456789-abcdef")) as c:
        yield c
    service.close()


def test_a_problem_has_a_chinese_title_when_the_request_prefers_chinese(client: TestClient) -> None:
    english = client.get("/api/v1/teachers/B1/transcript")
    chinese = client.get("/api/v1/teachers/B1/transcript", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert english.status_code == chinese.status_code == 401
    assert english.json()["title"] == "Not authenticated"
    assert chinese.json()["title"] == "请先登录"
    assert chinese.json()["code"] == english.json()["code"] == "unauthenticated"
    missing = client.get("/nowhere", headers={"Accept-Language": "zh"})
    assert (missing.status_code, missing.json()["title"]) == (404, "页面或资源不存在")
