"""Shared fixtures: one `backend` parametrised over memory, SQLite and PostgreSQL, a settable clock,
actors of every role, and a small county to act in."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from domain.actor import Actor
from domain.rules.programme_definition import SessionPlan
from domain.vocabulary import Form, Level, OrgKind, Role, SchoolBasedContent, Selection
from service.app import TrainRec
from service.storage.config import Storage, storage_from_url

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    """The PostgreSQL to test against, or None (with the reason printed by the skip)."""
    return os.environ.get("TRAINREC_TEST_POSTGRES_URL", DEFAULT_PG)


_pg_state: dict[str, str | None] = {}


def postgres_available() -> str | None:
    """Returns None when usable, else a one-line reason to skip."""
    if "reason" not in _pg_state:
        url = postgres_url()
        try:
            with psycopg.connect(url or "", connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_state["reason"] = None
        except psycopg.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            _pg_state["reason"] = f"no PostgreSQL at {url} ({first}); set TRAINREC_TEST_POSTGRES_URL"
    return _pg_state["reason"]


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("TRAINREC_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here (CI): {reason}")
    pytest.skip(reason)


@dataclass
class Backend:
    """Makes storages of one kind; `fresh()` gives an empty store, `reopen(s)` the same store again."""

    kind: str
    tmp: Path

    def fresh(self) -> Storage:
        if self.kind == "memory":
            return storage_from_url("memory://")
        if self.kind == "sqlite":
            return storage_from_url(f"sqlite:///{self.tmp / f'{uuid.uuid4().hex}.db'}")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        url = postgres_url()
        assert url is not None
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        _schemas.append(schema)
        return storage_from_url(f"{url}?schema={schema}")


_schemas: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    yield
    if _schemas and postgres_available() is None:
        with psycopg.connect(postgres_url() or "", autocommit=True) as conn:
            for schema in _schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the service keeps in its data directory (the signing keys, a generated secret) goes to a
    folder of the test session when no database file names one (memory, PostgreSQL), never to the
    user's ~/.local/share/trainrec."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgres":
        require_postgres()
    return Backend(request.param, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def durable_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgres":
        require_postgres()
    return Backend(request.param, tmp_path)


class Clock:
    """The service's clock in tests: starts on a Shanghai date, moved explicitly."""

    def __init__(self, day: date) -> None:
        self.now = datetime.combine(day, time(10, 0), SHANGHAI).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date, hour: int = 10) -> None:
        self.now = datetime.combine(day, time(hour, 0), SHANGHAI).astimezone(UTC)

    def tick(self) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=1)


@pytest.fixture
def clock() -> Clock:
    return Clock(date(2024, 2, 20))


ADMIN = Actor("admin", Role.ADMIN)
COUNTY_SUP = Actor("county-sup", Role.SUPERVISOR, org_id="C1")
TOWN_SUP = Actor("town-sup", Role.SUPERVISOR, org_id="T1")
OTHER_TOWN_SUP = Actor("town2-sup", Role.SUPERVISOR, org_id="T2")
SCHOOL_ADMIN = Actor("s1-admin", Role.SCHOOL_ADMIN, org_id="S1")
OTHER_SCHOOL_ADMIN = Actor("s3-admin", Role.SCHOOL_ADMIN, org_id="S3")
PROVIDER = Actor("p1", Role.PROVIDER, org_id="P1")
OTHER_PROVIDER = Actor("p2", Role.PROVIDER, org_id="P2")
AUDITOR = Actor("auditor", Role.AUDITOR, org_id="C1")


def teacher_actor(teacher_no: str) -> Actor:
    return Actor(f"t-{teacher_no}", Role.TEACHER, teacher_no=teacher_no)


def sessions(start: date, count: int, hours: int) -> list[SessionPlan]:
    from datetime import timedelta

    return [SessionPlan(i + 1, start + timedelta(days=i), Decimal(hours)) for i in range(count)]


