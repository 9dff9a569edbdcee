"""Database URLs as printed or logged: never with their password."""

from __future__ import annotations

import pytest

from service.storage.config import ConfigError, masked_url, storage_from_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://trainrec:s3cr%40t@db.example:5433/records?schema=x",
         "postgresql://trainrec:***@db.example:5433/records?schema=x"),
        ("postgres://u:p@w:rd@host/db", "postgres://u:***@host/db"),  # an unencoded "@" in the password
        ("postgresql://u:pa/ss@host/db", "postgresql://u:***@host/db"),  # an unencoded "/"
        ("postgresql://:pw@host", "postgresql://:***@host"),
        ("postgresql://u@host/db?sslmode=require&password=pw", "postgresql://u@host/db?sslmode=require&password=***"),
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql://postgres@127.0.0.1:5432/test"),
        ("sqlite:///./var/trainrec.db", "sqlite:///./var/trainrec.db"),
        ("sqlite:////srv/a@b:c.db", "sqlite:////srv/a@b:c.db"),
        ("memory://", "memory://"),
    ],
)
def test_masked_url_hides_the_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_a_storage_shows_its_url_without_the_password() -> None:
    storage = storage_from_url("postgresql://trainrec:hunter2@db.example:5433/records")
    assert storage.env["POSTGRES_PASSWORD"] == "hunter2"  # still used to connect
    assert storage.masked_url == "postgresql://trainrec:***@db.example:5433/records"
    assert repr(storage) == "Storage('postgresql://trainrec:***@db.example:5433/records', 'postgres')"
    assert "hunter2" not in f"{storage!r} {storage!s}"


def test_an_unusable_url_is_refused_without_its_password() -> None:
    with pytest.raises(ConfigError) as refused:
        storage_from_url("postgress://trainrec:hunter2@db.example/records")
    assert "hunter2" not in str(refused.value)
    assert "postgress://trainrec:***@db.example/records" in str(refused.value)
