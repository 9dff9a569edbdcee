"""The PostgreSQL recorder COPYs large batches: ids in order, conflicts refused whole, events load back."""

from __future__ import annotations

from datetime import date

import pytest
from eventsourcing.persistence import IntegrityError

from domain.teacher import Teacher
from service.app import TrainRec
from service.storage.pg_recorder import COPY_AT, CopyingApplicationRecorder
from tests.conftest import ADMIN, Backend, Clock, build_county


@pytest.fixture
def pg_app(tmp_path: pytest.TempPathFactory, clock: Clock) -> TrainRec:
    from tests.conftest import require_postgres

    require_postgres()
    app = TrainRec(Backend("postgres", tmp_path).fresh(), clock=clock)  # type: ignore[arg-type]
    build_county(app)
    return app


def teachers(count: int, clock: Clock, prefix: str = "K") -> list[Teacher]:
    return [Teacher.register(f"{prefix}{i:04d}", "批量教师", "S1", date(2015, 9, 1), ADMIN, clock.now)
            for i in range(count)]


@pytest.mark.postgres
def test_a_large_batch_is_copied_and_given_consecutive_ids_in_order(pg_app: TrainRec, clock: Clock) -> None:
    assert isinstance(pg_app.recorder, CopyingApplicationRecorder)
    head = pg_app.recorder.max_notification_id() or 0
    batch = teachers(COPY_AT * 2, clock)
    recordings = pg_app.save(*batch)
    ids = [r.notification.id for r in recordings]
    assert ids == list(range(head + 1, head + 1 + len(batch)))
    stored = pg_app.recorder.select_notifications(start=head + 1, limit=len(batch))
    assert [(n.originator_id, n.originator_version) for n in stored] == [
        (r.domain_event.originator_id, r.domain_event.originator_version) for r in recordings]
    again = pg_app.repository.get(batch[-1].id)
    assert (again.teacher_no, again.version) == (batch[-1].teacher_no, batch[-1].version)
    pg_app.close()


@pytest.mark.postgres
def test_a_conflicting_large_batch_records_nothing(pg_app: TrainRec, clock: Clock) -> None:
    pg_app.save(*teachers(1, clock, prefix="D"))  # D0000 is now taken
    head = pg_app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        pg_app.save(*teachers(COPY_AT * 2, clock, prefix="D"))
    assert pg_app.recorder.max_notification_id() == head
    pg_app.close()