AppFactory = Callable[[], TrainRec]


@pytest.fixture
def app(backend: Backend, clock: Clock) -> Iterator[TrainRec]:
    application = TrainRec(backend.fresh(), clock=clock)
    yield application
    application.close()


def build_county(app: TrainRec) -> None:
    """C1 county with towns T1 (schools S1, S2) and T2 (school S3); providers P1, P2; 6 teachers."""
    app.put_org(ADMIN, "C1", "示范县", OrgKind.COUNTY, None)
    app.put_org(ADMIN, "T1", "城关镇", OrgKind.TOWN, "C1")
    app.put_org(ADMIN, "T2", "河西镇", OrgKind.TOWN, "C1")
    app.put_org(ADMIN, "S1", "城关第一小学", OrgKind.SCHOOL, "T1")
    app.put_org(ADMIN, "S2", "城关中学", OrgKind.SCHOOL, "T1")
    app.put_org(ADMIN, "S3", "河西小学", OrgKind.SCHOOL, "T2")
    app.put_org(ADMIN, "P1", "县教师进修学校", OrgKind.PROVIDER, "C1")
    app.put_org(ADMIN, "P2", "某师范大学", OrgKind.PROVIDER, None)
    for no, name, school in [
        ("A001", "张伟", "S1"), ("A002", "王芳", "S1"), ("A003", "李娜", "S1"),
        ("B001", "刘洋", "S2"), ("C001", "陈静", "S3"), ("C002", "欧阳娜娜", "S3"),
    ]:
        app.register_teacher(ADMIN, no, name, school, date(2015, 9, 1))


def build_neighbour(app: TrainRec) -> None:
    """A neighbouring county C2 (town T9, school S9, provider P9) with one teacher, Z001: outside
    the scope of every actor above but the admin."""
    app.put_org(ADMIN, "C2", "邻县", OrgKind.COUNTY, None)
    app.put_org(ADMIN, "T9", "邻县城关镇", OrgKind.TOWN, "C2")
    app.put_org(ADMIN, "S9", "邻县第一小学", OrgKind.SCHOOL, "T9")
    app.put_org(ADMIN, "P9", "邻县进修学校", OrgKind.PROVIDER, "C2")
    app.register_teacher(ADMIN, "Z001", "赵磊", "S9", date(2015, 9, 1))


def define(
    app: TrainRec,
    code: str,
    *,
    starts_on: date = date(2024, 3, 4),
    days: int = 3,
    hours_per_day: int = 8,
    level: Level = Level.COUNTY,
    form: Form = Form.CONCENTRATED,
    selection: Selection = Selection.SELF_SELECTED,
    content: SchoolBasedContent | None = None,
    provider_id: str = "P1",
    owner_org_id: str = "C1",
    capacity: int | None = None,
    actor: Actor = ADMIN,
) -> None:
    from datetime import timedelta

    app.define_programme(
        actor,
        code=code,
        title=f"培训项目{code}",
        level=level,
        form=form,
        selection=selection,
        school_based_content=content,
        hours=Decimal(days * hours_per_day),
        provider_id=provider_id,
        owner_org_id=owner_org_id,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days - 1),
        sessions=sessions(starts_on, days, hours_per_day),
        capacity=capacity,
    )


def run_a_session(app: TrainRec, clock: Clock) -> int:
    """Programme K1 with A001–A003 enrolled and its first session's attendance recorded (A003
    absent); returns the position of the attendance's last event."""
    define(app, "K1")
    for teacher_no in ("A001", "A002", "A003"):
        app.enrol(ADMIN, "K1", teacher_no)
    clock.set(date(2024, 3, 4), hour=18)
    result = app.record_attendance(PROVIDER, "K1", 1, ["A001", "A002"], ["A003"])
    assert result.notification_id is not None
    return result.notification_id


@pytest.fixture
def county(app: TrainRec) -> TrainRec:
    build_county(app)
    return app
