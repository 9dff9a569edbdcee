"""The transparency log over HTTP: the signed checkpoint (JSON and the bare note), an event's
inclusion proof and the consistency proof between two checkpoints, each checked by hand-built leaf
bytes and the RFC 9162 verifiers; refusals with stable codes; on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from service.app import TrainRec
from service.transparency.merkle import verify_consistency, verify_inclusion
from tests.conftest import ADMIN, AUDITOR, COUNTY_SUP, Clock, build_county, define
from tests.service.api.conftest import bearer

ORIGIN = "trainrec.test-county/log"


@pytest.fixture(autouse=True)
def _keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TRAINREC_LOG_ORIGIN", ORIGIN)


@pytest.fixture
def county(service: TrainRec, clock: Clock) -> TrainRec:
    build_county(service)
    define(service, "K1")
    return service


def get(client: TestClient, path: str, actor: Any = AUDITOR, **params: Any) -> Any:
    return client.get(path, params=params, headers=bearer(actor))


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_the_checkpoint_is_a_signed_note_of_the_whole_log(client: TestClient, county: TrainRec) -> None:
    head = county.recorder.max_notification_id()
    response = get(client, "/api/v1/audit/checkpoint")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"size", "root", "signed_at", "key_id", "signature", "note"}
    assert body["size"] == head
    text = f"{ORIGIN}\n{head}\n{body['root']}\n"
    assert body["note"] == f"{text}\n\u2014 {ORIGIN} {body['signature']}\n"
    # checked as an outsider would: the published key, the key ID by the signed-note rule
    keys = client.get("/.well-known/trainrec-keys.json").json()["keys"]
    entry = next(k for k in keys if k["key_id"] == body["key_id"])
    public = base64.urlsafe_b64decode(entry["jwk"]["x"] + "=")
    signed = b64(body["signature"])
    assert signed[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    material = base64.b64encode(b"\x01" + public).decode()
    assert entry["vkey"] == f"{ORIGIN}+{signed[:4].hex()}+{material}"
    Ed25519PublicKey.from_public_bytes(public).verify(signed[4:], text.encode())
    # the bare note for witnesses; asking again with nothing new gives the same checkpoint
    plain = client.get("/api/v1/audit/checkpoint", headers={**bearer(ADMIN), "Accept": "text/plain"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/plain")
    assert plain.text == body["note"]
    assert county.recorder.max_notification_id() == head, "reading a checkpoint records nothing"


def leaf_of(service: TrainRec, position: int) -> bytes:
    """The leaf's bytes as docs/tamper-evidence.md defines them, built here from the stored row."""
    stored = service.recorder.select_notifications(start=position, limit=1)[0]
    return (b"trainrec/event/v1\n" + str(UUID(str(stored.originator_id))).encode() + b"\n"
            + str(stored.originator_version).encode() + b"\n" + stored.topic.encode() + b"\n" + bytes(stored.state))


def test_an_events_inclusion_proof_verifies_against_the_checkpoint(client: TestClient, county: TrainRec) -> None:
    events = get(client, "/api/v1/audit/events", ADMIN, limit=1000).json()["events"]
    checkpoint = get(client, "/api/v1/audit/checkpoint").json()
    root = b64(checkpoint["root"])
    for rank in (0, 3, len(events) - 1):
        event = events[rank]
        response = get(client, f"/api/v1/audit/events/{event['id']}/proof", checkpoint_size=checkpoint["size"])
        assert response.status_code == 200, response.text
        proof = response.json()
        assert proof["checkpoint_size"] == checkpoint["size"]
        assert proof["leaf_index"] == rank
        leaf = hashlib.sha256(b"\x00" + leaf_of(county, event["position"])).digest()
        assert b64(proof["leaf_hash"]) == leaf
        hashes = [b64(h) for h in proof["hashes"]]
        assert verify_inclusion(leaf, rank, checkpoint["size"], hashes, root)
    default = get(client, f"/api/v1/audit/events/{events[0]['id']}/proof").json()
    assert default["checkpoint_size"] == checkpoint["size"]  # the latest checkpoint's


def test_consistency_between_two_checkpoints(client: TestClient, county: TrainRec) -> None:
    old = get(client, "/api/v1/audit/checkpoint").json()
    define(county, "K2")
    new = get(client, "/api/v1/audit/checkpoint").json()
    assert new["size"] > old["size"]
    assert new["note"] != old["note"]
    response = get(client, "/api/v1/audit/consistency", **{"from": old["size"], "to": new["size"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"]) == (old["size"], new["size"])
    hashes = [b64(h) for h in body["hashes"]]
    assert verify_consistency(old["size"], new["size"], hashes, b64(old["root"]), b64(new["root"]))
    assert not verify_consistency(old["size"], new["size"], hashes, b64(new["root"]), b64(new["root"]))
    same = get(client, "/api/v1/audit/consistency", **{"from": new["size"], "to": new["size"]}).json()
    assert same["hashes"] == []
    # a proof of the older checkpoint still verifies: old sizes stay servable
    first = get(client, "/api/v1/audit/events", ADMIN, limit=1).json()["events"][0]
    proof = get(client, f"/api/v1/audit/events/{first['id']}/proof", checkpoint_size=old["size"]).json()
    assert verify_inclusion(b64(proof["leaf_hash"]), 0, old["size"], [b64(h) for h in proof["hashes"]],
                            b64(old["root"]))


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("/api/v1/audit/events/{id}/proof", {"checkpoint_size": 0}, 422, "invalid_input"),
    ("/api/v1/audit/events/{id}/proof", {"checkpoint_size": "x"}, 422, "invalid_input"),
    ("/api/v1/audit/events/{id}/proof", {"checkpoint_size": 10_000}, 422, "checkpoint_size_out_of_range"),
    ("/api/v1/audit/events/{last}/proof", {"checkpoint_size": 1}, 422, "event_not_in_checkpoint"),
    ("/api/v1/audit/events/00000000-0000-5000-8000-000000000000/proof", {}, 404, "event_not_found"),
    ("/api/v1/audit/consistency", {"from": 3, "to": 2}, 422, "invalid_consistency_range"),
    ("/api/v1/audit/consistency", {"from": 1, "to": 10_000}, 422, "checkpoint_size_out_of_range"),
    ("/api/v1/audit/consistency", {"from": 0, "to": 2}, 422, "invalid_input"),
    ("/api/v1/audit/consistency", {"to": 2}, 422, "invalid_input"),
])
def test_bad_sizes_and_unknown_events(client: TestClient, county: TrainRec, path: str, params: dict[str, Any],
                                      status: int, code: str) -> None:
    events = get(client, "/api/v1/audit/events", ADMIN, limit=1000).json()["events"]
    url = path.format(id=events[0]["id"], last=events[-1]["id"])
    response = get(client, url, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize("path", ["/api/v1/audit/checkpoint", "/api/v1/audit/consistency?from=1&to=1"])
def test_a_supervisor_is_refused(client: TestClient, county: TrainRec, path: str) -> None:
    response = client.get(path, headers=bearer(COUNTY_SUP))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_scope"
