"""The rows one read-model transaction touches, kept in memory and written back at its end.

Handlers read a row by its primary key (from this buffer, else from the table, once) and
change it in place; `flush` then writes every new row with one bulk insert per table (COPY on
PostgreSQL) and every changed existing row with one batched UPDATE per table. A page of a
thousand events thus costs a handful of statements instead of a few thousand, which is what
makes catch-up and rebuilds fast. The buffer deletes a row only when an event removes what it
records (a withdrawn enrolment); `rm_teacher_years`, re-derived from the other tables, is
replaced (projections/teacher_years.py).
"""

from __future__ import annotations

from typing import Any

from projections.db import Tx
from projections.schema import KEYS, columns

Row = dict[str, Any]
Key = tuple[Any, ...]

_COLUMNS = {name: columns(name) for name in KEYS}


class DuplicateRowError(Exception):
    """Two inserts of one primary key: the log was applied twice or out of order."""


class Rows:
    def __init__(self, tx: Tx, prefix: str) -> None:
        self.tx = tx
        self.p = prefix
        self.new: dict[str, dict[Key, Row]] = {name: {} for name in KEYS}
        self.existing: dict[str, dict[Key, Row | None]] = {name: {} for name in KEYS}
        self.changed: dict[str, set[Key]] = {name: set() for name in KEYS}
        self.deleted: dict[str, set[Key]] = {name: set() for name in KEYS}

    @staticmethod
    def key_of(table: str, row: Row) -> Key:
        return tuple(row[column] for column in KEYS[table])

    def get(self, table: str, *key: Any) -> Row | None:
        """The row with primary key `key`, as this transaction sees it (None if there is none)."""
        found = self.new[table].get(key)
        if found is not None:
            return found
        cache = self.existing[table]
        if key not in cache:
            where = " AND ".join(f"{column} = ?" for column in KEYS[table])
            names = _COLUMNS[table]
            rows = self.tx.query(f"SELECT {', '.join(names)} FROM {self.p}{table} WHERE {where}", key)
            cache[key] = dict(zip(names, rows[0], strict=True)) if rows else None
        return cache[key]

    def insert(self, table: str, row: Row) -> None:
        key = self.key_of(table, row)
        if key in self.new[table] or self.existing[table].get(key) is not None:
            msg = f"{table} row {key} inserted twice"
            raise DuplicateRowError(msg)
        self.new[table][key] = {column: row.get(column) for column in _COLUMNS[table]}

    def update(self, table: str, key: Key, **changes: Any) -> Row | None:
        """Change the row `key` if it exists (like an UPDATE, a missing row changes nothing)."""
        row = self.get(table, *key)
        if row is None:
            return None
        row.update(changes)
        if key not in self.new[table]:
            self.changed[table].add(key)
        return row

    def delete(self, table: str, key: Key) -> None:
        """Remove the row `key` if it exists (like a DELETE: a missing row changes nothing)."""
        if self.new[table].pop(key, None) is not None:
            return
        if self.get(table, *key) is None:
            return
        self.existing[table][key] = None
        self.changed[table].discard(key)
        self.deleted[table].add(key)

    def touched(self, table: str) -> list[Key]:
        """Keys of the rows inserted, changed or deleted in `table` so far."""
        return [*self.new[table], *self.changed[table], *self.deleted[table]]

    def touched_rows(self, table: str) -> list[Row]:
        found = [self.get(table, *key) for key in self.touched(table)]
        return [row for row in found if row is not None]

    def flush(self) -> None:
        """Write back every new and every changed row; the buffer is empty afterwards."""
        for table in KEYS:
            if self.deleted[table]:  # first: a row deleted and inserted again in one page goes in anew
                keys = KEYS[table]
                self.tx.executemany(f"DELETE FROM {self.p}{table} WHERE {' AND '.join(f'{c} = ?' for c in keys)}",
                                    sorted(self.deleted[table]))
        for table in KEYS:
            names = _COLUMNS[table]
            if self.new[table]:
                self.tx.copy(f"{self.p}{table}", names, [tuple(r[c] for c in names) for r in self.new[table].values()])
            if self.changed[table]:
                keys = KEYS[table]
                settable = [c for c in names if c not in keys]
                sql = (f"UPDATE {self.p}{table} SET {', '.join(f'{c} = ?' for c in settable)} "
                       f"WHERE {' AND '.join(f'{c} = ?' for c in keys)}")
                rows = []
                for key in sorted(self.changed[table]):
                    row = self.existing[table][key]
                    assert row is not None
                    rows.append((*(row[c] for c in settable), *key))
                self.tx.executemany(sql, rows)
        for table in KEYS:
            self.new[table].clear()
            self.existing[table].clear()
            self.changed[table].clear()
            self.deleted[table].clear()
