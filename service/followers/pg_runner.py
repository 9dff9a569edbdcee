"""On PostgreSQL, the read model can also be kept live by eventsourcing's own `ProjectionRunner`:
`RecordsRunnerProjection` is a `Projection[RecordsView]` whose view is a `TrackingRecorder`
over the same tables and the same tracking row as `projections.view.ReadModel`.

The runner subscribes to the application's notifications (LISTEN/NOTIFY) and applies each event
with its tracking position in one transaction. It and the page-at-a-time catch-up (used for
rebuilds, and by reads that must see their writes) lock and re-read the one tracking row, so
whichever gets to an event first applies it and the other skips it: never twice, never lost.
"""

from __future__ import annotations

import threading
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.utils import EnvType

from projections.db import PostgresTx
from projections.records import RecordsProjection
from projections.schema import LIVE
from projections.view import NAME
from service.app import TrainRec
from service.storage.config import storage_from_url


class RecordsView(PostgresTrackingRecorder):
    """The read-model tables as an eventsourcing tracking recorder."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements = []  # the tables are created by ReadModel.ensure_tables
        self.projection = RecordsProjection(LIVE)
        self._lock = threading.Lock()

    def create_table(self) -> None:
        return None

    def apply(self, event: Any, tracking: Tracking) -> None:
        with self._lock, self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"SET LOCAL search_path TO {self.datastore.schema}")
            cursor.execute("SET LOCAL synchronous_commit TO off")  # derived rows: see projections.db.PostgresDB
            tx = PostgresTx(cursor)
            position = int(tx.query(f"SELECT position FROM {LIVE}tracking WHERE name = ? FOR UPDATE", (NAME,))[0][0])
            if tracking.notification_id <= position:
                return  # the catch-up loop applied it already
            self.projection.apply_page(tx, [(tracking.notification_id, event)])
            tx.execute(f"UPDATE {LIVE}tracking SET position = ? WHERE name = ?", (tracking.notification_id, NAME))

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"SET LOCAL search_path TO {self.datastore.schema}")
            PostgresTx(cursor).execute(
                f"UPDATE {LIVE}tracking SET position = GREATEST(position, ?) WHERE name = ?",
                (tracking.notification_id, NAME),
            )

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SET LOCAL search_path TO {self.datastore.schema}")
            rows = PostgresTx(cursor).query(f"SELECT position FROM {LIVE}tracking WHERE name = ?",
                                                            (NAME,))
        return int(rows[0][0]) if rows else None


class RecordsRunnerProjection(Projection[RecordsView]):
    name = "trainrec_records"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)


class RunnerApplication(TrainRec):
    """TrainRec constructed the way ProjectionRunner constructs applications: from an env mapping."""

    name = "TrainRec"  # the same application: same event table, same tracking name

    def __init__(self, env: EnvType | None = None) -> None:
        url = (env or {}).get("TRAINREC_DATABASE_URL")
        super().__init__(storage_from_url(url) if url else None)


def start_runner(app: TrainRec) -> ProjectionRunner[RunnerApplication, RecordsView]:
    """Start eventsourcing's ProjectionRunner for the read model of `app`'s PostgreSQL store."""
    if app.storage.backend != "postgres":
        msg = "the eventsourcing ProjectionRunner needs PostgreSQL (SQLite has no subscriptions)"
        raise ValueError(msg)
    app.read_model.ensure_tables(LIVE)
    env = {**app.storage.env, "TRAINREC_DATABASE_URL": app.storage.url}
    return ProjectionRunner(
        application_class=RunnerApplication,
        projection_class=RecordsRunnerProjection,
        view_class=RecordsView,
        env=env,
    )
