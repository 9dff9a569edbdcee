"""Verifying a credential offline (service/credentials/verify.py and `trainrec credential verify`),
each case also checked by the independent verifier: a changed byte, an unknown key, a key rotated
after signing, a key past its validity, a key of another purpose."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.exceptions import InvalidSignature

from service.app import TrainRec
from service.cli.main import main
from service.credentials.document import clr_credential
from service.credentials.issue import issue_credential
from service.credentials.signing import sign_credential
from service.credentials.verify import CredentialRejected, published_keys, ring_keys, verify_credential
from service.signing.keys import KeyRing, SigningKey, key_ring
from service.storage.config import storage_from_url
from tests.conftest import ADMIN, build_county
from tests.service.credentials import independent

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 1, 1, tzinfo=UTC)  # the credential key's start
SIGNED = datetime(2024, 3, 20, 1, 0, tzinfo=UTC)
ROTATED = datetime(2024, 6, 1, tzinfo=UTC)
ORIGIN = "trainrec.test/log"

TRANSCRIPT: dict[str, Any] = {
    "teacher_no": "A001", "name": "张伟", "school_id": "S1", "policy_version": "default-2024",
    "lines": [
        {"credit_id": "C1", "programme_code": "K1", "title": "班主任能力提升", "level": "county",
         "form": "concentrated", "selection": "self_selected", "hours": 24, "credits": 2.4, "year": 2024,
         "awarded_on": "2024-03-12",
         "certified_by": "p1", "certifier_role": "provider", "school_id": "S1", "event_id": "e-1", "status": "valid"},
        {"credit_id": "C2", "programme_code": "R1", "title": "网络研修", "level": "county", "form": "online",
         "selection": "self_selected", "hours": 8, "credits": 0.8, "year": 2024, "awarded_on": "2024-03-12",
         "certified_by": "p1", "certifier_role": "provider", "school_id": "S1", "event_id": "e-2", "status": "revoked"},
        {"credit_id": "C3", "programme_code": "W1", "title": "工作坊", "level": "city", "form": "workshop",
         "selection": "mandated", "hours": 10.5, "credits": 1, "year": 2024, "awarded_on": "2024-03-13",
         "certified_by": "p1", "certifier_role": "provider", "school_id": "S1", "event_id": "e-3", "status": "valid"},
    ],
    "prior": [{"record_id": "H1", "year": 2023, "hours": 40, "source": "旧平台", "event_id": "e-0", "status": "valid"}],
    "totals": {"by_year": {"2023": {"hours": 40, "self_selected": 20, "school_based": 0, "concentrated": 0},
                           "2024": {"hours": 34.5, "self_selected": 24, "school_based": 0, "concentrated": 24}},
               "cycle": {"start_year": 2021, "end_year": 2025, "hours": 74.5, "required": 360}},
}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def ring(data_dir: Path) -> KeyRing:
    ring = KeyRing.open(data_dir)
    ring.rotate("credential", T0)
    return ring


def signed(key: SigningKey, at: datetime = SIGNED) -> str:
    credential = clr_credential(TRANSCRIPT, {"id": "C1", "name": "示范县"}, at, credential_id="urn:uuid:test",
                                zone=SHANGHAI, checkpoint={"size": 7, "root": "cm9vdA=="})
    return sign_credential(credential, key, at)


def verify_both(token: str, ring: KeyRing) -> None:
    """Both of this service's key sources, and the independent verifier, accept `token`."""
    document = ring.published(ORIGIN)
    verify_credential(token, published_keys(json.loads(json.dumps(document))))
    verify_credential(token, ring_keys(ring))
    kid = independent.header_of(token)["kid"]
    independent.verify(token, independent.public_key_of(document, kid))


def test_a_signed_credential_verifies_with_totals_by_hand(ring: KeyRing) -> None:
    token = signed(ring.active("credential"))
    verify_both(token, ring)
    verified = verify_credential(token, published_keys(ring.published(ORIGIN)))
    subject = verified.subject
    hours = [line["credentialSubject"]["creditsEarned"] for line in subject["verifiableCredential"]]
    assert hours == [24, 10.5, 40]  # the revoked R1 left out
    assert sum(hours) == 74.5 == subject["cycle"]["hours"]
    by_year: dict[str, float] = {}
    for line in subject["verifiableCredential"]:
        term = line["credentialSubject"]["term"]
        by_year[term] = by_year.get(term, 0) + line["credentialSubject"]["creditsEarned"]
    assert by_year == {"2024": 34.5, "2023": 40} == {str(y["year"]): y["hours"] for y in subject["hoursByYear"]}
    assert verified.credential["checkpoint"] == {"size": 7, "root": "cm9vdA=="}
    assert verified.issued_at == SIGNED


@pytest.mark.parametrize("part", ["payload", "signature", "header"])
def test_a_changed_byte_fails_both_verifiers(ring: KeyRing, part: str) -> None:
    token = signed(ring.active("credential"))
    header, payload, signature = token.split(".")
    if part == "payload":
        raw = independent.b64url_decode(payload)
        payload = independent.b64url_encode(raw.replace(b'"creditsEarned":24', b'"creditsEarned":25'))
    elif part == "signature":
        signature = signature[:20] + ("A" if signature[20] != "A" else "B") + signature[21:]
    else:
        raw = independent.b64url_decode(header)
        header = independent.b64url_encode(raw.replace(b'"typ":"vc+jwt"', b'"typ":"JWT"'))
    forged = f"{header}.{payload}.{signature}"
    with pytest.raises(CredentialRejected, match="bad signature"):
        verify_credential(forged, published_keys(ring.published(ORIGIN)))
    with pytest.raises(CredentialRejected, match="bad signature"):
        verify_credential(forged, ring_keys(ring))
    with pytest.raises(InvalidSignature):
        independent.verify(forged, ring.active("credential").public_raw())


