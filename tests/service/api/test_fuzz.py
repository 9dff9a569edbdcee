"""Property tests over the OpenAPI schema of the app: no input, however wrong, gets a 5xx.

Two generators, both driven by `GET /openapi.json` of the running app:
- schemathesis (stateless, positive and negative modes, check `not_a_server_error`);
- our own hypothesis strategies: valid bodies built from the schema (with the ids of a real county,
  so requests reach the domain) and then broken: random JSON, wrong enum values, huge strings (to
  3 MB), impossible dates, negative and huge numbers, unknown ids, missing and extra fields; path
  parameters in Chinese, percent-encoded junk or traversal; junk query parameters.

Every request runs with an admin token so that it reaches validation and the domain, and every
answer must be: not 5xx; a 4xx is application/problem+json with a `code`; a refused write and any
read record nothing. Runs on the in-memory backend (its read model is SQLite), derandomized.

The bugs the fuzzing found (all fixed) are pinned by the explicit tests at the end, on every
backend; the random runs include the inputs that found them.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from domain.vocabulary import AssessmentResult, Decision, Form, Level, SchoolBasedContent, Selection
from service.api.main import create_app
from service.app import TrainRec
from service.printing.font import font_missing_reason
from service.signing.keys import KeyRing
from service.storage.config import storage_from_url
from tests.conftest import ADMIN, PROVIDER, Backend, Clock, build_county, define, require_postgres, teacher_actor
from tests.service.api.conftest import SECRET, bearer

PROBLEM = "application/problem+json"
ADMIN_HEADERS = bearer(ADMIN)
FUZZ_SETTINGS = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.large_base_example],
)


# --- the world the fuzzer acts in ------------------------------------------------------------------
@dataclass
class Fuzz:
    service: TrainRec
    client: TestClient
    known: dict[str, list[Any]] = field(default_factory=dict)

    def head(self) -> int:
        return self.service.recorder.max_notification_id() or 0


def _build(clock: Clock) -> Fuzz:
    service = TrainRec(storage_from_url("memory://"), clock=clock)
    build_county(service)
    define(service, "K1")
    define(service, "K2", selection=Selection.MANDATED, capacity=2)
    define(service, "SB1", level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
           content=SchoolBasedContent.ELECTIVE, provider_id="S1", owner_org_id="S1")
    service.decide_programme(ADMIN, "SB1", Decision.APPROVED, "")
    for no in ("A001", "A002", "A003"):
        service.enrol(ADMIN, "K1", no)
    service.enrol(ADMIN, "SB1", "A001")
    clock.set(date(2024, 3, 6), hour=17)
    service.record_attendance(PROVIDER, "K1", 1, ["A001", "A002"], [])
    service.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.GOOD)
    credit_id = service.award_credit(PROVIDER, "K1", "A001", Decimal(24)).body["credit_id"]
    dispute_id = service.open_dispute(teacher_actor("A002"), "A002", "K1", "应认定学时",
                                      [{"name": "a.pdf", "sha256": "b" * 64}]).body["dispute_id"]
    record_id = service.record_prior_hours(ADMIN, "A001", 2022, Decimal(40), "旧平台",
                                           [{"name": "a.pdf", "sha256": "b" * 64}], "平台迁移").body["record_id"]
    certificate_no = service.issue_certificate(ADMIN, "A001", year=2022).body["certificate_no"]  # the 40 h of 2022
    client = TestClient(create_app(service, SECRET), raise_server_exceptions=False)
    known = {
        "teacher_no": ["A001", "A002", "A003", "B001", "C001", "N001"],
        "substitute_teacher_no": ["A003", "B001", "A002"],
        "school_id": ["S1", "S2", "S3"],
        "to_school_id": ["S2", "S3", "S1"],
        "provider_id": ["P1", "S1", "P2"],
        "owner_org_id": ["C1", "S1", "T1"],
        "parent_id": ["C1", "T1", "T2"],
        "org_id": ["C1", "T1", "S1", "P1", "NEWORG"],
        "code": ["K1", "K2", "SB1", "NEWP"],
        "programme_code": ["K1", "SB1", "K2"],
        "credit_id": [credit_id, "C-0000000000000000"],
        "dispute_id": [dispute_id, "D-0000000000000000"],
        "record_id": [record_id, "H-0000000000000000"],
        "certificate_no": [certificate_no, "ZM-0000000000000000"],
        "no": [1, 2, 3],
        "type": ["Registered", "Enrolled", "CreditAwarded"],
        "actor": ["admin", "p1"],
        "event_id": [service.audit_events(ADMIN, limit=1)["events"][0]["id"], "00000000-0000-5000-8000-000000000000"],
    }
    return Fuzz(service, client, known)


@pytest.fixture(autouse=True)
def _key_ring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key ring that signs credentials, in the test's folder, its key valid at the clock's 2024."""
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "data"))
    KeyRing.open(tmp_path / "data").rotate("credential", datetime(2024, 1, 1, tzinfo=UTC))


