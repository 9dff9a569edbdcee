"""Signing keys: made on first use (mode 0600), one active per purpose, rotation keeps the old one
published; the C2SP verifier key checked against the signed-note spec's own example."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from service.api.main import create_app
from service.app import TrainRec
from service.cli.main import main
from service.signing.keys import KEYS_FILE, KeyRing, note_key_hash, verifier_key
from service.storage.config import storage_from_url

# c2sp.org/signed-note, "Verifier keys", Example: this vkey verifies this note
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_TEXT = b"This is an example message.\n"
SPEC_SIGNATURE = "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRAINREC_LOG_ORIGIN", "trainrec.test/log")
    return tmp_path


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_verifier_key_and_key_hash_match_the_signed_note_example() -> None:
    name, hex_id, encoded = SPEC_VKEY.split("+")
    material = base64.b64decode(encoded)
    assert material[0] == 1
    public = material[1:]
    assert note_key_hash(name, public).hex() == hex_id == "530d903a"
    assert verifier_key(name, public) == SPEC_VKEY
    signature = base64.b64decode(SPEC_SIGNATURE)
    assert signature[:4] == bytes.fromhex("530d903a")
    Ed25519PublicKey.from_public_bytes(public).verify(signature[4:], SPEC_TEXT)  # raises if wrong


def test_first_use_makes_one_key_per_purpose_in_a_private_file(data_dir: Path) -> None:
    ring = KeyRing.open()
    path = data_dir / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    today = datetime.now(tz=UTC).date().isoformat()
    for purpose in ("credential", "checkpoint"):
        key = ring.active(purpose)
        assert key.purpose == purpose
        assert key.valid_until is None
        hex8 = hashlib.sha256(key.public_raw()).hexdigest()[:8]
        assert key.key_id == f"trainrec-{purpose}-{today}-{hex8}"
        assert len(key.public_raw()) == 32
        assert ring.find(key.key_id) == key
    assert ring.active("credential").key_id != ring.active("checkpoint").key_id
    again = KeyRing.open()
    assert [k.key_id for k in again.all_keys()] == [k.key_id for k in ring.all_keys()]
    assert again.active("checkpoint").public_raw() == ring.active("checkpoint").public_raw()
    assert "private" not in repr(ring.active("credential")).lower()


def test_a_signature_verifies_with_the_published_jwk_and_a_changed_byte_fails() -> None:
    ring = KeyRing.open()
    key = ring.active("credential")
    signature = key.sign(b"hours: 72")
    assert len(signature) == 64
    entry = next(e for e in ring.published("trainrec.test/log")["keys"] if e["key_id"] == key.key_id)
    assert entry["jwk"]["kty"] == "OKP"
    assert entry["jwk"]["crv"] == "Ed25519"
    assert entry["alg"] == "Ed25519"
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(entry["jwk"]["x"]))
    public.verify(signature, b"hours: 72")
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"hours: 73")


def test_rotation_retires_the_old_key_which_stays_published() -> None:
    ring = KeyRing.open()
    old = ring.active("checkpoint")
    credential = ring.active("credential")
    moment = datetime(2027, 1, 5, 8, 30, tzinfo=UTC)
    new = ring.rotate("checkpoint", moment)
    assert new.key_id.startswith("trainrec-checkpoint-2027-01-05-")
    assert new.valid_from == moment
    assert ring.active("checkpoint") == new
    retired = ring.find(old.key_id)
    assert retired is not None
    assert retired.valid_until == moment
    assert ring.active("credential") == credential  # the other purpose untouched
    other = KeyRing.open()  # another process sees the rotation
    assert other.active("checkpoint").key_id == new.key_id
    published = other.published("trainrec.test/log")
    by_id = {e["key_id"]: e for e in published["keys"]}
    assert by_id[old.key_id]["valid_until"] == "2027-01-05T08:30:00Z"
    assert by_id[new.key_id]["valid_until"] is None
    assert by_id[new.key_id]["vkey"] == verifier_key("trainrec.test/log", new.public_raw())
    assert "vkey" not in by_id[credential.key_id]


def test_well_known_keys_are_public_and_hold_no_private_part(data_dir: Path) -> None:
    service = TrainRec(storage_from_url("memory://"))
    try:
        client = TestClient(create_app(service, "test-secret-0123456789-0123456789-abcdef"))
        response = client.get("/.well-known/trainrec-keys.json")
    finally:
        service.close()
    assert response.status_code == 200
    body = response.json()
    assert body["origin"] == "trainrec.test/log"
    assert sorted(e["purpose"] for e in body["keys"]) == ["checkpoint", "credential"]
    stored = json.loads((data_dir / KEYS_FILE).read_text())
    for row in stored["keys"]:
        assert row["private"] not in response.text
    vkey = next(e["vkey"] for e in body["keys"] if e["purpose"] == "checkpoint")
    assert re.fullmatch(r"trainrec\.test/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*", vkey)


def test_cli_lists_and_rotates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out.strip().splitlines()
    assert len(listed) == 2
    assert all(line.split("\t")[3] == "active" for line in listed)
    assert main(["keys", "rotate", "--purpose", "credential"]) == 0
    assert "is now the active credential key" in capsys.readouterr().out
    assert main(["keys", "list"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert sorted((r[1], r[3] == "active") for r in rows) == [
        ("checkpoint", True), ("credential", False), ("credential", True)]
    assert len(next(r for r in rows if r[1] == "checkpoint")) == 6  # with its vkey