def test_an_unknown_key_fails(ring: KeyRing, tmp_path: Path) -> None:
    stranger = KeyRing.open(tmp_path / "elsewhere")
    stranger.rotate("credential", T0)
    token = signed(stranger.active("credential"))
    for keys in (published_keys(ring.published(ORIGIN)), ring_keys(ring)):
        with pytest.raises(CredentialRejected, match="unknown key"):
            verify_credential(token, keys)
    with pytest.raises(InvalidSignature):  # nor does the key of this ring verify it
        independent.verify(token, ring.active("credential").public_raw())


def test_a_key_rotated_after_signing_still_verifies(ring: KeyRing) -> None:
    old = ring.active("credential")
    token = signed(old)
    new = ring.rotate("credential", ROTATED)
    assert new.key_id != old.key_id
    retired = ring.find(old.key_id)
    assert retired is not None
    assert retired.valid_until == ROTATED
    verify_both(token, ring)


def test_a_credential_signed_after_the_key_was_retired_fails(ring: KeyRing) -> None:
    old = ring.active("credential")
    ring.rotate("credential", ROTATED)
    retired = ring.find(old.key_id)
    assert retired is not None
    token = signed(retired, ROTATED + timedelta(days=1))
    independent.verify(token, retired.public_raw())  # the signature itself holds: the date is what fails
    for keys in (published_keys(ring.published(ORIGIN)), ring_keys(ring)):
        with pytest.raises(CredentialRejected, match="no longer valid"):
            verify_credential(token, keys)


def test_a_credential_signed_before_the_key_began_fails(ring: KeyRing) -> None:
    token = signed(ring.active("credential"), T0 - timedelta(days=1))
    with pytest.raises(CredentialRejected, match="not yet valid"):
        verify_credential(token, published_keys(ring.published(ORIGIN)))


def test_a_checkpoint_key_does_not_sign_credentials(ring: KeyRing) -> None:
    checkpoint_key = ring.rotate("checkpoint", T0)
    token = signed(checkpoint_key)
    with pytest.raises(CredentialRejected, match="not credentials"):
        verify_credential(token, published_keys(ring.published(ORIGIN)))


def test_iss_and_valid_from_must_match_the_credential(ring: KeyRing) -> None:
    key = ring.active("credential")
    credential = clr_credential(TRANSCRIPT, {"id": "C1", "name": "示范县"}, SIGNED, credential_id="urn:uuid:x",
                                zone=SHANGHAI)
    token = sign_credential(credential, key, SIGNED + timedelta(hours=1))
    with pytest.raises(CredentialRejected, match="validFrom"):
        verify_credential(token, ring_keys(ring))


# --- trainrec credential verify ---------------------------------------------------------------------
def test_cli_verifies_with_a_keys_file_and_prints_the_totals(
        ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file, keys_file = tmp_path / "a001.jwt", tmp_path / "trainrec-keys.json"
    token_file.write_text(signed(ring.active("credential")), encoding="utf-8")
    keys_file.write_text(json.dumps(ring.published(ORIGIN)), encoding="utf-8")
    assert main(["credential", "verify", str(token_file), "--keys", str(keys_file)]) == 0
    out = capsys.readouterr().out
    assert "ok: 张伟 (工号 A001)" in out
    assert "2024: 34.5 学时" in out
    assert "2023: 40 学时" in out
    assert "cycle 2021–2025: 74.5 of 360 学时" in out


def test_cli_uses_the_local_key_ring_and_reads_the_json_answer(
        ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = signed(ring.active("credential"))
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"credential": {}, "jwt": token}), encoding="utf-8")
    assert main(["credential", "verify", str(answer)]) == 0
    assert "ok: 张伟" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["changed-byte", "unknown-key", "not-a-jws", "missing-file", "bad-keys-file"])
def test_cli_refuses_with_one_line_and_exit_1(
        ring: KeyRing, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    token = signed(ring.active("credential"))
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(ring.published(ORIGIN)), encoding="utf-8")
    token_file = tmp_path / "credential.jwt"
    if case == "changed-byte":
        header, payload, signature = token.split(".")
        raw = independent.b64url_decode(payload).replace(b'"creditsEarned":40', b'"creditsEarned":41')
        token = f"{header}.{independent.b64url_encode(raw)}.{signature}"
    elif case == "unknown-key":
        keys_file.write_text(json.dumps({"keys": []}), encoding="utf-8")
    elif case == "not-a-jws":
        token = "hello"
    elif case == "bad-keys-file":
        keys_file.write_text("{", encoding="utf-8")
    if case != "missing-file":
        token_file.write_text(token, encoding="utf-8")
    assert main(["credential", "verify", str(token_file), "--keys", str(keys_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("trainrec: credential does not verify: ")
    assert captured.err.count("\n") == 1, captured.err


def test_cli_without_keys_and_without_a_local_ring_says_so(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "credential.jwt"
    token_file.write_text("a.b.c", encoding="utf-8")
    assert main(["credential", "verify", str(token_file)]) == 1
    assert "--keys" in capsys.readouterr().err


def test_a_key_made_this_second_signs_and_verifies_a_credential_at_once(data_dir: Path) -> None:
    """A fresh data directory: the key ring is made on first use, with the instant (to the
    microsecond) it was made; the credential, issued in that same second, counts it valid."""
    service = TrainRec(storage_from_url("memory://"), clock=lambda: datetime.now(tz=UTC))
    try:
        build_county(service)
        issued = issue_credential(service, ADMIN, "A001", key_ring())
    finally:
        service.close()
    ring = KeyRing.open(data_dir)
    verify_both(issued.jwt, ring)
    assert issued.key_id == ring.active("credential").key_id