@pytest.fixture
def fuzz(clock: Clock) -> Iterator[Fuzz]:
    world = _build(clock)
    yield world
    world.service.close()


def _openapi() -> dict[str, Any]:
    service = TrainRec(storage_from_url("memory://"))
    try:
        spec: dict[str, Any] = TestClient(create_app(service, SECRET)).get("/openapi.json").json()
        return spec
    finally:
        service.close()


OPENAPI = _openapi()  # only to name the parametrised cases; each test reads the app's own schema again
OPERATIONS = [(method.upper(), path) for path, ops in OPENAPI["paths"].items() for method in ops]


def _negatable(method: str, path: str) -> bool:
    """Has something schemathesis can make invalid: a body, a path or a query parameter."""
    operation = OPENAPI["paths"][path][method.lower()]
    return "requestBody" in operation or any(p["in"] in ("path", "query") for p in operation.get("parameters", []))


SCHEMATHESIS_CASES = [
    pytest.param(method, path, mode, id=f"{method} {path}-{mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _negatable(method, path)
]


# --- what a good answer is ---------------------------------------------------------------------------
def _header(headers: Any, name: str) -> str:
    value = headers.get(name) or headers.get(name.title()) or ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


def check_answer(method: str, status: int, headers: Any, body: bytes, before: int, after: int, what: str) -> None:
    if status == 503 and font_missing_reason() is not None and b'"pdf_unavailable"' in body:
        return  # a PDF on a machine without the CJK font (CI has it: there this never passes)
    assert status < 500, f"{what} → {status}: {body[:500]!r}"
    if 400 <= status < 500:
        assert _header(headers, "content-type").startswith(PROBLEM), f"{what} → {status} not problem+json"
        problem = json.loads(body)
        assert isinstance(problem.get("code"), str), f"{what} → {status} problem without code: {problem}"
        assert problem["code"], problem
        assert problem.get("status") == status, problem
    if method == "GET" or status >= 400:
        assert after == before, f"{what} → {status} recorded {after - before} events"


# --- 1. schemathesis, stateless ---------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "mode"), SCHEMATHESIS_CASES)
def test_schemathesis_no_server_errors(fuzz: Fuzz, method: str, path: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz.client.app)
    operation = schema[path][method]
    strategy = operation.as_strategy(mode)

    @FUZZ_SETTINGS
    @given(case=strategy)
    def run(case: Any) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = {**headers, **ADMIN_HEADERS}
        before = fuzz.head()
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error], headers=case.headers)
        check_answer(method, response.status_code, response.headers, response.content, before, fuzz.head(),
                     f"{method} {case.formatted_path} {case.query} {str(case.body)[:200]}")

    run()


# --- 2. our own strategies from the schema ------------------------------------------------------------
CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
IMPOSSIBLE_DATES = ["2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "0000-01-01",
                    "10000-01-01", "2024-1-1", "20240301", "二〇二四年三月", "2024-03-01T00:00:00", "", " ",
                    "0001-01-01", "9999-12-31", "2024-03-06\u0000"]
ODD_NUMBERS = [-1, 0, -0.0, 0.04, 0.05, 1e-9, 2000.1, 2001, 10**6, 10**30, -(10**30), 2**63, 1e308, -1e308,
               float("nan"), float("inf"), float("-inf"), "24", "二十四", "1e3", "NaN", "Infinity", " 8 ",
               "0x10", True, [], {}]
HUGE_SIZES = [255, 256, 4001, 65_536, 1_000_000, 2_100_000, 3_000_000]
JUNK_PATHS = ["%zz", "%", "%E4%B8", "%FF%FE", "%00", "..%2F..%2Fetc", "%2e%2e", "a%2Fb", "%20", "%0A", "%C0%AF",
              "%F0%9F%92%A9", "%25%25"]
