"""`trainrec demo` and `serve --demo` print the store they load into, never its password."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.app import TrainRec
from service.cli.main import main
from service.storage.config import storage_from_url
from tests.conftest import ADMIN, Backend, require_postgres


class Stop(Exception):
    """Stands for the demo's load, which these tests do not need."""


@pytest.fixture
def url_with_password(tmp_path: Path) -> str:
    """A fresh PostgreSQL schema, named by a URL with a password (the local server trusts, and ignores it)."""
    require_postgres()
    fresh = Backend("postgres", tmp_path).fresh().url
    scheme, rest = fresh.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:hunter2@{host}"


@pytest.mark.postgres
def test_demo_prints_the_url_of_an_empty_store_without_its_password(
        url_with_password: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import service.demo.driver

    def load_demo(*_: object, **__: object) -> None:
        raise Stop

    monkeypatch.setenv("TRAINREC_DATABASE_URL", url_with_password)
    monkeypatch.setattr(service.demo.driver, "load_demo", load_demo)
    with pytest.raises(Stop):
        main(["demo"])
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "demo: loading a county of 600 teachers into postgresql://postgres:***@" in out


@pytest.mark.postgres
def test_demo_prints_the_url_of_a_store_with_records_without_its_password(
        url_with_password: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from domain.vocabulary import OrgKind

    service = TrainRec(storage_from_url(url_with_password))
    service.put_org(ADMIN, "C1", "示范县", OrgKind.COUNTY, None)
    service.close()
    monkeypatch.setenv("TRAINREC_DATABASE_URL", url_with_password)
    assert main(["demo", "--if-empty"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert out.startswith("demo: postgresql://postgres:***@127.0.0.1:5432/test?schema=t_")
    assert out.endswith(" already holds records; loading nothing\n")
