"""Where the records live: `TRAINREC_DATABASE_URL` → the eventsourcing persistence settings."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from projections.db import StoreLocation

DEFAULT_DATABASE_URL = "sqlite:///./var/trainrec.db"


class ConfigError(ValueError):
    """The database URL cannot be used."""


def masked_url(url: str) -> str:
    """`url` as it may be printed or logged: its password, in the user part or as a `password=`
    option, replaced by `***` (postgresql://user:***@host:5432/db); anything else as it was."""
    masked = re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)
    scheme, separator, rest = masked.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    # the user part ends at the authority's last "@"; a password holding an unencoded "/", "?" or
    # "#" ends the authority early: then it ends at the last "@" of all (masking more, never less)
    userinfo = (authority if "@" in authority else rest).rpartition("@")[0]
    user, colon, _ = userinfo.partition(":")
    if not (separator and colon) or userinfo.startswith("/"):
        return masked
    return f"{scheme}://{user}:***@{rest[len(userinfo) + 1:]}"


@dataclass(frozen=True)
class Storage:
    url: str
    backend: str  # "memory", "sqlite" or "postgres"
    env: dict[str, str]  # holds the password

    @property
    def masked_url(self) -> str:
        """The URL to print or log: without its password."""
        return masked_url(self.url)

    def __repr__(self) -> str:
        return f"Storage({self.masked_url!r}, {self.backend!r})"

    @property
    def sqlite_path(self) -> Path | None:
        if self.backend != "sqlite":
            return None
        return Path(self.env["SQLITE_DBNAME"])

    def location(self) -> StoreLocation:
        """Where the read model's tables live beside the events, for `projections.db`."""
        if self.backend == "postgres":
            return StoreLocation("postgres", conninfo=postgres_conninfo(self.env),
                                 schema=self.env.get("POSTGRES_SCHEMA") or "public",
                                 wait=float(self.env["POSTGRES_CONNECT_TIMEOUT"]))
        if self.backend == "sqlite":
            return StoreLocation("sqlite", sqlite_path=self.env["SQLITE_DBNAME"])
        return StoreLocation("memory")


def storage_from_url(url: str) -> Storage:
    """Parse `sqlite:///path`, `postgresql://user:pass@host:port/db[?schema=name]` or `memory://`."""
    parsed = urlparse(url)
    if parsed.scheme == "memory":
        return Storage(url, "memory", {"PERSISTENCE_MODULE": "eventsourcing.popo"})
    if parsed.scheme == "sqlite":
        raw = url[len("sqlite://") :]
        path = raw[1:] if raw.startswith("/") else raw
        if not path:
            msg = "sqlite URL needs a file path: sqlite:///path/to/file.db"
            raise ConfigError(msg)
        file = Path(path)  # sqlite:///rel/file.db is relative, sqlite:////abs/file.db absolute
        file.parent.mkdir(parents=True, exist_ok=True)
        return Storage(
            url,
            "sqlite",
            {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(file),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": "service.storage.sqlite_recorder:BoundedSQLiteApplicationRecorder",
            },
        )
    if parsed.scheme in ("postgresql", "postgres"):
        query = parse_qs(parsed.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": query.get("pool_size", ["5"])[0],
            "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["10"])[0],
            # the longest a command waits for a pooled connection (eventsourcing reads whole seconds):
            # with the store down, a request fails within it rather than hanging (docs/operations.md)
            "POSTGRES_CONNECT_TIMEOUT": str(store_wait()),
            "POSTGRES_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "service.storage.pg_recorder:CopyingApplicationRecorder",
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return Storage(url, "postgres", env)
    msg = f"unsupported database URL {masked_url(url)!r}: use sqlite:///file.db or postgresql://…"
    raise ConfigError(msg)


def store_wait() -> int:
    """`TRAINREC_STORE_WAIT`: seconds a request may wait for a connection to the store (default 1)."""
    raw = os.environ.get("TRAINREC_STORE_WAIT", "1")
    try:
        wait = int(raw)
    except ValueError:
        msg = f"TRAINREC_STORE_WAIT must be a whole number of seconds, not {raw!r}"
        raise ConfigError(msg) from None
    if wait < 1:
        msg = "TRAINREC_STORE_WAIT must be at least 1 second"
        raise ConfigError(msg)
    return wait


def postgres_conninfo(env: dict[str, str]) -> str:
    """A libpq connection string for the PostgreSQL settings of a Storage's env."""
    conninfo = (
        f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} dbname={env['POSTGRES_DBNAME']} "
        f"user={env['POSTGRES_USER']}"
    )
    if env.get("POSTGRES_PASSWORD"):
        conninfo += f" password={env['POSTGRES_PASSWORD']}"
    return conninfo


def storage_from_environment() -> Storage:
    return storage_from_url(os.environ.get("TRAINREC_DATABASE_URL") or DEFAULT_DATABASE_URL)