DATES_NEAR = st.integers(-30, 60).map(lambda d: (date(2024, 3, 1) + timedelta(days=d)).isoformat())
INSTANT_VALUES = [
    "2024-03-06T12:00:00+08:00", "2024-01-01T00:00:00Z", "2024-03-06T12:00:00", "2024-02-30T00:00:00+08:00",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "not-a-date", "1709700000", "-1", "2024-03-06T25:00:00Z",
    "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2024-03-06T12:00:00+24:00", "2024-03-06 12:00+08",
    "2024-03-06", "9999-12-31", "0001-01-01", "2024-02-30", "2024-3-6",
]
INSTANTS = st.sampled_from(INSTANT_VALUES)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


class Generator:
    """Valid values from the app's JSON schemas, with the ids of the fuzz county."""

    def __init__(self, spec: dict[str, Any], known: dict[str, list[Any]]) -> None:
        self.spec = spec
        self.known = known

    def valid(self, schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
        schema = _resolve(self.spec, schema)
        if "anyOf" in schema:
            branches = [b for b in schema["anyOf"] if _resolve(self.spec, b).get("type") != "null"]
            return st.one_of([self.valid(b, name) for b in branches])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type")
        if kind == "string":
            if schema.get("format") == "date":
                return DATES_NEAR
            if schema.get("format") == "date-time":
                return INSTANTS
            if name == "sha256":
                return st.text("0123456789abcdef", min_size=64, max_size=64)
            if name in self.known:
                return st.sampled_from([k for k in self.known[name] if isinstance(k, str)])
            if name in ("present", "absent"):
                return st.sampled_from(self.known["teacher_no"])
            return st.text(min_size=schema.get("minLength", 1), max_size=min(schema.get("maxLength", 30), 30))
        if kind == "integer":
            if name in self.known:
                return st.sampled_from(self.known[name])
            low, high = int(schema.get("minimum", 1)), int(schema.get("maximum", 100))
            return st.integers(low, min(high, low + 50))
        if kind == "number":
            return st.sampled_from([8, 16, 24, 2.5, "8"])
        if kind == "array":
            return st.lists(self.valid(schema.get("items", {}), name), max_size=3, unique_by=_key)
        if kind == "object":
            props = schema.get("properties", {})
            required = set(schema.get("required", []))
            return st.fixed_dictionaries(
                {k: self.valid(v, k) for k, v in props.items() if k in required},
                optional={k: self.valid(v, k) for k, v in props.items() if k not in required},
            )
        return JSON_VALUES

    def fields(self, schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
        schema = _resolve(self.spec, schema)
        return {k: _resolve(self.spec, v) for k, v in schema.get("properties", {}).items()}


def _is(schema: dict[str, Any], spec: dict[str, Any], test: Any) -> bool:
    options = [_resolve(spec, b) for b in schema.get("anyOf", [schema])]
    return any(test(o) for o in options)


@st.composite
def mutated_body(draw: Any, gen: Generator, schema: dict[str, Any], valid_only: bool = False) -> tuple[str, Any]:
    """A valid body, then (half the time) one thing broken. Returns (what was done, body)."""
    body = draw(gen.valid(schema))
    if valid_only:
        return "valid", body
    fields = gen.fields(schema)
    spec = gen.spec
    broken = ["random_json", "wrong_enum", "huge_string", "impossible_date", "odd_number", "unknown_id",
              "missing_field", "extra_field", "wrong_type", "nested"]
    kind = draw(st.sampled_from(["valid"] * len(broken) + broken))  # half valid, to reach the domain
    if kind == "valid" or not isinstance(body, dict) or not fields:
        return kind, body if kind != "random_json" else draw(JSON_VALUES)
    if kind == "random_json":
        return kind, draw(JSON_VALUES)
    names = sorted(fields)
    if kind == "wrong_enum":
        enums = [n for n in names if _is(fields[n], spec, lambda o: "enum" in o)]
        name = draw(st.sampled_from(enums or names))
        body[name] = draw(st.sampled_from(["APPROVED", "approve", "", "province ", "校本", "null", "1"])
                          | st.text(max_size=10))
    elif kind == "huge_string":
        name = draw(st.sampled_from(names))
        size = draw(st.sampled_from(HUGE_SIZES) | st.integers(0, 3_000_000))
        body[name] = draw(st.sampled_from(["a", "汉", "\u0000", "🀄", " "])) * size
    elif kind == "impossible_date":
        dates = [n for n in names if _is(fields[n], spec, lambda o: o.get("format") == "date")]
        if not dates and "sessions" in body and body["sessions"]:
            body["sessions"][0]["on"] = draw(st.sampled_from(IMPOSSIBLE_DATES))
        else:
            body[draw(st.sampled_from(dates or names))] = draw(st.sampled_from(IMPOSSIBLE_DATES))
    elif kind == "odd_number":
        numbers = [n for n in names if _is(fields[n], spec, lambda o: o.get("type") in ("number", "integer"))]
        body[draw(st.sampled_from(numbers or names))] = draw(st.sampled_from(ODD_NUMBERS))
    elif kind == "unknown_id":
        ids = [n for n in names if n in gen.known or n.endswith("_id") or n.endswith("_no") or n == "code"]
        name = draw(st.sampled_from(ids or names))
        body[name] = draw(st.sampled_from(["NOPE", "a/b", " A001", "A001 ", "a" * 64, "x" * 65, "../S1"])
                          | st.text(CHINESE, min_size=1, max_size=10) | st.text(min_size=1, max_size=32))
    elif kind == "missing_field":
        required = _resolve(spec, schema).get("required", [])
        for name in draw(st.lists(st.sampled_from(required or names), min_size=1, max_size=3, unique=True)):
            body.pop(name, None)
    elif kind == "extra_field":
        body[draw(st.sampled_from(["extra", "id", "__proto__", "actor", "Teacher_No", "events"]))] = draw(JSON_VALUES)
    elif kind == "wrong_type":
        name = draw(st.sampled_from(names))
        body[name] = draw(JSON_VALUES)
    elif kind == "nested":
        lists = [n for n in names if isinstance(body.get(n), list)]
        if lists:
            name = draw(st.sampled_from(lists))
            body[name] = draw(st.sampled_from([[None], [{}], [[]], ["A001"] * 3, [{"no": 0}], list(range(600))]))
    return kind, body


def _path_value(gen: Generator, name: str) -> st.SearchStrategy[str]:
    known = [quote(str(v), safe="") for v in gen.known.get(name, [])]
    return st.one_of(
        *[st.sampled_from(known or ["X"])] * 6,  # about half the time a real id, to reach the domain
        st.text(CHINESE, min_size=1, max_size=12).map(lambda s: quote(s, safe="")),
        st.sampled_from(JUNK_PATHS),
        st.text(min_size=1, max_size=70).map(lambda s: quote(s, safe="")),
        st.binary(min_size=1, max_size=12).map(lambda b: "".join(f"%{x:02X}" for x in b)),
        st.sampled_from(["0", "-1", "1001", "1.5", "1e3", "９", "一"]),
    )


def _query_value(gen: Generator, name: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Two times in three a plausible value (edge cases included), else junk."""
    junk = st.text(max_size=50) | st.text(CHINESE, max_size=5) | st.sampled_from(["", "-1", "0", "%00", "１０"])
    plausible: st.SearchStrategy[Any]
    if name in ("as_of", "since", "until"):
        plausible = INSTANTS
    elif name == "year":
        plausible = st.sampled_from([2024, 2023, 1990, 2100, 1989, 2101, "2024", "二〇二四", 10**20])
    elif name == "limit":
        plausible = st.sampled_from([1, 100, 1000, 0, 1001, -1, "1e3"])
    elif name == "after":
        plausible = st.sampled_from(["0", "1", "5", "-5", "٣", "1_0", " 7 ", "abc", "9" * 18, "9" * 30, "-" + "9" * 25])
    else:
        plausible = gen.valid(schema, name)
    return st.one_of(plausible, plausible, junk)


@dataclass
class Probe:
    method: str
    url: str
    query: dict[str, Any]
    headers: dict[str, str]
    content: bytes | None
    note: str


UPLOADS = [  # file contents a multipart upload carries: sheets, evidence, and neither
    "工号,姓名,学校代码\nF001,孙悦,S1\n".encode(), "项目编号,场次,工号,出勤\nK1,1,A001,到\n".encode(),
    b"%PDF-1.4\n%%EOF\n", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04junk", b"\xd0\xcf\x11\xe0", b"", b"\x00" * 64,
    b"\xff\xfe\x00", "标题\n\n\n".encode(),
]


def multipart(fields: dict[str, bytes], file: tuple[str, bytes] | None) -> tuple[bytes, str]:
    """A multipart/form-data body of text `fields` and one `file` (field `file`), and its content type."""
    boundary = "fuzz-boundary-7d3f"
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode() + value + b"\r\n"
             for name, value in fields.items()]
    if file is not None:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quote(file[0])}\"\r\n"
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + file[1] + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@st.composite
def uploads(draw: Any, valid_only: bool) -> tuple[bytes, str, str]:
    """A multipart body (with a file, mostly), its content type and a note."""
    file = (draw(st.sampled_from(["t.csv", "t.xlsx", "证明.pdf", "../../etc/passwd", ""])),
            draw(st.sampled_from(UPLOADS) | st.binary(max_size=200)))
    fields = {} if valid_only else draw(st.dictionaries(st.sampled_from(["sha256", "file", "x"]),
                                                        st.sampled_from([b"", b"0" * 64, b"zz", b"\xff"]), max_size=2))
    if not valid_only and draw(st.integers(0, 9)) == 0:
        file = None
    content, content_type = multipart(fields, file)
    if not valid_only and draw(st.integers(0, 9)) == 0:  # now and then a broken body
        content = draw(st.sampled_from([content[: len(content) // 2], b"--x\r\n", b"{}"]))
    return content, content_type, f"upload {file[0] if file else 'without file'} {sorted(fields)}"


@st.composite
def probes(draw: Any, gen: Generator, method: str, path: str, valid_only: bool = False) -> Probe:
    operation = gen.spec["paths"][path][method.lower()]
    url = path
    query: dict[str, Any] = {}
    headers = dict(ADMIN_HEADERS)
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        if where == "path":
            known = [quote(str(v), safe="") for v in gen.known.get(name, ["X"])]
            value = draw(st.sampled_from(known) if valid_only else _path_value(gen, name))
            url = url.replace("{" + name + "}", value)
        elif where == "query" and (parameter.get("required") or draw(st.integers(0, 2)) == 0):
            schema = parameter.get("schema", {})
            if valid_only:
                query[name] = draw(st.just(2024) if name == "year" else gen.valid(schema, name))
            else:
                query[name] = draw(_query_value(gen, name, schema))
        elif where == "header" and name == "idempotency-key" and draw(st.booleans()):
            keys = ["k1", "k2"] if valid_only else ["k1", "k2", "k1", "k2", " ", "x" * 201]
            headers["Idempotency-Key"] = draw(st.sampled_from(keys)
                                              | st.text(string.ascii_letters + string.digits, min_size=1, max_size=40))
    content = None
    note = "no body"
    if "requestBody" in operation and "multipart/form-data" in operation["requestBody"]["content"]:
        content, headers["Content-Type"], note = draw(uploads(valid_only))
        return Probe(method, url, query, headers, content, note)
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        note, body = draw(mutated_body(gen, schema, valid_only))
        content = json.dumps(body, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
        headers["Content-Type"] = "application/json"
        if valid_only:
            return Probe(method, url, query, headers, content, note)
        headers["Content-Type"] = draw(st.sampled_from(["application/json"] * 14 + ["text/plain", "application/xml"]))
        if draw(st.integers(0, 19)) == 0:  # now and then not JSON at all
            content = draw(st.sampled_from([b"", b"{", b"\xff\xfe{}", b"null", b"[]", b'{"a":1,"a":2}', b"\x00"]))
            note = "raw bytes"
    return Probe(method, url, query, headers, content, note)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_mutated_requests_never_fail_the_server(fuzz: Fuzz, method: str, path: str) -> None:
    spec = fuzz.client.get("/openapi.json").json()
    gen = Generator(spec, fuzz.known)

    @settings(FUZZ_SETTINGS, max_examples=30)
    @given(probe=probes(gen, method, path))
    def run(probe: Probe) -> None:
        before = fuzz.head()
        response = fuzz.client.request(probe.method, probe.url, params=probe.query, headers=probe.headers,
                                       content=probe.content)
        what = f"{probe.method} {probe.url} {probe.query} ({probe.note}) {(probe.content or b'')[:200]!r}"
        check_answer(probe.method, response.status_code, response.headers, response.content, before,
                     fuzz.head(), what)

    run()


# --- 3. one thing wrong at a time: a deterministic sweep of the edge cases --------------------------------
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/orgs/{org_id}": {"name": "新学校", "kind": "school", "parent_id": "T1"},
    "/api/v1/teachers": {"teacher_no": "N001", "name": "孙悦", "school_id": "S1", "hired_on": "2020-09-01"},
    "/api/v1/teachers/{teacher_no}/transfers": {"to_school_id": "S2", "effective_on": "2024-03-06"},
    "/api/v1/programmes": {
        "code": "NEWP", "title": "新项目", "level": "county", "form": "workshop", "selection": "self_selected",
        "hours": 16, "provider_id": "P1", "owner_org_id": "C1", "starts_on": "2024-04-01", "ends_on": "2024-04-02",
        "sessions": [{"no": 1, "on": "2024-04-01", "hours": 8}, {"no": 2, "on": "2024-04-02", "hours": 8}],
        "capacity": 30,
    },
    "/api/v1/programmes/{code}/approval": {"decision": "approved", "reason": "符合要求"},
    "/api/v1/programmes/{code}/enrolments": {"teacher_no": "B001"},
    "/api/v1/programmes/{code}/enrolments/{teacher_no}/absence": {"kind": "leave", "reason": "病假"},
    "/api/v1/programmes/{code}/enrolments/{teacher_no}/absence/approval": {"by": "school", "decision": "approved"},
    "/api/v1/programmes/{code}/sessions/{no}/attendance": {"present": ["A001"], "absent": ["A002"]},
    "/api/v1/programmes/{code}/assessments": {"teacher_no": "A002", "attitude": 4, "assignments": 4, "result": "pass"},
    "/api/v1/programmes/{code}/evaluations": {"teacher_no": "A001", "form": 5, "instructors": 5, "management": 5,
                                              "comment": "很好"},
    "/api/v1/programmes/{code}/credits": {"teacher_no": "A001", "hours": 8},
    "/api/v1/teachers/{teacher_no}/credits/{credit_id}/revocation": {"reason": "重复登记"},
    "/api/v1/teachers/{teacher_no}/disputes": {"programme_code": "K1", "claim": "应认定24学时",
                                               "evidence": [{"name": "签到表.pdf", "sha256": "c" * 64}]},
    "/api/v1/disputes/{dispute_id}/resolution": {"decision": "rejected", "reason": "无依据"},
    "/api/v1/teachers/{teacher_no}/prior-hours": {
        "year": 2023, "hours": 80, "self_selected": 40, "school_based": 16, "concentrated": 0, "source": "旧平台",
        "evidence": [{"name": "证书.pdf", "sha256": "c" * 64}], "reason": "平台迁移"},
    "/api/v1/teachers/{teacher_no}/prior-hours/{record_id}/revocation": {"reason": "证书不实"},
    "/api/v1/teachers/{teacher_no}/certificates": {"year": 2022, "purpose": "职称评审"},
}
VALID_PATH = {"org_id": "SNEW", "teacher_no": "A001", "code": "K1", "no": "1", "kind": "teachers",
              "sha256": "0" * 64, "event_id": "00000000-0000-5000-8000-000000000000"}
GENERIC_EDGES: list[Any] = [None, "", " ", [], {}, 0, -1, True, 1e308, float("nan"), "\u0000", "A001\u0000",
                            "汉" * 5, "🀄", "a" * 33, "a" * 65, "a" * 2001, "a" * 4001, ["A001"] * 600,
                            {"$ref": "#/x"}, "<script>", "' OR 1=1 --"]
WRONG_ENUMS = ["APPROVED", "approve", "province ", "校本", "null", "1", "Pass", "school_based "]
QUERY_EDGES = ["", " ", "-1", "0", "9" * 30, "%00", "汉", "\u0000", "1e3", "a" * 201, "٣", "1_0"]
UNKNOWN_IDS = ["NOPE", "a/b", " A001", "A001 ", "../S1", "%2F", "S1/", "张三", "a" * 64]


def _edges(field_schema: dict[str, Any], name: str, spec: dict[str, Any]) -> list[Any]:
    edges = list(GENERIC_EDGES)
    if _is(field_schema, spec, lambda o: "enum" in o):
        edges += WRONG_ENUMS
    if _is(field_schema, spec, lambda o: o.get("format") == "date"):
        edges += IMPOSSIBLE_DATES
    if _is(field_schema, spec, lambda o: o.get("type") in ("number", "integer")):
        edges += ODD_NUMBERS
    if name.endswith(("_id", "_no")) or name in ("code", "programme_code"):
        edges += UNKNOWN_IDS
    if _is(field_schema, spec, lambda o: o.get("type") == "array"):
        edges += [[None], [{}], [[]], [{"no": 0, "on": "2024-02-30", "hours": -1}], [{"name": "", "sha256": "z"}]]
    return edges


def _sweep(method: str, path: str, world: Fuzz) -> Iterator[tuple[str, dict[str, Any], Any, str]]:
    """(url, query, body, what) with exactly one thing wrong."""
    operation = OPENAPI["paths"][path][method.lower()]
    params = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
    path_values = {**VALID_PATH, "credit_id": world.known["credit_id"][0], "dispute_id": world.known["dispute_id"][0],
                   "record_id": world.known["record_id"][0], "certificate_no": world.known["certificate_no"][0]}

    def url(overrides: dict[str, str] | None = None) -> str:
        result = path
        for p in params:
            if p["in"] == "path":
                value = (overrides or {}).get(p["name"], quote(str(path_values[p["name"]]), safe=""))
                result = result.replace("{" + p["name"] + "}", value)
        return result

    body = VALID_BODIES.get(path) if "requestBody" in operation else None
    yield url(), {}, body, "valid"
    for p in params:
        name = p["name"]
        if p["in"] == "path":
            for junk in [*JUNK_PATHS, quote("汉字编号", safe=""), quote("a" * 65, safe=""), "0", "-1", "1e3"]:
                yield url({name: junk}), {}, body, f"path {name}={junk}"
        else:
            values = INSTANT_VALUES if name in ("as_of", "since", "until") else QUERY_EDGES
            for value in values:
                yield url(), {name: value}, body, f"query {name}={value!r}"
    if body is None:
        return
    schema = _resolve(OPENAPI, operation["requestBody"]["content"]["application/json"]["schema"])
    fields = {k: _resolve(OPENAPI, v) for k, v in schema["properties"].items()}
    for name, field_schema in fields.items():
        yield url(), {}, {k: v for k, v in body.items() if k != name}, f"without {name}"
        for value in _edges(field_schema, name, OPENAPI):
            yield url(), {}, {**body, name: value}, f"{name}={str(value)[:40]!r}"
    yield url(), {}, {**body, "unexpected": 1}, "extra field"
    yield url(), {}, {**body, next(iter(fields)): "汉" * 3_000_000}, "3 MB string"
    for raw in (None, [], "x", 1, [body]):
        yield url(), {}, raw, f"body {raw!r:.40}"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_one_thing_wrong_at_a_time(fuzz: Fuzz, method: str, path: str) -> None:
    for url, query, body, what in _sweep(method, path, fuzz):
        content = None if body is None and "requestBody" not in OPENAPI["paths"][path][method.lower()] else (
            json.dumps(body, ensure_ascii=False, allow_nan=True).encode())
        before = fuzz.head()
        response = fuzz.client.request(method, url, params=query, content=content,
                                       headers={**ADMIN_HEADERS, "Content-Type": "application/json"})
        check_answer(method, response.status_code, response.headers, response.content, before, fuzz.head(),
                     f"{method} {url} {query} {what}")


# --- 4. sequences of well-formed requests -------------------------------------------------------------
def test_sequences_of_well_formed_requests_never_fail_the_server(clock: Clock) -> None:
    """Well-formed requests with the county's real ids, in random order, each sequence on a fresh
    county: they reach the rules of the domain (409s and 201s), and still no 5xx, and a refusal
    records nothing."""
    spec = OPENAPI
    writes = [(m, p) for m, p in OPERATIONS if m != "GET"] * 3 + [(m, p) for m, p in OPERATIONS if m == "GET"]
    known = _build(Clock(date(2024, 2, 20))).known  # the ids (the credit and dispute ids are new per county)

    @settings(FUZZ_SETTINGS, max_examples=12)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        world = _build(Clock(date(2024, 2, 20)))
        gen = Generator(spec, {**known, "credit_id": world.known["credit_id"], "dispute_id": world.known["dispute_id"],
                               "record_id": world.known["record_id"], "certificate_no": world.known["certificate_no"]})
        try:
            for _ in range(data.draw(st.integers(5, 25), label="length")):
                method, path = data.draw(st.sampled_from(writes), label="operation")
                probe = data.draw(probes(gen, method, path, valid_only=True), label="request")
                before = world.head()
                response = world.client.request(probe.method, probe.url, params=probe.query,
                                                headers=probe.headers, content=probe.content)
                check_answer(probe.method, response.status_code, response.headers, response.content, before,
                             world.head(), f"{probe.method} {probe.url} {probe.query} {probe.content!r}")
        finally:
            world.service.close()

    run()


def test_a_body_over_the_limit_is_413_problem_and_records_nothing(fuzz: Fuzz) -> None:
    before = fuzz.head()
    body = {"teacher_no": "N001", "name": "汉" * 3_000_000, "school_id": "S1"}
    response = fuzz.client.post("/api/v1/teachers", json=body, headers=ADMIN_HEADERS)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == "payload_too_large"
    assert fuzz.head() == before


# --- 5. the bugs the fuzzing found, pinned (all fixed) ----------------------------------------------------
# Was a bug: an instant near year 1 or 9999 with an offset overflowed datetime.astimezone (500).
@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        pytest.param("/api/v1/teachers/A001/transcript", "as_of", "9999-12-31T23:59:59-12:00", id="as_of-max"),
        pytest.param("/api/v1/teachers/A001/transcript", "as_of", "9999-12-31T23:59:59Z", id="as_of-max-utc"),
        pytest.param("/api/v1/teachers/A001/transcript", "as_of", "0001-01-01T00:00:00+14:00", id="as_of-min"),
        pytest.param("/api/v1/audit/events", "since", "9999-12-31T23:59:59-12:00", id="since-max"),
        pytest.param("/api/v1/audit/events", "since", "0001-01-01T00:00:00+14:00", id="since-min"),
        pytest.param("/api/v1/audit/events", "until", "9999-12-31T23:59:59-12:00", id="until-max"),
        pytest.param("/api/v1/audit/events", "until", "0001-01-01T00:00:00+14:00", id="until-min"),
    ],
)
def test_extreme_instants_are_refused_not_500(fuzz: Fuzz, path: str, name: str, value: str) -> None:
    response = fuzz.client.get(path, params={name: value}, headers=ADMIN_HEADERS)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def _backend(kind: str, tmp_path: Path) -> Backend:
    if kind == "postgres":
        require_postgres()
    return Backend(kind, tmp_path)


@pytest.fixture
def any_backend_client(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Fuzz]:
    service = TrainRec(_backend(request.param, tmp_path).fresh(), clock=clock)
    build_county(service)
    define(service, "K1")
    service.enrol(ADMIN, "K1", "A001")
    yield Fuzz(service, TestClient(create_app(service, SECRET), raise_server_exceptions=False))
    service.close()


BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
]


# Was a bug: a cursor beyond 2**63-1 overflowed SQLite's INTEGER (500 on SQLite and memory).
@pytest.mark.parametrize("any_backend_client", BACKENDS, indirect=True)
def test_a_huge_audit_cursor_is_not_500(any_backend_client: Fuzz) -> None:
    response = any_backend_client.client.get("/api/v1/audit/events", params={"after": "9" * 30},
                                             headers=ADMIN_HEADERS)
    assert response.status_code < 500, response.text
    if response.status_code == 200:  # past the end: an empty last page
        assert response.json()["events"] == []
        assert response.json()["next"] is None
    else:
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_cursor"


# Was a bug: a NUL in text was stored in the event, and PostgreSQL's read model, which cannot hold it, stalled
# on it: every later read answered 500.
@pytest.mark.parametrize("any_backend_client", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("POST", "/api/v1/teachers", {"teacher_no": "N001", "name": "孙\u0000悦", "school_id": "S1"},
                     id="teacher-name"),
        pytest.param("PUT", "/api/v1/orgs/S%00X", {"name": "新学校", "kind": "school", "parent_id": "T1"},
                     id="org-id"),
        pytest.param("POST", "/api/v1/programmes/K1/enrolments/A001/absence",
                     {"kind": "leave", "reason": "病\u0000假"}, id="absence-reason"),
    ],
)
def test_nul_in_text_never_breaks_later_reads(any_backend_client: Fuzz, method: str, path: str,
                                              body: dict[str, Any]) -> None:
    """Whatever the write answers (201 or a 422), the reads afterwards still work."""
    world = any_backend_client
    write = world.client.request(method, path, json=body, headers=ADMIN_HEADERS)
    assert write.status_code < 500, write.text
    for read in ("/api/v1/teachers/A001/transcript", "/api/v1/programmes/K1/roster",
                 "/api/v1/orgs/C1/compliance?year=2024", "/api/v1/audit/events"):
        response = world.client.get(read, headers=ADMIN_HEADERS)
        assert response.status_code == 200, f"{read} → {response.status_code}: {response.text[:200]}"


# Was a bug: a NUL in a query filter reached PostgreSQL (DataError, 500).
@pytest.mark.parametrize("any_backend_client", BACKENDS, indirect=True)
@pytest.mark.parametrize("name", ["teacher_no", "actor"])
def test_nul_in_an_audit_filter_is_not_500(any_backend_client: Fuzz, name: str) -> None:
    response = any_backend_client.client.get("/api/v1/audit/events", params={name: "A0\u000001"},
                                             headers=ADMIN_HEADERS)
    assert response.status_code < 500, response.text
