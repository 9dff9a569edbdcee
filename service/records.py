"""Small aggregates the service keeps beside the domain: idempotency records, the dispute and
certificate indexes, the account directory."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.actor import Actor
from domain.chained import ChainedAggregate
from domain.ids import ACCOUNT_DIRECTORY, certificate_uuid, dispute_uuid, idempotency_uuid


class IdempotencyRecord(ChainedAggregate):
    """The first answer to a write sent with an `Idempotency-Key`, stored with the write itself."""

    if TYPE_CHECKING:
        subject: str
        key: str
        fingerprint: str
        status: int
        response: dict[str, Any]

    class Recorded(ChainedAggregate.Created):
        subject: str
        key: str
        fingerprint: str
        status: int
        response: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.subject = self.subject
            aggregate.key = self.key
            aggregate.fingerprint = self.fingerprint
            aggregate.status = self.status
            aggregate.response = self.response

    @classmethod
    def record(
        cls, actor: Actor, key: str, fingerprint: str, status: int, response: dict[str, Any], now: datetime
    ) -> IdempotencyRecord:
        return cls._create(
            cls.Recorded,
            id=idempotency_uuid(actor.subject, key),
            timestamp=now,
            subject=actor.subject,
            key=key,
            fingerprint=fingerprint,
            status=status,
            response=response,
            actor=actor.as_record(),
            reason="",
        )


class DisputeIndex(ChainedAggregate):
    """Finds the teacher a dispute belongs to, since disputes live on the teacher's aggregate."""

    if TYPE_CHECKING:
        dispute_id: str
        teacher_no: str

    class Indexed(ChainedAggregate.Created):
        dispute_id: str
        teacher_no: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.dispute_id = self.dispute_id
            aggregate.teacher_no = self.teacher_no

    @classmethod
    def index(cls, dispute_id: str, teacher_no: str, actor: Actor, now: datetime) -> DisputeIndex:
        return cls._create(
            cls.Indexed,
            id=dispute_uuid(dispute_id),
            timestamp=now,
            dispute_id=dispute_id,
            teacher_no=teacher_no,
            actor=actor.as_record(),
            reason="",
        )


class CertificateIndex(ChainedAggregate):
    """Finds the teacher an hours certificate belongs to, since certificates live on the teacher's
    aggregate (the public check page, `GET /verify/{certificate_no}`, is given only the number)."""

    if TYPE_CHECKING:
        certificate_no: str
        teacher_no: str

    class Indexed(ChainedAggregate.Created):
        certificate_no: str
        teacher_no: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.certificate_no = self.certificate_no
            aggregate.teacher_no = self.teacher_no

    @classmethod
    def index(cls, certificate_no: str, teacher_no: str, actor: Actor, now: datetime) -> CertificateIndex:
        return cls._create(
            cls.Indexed,
            id=certificate_uuid(certificate_no),
            timestamp=now,
            certificate_no=certificate_no,
            teacher_no=teacher_no,
            actor=actor.as_record(),
            reason="",
        )


class AccountDirectory(ChainedAggregate):
    """The usernames of every account, in the order created: `trainrec user list` reads it."""

    if TYPE_CHECKING:
        usernames: list[str]

    class Started(ChainedAggregate.Created):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.usernames = []

    class Listed(ChainedAggregate.Event):
        username: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.usernames.append(self.username)

    @classmethod
    def start(cls, actor: Actor, now: datetime) -> AccountDirectory:
        return cls._create(cls.Started, id=ACCOUNT_DIRECTORY, timestamp=now, actor=actor.as_record(), reason="")

    def list(self, username: str, actor: Actor, now: datetime) -> None:
        self.trigger_event(self.Listed, timestamp=now, username=username, actor=actor.as_record(), reason="")
