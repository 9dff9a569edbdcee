"""The read model checked against the log while it is served (`/audit/verify?scope=readmodel`).

`projections check` (projections/check.py) compares every table with a replay, but reads the
position and each table apart: a follower writing meanwhile makes tables of different positions
look wrong. Here every checked table and the tracked position are read in ONE snapshot of the
tables (`ReadModelDB.snapshot`: a REPEATABLE READ transaction on PostgreSQL, one WAL read
transaction on SQLite), then the log is replayed up to exactly that position, so the comparison
is of one state with the log's state at the same point, whatever the follower does meanwhile (the
snapshot is held while the log is replayed, then each table is read in it and compared in turn).

Rows are matched by each table's primary key (`schema.KEYS`): a row whose key both sides hold but
whose values differ is `changed` (the first differing column is named), a key only the replay
holds is `missing` (a row deleted), a key only the table holds is `unexpected` (a row added). The
first difference, in table order (`check.CHECKED`) then key order, is reported with its stored and
replayed values. The caches (`schema.CACHES`) are not replayed: they are derived from these tables,
and the rows of them a read would serve are compared with what the tables give in the same
snapshot (projections/cache_check.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from projections.check import CHECKED, Row, expected_rows
from projections.db import Tx
from projections.schema import KEYS, columns
from projections.view import NAME, ReadModel


@dataclass(frozen=True)
class RowDifference:
    table: str
    kind: str  # "changed", "missing" (a row the log implies is not stored) or "unexpected" (stored only)
    key: dict[str, Any]
    column: str | None  # the first column that differs, for `changed`
    stored: Any  # the column's stored value (`changed`), the stored row (`unexpected`), else None
    replayed: Any  # the column's replayed value (`changed`), the replayed row (`missing`), else None

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "kind": self.kind, "key": self.key, "column": self.column,
                "stored": self.stored, "replayed": self.replayed}


@dataclass(frozen=True)
class ReadModelCheck:
    position: int  # the tables' tracked position, the replay's end
    tables: int
    rows: int  # stored rows compared
    differences: int  # rows that differ (changed, missing or unexpected)
    first_difference: RowDifference | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.differences == 0

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "position": self.position, "tables": self.tables, "rows": self.rows,
                "differences": self.differences,
                "first_difference": None if self.first_difference is None else self.first_difference.as_dict(),
                "seconds": round(self.seconds, 3)}


def stored_rows(model: ReadModel) -> tuple[int, dict[str, set[Row]]]:
    """The tracked position and every checked table's rows, read in one snapshot of the tables."""
    with model.db.snapshot() as tx:
        position = _position(model, tx)
        return position, {name: _rows(model, tx, name) for name in CHECKED}


def _position(model: ReadModel, tx: Tx) -> int:
    tracked = tx.query(f"SELECT position FROM {model.prefix}tracking WHERE name = ?", (NAME,))
    return int(tracked[0][0]) if tracked else 0


def _rows(model: ReadModel, tx: Tx, name: str) -> set[Row]:
    return {tuple(r) for r in tx.query(f"SELECT {', '.join(columns(name))} FROM {model.prefix}{name}")}


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((0, value) if isinstance(value, int) else (1, str(value)) for value in key)


def differences(table: str, stored: set[Row], replayed: set[Row]) -> Iterable[RowDifference]:
    """The rows of `table` that differ, in key order."""
    names = columns(table)
    at = [names.index(column) for column in KEYS[table]]

    def by_key(rows: set[Row]) -> dict[tuple[Any, ...], Row]:
        return {tuple(row[i] for i in at): row for row in rows}

    only_stored, only_replayed = by_key(stored - replayed), by_key(replayed - stored)
    for key in sorted(only_stored.keys() | only_replayed.keys(), key=_order):
        named = dict(zip(KEYS[table], key, strict=True))
        mine, theirs = only_stored.get(key), only_replayed.get(key)
        if mine is not None and theirs is not None:
            column = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
            yield RowDifference(table, "changed", named, names[column], mine[column], theirs[column])
        elif mine is not None:
            yield RowDifference(table, "unexpected", named, None, dict(zip(names, mine, strict=True)), None)
        elif theirs is not None:
            yield RowDifference(table, "missing", named, None, None, dict(zip(names, theirs, strict=True)))


def check_read_model(model: ReadModel) -> ReadModelCheck:
    """Compare every table (but the caches) at its tracked position with a replay of the log up to it.
    The snapshot stays open during the replay and each table is read and compared in turn, so only
    one table's stored rows are held beside the replay's (a county's tables are gigabytes)."""
    started = time.perf_counter()
    count, rows, first = 0, 0, None
    with model.db.snapshot() as tx:
        position = _position(model, tx)
        replayed = expected_rows(model, position)
        for table in CHECKED:
            stored = _rows(model, tx, table)
            rows += len(stored)
            for difference in differences(table, stored, replayed.pop(table)):
                count += 1
                first = first or difference
            del stored
        # the caches compliance is served from, against what the tables give (projections/cache_check.py)
        from projections.cache_check import cache_differences  # it builds on this module's RowDifference

        cached, cache_found = cache_differences(model.db, tx, model.prefix, model.app.policy, model.today())
        rows += cached
        count += len(cache_found)
        first = first or (cache_found[0] if cache_found else None)
    return ReadModelCheck(position, len(CHECKED), rows, count, first, time.perf_counter() - started)
